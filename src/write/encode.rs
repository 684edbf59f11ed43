//! Encoding rows of Polars columns (physical Arrow arrays) as Avro binary. An encoder
//! tree is built once per chunk of the frame by pairing each Avro type with its array;
//! every check that does not depend on a value happens there, not per row.

use std::collections::HashMap;
use std::ops::Range;

use polars::prelude::TimeUnit;
use polars_arrow::array::View;
use polars_arrow::array::{
    Array, BinaryViewArray, BooleanArray, FixedSizeListArray, ListArray, PrimitiveArray, StructArray, Utf8ViewArray,
};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::types::NativeType;
use polars_buffer::Buffer;

use super::decimal_text::{parse_decimal_text, twos_complement};
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::{field_path, AvroSchema, Logical, LongTime, Node, NodeId};
use crate::varint::{put_bytes, put_long};

/// Why a value could not be written (the caller adds the column and row). Boxed, so that
/// the per-value `Result` stays one word wide.
pub struct Failure(pub Box<str>);

fn fail(message: String) -> Failure {
    Failure(message.into_boxed_str())
}

/// Integer values of any width, read as i64.
#[derive(Clone, Copy)]
pub(super) enum Ints<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl<'a> Ints<'a> {
    fn of(array: &'a dyn Array) -> Option<Self> {
        fn values<T: NativeType>(array: &dyn Array) -> Option<&[T]> {
            array.as_any().downcast_ref::<PrimitiveArray<T>>().map(|a| a.values().as_slice())
        }
        values(array)
            .map(Ints::I64)
            .or_else(|| values(array).map(Ints::I32))
            .or_else(|| values(array).map(Ints::I16))
            .or_else(|| values(array).map(Ints::I8))
            .or_else(|| values(array).map(Ints::U64))
            .or_else(|| values(array).map(Ints::U32))
            .or_else(|| values(array).map(Ints::U16))
            .or_else(|| values(array).map(Ints::U8))
    }

    /// The value, or the u64 that does not fit an i64.
    #[inline(always)]
    fn get(&self, i: usize) -> Result<i64, u64> {
        Ok(match self {
            Ints::I8(v) => v[i] as i64,
            Ints::I16(v) => v[i] as i64,
            Ints::I32(v) => v[i] as i64,
            Ints::I64(v) => v[i],
            Ints::U8(v) => v[i] as i64,
            Ints::U16(v) => v[i] as i64,
            Ints::U32(v) => v[i] as i64,
            Ints::U64(v) => return i64::try_from(v[i]).map_err(|_| v[i]),
        })
    }

    /// Reads the memory that values `rows` lie in (see [`Encoder::touch`]).
    fn touch(&self, rows: Range<usize>) {
        match self {
            Ints::I8(v) => touch_slice(&v[rows]),
            Ints::I16(v) => touch_slice(&v[rows]),
            Ints::I32(v) => touch_slice(&v[rows]),
            Ints::I64(v) => touch_slice(&v[rows]),
            Ints::U8(v) => touch_slice(&v[rows]),
            Ints::U16(v) => touch_slice(&v[rows]),
            Ints::U32(v) => touch_slice(&v[rows]),
            Ints::U64(v) => touch_slice(&v[rows]),
        }
    }
}

/// Appends a string or bytes value held in a view. Most values are short, and a memcpy
/// call per value costs more than the copy: a value of up to 12 bytes lies inside the view
/// itself, and one of up to 32 is copied as 32 bytes where its buffer has them, each cut to
/// length after one fixed-size store.
#[inline(always)]
fn put_view(out: &mut Vec<u8>, view: View, buffers: &[Buffer<u8>]) {
    let len = view.length as usize;
    if view.length <= View::MAX_INLINE_SIZE {
        // The view's last 12 bytes are the value's bytes; the zigzag length (at most 24:
        // one varint byte) goes first.
        let mut bytes = [0u8; 16];
        bytes[0] = (len * 2) as u8;
        bytes[1..5].copy_from_slice(&view.prefix.to_ne_bytes());
        bytes[5..9].copy_from_slice(&view.buffer_idx.to_ne_bytes());
        bytes[9..13].copy_from_slice(&view.offset.to_ne_bytes());
        let end = out.len() + 1 + len;
        out.extend_from_slice(&bytes);
        out.truncate(end);
        return;
    }
    let (buffer, start) = (&buffers[view.buffer_idx as usize], view.offset as usize);
    if len <= 32 {
        if let Some(bytes) = buffer.get(start..start + 32) {
            let bytes: &[u8; 32] = bytes.try_into().expect("a range of 32 bytes");
            out.push((len * 2) as u8); // at most 64: one varint byte
            let end = out.len() + len;
            out.extend_from_slice(bytes);
            out.truncate(end);
            return;
        }
    }
    put_bytes(out, &buffer[start..start + len]);
}

/// Reads one value per cache line of `values`.
fn touch_slice<T: Copy>(values: &[T]) {
    let step = (64 / std::mem::size_of::<T>()).max(1);
    for i in (0..values.len()).step_by(step) {
        std::hint::black_box(values[i]);
    }
}

/// Reads the bytes that hold bits `rows` of `bits`.
fn touch_bits(bits: &Bitmap, rows: Range<usize>) {
    let (bytes, offset, _) = bits.as_slice();
    touch_slice(&bytes[(offset + rows.start) / 8..(offset + rows.end).div_ceil(8)]);
}

/// Reads the views, and the first byte of each value not inside its view.
fn touch_views(views: &[View], buffers: &[Buffer<u8>]) {
    touch_slice(views);
    let mut sum = 0u8;
    for view in views {
        if view.length > View::MAX_INLINE_SIZE {
            sum = sum.wrapping_add(buffers[view.buffer_idx as usize][view.offset as usize]);
        }
    }
    std::hint::black_box(sum);
}

/// A change of time unit on the way to Avro.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Scale {
    Same,
    /// Multiply (to a finer unit): fails on overflow.
    Mul(i64),
    /// Divide (to a coarser unit): fails when it would drop a remainder.
    Div(i64),
}

impl Scale {
    fn between(from: TimeUnit, to: TimeUnit) -> Self {
        let ns = |u: TimeUnit| match u {
            TimeUnit::Milliseconds => 1_000_000i64,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Nanoseconds => 1,
        };
        let (from, to) = (ns(from), ns(to));
        match from.cmp(&to) {
            std::cmp::Ordering::Equal => Scale::Same,
            std::cmp::Ordering::Greater => Scale::Mul(from / to),
            std::cmp::Ordering::Less => Scale::Div(to / from),
        }
    }

    #[inline]
    fn apply(self, v: i64) -> Option<i64> {
        // Dividing by a constant is a multiplication; by a variable, a slow hardware division.
        fn exact_div<const K: i64>(v: i64) -> Option<i64> {
            (v % K == 0).then_some(v / K)
        }
        match self {
            Scale::Same => Some(v),
            Scale::Mul(k) => v.checked_mul(k),
            Scale::Div(1_000) => exact_div::<1_000>(v),
            Scale::Div(1_000_000) => exact_div::<1_000_000>(v),
            Scale::Div(k) => (v % k == 0).then_some(v / k),
        }
    }
}

/// How one column's values are written as one Avro type: built once per chunk from (Avro
/// schema node, frame type, array), then asked for one row's bytes at a time.
pub enum Encoder<'a> {
    /// Avro null: nothing to write.
    Null,
    Boolean(&'a BooleanArray),
    /// Avro int (`int32`) or long, from integers of any width, changed by `scale`.
    Int {
        values: Ints<'a>,
        scale: Scale,
        int32: bool,
        path: Box<str>,
    },
    /// The common cases of `Int` with nothing to check: i32 to int or long, i64 to long.
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Float(&'a [f32]),
    FloatAsDouble(&'a [f32]),
    Double(&'a [f64]),
    /// Avro string, or bytes from a String column (both are a length and the bytes).
    Utf8(&'a Utf8ViewArray),
    Binary(&'a BinaryViewArray),
    Fixed {
        values: &'a BinaryViewArray,
        size: usize,
        path: Box<str>,
    },
    UuidFixed {
        values: &'a Utf8ViewArray,
        path: Box<str>,
    },
    /// Two's-complement big-endian: as few bytes as hold the value, or exactly `fixed`.
    Decimal {
        values: &'a [i128],
        fixed: Option<usize>,
        max_abs: Option<i128>,
        path: Box<str>,
    },
    /// Decimal text (the reader's String for decimals wider than Polars holds) as the
    /// unscaled value at the decimal's scale.
    DecimalFromText {
        values: &'a Utf8ViewArray,
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
        path: Box<str>,
    },
    /// Decimal text as a big-decimal: the unscaled value and its scale, inside Avro bytes.
    BigDecimalFromText {
        values: &'a Utf8ViewArray,
        path: Box<str>,
    },
    /// Polars category codes, mapped to the enum's symbol indices (None: not a symbol).
    Enum {
        codes: Ints<'a>,
        to_symbol: Vec<Option<i64>>,
        categories: Vec<String>,
        path: Box<str>,
    },
    EnumFromString {
        values: &'a Utf8ViewArray,
        symbols: HashMap<String, i64>,
        path: Box<str>,
    },
    List {
        offsets: &'a [i64],
        item: Box<Encoder<'a>>,
    },
    FixedList {
        size: usize,
        item: Box<Encoder<'a>>,
    },
    Map {
        offsets: &'a [i64],
        keys: &'a Utf8ViewArray,
        values: Box<Encoder<'a>>,
    },
    Record(Vec<Encoder<'a>>),
    /// Avro duration: months, days and milliseconds as three little-endian u32.
    Duration {
        months: &'a [u32],
        days: &'a [u32],
        millis: &'a [u32],
    },
    /// A union with a null branch: the branch index, then the value when there is one.
    Nullable {
        validity: Option<&'a Bitmap>,
        null_branch: i64,
        value_branch: i64,
        inner: Box<Encoder<'a>>,
    },
    /// A union without a null branch, whose values all take one branch.
    Branch {
        index: i64,
        inner: Box<Encoder<'a>>,
    },
    /// A union from a Struct with one field per non-null branch: the first field set wins.
    Branches {
        validity: Option<&'a Bitmap>,
        null_branch: Option<i64>,
        branches: Vec<(i64, Option<&'a Bitmap>, Encoder<'a>)>,
        path: Box<str>,
    },
    /// A value whose Avro type has no null, from a column that has nulls.
    Required {
        validity: &'a Bitmap,
        inner: Box<Encoder<'a>>,
        avro_type: Box<str>,
        path: Box<str>,
    },
}

impl Encoder<'_> {
    /// Reads the memory that rows' values lie in, one column after another, so that the
    /// row-by-row encoding after it finds them in cache. Row by row, a wide frame is as many
    /// streams through memory as it has columns, more than the hardware prefetcher follows.
    pub fn touch(&self, rows: Range<usize>) {
        match self {
            Encoder::Int32(v) => touch_slice(&v[rows]),
            Encoder::Int64(v) => touch_slice(&v[rows]),
            Encoder::Int { values, .. } => values.touch(rows),
            Encoder::Float(v) | Encoder::FloatAsDouble(v) => touch_slice(&v[rows]),
            Encoder::Double(v) => touch_slice(&v[rows]),
            Encoder::Utf8(values) => touch_views(&values.views()[rows], values.data_buffers()),
            Encoder::Binary(values) => touch_views(&values.views()[rows], values.data_buffers()),
            Encoder::Boolean(values) => touch_bits(values.values(), rows),
            Encoder::Nullable { validity, inner, .. } => {
                if let Some(validity) = validity {
                    touch_bits(validity, rows.clone());
                }
                inner.touch(rows)
            },
            Encoder::Branch { inner, .. } => inner.touch(rows),
            Encoder::Record(fields) => fields.iter().for_each(|f| f.touch(rows.clone())),
            _ => {},
        }
    }

    /// How many streams through memory `touch` reads for this column.
    pub fn streams(&self) -> usize {
        match self {
            Encoder::Int32(_) | Encoder::Int64(_) | Encoder::Int { .. } => 1,
            Encoder::Float(_) | Encoder::FloatAsDouble(_) | Encoder::Double(_) => 1,
            Encoder::Utf8(_) | Encoder::Binary(_) => 2,
            Encoder::Boolean(_) => 1,
            Encoder::Nullable { validity, inner, .. } => usize::from(validity.is_some()) + inner.streams(),
            Encoder::Branch { inner, .. } => inner.streams(),
            Encoder::Record(fields) => fields.iter().map(Encoder::streams).sum(),
            _ => 0,
        }
    }

    /// Encodes value `i`. The null-union prefix and plain values are inlined into the
    /// caller's loop; everything else is one call away, in `encode_other`.
    #[inline(always)]
    pub fn encode(&self, i: usize, out: &mut Vec<u8>) -> Result<(), Failure> {
        match self {
            Encoder::Nullable { validity, null_branch, value_branch, inner } => {
                if validity.is_none_or(|v| v.get_bit(i)) {
                    put_long(out, *value_branch);
                    inner.encode_value(i, out)
                } else {
                    put_long(out, *null_branch);
                    Ok(())
                }
            },
            _ => self.encode_value(i, out),
        }
    }

    #[inline(always)]
    fn encode_value(&self, i: usize, out: &mut Vec<u8>) -> Result<(), Failure> {
        match self {
            Encoder::Null => {},
            Encoder::Boolean(values) => out.push(values.value(i) as u8),
            Encoder::Int { values, scale, int32, path } => {
                let v =
                    values.get(i).map_err(|u| fail(format!("at '{path}': {u} is beyond the range of an Avro long")))?;
                let v = scale.apply(v).ok_or_else(|| fail(unscalable(v, *scale, path)))?;
                if *int32 && i32::try_from(v).is_err() {
                    return Err(fail(format!("at '{path}': {v} is beyond the range of an Avro int")));
                }
                put_long(out, v);
            },
            Encoder::Int32(values) => put_long(out, values[i] as i64),
            Encoder::Int64(values) => put_long(out, values[i]),
            Encoder::Float(values) => out.extend_from_slice(&values[i].to_le_bytes()),
            Encoder::FloatAsDouble(values) => out.extend_from_slice(&(values[i] as f64).to_le_bytes()),
            Encoder::Double(values) => out.extend_from_slice(&values[i].to_le_bytes()),
            Encoder::Utf8(values) => put_view(out, values.views()[i], values.data_buffers()),
            Encoder::Binary(values) => put_view(out, values.views()[i], values.data_buffers()),
            _ => return self.encode_other(i, out),
        }
        Ok(())
    }

    #[inline(never)]
    fn encode_other(&self, i: usize, out: &mut Vec<u8>) -> Result<(), Failure> {
        match self {
            Encoder::Fixed { values, size, path } => {
                let value = values.value(i);
                if value.len() != *size {
                    return Err(fail(format!(
                        "at '{path}': expected {size} bytes for the Avro fixed, found {}",
                        value.len()
                    )));
                }
                out.extend_from_slice(value);
            },
            Encoder::UuidFixed { values, path } => {
                let text = values.value(i);
                let bytes = parse_uuid(text)
                    .ok_or_else(|| fail(format!("at '{path}': '{text}' is not a UUID (8-4-4-4-12 hex digits)")))?;
                out.extend_from_slice(&bytes);
            },
            Encoder::Decimal { values, fixed, max_abs, path } => {
                let v = values[i];
                if max_abs.is_some_and(|max| v.unsigned_abs() > max as u128) {
                    return Err(fail(format!(
                        "at '{path}': the unscaled value {v} has more digits than the Avro decimal's precision"
                    )));
                }
                let bytes = v.to_be_bytes();
                match fixed {
                    None => put_bytes(out, &bytes[bytes.len() - minimal_twos_complement_len(v)..]),
                    Some(size) if *size >= 16 => {
                        let fill = if v < 0 { 0xff } else { 0 };
                        out.extend(std::iter::repeat_n(fill, size - 16));
                        out.extend_from_slice(&bytes);
                    },
                    Some(size) => {
                        if minimal_twos_complement_len(v) > *size {
                            return Err(fail(format!("at '{path}': the unscaled value {v} does not fit {size} bytes")));
                        }
                        out.extend_from_slice(&bytes[16 - size..]);
                    },
                }
            },
            Encoder::DecimalFromText { values, fixed, precision, scale, path } => {
                let text = values.value(i);
                let (negative, mut digits, fraction) = parse_decimal_text(text)
                    .ok_or_else(|| fail(format!("at '{path}': '{text}' is not a decimal number")))?;
                if fraction > *scale {
                    let extra = digits.split_off(digits.len() - (fraction - scale));
                    if extra.iter().any(|d| *d != 0) {
                        return Err(fail(format!(
                            "at '{path}': '{text}' has more digits after the point than the Avro decimal's scale {scale}"
                        )));
                    }
                }
                digits.extend(std::iter::repeat_n(0, scale.saturating_sub(fraction)));
                let significant = digits.iter().skip_while(|d| **d == 0).count();
                if significant > *precision {
                    return Err(fail(format!(
                        "at '{path}': '{text}' has more digits than the Avro decimal's precision {precision}"
                    )));
                }
                let bytes = twos_complement(negative, &digits);
                match fixed {
                    None => put_bytes(out, &bytes),
                    Some(size) if bytes.len() <= *size => {
                        let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
                        out.extend(std::iter::repeat_n(fill, size - bytes.len()));
                        out.extend_from_slice(&bytes);
                    },
                    Some(size) => return Err(fail(format!("at '{path}': '{text}' does not fit {size} bytes"))),
                }
            },
            Encoder::BigDecimalFromText { values, path } => {
                let text = values.value(i);
                let (negative, digits, fraction) = parse_decimal_text(text)
                    .ok_or_else(|| fail(format!("at '{path}': '{text}' is not a decimal number")))?;
                let unscaled = twos_complement(negative, &digits);
                let mut payload = Vec::with_capacity(unscaled.len() + 4);
                put_bytes(&mut payload, &unscaled);
                put_long(&mut payload, fraction as i64);
                put_bytes(out, &payload);
            },
            Encoder::Enum { codes, to_symbol, categories, path } => {
                let code = codes.get(i).unwrap_or(i64::MAX) as usize;
                match to_symbol.get(code).copied().flatten() {
                    Some(index) => put_long(out, index),
                    None => {
                        let category = categories.get(code).map_or("?", String::as_str);
                        return Err(fail(format!("at '{path}': '{category}' is not a symbol of the Avro enum")));
                    },
                }
            },
            Encoder::EnumFromString { values, symbols, path } => {
                let text = values.value(i);
                let index = symbols
                    .get(text)
                    .ok_or_else(|| fail(format!("at '{path}': '{text}' is not a symbol of the Avro enum")))?;
                put_long(out, *index);
            },
            Encoder::List { offsets, item } => {
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                if end > start {
                    put_long(out, (end - start) as i64);
                    for j in start..end {
                        item.encode(j, out)?;
                    }
                }
                put_long(out, 0);
            },
            Encoder::FixedList { size, item } => {
                if *size > 0 {
                    put_long(out, *size as i64);
                    for j in i * size..(i + 1) * size {
                        item.encode(j, out)?;
                    }
                }
                put_long(out, 0);
            },
            Encoder::Map { offsets, keys, values } => {
                let (start, end) = (offsets[i] as usize, offsets[i + 1] as usize);
                if end > start {
                    put_long(out, (end - start) as i64);
                    for j in start..end {
                        put_bytes(out, keys.value(j).as_bytes());
                        values.encode(j, out)?;
                    }
                }
                put_long(out, 0);
            },
            Encoder::Record(fields) => {
                for field in fields {
                    field.encode(i, out)?;
                }
            },
            Encoder::Duration { months, days, millis } => {
                out.extend_from_slice(&months[i].to_le_bytes());
                out.extend_from_slice(&days[i].to_le_bytes());
                out.extend_from_slice(&millis[i].to_le_bytes());
            },
            Encoder::Nullable { .. } => return self.encode(i, out),
            Encoder::Branch { index, inner } => {
                put_long(out, *index);
                inner.encode(i, out)?;
            },
            Encoder::Branches { validity, null_branch, branches, path } => {
                let chosen = validity
                    .is_none_or(|v| v.get_bit(i))
                    .then(|| branches.iter().find(|(_, v, _)| v.is_none_or(|v| v.get_bit(i))))
                    .flatten();
                match (chosen, null_branch) {
                    (Some((index, _, inner)), _) => {
                        put_long(out, *index);
                        inner.encode(i, out)?;
                    },
                    (None, Some(null_branch)) => put_long(out, *null_branch),
                    (None, None) => {
                        return Err(fail(format!("at '{path}': no union branch is set, and the union has no null")))
                    },
                }
            },
            Encoder::Required { validity, inner, avro_type, path } => {
                if !validity.get_bit(i) {
                    return Err(fail(format!(
                        "at '{path}': a null value, but the Avro type {avro_type} is not nullable"
                    )));
                }
                inner.encode(i, out)?;
            },
            _ => return self.encode_value(i, out),
        }
        Ok(())
    }
}

fn unscalable(v: i64, scale: Scale, path: &str) -> String {
    match scale {
        Scale::Div(k) => {
            format!("at '{path}': {v} is not a whole number of the Avro unit ({k} times coarser); truncate it first")
        },
        _ => format!("at '{path}': {v} overflows a 64-bit count of the Avro unit"),
    }
}

/// Bytes needed for `v` in two's complement, at least one.
fn minimal_twos_complement_len(v: i128) -> usize {
    let significant = if v < 0 { 128 - (!v).leading_zeros() } else { 128 - v.leading_zeros() };
    (significant as usize + 1).div_ceil(8).max(1)
}

fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&p| bytes[p] != b'-') {
        return None;
    }
    let digits: Vec<u8> = bytes.iter().filter(|&&b| b != b'-').copied().collect();
    let mut out = [0u8; 16];
    for (k, pair) in digits.chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair).ok()?;
        out[k] = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(out)
}

/// Builds the encoder of one value of Avro type `node` from `array`, whose Polars type is `ft`.
pub fn build_encoder<'a>(
    schema: &AvroSchema,
    node: NodeId,
    ft: &FrameType,
    array: &'a dyn Array,
    path: &str,
) -> AvroResult<Encoder<'a>> {
    if let Node::Union(branches) = schema.node(node) {
        return build_union(schema, branches, ft, array, path);
    }
    let inner = build_value(schema, node, ft, array, path)?;
    match array.validity().filter(|v| v.unset_bits() > 0) {
        Some(validity) if !matches!(inner, Encoder::Null) => Ok(Encoder::Required {
            validity,
            inner: Box::new(inner),
            avro_type: avro_type_name(schema, node).into(),
            path: path.into(),
        }),
        _ => Ok(inner),
    }
}

fn build_union<'a>(
    schema: &AvroSchema,
    branches: &[NodeId],
    ft: &FrameType,
    array: &'a dyn Array,
    path: &str,
) -> AvroResult<Encoder<'a>> {
    let split = schema.split_union(branches);
    let null_branch = split.null.map(|p| p as i64);
    let values = split.values;
    let validity = array.validity().filter(|v| v.unset_bits() > 0);
    if *ft == FrameType::Null || values.is_empty() {
        let Some(null_branch) = null_branch else {
            return Err(mismatch(branches_union(schema, branches), ft, path));
        };
        if array.len() > array.null_count() {
            return Err(mismatch(branches_union(schema, branches), ft, path));
        }
        return Ok(Encoder::Branch { index: null_branch, inner: Box::new(Encoder::Null) });
    }
    if values.len() > 1 {
        if let Some(encoder) = build_branch_struct(schema, &values, null_branch, ft, array, path)? {
            return Ok(encoder);
        }
    }
    // The first branch the column's type can be written as.
    let mut first_error = None;
    for (index, branch) in &values {
        let index = *index as i64;
        match build_value(schema, *branch, ft, array, path) {
            Ok(inner) => {
                let inner = Box::new(inner);
                return Ok(match (null_branch, validity) {
                    (Some(null_branch), _) => Encoder::Nullable { validity, null_branch, value_branch: index, inner },
                    (None, None) => Encoder::Branch { index, inner },
                    (None, Some(validity)) => Encoder::Required {
                        validity,
                        inner: Box::new(Encoder::Branch { index, inner }),
                        avro_type: branches_union(schema, branches).into(),
                        path: path.into(),
                    },
                });
            },
            Err(e) => {
                first_error.get_or_insert(e);
            },
        }
    }
    if values.len() == 1 {
        return Err(first_error.unwrap());
    }
    Err(mismatch(branches_union(schema, branches), ft, path))
}

/// A general union from the Struct the reader makes of it: one field per non-null
/// branch, named after the branch type. None when `ft` is not such a Struct.
fn build_branch_struct<'a>(
    schema: &AvroSchema,
    values: &[(usize, NodeId)],
    null_branch: Option<i64>,
    ft: &FrameType,
    array: &'a dyn Array,
    path: &str,
) -> AvroResult<Option<Encoder<'a>>> {
    let FrameType::Struct(fields) = ft else { return Ok(None) };
    let expected = schema.union_field_names(values);
    if fields.len() != expected.len() || fields.iter().zip(&expected).any(|((name, _), e)| name != e) {
        return Ok(None);
    }
    let structs = downcast::<StructArray>(array, ft, path)?;
    let mut branches = Vec::with_capacity(values.len());
    for (((index, node), (name, field_ft)), child) in values.iter().zip(fields).zip(structs.values()) {
        let encoder = build_value(schema, *node, field_ft, child.as_ref(), &format!("{path}.{name}"))?;
        branches.push((*index as i64, child.validity().filter(|v| v.unset_bits() > 0), encoder));
    }
    Ok(Some(Encoder::Branches {
        validity: array.validity().filter(|v| v.unset_bits() > 0),
        null_branch,
        branches,
        path: path.into(),
    }))
}

/// The encoder of a value of a non-union Avro type.
fn build_value<'a>(
    schema: &AvroSchema,
    node: NodeId,
    ft: &FrameType,
    array: &'a dyn Array,
    path: &str,
) -> AvroResult<Encoder<'a>> {
    use FrameType as F;
    use Logical as L;
    let ints = |scale: Scale, int32: bool| -> AvroResult<Encoder<'a>> {
        let values = Ints::of(array).ok_or_else(|| physical_mismatch(ft, array, path))?;
        Ok(match (values, scale, int32) {
            (Ints::I32(v), Scale::Same, _) => Encoder::Int32(v),
            (Ints::I64(v), Scale::Same, false) => Encoder::Int64(v),
            _ => Encoder::Int { values, scale, int32, path: path.into() },
        })
    };
    let mismatched = || mismatch(avro_type_name(schema, node), ft, path);
    Ok(match (schema.node(node), schema.logical(node), ft) {
        (Node::Null, _, _) if array.null_count() == array.len() => Encoder::Null,
        (Node::Boolean, _, F::Boolean) => Encoder::Boolean(downcast(array, ft, path)?),
        (Node::Int, Some(L::Date), F::Date) => ints(Scale::Same, true)?,
        (Node::Int, Some(L::TimeMillis), F::Time) => ints(Scale::Div(1_000_000), true)?,
        (Node::Long, Some(L::TimeMicros), F::Time) => ints(Scale::Div(1_000), false)?,
        (Node::Long, Some(logical), F::Datetime { unit, time_zone }) => {
            let (target, local) = match logical.long_time() {
                Some(LongTime::Timestamp(target)) => (target, false),
                Some(LongTime::LocalTimestamp(target)) => (target, true),
                _ => return Err(mismatched()),
            };
            if local && time_zone.is_some() {
                return Err(AvroError::schema(format!(
                    "the column '{path}' has time zone {}, but {} is a local (zone-less) timestamp: \
                     drop the zone first with .dt.replace_time_zone(None) or .dt.convert_time_zone(...)",
                    time_zone.as_deref().unwrap_or_default(),
                    avro_type_name(schema, node)
                )));
            }
            ints(Scale::between(*unit, target), false)?
        },
        (Node::Int, _, F::Int { .. } | F::Date) => ints(Scale::Same, true)?,
        (Node::Long, Some(logical), F::Duration(unit))
            if matches!(logical.long_time(), Some(LongTime::Duration(_))) =>
        {
            ints(Scale::between(*unit, logical.long_time().expect("a duration").unit()), false)?
        },
        (Node::Long, _, F::Int { .. } | F::Duration(_)) => ints(Scale::Same, false)?,
        (Node::Float, _, F::Float32) => Encoder::Float(primitive::<f32>(array, ft, path)?),
        (Node::Double, _, F::Float32) => Encoder::FloatAsDouble(primitive::<f32>(array, ft, path)?),
        (Node::Double, _, F::Float64) => Encoder::Double(primitive::<f64>(array, ft, path)?),
        (
            Node::Bytes | Node::Fixed { .. },
            Some(L::Decimal { precision, scale }),
            F::Decimal { precision: p, scale: s },
        ) => {
            if scale != *s {
                return Err(AvroError::schema(format!(
                    "the column '{path}' has scale {s}, but the Avro decimal has scale {scale}: cast the column \
                    to Decimal({precision}, {scale}) first"
                )));
            }
            let fixed = match schema.node(node) {
                Node::Fixed { size, .. } => Some(*size),
                _ => None,
            };
            let max_abs = (precision < *p).then(|| 10i128.pow(precision as u32) - 1);
            Encoder::Decimal { values: primitive::<i128>(array, ft, path)?, fixed, max_abs, path: path.into() }
        },
        (Node::Bytes | Node::Fixed { .. }, Some(L::Decimal { precision, scale }), F::String) => {
            let fixed = match schema.node(node) {
                Node::Fixed { size, .. } => Some(*size),
                _ => None,
            };
            Encoder::DecimalFromText { values: downcast(array, ft, path)?, fixed, precision, scale, path: path.into() }
        },
        (Node::Bytes, Some(L::BigDecimal), F::String) => {
            Encoder::BigDecimalFromText { values: downcast(array, ft, path)?, path: path.into() }
        },
        (Node::Fixed { size: 16, .. }, Some(L::Uuid), F::String) => {
            Encoder::UuidFixed { values: downcast(array, ft, path)?, path: path.into() }
        },
        (Node::Fixed { size: 12, .. }, Some(L::Duration), F::Struct(fields)) => {
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let all_u32 = fields.iter().all(|(_, t)| *t == F::Int { signed: false, bits: 32 });
            if names != ["months", "days", "milliseconds"] || !all_u32 {
                return Err(mismatched());
            }
            let parts = downcast::<StructArray>(array, ft, path)?.values();
            let part = |k: usize| primitive::<u32>(parts[k].as_ref(), ft, path);
            Encoder::Duration { months: part(0)?, days: part(1)?, millis: part(2)? }
        },
        (Node::String | Node::Bytes, _, F::String) => Encoder::Utf8(downcast(array, ft, path)?),
        (Node::Bytes, _, F::Binary) => Encoder::Binary(downcast(array, ft, path)?),
        (Node::Fixed { size, .. }, _, F::Binary) => {
            Encoder::Fixed { values: downcast(array, ft, path)?, size: *size, path: path.into() }
        },
        (Node::Enum { symbols, .. }, _, F::Enum(categories)) => {
            let to_symbol = categories.iter().map(|c| symbols.iter().position(|s| s == c).map(|p| p as i64)).collect();
            let codes = Ints::of(array).ok_or_else(|| physical_mismatch(ft, array, path))?;
            Encoder::Enum { codes, to_symbol, categories: categories.clone(), path: path.into() }
        },
        (Node::Enum { symbols, .. }, _, F::String) => Encoder::EnumFromString {
            values: downcast(array, ft, path)?,
            symbols: symbols.iter().enumerate().map(|(i, s)| (s.clone(), i as i64)).collect(),
            path: path.into(),
        },
        (Node::Array(item), _, F::List(inner)) => {
            let list = downcast::<ListArray<i64>>(array, ft, path)?;
            let item = build_encoder(schema, *item, inner, list.values().as_ref(), &format!("{path}[]"))?;
            Encoder::List { offsets: list.offsets().as_slice(), item: Box::new(item) }
        },
        (Node::Array(item), _, F::Array(inner, size)) => {
            let list = downcast::<FixedSizeListArray>(array, ft, path)?;
            let item = build_encoder(schema, *item, inner, list.values().as_ref(), &format!("{path}[]"))?;
            Encoder::FixedList { size: *size, item: Box::new(item) }
        },
        (Node::Map(value), _, F::Map { key, value: value_ft }) if **key == F::String => {
            build_map(schema, *value, value_ft, ft, array, path)?
        },
        // Polars before 2.0 has no Map: maps are read as lists of key/value structs.
        (Node::Map(value), _, F::List(entry)) => match entry.as_ref() {
            F::Struct(kv) if kv.len() == 2 && kv[0].0 == "key" && kv[0].1 == F::String && kv[1].0 == "value" => {
                build_map(schema, *value, &kv[1].1, ft, array, path)?
            },
            _ => return Err(mismatched()),
        },
        (Node::Record { fields, .. }, _, F::Struct(ft_fields)) => {
            let structs = downcast::<StructArray>(array, ft, path)?;
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            let children: Vec<(&str, &FrameType, &dyn Array)> =
                ft_fields.iter().zip(structs.values()).map(|((n, t), a)| (n.as_str(), t, a.as_ref())).collect();
            Encoder::Record(build_fields(schema, fields, &names, &children, path)?)
        },
        _ => return Err(mismatched()),
    })
}

fn build_map<'a>(
    schema: &AvroSchema,
    value: NodeId,
    value_ft: &FrameType,
    ft: &FrameType,
    array: &'a dyn Array,
    path: &str,
) -> AvroResult<Encoder<'a>> {
    let list = downcast::<ListArray<i64>>(array, ft, path)?;
    let entries = downcast::<StructArray>(list.values().as_ref(), ft, path)?;
    let [keys, values] = entries.values() else { return Err(physical_mismatch(ft, array, path)) };
    if keys.null_count() > 0 {
        return Err(AvroError::encode(format!("the map column '{path}' has a null key; Avro map keys are strings")));
    }
    let keys = downcast::<Utf8ViewArray>(keys.as_ref(), ft, path)?;
    let values = build_encoder(schema, value, value_ft, values.as_ref(), &format!("{path}{{}}"))?;
    Ok(Encoder::Map { offsets: list.offsets().as_slice(), keys, values: Box::new(values) })
}

/// One encoder per Avro field, in the schema's order, each from the column of its name.
pub fn build_fields<'a>(
    schema: &AvroSchema,
    fields: &[crate::schema::Field],
    names: &[&str],
    columns: &[(&str, &FrameType, &'a dyn Array)],
    path: &str,
) -> AvroResult<Vec<Encoder<'a>>> {
    let at = |name: &str| field_path(path, name);
    let by_name: HashMap<&str, &(&str, &FrameType, &'a dyn Array)> = columns.iter().map(|c| (c.0, c)).collect();
    let named: std::collections::HashSet<&str> = names.iter().copied().collect();
    let missing: Vec<&str> = names.iter().copied().filter(|n| !by_name.contains_key(n)).collect();
    let extra: Vec<&str> = columns.iter().map(|(c, _, _)| *c).filter(|c| !named.contains(c)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        let place = if path.is_empty() { "the frame".to_string() } else { format!("the struct '{path}'") };
        let mut problems = Vec::new();
        let quoted = |names: &[&str]| names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        if !missing.is_empty() {
            problems.push(format!("the schema's fields {} are not in {place}", quoted(&missing)));
        }
        if !extra.is_empty() {
            problems.push(format!("{place}'s columns {} are not in the schema", quoted(&extra)));
        }
        return Err(AvroError::schema(problems.join("; ")));
    }
    fields
        .iter()
        .map(|field| {
            let (name, ft, array) = by_name[field.name.as_str()];
            build_encoder(schema, field.schema, ft, *array, &at(name))
        })
        .collect()
}

fn downcast<'a, A: 'static>(array: &'a dyn Array, ft: &FrameType, path: &str) -> AvroResult<&'a A> {
    array.as_any().downcast_ref::<A>().ok_or_else(|| physical_mismatch(ft, array, path))
}

fn primitive<'a, T: NativeType>(array: &'a dyn Array, ft: &FrameType, path: &str) -> AvroResult<&'a [T]> {
    downcast::<PrimitiveArray<T>>(array, ft, path).map(|a| a.values().as_slice())
}

/// The column's buffers are not what its type says: a bug, or a type description that
/// does not match the frame.
fn physical_mismatch(ft: &FrameType, array: &dyn Array, path: &str) -> AvroError {
    AvroError::argument(format!(
        "the column '{path}' was described as {} but holds {:?} values",
        ft.polars_name(),
        array.dtype()
    ))
}

fn mismatch(avro: String, ft: &FrameType, path: &str) -> AvroError {
    AvroError::schema(format!(
        "the column '{path}' has type {}, which cannot be written as Avro {avro}",
        ft.polars_name()
    ))
}

fn branches_union(schema: &AvroSchema, branches: &[NodeId]) -> String {
    format!("[{}]", branches.iter().map(|b| avro_type_name(schema, *b)).collect::<Vec<_>>().join(", "))
}

/// The Avro type for messages: `long`, `long (timestamp-micros)`, `record Point`, ...
fn avro_type_name(schema: &AvroSchema, node: NodeId) -> String {
    let base = match schema.node(node) {
        Node::Record { name, .. } => format!("record {}", name.fullname()),
        Node::Enum { name, .. } => format!("enum {}", name.fullname()),
        Node::Fixed { name, size } => format!("fixed {} ({size} bytes)", name.fullname()),
        Node::Union(branches) => branches_union(schema, branches),
        _ => schema.type_name(node),
    };
    match schema.logical(node) {
        Some(logical) => format!("{base} ({})", logical.name()),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_bytes_are_minimal_twos_complement() {
        for (v, len) in [(0i128, 1), (127, 1), (128, 2), (-128, 1), (-129, 2), (i128::MAX, 16), (i128::MIN, 16)] {
            assert_eq!(minimal_twos_complement_len(v), len, "{v}");
        }
    }

    #[test]
    fn views_append_as_avro_bytes_whatever_their_length_and_place() {
        // Every length up to 48: inside the view, copied as 32 bytes, copied as they are;
        // the last ones lie within 32 bytes of their buffer's end.
        let values: Vec<Vec<u8>> = (0..=48u8).map(|n| (0..n).map(|b| b ^ n).collect()).collect();
        let buffers = [Buffer::from(values.concat())];
        let mut offset = 0;
        for (i, value) in values.iter().enumerate() {
            let view = View::new_from_bytes(value, 0, offset);
            offset += value.len() as u32;
            let (mut ours, mut expected) = (vec![9u8], vec![9u8]);
            put_view(&mut ours, view, &buffers);
            put_bytes(&mut expected, value);
            assert_eq!(ours, expected, "a value of {i} bytes");
        }
    }

    #[test]
    fn uuids_parse() {
        let bytes = parse_uuid("00112233-4455-6677-8899-aabbccddeeff").unwrap();
        assert_eq!(bytes[0], 0x00);
        assert_eq!(bytes[15], 0xff);
        assert!(parse_uuid("00112233445566778899aabbccddeeff").is_none());
        assert!(parse_uuid("0011223x-4455-6677-8899-aabbccddeeff").is_none());
    }

    #[test]
    fn scales_refuse_lossy_changes() {
        let to_micros = Scale::between(TimeUnit::Nanoseconds, TimeUnit::Microseconds);
        assert!(to_micros.apply(1_000) == Some(1) && to_micros.apply(1_001).is_none());
        let to_nanos = Scale::between(TimeUnit::Milliseconds, TimeUnit::Nanoseconds);
        assert!(to_nanos.apply(2) == Some(2_000_000) && to_nanos.apply(i64::MAX / 10).is_none());
    }
}
