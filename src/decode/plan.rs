//! The top level of a file's records as a [`RowPlan`]: which output columns a read
//! produces (the record's fields, or one `value` column when the top-level schema is not
//! a record), in the order asked for, and how each record's bytes fill them.

use std::collections::HashMap;

use polars_core::prelude::{DataType, PlSmallStr};

use super::read_type::{FieldStep, ReadType, RecordRead};
use super::resolve::Resolver;
use super::skip::SkipOp;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::{AvroSchema, Node};

/// The name of the single column when the top-level schema is not a record.
pub const VALUE_COLUMN: &str = "value";

/// How each record becomes one row of the output columns: the top-level record read
/// whose fields are the columns. Immutable once built; every batch builds its column
/// buffers from it.
#[derive(Debug, Clone)]
pub struct RowPlan {
    pub names: Vec<PlSmallStr>,
    pub record: RecordRead,
}

impl RowPlan {
    /// A plan decoding data written with `writer` into `projection` (all columns when
    /// None, else these, in this order): of the writer's own columns, or, with `reader`,
    /// of the reader schema's (schema resolution). The top-level records' names are not
    /// compared: tools name them freely (Spark's `topLevelRecord`, ...).
    pub fn new(writer: &AvroSchema, reader: Option<&AvroSchema>, projection: Option<&[String]>) -> AvroResult<Self> {
        let reader_schema = reader.unwrap_or(writer);
        match (writer.node(writer.root), reader_schema.node(reader_schema.root)) {
            (Node::Record { fields: writer_fields, .. }, Node::Record { fields: reader_fields, .. }) => {
                let names: Vec<&str> = reader_fields.iter().map(|f| f.name.as_str()).collect();
                let wanted = wanted_columns(&names, projection)?;
                let record = match reader {
                    // The top-level records count as expanding, as read without a reader schema.
                    Some(reader) => Resolver::new(writer, reader, vec![(writer.root, reader.root)]).fields(
                        writer_fields,
                        reader_fields,
                        &wanted,
                        "",
                    )?,
                    None => own_fields(writer, &wanted)?,
                };
                let names = wanted.iter().map(|i| PlSmallStr::from(names[*i])).collect();
                Ok(Self { names, record })
            },
            (Node::Record { .. }, _) | (_, Node::Record { .. }) => Err(AvroError::schema(
                "the writer's and the reader's top-level schemas must both be records, or both not",
            )),
            _ => {
                let mut record = RecordRead::default();
                if wanted_columns(&[VALUE_COLUMN], projection)?.is_empty() {
                    record.push_step(FieldStep::Skip(SkipOp::compile(writer, writer.root)));
                    return Ok(Self { names: Vec::new(), record });
                }
                let value = match reader {
                    Some(reader) => {
                        Resolver::new(writer, reader, Vec::new()).read_type(writer.root, reader.root, VALUE_COLUMN)?
                    },
                    None => ReadType::of(writer, writer.root, &mut Vec::new())?,
                };
                record.fields.push(value);
                record.push_step(FieldStep::Read(0));
                Ok(Self { names: vec![PlSmallStr::from_static(VALUE_COLUMN)], record })
            },
        }
    }

    /// The output columns, in order.
    pub fn columns(&self) -> impl Iterator<Item = (&PlSmallStr, &ReadType)> {
        self.names.iter().zip(&self.record.fields)
    }

    pub fn dtypes(&self) -> impl Iterator<Item = (&PlSmallStr, &DataType)> {
        self.columns().map(|(name, read)| (name, &read.dtype))
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// The top-level column names of a schema read as it is: its record's fields, or `value`.
pub fn column_names(schema: &AvroSchema) -> Vec<String> {
    match schema.node(schema.root) {
        Node::Record { fields, .. } => fields.iter().map(|f| f.name.clone()).collect(),
        _ => vec![VALUE_COLUMN.to_string()],
    }
}

/// The columns (name, type) the records of a schema read into, Avro maps marked as maps.
pub fn column_types(schema: &AvroSchema) -> AvroResult<Vec<(String, FrameType)>> {
    let plan = RowPlan::new(schema, None, None)?;
    Ok(plan.columns().map(|(name, read)| (name.to_string(), read.frame_type())).collect())
}

/// The top-level record of a schema read as it is: the `wanted` fields (by index) read,
/// the others skipped.
fn own_fields(schema: &AvroSchema, wanted: &[usize]) -> AvroResult<RecordRead> {
    let Node::Record { fields, .. } = schema.node(schema.root) else { unreachable!("called for records") };
    let mut output_of_field = vec![None; fields.len()];
    for (out, field) in wanted.iter().enumerate() {
        output_of_field[*field] = Some(out);
    }
    let mut record = RecordRead::default();
    for (field, out) in fields.iter().zip(output_of_field) {
        record.push_step(match out {
            Some(out) => FieldStep::Read(out),
            None => FieldStep::Skip(SkipOp::compile(schema, field.schema)),
        });
    }
    // The top-level record counts as expanding: a field of its own type is recursive.
    let mut expanding = vec![schema.root];
    record.fields =
        wanted.iter().map(|i| ReadType::of(schema, fields[*i].schema, &mut expanding)).collect::<AvroResult<_>>()?;
    Ok(record)
}

/// The positions in `names` of the projection (all, in order, when None), each once.
fn wanted_columns(names: &[&str], projection: Option<&[String]>) -> AvroResult<Vec<usize>> {
    let Some(projection) = projection else { return Ok((0..names.len()).collect()) };
    let positions: HashMap<&str, usize> = names.iter().enumerate().rev().map(|(i, n)| (*n, i)).collect();
    let mut taken = vec![false; names.len()];
    let mut wanted: Vec<usize> = Vec::with_capacity(projection.len());
    for name in projection {
        let index = *positions.get(name.as_str()).ok_or_else(|| {
            AvroError::column_not_found(format!(
                "column '{name}' is not in the Avro schema; the columns are: {}",
                names.join(", ")
            ))
        })?;
        if std::mem::replace(&mut taken[index], true) {
            return Err(AvroError::duplicate(format!("column '{name}' is selected twice")));
        }
        wanted.push(index);
    }
    Ok(wanted)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::decode::skip::PlainSkip;
    use crate::error::ErrorKind;
    use crate::schema::parse_schema;

    fn schema(value: serde_json::Value) -> AvroSchema {
        parse_schema(&value.to_string()).unwrap()
    }

    fn abc() -> AvroSchema {
        schema(json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": "string"}, {"name": "c", "type": "double"}]}))
    }

    fn names(plan: &RowPlan) -> Vec<&str> {
        plan.names.iter().map(|n| n.as_str()).collect()
    }

    fn projection(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_projection_gives_its_columns_in_its_order_and_skips_the_rest() {
        let plan = RowPlan::new(&abc(), None, Some(&projection(&["c", "a"]))).unwrap();
        assert_eq!(names(&plan), ["c", "a"]);
        // Each writer field in the file's order: a read into its place in the projection,
        // b skipped by its length.
        let skip = FieldStep::Skip(SkipOp::Plain(PlainSkip::LengthPrefixed));
        assert_eq!(plan.record.steps, [FieldStep::Read(1), skip, FieldStep::Read(0)]);
        assert_eq!(plan.dtypes().map(|(_, t)| t.clone()).collect::<Vec<_>>(), [DataType::Float64, DataType::Int32]);
        let all = RowPlan::new(&abc(), None, None).unwrap();
        assert_eq!(names(&all), ["a", "b", "c"]);
        assert!(all.record.is_in_order());
    }

    #[test]
    fn skipped_fixed_size_fields_merge_into_one_skip() {
        let schema = schema(json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "double"}, {"name": "b", "type": "float"}, {"name": "c", "type": "string"}]}));
        let plan = RowPlan::new(&schema, None, Some(&projection(&["c"]))).unwrap();
        assert_eq!(plan.record.steps, [FieldStep::Skip(SkipOp::Plain(PlainSkip::Fixed(12))), FieldStep::Read(0)]);
    }

    #[test]
    fn a_projection_names_each_column_of_the_schema_once() {
        let error = RowPlan::new(&abc(), None, Some(&projection(&["a", "z"]))).unwrap_err();
        assert_eq!(error.kind, ErrorKind::ColumnNotFound);
        let message = error.to_string();
        assert!(message.contains("column 'z' is not in the Avro schema; the columns are: a, b, c"), "{message}");
        let error = RowPlan::new(&abc(), None, Some(&projection(&["b", "b"]))).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Duplicate);
        let message = error.to_string();
        assert!(message.contains("column 'b' is selected twice"), "{message}");
        // An empty projection reads no column and skips every field.
        let none = RowPlan::new(&abc(), None, Some(&[])).unwrap();
        assert!(none.is_empty());
        assert!(none.record.steps.iter().all(|step| matches!(step, FieldStep::Skip(_))));
    }

    #[test]
    fn with_a_reader_schema_the_columns_are_the_readers() {
        let reader = schema(json!({"type": "record", "name": "Other", "fields": [
            {"name": "c", "type": "double"}, {"name": "d", "type": "long", "default": 7}, {"name": "a", "type": "long"}]}));
        let plan = RowPlan::new(&abc(), Some(&reader), None).unwrap();
        assert_eq!(names(&plan), ["c", "d", "a"]);
        assert_eq!(plan.record.defaults, [(1, vec![14])]);
        let plan = RowPlan::new(&abc(), Some(&reader), Some(&projection(&["d"]))).unwrap();
        assert_eq!(names(&plan), ["d"]);
        let message = RowPlan::new(&abc(), Some(&reader), Some(&projection(&["b"]))).unwrap_err().to_string();
        assert!(message.contains("the columns are: c, d, a"), "{message}");
    }

    #[test]
    fn a_top_level_schema_that_is_no_record_is_one_column_named_value() {
        let array = schema(json!({"type": "array", "items": "string"}));
        let columns = column_types(&array).unwrap();
        assert_eq!(columns, vec![("value".to_string(), FrameType::List(Box::new(FrameType::String)))]);
        assert_eq!(column_names(&array), ["value"]);
        let none = RowPlan::new(&array, None, Some(&[])).unwrap();
        assert!(none.is_empty());
        assert!(matches!(none.record.steps.as_slice(), [FieldStep::Skip(_)]));
        let message = RowPlan::new(&abc(), Some(&array), None).unwrap_err().to_string();
        assert!(message.contains("must both be records, or both not"), "{message}");
    }
}
