//! Avro decimals (big-endian two's-complement unscaled values) as Polars values: i128 for
//! Decimal columns, exact text for the wider ones.

use super::cursor::Cursor;
use crate::error::{AvroError, AvroResult};
use crate::schema::MAX_TEXT_DIGITS;

/// A big-endian two's-complement integer of any width that must fit in i128.
#[inline(always)]
pub fn twos_complement_i128(raw: &[u8]) -> AvroResult<i128> {
    let Some(&first) = raw.first() else { return Ok(0) };
    let negative = first & 0x80 != 0;
    let significant = match raw.len() {
        0..=16 => raw,
        _ => wider_than_16_bytes(raw, negative)?,
    };
    // Shifted in a byte at a time from the sign's extension: a decimal is a few bytes,
    // and this takes no call (a copy into a 16-byte buffer calls memmove).
    Ok(significant.iter().fold(if negative { -1 } else { 0 }, |value, &byte| (value << 8) | i128::from(byte)))
}

/// The last 16 bytes of a value wider than 16, when the others only extend its sign.
#[cold]
fn wider_than_16_bytes(raw: &[u8], negative: bool) -> AvroResult<&[u8]> {
    let sign_byte = if negative { 0xff } else { 0x00 };
    let (extra, rest) = raw.split_at(raw.len() - 16);
    if extra.iter().any(|b| *b != sign_byte) || (rest[0] & 0x80 != 0) != negative {
        return Err(AvroError::decode(format!(
            "a decimal's unscaled value of {} bytes does not fit in 38 digits",
            raw.len()
        )));
    }
    Ok(rest)
}

/// The largest scale, either way, of a big-decimal read as text: its plain text has
/// about that many zeros (Java's scale is any int, and 1E+2147483647 would be gigabytes).
pub const MAX_BIG_DECIMAL_SCALE: i32 = MAX_TEXT_DIGITS as i32;

/// The exact plain text of a big-decimal's unscaled value and scale, as Java's
/// `BigDecimal.toPlainString` gives it: a negative scale multiplies by a power of ten
/// (unscaled 1, scale -10 is `10000000000`). None when the scale is beyond
/// [`MAX_BIG_DECIMAL_SCALE`].
pub fn big_decimal_text(unscaled: &[u8], scale: i32) -> Option<String> {
    if scale.unsigned_abs() > MAX_BIG_DECIMAL_SCALE.unsigned_abs() {
        return None;
    }
    if scale >= 0 {
        return Some(decimal_text(unscaled, scale as usize));
    }
    let mut text = decimal_text(unscaled, 0);
    if text != "0" {
        text.extend(std::iter::repeat_n('0', scale.unsigned_abs() as usize));
    }
    Some(text)
}

/// The big-decimal at the cursor (bytes holding the unscaled value, then the scale) as its
/// plain text; a payload with bytes after the scale, or a scale beyond
/// [`MAX_BIG_DECIMAL_SCALE`], is a decode error naming where it starts.
pub fn read_big_decimal_text(cur: &mut Cursor) -> AvroResult<String> {
    let start = cur.position();
    let payload = cur.read_bytes("a big-decimal")?;
    let mut inner = Cursor::new(payload);
    let unscaled = inner.read_bytes("a big-decimal's unscaled value")?;
    let scale = inner.read_int()?;
    if !inner.is_empty() {
        return Err(AvroError::decode(format!(
            "expected a big-decimal as the unscaled value then the scale at byte {start} of the block data, \
            found {} bytes after the scale",
            inner.remaining()
        )));
    }
    big_decimal_text(unscaled, scale).ok_or_else(|| {
        AvroError::decode(format!(
            "expected a big-decimal whose scale is between -{MAX_BIG_DECIMAL_SCALE} and \
            {MAX_BIG_DECIMAL_SCALE} at byte {start} of the block data, found scale {scale}"
        ))
    })
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
        assert_eq!(twos_complement_i128(&[0x80]).unwrap(), -128);
        assert_eq!(twos_complement_i128(&[]).unwrap(), 0);
        for value in [i128::MIN, i128::MAX, -1, 0, 1, -(1 << 70), (1 << 100) + 12345] {
            let bytes = value.to_be_bytes();
            assert_eq!(twos_complement_i128(&bytes).unwrap(), value, "{value}");
            // The shortest form, and one sign byte more than 16.
            let skip = bytes
                .iter()
                .zip(&bytes[1..])
                .take_while(|(a, b)| (**a == 0 && **b < 0x80) || (**a == 0xff && **b >= 0x80))
                .count();
            assert_eq!(twos_complement_i128(&bytes[skip..]).unwrap(), value, "{value}");
            let sign = if value < 0 { 0xff } else { 0 };
            let wider: Vec<u8> = std::iter::once(sign).chain(bytes).collect();
            assert_eq!(twos_complement_i128(&wider).unwrap(), value, "{value}");
        }
        // A 17th byte that is not the sign of the 16 others: the value needs 129 bits.
        assert!(twos_complement_i128(&[0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert_eq!(decimal_text(&[0x30, 0x39], 2), "123.45");
        assert_eq!(decimal_text(&[0xcf, 0xc7], 2), "-123.45");
        assert_eq!(decimal_text(&[0x05], 3), "0.005");
        assert_eq!(decimal_text(&[], 0), "0");
    }

    #[test]
    fn big_decimal_scales_either_way() {
        assert_eq!(big_decimal_text(&[0x01], -10).as_deref(), Some("10000000000"));
        assert_eq!(big_decimal_text(&[0xe7], -2).as_deref(), Some("-2500"));
        assert_eq!(big_decimal_text(&[0x00], -5).as_deref(), Some("0"));
        assert_eq!(big_decimal_text(&[0xcf, 0xc7], 2).as_deref(), Some("-123.45"));
        assert_eq!(big_decimal_text(&[0x01], -MAX_BIG_DECIMAL_SCALE).map(|t| t.len()), Some(10_001));
        assert_eq!(big_decimal_text(&[0x01], i32::MIN), None);
        assert_eq!(big_decimal_text(&[0x01], i32::MAX), None);
    }
}
