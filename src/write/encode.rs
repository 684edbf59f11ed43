//! Encoding rows of Polars columns (physical Arrow arrays) as Avro binary. The writer's
//! plan (`plan.rs`) is bound to each chunk's arrays, giving a tree of encoders; every
//! check that does not depend on a value happened before, not per row.

use std::collections::HashMap;
use std::ops::Range;

use polars_arrow::array::View;
use polars_arrow::array::{
    Array, BinaryViewArray, BooleanArray, FixedSizeListArray, ListArray, PrimitiveArray, StructArray, Utf8ViewArray,
};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::types::NativeType;
use polars_buffer::Buffer;

use super::decimal_text::{parse_decimal_text, twos_complement};
use super::plan::{FieldPlan, Scale, Step};
use crate::error::{AvroError, AvroResult};
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

/// How one column's values are written as one Avro type: a [`FieldPlan`] bound to a chunk's
/// arrays, then asked for one row's bytes at a time.
pub enum Encoder<'a> {
    /// Avro null: nothing to write.
    Null,
    Boolean(&'a BooleanArray),
    /// Avro int (`int32`) or long, from integers of any width, changed by `scale`.
    Int {
        values: Ints<'a>,
        scale: Scale,
        int32: bool,
        path: &'a str,
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
        path: &'a str,
    },
    UuidFixed {
        values: &'a Utf8ViewArray,
        path: &'a str,
    },
    /// Two's-complement big-endian: as few bytes as hold the value, or exactly `fixed`.
    Decimal {
        values: &'a [i128],
        fixed: Option<usize>,
        max_abs: Option<i128>,
        path: &'a str,
    },
    /// Decimal text (the reader's String for decimals wider than Polars holds) as the
    /// unscaled value at the decimal's scale.
    DecimalFromText {
        values: &'a Utf8ViewArray,
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
        path: &'a str,
    },
    /// Decimal text as a big-decimal: the unscaled value and its scale, inside Avro bytes.
    BigDecimalFromText {
        values: &'a Utf8ViewArray,
        path: &'a str,
    },
    /// Polars category codes, mapped to the enum's symbol indices (None: not a symbol).
    Enum {
        codes: Ints<'a>,
        to_symbol: &'a [Option<i64>],
        categories: &'a [String],
        path: &'a str,
    },
    EnumFromString {
        values: &'a Utf8ViewArray,
        symbols: &'a HashMap<String, i64>,
        path: &'a str,
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
        path: &'a str,
    },
    /// A value whose Avro type has no null, from a column that has nulls.
    Required {
        validity: &'a Bitmap,
        inner: Box<Encoder<'a>>,
        avro_type: &'a str,
        path: &'a str,
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

impl FieldPlan {
    /// The encoder of this plan's values in `array`, a chunk of its column.
    pub fn bind<'a>(&'a self, array: &'a dyn Array) -> AvroResult<Encoder<'a>> {
        let path = &*self.path;
        let validity = || array.validity().filter(|v| v.unset_bits() > 0);
        Ok(match &self.step {
            Step::Required { value, avro_type } => {
                let inner = value.bind(array)?;
                match validity() {
                    Some(validity) if !matches!(inner, Encoder::Null) => {
                        Encoder::Required { validity, inner: Box::new(inner), avro_type, path }
                    },
                    _ => inner,
                }
            },
            Step::NullOnly { index, mismatch } => {
                if array.len() > array.null_count() {
                    return Err(mismatch.clone());
                }
                Encoder::Branch { index: *index, inner: Box::new(Encoder::Null) }
            },
            Step::Nullable { null_branch, value_branch, value } => Encoder::Nullable {
                validity: validity(),
                null_branch: *null_branch,
                value_branch: *value_branch,
                inner: Box::new(value.bind(array)?),
            },
            Step::Branch { index, value, avro_type } => {
                let branch = Encoder::Branch { index: *index, inner: Box::new(value.bind(array)?) };
                match validity() {
                    Some(validity) => Encoder::Required { validity, inner: Box::new(branch), avro_type, path },
                    None => branch,
                }
            },
            Step::Branches { null_branch, branches } => {
                let structs = self.downcast::<StructArray>(array)?;
                let branches = branches
                    .iter()
                    .zip(structs.values())
                    .map(|((index, plan), child)| {
                        Ok((*index, child.validity().filter(|v| v.unset_bits() > 0), plan.bind(child.as_ref())?))
                    })
                    .collect::<AvroResult<_>>()?;
                Encoder::Branches { validity: validity(), null_branch: *null_branch, branches, path }
            },
            Step::Null { mismatch } => {
                if array.null_count() != array.len() {
                    return Err(mismatch.clone());
                }
                Encoder::Null
            },
            Step::Boolean => Encoder::Boolean(self.downcast(array)?),
            Step::Int { scale, int32 } => {
                let values = Ints::of(array).ok_or_else(|| self.physical_mismatch(array))?;
                match (values, scale, int32) {
                    (Ints::I32(v), Scale::Same, _) => Encoder::Int32(v),
                    (Ints::I64(v), Scale::Same, false) => Encoder::Int64(v),
                    _ => Encoder::Int { values, scale: *scale, int32: *int32, path },
                }
            },
            Step::Float => Encoder::Float(self.primitive(array)?),
            Step::FloatAsDouble => Encoder::FloatAsDouble(self.primitive(array)?),
            Step::Double => Encoder::Double(self.primitive(array)?),
            Step::Utf8 => Encoder::Utf8(self.downcast(array)?),
            Step::Binary => Encoder::Binary(self.downcast(array)?),
            Step::Fixed { size } => Encoder::Fixed { values: self.downcast(array)?, size: *size, path },
            Step::UuidFixed => Encoder::UuidFixed { values: self.downcast(array)?, path },
            Step::Decimal { fixed, max_abs } => {
                Encoder::Decimal { values: self.primitive(array)?, fixed: *fixed, max_abs: *max_abs, path }
            },
            Step::DecimalFromText { fixed, precision, scale } => Encoder::DecimalFromText {
                values: self.downcast(array)?,
                fixed: *fixed,
                precision: *precision,
                scale: *scale,
                path,
            },
            Step::BigDecimalFromText => Encoder::BigDecimalFromText { values: self.downcast(array)?, path },
            Step::Enum { to_symbol, categories } => {
                let codes = Ints::of(array).ok_or_else(|| self.physical_mismatch(array))?;
                Encoder::Enum { codes, to_symbol, categories, path }
            },
            Step::EnumFromString { symbols } => {
                Encoder::EnumFromString { values: self.downcast(array)?, symbols, path }
            },
            Step::List(item) => {
                let list = self.downcast::<ListArray<i64>>(array)?;
                Encoder::List { offsets: list.offsets().as_slice(), item: Box::new(item.bind(list.values().as_ref())?) }
            },
            Step::FixedList { size, item } => {
                let list = self.downcast::<FixedSizeListArray>(array)?;
                Encoder::FixedList { size: *size, item: Box::new(item.bind(list.values().as_ref())?) }
            },
            Step::Map(values) => {
                let list = self.downcast::<ListArray<i64>>(array)?;
                let entries = self.downcast::<StructArray>(list.values().as_ref())?;
                let [keys, entry_values] = entries.values() else { return Err(self.physical_mismatch(array)) };
                if keys.null_count() > 0 {
                    return Err(AvroError::encode(format!(
                        "the map column '{path}' has a null key; Avro map keys are strings"
                    )));
                }
                Encoder::Map {
                    offsets: list.offsets().as_slice(),
                    keys: self.downcast(keys.as_ref())?,
                    values: Box::new(values.bind(entry_values.as_ref())?),
                }
            },
            Step::Record(fields) => {
                let structs = self.downcast::<StructArray>(array)?;
                let children = structs.values();
                Encoder::Record(
                    fields
                        .iter()
                        .map(|(column, plan)| plan.bind(children[*column].as_ref()))
                        .collect::<AvroResult<_>>()?,
                )
            },
            Step::Duration => {
                let parts = self.downcast::<StructArray>(array)?.values();
                let part = |k: usize| self.primitive::<u32>(parts[k].as_ref());
                Encoder::Duration { months: part(0)?, days: part(1)?, millis: part(2)? }
            },
        })
    }

    fn downcast<'a, A: 'static>(&self, array: &'a dyn Array) -> AvroResult<&'a A> {
        array.as_any().downcast_ref::<A>().ok_or_else(|| self.physical_mismatch(array))
    }

    fn primitive<'a, T: NativeType>(&self, array: &'a dyn Array) -> AvroResult<&'a [T]> {
        self.downcast::<PrimitiveArray<T>>(array).map(|a| a.values().as_slice())
    }

    /// A chunk whose arrays are not what the column's Polars type holds.
    fn physical_mismatch(&self, array: &dyn Array) -> AvroError {
        AvroError::argument(format!(
            "the column '{}' was described as {} but holds {:?} values",
            self.path,
            self.described,
            array.dtype()
        ))
    }
}

/// The encoders of a frame's columns (its chunk's `arrays`), one per field plan.
pub fn bind_rows<'a>(plans: &'a [(usize, FieldPlan)], arrays: &'a [Box<dyn Array>]) -> AvroResult<Vec<Encoder<'a>>> {
    plans.iter().map(|(column, plan)| plan.bind(arrays[*column].as_ref())).collect()
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
}
