//! Decimal text (what the reader gives for decimals wider than Polars holds, and for
//! big-decimal) back into Avro's two's-complement bytes. The inverse of `decode::decimal`.

/// A plain decimal text (`-123.450`, `7`, `.5`): its sign, every digit, and how many
/// digits follow the point. None when it is not one.
pub fn parse_decimal_text(text: &str) -> Option<(bool, Vec<u8>, usize)> {
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = rest.split_once('.').unwrap_or((rest, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits: Option<Vec<u8>> =
        whole.bytes().chain(fraction.bytes()).map(|b| b.is_ascii_digit().then(|| b - b'0')).collect();
    Some((negative, digits?, fraction.len()))
}

/// The unscaled value of decimal digits as minimal big-endian two's-complement bytes.
pub fn twos_complement(negative: bool, digits: &[u8]) -> Vec<u8> {
    // The magnitude, with one spare leading byte for the sign.
    let mut bytes = vec![0u8];
    for digit in digits {
        let mut carry = u32::from(*digit);
        for byte in bytes.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = v as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            bytes.insert(0, carry as u8);
            carry >>= 8;
        }
        if bytes[0] != 0 {
            bytes.insert(0, 0);
        }
    }
    if negative && bytes.iter().any(|b| *b != 0) {
        let mut carry = true;
        for byte in bytes.iter_mut().rev() {
            let (sum, overflow) = (!*byte).overflowing_add(u8::from(carry));
            *byte = sum;
            carry = overflow;
        }
    }
    // Drop leading bytes that only repeat the sign of the next one.
    let fill = if bytes[0] & 0x80 != 0 { 0xff } else { 0 };
    let keep_from = (0..bytes.len() - 1).find(|&i| bytes[i] != fill || (bytes[i + 1] & 0x80 != 0) != (fill == 0xff));
    bytes.split_off(keep_from.unwrap_or(bytes.len() - 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decimal_text;

    fn roundtrip(text: &str, scale: usize) -> String {
        let (negative, digits, fraction) = parse_decimal_text(text).unwrap();
        assert_eq!(fraction, scale);
        decimal_text(&twos_complement(negative, &digits), scale)
    }

    #[test]
    fn texts_become_the_bytes_the_reader_reads_back() {
        for (text, scale) in [("0", 0), ("-1", 0), ("127", 0), ("128", 0), ("-128", 0), ("-129", 0), ("-123.45", 2)] {
            assert_eq!(roundtrip(text, scale), text);
        }
        let wide = "-123456789012345678901234567890123456789012345678.9012345678";
        assert_eq!(roundtrip(wide, 10), wide);
        assert_eq!(twos_complement(false, &[1, 2, 8]), vec![0x00, 0x80]);
        assert_eq!(twos_complement(true, &[1, 2, 8]), vec![0x80]);
        assert_eq!(twos_complement(true, &[0]), vec![0x00]);
    }

    #[test]
    fn only_plain_decimal_texts_parse() {
        assert_eq!(parse_decimal_text(".5"), Some((false, vec![5], 1)));
        for bad in ["", "-", ".", "1e5", "1.2.3", "abc", " 1"] {
            assert_eq!(parse_decimal_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_bytes_are_the_fewest_that_hold_the_value_and_its_sign() {
        let cases: [(bool, &[u8], &[u8]); 11] = [
            (false, &[0], &[0x00]),
            (false, &[1, 2, 7], &[0x7f]),
            (false, &[2, 5, 5], &[0x00, 0xff]),
            (false, &[2, 5, 6], &[0x01, 0x00]),
            (false, &[0, 0, 5], &[0x05]),
            (true, &[1], &[0xff]),
            (true, &[1, 2, 8], &[0x80]),
            (true, &[1, 2, 9], &[0xff, 0x7f]),
            (true, &[2, 5, 6], &[0xff, 0x00]),
            (true, &[3, 2, 7, 6, 8], &[0x80, 0x00]),
            // Minus zero is zero.
            (true, &[0, 0], &[0x00]),
        ];
        for (negative, digits, bytes) in cases {
            assert_eq!(twos_complement(negative, digits), bytes, "{negative} {digits:?}");
        }
    }

    #[test]
    fn a_text_gives_its_sign_digits_and_scale() {
        for (text, parsed) in [
            ("+5", (false, vec![5], 0)),
            ("-0.50", (true, vec![0, 5, 0], 2)),
            ("5.", (false, vec![5], 0)),
            ("-.5", (true, vec![5], 1)),
            ("007", (false, vec![0, 0, 7], 0)),
        ] {
            assert_eq!(parse_decimal_text(text), Some(parsed), "{text}");
        }
        for bad in ["+", "+-1", "--1", "1_0", "1 ", "１", "-", "1,5"] {
            assert_eq!(parse_decimal_text(bad), None, "{bad}");
        }
    }
}
