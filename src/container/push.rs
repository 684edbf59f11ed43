//! Push decoders and the one loop that reads for them. A decoder is pushed the bytes of a
//! stream in order and says how many it took, doing no I/O itself, so that what the bytes
//! say is decided from the bytes alone (and tested so, a byte at a time); [`feed`] is the
//! only reading: fill the stream's buffer, push, consume what was taken.

use std::io::BufRead;

use crate::error::{AvroError, AvroResult};

/// A decoder of the bytes of a stream, pushed to it in order.
pub trait Push {
    /// What it decodes.
    type Output;

    /// Takes what it needs from the front of `bytes`, which follow those pushed before
    /// (none, at first: it may need none).
    fn push(&mut self, bytes: &[u8]) -> Pushed<Self::Output>;

    /// The stream ended: what the bytes pushed make, or the error that they end too soon.
    fn end(&mut self) -> AvroResult<Self::Output>;

    /// Where a failure of the source is said to be: where the bytes being read begin.
    fn at(&self) -> u64;
}

/// What a decoder made of the bytes pushed to it.
#[derive(Debug)]
pub struct Pushed<T> {
    /// Bytes it took from the front of them: taken from the stream, whatever the result.
    pub used: usize,
    /// Its result (an error ends it too); None: it needs more, after those it took.
    pub done: Option<AvroResult<T>>,
}

impl<T> Pushed<T> {
    /// `used` bytes taken, more needed.
    pub fn more(used: usize) -> Self {
        Self { used, done: None }
    }

    /// Done, `used` bytes taken.
    pub fn done(used: usize, result: AvroResult<T>) -> Self {
        Self { used, done: Some(result) }
    }

    /// The same, its result made another by `f`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Pushed<U> {
        Pushed { used: self.used, done: self.done.map(|done| done.map(f)) }
    }
}

/// Pushes the bytes of `stream` to `decoder` until it is done or the stream ends, the bytes
/// it takes consumed and counted in `offset`: the one refill loop of the container reader.
pub fn feed<R: BufRead + ?Sized, P: Push + ?Sized>(
    stream: &mut R,
    offset: &mut u64,
    decoder: &mut P,
) -> AvroResult<P::Output> {
    // First no bytes: a decoder that needs none (a value of no bytes, a search that gave
    // up) is done without a read.
    let mut pushed = decoder.push(&[]);
    loop {
        stream.consume(pushed.used);
        *offset += pushed.used as u64;
        if let Some(done) = pushed.done {
            return done;
        }
        let bytes = match stream.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                pushed = Pushed::more(0);
                continue;
            },
            Err(e) => return Err(AvroError::io(e, "reading the file failed").at_offset(decoder.at())),
        };
        if bytes.is_empty() {
            return decoder.end();
        }
        pushed = decoder.push(bytes);
    }
}

/// Whether `stream` has ended, looked at without taking a byte: before the header and
/// between blocks, where an end is no damage. A failure of the source there names no place.
pub fn at_end<R: BufRead + ?Sized>(stream: &mut R) -> AvroResult<bool> {
    let bytes = stream.fill_buf().map_err(|e| AvroError::io(e, "reading the file failed"))?;
    Ok(bytes.is_empty())
}

/// The error of bytes that end too soon: `found` of the `expected` bytes of `what`, which
/// begin (or, for a varint, go on) at `offset`.
pub fn ended(what: &str, expected: u64, found: u64, offset: u64) -> AvroError {
    AvroError::format(format!("the file ended while reading {what}: expected {expected} bytes, found {found}"))
        .at_offset(offset)
}

/// Exactly `len` bytes, whatever they hold: the magic bytes, a metadata key or value, a
/// sync marker, a block's data.
#[derive(Debug)]
pub struct Exact {
    what: &'static str,
    /// Where they begin.
    start: u64,
    len: u64,
    bytes: Vec<u8>,
}

impl Exact {
    /// The `len` bytes of `what` that begin at `start`.
    pub fn new(len: u64, what: &'static str, start: u64) -> Self {
        // Not allocated up front: a lying length fails on the missing bytes, not on a huge allocation.
        Self { what, start, len, bytes: Vec::with_capacity(len.min(1 << 24) as usize) }
    }

    /// The bytes taken so far (all of them once done, when they were not handed out).
    pub fn into_taken(self) -> Vec<u8> {
        self.bytes
    }
}

impl Push for Exact {
    type Output = Vec<u8>;

    fn push(&mut self, bytes: &[u8]) -> Pushed<Vec<u8>> {
        let wanted = self.len - self.bytes.len() as u64;
        let used = bytes.len().min(usize::try_from(wanted).unwrap_or(usize::MAX));
        self.bytes.extend_from_slice(&bytes[..used]);
        match self.bytes.len() as u64 == self.len {
            true => Pushed::done(used, Ok(std::mem::take(&mut self.bytes))),
            false => Pushed::more(used),
        }
    }

    fn end(&mut self) -> AvroResult<Vec<u8>> {
        match self.bytes.len() as u64 == self.len {
            true => Ok(std::mem::take(&mut self.bytes)),
            false => Err(ended(self.what, self.len, self.bytes.len() as u64, self.start)),
        }
    }

    fn at(&self) -> u64 {
        self.start
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::io::BufReader;

    use super::*;
    use crate::bufread::ByteStream;

    /// A stream that hands out `chunk` bytes at a time, and fails once `fail_at` bytes (at
    /// least) were consumed, when given.
    pub struct Chunks<'a> {
        bytes: &'a [u8],
        chunk: usize,
        fail_at: Option<usize>,
        consumed: usize,
        fills: usize,
    }

    impl std::io::Read for Chunks<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            crate::bufread::read_from_buffer(self, buf)
        }
    }

    impl BufRead for Chunks<'_> {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            self.fills += 1;
            if self.fail_at.is_some_and(|at| self.consumed >= at) {
                return Err(std::io::Error::other("the disk is gone"));
            }
            let rest = &self.bytes[self.consumed..];
            Ok(&rest[..rest.len().min(self.chunk)])
        }

        fn consume(&mut self, amount: usize) {
            self.consumed += amount;
        }
    }

    impl ByteStream for Chunks<'_> {}

    pub fn chunks(bytes: &[u8], chunk: usize) -> Chunks<'_> {
        Chunks { bytes, chunk, fail_at: None, consumed: 0, fills: 0 }
    }

    #[test]
    fn the_loop_pushes_until_done_and_consumes_only_what_was_taken() {
        let bytes: Vec<u8> = (0..100).collect();
        for chunk in [1, 3, 7, 100] {
            let mut stream = chunks(&bytes, chunk);
            let mut offset = 10;
            let taken = feed(&mut stream, &mut offset, &mut Exact::new(25, "some bytes", 10)).unwrap();
            assert_eq!((taken, offset, stream.consumed), ((0..25).collect::<Vec<u8>>(), 35, 25), "chunks of {chunk}");
            // What the decoder left is the stream's still.
            assert_eq!(stream.fill_buf().unwrap()[0], 25);
        }
        // A decoder that wants nothing is done without a read.
        let mut stream = chunks(&bytes, 4);
        let mut offset = 0;
        assert!(feed(&mut stream, &mut offset, &mut Exact::new(0, "nothing", 0)).unwrap().is_empty());
        assert_eq!((offset, stream.fills), (0, 0));
    }

    #[test]
    fn an_end_too_soon_says_what_was_expected_and_found_where_the_bytes_begin() {
        let mut stream = chunks(b"abc", 2);
        let mut offset = 40;
        let mut exact = Exact::new(16, "a block's sync marker", 40);
        let e = feed(&mut stream, &mut offset, &mut exact).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.offset, offset),
            ("the file ended while reading a block's sync marker: expected 16 bytes, found 3", Some(40), 43)
        );
        // The bytes taken stay with the decoder, for whoever searches them again.
        assert_eq!(exact.into_taken(), b"abc");
    }

    #[test]
    fn a_failure_of_the_source_is_said_to_be_where_the_bytes_being_read_begin() {
        let bytes = [7u8; 50];
        let mut stream = Chunks { fail_at: Some(20), ..chunks(&bytes, 8) };
        let mut offset = 100;
        let e = feed(&mut stream, &mut offset, &mut Exact::new(30, "a block's data", 100)).unwrap_err();
        assert_eq!((e.kind, e.offset, offset), (crate::error::ErrorKind::Io, Some(100), 124));
        assert!(e.message.starts_with("reading the file failed: the disk is gone"), "{}", e.message);
        // Looking for the end takes nothing, and its failure names no place.
        let mut stream = chunks(&bytes, 8);
        assert!(!at_end(&mut stream).unwrap());
        assert_eq!(stream.consumed, 0);
        let mut stream = Chunks { fail_at: Some(0), ..chunks(&bytes, 8) };
        assert_eq!(at_end(&mut stream).unwrap_err().offset, None);
        assert!(at_end(&mut BufReader::new(&[][..])).unwrap());
    }

    #[test]
    fn an_interrupted_fill_is_tried_again() {
        struct Interrupted<'a>(Chunks<'a>, bool);
        impl std::io::Read for Interrupted<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                crate::bufread::read_from_buffer(self, buf)
            }
        }
        impl BufRead for Interrupted<'_> {
            fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
                if std::mem::take(&mut self.1) {
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                self.0.fill_buf()
            }
            fn consume(&mut self, amount: usize) {
                self.0.consume(amount)
            }
        }
        let mut stream = Interrupted(chunks(b"0123", 4), true);
        let mut offset = 0;
        assert_eq!(feed(&mut stream, &mut offset, &mut Exact::new(4, "x", 0)).unwrap(), b"0123");
        assert_eq!(stream.0.fills, 1);
    }
}
