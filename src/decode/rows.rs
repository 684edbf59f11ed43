//! The top-level record loop: a block's records, one after another, into the output
//! columns. The plan's field steps are compiled once per decoder with the kind of each
//! column that takes its values straight in (a boolean, int, long, float, double, string
//! or bytes, a time of day or a decimal, maybe in a `[null, T]` union), so that such a
//! value costs one dispatch on the step and one check of the buffers, with no look-up of
//! the column's union or kind. Every other field goes through its column
//! (`Column::decode`).

use super::column::{fill_defaults, Column, Plain};
use super::cursor::Cursor;
use super::read_type::{FieldStep, RecordRead};
use super::skip::SkipOp;
use crate::error::AvroResult;
use crate::schema::AvroSchema;

/// One field of the writer's record: into which output column, and how (`Nullable...`:
/// in a `[null, T]` union).
#[derive(Debug, Clone, Copy)]
enum RowStep {
    Boolean(usize),
    Int(usize),
    Long(usize),
    Float(usize),
    Double(usize),
    String(usize),
    Bytes(usize),
    TimeMillis(usize),
    TimeMicros(usize),
    Decimal(usize),
    NullableBoolean(usize),
    NullableInt(usize),
    NullableLong(usize),
    NullableFloat(usize),
    NullableDouble(usize),
    NullableString(usize),
    NullableBytes(usize),
    NullableTimeMillis(usize),
    NullableTimeMicros(usize),
    NullableDecimal(usize),
    Column(usize),
    Skip(SkipOp),
}

impl RowStep {
    fn plain(plain: Plain, nullable: bool, out: usize) -> Self {
        match (plain, nullable) {
            (Plain::Boolean, false) => RowStep::Boolean(out),
            (Plain::Int, false) => RowStep::Int(out),
            (Plain::Long, false) => RowStep::Long(out),
            (Plain::Float, false) => RowStep::Float(out),
            (Plain::Double, false) => RowStep::Double(out),
            (Plain::String, false) => RowStep::String(out),
            (Plain::Bytes, false) => RowStep::Bytes(out),
            (Plain::TimeMillis, false) => RowStep::TimeMillis(out),
            (Plain::TimeMicros, false) => RowStep::TimeMicros(out),
            (Plain::Decimal, false) => RowStep::Decimal(out),
            (Plain::Boolean, true) => RowStep::NullableBoolean(out),
            (Plain::Int, true) => RowStep::NullableInt(out),
            (Plain::Long, true) => RowStep::NullableLong(out),
            (Plain::Float, true) => RowStep::NullableFloat(out),
            (Plain::Double, true) => RowStep::NullableDouble(out),
            (Plain::String, true) => RowStep::NullableString(out),
            (Plain::Bytes, true) => RowStep::NullableBytes(out),
            (Plain::TimeMillis, true) => RowStep::NullableTimeMillis(out),
            (Plain::TimeMicros, true) => RowStep::NullableTimeMicros(out),
            (Plain::Decimal, true) => RowStep::NullableDecimal(out),
        }
    }
}

/// A top-level record's steps, compiled for its output columns.
pub struct RowSteps<'a> {
    steps: Vec<RowStep>,
    /// Fields the writer lacks, filled from their defaults after each record.
    defaults: &'a [(usize, Vec<u8>)],
}

impl<'a> RowSteps<'a> {
    pub fn new(record: &'a RecordRead, columns: &[Column]) -> Self {
        let steps = record
            .steps
            .iter()
            .map(|step| match *step {
                FieldStep::Skip(op) => RowStep::Skip(op),
                FieldStep::Read(out) => match columns[out].plain() {
                    Some((plain, nullable)) => RowStep::plain(plain, nullable, out),
                    None => RowStep::Column(out),
                },
            })
            .collect();
        Self { steps, defaults: &record.defaults }
    }

    /// Decodes one record into `columns` (those the steps were compiled for).
    #[inline(always)]
    pub fn decode(&self, columns: &mut [Column], schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
        for step in &self.steps {
            match *step {
                RowStep::Boolean(out) => columns[out].push_plain::<false>(Plain::Boolean, cur)?,
                RowStep::Int(out) => columns[out].push_plain::<false>(Plain::Int, cur)?,
                RowStep::Long(out) => columns[out].push_plain::<false>(Plain::Long, cur)?,
                RowStep::Float(out) => columns[out].push_plain::<false>(Plain::Float, cur)?,
                RowStep::Double(out) => columns[out].push_plain::<false>(Plain::Double, cur)?,
                RowStep::String(out) => columns[out].push_plain::<false>(Plain::String, cur)?,
                RowStep::Bytes(out) => columns[out].push_plain::<false>(Plain::Bytes, cur)?,
                RowStep::TimeMillis(out) => columns[out].push_plain::<false>(Plain::TimeMillis, cur)?,
                RowStep::TimeMicros(out) => columns[out].push_plain::<false>(Plain::TimeMicros, cur)?,
                RowStep::Decimal(out) => columns[out].push_plain::<false>(Plain::Decimal, cur)?,
                RowStep::NullableBoolean(out) => columns[out].push_plain::<true>(Plain::Boolean, cur)?,
                RowStep::NullableInt(out) => columns[out].push_plain::<true>(Plain::Int, cur)?,
                RowStep::NullableLong(out) => columns[out].push_plain::<true>(Plain::Long, cur)?,
                RowStep::NullableFloat(out) => columns[out].push_plain::<true>(Plain::Float, cur)?,
                RowStep::NullableDouble(out) => columns[out].push_plain::<true>(Plain::Double, cur)?,
                RowStep::NullableString(out) => columns[out].push_plain::<true>(Plain::String, cur)?,
                RowStep::NullableBytes(out) => columns[out].push_plain::<true>(Plain::Bytes, cur)?,
                RowStep::NullableTimeMillis(out) => columns[out].push_plain::<true>(Plain::TimeMillis, cur)?,
                RowStep::NullableTimeMicros(out) => columns[out].push_plain::<true>(Plain::TimeMicros, cur)?,
                RowStep::NullableDecimal(out) => columns[out].push_plain::<true>(Plain::Decimal, cur)?,
                RowStep::Column(out) => columns[out].decode(schema, cur)?,
                RowStep::Skip(op) => op.skip(schema, cur)?,
            }
        }
        fill_defaults(self.defaults, columns, schema)
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{AnyValue, PlSmallStr, Series};

    use super::*;
    use crate::decode::RowPlan;
    use crate::schema::parse_schema;
    use crate::varint::{put_bytes, put_long};

    fn record(fields: &str) -> AvroSchema {
        parse_schema(&format!(r#"{{"type": "record", "name": "R", "fields": {fields}}}"#)).unwrap()
    }

    #[test]
    fn plain_fields_are_pushed_straight_in_and_the_rest_go_through_their_columns() {
        let writer = record(
            r#"[{"name": "b", "type": "boolean"}, {"name": "i", "type": ["null", "int"]},
                {"name": "s", "type": "string"}, {"name": "n", "type": ["null", "long"]},
                {"name": "a", "type": {"type": "array", "items": "int"}}, {"name": "x", "type": "double"}]"#,
        );
        // The reader takes `i` without its null (a null is an error there), lacks `x`, and adds `d`.
        let reader = record(
            r#"[{"name": "b", "type": "boolean"}, {"name": "i", "type": "int"},
                {"name": "s", "type": "string"}, {"name": "n", "type": ["null", "long"]},
                {"name": "a", "type": {"type": "array", "items": "int"}}, {"name": "d", "type": "long", "default": 7}]"#,
        );
        let plan = RowPlan::new(&writer, Some(&reader), None).unwrap();
        let mut columns: Vec<Column> = plan.record.fields.iter().map(Column::new).collect();
        let steps = RowSteps::new(&plan.record, &columns);
        let shown: Vec<String> = steps.steps.iter().map(|s| format!("{s:?}")).collect();
        assert_eq!(shown[..5], ["Boolean(0)", "Column(1)", "String(2)", "NullableLong(3)", "Column(4)"]);
        assert!(matches!(steps.steps[5], RowStep::Skip(_)), "{}", shown[5]);

        let mut data = vec![1];
        put_long(&mut data, 1);
        put_long(&mut data, 5);
        put_bytes(&mut data, b"hi");
        put_long(&mut data, 0);
        for v in [2, 1, 2, 0] {
            put_long(&mut data, v);
        }
        data.extend_from_slice(&2.5f64.to_le_bytes());
        let mut cur = Cursor::new(&data);
        steps.decode(&mut columns, &writer, &mut cur).unwrap();
        assert!(cur.is_empty(), "the skipped double is stepped over");
        // A null where the reader has none.
        let mut null_i = vec![1];
        put_long(&mut null_i, 0);
        assert!(steps.decode(&mut columns, &writer, &mut Cursor::new(&null_i)).is_err());

        let values: Vec<Series> = columns
            .into_iter()
            .zip(&plan.record.fields)
            .map(|(column, read)| {
                let array = column.finish().unwrap();
                // SAFETY: the builder makes the physical array of the plan's dtype.
                unsafe { Series::from_chunks_and_dtype_unchecked(PlSmallStr::EMPTY, vec![array], &read.dtype) }
            })
            .collect();
        assert_eq!(values[0].get(0).unwrap(), AnyValue::Boolean(true));
        assert_eq!(values[1].get(0).unwrap(), AnyValue::Int32(5));
        assert_eq!(values[2].get(0).unwrap(), AnyValue::String("hi"));
        assert_eq!(values[3].get(0).unwrap(), AnyValue::Null);
        assert_eq!(values[4].list().unwrap().get_as_series(0).unwrap().len(), 2);
        assert_eq!(values[5].get(0).unwrap(), AnyValue::Int64(7), "the default, filled in after the record");
    }
}
