//! Polars keeps strings and binaries as views: 16 bytes per value holding values of up
//! to 12 bytes inline and pointing into a data buffer for longer ones. Building them
//! directly (rather than through a general-purpose mutable array) keeps the per-value
//! work to a length check, a copy and a push.

use polars_arrow::array::{BinaryViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

/// Offsets into a data buffer are 32 bits: a new buffer starts before one would overflow.
const MAX_BUFFER_LEN: usize = u32::MAX as usize;

#[derive(Debug, Clone, Default)]
pub struct ViewBuilder {
    views: Vec<View>,
    finished_buffers: Vec<Buffer<u8>>,
    buffer: Vec<u8>,
    total_bytes_len: usize,
}

impl ViewBuilder {
    pub fn len(&self) -> usize {
        self.views.len()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.views.reserve(additional);
    }

    /// The bytes of the values too long to be held in their views.
    pub fn buffered_bytes(&self) -> usize {
        self.finished_buffers.iter().map(|b| b.len()).sum::<usize>() + self.buffer.len()
    }

    /// Makes room for `additional` bytes of values too long for their views, and an eighth
    /// more: a buffer that must grow after all is copied whole.
    pub fn reserve_bytes(&mut self, additional: usize) {
        let wanted = additional.saturating_add(additional / 8).min(MAX_BUFFER_LEN - self.buffer.len());
        self.buffer.reserve(wanted);
    }

    #[inline]
    pub fn push(&mut self, value: &[u8]) {
        self.total_bytes_len += value.len();
        if value.len() <= View::MAX_INLINE_SIZE as usize {
            // SAFETY: the length was checked just above.
            self.views.push(unsafe { View::new_inline_unchecked(value) });
            return;
        }
        if self.buffer.len() + value.len() > MAX_BUFFER_LEN {
            self.start_new_buffer(value.len());
        }
        let offset = self.buffer.len() as u32;
        self.buffer.extend_from_slice(value);
        let buffer_idx = self.finished_buffers.len() as u32;
        // SAFETY: longer than the inline size, checked above.
        self.views.push(unsafe { View::new_noninline_unchecked(value, buffer_idx, offset) });
    }

    /// Like [`ViewBuilder::push`], for a value that `tail` starts with (the rest of the
    /// block's bytes): short values are then copied in fixed-size moves, with no call to
    /// `memcpy`, and the bytes read past the value are masked off or overwritten.
    #[inline(always)]
    pub fn push_from(&mut self, value: &[u8], tail: &[u8]) {
        const WIDE: usize = 64;
        let len = value.len();
        if len <= View::MAX_INLINE_SIZE as usize && tail.len() >= 12 {
            self.total_bytes_len += len;
            // The view is the length (4 bytes) then the value, zero-padded to 12 bytes.
            let mut raw = [0u8; 16];
            raw[4..16].copy_from_slice(&tail[..12]);
            let keep = 8 * (4 + len) as u32;
            let mask = if keep >= 128 { u128::MAX } else { (1u128 << keep) - 1 };
            self.views.push(View::from((u128::from_le_bytes(raw) & mask) | len as u128));
            return;
        }
        if len > View::MAX_INLINE_SIZE as usize
            && len <= WIDE
            && tail.len() >= WIDE
            && self.buffer.len() + WIDE <= MAX_BUFFER_LEN
        {
            self.total_bytes_len += len;
            self.buffer.reserve(WIDE);
            let offset = self.buffer.len();
            // SAFETY: WIDE bytes were reserved; only `len` of them are kept by set_len.
            unsafe {
                let dst = self.buffer.as_mut_ptr().add(offset);
                std::ptr::copy_nonoverlapping(tail.as_ptr(), dst, WIDE);
                self.buffer.set_len(offset + len);
            }
            let buffer_idx = self.finished_buffers.len() as u32;
            // SAFETY: longer than the inline size, checked above.
            self.views.push(unsafe { View::new_noninline_unchecked(value, buffer_idx, offset as u32) });
            return;
        }
        self.push(value);
    }

    /// Leaves out the values at `rows` (ascending). Their bytes stay in the buffers, unseen.
    pub fn remove_at(&mut self, rows: &[usize]) {
        let mut removed_bytes = 0;
        super::positions::retain_except(&mut self.views, rows, |view| removed_bytes += view.length as usize);
        self.total_bytes_len -= removed_bytes;
    }

    #[cold]
    fn start_new_buffer(&mut self, needed: usize) {
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(needed));
        self.finished_buffers.push(full.into());
    }

    /// The views as a binary array; call [`BinaryViewArray::to_utf8view_unchecked`] on it
    /// for strings whose bytes were checked.
    pub fn finish(mut self, validity: Option<Bitmap>) -> BinaryViewArray {
        if !self.buffer.is_empty() {
            self.finished_buffers.push(std::mem::take(&mut self.buffer).into());
        }
        let total_buffer_len = self.buffered_bytes();
        // SAFETY: every view was made from the bytes it describes, and points into the
        // buffer (index and offset) those bytes were copied to.
        unsafe {
            BinaryViewArray::new_unchecked(
                ArrowDataType::BinaryView,
                self.views.into(),
                self.finished_buffers.into(),
                validity,
                Some(self.total_bytes_len),
                total_buffer_len,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_and_buffered_values_round_trip() {
        let values: [&[u8]; 4] = [b"", b"twelve bytes", b"thirteen byte", b"a much longer value than that"];
        let mut builder = ViewBuilder::default();
        values.iter().for_each(|v| builder.push(v));
        let array = builder.finish(None);
        let read: Vec<&[u8]> = array.values_iter().collect();
        assert_eq!(read, values);
        assert_eq!(array.total_bytes_len(), values.iter().map(|v| v.len()).sum::<usize>());
    }

    #[test]
    fn values_pushed_from_a_longer_tail_keep_only_their_bytes() {
        let block: Vec<u8> = (0..200u8).map(|b| b.wrapping_mul(37) | 1).collect();
        let mut builder = ViewBuilder::default();
        let mut expected = Vec::new();
        let cases = [
            (0, 0),
            (3, 5),
            (10, 12),
            (20, 13),
            (40, 32),
            (80, 33),
            (100, 64),
            (30, 65),
            (150, 40),
            (190, 10),
            (195, 5),
        ];
        for (start, len) in cases {
            let value = &block[start..start + len];
            builder.push_from(value, &block[start..]);
            expected.push(value);
        }
        let array = builder.finish(None);
        let read: Vec<&[u8]> = array.values_iter().collect();
        assert_eq!(read, expected);
        assert_eq!(array.total_bytes_len(), expected.iter().map(|v| v.len()).sum::<usize>());
        // Inline views hold zeros past the value (Polars compares views as integers).
        let inline = array.views()[1];
        assert_eq!(inline.as_u128() >> (8 * (4 + 5)), 0);
    }

    #[test]
    fn removed_values_leave_the_others_and_their_byte_count() {
        let values: [&[u8]; 4] = [b"a", b"a value longer than twelve", b"bc", b"another long value here"];
        let mut builder = ViewBuilder::default();
        values.iter().for_each(|v| builder.push(v));
        builder.remove_at(&[1, 2]);
        let array = builder.finish(None);
        assert_eq!(array.values_iter().collect::<Vec<_>>(), [values[0], values[3]]);
        assert_eq!(array.total_bytes_len(), values[0].len() + values[3].len());
    }
}
