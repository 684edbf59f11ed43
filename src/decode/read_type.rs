//! What a read produces, as plain data: for each column, its Polars dtype and how its
//! Avro values are read (field steps, union branch map, enum symbol map, defaults). Built
//! once per (writer schema, reader schema, projection) before any byte is decoded; the
//! column builders of each batch are made from it (`column.rs`).
//!
//! The Avro-to-Polars type mapping lives here, once: [`ReadType::of`] for a schema read
//! as it is, and the constructors that schema resolution (`resolve.rs`) builds with.

use std::sync::Arc;

use polars_core::prelude::{DataType, Field as PlField, FrozenCategories, PlSmallStr, TimeZone};

use super::json_resolve::JsonResolution;
use super::skip::SkipOp;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::{AvroSchema, Logical, LongTime, Node, NodeId};
use crate::time_zone::polars_time_zone;

/// Polars' Decimal holds at most 38 digits; wider decimals are read as exact text.
pub const MAX_DECIMAL_PRECISION: usize = 38;

/// How one Avro value is read into one Polars column.
#[derive(Debug, Clone)]
pub struct ReadType {
    pub dtype: DataType,
    /// The union around a value that is either null or of this type, when there is one.
    pub nullable: Option<NullableUnion>,
    pub shape: Shape,
}

/// The union around a value of one type: `["null", T]`, `[T, "null"]`, `[T]`, `["null"]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NullableUnion {
    pub n_branches: usize,
    pub null_index: Option<usize>,
    /// Read with a reader schema whose type has no null: a null is an error (as the
    /// specification says of a writer branch the reader cannot take).
    pub null_is_error: bool,
}

/// What the bytes of a value are and how they become the column's values.
#[derive(Debug, Clone)]
pub enum Shape {
    Null,
    Boolean,
    Int,
    Long,
    /// time-millis (int) as Polars Time (nanoseconds).
    TimeMillis,
    /// time-micros (long) as Polars Time (nanoseconds).
    TimeMicros,
    Float,
    Double,
    /// Promotions of a reader schema: a writer's int or long read as float or double, a
    /// writer's float as double.
    FloatFromLong,
    DoubleFromLong,
    DoubleFromFloat,
    Bytes,
    Fixed(usize),
    /// UTF-8, checked as values arrive.
    String,
    /// uuid on fixed(16), rendered in the canonical 8-4-4-4-12 form.
    UuidFixed,
    /// decimal on bytes (`fixed` None) or fixed, as Polars Decimal (i128); values of more
    /// digits than `precision` are refused.
    Decimal {
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
    },
    /// decimal wider than Polars' 38 digits, as exact text (precision checked as well).
    DecimalText {
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
    },
    /// big-decimal: bytes holding the unscaled value then the scale, as exact text.
    BigDecimal,
    /// `n_symbols` of the writer's enum; with a reader schema, `to_reader` maps each to
    /// the reader's symbol (None: not a reader symbol and no default, an error).
    Enum {
        n_symbols: usize,
        to_reader: Option<Vec<Option<u32>>>,
    },
    /// duration (fixed 12) as Struct{months, days, milliseconds}.
    Duration,
    List(Box<ReadType>),
    Map(Box<ReadType>),
    Record(RecordRead),
    /// A union of two or more non-null branches: a Struct with one field per branch.
    Union(UnionRead),
    /// Several branches of a writer's union read as one reader type.
    OneOf(OneOfRead),
    /// A value of a recursive type, rendered as JSON text.
    Json(NodeId),
    /// A value of a recursive type read with a reader schema, rendered as the JSON text
    /// of the reader's type.
    ResolvedJson(Arc<JsonResolution>),
}

/// A record: the writer's fields in the writer's order, each read into one of `fields`
/// or skipped; then the fields the writer lacks, from their defaults (encoded as Avro,
/// and decoded like any value).
#[derive(Debug, Clone, Default)]
pub struct RecordRead {
    pub fields: Vec<ReadType>,
    pub steps: Vec<FieldStep>,
    pub defaults: Vec<(usize, Vec<u8>)>,
}

/// What happens to one field of the writer's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldStep {
    /// Decoded into this output field.
    Read(usize),
    Skip(SkipOp),
}

/// A Struct of union branches: `children` in the reader's branch order.
#[derive(Debug, Clone)]
pub struct UnionRead {
    pub children: Vec<ReadType>,
    pub branches: BranchMap,
}

/// Several branches of a writer's union read into one column of the reader's type:
/// each branch decodes into a child of its own (an int and a float branch read as
/// double differ in their bytes), and the children are merged row by row.
#[derive(Debug, Clone)]
pub struct OneOfRead {
    /// All of the reader's type; at least one.
    pub children: Vec<ReadType>,
    /// One entry per writer branch: its child, null (the reader's type is nullable), or
    /// a branch the reader's type does not match (an error when a value takes it).
    pub branches: Vec<Branch>,
    /// For messages: the writer's branch types and the reader's type.
    pub writer_types: Vec<String>,
    pub reader_type: String,
}

/// Where a writer's union branch goes.
#[derive(Debug, Clone)]
pub enum BranchMap {
    /// One entry per writer branch, by the branch index read before each value.
    ByIndex(Vec<Branch>),
    /// The writer's type is not a union (a reader schema made it one): no index is
    /// read, and every value goes to this child.
    Always(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Branch {
    Null,
    Child(usize),
    /// A writer branch the reader's union cannot take: an error when a value takes it.
    Unmatched,
}

impl RecordRead {
    /// Appends a step, merging consecutive skips of fixed-size fields into one.
    pub fn push_step(&mut self, step: FieldStep) {
        if let (Some(FieldStep::Skip(previous)), FieldStep::Skip(next)) = (self.steps.last_mut(), step) {
            if let Some(merged) = previous.merge(next) {
                *previous = merged;
                return;
            }
        }
        self.steps.push(step);
    }

    /// Whether every field is read, in order, and none comes from a default.
    pub fn is_in_order(&self) -> bool {
        self.defaults.is_empty()
            && self.steps.len() == self.fields.len()
            && self.steps.iter().enumerate().all(|(i, step)| *step == FieldStep::Read(i))
    }

    /// Every field read in order: a record read as it is.
    fn in_order(fields: Vec<ReadType>) -> Self {
        let steps = (0..fields.len()).map(FieldStep::Read).collect();
        Self { fields, steps, defaults: Vec::new() }
    }
}

impl ReadType {
    fn new(dtype: DataType, shape: Shape) -> Self {
        Self { dtype, nullable: None, shape }
    }

    /// The same type inside a union that may hold null.
    pub fn with_nullable(mut self, nullable: NullableUnion) -> Self {
        self.nullable = Some(nullable);
        self
    }

    pub fn list(item: ReadType) -> Self {
        Self::new(DataType::List(Box::new(item.dtype.clone())), Shape::List(Box::new(item)))
    }

    /// A map, as Polars holds it: a list of key/value structs (Python casts it to Map
    /// where Polars has one).
    pub fn map(value: ReadType) -> Self {
        let entry = DataType::Struct(vec![
            PlField::new(PlSmallStr::from_static("key"), DataType::String),
            PlField::new(PlSmallStr::from_static("value"), value.dtype.clone()),
        ]);
        Self::new(DataType::List(Box::new(entry)), Shape::Map(Box::new(value)))
    }

    /// A record whose output fields are named `names`.
    pub fn record<'n>(names: impl IntoIterator<Item = &'n str>, read: RecordRead) -> Self {
        Self::new(struct_of(names, &read.fields), Shape::Record(read))
    }

    /// A union of several non-null branches, its fields named `names`.
    pub fn union<'n>(names: impl IntoIterator<Item = &'n str>, read: UnionRead) -> Self {
        Self::new(struct_of(names, &read.children), Shape::Union(read))
    }

    /// A recursive type read with a reader schema, as JSON text.
    pub fn resolved_json(resolution: JsonResolution) -> Self {
        Self::new(DataType::String, Shape::ResolvedJson(Arc::new(resolution)))
    }

    /// Several writer branches read as one type ([`OneOfRead`]).
    pub fn one_of(read: OneOfRead) -> Self {
        let dtype = read.children.first().expect("a branch reads as the reader's type").dtype.clone();
        Self::new(dtype, Shape::OneOf(read))
    }

    /// A writer's float or long read as the reader's float or double.
    pub fn promoted(writer: &Node, reader: &Node) -> Option<Self> {
        Some(match (writer, reader) {
            (Node::Int | Node::Long, Node::Float) => Self::new(DataType::Float32, Shape::FloatFromLong),
            (Node::Int | Node::Long, Node::Double) => Self::new(DataType::Float64, Shape::DoubleFromLong),
            (Node::Float, Node::Double) => Self::new(DataType::Float64, Shape::DoubleFromFloat),
            _ => return None,
        })
    }

    /// The column's type as the boundary describes it: the dtype, with Avro maps marked as
    /// maps (Polars holds them as lists of key/value structs).
    pub fn frame_type(&self) -> FrameType {
        let fields = |children: &[ReadType]| {
            let DataType::Struct(fields) = &self.dtype else { unreachable!("records and unions are structs") };
            FrameType::Struct(fields.iter().zip(children).map(|(f, c)| (f.name.to_string(), c.frame_type())).collect())
        };
        match &self.shape {
            Shape::List(item) => FrameType::List(Box::new(item.frame_type())),
            Shape::Map(value) => {
                FrameType::Map { key: Box::new(FrameType::String), value: Box::new(value.frame_type()) }
            },
            Shape::Record(record) => fields(&record.fields),
            Shape::Union(union) => fields(&union.children),
            Shape::OneOf(one_of) => one_of.children[0].frame_type(),
            _ => FrameType::from_dtype(&self.dtype),
        }
    }

    /// The type of node `id` of a schema read as it is. `expanding` holds the records
    /// being expanded on the way down: meeting one again means the type is recursive,
    /// and from there on the value is kept as JSON text.
    pub fn of(schema: &AvroSchema, id: NodeId, expanding: &mut Vec<NodeId>) -> AvroResult<Self> {
        if let Node::Union(branches) = schema.node(id) {
            return Self::of_union(schema, branches, expanding);
        }
        let plain = |dtype: DataType, shape: Shape| Ok(Self::new(dtype, shape));
        match (schema.node(id), schema.logical(id)) {
            (Node::Int, Some(Logical::Date)) => plain(DataType::Date, Shape::Int),
            (Node::Int, Some(Logical::TimeMillis)) => plain(DataType::Time, Shape::TimeMillis),
            (Node::Long, Some(Logical::TimeMicros)) => plain(DataType::Time, Shape::TimeMicros),
            (Node::Long, Some(logical)) => plain(long_dtype(logical, schema.time_zone(id))?, Shape::Long),
            (Node::Null, _) => plain(DataType::Null, Shape::Null),
            (Node::Boolean, _) => plain(DataType::Boolean, Shape::Boolean),
            (Node::Int, _) => plain(DataType::Int32, Shape::Int),
            (Node::Long, _) => plain(DataType::Int64, Shape::Long),
            (Node::Float, _) => plain(DataType::Float32, Shape::Float),
            (Node::Double, _) => plain(DataType::Float64, Shape::Double),
            (node @ (Node::Bytes | Node::Fixed { .. }), Some(Logical::Decimal { precision, scale })) => {
                let fixed = match node {
                    Node::Fixed { size, .. } => Some(*size),
                    _ => None,
                };
                if precision <= MAX_DECIMAL_PRECISION {
                    plain(DataType::Decimal(precision, scale), Shape::Decimal { fixed, precision, scale })
                } else {
                    plain(DataType::String, Shape::DecimalText { fixed, precision, scale })
                }
            },
            (Node::Bytes, Some(Logical::BigDecimal)) => plain(DataType::String, Shape::BigDecimal),
            (Node::Fixed { .. }, Some(Logical::Uuid)) => plain(DataType::String, Shape::UuidFixed),
            (Node::Fixed { .. }, Some(Logical::Duration)) => {
                let fields = ["months", "days", "milliseconds"]
                    .into_iter()
                    .map(|n| PlField::new(PlSmallStr::from_static(n), DataType::UInt32))
                    .collect();
                plain(DataType::Struct(fields), Shape::Duration)
            },
            (Node::Bytes, _) => plain(DataType::Binary, Shape::Bytes),
            (Node::Fixed { size, .. }, _) => plain(DataType::Binary, Shape::Fixed(*size)),
            (Node::String, _) => plain(DataType::String, Shape::String),
            (Node::Enum { symbols, name, .. }, _) => {
                let categories = FrozenCategories::new(symbols.iter().map(String::as_str)).map_err(|e| {
                    AvroError::schema(format!("enum '{}' cannot be a Polars Enum: {e}", name.fullname()))
                })?;
                let shape = Shape::Enum { n_symbols: symbols.len(), to_reader: None };
                plain(DataType::from_frozen_categories(categories), shape)
            },
            (Node::Array(item), _) => Ok(Self::list(Self::of(schema, *item, expanding)?)),
            (Node::Map(value), _) => Ok(Self::map(Self::of(schema, *value, expanding)?)),
            (Node::Record { fields, .. }, _) => {
                if expanding.contains(&id) {
                    return plain(DataType::String, Shape::Json(id));
                }
                expanding.push(id);
                let read = fields.iter().map(|f| Self::of(schema, f.schema, expanding)).collect::<AvroResult<_>>();
                expanding.pop();
                Ok(Self::record(fields.iter().map(|f| f.name.as_str()), RecordRead::in_order(read?)))
            },
            (Node::Union(_), _) => unreachable!("handled above"),
        }
    }

    fn of_union(schema: &AvroSchema, branches: &[NodeId], expanding: &mut Vec<NodeId>) -> AvroResult<Self> {
        let split = schema.split_union(branches);
        let nullable = NullableUnion { n_branches: branches.len(), null_index: split.null, null_is_error: false };
        match split.values.as_slice() {
            [] => Ok(Self::new(DataType::Null, Shape::Null).with_nullable(nullable)),
            [(_, only)] => Ok(Self::of(schema, *only, expanding)?.with_nullable(nullable)),
            several => {
                let mut map = vec![Branch::Null; branches.len()];
                let mut children = Vec::with_capacity(several.len());
                for (child, (branch, node)) in several.iter().enumerate() {
                    map[*branch] = Branch::Child(child);
                    children.push(Self::of(schema, *node, expanding)?);
                }
                let names = schema.union_field_names(several);
                Ok(Self::union(
                    names.iter().map(String::as_str),
                    UnionRead { children, branches: BranchMap::ByIndex(map) },
                ))
            },
        }
    }
}

/// The Polars dtype of a long with a timestamp or duration logical type; a timestamp is
/// in UTC unless it carries the zone it was written from, which must be one.
fn long_dtype(logical: Logical, time_zone: Option<&str>) -> AvroResult<DataType> {
    let utc = Some(match time_zone {
        None => TimeZone::UTC,
        Some(zone) => polars_time_zone(zone).ok_or_else(|| {
            AvroError::schema(format!(
                "a timestamp's polars.time_zone attribute names '{zone}', which is not a time zone Polars knows"
            ))
        })?,
    });
    Ok(match logical.long_time().expect("the parser attaches only time logical types to long") {
        LongTime::Timestamp(unit) => DataType::Datetime(unit, utc),
        LongTime::LocalTimestamp(unit) => DataType::Datetime(unit, None),
        LongTime::Duration(unit) => DataType::Duration(unit),
    })
}

fn struct_of<'n>(names: impl IntoIterator<Item = &'n str>, fields: &[ReadType]) -> DataType {
    DataType::Struct(
        names.into_iter().zip(fields).map(|(n, f)| PlField::new(PlSmallStr::from(n), f.dtype.clone())).collect(),
    )
}

/// The mapping, row by row as docs/reading.md tables it: the column type each Avro type
/// of a field reads into (through `column_types`, which the reader and
/// `read_avro_schema` use).
#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::decode::column_types;
    use crate::frame_type::FrameType;
    use crate::schema::parse_schema;

    /// The Polars type a record field of Avro type `avro` reads into.
    fn column_type(avro: Value) -> FrameType {
        let schema = json!({"type": "record", "name": "R", "fields": [{"name": "f", "type": avro}]});
        let schema = parse_schema(&schema.to_string()).unwrap();
        let mut columns = column_types(&schema).unwrap();
        assert_eq!(columns.len(), 1);
        columns.remove(0).1
    }

    fn logical(base: &str, logical: &str) -> Value {
        json!({"type": base, "logicalType": logical})
    }

    #[test]
    fn primitive_and_logical_types_read_as_the_table_says() {
        let cases: Vec<(Value, &str)> = vec![
            (json!("null"), "Null"),
            (json!("boolean"), "Boolean"),
            (json!("int"), "Int32"),
            (json!("long"), "Int64"),
            (json!("float"), "Float32"),
            (json!("double"), "Float64"),
            (json!("bytes"), "Binary"),
            (json!("string"), "String"),
            (json!({"type": "fixed", "name": "F", "size": 3}), "Binary"),
            (json!({"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 4}), "Decimal(38, 4)"),
            (
                json!({"type": "fixed", "name": "D", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 2}),
                "Decimal(18, 2)",
            ),
            // Wider than Polars holds: the exact text.
            (json!({"type": "bytes", "logicalType": "decimal", "precision": 39, "scale": 4}), "String"),
            (logical("bytes", "big-decimal"), "String"),
            (logical("string", "uuid"), "String"),
            (json!({"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}), "String"),
            (logical("int", "date"), "Date"),
            (logical("int", "time-millis"), "Time"),
            (logical("long", "time-micros"), "Time"),
            (logical("long", "timestamp-millis"), "Datetime(ms, UTC)"),
            (logical("long", "timestamp-micros"), "Datetime(μs, UTC)"),
            (logical("long", "timestamp-nanos"), "Datetime(ns, UTC)"),
            (logical("long", "local-timestamp-millis"), "Datetime(ms)"),
            (logical("long", "local-timestamp-micros"), "Datetime(μs)"),
            (logical("long", "local-timestamp-nanos"), "Datetime(ns)"),
            (logical("long", "duration-millis"), "Duration(ms)"),
            (logical("long", "duration-micros"), "Duration(μs)"),
            (logical("long", "duration-nanos"), "Duration(ns)"),
            // A logical type that does not fit its type, or is unknown: the underlying type.
            (logical("string", "date"), "String"),
            (logical("long", "date"), "Int64"),
            (logical("int", "timestamp-micros"), "Int32"),
            (logical("long", "no-such-type"), "Int64"),
            (json!({"type": "fixed", "name": "U", "size": 8, "logicalType": "uuid"}), "Binary"),
            (json!({"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 5}), "Binary"),
        ];
        for (avro, polars) in cases {
            assert_eq!(column_type(avro.clone()).polars_name(), polars, "{avro}");
        }
    }

    #[test]
    fn complex_types_read_as_the_table_says() {
        let enum_type = json!({"type": "enum", "name": "E", "symbols": ["B", "A"]});
        assert_eq!(column_type(enum_type), FrameType::Enum(vec!["B".into(), "A".into()]));
        assert_eq!(column_type(json!({"type": "array", "items": "int"})).polars_name(), "List(Int32)");
        let map = column_type(json!({"type": "map", "values": "double"}));
        assert_eq!(map.polars_name(), "Map(String, Float64)");
        let record = json!({"type": "record", "name": "P", "fields": [
            {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"]}]});
        assert_eq!(
            column_type(record),
            FrameType::Struct(vec![
                ("x".into(), FrameType::Int { signed: true, bits: 32 }),
                ("y".into(), FrameType::String)
            ])
        );
        let duration = json!({"type": "fixed", "name": "D", "size": 12, "logicalType": "duration"});
        let u32_ = FrameType::Int { signed: false, bits: 32 };
        assert_eq!(
            column_type(duration),
            FrameType::Struct(vec![
                ("months".into(), u32_.clone()),
                ("days".into(), u32_.clone()),
                ("milliseconds".into(), u32_)
            ])
        );
    }

    #[test]
    fn unions_read_as_their_value_or_a_struct_of_branches() {
        // [null, T] in either order: T (nullable).
        assert_eq!(column_type(json!(["null", "long"])).polars_name(), "Int64");
        assert_eq!(column_type(json!(["string", "null"])).polars_name(), "String");
        // Two or more non-null branches: a Struct with a field per branch, named after it; a
        // named type by its simple name; a clash of names gets the branch index.
        let point = json!({"type": "record", "name": "ns.Point", "fields": [{"name": "x", "type": "int"}]});
        let other_point = json!({"type": "record", "name": "other.Point", "fields": [{"name": "y", "type": "int"}]});
        let union = column_type(json!(["null", "int", "string", point, other_point]));
        let FrameType::Struct(fields) = union else { panic!("{union:?}") };
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["int", "string", "Point", "Point_4"]);
    }

    #[test]
    fn a_recursive_type_reads_as_json_text_where_it_refers_back() {
        let node = json!({"type": "record", "name": "Node", "fields": [
            {"name": "value", "type": "int"},
            {"name": "next", "type": ["null", "Node"]}]});
        let schema = json!({"type": "record", "name": "R", "fields": [{"name": "head", "type": node}]});
        let columns = column_types(&parse_schema(&schema.to_string()).unwrap()).unwrap();
        let FrameType::Struct(fields) = &columns[0].1 else { panic!("{columns:?}") };
        assert_eq!(fields[0], ("value".into(), FrameType::Int { signed: true, bits: 32 }));
        assert_eq!(fields[1], ("next".into(), FrameType::String));
    }
}
