//! Helpers for byte streams that keep their own buffer. A leaf module.

use std::io::BufRead;

/// `Read::read` for a reader whose own buffer is the truth (`BufRead` first): copies
/// from `fill_buf` and consumes what was copied.
pub(crate) fn read_from_buffer<R: BufRead + ?Sized>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}
