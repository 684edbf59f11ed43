//! Reading Avro's binary encoding by hand, for the decoders written for one record shape
//! (`floor.rs`, `record_loop.rs`): the reads make the reader's checks, and `Strings`
//! builds a string column as Polars holds it.

// Each benchmark uses the reads its shapes need.
#![allow(dead_code)]

/// What a file holds that the reader would refuse.
#[derive(Debug)]
pub struct Bad(pub &'static str);

/// The bytes of a block (or the header), read front to back.
pub struct Bytes<'a> {
    pub data: &'a [u8],
    pub pos: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    #[inline(always)]
    pub fn long(&mut self) -> Result<i64, Bad> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = *self.data.get(self.pos).ok_or(Bad("a varint past the end"))?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
            shift += 7;
            if shift > 63 {
                return Err(Bad("a varint of more than 10 bytes"));
            }
        }
    }

    #[inline(always)]
    pub fn int(&mut self) -> Result<i32, Bad> {
        i32::try_from(self.long()?).map_err(|_| Bad("an int out of range"))
    }

    #[inline(always)]
    pub fn len(&mut self) -> Result<usize, Bad> {
        usize::try_from(self.long()?).map_err(|_| Bad("a negative length"))
    }

    #[inline(always)]
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Bad> {
        let bytes = self.data.get(self.pos..self.pos + n).ok_or(Bad("bytes past the end"))?;
        self.pos += n;
        Ok(bytes)
    }

    #[inline(always)]
    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Bad> {
        Ok(self.take(N)?.try_into().unwrap())
    }

    #[inline(always)]
    pub fn double(&mut self) -> Result<f64, Bad> {
        Ok(f64::from_le_bytes(self.fixed()?))
    }

    #[inline(always)]
    pub fn float(&mut self) -> Result<f32, Bad> {
        Ok(f32::from_le_bytes(self.fixed()?))
    }

    #[inline(always)]
    pub fn boolean(&mut self) -> Result<bool, Bad> {
        match self.fixed::<1>()? {
            [b @ (0 | 1)] => Ok(b == 1),
            _ => Err(Bad("a boolean neither 0 nor 1")),
        }
    }

    /// A ["null", T] union's branch: true for T.
    #[inline(always)]
    pub fn present(&mut self) -> Result<bool, Bad> {
        match self.long()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Bad("a union branch out of range")),
        }
    }

    #[inline(always)]
    pub fn string(&mut self) -> Result<&'a [u8], Bad> {
        let len = self.len()?;
        let value = self.take(len)?;
        utf8(value)?;
        Ok(value)
    }

    /// A string, pushed to `out` (its view made from the block's bytes where they allow).
    #[inline(always)]
    pub fn string_into(&mut self, out: &mut Strings) -> Result<(), Bad> {
        let len = self.len()?;
        let tail = &self.data[self.pos..];
        let value = self.take(len)?;
        utf8_within(value, tail)?;
        out.push_from(value, tail);
        Ok(())
    }

    #[inline(always)]
    pub fn bytes(&mut self) -> Result<&'a [u8], Bad> {
        let len = self.len()?;
        self.take(len)
    }

    /// The next block of an array or map: its item count, 0 at the end.
    #[inline(always)]
    pub fn items(&mut self) -> Result<usize, Bad> {
        let count = self.long()?;
        if count < 0 {
            self.long()?; // the block's size in bytes, for skipping
        }
        Ok(count.unsigned_abs() as usize)
    }

    /// Reads an array's or a map's items, block by block, with `item` (which reads one).
    #[inline(always)]
    pub fn each_item(&mut self, mut item: impl FnMut(&mut Self) -> Result<(), Bad>) -> Result<(), Bad> {
        loop {
            let n = self.items()?;
            if n == 0 {
                return Ok(());
            }
            for _ in 0..n {
                item(self)?;
            }
        }
    }

    pub fn done(&self) -> Result<(), Bad> {
        match self.pos == self.data.len() {
            true => Ok(()),
            false => Err(Bad("bytes left at the end of a block")),
        }
    }
}

/// `utf8`, for a value that `tail` starts with: up to 64 bytes, its ASCII check is four
/// masked 16-byte words of the tail, no loop over bytes.
#[inline(always)]
pub fn utf8_within(value: &[u8], tail: &[u8]) -> Result<(), Bad> {
    let len = value.len();
    if len > 64 || tail.len() < 64 {
        return utf8(value);
    }
    let high = (0..4).fold(0u128, |high, word| {
        let bytes = u128::from_le_bytes(tail[16 * word..16 * word + 16].try_into().unwrap());
        let kept = len.saturating_sub(16 * word).min(16);
        high | bytes & if kept == 16 { u128::MAX } else { (1u128 << (8 * kept)) - 1 }
    });
    match high & u128::from_le_bytes([0x80; 16]) == 0 {
        true => Ok(()),
        false => utf8(value),
    }
}

#[inline(always)]
pub fn utf8(value: &[u8]) -> Result<(), Bad> {
    match value.is_ascii() || std::str::from_utf8(value).is_ok() {
        true => Ok(()),
        false => Err(Bad("a string that is not UTF-8")),
    }
}

/// A string column as Polars holds it: 16-byte views (the length, then the value itself up
/// to 12 bytes, or its first 4 bytes, buffer 0 and the offset there) and one data buffer.
#[derive(Default)]
pub struct Strings {
    pub views: Vec<u128>,
    pub text: Vec<u8>,
}

impl Strings {
    pub fn with_capacity(rows: usize) -> Self {
        Self { views: Vec::with_capacity(rows), text: Vec::new() }
    }

    #[inline(always)]
    pub fn push(&mut self, value: &[u8]) {
        let len = value.len();
        if len <= 12 {
            let mut raw = [0u8; 16];
            raw[4..4 + len].copy_from_slice(value);
            self.views.push(u128::from_le_bytes(raw) | len as u128);
            return;
        }
        let offset = self.text.len();
        self.text.extend_from_slice(value);
        self.views.push(Self::buffered(value, offset));
    }

    /// The view of a value held in the data buffer at `offset`, made of integers (no bytes
    /// stored to be loaded again as one).
    #[inline(always)]
    pub fn buffered(value: &[u8], offset: usize) -> u128 {
        let prefix = u32::from_le_bytes(value[..4].try_into().unwrap());
        value.len() as u128 | (prefix as u128) << 32 | (offset as u128) << 96
    }

    /// `push`, for a value that `tail` starts with: a short value's view is made by one
    /// 12-byte move and a mask, with no call to `memcpy` and no store of single bytes that
    /// the view is then loaded from.
    #[inline(always)]
    pub fn push_from(&mut self, value: &[u8], tail: &[u8]) {
        const WIDE: usize = 64;
        let len = value.len();
        if len > 12 && len <= WIDE && tail.len() >= WIDE {
            // One 64-byte move, of which `len` bytes are kept.
            let offset = self.text.len();
            self.text.reserve(WIDE);
            // SAFETY: WIDE bytes were reserved, and `tail` has as many; only `len` are kept.
            unsafe {
                std::ptr::copy_nonoverlapping(tail.as_ptr(), self.text.as_mut_ptr().add(offset), WIDE);
                self.text.set_len(offset + len);
            }
            self.views.push(Self::buffered(value, offset));
            return;
        }
        if len > 12 || tail.len() < 12 {
            return self.push(value);
        }
        let mut raw = [0u8; 16];
        raw[4..16].copy_from_slice(&tail[..12]);
        let keep = 8 * (4 + len) as u32;
        let mask = if keep >= 128 { u128::MAX } else { (1u128 << keep) - 1 };
        self.views.push((u128::from_le_bytes(raw) & mask) | len as u128);
    }

    /// The values, in order (for the check).
    pub fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.views.iter().map(|view| {
            let len = *view as u32 as usize;
            if len <= 12 {
                // SAFETY: a u128 is 16 plain bytes; x86-64 and aarch64 are little-endian,
                // so the value sits at bytes 4.. as `push` put it.
                let raw = unsafe { &*(view as *const u128 as *const [u8; 16]) };
                &raw[4..4 + len]
            } else {
                let offset = (view >> 96) as u32 as usize;
                &self.text[offset..offset + len]
            }
        })
    }
}
