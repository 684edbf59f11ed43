//! Column builders: each decodes one Avro value at a time straight into the buffers of
//! a Polars column (physical Arrow arrays), and knows the column's Polars dtype.

use std::fmt::Write;

use polars::prelude::{CategoricalPhysical, CompatLevel, DataType};
use polars_arrow::array::{Array, BooleanArray, ListArray, NullArray, PrimitiveArray, StructArray};
use polars_arrow::bitmap::{Bitmap, BitmapBuilder};
use polars_arrow::datatypes::ArrowDataType;
use polars_arrow::offset::Offsets;

use super::cursor::Cursor;
use super::json::write_json;
use super::plan::TopSlot;
use super::skip::read_union_branch;
use super::views::ViewBuilder;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, NodeId};

pub type ArrayRef = Box<dyn Array>;

/// How a column reads the union that wraps its values, if any: `["null", T]`, `[T]`, ...
#[derive(Debug, Clone, Copy)]
pub struct UnionPrefix {
    pub n_branches: usize,
    pub null_index: Option<usize>,
    /// Reading with a reader schema whose type has no null: a null is an error (as the
    /// specification says of a writer branch the reader cannot take).
    pub null_is_error: bool,
}

/// A record read with a reader schema: the writer's fields in the writer's order, each
/// decoded into a reader field or skipped; then the reader's fields the writer lacks,
/// filled from their defaults (pre-encoded as Avro, decoded like any value).
#[derive(Clone)]
pub struct ResolvedRecord {
    pub children: Vec<Column>,
    pub steps: Vec<TopSlot>,
    pub defaults: Vec<(usize, Vec<u8>)>,
}

/// In a union's `branch_to_child`: a writer branch the reader's union cannot take.
pub const UNMATCHED_BRANCH: usize = usize::MAX;


#[derive(Clone)]
pub enum Kind {
    Null,
    Boolean(BitmapBuilder),
    Int(Vec<i32>),
    Long(Vec<i64>),
    /// Avro time-millis (int) to Polars Time (nanoseconds).
    TimeMillis(Vec<i64>),
    /// Avro time-micros (long) to Polars Time (nanoseconds).
    TimeMicros(Vec<i64>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    /// Promotions of a reader schema: writer int or long read as float or double, writer
    /// float read as double.
    FloatFromLong(Vec<f32>),
    DoubleFromLong(Vec<f64>),
    DoubleFromFloat(Vec<f64>),
    Bytes(ViewBuilder),
    Fixed(usize, ViewBuilder),
    /// UTF-8 is checked as values arrive.
    String(ViewBuilder),
    /// uuid on fixed(16), rendered in the canonical 8-4-4-4-12 form.
    UuidFixed(ViewBuilder),
    /// decimal on bytes (`fixed` None) or fixed, into Polars Decimal (i128).
    Decimal { fixed: Option<usize>, values: Vec<i128> },
    /// decimal wider than Polars' 38 digits, as exact text.
    DecimalText { fixed: Option<usize>, scale: usize, values: ViewBuilder },
    /// big-decimal: bytes holding the unscaled value then the scale, as exact text.
    BigDecimal(ViewBuilder),
    /// `n_symbols` of the writer's enum; `to_reader` maps them to the reader's symbols when
    /// a reader schema differs (None: not a reader symbol and no default, an error).
    Enum { n_symbols: usize, values: Vec<u32>, to_reader: Option<Vec<Option<u32>>> },
    Duration { months: Vec<u32>, days: Vec<u32>, millis: Vec<u32> },
    List { offsets: Vec<i64>, item: Box<Column> },
    Map { offsets: Vec<i64>, keys: ViewBuilder, values: Box<Column> },
    Record(Vec<Column>),
    ResolvedRecord(Box<ResolvedRecord>),
    /// A union of two or more non-null branches: one child per branch; `branch_to_child`
    /// maps the Avro branch index to the child (None for the null branch).
    /// `unwrapped`: the writer's type is not a union (a reader schema made it one): no
    /// branch index is read, and every value goes to that child.
    Union { branch_to_child: Vec<Option<usize>>, children: Vec<Column>, unwrapped: Option<usize> },
    /// A value of a recursive type, rendered as JSON text.
    Json { node: NodeId, values: ViewBuilder, scratch: String },
}

#[derive(Clone)]
pub struct Column {
    pub dtype: DataType,
    pub union_prefix: Option<UnionPrefix>,
    /// Created at the first null: columns without nulls carry no bitmap.
    validity: Option<BitmapBuilder>,
    len: usize,
    pub kind: Kind,
}

impl Column {
    pub fn new(dtype: DataType, kind: Kind) -> Self {
        Self { dtype, union_prefix: None, validity: None, len: 0, kind }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Decodes one value, including the union index that wraps it, if any. Inlined into
    /// the record loop: plain values take no call; nested ones go through `decode_nested`.
    #[inline(always)]
    pub fn decode(&mut self, schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
        if let Some(prefix) = self.union_prefix {
            let branch = read_union_branch(cur, prefix.n_branches)?;
            if prefix.null_index == Some(branch) {
                if prefix.null_is_error {
                    return Err(null_for_non_null_reader());
                }
                self.push_null();
                return Ok(());
            }
        }
        match &mut self.kind {
            Kind::Boolean(b) => b.push(cur.read_bool()?),
            Kind::Int(v) => v.push(cur.read_int()?),
            Kind::Long(v) => v.push(cur.read_long()?),
            Kind::Float(v) => v.push(cur.read_f32()?),
            Kind::Double(v) => v.push(cur.read_f64()?),
            Kind::String(b) => {
                let (value, tail) = cur.read_str_and_tail("a string")?;
                b.push_from(value, tail);
            },
            Kind::Bytes(b) => {
                let (value, tail) = cur.read_bytes_and_tail("a bytes value")?;
                b.push_from(value, tail);
            },
            _ => {
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

    /// Counts a value just pushed to the kind's buffers.
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
        if let Kind::Union { branch_to_child, children, unwrapped } = &mut self.kind {
            let chosen = match *unwrapped {
                Some(child) => child,
                None => {
                    let branch = read_union_branch(cur, branch_to_child.len())?;
                    let Some(chosen) = branch_to_child[branch] else {
                        self.push_null();
                        return Ok(());
                    };
                    if chosen == UNMATCHED_BRANCH {
                        return Err(AvroError::decode(format!(
                            "the writer's union branch {branch} matches no branch of the reader's union"
                        )));
                    }
                    chosen
                },
            };
            for (i, child) in children.iter_mut().enumerate() {
                if i == chosen {
                    child.decode(schema, cur)?;
                } else {
                    child.push_null();
                }
            }
        } else {
            decode_value(&mut self.kind, schema, cur)?;
        }
        self.push_valid();
        Ok(())
    }

    /// Makes room for `n` more values of this column (not of nested items, whose count
    /// the record count does not tell).
    pub fn reserve(&mut self, n: usize) {
        match &mut self.kind {
            Kind::Null | Kind::Json { .. } => {},
            Kind::Boolean(b) => b.reserve(n),
            Kind::Int(v) => v.reserve(n),
            Kind::Long(v) | Kind::TimeMillis(v) | Kind::TimeMicros(v) => v.reserve(n),
            Kind::Float(v) | Kind::FloatFromLong(v) => v.reserve(n),
            Kind::Double(v) | Kind::DoubleFromLong(v) | Kind::DoubleFromFloat(v) => v.reserve(n),
            Kind::Bytes(b)
            | Kind::Fixed(_, b)
            | Kind::String(b)
            | Kind::UuidFixed(b)
            | Kind::DecimalText { values: b, .. }
            | Kind::BigDecimal(b) => b.reserve(n),
            Kind::Decimal { values, .. } => values.reserve(n),
            Kind::Enum { values, .. } => values.reserve(n),
            Kind::Duration { months, days, millis } => {
                months.reserve(n);
                days.reserve(n);
                millis.reserve(n);
            },
            Kind::List { offsets, .. } | Kind::Map { offsets, .. } => offsets.reserve(n),
            Kind::Record(children) | Kind::Union { children, .. } => children.iter_mut().for_each(|c| c.reserve(n)),
            Kind::ResolvedRecord(r) => r.children.iter_mut().for_each(|c| c.reserve(n)),
        }
    }

    /// How many values each column nested in this one holds (lists' items and maps'
    /// entries, depth first): the next batch sizes its builders by them.
    pub fn nested_lens(&self, out: &mut Vec<usize>) {
        match &self.kind {
            Kind::List { item: inner, .. } | Kind::Map { values: inner, .. } => {
                out.push(inner.len());
                inner.nested_lens(out);
            },
            Kind::Record(children) | Kind::Union { children, .. } => children.iter().for_each(|c| c.nested_lens(out)),
            Kind::ResolvedRecord(r) => r.children.iter().for_each(|c| c.nested_lens(out)),
            _ => {},
        }
    }

    /// Reserves for nested columns what `nested_lens` reported, times `scale`.
    pub fn reserve_nested(&mut self, lens: &mut impl Iterator<Item = usize>, scale: f64) {
        let mut next = || (lens.next().unwrap_or(0) as f64 * scale) as usize;
        match &mut self.kind {
            Kind::List { item, .. } => {
                item.reserve(next());
                item.reserve_nested(lens, scale);
            },
            Kind::Map { keys, values, .. } => {
                let n = next();
                keys.reserve(n);
                values.reserve(n);
                values.reserve_nested(lens, scale);
            },
            Kind::Record(children) | Kind::Union { children, .. } => {
                children.iter_mut().for_each(|c| c.reserve_nested(lens, scale))
            },
            Kind::ResolvedRecord(r) => r.children.iter_mut().for_each(|c| c.reserve_nested(lens, scale)),
            _ => {},
        }
    }

    /// Appends a null (a placeholder value marked invalid).
    pub fn push_null(&mut self) {
        match &mut self.kind {
            Kind::Null => {},
            Kind::Boolean(b) => b.push(false),
            Kind::Int(v) => v.push(0),
            Kind::Long(v) | Kind::TimeMillis(v) | Kind::TimeMicros(v) => v.push(0),
            Kind::Float(v) | Kind::FloatFromLong(v) => v.push(0.0),
            Kind::Double(v) | Kind::DoubleFromLong(v) | Kind::DoubleFromFloat(v) => v.push(0.0),
            Kind::Bytes(b)
            | Kind::Fixed(_, b)
            | Kind::String(b)
            | Kind::UuidFixed(b)
            | Kind::DecimalText { values: b, .. }
            | Kind::BigDecimal(b)
            | Kind::Json { values: b, .. } => b.push(b""),
            Kind::Decimal { values, .. } => values.push(0),
            Kind::Enum { values, .. } => values.push(0),
            Kind::Duration { months, days, millis } => {
                months.push(0);
                days.push(0);
                millis.push(0);
            },
            Kind::List { offsets, .. } | Kind::Map { offsets, .. } => offsets.push(*offsets.last().unwrap()),
            Kind::Record(children) | Kind::Union { children, .. } => children.iter_mut().for_each(Column::push_null),
            Kind::ResolvedRecord(r) => r.children.iter_mut().for_each(Column::push_null),
        }
        if !matches!(self.kind, Kind::Null) {
            self.validity
                .get_or_insert_with(|| {
                    let mut validity = BitmapBuilder::with_capacity(self.len + 1);
                    validity.extend_constant(self.len, true);
                    validity
                })
                .push(false);
        }
        self.len += 1;
    }

    /// Builds the physical Arrow array of this column (Polars' in-memory layout for its dtype).
    pub fn finish(self) -> AvroResult<ArrayRef> {
        let validity: Option<Bitmap> = self.validity.map(BitmapBuilder::freeze);
        let arrow_dtype = || self.dtype.to_physical().to_arrow(CompatLevel::newest());
        let array: ArrayRef = match self.kind {
            Kind::Null => Box::new(NullArray::new(ArrowDataType::Null, self.len)),
            Kind::Boolean(b) => Box::new(BooleanArray::new(ArrowDataType::Boolean, b.freeze(), validity)),
            Kind::Int(v) => Box::new(PrimitiveArray::from_vec(v).with_validity(validity)),
            Kind::Long(v) | Kind::TimeMillis(v) | Kind::TimeMicros(v) => {
                Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
            },
            Kind::Float(v) | Kind::FloatFromLong(v) => Box::new(PrimitiveArray::from_vec(v).with_validity(validity)),
            Kind::Double(v) | Kind::DoubleFromLong(v) | Kind::DoubleFromFloat(v) => {
                Box::new(PrimitiveArray::from_vec(v).with_validity(validity))
            },
            Kind::Decimal { values, .. } => Box::new(PrimitiveArray::from_vec(values).with_validity(validity)),
            Kind::Bytes(b) | Kind::Fixed(_, b) => Box::new(b.finish(validity)),
            Kind::String(b)
            | Kind::UuidFixed(b)
            | Kind::DecimalText { values: b, .. }
            | Kind::BigDecimal(b)
            | Kind::Json { values: b, .. } => {
                // SAFETY: checked as UTF-8 on the way in, or written by this crate as text.
                Box::new(unsafe { b.finish(validity).to_utf8view_unchecked() })
            },
            Kind::Enum { values, .. } => match self.dtype.cat_physical()? {
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
            Kind::Duration { months, days, millis } => {
                let children: Vec<ArrayRef> = [months, days, millis]
                    .into_iter()
                    .map(|v| Box::new(PrimitiveArray::from_vec(v)) as ArrayRef)
                    .collect();
                Box::new(StructArray::try_new(arrow_dtype(), self.len, children, validity)?)
            },
            Kind::List { offsets, item } => {
                let values = item.finish()?;
                // SAFETY: each offset is the item column's length after a value, which only grows.
                let offsets = unsafe { Offsets::new_unchecked(offsets) };
                Box::new(ListArray::<i64>::try_new(arrow_dtype(), offsets.into(), values, validity)?)
            },
            Kind::Map { offsets, keys, values } => {
                let ArrowDataType::LargeList(entry_field) = arrow_dtype() else {
                    unreachable!("a map column's dtype is a list of key/value structs")
                };
                let n_entries = keys.len();
                // SAFETY: map keys are checked as UTF-8 on the way in.
                let keys: ArrayRef = Box::new(unsafe { keys.finish(None).to_utf8view_unchecked() });
                let entries = StructArray::try_new(entry_field.dtype.clone(), n_entries, vec![keys, values.finish()?], None)?;
                // SAFETY: as for lists, the entry column's length after each value.
                let offsets = unsafe { Offsets::new_unchecked(offsets) };
                Box::new(ListArray::<i64>::try_new(arrow_dtype(), offsets.into(), Box::new(entries), validity)?)
            },
            Kind::Record(children) | Kind::Union { children, .. } => {
                let children = children.into_iter().map(Column::finish).collect::<AvroResult<Vec<_>>>()?;
                Box::new(StructArray::try_new(arrow_dtype(), self.len, children, validity)?)
            },
            Kind::ResolvedRecord(r) => {
                let children = r.children.into_iter().map(Column::finish).collect::<AvroResult<Vec<_>>>()?;
                Box::new(StructArray::try_new(arrow_dtype(), self.len, children, validity)?)
            },
        };
        Ok(array)
    }
}

/// The kinds `Column::decode` leaves to `decode_nested`.
fn decode_value(kind: &mut Kind, schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
    match kind {
        Kind::Null => {},
        Kind::TimeMillis(v) => v.push(i64::from(cur.read_int()?) * 1_000_000),
        Kind::TimeMicros(v) => {
            let micros = cur.read_long()?;
            v.push(micros.checked_mul(1_000).ok_or_else(|| {
                AvroError::decode(format!("the time-micros value {micros} is out of range for a Polars Time"))
            })?)
        },
        Kind::Fixed(size, b) => b.push(cur.read_fixed(*size)?),
        Kind::UuidFixed(b) => {
            let raw = cur.read_fixed(16)?;
            let mut text = String::with_capacity(36);
            for (i, byte) in raw.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    text.push('-');
                }
                write!(text, "{byte:02x}").unwrap();
            }
            b.push(text.as_bytes());
        },
        Kind::Decimal { fixed, values } => {
            let raw = match fixed {
                Some(n) => cur.read_fixed(*n)?,
                None => cur.read_bytes("a decimal")?,
            };
            values.push(twos_complement_i128(raw)?);
        },
        Kind::DecimalText { fixed, scale, values } => {
            let raw = match fixed {
                Some(n) => cur.read_fixed(*n)?,
                None => cur.read_bytes("a decimal")?,
            };
            values.push(decimal_text(raw, *scale).as_bytes());
        },
        Kind::BigDecimal(values) => {
            let payload = cur.read_bytes("a big-decimal")?;
            let mut inner = Cursor::new(payload);
            let unscaled = inner.read_bytes("a big-decimal's unscaled value")?;
            let scale = inner.read_int()?;
            if scale < 0 || !inner.is_empty() {
                return Err(AvroError::decode(format!(
                    "expected a big-decimal as the unscaled value then a non-negative scale, found scale {scale} and {} extra bytes",
                    inner.remaining()
                )));
            }
            values.push(decimal_text(unscaled, scale as usize).as_bytes());
        },
        Kind::Enum { n_symbols, values, to_reader } => {
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
                        "the writer's enum symbol {index} (at byte {start} of the block data) is not a symbol of the reader's enum, which has no default"
                    ))
                })?),
            }
        },
        Kind::FloatFromLong(v) => v.push(cur.read_long()? as f32),
        Kind::DoubleFromLong(v) => v.push(cur.read_long()? as f64),
        Kind::DoubleFromFloat(v) => v.push(f64::from(cur.read_f32()?)),
        Kind::Duration { months, days, millis } => {
            let raw = cur.read_fixed(12)?;
            months.push(u32::from_le_bytes(raw[0..4].try_into().unwrap()));
            days.push(u32::from_le_bytes(raw[4..8].try_into().unwrap()));
            millis.push(u32::from_le_bytes(raw[8..12].try_into().unwrap()));
        },
        Kind::List { offsets, item } => {
            cur.for_each_item("array", |cur| item.decode(schema, cur))?;
            offsets.push(item.len() as i64);
        },
        Kind::Map { offsets, keys, values } => {
            cur.for_each_item("map", |cur| {
                let (key, tail) = cur.read_str_and_tail("a map key")?;
                keys.push_from(key, tail);
                values.decode(schema, cur)
            })?;
            offsets.push(values.len() as i64);
        },
        Kind::Record(children) => {
            for c in children {
                c.decode(schema, cur)?;
            }
        },
        Kind::ResolvedRecord(r) => {
            for step in &r.steps {
                match *step {
                    TopSlot::Decode(k) => r.children[k].decode(schema, cur)?,
                    TopSlot::Skip(op) => op.skip(schema, cur)?,
                }
            }
            for (k, default) in &r.defaults {
                r.children[*k].decode(schema, &mut Cursor::new(default))?;
            }
        },
        Kind::Boolean(_)
        | Kind::Int(_)
        | Kind::Long(_)
        | Kind::Float(_)
        | Kind::Double(_)
        | Kind::String(_)
        | Kind::Bytes(_)
        | Kind::Union { .. } => unreachable!("decoded by Column::decode and Column::decode_nested"),
        Kind::Json { node, values, scratch } => {
            scratch.clear();
            write_json(schema, *node, cur, scratch, 0)?;
            values.push(scratch.as_bytes());
        },
    }
    Ok(())
}

#[cold]
fn null_for_non_null_reader() -> AvroError {
    AvroError::decode("the writer's value is null, but the reader's schema has no null for it")
}

/// A big-endian two's-complement integer of any width that must fit in i128.
fn twos_complement_i128(raw: &[u8]) -> AvroResult<i128> {
    if raw.is_empty() {
        return Ok(0);
    }
    let negative = raw[0] & 0x80 != 0;
    let sign_byte = if negative { 0xff } else { 0x00 };
    let significant = if raw.len() > 16 {
        let (extra, rest) = raw.split_at(raw.len() - 16);
        if extra.iter().any(|b| *b != sign_byte) || (rest[0] & 0x80 != 0) != negative {
            return Err(AvroError::decode(format!(
                "a decimal's unscaled value of {} bytes does not fit in 38 digits",
                raw.len()
            )));
        }
        rest
    } else {
        raw
    };
    let mut buf = [sign_byte; 16];
    buf[16 - significant.len()..].copy_from_slice(significant);
    Ok(i128::from_be_bytes(buf))
}

/// The exact decimal text of a big-endian two's-complement unscaled value of any width.
pub fn decimal_text(raw: &[u8], scale: usize) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    // Magnitude as big-endian bytes.
    let mut magnitude: Vec<u8> = if negative {
        let mut m: Vec<u8> = raw.iter().map(|b| !b).collect();
        for byte in m.iter_mut().rev() {
            let (sum, carry) = byte.overflowing_add(1);
            *byte = sum;
            if !carry {
                break;
            }
        }
        m
    } else {
        raw.to_vec()
    };
    // Repeated division by 10 (values are at most a few dozen bytes).
    let mut digits = Vec::new();
    while magnitude.iter().any(|b| *b != 0) {
        let mut remainder = 0u32;
        for byte in magnitude.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = (acc / 10) as u8;
            remainder = acc % 10;
        }
        digits.push(b'0' + remainder as u8);
    }
    while digits.len() <= scale {
        digits.push(b'0');
    }
    digits.reverse();
    let mut text = String::with_capacity(digits.len() + 2);
    if negative {
        text.push('-');
    }
    let int_len = digits.len() - scale;
    text.push_str(std::str::from_utf8(&digits[..int_len]).unwrap());
    if scale > 0 {
        text.push('.');
        text.push_str(std::str::from_utf8(&digits[int_len..]).unwrap());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes() {
        assert_eq!(twos_complement_i128(&[0xff]).unwrap(), -1);
        assert_eq!(twos_complement_i128(&[0x00, 0xff]).unwrap(), 255);
        assert_eq!(twos_complement_i128(&[0xff; 20]).unwrap(), -1);
        assert!(twos_complement_i128(&[0x01; 20]).is_err());
        assert_eq!(decimal_text(&[0x30, 0x39], 2), "123.45");
        assert_eq!(decimal_text(&[0xcf, 0xc7], 2), "-123.45");
        assert_eq!(decimal_text(&[0x05], 3), "0.005");
        assert_eq!(decimal_text(&[], 0), "0");
    }
}
