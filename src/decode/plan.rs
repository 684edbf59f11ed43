//! Compiles an Avro schema (and a projection) into column builders: the Avro-to-Polars
//! type mapping lives here, once, for reading and for reporting schemas.

use polars::prelude::{DataType, Field as PlField, FrozenCategories, PlSmallStr, TimeUnit, TimeZone};
use polars_arrow::bitmap::BitmapBuilder;

use super::column::{Column, Kind, UnionPrefix};
use super::resolve::Resolver;
use super::skip::SkipOp;
use super::views::ViewBuilder;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, Logical, Node, NodeId};

/// Polars' Decimal holds at most 38 digits; wider decimals are read as exact text.
pub const MAX_DECIMAL_PRECISION: usize = 38;

/// The name of the single column when the top-level schema is not a record.
pub const VALUE_COLUMN: &str = "value";

/// Builds the column for one schema node. `expanding` holds the records being expanded
/// on the way down: meeting one again means the type is recursive, and from there on the
/// value is kept as JSON text.
pub fn build_column(schema: &AvroSchema, id: NodeId, expanding: &mut Vec<NodeId>) -> AvroResult<Column> {
    if let Node::Union(branches) = schema.node(id) {
        return build_union(schema, branches, expanding);
    }
    let string = || Column::new(DataType::String, Kind::String(ViewBuilder::default()));
    let text = |kind: Kind| Column::new(DataType::String, kind);
    let column = match (schema.node(id), schema.logical(id)) {
        (Node::Int, Some(Logical::Date)) => Column::new(DataType::Date, Kind::Int(Vec::new())),
        (Node::Int, Some(Logical::TimeMillis)) => Column::new(DataType::Time, Kind::TimeMillis(Vec::new())),
        (Node::Long, Some(Logical::TimeMicros)) => Column::new(DataType::Time, Kind::TimeMicros(Vec::new())),
        (Node::Long, Some(logical @ (Logical::DurationMillis | Logical::DurationMicros | Logical::DurationNanos))) => {
            let unit = match logical {
                Logical::DurationMillis => TimeUnit::Milliseconds,
                Logical::DurationMicros => TimeUnit::Microseconds,
                _ => TimeUnit::Nanoseconds,
            };
            Column::new(DataType::Duration(unit), Kind::Long(Vec::new()))
        },
        (Node::Long, Some(logical)) => {
            let (unit, utc) = match logical {
                Logical::TimestampMillis => (TimeUnit::Milliseconds, true),
                Logical::TimestampMicros => (TimeUnit::Microseconds, true),
                Logical::TimestampNanos => (TimeUnit::Nanoseconds, true),
                Logical::LocalTimestampMillis => (TimeUnit::Milliseconds, false),
                Logical::LocalTimestampMicros => (TimeUnit::Microseconds, false),
                Logical::LocalTimestampNanos => (TimeUnit::Nanoseconds, false),
                _ => unreachable!("the parser only attaches timestamp logical types to long"),
            };
            let tz = utc.then_some(TimeZone::UTC);
            Column::new(DataType::Datetime(unit, tz), Kind::Long(Vec::new()))
        },
        (Node::Null, _) => Column::new(DataType::Null, Kind::Null),
        (Node::Boolean, _) => Column::new(DataType::Boolean, Kind::Boolean(BitmapBuilder::new())),
        (Node::Int, _) => Column::new(DataType::Int32, Kind::Int(Vec::new())),
        (Node::Long, _) => Column::new(DataType::Int64, Kind::Long(Vec::new())),
        (Node::Float, _) => Column::new(DataType::Float32, Kind::Float(Vec::new())),
        (Node::Double, _) => Column::new(DataType::Float64, Kind::Double(Vec::new())),
        (Node::Bytes | Node::Fixed { .. }, Some(Logical::Decimal { precision, scale })) => {
            let fixed = match schema.node(id) {
                Node::Fixed { size, .. } => Some(*size),
                _ => None,
            };
            if precision <= MAX_DECIMAL_PRECISION {
                Column::new(DataType::Decimal(precision, scale), Kind::Decimal { fixed, values: Vec::new() })
            } else {
                text(Kind::DecimalText { fixed, scale, values: ViewBuilder::default() })
            }
        },
        (Node::Bytes, Some(Logical::BigDecimal)) => text(Kind::BigDecimal(ViewBuilder::default())),
        (Node::Fixed { .. }, Some(Logical::Uuid)) => text(Kind::UuidFixed(ViewBuilder::default())),
        (Node::Fixed { .. }, Some(Logical::Duration)) => {
            let fields = ["months", "days", "milliseconds"]
                .into_iter()
                .map(|n| PlField::new(PlSmallStr::from_static(n), DataType::UInt32))
                .collect();
            Column::new(
                DataType::Struct(fields),
                Kind::Duration { months: Vec::new(), days: Vec::new(), millis: Vec::new() },
            )
        },
        (Node::Bytes, _) => Column::new(DataType::Binary, Kind::Bytes(ViewBuilder::default())),
        (Node::Fixed { size, .. }, _) => {
            Column::new(DataType::Binary, Kind::Fixed(*size, ViewBuilder::default()))
        },
        (Node::String, _) => string(),
        (Node::Enum { symbols, name, .. }, _) => {
            let categories = FrozenCategories::new(symbols.iter().map(String::as_str)).map_err(|e| {
                AvroError::schema(format!("enum '{}' cannot be a Polars Enum: {e}", name.fullname()))
            })?;
            Column::new(
                DataType::from_frozen_categories(categories),
                Kind::Enum { n_symbols: symbols.len(), values: Vec::new(), to_reader: None },
            )
        },
        (Node::Array(item), _) => {
            let item = build_column(schema, *item, expanding)?;
            Column::new(
                DataType::List(Box::new(item.dtype.clone())),
                Kind::List { offsets: vec![0], item: Box::new(item) },
            )
        },
        (Node::Map(value), _) => {
            let value = build_column(schema, *value, expanding)?;
            let entry = DataType::Struct(vec![
                PlField::new(PlSmallStr::from_static("key"), DataType::String),
                PlField::new(PlSmallStr::from_static("value"), value.dtype.clone()),
            ]);
            Column::new(
                DataType::List(Box::new(entry)),
                Kind::Map { offsets: vec![0], keys: ViewBuilder::default(), values: Box::new(value) },
            )
        },
        (Node::Record { fields, .. }, _) => {
            if expanding.contains(&id) {
                text(Kind::Json { node: id, values: ViewBuilder::default(), scratch: String::new() })
            } else {
                expanding.push(id);
                let mut pl_fields = Vec::with_capacity(fields.len());
                let mut children = Vec::with_capacity(fields.len());
                for f in fields {
                    let c = build_column(schema, f.schema, expanding)?;
                    pl_fields.push(PlField::new(PlSmallStr::from(f.name.as_str()), c.dtype.clone()));
                    children.push(c);
                }
                expanding.pop();
                Column::new(DataType::Struct(pl_fields), Kind::Record(children))
            }
        },
        (Node::Union(_), _) => unreachable!("handled above"),
    };
    Ok(column)
}

fn build_union(schema: &AvroSchema, branches: &[NodeId], expanding: &mut Vec<NodeId>) -> AvroResult<Column> {
    let null_index = branches.iter().position(|b| matches!(schema.node(*b), Node::Null));
    let values: Vec<(usize, NodeId)> = branches
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, b)| !matches!(schema.node(*b), Node::Null))
        .collect();
    let prefix = UnionPrefix { n_branches: branches.len(), null_index, null_is_error: false };
    match values.as_slice() {
        [] => {
            let mut c = Column::new(DataType::Null, Kind::Null);
            c.union_prefix = Some(prefix);
            Ok(c)
        },
        [(_, only)] => {
            let mut c = build_column(schema, *only, expanding)?;
            c.union_prefix = Some(prefix);
            Ok(c)
        },
        several => {
            let mut branch_to_child = vec![None; branches.len()];
            let mut children = Vec::with_capacity(several.len());
            let mut fields: Vec<PlField> = Vec::with_capacity(several.len());
            for (child_index, (branch, node)) in several.iter().enumerate() {
                branch_to_child[*branch] = Some(child_index);
                let child = build_column(schema, *node, expanding)?;
                let mut name = schema.type_name(*node);
                if fields.iter().any(|f| f.name.as_str() == name) {
                    name = format!("{name}_{branch}");
                }
                fields.push(PlField::new(PlSmallStr::from(name.as_str()), child.dtype.clone()));
                children.push(child);
            }
            Ok(Column::new(DataType::Struct(fields), Kind::Union { branch_to_child, children, unwrapped: None }))
        },
    }
}

/// The top level of a file's records: the record's fields as columns (or a single
/// `value` column when the top-level schema is not a record).
#[derive(Clone)]
pub struct RowPlan {
    /// In schema order: each top-level field decoded into an output column, or skipped.
    pub slots: Vec<TopSlot>,
    /// The output columns, in the order the caller asked for them.
    pub columns: Vec<Column>,
    pub names: Vec<PlSmallStr>,
    /// Output columns the writer's schema lacks, with the reader's default encoded as Avro:
    /// decoded after each record's fields.
    pub defaults: Vec<(usize, Vec<u8>)>,
}

/// The positions in `names` of the projection (all, in order, when None), each once.
fn wanted_columns(names: &[&str], projection: Option<&[String]>) -> AvroResult<Vec<usize>> {
    let Some(projection) = projection else { return Ok((0..names.len()).collect()) };
    let mut wanted: Vec<usize> = Vec::with_capacity(projection.len());
    for name in projection {
        let index = names.iter().position(|n| n == name).ok_or_else(|| {
            AvroError::argument(format!(
                "column '{name}' is not in the Avro schema; the columns are: {}",
                names.join(", ")
            ))
        })?;
        if wanted.contains(&index) {
            return Err(AvroError::argument(format!("column '{name}' is selected twice")));
        }
        wanted.push(index);
    }
    Ok(wanted)
}

/// Appends a slot, merging consecutive skips of fixed-size fields into one.
pub fn push_merging_skips(slots: &mut Vec<TopSlot>, slot: TopSlot) {
    if let (Some(TopSlot::Skip(previous)), TopSlot::Skip(next)) = (slots.last_mut(), slot) {
        if let Some(merged) = previous.merge(next) {
            *previous = merged;
            return;
        }
    }
    slots.push(slot);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopSlot {
    Decode(usize),
    Skip(SkipOp),
}

/// All top-level column names with their builders, in schema order.
pub fn top_level_columns(schema: &AvroSchema) -> AvroResult<Vec<(PlSmallStr, Column, NodeId)>> {
    match schema.node(schema.root) {
        Node::Record { fields, .. } => {
            let mut expanding = vec![schema.root];
            fields
                .iter()
                .map(|f| Ok((PlSmallStr::from(f.name.as_str()), build_column(schema, f.schema, &mut expanding)?, f.schema)))
                .collect()
        },
        _ => Ok(vec![(PlSmallStr::from_static(VALUE_COLUMN), build_column(schema, schema.root, &mut Vec::new())?, schema.root)]),
    }
}

impl RowPlan {
    /// A plan decoding `projection` (all columns when None), in the projection's order.
    pub fn new(schema: &AvroSchema, projection: Option<&[String]>) -> AvroResult<Self> {
        let all = top_level_columns(schema)?;
        let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
        let wanted = wanted_columns(&names, projection)?;
        let mut output_of_field = vec![None; all.len()];
        for (out, field) in wanted.iter().enumerate() {
            output_of_field[*field] = Some(out);
        }
        let mut slots: Vec<TopSlot> = Vec::with_capacity(all.len());
        for (i, (_, _, node)) in all.iter().enumerate() {
            let slot = match output_of_field[i] {
                Some(out) => TopSlot::Decode(out),
                None => TopSlot::Skip(SkipOp::compile(schema, *node)),
            };
            push_merging_skips(&mut slots, slot);
        }
        let mut columns = Vec::with_capacity(wanted.len());
        let mut names = Vec::with_capacity(wanted.len());
        let mut all: Vec<Option<(PlSmallStr, Column, NodeId)>> = all.into_iter().map(Some).collect();
        for field in wanted {
            let (name, column, _) = all[field].take().expect("each field is wanted once");
            names.push(name);
            columns.push(column);
        }
        Ok(Self { slots, columns, names, defaults: Vec::new() })
    }

    /// A plan decoding data written with `writer` into the columns of `reader` (schema
    /// resolution), `projection` naming the reader's columns. The top-level records' names
    /// are not compared: tools name them freely (Spark's `topLevelRecord`, ...).
    pub fn with_reader(writer: &AvroSchema, reader: &AvroSchema, projection: Option<&[String]>) -> AvroResult<Self> {
        let resolver = Resolver { writer, reader };
        match (writer.node(writer.root), reader.node(reader.root)) {
            (Node::Record { fields: wf, .. }, Node::Record { fields: rf, .. }) => {
                let names: Vec<&str> = rf.iter().map(|f| f.name.as_str()).collect();
                let wanted = wanted_columns(&names, projection)?;
                let (steps, columns, defaults) = resolver.fields(wf, rf, &wanted, "", &mut Vec::new())?;
                let names = wanted.iter().map(|i| PlSmallStr::from(names[*i])).collect();
                Ok(Self { slots: steps, columns, names, defaults })
            },
            (Node::Record { .. }, _) | (_, Node::Record { .. }) => Err(AvroError::schema(
                "the writer's and the reader's top-level schemas must both be records, or both not",
            )),
            _ => {
                let wanted = wanted_columns(&[VALUE_COLUMN], projection)?;
                if wanted.is_empty() {
                    let skip = TopSlot::Skip(SkipOp::compile(writer, writer.root));
                    return Ok(Self { slots: vec![skip], columns: Vec::new(), names: Vec::new(), defaults: Vec::new() });
                }
                let column = resolver.column(writer.root, reader.root, VALUE_COLUMN, &mut Vec::new())?;
                let names = vec![PlSmallStr::from_static(VALUE_COLUMN)];
                Ok(Self { slots: vec![TopSlot::Decode(0)], columns: vec![column], names, defaults: Vec::new() })
            },
        }
    }

    pub fn dtypes(&self) -> impl Iterator<Item = (&PlSmallStr, &DataType)> {
        self.names.iter().zip(self.columns.iter().map(|c| &c.dtype))
    }
}
