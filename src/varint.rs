//! Avro's zig-zag varints, shared by the reader (container framing, record bytes) and
//! the writer. A leaf: it knows no other module of the crate.

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
    fn encodes_what_it_decodes() {
        for v in [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX, 1 << 35, -(1 << 49)] {
            let mut out = Vec::new();
            put_long(&mut out, v);
            let mut n = 0u64;
            for (i, byte) in out.iter().enumerate() {
                n |= u64::from(byte & 0x7f) << (7 * i);
            }
            assert_eq!(zigzag_decode(n), v);
        }
    }
}
