//! Column builders: made per batch from a [`ReadType`], each decodes one Avro value at a
//! time straight into the buffers of a Polars column (physical Arrow arrays). The type
//! tree stays shared and untouched; a builder holds only buffers and what its hot loop
//! needs at hand.

use polars_arrow::array::builder::{make_builder, ShareStrategy};
use polars_arrow::array::{Array, BooleanArray, ListArray, NullArray, PrimitiveArray, StructArray};
use polars_arrow::bitmap::{Bitmap, BitmapBuilder};
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::Offsets;
use polars_core::prelude::{CategoricalPhysical, CompatLevel};

use super::cursor::Cursor;
use super::decimal::{decimal_text, read_big_decimal_text, twos_complement_i128};
use super::json::write_json;
use super::json_resolve::JsonResolution;
use super::read_type::{Branch, BranchMap, FieldStep, NullableUnion, OneOfRead, ReadType, RecordRead, Shape};
use super::readable::write_uuid_text;
use super::skip::read_union_branch;
use super::views::ViewBuilder;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, JsonMode, NodeId};

mod closing;

pub type ArrayRef = Box<dyn Array>;

/// The buffers of one column, and the few facts of its type the decoding of a value
/// needs (sizes, symbol counts, references into the type tree).
enum Buffers<'a> {
    Null,
    Boolean(BitmapBuilder),
    Int(Vec<i32>),
    Long(Vec<i64>),
    TimeMillis(Vec<i64>),
    TimeMicros(Vec<i64>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    FloatFromLong(Vec<f32>),
    DoubleFromLong(Vec<f64>),
    DoubleFromFloat(Vec<f64>),
    Bytes(ViewBuilder),
    Fixed(usize, ViewBuilder),
    String(ViewBuilder),
    UuidFixed(ViewBuilder),
    /// `limit`: 10^precision, the first unscaled value too wide.
    Decimal {
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
        limit: u128,
        values: Vec<i128>,
    },
    DecimalText {
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
        values: ViewBuilder,
    },
    BigDecimal(ViewBuilder),
    Enum {
        n_symbols: usize,
        to_reader: Option<&'a [Option<u32>]>,
        values: Vec<u32>,
    },
    Duration {
        months: Vec<u32>,
        days: Vec<u32>,
        millis: Vec<u32>,
    },
    List {
        offsets: Vec<i64>,
        item: Box<Column<'a>>,
    },
    Map {
        offsets: Vec<i64>,
        keys: ViewBuilder,
        values: Box<Column<'a>>,
    },
    /// `in_order`: every field read, in the writer's order, none from a default (a
    /// record read as it is): the steps need not be consulted.
    Record {
        read: &'a RecordRead,
        in_order: bool,
        fields: Vec<Column<'a>>,
    },
    Union {
        branches: &'a BranchMap,
        children: Vec<Column<'a>>,
    },
    /// `rows`: the child each value is in, in order ([`NULL_ROW`] for a null).
    OneOf {
        read: &'a OneOfRead,
        children: Vec<Column<'a>>,
        rows: Vec<u32>,
    },
    Json {
        node: NodeId,
        values: ViewBuilder,
        scratch: String,
    },
    ResolvedJson {
        resolution: &'a JsonResolution,
        values: ViewBuilder,
        scratch: String,
    },
}

/// A null in the rows of a [`Buffers::OneOf`].
const NULL_ROW: u32 = u32::MAX;

/// The kinds of value the record loop (`rows.rs`) pushes straight into a column's
/// buffers: a boolean, int, long, float, double, string or bytes, and the logical types
/// that are one of them checked or scaled (a time of day, a decimal in an i128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plain {
    Boolean,
    Int,
    Long,
    Float,
    Double,
    String,
    Bytes,
    TimeMillis,
    TimeMicros,
    Decimal,
}

/// The buffers that hold their values as views, binding the [`ViewBuilder`] to `$b`.
macro_rules! view_buffers {
    ($b:ident) => {
        Buffers::Bytes($b)
            | Buffers::Fixed(_, $b)
            | Buffers::String($b)
            | Buffers::UuidFixed($b)
            | Buffers::DecimalText { values: $b, .. }
            | Buffers::BigDecimal($b)
            | Buffers::Json { values: $b, .. }
            | Buffers::ResolvedJson { values: $b, .. }
    };
}

impl Buffers<'_> {
    /// The views of a column of strings or binaries (the map's keys are its own).
    fn views(&self) -> Option<&ViewBuilder> {
        match self {
            view_buffers!(b) => Some(b),
            _ => None,
        }
    }

    fn views_mut(&mut self) -> Option<&mut ViewBuilder> {
        match self {
            view_buffers!(b) => Some(b),
            _ => None,
        }
    }

    #[inline(always)]
    fn plain(&self) -> Option<Plain> {
        Some(match self {
            Buffers::Boolean(_) => Plain::Boolean,
            Buffers::Int(_) => Plain::Int,
            Buffers::Long(_) => Plain::Long,
            Buffers::Float(_) => Plain::Float,
            Buffers::Double(_) => Plain::Double,
            Buffers::String(_) => Plain::String,
            Buffers::Bytes(_) => Plain::Bytes,
            Buffers::TimeMillis(_) => Plain::TimeMillis,
            Buffers::TimeMicros(_) => Plain::TimeMicros,
            Buffers::Decimal { .. } => Plain::Decimal,
            _ => return None,
        })
    }
}

/// Reads a value of kind `plain` into `buffers` (of that kind).
#[inline(always)]
fn push_plain(buffers: &mut Buffers, plain: Plain, cur: &mut Cursor) -> AvroResult<()> {
    match (plain, buffers) {
        (Plain::Boolean, Buffers::Boolean(b)) => b.push(cur.read_bool()?),
        (Plain::Int, Buffers::Int(v)) => v.push(cur.read_int()?),
        (Plain::Long, Buffers::Long(v)) => v.push(cur.read_long()?),
        (Plain::Float, Buffers::Float(v)) => v.push(cur.read_f32()?),
        (Plain::Double, Buffers::Double(v)) => v.push(cur.read_f64()?),
        (Plain::String, Buffers::String(b)) => {
            let (value, tail) = cur.read_str_and_tail("a string")?;
            b.push_from(value, tail);
        },
        (Plain::Bytes, Buffers::Bytes(b)) => {
            let (value, tail) = cur.read_bytes_and_tail("a bytes value")?;
            b.push_from(value, tail);
        },
        (Plain::TimeMillis, Buffers::TimeMillis(v)) => {
            let start = cur.position();
            v.push(time_of_day(i64::from(cur.read_int()?), 1_000_000, "time-millis", start)?)
        },
        (Plain::TimeMicros, Buffers::TimeMicros(v)) => {
            let start = cur.position();
            v.push(time_of_day(cur.read_long()?, 1_000, "time-micros", start)?)
        },
        (Plain::Decimal, Buffers::Decimal { fixed, precision, scale, limit, values }) => {
            let start = cur.position();
            let raw = decimal_bytes(cur, *fixed)?;
            let value = twos_complement_i128(raw).map_err(|e| at_byte(e, start))?;
            if value.unsigned_abs() >= *limit {
                return Err(decimal_too_wide(raw, *precision, *scale, start));
            }
            values.push(value);
        },
        _ => unreachable!("buffers of the plain kind (Buffers::plain)"),
    }
    Ok(())
}

/// A null in each of a record's or union's children.
#[inline(never)]
fn push_nulls(children: &mut [Column]) {
    children.iter_mut().for_each(Column::push_null)
}

/// The validity of a column whose first null comes after `len` valid values.
#[cold]
fn first_null(len: usize) -> BitmapBuilder {
    let mut validity = BitmapBuilder::with_capacity(len + 1);
    validity.extend_constant(len, true);
    validity.push(false);
    validity
}

/// One output column being decoded.
pub struct Column<'a> {
    read: &'a ReadType,
    /// A copy of `read.nullable`, kept beside the buffers for the record loop.
    nullable: Option<NullableUnion>,
    /// Created at the first null: columns without nulls carry no bitmap.
    validity: Option<BitmapBuilder>,
    len: usize,
    buffers: Buffers<'a>,
}

impl<'a> Column<'a> {
    /// Empty buffers for values of this type.
    pub fn new(read: &'a ReadType) -> Self {
        let buffers = match &read.shape {
            Shape::Null => Buffers::Null,
            Shape::Boolean => Buffers::Boolean(BitmapBuilder::new()),
            Shape::Int => Buffers::Int(Vec::new()),
            Shape::Long => Buffers::Long(Vec::new()),
            Shape::TimeMillis => Buffers::TimeMillis(Vec::new()),
            Shape::TimeMicros => Buffers::TimeMicros(Vec::new()),
            Shape::Float => Buffers::Float(Vec::new()),
            Shape::Double => Buffers::Double(Vec::new()),
            Shape::FloatFromLong => Buffers::FloatFromLong(Vec::new()),
            Shape::DoubleFromLong => Buffers::DoubleFromLong(Vec::new()),
            Shape::DoubleFromFloat => Buffers::DoubleFromFloat(Vec::new()),
            Shape::Bytes => Buffers::Bytes(ViewBuilder::default()),
            Shape::Fixed(size) => Buffers::Fixed(*size, ViewBuilder::default()),
            Shape::String => Buffers::String(ViewBuilder::default()),
            Shape::UuidFixed => Buffers::UuidFixed(ViewBuilder::default()),
            Shape::Decimal { fixed, precision, scale } => {
                let limit = 10u128.pow(*precision as u32);
                Buffers::Decimal { fixed: *fixed, precision: *precision, scale: *scale, limit, values: Vec::new() }
            },
            Shape::DecimalText { fixed, precision, scale } => Buffers::DecimalText {
                fixed: *fixed,
                precision: *precision,
                scale: *scale,
                values: ViewBuilder::default(),
            },
            Shape::BigDecimal => Buffers::BigDecimal(ViewBuilder::default()),
            Shape::Enum { n_symbols, to_reader } => {
                Buffers::Enum { n_symbols: *n_symbols, to_reader: to_reader.as_deref(), values: Vec::new() }
            },
            Shape::Duration => Buffers::Duration { months: Vec::new(), days: Vec::new(), millis: Vec::new() },
            Shape::List(item) => Buffers::List { offsets: vec![0], item: Box::new(Column::new(item)) },
            Shape::Map(value) => {
                Buffers::Map { offsets: vec![0], keys: ViewBuilder::default(), values: Box::new(Column::new(value)) }
            },
            Shape::Record(record) => Buffers::Record {
                read: record,
                in_order: record.is_in_order(),
                fields: record.fields.iter().map(Column::new).collect(),
            },
            Shape::Union(union) => {
                Buffers::Union { branches: &union.branches, children: union.children.iter().map(Column::new).collect() }
            },
            Shape::OneOf(one_of) => Buffers::OneOf {
                read: one_of,
                children: one_of.children.iter().map(Column::new).collect(),
                rows: Vec::new(),
            },
            Shape::Json(node) => Buffers::Json { node: *node, values: ViewBuilder::default(), scratch: String::new() },
            Shape::ResolvedJson(resolution) => {
                Buffers::ResolvedJson { resolution, values: ViewBuilder::default(), scratch: String::new() }
            },
        };
        Self { read, nullable: read.nullable, validity: None, len: 0, buffers }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Decodes one value, including the union index that wraps it, if any. Inlined into
    /// the record loop: plain values take no call; nested ones go through `decode_nested`.
    #[inline(always)]
    pub fn decode(&mut self, schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
        if let Some(nullable) = self.nullable {
            let branch = read_union_branch(cur, nullable.n_branches)?;
            if nullable.null_index == Some(branch) {
                if nullable.null_is_error {
                    return Err(null_for_non_null_reader());
                }
                self.push_null();
                return Ok(());
            }
        }
        match self.buffers.plain() {
            Some(plain) => push_plain(&mut self.buffers, plain, cur)?,
            None => {
                // A copy goes out of line, so that `cur` can stay in registers here.
                let mut nested = *cur;
                let result = self.decode_nested(schema, &mut nested);
                *cur = nested;
                return result;
            },
        }
        self.push_valid();
        Ok(())
    }

    /// The kind of this column's values when they can be pushed straight in, and whether
    /// they come in a `[null, T]` union (whose nulls are errors for no reader).
    pub fn plain(&self) -> Option<(Plain, bool)> {
        let nullable = match self.nullable {
            None => false,
            Some(union) if !union.null_is_error => true,
            Some(_) => return None,
        };
        let plain = self.buffers.plain()?;
        Some((plain, nullable))
    }

    /// Decodes a value of a column whose kind is `plain` and whose union is `NULLABLE`
    /// ([`Column::plain`]). Called with constants, this is the union's index (if any), one
    /// check of the buffers and the push.
    #[inline(always)]
    pub fn push_plain<const NULLABLE: bool>(&mut self, plain: Plain, cur: &mut Cursor) -> AvroResult<()> {
        if NULLABLE {
            let union = self.nullable.expect("a nullable plain column has a union");
            if union.null_index == Some(read_union_branch(cur, union.n_branches)?) {
                self.push_null();
                return Ok(());
            }
        }
        push_plain(&mut self.buffers, plain, cur)?;
        match NULLABLE {
            true => self.push_valid(),
            false => self.len += 1,
        }
        Ok(())
    }

    /// Counts a value just pushed to the buffers.
    #[inline(always)]
    fn push_valid(&mut self) {
        if let Some(validity) = &mut self.validity {
            validity.push(true);
        }
        self.len += 1;
    }

    /// Every other kind of value: unions, containers and logical types.
    #[inline(never)]
    fn decode_nested(&mut self, schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
        if let Buffers::OneOf { read, .. } = &self.buffers {
            let branch = read_union_branch(cur, read.branches.len())?;
            return self.decode_one_of(schema, cur, branch);
        }
        if let Buffers::Union { branches, children } = &mut self.buffers {
            let (chosen, branch) = match branches {
                BranchMap::Always(child) => (*child, None),
                BranchMap::ByIndex(map) => {
                    let branch = read_union_branch(cur, map.len())?;
                    match map[branch] {
                        Branch::Child(child) => (child, Some(branch)),
                        Branch::Null => {
                            self.push_null();
                            return Ok(());
                        },
                        Branch::Unmatched => {
                            return Err(AvroError::decode(format!(
                                "the writer's union branch {branch} matches no branch of the reader's union"
                            )))
                        },
                    }
                },
            };
            for (i, child) in children.iter_mut().enumerate() {
                match (i == chosen, branch) {
                    // Several writer branches read as this reader branch: it reads by the index read here.
                    (true, Some(branch)) if matches!(child.buffers, Buffers::OneOf { .. }) => {
                        child.decode_one_of(schema, cur, branch)?
                    },
                    (true, _) => child.decode(schema, cur)?,
                    (false, _) => child.push_null(),
                }
            }
        } else {
            decode_value(&mut self.buffers, schema, cur)?;
        }
        self.push_valid();
        Ok(())
    }

    /// Decodes a value of writer's union branch `branch` (its index already read) into a
    /// [`Buffers::OneOf`] column.
    fn decode_one_of(&mut self, schema: &AvroSchema, cur: &mut Cursor, branch: usize) -> AvroResult<()> {
        let Buffers::OneOf { read, children, rows } = &mut self.buffers else {
            unreachable!("called for OneOf columns")
        };
        match read.branches[branch] {
            Branch::Child(child) => {
                children[child].decode(schema, cur)?;
                rows.push(child as u32);
                self.push_valid();
            },
            Branch::Null => self.push_null(),
            Branch::Unmatched => {
                return Err(AvroError::decode(format!(
                    "the writer's union branch {branch} holds a {}, which the reader's {} cannot take",
                    read.writer_types[branch], read.reader_type
                )))
            },
        }
        Ok(())
    }

    /// Makes room for `n` more values of this column (not of nested items, whose count
    /// the record count does not tell).
    pub fn reserve(&mut self, n: usize) {
        match &mut self.buffers {
            Buffers::Null | Buffers::Json { .. } | Buffers::ResolvedJson { .. } => {},
            Buffers::Boolean(b) => b.reserve(n),
            Buffers::Int(v) => v.reserve(n),
            Buffers::Long(v) | Buffers::TimeMillis(v) | Buffers::TimeMicros(v) => v.reserve(n),
            Buffers::Float(v) | Buffers::FloatFromLong(v) => v.reserve(n),
            Buffers::Double(v) | Buffers::DoubleFromLong(v) | Buffers::DoubleFromFloat(v) => v.reserve(n),
            Buffers::Bytes(b)
            | Buffers::Fixed(_, b)
            | Buffers::String(b)
            | Buffers::UuidFixed(b)
            | Buffers::DecimalText { values: b, .. }
            | Buffers::BigDecimal(b) => b.reserve(n),
            Buffers::Decimal { values, .. } => values.reserve(n),
            Buffers::Enum { values, .. } => values.reserve(n),
            Buffers::Duration { months, days, millis } => {
                months.reserve(n);
                days.reserve(n);
                millis.reserve(n);
            },
            Buffers::List { offsets, .. } | Buffers::Map { offsets, .. } => offsets.reserve(n),
            Buffers::Record { fields: children, .. } | Buffers::Union { children, .. } => {
                children.iter_mut().for_each(|c| c.reserve(n))
            },
            Buffers::OneOf { rows, .. } => rows.reserve(n),
        }
    }

    /// What this column's builders grew to, depth first: the values of each column nested
    /// in it (lists' items, maps' entries) and the bytes of text its strings, binaries and
    /// map keys hold beyond their views. The next batch sizes its builders by them
    /// ([`Column::reserve_sizes`]), rather than growing them by doubling, which copies them.
    pub fn sizes(&self, out: &mut Vec<usize>) {
        match &self.buffers {
            Buffers::List { item, .. } => {
                out.push(item.len());
                item.sizes(out);
            },
            Buffers::Map { keys, values, .. } => {
                out.push(values.len());
                out.push(keys.buffered_bytes());
                values.sizes(out);
            },
            Buffers::Record { fields: children, .. }
            | Buffers::Union { children, .. }
            | Buffers::OneOf { children, .. } => children.iter().for_each(|c| c.sizes(out)),
            buffers => {
                if let Some(views) = buffers.views() {
                    out.push(views.buffered_bytes());
                }
            },
        }
    }

    /// Reserves what [`Column::sizes`] reported, times `scale`.
    pub fn reserve_sizes(&mut self, sizes: &mut impl Iterator<Item = usize>, scale: f64) {
        let mut next = || (sizes.next().unwrap_or(0) as f64 * scale) as usize;
        match &mut self.buffers {
            Buffers::List { item, .. } => {
                item.reserve(next());
                item.reserve_sizes(sizes, scale);
            },
            Buffers::Map { keys, values, .. } => {
                let n = next();
                keys.reserve(n);
                values.reserve(n);
                keys.reserve_bytes(next());
                values.reserve_sizes(sizes, scale);
            },
            Buffers::Record { fields: children, .. }
            | Buffers::Union { children, .. }
            | Buffers::OneOf { children, .. } => children.iter_mut().for_each(|c| c.reserve_sizes(sizes, scale)),
            buffers => {
                if let Some(views) = buffers.views_mut() {
                    views.reserve_bytes(next());
                }
            },
        }
    }

    /// Appends a null (a placeholder value marked invalid). Inlined into the record loop,
    /// where a nullable column's nulls are pushed: only a record's or union's children go
    /// out of line.
    #[inline(always)]
    pub fn push_null(&mut self) {
        match &mut self.buffers {
            Buffers::Null => {},
            Buffers::Boolean(b) => b.push(false),
            Buffers::Int(v) => v.push(0),
            Buffers::Long(v) | Buffers::TimeMillis(v) | Buffers::TimeMicros(v) => v.push(0),
            Buffers::Float(v) | Buffers::FloatFromLong(v) => v.push(0.0),
            Buffers::Double(v) | Buffers::DoubleFromLong(v) | Buffers::DoubleFromFloat(v) => v.push(0.0),
            view_buffers!(b) => b.push(b""),
            Buffers::Decimal { values, .. } => values.push(0),
            Buffers::Enum { values, .. } => values.push(0),
            Buffers::Duration { months, days, millis } => {
                months.push(0);
                days.push(0);
                millis.push(0);
            },
            Buffers::List { offsets, .. } | Buffers::Map { offsets, .. } => offsets.push(*offsets.last().unwrap()),
            Buffers::Record { fields: children, .. } | Buffers::Union { children, .. } => push_nulls(children),
            Buffers::OneOf { rows, .. } => rows.push(NULL_ROW),
        }
        if !matches!(self.buffers, Buffers::Null) {
            match &mut self.validity {
                Some(validity) => validity.push(false),
                None => self.validity = Some(first_null(self.len)),
            }
        }
        self.len += 1;
    }

    /// Builds the physical Arrow array of this column (Polars' in-memory layout for its dtype).
    pub fn finish(self) -> AvroResult<ArrayRef> {
        let validity: Option<Bitmap> = self.validity.map(BitmapBuilder::freeze);
        let dtype = &self.read.dtype;
        let arrow_dtype = || dtype.to_physical().to_arrow(CompatLevel::newest());
        let array: ArrayRef = match self.buffers {
            Buffers::Null => Box::new(NullArray::new(ArrowDataType::Null, self.len)),
            Buffers::Boolean(b) => Box::new(BooleanArray::new(ArrowDataType::Boolean, b.freeze(), validity)),
            Buffers::Int(v) => Box::new(PrimitiveArray::from_vec(v).with_validity(validity)),
            Buffers::Long(v) | Buffers::TimeMillis(v) | Buffers::TimeMicros(v) => {
                Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
            },
            Buffers::Float(v) | Buffers::FloatFromLong(v) => {
                Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
            },
            Buffers::Double(v) | Buffers::DoubleFromLong(v) | Buffers::DoubleFromFloat(v) => {
                Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
            },
            Buffers::Decimal { values, .. } => Box::new(PrimitiveArray::from_vec(values).with_validity(validity)),
            Buffers::Bytes(b) | Buffers::Fixed(_, b) => Box::new(b.finish(validity)),
            Buffers::String(b)
            | Buffers::UuidFixed(b)
            | Buffers::DecimalText { values: b, .. }
            | Buffers::BigDecimal(b)
            | Buffers::Json { values: b, .. }
            | Buffers::ResolvedJson { values: b, .. } => {
                // SAFETY: checked as UTF-8 on the way in, or written by this crate as text.
                Box::new(unsafe { b.finish(validity).to_utf8view_unchecked() })
            },
            Buffers::Enum { values, .. } => match dtype.cat_physical()? {
                CategoricalPhysical::U8 => {
                    let v: Vec<u8> = values.into_iter().map(|x| x as u8).collect();
                    Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
                },
                CategoricalPhysical::U16 => {
                    let v: Vec<u16> = values.into_iter().map(|x| x as u16).collect();
                    Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
                },
                CategoricalPhysical::U32 => Box::new(PrimitiveArray::from_vec(values).with_validity(validity)),
            },
            Buffers::Duration { months, days, millis } => {
                let children: Vec<ArrayRef> = [months, days, millis]
                    .into_iter()
                    .map(|v| Box::new(PrimitiveArray::from_vec(v)) as ArrayRef)
                    .collect();
                Box::new(StructArray::try_new(arrow_dtype(), self.len, children, validity)?)
            },
            Buffers::List { offsets, item } => {
                let values = item.finish()?;
                // SAFETY: each offset is the item column's length after a value, which only grows.
                let offsets = unsafe { Offsets::new_unchecked(offsets) };
                Box::new(ListArray::<i64>::try_new(arrow_dtype(), offsets.into(), values, validity)?)
            },
            Buffers::Map { offsets, keys, values } => {
                let ArrowDataType::LargeList(entry_field) = arrow_dtype() else {
                    unreachable!("a map column's dtype is a list of key/value structs")
                };
                let n_entries = keys.len();
                // SAFETY: map keys are checked as UTF-8 on the way in.
                let keys: ArrayRef = Box::new(unsafe { keys.finish(None).to_utf8view_unchecked() });
                let entries =
                    StructArray::try_new(entry_field.dtype.clone(), n_entries, vec![keys, values.finish()?], None)?;
                // SAFETY: as for lists, the entry column's length after each value.
                let offsets = unsafe { Offsets::new_unchecked(offsets) };
                Box::new(ListArray::<i64>::try_new(arrow_dtype(), offsets.into(), Box::new(entries), validity)?)
            },
            Buffers::Record { fields: children, .. } | Buffers::Union { children, .. } => {
                let children = children.into_iter().map(Column::finish).collect::<AvroResult<Vec<_>>>()?;
                Box::new(StructArray::try_new(arrow_dtype(), self.len, children, validity)?)
            },
            // The nulls are in the rows, where the builder puts them.
            Buffers::OneOf { children, rows, .. } => merge_rows(arrow_dtype(), children, &rows)?,
        };
        Ok(array)
    }
}

/// The values of a [`Buffers::OneOf`] column in row order: runs of rows of one child are
/// copied from it (buffers shared where the builder can), runs of nulls are nulls.
fn merge_rows(dtype: ArrowDataType, children: Vec<Column>, rows: &[u32]) -> AvroResult<ArrayRef> {
    let arrays = children.into_iter().map(Column::finish).collect::<AvroResult<Vec<_>>>()?;
    let mut taken = vec![0usize; arrays.len()];
    let mut builder = make_builder(&dtype);
    builder.reserve(rows.len());
    for run in rows.chunk_by(|a, b| a == b) {
        match run[0] {
            NULL_ROW => builder.extend_nulls(run.len()),
            child => {
                let child = child as usize;
                builder.subslice_extend(&*arrays[child], taken[child], run.len(), ShareStrategy::Always);
                taken[child] += run.len();
            },
        }
    }
    Ok(builder.freeze_reset())
}

/// Reads a record's fields by its steps, then fills the fields the writer lacks from
/// their defaults. Nested records, and records stepped over (`skip_records`); the
/// top-level record loop compiles the same steps (`rows.rs`).
#[inline(always)]
pub fn decode_record(
    read: &RecordRead,
    fields: &mut [Column],
    schema: &AvroSchema,
    cur: &mut Cursor,
) -> AvroResult<()> {
    for step in &read.steps {
        match *step {
            FieldStep::Read(out) => fields[out].decode(schema, cur)?,
            FieldStep::Skip(op) => op.skip(schema, cur)?,
        }
    }
    fill_defaults(&read.defaults, fields, schema)
}

/// Fills the fields a writer's record lacks from their defaults (encoded values). Most
/// records have none: then this is one check in the record loop, not a call, which would
/// make the loop keep its cursor in memory.
#[inline(always)]
pub fn fill_defaults(defaults: &[(usize, Vec<u8>)], fields: &mut [Column], schema: &AvroSchema) -> AvroResult<()> {
    match defaults.is_empty() {
        true => Ok(()),
        false => decode_defaults(defaults, fields, schema),
    }
}

#[inline(never)]
fn decode_defaults(defaults: &[(usize, Vec<u8>)], fields: &mut [Column], schema: &AvroSchema) -> AvroResult<()> {
    for (out, default) in defaults {
        fields[*out].decode(schema, &mut Cursor::new(default))?;
    }
    Ok(())
}

/// The buffers `Column::decode` leaves to `decode_nested`.
fn decode_value(buffers: &mut Buffers, schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
    match buffers {
        Buffers::Null => {},
        Buffers::Fixed(size, b) => b.push(cur.read_fixed(*size)?),
        Buffers::UuidFixed(b) => {
            let mut text = String::with_capacity(36);
            write_uuid_text(&mut text, cur.read_fixed(16)?);
            b.push(text.as_bytes());
        },
        Buffers::DecimalText { fixed, precision, scale, values } => {
            let start = cur.position();
            let raw = decimal_bytes(cur, *fixed)?;
            let text = decimal_text(raw, *scale);
            if significant_digits(&text) > *precision {
                return Err(decimal_too_wide(raw, *precision, *scale, start));
            }
            values.push(text.as_bytes());
        },
        Buffers::BigDecimal(values) => values.push(read_big_decimal_text(cur)?.as_bytes()),
        Buffers::Enum { n_symbols, to_reader, values } => {
            let start = cur.position();
            let index = cur.read_long()?;
            if index < 0 || index as u64 >= *n_symbols as u64 {
                return Err(AvroError::decode(format!(
                    "expected an enum index between 0 and {} at byte {start} of the block data, found {index}",
                    n_symbols.saturating_sub(1)
                )));
            }
            match to_reader {
                None => values.push(index as u32),
                Some(map) => values.push(map[index as usize].ok_or_else(|| {
                    AvroError::decode(format!(
                        "the writer's enum symbol {index} (at byte {start} of the block data) is not a symbol \
                        of the reader's enum, which has no default"
                    ))
                })?),
            }
        },
        Buffers::FloatFromLong(v) => v.push(cur.read_long()? as f32),
        Buffers::DoubleFromLong(v) => v.push(cur.read_long()? as f64),
        Buffers::DoubleFromFloat(v) => v.push(f64::from(cur.read_f32()?)),
        Buffers::Duration { months, days, millis } => {
            let raw = cur.read_fixed(12)?;
            months.push(u32::from_le_bytes(raw[0..4].try_into().unwrap()));
            days.push(u32::from_le_bytes(raw[4..8].try_into().unwrap()));
            millis.push(u32::from_le_bytes(raw[8..12].try_into().unwrap()));
        },
        Buffers::List { offsets, item } => {
            cur.for_each_item("array", |cur| item.decode(schema, cur))?;
            offsets.push(item.len() as i64);
        },
        Buffers::Map { offsets, keys, values } => {
            cur.for_each_item("map", |cur| {
                let (key, tail) = cur.read_str_and_tail("a map key")?;
                keys.push_from(key, tail);
                values.decode(schema, cur)
            })?;
            offsets.push(values.len() as i64);
        },
        Buffers::Record { in_order: true, fields, .. } => {
            for field in fields {
                field.decode(schema, cur)?;
            }
        },
        Buffers::Record { read, fields, .. } => decode_record(read, fields, schema, cur)?,
        Buffers::Json { node, values, scratch } => {
            scratch.clear();
            write_json(schema, *node, cur, scratch, 0, JsonMode::Plain)?;
            values.push(scratch.as_bytes());
        },
        Buffers::ResolvedJson { resolution, values, scratch } => {
            scratch.clear();
            resolution.write(schema, cur, scratch)?;
            values.push(scratch.as_bytes());
        },
        Buffers::Boolean(_)
        | Buffers::Int(_)
        | Buffers::Long(_)
        | Buffers::Float(_)
        | Buffers::Double(_)
        | Buffers::String(_)
        | Buffers::Bytes(_)
        | Buffers::TimeMillis(_)
        | Buffers::TimeMicros(_)
        | Buffers::Decimal { .. }
        | Buffers::Union { .. }
        | Buffers::OneOf { .. } => unreachable!("decoded by Column::decode and Column::decode_nested"),
    }
    Ok(())
}

/// A decimal's unscaled bytes: a fixed of `fixed` bytes, else a bytes value.
#[inline(always)]
fn decimal_bytes<'a>(cur: &mut Cursor<'a>, fixed: Option<usize>) -> AvroResult<&'a [u8]> {
    match fixed {
        Some(n) => cur.read_fixed(n),
        None => cur.read_bytes("a decimal"),
    }
}

/// Nanoseconds in a day: a Polars Time lies in [0, this).
const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// A time of day in `unit`s (time-millis, time-micros) as Polars' nanoseconds. A value
/// outside [0, 24 h) is no time of day: an error, never a null.
#[inline(always)]
fn time_of_day(value: i64, nanos_per_unit: i64, what: &str, start: usize) -> AvroResult<i64> {
    match value.checked_mul(nanos_per_unit) {
        Some(nanos) if (0..NANOS_PER_DAY).contains(&nanos) => Ok(nanos),
        _ => Err(not_a_time_of_day(value, nanos_per_unit, what, start)),
    }
}

#[cold]
fn not_a_time_of_day(value: i64, nanos_per_unit: i64, what: &str, start: usize) -> AvroError {
    AvroError::decode(format!(
        "expected a {what} value between 0 and {} (a time of day) at byte {start} of the block data, found {value}",
        NANOS_PER_DAY / nanos_per_unit - 1
    ))
}

/// The digits of a decimal's unscaled value, from its text.
fn significant_digits(text: &str) -> usize {
    text.bytes().filter(u8::is_ascii_digit).skip_while(|d| *d == b'0').count()
}

#[cold]
fn decimal_too_wide(raw: &[u8], precision: usize, scale: usize, start: usize) -> AvroError {
    let text = decimal_text(raw, scale);
    AvroError::decode(format!(
        "expected a decimal({precision}, {scale}) value of at most {precision} digits at byte {start} of the block \
        data, found {text} ({} digits)",
        significant_digits(&text)
    ))
}

#[cold]
fn at_byte(mut e: AvroError, start: usize) -> AvroError {
    e.message = format!("{} at byte {start} of the block data", e.message);
    e
}

#[cold]
fn null_for_non_null_reader() -> AvroError {
    AvroError::decode("the writer's value is null, but the reader's schema has no null for it")
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{DataType, PlSmallStr, Series};
    use serde_json::{json, Value};

    use super::*;
    use crate::decode::RowPlan;
    use crate::schema::parse_schema;
    use crate::varint::{put_bytes, put_long};

    fn record(fields: Value) -> AvroSchema {
        parse_schema(&json!({"type": "record", "name": "R", "fields": fields}).to_string()).unwrap()
    }

    /// `rows` records encoded in `data`, written with the fields `writer` and read as the
    /// fields `reader`: the first output column, or the first error.
    fn read_records(writer: Value, reader: Value, data: &[u8], rows: usize) -> AvroResult<Series> {
        let (writer, reader) = (record(writer), record(reader));
        let plan = RowPlan::new(&writer, Some(&reader), None)?;
        let mut columns: Vec<Column> = plan.record.fields.iter().map(Column::new).collect();
        let mut cur = Cursor::new(data);
        for _ in 0..rows {
            decode_record(&plan.record, &mut columns, &writer, &mut cur)?;
        }
        assert!(cur.is_empty(), "every byte is read");
        let array = columns.swap_remove(0).finish()?;
        let dtype = &plan.record.fields[0].dtype;
        // SAFETY: the builder makes the physical array of the plan's dtype.
        Ok(unsafe { Series::from_chunks_and_dtype_unchecked(PlSmallStr::from_static("f"), vec![array], dtype) })
    }

    /// Field `f` written as `writer` and read as `reader`.
    fn read(writer: Value, reader: Value, data: &[u8], rows: usize) -> AvroResult<Series> {
        read_records(json!([{"name": "f", "type": writer}]), json!([{"name": "f", "type": reader}]), data, rows)
    }

    /// Avro bytes of the values, each a union branch index, a long, a float or a string.
    enum V<'a> {
        Long(i64),
        Float(f32),
        Str(&'a str),
    }

    fn encode(values: &[V]) -> Vec<u8> {
        let mut out = Vec::new();
        for value in values {
            match value {
                V::Long(v) => put_long(&mut out, *v),
                V::Float(v) => out.extend_from_slice(&v.to_le_bytes()),
                V::Str(v) => put_bytes(&mut out, v.as_bytes()),
            }
        }
        out
    }

    fn error(result: AvroResult<Series>) -> String {
        result.expect_err("a decoding error").to_string()
    }

    #[test]
    fn a_union_of_several_types_fills_the_field_of_each_values_branch() {
        let union = json!(["null", "int", "string"]);
        let data = encode(&[V::Long(0), V::Long(1), V::Long(5), V::Long(2), V::Str("x")]);
        let column = read(union.clone(), union, &data, 3).unwrap();
        let fields = column.struct_().unwrap().fields_as_series();
        assert_eq!(fields[0].i32().unwrap().iter().collect::<Vec<_>>(), [None, Some(5), None]);
        assert_eq!(fields[1].str().unwrap().iter().collect::<Vec<_>>(), [None, None, Some("x")]);
        // A null is a null row of the struct, not a row of null fields only.
        assert_eq!(column.null_count(), 1);
        assert!(column.get(0).unwrap().is_null());
    }

    #[test]
    fn writer_branches_read_as_one_type_merge_in_row_order() {
        let data = encode(&[V::Long(0), V::Long(3), V::Long(1), V::Float(1.5), V::Long(2), V::Long(0), V::Long(-4)]);
        let column = read(json!(["int", "float", "null"]), json!(["null", "double"]), &data, 4).unwrap();
        assert_eq!(column.dtype(), &DataType::Float64);
        assert_eq!(column.f64().unwrap().iter().collect::<Vec<_>>(), [Some(3.0), Some(1.5), None, Some(-4.0)]);
    }

    #[test]
    fn a_value_in_a_branch_the_reader_cannot_take_is_an_error_naming_both_types() {
        let data = encode(&[V::Long(1), V::Long(1)]);
        let message = error(read(json!(["int", "boolean"]), json!("long"), &data, 1));
        assert!(message.contains("the writer's union branch 1 holds a boolean, which the reader's long cannot take"));
        let data = encode(&[V::Long(2), V::Long(1)]);
        let message = error(read(json!(["int", "string", "boolean"]), json!(["long", "string"]), &data, 1));
        assert!(message.contains("the writer's union branch 2 matches no branch of the reader's union"), "{message}");
    }

    #[test]
    fn a_null_the_readers_type_cannot_hold_is_an_error() {
        let data = encode(&[V::Long(1), V::Long(7), V::Long(0)]);
        let message = error(read(json!(["null", "int"]), json!("int"), &data, 2));
        assert!(
            message.contains("the writer's value is null, but the reader's schema has no null for it"),
            "{message}"
        );
        // The same values with a reader that holds null.
        let column = read(json!(["null", "int"]), json!(["int", "null"]), &data, 2).unwrap();
        assert_eq!(column.i32().unwrap().iter().collect::<Vec<_>>(), [Some(7), None]);
    }

    #[test]
    fn a_branch_index_outside_the_union_is_an_error_naming_the_byte() {
        let union = json!(["null", "int"]);
        let message = error(read(union.clone(), union.clone(), &encode(&[V::Long(1), V::Long(1), V::Long(2)]), 2));
        assert!(message.contains("expected a union branch index between 0 and 1 at byte 2 of the block data, found 2"));
        let message = error(read(union.clone(), union, &encode(&[V::Long(-1)]), 1));
        assert!(message.contains("found -1"), "{message}");
    }

    #[test]
    fn enum_values_take_the_readers_symbols_or_fail_without_a_default() {
        let writer = json!({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]});
        let reader = json!({"type": "enum", "name": "E", "symbols": ["C", "A"]});
        let column = read(writer.clone(), reader.clone(), &encode(&[V::Long(2), V::Long(0)]), 2).unwrap();
        let values: Vec<_> =
            column.cast(&DataType::String).unwrap().str().unwrap().iter().map(|v| v.unwrap().to_string()).collect();
        assert_eq!(values, ["C", "A"]);
        let message = error(read(writer.clone(), reader, &encode(&[V::Long(1)]), 1));
        assert!(
            message.contains("the writer's enum symbol 1 (at byte 0 of the block data) is not a symbol"),
            "{message}"
        );
        let message = error(read(writer.clone(), writer, &encode(&[V::Long(3)]), 1));
        assert!(message.contains("expected an enum index between 0 and 2 at byte 0 of the block data, found 3"));
    }

    #[test]
    fn fields_the_writer_lacks_are_filled_from_their_defaults_on_every_row() {
        let writer = json!([{"name": "a", "type": "int"}]);
        let reader = json!([{"name": "f", "type": ["null", "string"], "default": null},
            {"name": "g", "type": "string", "default": "dflt"}, {"name": "a", "type": "int"}]);
        let data = encode(&[V::Long(1), V::Long(2)]);
        let column = read_records(writer.clone(), reader.clone(), &data, 2).unwrap();
        assert_eq!(column.str().unwrap().iter().collect::<Vec<_>>(), [None, None]);
        let reader = json!([{"name": "g", "type": "string", "default": "dflt"}, {"name": "a", "type": "int"}]);
        let column = read_records(writer, reader, &data, 2).unwrap();
        assert_eq!(column.str().unwrap().iter().collect::<Vec<_>>(), [Some("dflt"), Some("dflt")]);
    }

    #[test]
    fn promoted_values_keep_their_value() {
        let data = encode(&[V::Long(i64::from(i32::MAX)), V::Long(-3)]);
        let column = read(json!("int"), json!("long"), &data, 2).unwrap();
        assert_eq!(column.i64().unwrap().iter().collect::<Vec<_>>(), [Some(i64::from(i32::MAX)), Some(-3)]);
        let column = read(json!("long"), json!("float"), &data, 2).unwrap();
        assert_eq!(column.f32().unwrap().iter().collect::<Vec<_>>(), [Some(i32::MAX as f32), Some(-3.0)]);
        let column = read(json!("float"), json!("double"), &encode(&[V::Float(0.1)]), 1).unwrap();
        assert_eq!(column.f64().unwrap().get(0), Some(f64::from(0.1f32)));
        let column = read(json!("bytes"), json!("string"), &encode(&[V::Str("é")]), 1).unwrap();
        assert_eq!(column.str().unwrap().get(0), Some("é"));
    }
}
