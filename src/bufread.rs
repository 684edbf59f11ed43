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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn numbers() -> Vec<u8> {
        (0..20).collect()
    }

    #[test]
    fn skipping_by_reading_refills_the_buffer_and_stops_at_the_end() {
        let data = numbers();
        let mut reader = BufReader::with_capacity(4, data.as_slice());
        skip_by_reading(&mut reader, 10).unwrap();
        assert_eq!(reader.fill_buf().unwrap()[0], 10);
        skip_by_reading(&mut reader, 0).unwrap();
        assert_eq!(reader.fill_buf().unwrap()[0], 10, "a skip of nothing moves nothing");
        let error = skip_by_reading(&mut reader, 11).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_read_from_the_buffer_hands_out_what_it_holds_and_no_more() {
        let data = numbers();
        let mut reader = BufReader::with_capacity(4, data.as_slice());
        let mut buf = [0u8; 8];
        assert_eq!(read_from_buffer(&mut reader, &mut buf).unwrap(), 4);
        assert_eq!(buf[..4], [0, 1, 2, 3]);
        let mut small = [0u8; 3];
        assert_eq!(read_from_buffer(&mut reader, &mut small).unwrap(), 3);
        assert_eq!(small, [4, 5, 6]);
        assert_eq!(read_from_buffer(&mut reader, &mut buf).unwrap(), 1, "the rest of the buffer, not a refill");
        assert_eq!(buf[0], 7);
    }

    #[test]
    fn each_stream_skips_as_its_kind_allows() {
        // A slice refuses to go past its end and stays where it was.
        let data = numbers();
        let mut slice: &[u8] = &data;
        assert_eq!(slice.skip(21).unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(slice.len(), 20);
        slice.skip(20).unwrap();
        assert!(slice.is_empty());
        // A cursor moves past the end, where it reads nothing, and never overflows.
        let mut cursor = Cursor::new(numbers());
        cursor.skip(25).unwrap();
        assert!(cursor.fill_buf().unwrap().is_empty());
        cursor.skip(u64::MAX).unwrap();
        assert_eq!(cursor.position(), u64::MAX);
        // A boxed stream skips as the stream inside it: a cursor's skip, not a read.
        let mut boxed: Box<dyn ByteStream> = Box::new(Cursor::new(numbers()));
        boxed.skip(25).unwrap();
        assert!(boxed.take_shared(1).is_none());
        boxed.intact(true).unwrap();
        // A stream that is only read skips by reading.
        let mut read: BufReader<Box<dyn Read + Send + Sync>> = BufReader::new(Box::new(Cursor::new(numbers())));
        read.skip(19).unwrap();
        assert_eq!(read.fill_buf().unwrap(), [19]);
        assert_eq!(read.skip(2).unwrap_err().kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_file_skips_within_its_buffer_and_beyond_it() {
        let path = std::env::temp_dir().join(format!("polars-avro-bufread-{}", std::process::id()));
        File::create(&path).unwrap().write_all(&(0..=255u8).collect::<Vec<_>>()).unwrap();
        let mut reader = BufReader::with_capacity(16, File::open(&path).unwrap());
        assert_eq!(reader.fill_buf().unwrap()[0], 0);
        reader.skip(5).unwrap();
        assert_eq!(reader.fill_buf().unwrap()[0], 5);
        reader.skip(100).unwrap();
        assert_eq!(reader.fill_buf().unwrap()[0], 105);
        std::fs::remove_file(&path).unwrap();
    }
}
