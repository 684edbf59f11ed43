//! Avro's zig-zag varints, shared by the reader (container framing, record bytes,
//! resynchronisation) and the writer. A leaf: it knows no other module of the crate.

/// The longest varint: ten bytes of seven bits hold 64.
pub const MAX_VARINT_LEN: usize = 10;

/// Why bytes do not hold a varint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarintError {
    /// The bytes end before a byte without the continuation bit.
    Truncated,
    /// More than 64 bits: an eleventh byte, or a tenth above 1.
    Overlong,
}

/// The unsigned varint at the start of `bytes`, and its length in bytes. Inlined: given
/// ten bytes known to be there, the compiler drops every bounds check (the record loop).
#[inline(always)]
pub fn decode_unsigned(bytes: &[u8]) -> Result<(u64, usize), VarintError> {
    let mut value: u64 = 0;
    for i in 0..MAX_VARINT_LEN {
        let Some(&byte) = bytes.get(i) else {
            return Err(VarintError::Truncated);
        };
        if i == MAX_VARINT_LEN - 1 && byte > 1 {
            return Err(VarintError::Overlong);
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok((value, i + 1));
        }
    }
    Err(VarintError::Overlong)
}

/// The Avro long (zig-zag varint) at the start of `bytes`, and its length in bytes.
#[inline(always)]
pub fn decode_long(bytes: &[u8]) -> Result<(i64, usize), VarintError> {
    decode_unsigned(bytes).map(|(n, len)| (zigzag_decode(n), len))
}

/// The signed value of a zig-zag encoded unsigned varint.
#[inline(always)]
pub fn zigzag_decode(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// Appends `value` as an Avro long: zig-zag, then base-128 varint.
#[inline(always)]
pub fn put_long(out: &mut Vec<u8>, value: i64) {
    let mut n = ((value << 1) ^ (value >> 63)) as u64;
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    // Built on the stack, then appended as one fixed-size copy and cut to length: no
    // per-byte capacity checks, no memcpy call.
    let mut buf = [0u8; 10];
    let mut len = 0;
    while n >= 0x80 {
        buf[len] = (n as u8) | 0x80;
        n >>= 7;
        len += 1;
    }
    buf[len] = n as u8;
    let end = out.len() + len + 1;
    out.extend_from_slice(&buf);
    out.truncate(end);
}

/// Appends Avro `bytes` or `string`: the length, then the bytes.
#[inline(always)]
pub fn put_bytes(out: &mut Vec<u8>, value: &[u8]) {
    put_long(out, value.len() as i64);
    out.extend_from_slice(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_it_encodes_at_every_length() {
        let mut values = vec![0i64, -1, 1, -64, 64, i64::MIN, i64::MAX];
        values.extend((0..63).flat_map(|bit| [1i64 << bit, -(1i64 << bit), (1i64 << bit) - 1]));
        for v in values {
            let mut out = Vec::new();
            put_long(&mut out, v);
            assert!(out.len() <= MAX_VARINT_LEN);
            assert_eq!(decode_long(&out), Ok((v, out.len())), "{v}");
            // Bytes after the varint are not read.
            out.extend_from_slice(&[0xff; 12]);
            assert_eq!(decode_long(&out).map(|(_, len)| len), Ok(out.len() - 12));
        }
    }

    #[test]
    fn zigzag_maps_small_magnitudes_to_small_numbers() {
        let pairs = [(0u64, 0i64), (1, -1), (2, 1), (3, -2), (u64::MAX - 1, i64::MAX), (u64::MAX, i64::MIN)];
        for (n, v) in pairs {
            assert_eq!(zigzag_decode(n), v);
        }
    }

    #[test]
    fn every_cut_of_a_varint_is_truncated() {
        let mut out = Vec::new();
        put_long(&mut out, i64::MIN);
        assert_eq!(out.len(), MAX_VARINT_LEN);
        for cut in 0..out.len() {
            assert_eq!(decode_unsigned(&out[..cut]), Err(VarintError::Truncated), "{cut}");
        }
    }

    #[test]
    fn more_than_64_bits_is_overlong() {
        // A tenth byte above 1 sets bits past the 64th.
        let mut ten = [0x80u8; MAX_VARINT_LEN];
        ten[9] = 0x02;
        assert_eq!(decode_unsigned(&ten), Err(VarintError::Overlong));
        // An eleventh byte.
        let eleven = [0xffu8; 11];
        assert_eq!(decode_unsigned(&eleven), Err(VarintError::Overlong));
        // The largest that fits: 2^64 - 1.
        let mut max = [0xffu8; MAX_VARINT_LEN];
        max[9] = 0x01;
        assert_eq!(decode_unsigned(&max), Ok((u64::MAX, MAX_VARINT_LEN)));
        // A padded zero (non-minimal but within 64 bits) is accepted, as Java's decoder does.
        assert_eq!(decode_unsigned(&[0x80, 0x80, 0x00]), Ok((0, 3)));
    }

    #[test]
    fn a_long_takes_one_more_byte_at_each_seven_bits_of_its_zigzag() {
        // Zig-zag doubles the magnitude: 63 and -64 are the last values of one byte.
        let cases: [(i64, &[u8]); 9] = [
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (-65, &[0x81, 0x01]),
            (8191, &[0xfe, 0x7f]),
            (8192, &[0x80, 0x80, 0x01]),
        ];
        for (value, bytes) in cases {
            let mut out = vec![0xaa];
            put_long(&mut out, value);
            assert_eq!(&out[1..], bytes, "{value}");
            assert_eq!(out[0], 0xaa, "what was there before is kept");
        }
        for value in [i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            put_long(&mut out, value);
            assert_eq!((out.len(), out[9]), (MAX_VARINT_LEN, 0x01), "{value}");
        }
    }

    #[test]
    fn bytes_are_their_length_then_themselves() {
        let mut out = Vec::new();
        put_bytes(&mut out, b"");
        put_bytes(&mut out, b"abc");
        assert_eq!(out, [0x00, 0x06, b'a', b'b', b'c']);
        let long = vec![7u8; 64];
        let mut out = Vec::new();
        put_bytes(&mut out, &long);
        assert_eq!(&out[..2], [0x80, 0x01]);
        assert_eq!(&out[2..], long.as_slice());
    }
}
