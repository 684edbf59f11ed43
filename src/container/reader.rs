//! Reading the object container format: the header (magic, metadata, sync marker),
//! then block after block, with resynchronization after damage.

use std::io::{BufRead, Read};
use std::sync::Arc;

use bytes::Bytes;

use super::codec::Codec;
use super::framer::{check_marker, find_sync, framing_of, hex, Frame, Framing};
use super::framing::FrameHints;
use super::resync::{records_of_last_block, resume_before_marker, Claim, Window, WINDOW};
use crate::bufread::{skip_by_reading, ByteStream};
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::varint::{decode_long, MAX_VARINT_LEN};

pub const MAGIC: [u8; 4] = *b"Obj\x01";

/// Whether a header metadata key is one the format reserves (`avro.schema`, `avro.codec`
/// and any other `avro.*`): a writer refuses such keys from its user, and what a user
/// reads back as a file's own metadata is the rest ([`Header::user_metadata`]).
pub fn is_reserved_key(key: &str) -> bool {
    key.starts_with("avro.")
}

/// The parsed file header.
#[derive(Debug, Clone)]
pub struct Header {
    /// The writer schema exactly as stored (`avro.schema`).
    pub schema_json: String,
    /// The block codec (`avro.codec`).
    pub codec: Codec,
    /// Every metadata entry in file order, the avro.* ones included.
    pub metadata: Vec<(String, Vec<u8>)>,
    /// The 16-byte sync marker that ends the header and every block.
    pub sync: [u8; 16],
    /// Bytes taken by the header; the first block starts here.
    pub len: u64,
}

impl Header {
    /// A header as a reader remembers it from an earlier read of the same version of the
    /// file: its schema and framing, not its metadata (reading blocks needs none of it).
    pub fn remembered(schema_json: String, codec: Codec, sync: [u8; 16], len: u64) -> Self {
        Self { schema_json, codec, metadata: Vec::new(), sync, len }
    }

    /// The metadata entries the file's writer added, in file order: all but the format's
    /// own (`avro.*`), as a rewrite of the file carries them over.
    pub fn user_metadata(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.metadata.iter().filter(|(key, _)| !is_reserved_key(key)).map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

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
    /// The bytes of the block being read (its framing, data and marker), kept when it
    /// fails so that [`Self::resync`] can search them again.
    log: Vec<u8>,
    /// The block whose framing failed last, for [`Self::resync`].
    failed: Option<FailedBlock>,
    /// Whether reading resumed at a block found inside damage (see [`Self::resync`]):
    /// it belongs to whoever met the damage, wherever its range ends.
    inside_damage: bool,
    /// Framings found ahead of the reader (see [`super::framing`]), if any are looked for.
    hints: Option<Arc<FrameHints>>,
}

/// A block whose framing failed: where it began, the bytes read of it, and what its
/// framing claimed when that parsed.
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

/// A stream that can be given bytes back to read again.
struct Rewindable<R> {
    inner: R,
    replay: Vec<u8>,
    position: usize,
}

impl<R> Rewindable<R> {
    /// Whether bytes given back are still to be read again.
    fn replaying(&self) -> bool {
        self.position < self.replay.len()
    }

    /// Puts `bytes` before what is left to read.
    fn rewind(&mut self, bytes: &[u8]) {
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
        if self.position < self.replay.len() {
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
        if self.position < self.replay.len() {
            return Ok(&self.replay[self.position..]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if self.position < self.replay.len() {
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

/// Tracks the offset while reading from the stream, so every error can say where.
struct Tracked<'a, R> {
    reader: &'a mut R,
    offset: &'a mut u64,
    /// Where the bytes read go as well, when they may have to be read again (a block's
    /// framing and marker, and the part of its data read when the file ended).
    log: Option<&'a mut Vec<u8>>,
}

impl<R: BufRead> Tracked<'_, R> {
    fn at_end(&mut self) -> AvroResult<bool> {
        let buf = self.reader.fill_buf().map_err(|e| AvroError::io(e, "reading the file failed"))?;
        Ok(buf.is_empty())
    }

    fn exact(&mut self, buf: &mut [u8], what: &str) -> AvroResult<()> {
        let start = *self.offset;
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.logged(&buf[..filled]);
                    return Err(AvroError::format(format!(
                        "the file ended while reading {what}: expected {} bytes, found {filled}",
                        buf.len()
                    ))
                    .at_offset(start));
                },
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {},
                Err(e) => return Err(AvroError::io(e, "reading the file failed").at_offset(start)),
            }
        }
        *self.offset += buf.len() as u64;
        self.logged(buf);
        Ok(())
    }

    fn logged(&mut self, bytes: &[u8]) {
        if let Some(log) = self.log.as_deref_mut() {
            log.extend_from_slice(bytes);
        }
    }

    /// Reads `len` bytes without allocating them up front, so a lying length fails on the
    /// missing bytes rather than on a huge allocation.
    fn bytes(&mut self, len: u64, what: &str) -> AvroResult<Vec<u8>> {
        let start = *self.offset;
        let mut out = Vec::with_capacity(len.min(1 << 24) as usize);
        let read = (&mut *self.reader)
            .take(len)
            .read_to_end(&mut out)
            .map_err(|e| AvroError::io(e, "reading the file failed").at_offset(start))?;
        *self.offset += read as u64;
        if (read as u64) < len {
            self.logged(&out);
            return Err(AvroError::format(format!(
                "the file ended while reading {what}: expected {len} bytes, found {read}"
            ))
            .at_offset(start));
        }
        Ok(out)
    }

    /// Moves past `len` bytes known to be there, without reading them.
    fn pass(&mut self, len: u64) -> AvroResult<()>
    where
        R: ByteStream,
    {
        let start = *self.offset;
        self.reader.skip(len).map_err(|e| AvroError::io(e, "reading the file failed").at_offset(start))?;
        *self.offset += len;
        Ok(())
    }

    /// A block's `len` bytes of data: shared, not copied, where the stream holds them in
    /// shareable memory (a mapped file); else read as [`Self::bytes`] reads them.
    fn block_data(&mut self, len: u64) -> AvroResult<Bytes>
    where
        R: ByteStream,
    {
        if let Some(shared) = self.reader.take_shared(len) {
            *self.offset += len;
            return Ok(shared);
        }
        self.bytes(len, "a block's data").map(Bytes::from)
    }

    fn long(&mut self, what: &str) -> AvroResult<i64> {
        let start = *self.offset;
        // Byte by byte up to the last one, so that nothing past the varint is consumed.
        let mut bytes = [0u8; MAX_VARINT_LEN];
        let mut len = 0;
        while len < MAX_VARINT_LEN {
            self.exact(&mut bytes[len..len + 1], what)?;
            len += 1;
            if bytes[len - 1] < 0x80 {
                break;
            }
        }
        match decode_long(&bytes[..len]) {
            Ok((value, _)) => Ok(value),
            Err(_) => {
                Err(AvroError::format(format!("{what} is not a valid varint: longer than 64 bits")).at_offset(start))
            },
        }
    }
}

impl<R: BufRead> ContainerReader<R> {
    /// Reads and checks the header.
    pub fn new(reader: R, total_len: Option<u64>) -> AvroResult<Self> {
        let mut offset = 0u64;
        let mut reader = Rewindable { inner: reader, replay: Vec::new(), position: 0 };
        let header = read_header(&mut Tracked { reader: &mut reader, offset: &mut offset, log: None }, total_len)?;
        Ok(Self::at(reader, header, offset, total_len, None))
    }

    /// Reads the blocks of a stream positioned right after the header, `header` known
    /// beforehand (an earlier read of the same version of the file read it).
    pub fn after_header(reader: R, header: Header, total_len: Option<u64>) -> Self {
        let reader = Rewindable { inner: reader, replay: Vec::new(), position: 0 };
        let offset = header.len;
        Self::at(reader, header, offset, total_len, None)
    }

    /// The stream blocks are read from.
    pub fn stream_mut(&mut self) -> &mut R {
        &mut self.reader.inner
    }

    fn at(reader: Rewindable<R>, header: Header, offset: u64, total_len: Option<u64>, end: Option<u64>) -> Self {
        Self {
            reader,
            header,
            offset,
            total_len,
            end,
            next_index: 0,
            log: Vec::new(),
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
        let reader = Rewindable { inner: reader, replay: Vec::new(), position: 0 };
        let mut container = Self::at(reader, header, start, total_len, Some(range.end));
        if !after_header && container.find_marker()?.is_none() {
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
        let mut window = Window { bytes: Vec::new(), start };
        let mut searched = 0;
        let marker = loop {
            match find_sync(&window.bytes[searched..], &sync) {
                Ok(i) => break Some(window.start + (searched + i) as u64),
                Err(resume) => searched += resume,
            }
            if window.bytes.len() > 2 * WINDOW {
                let dropped = window.bytes.len() - WINDOW;
                window.bytes.drain(..dropped);
                window.start += dropped as u64;
                searched -= dropped;
            }
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| AvroError::io(e, "reading the file failed").at_offset(self.offset))?;
            if buf.is_empty() {
                break None;
            }
            let n = buf.len().min(1 << 20);
            window.bytes.extend_from_slice(&buf[..n]);
            self.reader.consume(n);
            self.offset += n as u64;
        };
        let Some(marker) = marker else {
            self.next_index += 1;
            return Ok(Resynced { resumes: false, records_lost: records_of_last_block(claimed, self.total_len) });
        };
        let resumption = resume_before_marker(&window, &sync, start, claimed, marker);
        let at = resumption.block.unwrap_or(marker + 16);
        // The bytes read past where reading resumes go back to the stream.
        self.reader.rewind(&window.bytes[(at - window.start) as usize..]);
        self.offset = at;
        self.next_index += resumption.blocks_lost;
        self.inside_damage = resumption.block.is_some();
        Ok(Resynced { resumes: true, records_lost: resumption.records_lost })
    }

    /// Consumes the stream up to the end of the next sync marker; returns the offset after
    /// it, or None when the file ends first (or, for a split, when any marker still to
    /// come would begin past its range).
    fn find_marker(&mut self) -> AvroResult<Option<u64>> {
        let sync = self.header.sync;
        let mut carry: Vec<u8> = Vec::with_capacity(15);
        loop {
            // Markers beginning at end - 1 at the latest are those the carry still holds.
            if self.end.is_some_and(|end| self.offset > end.saturating_add(32)) {
                return Ok(None);
            }
            let buf = self
                .reader
                .fill_buf()
                .map_err(|e| AvroError::io(e, "reading the file failed").at_offset(self.offset))?;
            if buf.is_empty() {
                return Ok(None);
            }
            let mut window = std::mem::take(&mut carry);
            window.extend_from_slice(buf);
            let resume = match find_sync(&window, &sync) {
                Ok(i) => {
                    // Consume up to the end of the marker; bytes of the carry were consumed before.
                    let used = i + 16 - (window.len() - buf.len());
                    self.reader.consume(used);
                    self.offset += used as u64;
                    return Ok(Some(self.offset));
                },
                Err(resume) => resume,
            };
            let n = buf.len();
            self.reader.consume(n);
            self.offset += n as u64;
            carry = window[resume..].to_vec();
        }
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
        self.block(|t, _, size| t.block_data(size))
    }

    /// The next block's framing (its record count and size) with its data skipped, not
    /// read: counting records walks the block headers only.
    pub fn skip_block(&mut self) -> AvroResult<Option<RawBlock>>
    where
        R: ByteStream,
    {
        self.next_block_unless(|_| true)
    }

    /// The next block, its data skipped (as [`Self::skip_block`]) when `skip` says so of its
    /// record count: a slice's offset leaves out whole blocks unread.
    pub fn next_block_unless(&mut self, skip: impl FnOnce(u64) -> bool) -> AvroResult<Option<RawBlock>>
    where
        R: ByteStream,
    {
        self.block(|t, count, size| {
            if !skip(count) {
                return t.block_data(size);
            }
            let start = *t.offset;
            t.reader.skip(size).map_err(|e| match e.kind() {
                std::io::ErrorKind::UnexpectedEof => {
                    AvroError::format(format!("the file ended within a block's data of {size} bytes")).at_offset(start)
                },
                _ => AvroError::io(e, "skipping a block's data failed").at_offset(start),
            })?;
            *t.offset += size;
            Ok(Bytes::new())
        })
    }

    /// Reads one block's framing, its data by `data` (read or skipped), and its marker.
    fn block(
        &mut self,
        data: impl FnOnce(&mut Tracked<'_, Rewindable<R>>, u64, u64) -> AvroResult<Bytes>,
    ) -> AvroResult<Option<RawBlock>>
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
        let (total_len, sync) = (self.total_len, self.header.sync);
        // Not a block found inside damage, nor one in bytes given back: those are the
        // reader's own to frame.
        let hinted = match &self.hints {
            Some(hints) if !inside_damage && !self.reader.replaying() => hints.take(start),
            _ => None,
        };
        self.log.clear();
        let mut t = Tracked { reader: &mut self.reader, offset: &mut self.offset, log: Some(&mut self.log) };
        if t.at_end()? {
            return Ok(None);
        }
        let mut claimed = None;
        let mut searchable = true;
        let framed_ahead = hinted.is_some();
        let framed = match hinted {
            Some(frame) => {
                // Nothing of it was read to be searched again: resync goes on from where it stops.
                searchable = false;
                framed_by(&mut t, frame, data)
            },
            None => frame_block(&mut t, total_len, sync, data, &mut claimed, &mut searchable),
        };
        // A file cut while read may have read as zeros: neither a block nor damage.
        if let Err(e) = self.reader.intact(framed.is_err()) {
            return Err(AvroError::io(e, "reading the file failed").in_block(index).at_offset(start));
        }
        match framed {
            Ok((count, size, data)) => {
                self.next_index += 1;
                Ok(Some(RawBlock { index, offset: start, count, data, size, framed_ahead }))
            },
            Err(e) => {
                // Searched again from its start by resync, unless its data was skipped.
                let bytes = std::mem::take(&mut self.log);
                self.failed = searchable.then_some(FailedBlock { start, bytes, claimed });
                Err(e.in_block(index).at_offset(start))
            },
        }
    }
}

/// A block whose framing was found ahead and checked there ([`FrameHints`]): its header
/// and marker are passed over, not read again, and its data taken by `data`.
fn framed_by<R: ByteStream>(
    t: &mut Tracked<'_, R>,
    frame: Frame,
    data: impl FnOnce(&mut Tracked<'_, R>, u64, u64) -> AvroResult<Bytes>,
) -> AvroResult<(usize, usize, Bytes)> {
    t.pass(frame.header_len)?;
    let data_offset = *t.offset;
    let data = data(t, frame.count, frame.size).map_err(|e| e.at_offset(data_offset))?;
    t.pass(16)?;
    Ok((frame.count as usize, frame.size as usize, data))
}

/// Reads a block's framing, its data (by `data`) and its marker, each checked by the
/// framer ([`framing_of`]). What the framing claims goes to `claimed` once it parsed;
/// `searchable` is cleared when the data was skipped, not read (then its bytes cannot be
/// searched again).
fn frame_block<R: BufRead>(
    t: &mut Tracked<'_, R>,
    total_len: Option<u64>,
    sync: [u8; 16],
    data: impl FnOnce(&mut Tracked<'_, R>, u64, u64) -> AvroResult<Bytes>,
    claimed: &mut Option<Claim>,
    searchable: &mut bool,
) -> AvroResult<(usize, usize, Bytes)> {
    let start = *t.offset;
    // Byte by byte up to the header's last, so that nothing past it is consumed: the data
    // may be shared or skipped, not read. Its marker is checked once read, after the data.
    let mut header = Vec::with_capacity(2 * MAX_VARINT_LEN);
    let frame = loop {
        let framing = framing_of(&header, start, None, total_len);
        *claimed = framing.claimed().map(Claim::from);
        match framing {
            Framing::NeedMore { what, frame: None } => {
                let mut byte = [0u8];
                t.exact(&mut byte, what)?;
                header.push(byte[0]);
            },
            Framing::NeedMore { frame: Some(frame), .. } | Framing::Framed(frame) => break frame,
            Framing::Damaged(damage) => return Err(damage.into()),
        }
    };
    let data_offset = *t.offset;
    let data = data(t, frame.count, frame.size).map_err(|e| e.at_offset(data_offset))?;
    if data.len() as u64 != frame.size {
        *searchable = false;
    }
    let mut marker = [0u8; 16];
    let framing_len = t.log.as_ref().map_or(0, |log| log.len());
    let read = t.exact(&mut marker, "a block's sync marker");
    let checked = read.and_then(|()| check_marker(&marker, &sync, frame).map_err(AvroError::from));
    if checked.is_err() {
        // The data goes back between the framing and the marker, to be searched again.
        if let Some(log) = t.log.as_deref_mut() {
            log.splice(framing_len..framing_len, data.iter().copied());
        }
    }
    checked?;
    Ok((frame.count as usize, frame.size as usize, data))
}

/// Refuses a start of a file (up to its first 4 bytes) that cannot begin an Avro object
/// container: a stream (a pipe, a device such as `/dev/zero`) is checked before it is read.
pub fn check_magic(start: &[u8]) -> AvroResult<()> {
    let n = start.len().min(MAGIC.len());
    if start[..n] != MAGIC[..n] {
        return Err(AvroError::format(format!(
            "not an Avro object container file: expected the magic bytes 4f 62 6a 01 ('Obj' 1), found {}",
            hex(&start[..n])
        ))
        .at_offset(0));
    }
    Ok(())
}

fn read_header<R: BufRead>(t: &mut Tracked<R>, total_len: Option<u64>) -> AvroResult<Header> {
    if total_len == Some(0) || t.at_end()? {
        return Err(AvroError::format("not an Avro object container file: the file is empty (0 bytes)").at_offset(0));
    }
    let mut magic = [0u8; 4];
    t.exact(&mut magic, "the magic bytes").map_err(|e| {
        if e.kind != ErrorKind::Format {
            return e; // the source failed, not the file's format
        }
        AvroError::format(format!("not an Avro object container file: {}", e.message)).at_offset(0)
    })?;
    check_magic(&magic)?;
    let mut metadata = Vec::new();
    loop {
        let start = *t.offset;
        let mut count = t.long("the header's metadata entry count")?;
        if count == 0 {
            break;
        }
        if count < 0 {
            count = count
                .checked_neg()
                .ok_or_else(|| AvroError::format("invalid metadata entry count in the header").at_offset(start))?;
            let _block_size = t.long("the header's metadata block size")?;
        }
        for _ in 0..count {
            let key = read_header_bytes(t, total_len, "a metadata key")?;
            let key = String::from_utf8(key)
                .map_err(|_| AvroError::format("a metadata key in the header is not valid UTF-8").at_offset(start))?;
            let value = read_header_bytes(t, total_len, "a metadata value")?;
            metadata.push((key, value));
        }
    }
    let mut sync = [0u8; 16];
    t.exact(&mut sync, "the header's sync marker")?;
    let schema_bytes = metadata
        .iter()
        .find(|(k, _)| k == "avro.schema")
        .map(|(_, v)| v.clone())
        .ok_or_else(|| AvroError::format("the header has no avro.schema metadata entry").at_offset(4))?;
    let schema_json = String::from_utf8(schema_bytes)
        .map_err(|_| AvroError::schema("the avro.schema metadata entry is not valid UTF-8"))?;
    let codec_name = metadata
        .iter()
        .find(|(k, _)| k == "avro.codec")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(|| "null".to_string());
    let codec = Codec::from_name(&codec_name)?;
    Ok(Header { schema_json, codec, metadata, sync, len: *t.offset })
}

fn read_header_bytes<R: BufRead>(t: &mut Tracked<R>, total_len: Option<u64>, what: &str) -> AvroResult<Vec<u8>> {
    let start = *t.offset;
    let len = t.long(what)?;
    if len < 0 {
        return Err(AvroError::format(format!("expected a non-negative length of {what} in the header, found {len}"))
            .at_offset(start));
    }
    if let Some(remaining) = total_len.map(|total| total.saturating_sub(*t.offset)) {
        if len as u64 > remaining {
            return Err(AvroError::format(format!(
                "the file ended within the header: {what} claims {len} bytes, only {remaining} remain"
            ))
            .at_offset(start));
        }
    }
    t.bytes(len as u64, what)
}

#[cfg(test)]
mod tests {
    use proptest::arbitrary::Arbitrary;

    use super::*;
    use crate::varint::put_long;

    const SYNC: [u8; 16] = *b"0123456789abcdef";
    const SCHEMA: &[u8] = br#""long""#;

    /// A header with these metadata entries, in one map block.
    fn header(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        put_long(&mut out, entries.len() as i64);
        for (key, value) in entries {
            put_long(&mut out, key.len() as i64);
            out.extend_from_slice(key.as_bytes());
            put_long(&mut out, value.len() as i64);
            out.extend_from_slice(value);
        }
        put_long(&mut out, 0);
        out.extend_from_slice(&SYNC);
        out
    }

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
    fn the_header_gives_schema_codec_metadata_sync_and_length() {
        let bytes = header(&[("avro.schema", SCHEMA), ("user", b"\x00\xff"), ("avro.codec", b"deflate")]);
        let reader = open(&bytes).unwrap();
        let h = &reader.header;
        assert_eq!(
            (h.schema_json.as_str(), h.codec, h.sync, h.len),
            ("\"long\"", Codec::Deflate, SYNC, bytes.len() as u64)
        );
        let keys: Vec<&str> = h.metadata.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["avro.schema", "user", "avro.codec"]);
        assert_eq!(h.metadata[1].1, b"\x00\xff");
        assert_eq!(h.user_metadata().collect::<Vec<_>>(), [("user", b"\x00\xff".as_slice())]);
        // Without avro.codec the codec is null; a map block may give its byte size (a negative count).
        let mut bytes = MAGIC.to_vec();
        put_long(&mut bytes, -1);
        put_long(&mut bytes, 1 + 11 + 1 + SCHEMA.len() as i64);
        put_long(&mut bytes, 11);
        bytes.extend_from_slice(b"avro.schema");
        put_long(&mut bytes, SCHEMA.len() as i64);
        bytes.extend_from_slice(SCHEMA);
        put_long(&mut bytes, 0);
        bytes.extend_from_slice(&SYNC);
        assert_eq!(open(&bytes).unwrap().header.codec, Codec::Null);
    }

    #[test]
    fn a_bad_header_is_an_error_saying_what_was_expected_and_found() {
        let error = |bytes: &[u8]| open(bytes).err().expect("an error");
        let e = error(b"PAR1 and more");
        assert_eq!((e.kind, e.offset), (ErrorKind::Format, Some(0)));
        assert!(
            e.message.contains("expected the magic bytes 4f 62 6a 01 ('Obj' 1), found 50 41 52 31"),
            "{}",
            e.message
        );
        assert!(error(b"Ob").message.contains("not an Avro object container file: the file ended"));
        // A start alone: refused at its first wrong byte, passed while it may still begin a file.
        assert!(check_magic(b"\0\0").unwrap_err().message.contains("found 00 00"));
        assert!(check_magic(b"Ob").is_ok() && check_magic(b"Obj\x01\x04").is_ok());
        let e = error(&header(&[("user", b"x")]));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::Format, "the header has no avro.schema metadata entry"));
        let e = error(&header(&[("avro.schema", SCHEMA), ("avro.codec", b"lz4")]));
        assert_eq!(e.kind, ErrorKind::Codec);
        // A value longer than the file: refused before any byte of it is read.
        let mut bytes = header(&[("avro.schema", SCHEMA)]);
        bytes.truncate(MAGIC.len() + 1 + 1 + 11);
        put_long(&mut bytes, 1 << 40);
        assert!(error(&bytes).message.contains("a metadata value claims 1099511627776 bytes"));
        let mut bytes = MAGIC.to_vec();
        put_long(&mut bytes, 1);
        put_long(&mut bytes, -3);
        assert!(error(&bytes)
            .message
            .contains("expected a non-negative length of a metadata key in the header, found -3"));
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

    fn read_all(bytes: &[u8], hints: Option<Arc<FrameHints>>) -> Read {
        let mut reader = open(bytes).unwrap();
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
            let hints = Arc::new(FrameHints::default());
            for (a, b) in stretches {
                let (a, b) = (a.index(bytes.len() + 1), b.index(bytes.len() + 1));
                let (a, b) = (a.min(b), a.max(b));
                hints.add(super::super::walk_frames(&bytes[a..b], a as u64, b - a, &SYNC, bytes.len() as u64));
            }
            proptest::prop_assert_eq!(read_all(&bytes, Some(hints)), read_all(&bytes, None));
        }
    }
}
