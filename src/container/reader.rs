//! Reading the blocks of an object container file after its header ([`super::header`]):
//! each framed by the one framer ([`super::framer`]) from the bytes the one refill loop
//! pushes ([`super::push::feed`]), or taken from framing found ahead ([`super::framing`]);
//! resynchronization after damage ([`super::resync`]); a split's blocks ([`ByteRange`]).

use std::io::BufRead;
use std::sync::Arc;

use bytes::Bytes;

use super::framer::{BlockHeader, BlockMarker, Frame, SyncSearch};
use super::framing::FrameHints;
use super::header::Header;
use super::push::{at_end, feed, Exact};
use super::replay::Rewindable;
use super::resync::{records_of_last_block, resume_before_marker, Claim, WINDOW};
use crate::bufread::ByteStream;
use crate::error::{AvroError, AvroResult};

/// One block as framed in the file, still compressed (or only its framing: see
/// [`ContainerReader::skip_block`]).
#[derive(Debug)]
pub struct RawBlock {
    /// The block's position in the file, from 0.
    pub index: usize,
    /// Byte offset of the block's record count in the file.
    pub offset: u64,
    /// The records the block claims.
    pub count: usize,
    /// The block's bytes, still compressed; empty when the data was skipped. A stretch of
    /// a mapped file (no copy) or bytes read into memory of their own.
    pub data: Bytes,
    /// Bytes of data the block's framing claims (`data.len()` when they were read).
    pub size: usize,
    /// Whether its framing was found ahead of the reader (see [`super::framing`]).
    pub framed_ahead: bool,
}

/// A split's part of a file, as Hadoop's and Spark's Avro readers divide files: the
/// blocks whose preceding sync marker (the header's, for the first block) begins at a byte
/// offset in `start..end`. The last such block is read whole, past `end`; a range that
/// holds no marker holds no block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte of the range.
    pub start: u64,
    /// The byte after the range.
    pub end: u64,
}

/// Reads the header and then block after block from any byte stream.
pub struct ContainerReader<R> {
    reader: Rewindable<R>,
    /// The file's header, read when the reader was made (or given, for a split).
    pub header: Header,
    /// Bytes consumed so far.
    offset: u64,
    /// Total length of the stream, when known: lengths are checked against it.
    total_len: Option<u64>,
    /// Blocks whose marker begins at or past this offset belong to the next split.
    end: Option<u64>,
    next_index: usize,
    /// The block whose framing failed last, for [`Self::resync`].
    failed: Option<FailedBlock>,
    /// Whether reading resumed at a block found inside damage (see [`Self::resync`]):
    /// it belongs to whoever met the damage, wherever its range ends.
    inside_damage: bool,
    /// Framings found ahead of the reader (see [`super::framing`]), if any are looked for.
    hints: Option<Arc<FrameHints>>,
}

/// A block whose framing failed: where it began, the bytes read of it (its framing, data
/// and marker, as far as they were read), and what its framing claimed when that parsed.
struct FailedBlock {
    start: u64,
    bytes: Vec<u8>,
    claimed: Option<Claim>,
}

/// Where [`ContainerReader::resync`] left the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resynced {
    /// Whether a block follows; false at the end of the file (or of a split's blocks).
    pub resumes: bool,
    /// Records of the blocks left out, when their framing told them surely; else None.
    pub records_lost: Option<u64>,
}

impl<R: BufRead> ContainerReader<R> {
    /// Reads and checks the header.
    pub fn new(mut reader: R, total_len: Option<u64>) -> AvroResult<Self> {
        let header = Header::read(&mut reader, total_len)?;
        Ok(Self::after_header(reader, header, total_len))
    }

    /// Reads the blocks of a stream positioned right after the header, `header` known
    /// beforehand (an earlier read of the same version of the file read it).
    pub fn after_header(reader: R, header: Header, total_len: Option<u64>) -> Self {
        let offset = header.len;
        Self::at(reader, header, offset, total_len, None)
    }

    /// The stream blocks are read from.
    pub fn stream_mut(&mut self) -> &mut R {
        &mut self.reader.inner
    }

    fn at(reader: R, header: Header, offset: u64, total_len: Option<u64>, end: Option<u64>) -> Self {
        Self {
            reader: Rewindable::new(reader),
            header,
            offset,
            total_len,
            end,
            next_index: 0,
            failed: None,
            inside_damage: false,
            hints: None,
        }
    }

    /// Takes the framing of blocks from `hints` where they hold it for the block read next.
    pub fn use_hints(&mut self, hints: Arc<FrameHints>) {
        self.hints = Some(hints);
    }

    /// The stream's length, when known.
    pub fn total_len(&self) -> Option<u64> {
        self.total_len
    }

    /// Whether `range` owns the file's first block: the header's marker begins in it (or
    /// before it, for a range that starts inside the header).
    pub fn owns_first_block(header: &Header, range: ByteRange) -> bool {
        range.start <= header.len.saturating_sub(16)
    }

    /// Where a reader of `range` starts: right after the header when it owns the first
    /// block, else at the range's start, to search for the next marker.
    pub fn range_start(header: &Header, range: ByteRange) -> u64 {
        if Self::owns_first_block(header, range) {
            header.len
        } else {
            range.start
        }
    }

    /// Reads the blocks `range` owns, from a stream positioned at
    /// [`Self::range_start`], with the file's header already known (a split carries it).
    /// Block indices count from the range's first block.
    pub fn within(reader: R, header: Header, range: ByteRange, total_len: Option<u64>) -> AvroResult<Self> {
        let start = Self::range_start(&header, range);
        let after_header = Self::owns_first_block(&header, range);
        let mut container = Self::at(reader, header, start, total_len, Some(range.end));
        if !after_header && !container.find_marker()? {
            // No marker from here to the end of the range (or the file): nothing to read.
            container.offset = u64::MAX;
        }
        Ok(container)
    }

    /// Whether the marker before the next block, which ends where reading stands, begins
    /// past the range.
    fn past_range(&self) -> bool {
        self.end.is_some_and(|end| self.offset >= end.saturating_add(16))
    }

    /// After a framing error: leaves the reader where the next block starts (see
    /// [`super::resync`]): the failed block's bytes are searched again from its start for
    /// the next sync marker, and an intact block before that marker is taken when its
    /// place and length fit, else the block after the marker. Says whether a block
    /// follows, and the records lost when the framing told them surely.
    pub fn resync(&mut self) -> AvroResult<Resynced> {
        let sync = self.header.sync;
        let (start, claimed) = match self.failed.take() {
            Some(failed) => {
                self.reader.rewind(&failed.bytes);
                self.offset = failed.start;
                (failed.start, failed.claimed)
            },
            // Its data was skipped, not read: the search goes on from here.
            None => (self.offset, None),
        };
        let mut search = SyncSearch::new(sync, start, WINDOW, None);
        let Some(marker) = feed(&mut self.reader, &mut self.offset, &mut search)? else {
            self.next_index += 1;
            return Ok(Resynced { resumes: false, records_lost: records_of_last_block(claimed, self.total_len) });
        };
        let window = search.into_window();
        let resumption = resume_before_marker(&window, &sync, start, claimed, marker);
        let at = resumption.block.unwrap_or(marker + 16);
        // The search took the bytes up to the marker's end: those past where reading
        // resumes go back to the stream.
        self.reader.rewind(&window.bytes[(at - window.start) as usize..]);
        self.offset = at;
        self.next_index += resumption.blocks_lost;
        self.inside_damage = resumption.block.is_some();
        Ok(Resynced { resumes: true, records_lost: resumption.records_lost })
    }

    /// Consumes the stream up to the end of the next sync marker; false when the file
    /// ends first (or, for a split, when any marker still to come would begin past its
    /// range).
    fn find_marker(&mut self) -> AvroResult<bool> {
        // A marker that begins at end - 1 at the latest is found before the search
        // stands past end + 32.
        let until = self.end.map(|end| end.saturating_add(32));
        let mut search = SyncSearch::new(self.header.sync, self.offset, 0, until);
        Ok(feed(&mut self.reader, &mut self.offset, &mut search)?.is_some())
    }

    /// Bytes of the stream consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads and checks the header of a byte stream, and that the stream was not cut
    /// meanwhile (see [`ByteStream::intact`]).
    pub fn open(reader: R, total_len: Option<u64>) -> AvroResult<Self>
    where
        R: ByteStream,
    {
        let container = Self::new(reader, total_len)?;
        container.reader.intact(false).map_err(|e| AvroError::io(e, "reading the file's header failed"))?;
        Ok(container)
    }

    /// The next block, or None at the end of the file.
    pub fn next_block(&mut self) -> AvroResult<Option<RawBlock>>
    where
        R: ByteStream,
    {
        self.block(|_| false)
    }

    /// The next block's framing (its record count and size) with its data skipped, not
    /// read: counting records walks the block headers only.
    pub fn skip_block(&mut self) -> AvroResult<Option<RawBlock>>
    where
        R: ByteStream,
    {
        self.block(|_| true)
    }

    /// The next block, its data skipped (as [`Self::skip_block`]) when `skip` says so of its
    /// record count: a slice's offset leaves out whole blocks unread.
    pub fn next_block_unless(&mut self, skip: impl FnOnce(u64) -> bool) -> AvroResult<Option<RawBlock>>
    where
        R: ByteStream,
    {
        self.block(skip)
    }

    /// Reads one block: its framing, its data (skipped when `skip` says so of its record
    /// count) and its marker.
    fn block(&mut self, skip: impl FnOnce(u64) -> bool) -> AvroResult<Option<RawBlock>>
    where
        R: ByteStream,
    {
        let index = self.next_index;
        let start = self.offset;
        // A block found inside damage is this split's: the next split cannot see that
        // damage (it searches for intact markers) and starts after the block.
        let inside_damage = std::mem::take(&mut self.inside_damage);
        if self.past_range() && !inside_damage {
            return Ok(None);
        }
        // Not a block found inside damage, nor one in bytes given back: those are the
        // reader's own to frame.
        let hinted = match &self.hints {
            Some(hints) if !inside_damage && !self.reader.replaying() => hints.take(start),
            _ => None,
        };
        if at_end(&mut self.reader)? {
            return Ok(None);
        }
        let framed_ahead = hinted.is_some();
        let framed = match hinted {
            // Nothing of it was read to be searched again: resync goes on from where it stops.
            Some(frame) => self.framed_by(frame, skip).map_err(|e| (e, None)),
            None => self.frame_block(skip),
        };
        // A file cut while read may have read as zeros: neither a block nor damage.
        if let Err(e) = self.reader.intact(framed.is_err()) {
            return Err(AvroError::io(e, "reading the file failed").in_block(index).at_offset(start));
        }
        match framed {
            Ok((frame, data)) => {
                self.next_index += 1;
                let (count, size) = (frame.count as usize, frame.size as usize);
                Ok(Some(RawBlock { index, offset: start, count, data, size, framed_ahead }))
            },
            Err((e, failed)) => {
                self.failed = failed;
                Err(e.in_block(index).at_offset(start))
            },
        }
    }

    /// A block whose framing was found ahead and checked there ([`FrameHints`]): its header
    /// and marker are passed over, not read again.
    fn framed_by(&mut self, frame: Frame, skip: impl FnOnce(u64) -> bool) -> AvroResult<(Frame, Bytes)>
    where
        R: ByteStream,
    {
        self.pass(frame.header_len)?;
        let data = self.data(frame.size, skip(frame.count)).map_err(|(e, _)| e)?;
        self.pass(16)?;
        Ok((frame, data))
    }

    /// Reads a block's header, its data and its marker, each checked by the framer. A
    /// failure comes with the block's bytes read, for [`Self::resync`] to search again;
    /// none when data of it was skipped (then they are not all there).
    fn frame_block(
        &mut self,
        skip: impl FnOnce(u64) -> bool,
    ) -> Result<(Frame, Bytes), (AvroError, Option<FailedBlock>)>
    where
        R: ByteStream,
    {
        let (start, sync) = (self.offset, self.header.sync);
        let mut header = BlockHeader::new(start, self.total_len);
        let framed = feed(&mut self.reader, &mut self.offset, &mut header);
        let claimed = header.claimed().map(Claim::from);
        let failed = |read: &[&[u8]]| FailedBlock { start, bytes: read.concat(), claimed };
        let frame = framed.map_err(|e| (e, Some(failed(&[header.taken()]))))?;
        let data = self
            .data(frame.size, skip(frame.count))
            .map_err(|(e, read)| (e, Some(failed(&[header.taken(), &read]))))?;
        // Data skipped is not there to be searched again.
        let searchable = data.len() as u64 == frame.size;
        // Its marker is checked once read, after the data.
        let mut marker = BlockMarker::new(frame, sync);
        match feed(&mut self.reader, &mut self.offset, &mut marker) {
            Ok(()) => Ok((frame, data)),
            Err(e) => Err((e, searchable.then(|| failed(&[header.taken(), &data, marker.taken()])))),
        }
    }

    /// A block's `size` bytes of data: skipped, not read, when `skip` says so; shared, not
    /// copied, where the stream holds them in shareable memory (a mapped file); else read.
    /// A failure comes with what was read of them.
    fn data(&mut self, size: u64, skip: bool) -> Result<Bytes, (AvroError, Vec<u8>)>
    where
        R: ByteStream,
    {
        let start = self.offset;
        if skip {
            if let Err(e) = self.reader.skip(size) {
                let e = match e.kind() {
                    std::io::ErrorKind::UnexpectedEof => {
                        AvroError::format(format!("the file ended within a block's data of {size} bytes"))
                    },
                    _ => AvroError::io(e, "skipping a block's data failed"),
                };
                return Err((e.at_offset(start), Vec::new()));
            }
            self.offset += size;
            return Ok(Bytes::new());
        }
        if let Some(shared) = self.reader.take_shared(size) {
            self.offset += size;
            return Ok(shared);
        }
        let mut data = Exact::new(size, "a block's data", start);
        match feed(&mut self.reader, &mut self.offset, &mut data) {
            Ok(read) => Ok(Bytes::from(read)),
            Err(e) => Err((e, data.into_taken())),
        }
    }

    /// Moves past `len` bytes known to be there, without reading them.
    fn pass(&mut self, len: u64) -> AvroResult<()>
    where
        R: ByteStream,
    {
        let start = self.offset;
        self.reader.skip(len).map_err(|e| AvroError::io(e, "reading the file failed").at_offset(start))?;
        self.offset += len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::arbitrary::Arbitrary;

    use super::super::header::tests::{header, SCHEMA, SYNC};
    use super::super::push::tests::chunks;
    use super::*;
    use crate::error::ErrorKind;
    use crate::varint::put_long;

    fn push_block(out: &mut Vec<u8>, count: i64, data: &[u8], marker: &[u8; 16]) {
        put_long(out, count);
        put_long(out, data.len() as i64);
        out.extend_from_slice(data);
        out.extend_from_slice(marker);
    }

    fn open(bytes: &[u8]) -> AvroResult<ContainerReader<&[u8]>> {
        ContainerReader::new(bytes, Some(bytes.len() as u64))
    }

    #[test]
    fn blocks_come_in_order_with_their_offsets_counts_and_data() {
        let mut bytes = header(&[("avro.schema", SCHEMA)]);
        let first = bytes.len() as u64;
        push_block(&mut bytes, 3, b"\x02\x04\x06", &SYNC);
        let second = bytes.len() as u64;
        push_block(&mut bytes, 1, b"\x08", &SYNC);
        let mut reader = open(&bytes).unwrap();
        let a = reader.next_block().unwrap().unwrap();
        assert_eq!((a.index, a.offset, a.count, &a.data[..], a.size), (0, first, 3, &b"\x02\x04\x06"[..], 3));
        let b = reader.next_block().unwrap().unwrap();
        assert_eq!((b.index, b.offset, b.count, &b.data[..]), (1, second, 1, &b"\x08"[..]));
        assert!(reader.next_block().unwrap().is_none());
        // Counting walks the framing only: the data is skipped, its size told.
        let mut reader = open(&bytes).unwrap();
        let skipped = reader.skip_block().unwrap().unwrap();
        assert_eq!((skipped.count, skipped.size, skipped.data.len()), (3, 3, 0));
        assert_eq!(reader.skip_block().unwrap().unwrap().count, 1);
        assert!(reader.skip_block().unwrap().is_none());
    }

    #[test]
    fn a_bad_block_framing_names_the_block_and_where_it_starts() {
        let head = header(&[("avro.schema", SCHEMA)]);
        let start = head.len() as u64;
        let bad = |framing: &dyn Fn(&mut Vec<u8>)| {
            let mut bytes = head.clone();
            push_block(&mut bytes, 1, b"\x02", &SYNC);
            framing(&mut bytes);
            let mut reader = open(&bytes).unwrap();
            reader.next_block().unwrap();
            let e = reader.next_block().expect_err("an error");
            assert_eq!((e.kind, e.block), (ErrorKind::Format, Some(1)));
            (e, start + 1 + 1 + 1 + 16)
        };
        let (e, second) = bad(&|b| push_block(b, -2, b"\x02", &SYNC));
        assert_eq!(e.offset, Some(second));
        assert!(e
            .message
            .contains("expected a non-negative block record count and byte size, found count -2 and size 1"));
        let (e, _) = bad(&|b| {
            put_long(b, 1);
            put_long(b, 1000);
            b.extend_from_slice(&[0; 20]);
        });
        assert!(e.message.contains("block claims 1000 bytes plus a 16-byte sync marker, but only 20 bytes remain"));
        let (e, second) = bad(&|b| push_block(b, 1, b"\x02", b"0123456789abcdeX"));
        assert_eq!(e.offset, Some(second + 1 + 1 + 1));
        assert!(e.message.contains("bad sync marker after the block: expected 30 31"), "{}", e.message);
        assert!(e.message.ends_with("found 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 58"), "{}", e.message);
        // A stream of unknown length that ends inside the marker.
        let mut bytes = head.clone();
        push_block(&mut bytes, 1, b"\x02", &SYNC);
        bytes.truncate(bytes.len() - 4);
        let mut reader = ContainerReader::new(&bytes[..], None).unwrap();
        let e = reader.next_block().expect_err("an error");
        assert!(e.message.contains("the file ended while reading a block's sync marker: expected 16 bytes, found 12"));
        // Where the marker begins, after the block's two framing bytes and one of data.
        assert_eq!((e.block, e.offset), (Some(0), Some(start + 3)));
    }

    /// A read's blocks and errors as a read with ignore_errors meets them: after each error,
    /// reading resumes where resync says.
    type Read = Vec<Result<(usize, u64, usize, Vec<u8>), (Option<usize>, Option<u64>, String)>>;

    fn read_all<R: ByteStream>(stream: R, total_len: Option<u64>, hints: Option<Arc<FrameHints>>) -> Read {
        let mut reader = ContainerReader::new(stream, total_len).unwrap();
        if let Some(hints) = hints {
            reader.use_hints(hints);
        }
        let mut read = Vec::new();
        loop {
            match reader.next_block() {
                Ok(Some(b)) => read.push(Ok((b.index, b.offset, b.count, b.data.to_vec()))),
                Ok(None) => return read,
                Err(e) => {
                    read.push(Err((e.block, e.offset, e.message.clone())));
                    match reader.resync() {
                        Ok(resynced) if resynced.resumes => {},
                        Ok(_) => return read,
                        Err(e) => {
                            read.push(Err((e.block, e.offset, e.message.clone())));
                            return read;
                        },
                    }
                },
            }
        }
    }

    /// A file of `blocks` (record count, bytes of data, whether the data ends in a copy of
    /// the marker), with bytes of its blocks changed by `damage`.
    fn damaged_file(blocks: Vec<(i64, usize, bool)>, damage: Vec<(proptest::sample::Index, u8)>) -> Vec<u8> {
        let mut bytes = header(&[("avro.schema", SCHEMA)]);
        let head = bytes.len();
        for (count, len, holds_marker) in blocks {
            let mut data = vec![9u8; len];
            if holds_marker && len >= 16 {
                data[len - 16..].copy_from_slice(&SYNC);
            }
            push_block(&mut bytes, count, &data, &SYNC);
        }
        for (at, xor) in damage {
            let i = head + at.index(bytes.len() - head);
            bytes[i] ^= xor;
        }
        bytes
    }

    proptest::proptest! {
        /// Framing found ahead in any stretches of the file, damaged or not, and with markers
        /// inside data, gives the blocks and errors the reader alone gives.
        #[test]
        fn framing_found_ahead_reads_as_the_reader_alone(
            blocks in proptest::collection::vec((0i64..5, 0usize..40, proptest::bool::weighted(0.2)), 1..12),
            damage in proptest::collection::vec((proptest::sample::Index::arbitrary(), 1u8..), 0..3),
            stretches in proptest::collection::vec(
                (proptest::sample::Index::arbitrary(), proptest::sample::Index::arbitrary()), 0..5,
            ),
        ) {
            let bytes = damaged_file(blocks, damage);
            let len = Some(bytes.len() as u64);
            let hints = Arc::new(FrameHints::default());
            for (a, b) in stretches {
                let (a, b) = (a.index(bytes.len() + 1), b.index(bytes.len() + 1));
                let (a, b) = (a.min(b), a.max(b));
                hints.add(super::super::walk_frames(&bytes[a..b], a as u64, b - a, &SYNC, bytes.len() as u64));
            }
            proptest::prop_assert_eq!(read_all(&bytes[..], len, Some(hints)), read_all(&bytes[..], len, None));
        }

        /// A stream that hands out its bytes a few at a time reads, damaged or not, as one
        /// that holds them all: what a block says is decided from its bytes, however they come.
        #[test]
        fn a_file_read_in_pieces_of_any_size_reads_as_a_file_read_whole(
            blocks in proptest::collection::vec((0i64..5, 0usize..40, proptest::bool::weighted(0.2)), 1..12),
            damage in proptest::collection::vec((proptest::sample::Index::arbitrary(), 1u8..), 0..3),
            piece in 1usize..40,
            known_len: bool,
        ) {
            let bytes = damaged_file(blocks, damage);
            let len = known_len.then_some(bytes.len() as u64);
            proptest::prop_assert_eq!(read_all(chunks(&bytes, piece), len, None), read_all(&bytes[..], len, None));
        }
    }
}
