//! Byte streams that keep their own buffer, and can move forward without handing bytes
//! out (or hand a stretch of them out without copying it). A leaf module.

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read};
use std::sync::Arc;

use bytes::Bytes;
use rayon::ThreadPool;

/// `Read::read` for a reader whose own buffer is the truth (`BufRead` first): copies
/// from `fill_buf` and consumes what was copied.
pub(crate) fn read_from_buffer<R: BufRead + ?Sized>(reader: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(buf.len());
    buf[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

/// A buffered byte stream that can also move forward without handing bytes out, so that
/// a count of records can walk block headers past the data.
pub trait ByteStream: BufRead + Send + Sync {
    /// Moves `n` bytes forward; the caller knows (from the length) that they are there.
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        skip_by_reading(self, n)
    }

    /// The next `n` bytes without copying them, moving past them, when the stream holds
    /// them in memory that can be shared (a mapped file); else None, and nothing moves.
    fn take_shared(&mut self, _n: u64) -> Option<Bytes> {
        None
    }

    /// An error when the bytes handed out so far may not be the source's: a mapped file
    /// was cut shorter while it was read (see `source::guard`). After their use `failed`,
    /// also when the file is now shorter (zeros past a cut come without a fault).
    fn intact(&self, _failed: bool) -> std::io::Result<()> {
        Ok(())
    }

    /// Has `pool`'s threads run `walk` over what comes next, a piece at a time, ahead of
    /// the reader, where the stream maps a file (see `source::mapped`); else nothing.
    fn walk_ahead_on(&mut self, _pool: Arc<ThreadPool>, _walk: WindowWalk) {}
}

/// What runs over each piece of a stream mapped ahead of its reader, on the read's pool:
/// given where the piece begins in the stream, the bytes mapped from there on, and the
/// piece's length (the bytes past it are the rest of the map, for what crosses its end).
pub type WindowWalk = Arc<dyn Fn(u64, &[u8], usize) + Send + Sync>;

/// Skips by consuming the buffer, refilled as needed: for streams that cannot seek.
pub(crate) fn skip_by_reading<R: BufRead + ?Sized>(reader: &mut R, mut n: u64) -> std::io::Result<()> {
    while n > 0 {
        let available = reader.fill_buf()?.len() as u64;
        if available == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let step = available.min(n);
        reader.consume(step as usize);
        n -= step;
    }
    Ok(())
}

impl ByteStream for BufReader<File> {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        // Within the buffer this only moves the position; beyond it, one seek.
        self.seek_relative(i64::try_from(n).map_err(std::io::Error::other)?)
    }
}

impl ByteStream for Cursor<Vec<u8>> {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        self.set_position(self.position().saturating_add(n));
        Ok(())
    }
}

impl ByteStream for BufReader<Box<dyn Read + Send + Sync>> {}

impl ByteStream for &[u8] {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let n = usize::try_from(n).ok().filter(|&n| n <= self.len()).ok_or(std::io::ErrorKind::UnexpectedEof)?;
        *self = &self[n..];
        Ok(())
    }
}

impl<T: ByteStream + ?Sized> ByteStream for Box<T> {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        (**self).skip(n)
    }

    fn take_shared(&mut self, n: u64) -> Option<Bytes> {
        (**self).take_shared(n)
    }

    fn intact(&self, failed: bool) -> std::io::Result<()> {
        (**self).intact(failed)
    }

    fn walk_ahead_on(&mut self, pool: Arc<ThreadPool>, walk: WindowWalk) {
        (**self).walk_ahead_on(pool, walk)
    }
}
