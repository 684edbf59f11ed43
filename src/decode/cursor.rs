//! Reading Avro's binary primitives (zig-zag varints, floats, length-prefixed bytes)
//! from one block's decompressed bytes.

use crate::error::{AvroError, AvroResult};
use crate::varint::{decode_long, zigzag_decode, VarintError, MAX_VARINT_LEN};

/// The most items an array or map block may claim beyond its remaining bytes (for items
/// that take no bytes, such as nulls).
const MAX_ZERO_SIZE_ITEMS: u64 = 1 << 20;

std::thread_local! {
    /// Array and map items the block being decoded may still claim in counts of 64 or
    /// more. Items that take bytes are bounded by the bytes; items that take none (nulls,
    /// empty records) only by this, so that many arrays of them cannot together claim
    /// billions of items from a few kilobytes.
    static ITEM_BUDGET: std::cell::Cell<u64> = const { std::cell::Cell::new(u64::MAX) };
}

/// Starts the item budget of a block of `len` decompressed bytes: what its bytes can
/// hold, plus [`MAX_ZERO_SIZE_ITEMS`] that take no bytes.
pub fn start_item_budget(len: usize) {
    ITEM_BUDGET.set((len as u64).saturating_add(MAX_ZERO_SIZE_ITEMS));
}

/// `Copy`, so the record loop can hand copies to out-of-line code and keep its own
/// position in a register.
#[derive(Clone, Copy)]
pub struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// A zig-zag encoded long. Most values are read from ten bytes known to be there,
    /// which the compiler unrolls without bounds checks; only the last few bytes of a
    /// block take the careful path.
    #[inline(always)]
    pub fn read_long(&mut self) -> AvroResult<i64> {
        let decoded = match self.data.get(self.pos..self.pos + MAX_VARINT_LEN) {
            Some(bytes) => {
                let bytes: &[u8; MAX_VARINT_LEN] = bytes.try_into().unwrap();
                if bytes[0] < 0x80 {
                    self.pos += 1;
                    return Ok(zigzag_decode(u64::from(bytes[0])));
                }
                decode_long(bytes)
            },
            // By value, not `&mut self`: a cursor whose address escapes to an out-of-line
            // call lives in memory for the whole record loop.
            None => long_near_end(self.data, self.pos),
        };
        match decoded {
            Ok((value, len)) => {
                self.pos += len;
                Ok(value)
            },
            Err(e) => Err(bad_varint(e, self.pos, self.data.len())),
        }
    }

    #[inline(always)]
    pub fn read_int(&mut self) -> AvroResult<i32> {
        let start = self.pos;
        let v = self.read_long()?;
        match i32::try_from(v) {
            Ok(v) => Ok(v),
            Err(_) => Err(int_out_of_range(start, v)),
        }
    }

    #[inline(always)]
    pub fn read_bool(&mut self) -> AvroResult<bool> {
        match self.data.get(self.pos) {
            Some(&b) if b <= 1 => {
                self.pos += 1;
                Ok(b == 1)
            },
            found => Err(bad_bool(self.pos, self.data.len(), found.copied())),
        }
    }

    #[inline(always)]
    pub fn read_fixed(&mut self, n: usize) -> AvroResult<&'a [u8]> {
        match self.pos.checked_add(n).and_then(|end| self.data.get(self.pos..end)) {
            Some(out) => {
                self.pos += n;
                Ok(out)
            },
            _ => Err(truncated_fixed(self.pos, self.data.len(), n)),
        }
    }

    #[inline(always)]
    pub fn read_f32(&mut self) -> AvroResult<f32> {
        Ok(f32::from_le_bytes(self.read_fixed(4)?.try_into().unwrap()))
    }

    #[inline(always)]
    pub fn read_f64(&mut self) -> AvroResult<f64> {
        Ok(f64::from_le_bytes(self.read_fixed(8)?.try_into().unwrap()))
    }

    /// A length prefix, checked to be non-negative and to fit in what remains, so a
    /// corrupt length can never trigger a large allocation.
    #[inline(always)]
    pub fn read_len(&mut self, what: &str) -> AvroResult<usize> {
        let start = self.pos;
        let len = self.read_long()?;
        if len < 0 || len as u64 > self.remaining() as u64 {
            return Err(bad_len(what, start, len, self.remaining()));
        }
        Ok(len as usize)
    }

    #[inline(always)]
    pub fn read_bytes(&mut self, what: &str) -> AvroResult<&'a [u8]> {
        self.read_bytes_and_tail(what).map(|(bytes, _)| bytes)
    }

    /// Length-prefixed bytes, with the rest of the block's bytes from their start.
    #[inline(always)]
    pub fn read_bytes_and_tail(&mut self, what: &str) -> AvroResult<(&'a [u8], &'a [u8])> {
        let len = self.read_len(what)?;
        let tail = &self.data[self.pos..];
        self.pos += len;
        Ok((&tail[..len], tail))
    }

    /// A string's bytes (checked as UTF-8, so the error says where), with the rest of the
    /// block's bytes from their start.
    #[inline(always)]
    pub fn read_str_and_tail(&mut self, what: &str) -> AvroResult<(&'a [u8], &'a [u8])> {
        let start = self.pos;
        let (bytes, tail) = self.read_bytes_and_tail(what)?;
        // ASCII first: much cheaper than a full UTF-8 check on short values.
        if !is_ascii_within(bytes, tail) && std::str::from_utf8(bytes).is_err() {
            return Err(not_utf8(what, start));
        }
        Ok((bytes, tail))
    }

    /// Length-prefixed bytes that must be UTF-8 (checked here, so the error says where).
    #[inline(always)]
    pub fn read_str(&mut self, what: &str) -> AvroResult<&'a str> {
        let (bytes, _) = self.read_str_and_tail(what)?;
        // SAFETY: read_str_and_tail checked the bytes as UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    }

    /// Calls `item` once per item of an array or map, across all its blocks.
    #[inline]
    pub fn for_each_item(&mut self, what: &str, mut item: impl FnMut(&mut Self) -> AvroResult<()>) -> AvroResult<()> {
        loop {
            let (count, _) = self.read_block_header(what)?;
            if count == 0 {
                return Ok(());
            }
            for _ in 0..count {
                item(self)?;
            }
        }
    }

    /// The item count of the next block of an array or map (0 ends the sequence) and its
    /// byte size when the writer gave one (a negative count), so a skipped array or map
    /// can be jumped over whole.
    #[inline(always)]
    pub fn read_block_header(&mut self, what: &str) -> AvroResult<(usize, Option<usize>)> {
        // Most blocks hold fewer than 64 items, a count in one byte with nothing to check.
        if let Some(&byte) = self.data.get(self.pos) {
            if byte & 0x81 == 0 {
                self.pos += 1;
                return Ok((usize::from(byte >> 1), None));
            }
        }
        self.read_any_block_header(what)
    }

    #[inline(never)]
    fn read_any_block_header(&mut self, what: &str) -> AvroResult<(usize, Option<usize>)> {
        let start = self.pos;
        let count = self.read_long()?;
        let (count, size) = if count >= 0 {
            (count as u64, None)
        } else {
            let size = self.read_long()?;
            if size < 0 || size as u64 > self.remaining() as u64 || count == i64::MIN {
                return Err(AvroError::decode(format!(
                    "invalid {what} block at byte {start} of the block data: count {count}, byte size {size}, \
                    {} bytes remain",
                    self.remaining()
                )));
            }
            (count.unsigned_abs(), Some(size as usize))
        };
        // Items take at least a byte, except nulls and empty records: a count far beyond
        // the remaining bytes is corrupt, and must not become a long loop.
        if count > (self.remaining() as u64).max(MAX_ZERO_SIZE_ITEMS) {
            return Err(AvroError::decode(format!(
                "expected a block count of the {what} that fits in the {} bytes that remain, found {count} at byte \
                {start} of the block data",
                self.remaining()
            )));
        }
        let budget = ITEM_BUDGET.get();
        if count > budget {
            return Err(AvroError::decode(format!(
                "the arrays and maps of this block claim more items than its bytes can hold plus \
                {MAX_ZERO_SIZE_ITEMS} that take no bytes: found a count of {count} at byte {start} of the block data"
            )));
        }
        ITEM_BUDGET.set(budget - count);
        Ok((count as usize, size))
    }

    #[inline(always)]
    pub fn skip(&mut self, n: usize) -> AvroResult<()> {
        self.read_fixed(n).map(|_| ())
    }
}

// The error paths take plain values, never the cursor: a cursor whose address escapes
// to out-of-line code could not stay in registers in the record loop.

/// Whether `value`, which `tail` starts with, is ASCII. Up to 64 bytes, where the tail holds
/// 64, it is read as four 16-byte words whose bytes past the value are masked off: no loop
/// over single bytes, whose branches mispredict on values of varying length.
#[inline(always)]
fn is_ascii_within(value: &[u8], tail: &[u8]) -> bool {
    const WIDE: usize = 64;
    let len = value.len();
    if len > WIDE || tail.len() < WIDE {
        return value.is_ascii();
    }
    let mut high = 0u128;
    for word in 0..WIDE / 16 {
        let bytes = u128::from_le_bytes(tail[16 * word..16 * word + 16].try_into().unwrap());
        let kept = len.saturating_sub(16 * word).min(16);
        let mask = if kept == 16 { u128::MAX } else { (1u128 << (8 * kept)) - 1 };
        high |= bytes & mask;
    }
    high & u128::from_le_bytes([0x80; 16]) == 0
}

/// The long at `pos` where fewer than ten bytes remain.
#[inline(never)]
fn long_near_end(data: &[u8], pos: usize) -> Result<(i64, usize), VarintError> {
    decode_long(&data[pos..])
}

#[cold]
#[inline(never)]
fn bad_varint(error: VarintError, pos: usize, len: usize) -> AvroError {
    match error {
        VarintError::Truncated => truncated(len, len, "a varint"),
        VarintError::Overlong => overlong(pos),
    }
}

#[cold]
#[inline(never)]
fn truncated(pos: usize, len: usize, what: &str) -> AvroError {
    AvroError::decode(format!(
        "the block data ended while reading {what} at byte {pos} of {len} decompressed bytes: expected more data"
    ))
}

#[cold]
#[inline(never)]
fn truncated_fixed(pos: usize, len: usize, n: usize) -> AvroError {
    truncated(pos, len, &format!("{n} bytes"))
}

#[cold]
#[inline(never)]
fn overlong(start: usize) -> AvroError {
    AvroError::decode(format!("a varint at byte {start} of the block data is longer than 64 bits"))
}

#[cold]
#[inline(never)]
fn bad_bool(pos: usize, len: usize, found: Option<u8>) -> AvroError {
    match found {
        Some(b) => AvroError::decode(format!("expected a boolean (0 or 1) at byte {pos} of the block data, found {b}")),
        None => truncated(pos, len, "a boolean"),
    }
}

#[cold]
#[inline(never)]
fn bad_len(what: &str, start: usize, len: i64, remaining: usize) -> AvroError {
    AvroError::decode(format!(
        "expected the length of {what} at byte {start} of the block data to be between 0 and the {remaining} \
        bytes that remain, found {len}"
    ))
}

#[cold]
#[inline(never)]
fn int_out_of_range(start: usize, v: i64) -> AvroError {
    AvroError::decode(format!(
        "expected an Avro int at byte {start} of the block data, found the value {v}, outside 32 bits"
    ))
}

#[cold]
#[inline(never)]
fn not_utf8(what: &str, start: usize) -> AvroError {
    AvroError::decode(format!("{what} at byte {start} of the block data is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_judged_by_the_values_bytes_alone() {
        // Every length around the words' edges, a high bit at each place of the value and
        // just past it (in the tail, which must not count), tails long and short.
        for len in 0..=70 {
            for high_at in (0..len + 2).map(Some).chain([None]) {
                let mut block = [b'a'; 140];
                if let Some(at) = high_at {
                    block[at] = 0xc3;
                }
                for tail_len in [len, len + 1, 64, 140] {
                    let tail = &block[..tail_len.max(len)];
                    let value = &tail[..len];
                    assert_eq!(is_ascii_within(value, tail), value.is_ascii(), "{len} {high_at:?} {tail_len}");
                }
            }
        }
    }

    #[test]
    fn zigzag_longs() {
        let cases: &[(&[u8], i64)] = &[
            (&[0x00], 0),
            (&[0x01], -1),
            (&[0x02], 1),
            (&[0x7f], -64),
            (&[0x80, 0x01], 64),
            (&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], i64::MIN),
            (&[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], i64::MAX),
        ];
        for (bytes, expected) in cases {
            assert_eq!(Cursor::new(bytes).read_long().unwrap(), *expected);
        }
    }

    #[test]
    fn every_varint_length_decodes_in_the_middle_and_at_the_end_of_a_block() {
        let mut values = vec![0i64, -1, 1, 63, -64, 64, i64::MIN, i64::MAX];
        for bits in 1..64 {
            values.extend([
                1i64 << bits,
                (1i64 << bits).wrapping_neg(),
                (1i64 << bits).wrapping_sub(1),
                0x5555_5555_5555_5555 >> (63 - bits),
            ]);
        }
        for v in values {
            let mut bytes = Vec::new();
            let mut z = ((v << 1) ^ (v >> 63)) as u64;
            while z >= 0x80 {
                bytes.push((z as u8 & 0x7f) | 0x80);
                z >>= 7;
            }
            bytes.push(z as u8);
            let len = bytes.len();
            // At the end of the data (the careful path) and followed by more (the fast paths).
            let mut cur = Cursor::new(&bytes);
            assert_eq!((cur.read_long().unwrap(), cur.position()), (v, len), "{v} at the end");
            bytes.extend_from_slice(&[0xff; 12]);
            let mut cur = Cursor::new(&bytes);
            assert_eq!((cur.read_long().unwrap(), cur.position()), (v, len), "{v} followed by more");
        }
    }

    #[test]
    fn overlong_and_truncated_varints_are_errors() {
        assert!(Cursor::new(&[0xff; 11]).read_long().is_err());
        assert!(Cursor::new(&[0x80]).read_long().is_err());
        // 2^32 does not fit an int.
        assert!(Cursor::new(&[0x80, 0x80, 0x80, 0x80, 0x20]).read_int().is_err());
    }

    #[test]
    fn lengths_cannot_exceed_the_data() {
        let mut c = Cursor::new(&[0x10, 1, 2]);
        assert!(c.read_bytes("a string").is_err());
    }
}
