//! A stream that can be given bytes back, to read them again: resynchronization searches a
//! failed block's bytes, already read, and hands back those past where reading resumes.

use std::io::{BufRead, Read};

use bytes::Bytes;

use crate::bufread::{skip_by_reading, ByteStream};

/// A stream, with the bytes given back read first.
pub struct Rewindable<R> {
    pub inner: R,
    replay: Vec<u8>,
    position: usize,
}

impl<R> Rewindable<R> {
    pub fn new(inner: R) -> Self {
        Self { inner, replay: Vec::new(), position: 0 }
    }

    /// Whether bytes given back are still to be read again.
    pub fn replaying(&self) -> bool {
        self.position < self.replay.len()
    }

    /// Puts `bytes` before what is left to read.
    pub fn rewind(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let mut replay = bytes.to_vec();
        replay.extend_from_slice(&self.replay[self.position..]);
        self.replay = replay;
        self.position = 0;
    }
}

impl<R: BufRead> Read for Rewindable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        crate::bufread::read_from_buffer(self, buf)
    }
}

impl<R: ByteStream> ByteStream for Rewindable<R> {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let replayed = ((self.replay.len() - self.position) as u64).min(n);
        if replayed > 0 {
            skip_by_reading(self, replayed)?;
        }
        self.inner.skip(n - replayed)
    }

    fn take_shared(&mut self, n: u64) -> Option<Bytes> {
        // Bytes given back are replayed first, and only from the replay buffer.
        if self.replaying() {
            return None;
        }
        self.inner.take_shared(n)
    }

    fn intact(&self, failed: bool) -> std::io::Result<()> {
        self.inner.intact(failed)
    }
}

impl<R: BufRead> BufRead for Rewindable<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.replaying() {
            return Ok(&self.replay[self.position..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.replaying() {
            self.position += amount;
            if self.position >= self.replay.len() {
                self.replay = Vec::new();
                self.position = 0;
            }
        } else {
            self.inner.consume(amount);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_given_back_are_read_first_then_the_stream() {
        let mut stream = Rewindable::new(&b"6789"[..]);
        let mut read = Vec::new();
        stream.rewind(b"345");
        stream.rewind(b"012");
        assert!(stream.replaying());
        // Nothing given back moves nothing.
        stream.rewind(b"");
        stream.read_to_end(&mut read).unwrap();
        assert_eq!((read.as_slice(), stream.replaying()), (&b"0123456789"[..], false));
    }

    #[test]
    fn a_skip_goes_through_the_bytes_given_back_into_the_stream() {
        let mut stream = Rewindable::new(&b"6789"[..]);
        stream.rewind(b"012345");
        stream.skip(8).unwrap();
        assert_eq!(stream.fill_buf().unwrap(), b"89");
    }
}
