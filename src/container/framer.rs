//! The one block framer: what a block's bytes say of it, decided from the bytes alone (no
//! I/O), so that the reader, the walk ahead of it ([`super::framing`]) and
//! resynchronization ([`super::resync`]) frame a block alike. A block is its record count
//! and byte size (two varints: its header), `size` bytes of data, then the file's 16-byte
//! sync marker. Also the one search for that marker. Each is a function of a slice and a
//! push decoder over it ([`BlockHeader`], [`SyncSearch`]), which the reader feeds.

use super::push::{ended, Push, Pushed};
use crate::error::{AvroError, AvroResult};
use crate::varint::{decode_long, VarintError, MAX_VARINT_LEN};

/// What the bytes of a block's header end within.
const COUNT: &str = "a block's record count";
const SIZE: &str = "a block's byte size";

/// One block's framing, as its header claims it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// Where the block's record count begins.
    pub offset: u64,
    /// Bytes of the record count and size varints.
    pub header_len: u64,
    /// The records the block claims.
    pub count: u64,
    /// Bytes of its data; its sync marker follows them.
    pub size: u64,
}

impl Frame {
    /// Where its data ends, that is where its marker begins.
    pub fn data_end(&self) -> u64 {
        self.offset.saturating_add(self.header_len).saturating_add(self.size)
    }

    /// Where the block ends, after its marker.
    pub fn end(&self) -> u64 {
        self.data_end().saturating_add(16)
    }
}

/// What a block's bytes say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framing {
    /// The whole block lies within the bytes and checks.
    Framed(Frame),
    /// The bytes end within the block, in the part `what` names: within its header
    /// (`frame` is None), or within its data or marker (`frame` is its header, checked: the
    /// data and marker lie where it says).
    NeedMore { what: &'static str, frame: Option<Frame> },
    /// The block is damaged.
    Damaged(Damage),
}

impl Framing {
    /// What the block's header claims, once it parsed with a non-negative count and size,
    /// whatever the rest of the block: resynchronization follows a failed block's length.
    pub fn claimed(&self) -> Option<Frame> {
        match self {
            Framing::Framed(frame) => Some(*frame),
            Framing::NeedMore { frame, .. } => *frame,
            Framing::Damaged(damage) => damage.frame,
        }
    }
}

/// Where a block is damaged, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Where in the file: the block's start, or the varint or marker at fault.
    pub offset: u64,
    /// What was expected and what was found.
    pub message: String,
    /// What the header claims, when it parsed (a size past the file's end, a bad marker).
    pub frame: Option<Frame>,
}

impl From<Damage> for AvroError {
    fn from(damage: Damage) -> Self {
        AvroError::format(damage.message).at_offset(damage.offset)
    }
}

/// What the `bytes` of a block that begins at `offset` say of it, in a file of `file_len`
/// bytes when that is known (the size the header claims must leave room in it). The
/// marker is checked against `sync` where the bytes hold it; None leaves it to the caller
/// (or wants the header alone). The checks, in order: the count and size varints, their
/// signs, the size against the file, the marker.
pub fn framing_of(bytes: &[u8], offset: u64, sync: Option<&[u8; 16]>, file_len: Option<u64>) -> Framing {
    let (count, count_len) = match long_at(bytes, 0, offset, COUNT) {
        Ok(long) => long,
        Err(framing) => return framing,
    };
    let (size, size_len) = match long_at(bytes, count_len, offset, SIZE) {
        Ok(long) => long,
        Err(framing) => return framing,
    };
    let damage = |offset, message, frame| Framing::Damaged(Damage { offset, message, frame });
    if count < 0 || size < 0 {
        let expected = "expected a non-negative block record count and byte size";
        return damage(offset, format!("{expected}, found count {count} and size {size}"), None);
    }
    let header_len = (count_len + size_len) as u64;
    let frame = Frame { offset, header_len, count: count as u64, size: size as u64 };
    // Checked before any data is read: a lying size fails here, not on a huge read.
    if let Some(remaining) = file_len.map(|len| len.saturating_sub(offset.saturating_add(header_len))) {
        if frame.size.saturating_add(16) > remaining {
            let message = format!(
                "block claims {} bytes plus a 16-byte sync marker, but only {remaining} bytes remain in the file",
                frame.size
            );
            return damage(offset, message, Some(frame));
        }
    }
    // Header, data and marker: no overflow, as the size is at most i64::MAX.
    let (marker_at, block_len) = (header_len + frame.size, header_len + frame.size + 16);
    if (bytes.len() as u64) < block_len {
        let what = if (bytes.len() as u64) < marker_at { "a block's data" } else { "a block's sync marker" };
        return Framing::NeedMore { what, frame: Some(frame) };
    }
    let found = &bytes[marker_at as usize..block_len as usize];
    match sync.map(|sync| check_marker(found, sync, frame)) {
        Some(Err(damage)) => Framing::Damaged(damage),
        _ => Framing::Framed(frame),
    }
}

/// The marker `found` after the data of the block `frame`, checked against the file's
/// `sync`.
fn check_marker(found: &[u8], sync: &[u8; 16], frame: Frame) -> Result<(), Damage> {
    if found == sync {
        return Ok(());
    }
    let message = format!("bad sync marker after the block: expected {}, found {}", hex(sync), hex(found));
    Err(Damage { offset: frame.data_end(), message, frame: Some(frame) })
}

/// The varint at `at` of `bytes` (a block at `offset`), and its length; else the bytes
/// end within it, or it is longer than 64 bits.
fn long_at(bytes: &[u8], at: usize, offset: u64, what: &'static str) -> Result<(i64, usize), Framing> {
    decode_long(&bytes[at..]).map_err(|e| match e {
        VarintError::Truncated => Framing::NeedMore { what, frame: None },
        VarintError::Overlong => Framing::Damaged(overlong(what, offset + at as u64)),
    })
}

/// A varint of `what` at `offset` that is longer than 64 bits.
pub fn overlong(what: &str, offset: u64) -> Damage {
    Damage { offset, message: format!("{what} is not a valid varint: longer than 64 bits"), frame: None }
}

/// Where the first sync marker in `bytes` begins; else where a search that goes on in more
/// bytes appended to these resumes: a marker cut by their end begins in their last 15.
pub fn find_sync(bytes: &[u8], sync: &[u8; 16]) -> Result<usize, usize> {
    bytes.windows(16).position(|w| w == sync).ok_or(bytes.len().saturating_sub(15))
}

/// A block's header (its record count and byte size) framed by [`framing_of`] from bytes
/// pushed to it, taking none past it: the data after it may be shared or skipped, not read.
#[derive(Debug)]
pub struct BlockHeader {
    /// Where the block begins, in a file of `file_len` bytes when known.
    offset: u64,
    file_len: Option<u64>,
    bytes: [u8; 2 * MAX_VARINT_LEN],
    len: usize,
    /// What the header claims, once it parsed ([`Framing::claimed`]).
    claimed: Option<Frame>,
    /// The part of the header the bytes so far end within.
    within: &'static str,
}

impl BlockHeader {
    /// The header of the block at `offset`, in a file of `file_len` bytes when known.
    pub fn new(offset: u64, file_len: Option<u64>) -> Self {
        Self { offset, file_len, bytes: [0; 2 * MAX_VARINT_LEN], len: 0, claimed: None, within: COUNT }
    }

    /// The bytes taken.
    pub fn taken(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// What the header claims, once it parsed with a non-negative count and size, whatever
    /// else was wrong: resynchronization follows a failed block's length.
    pub fn claimed(&self) -> Option<Frame> {
        self.claimed
    }
}

impl Push for BlockHeader {
    type Output = Frame;

    fn push(&mut self, bytes: &[u8]) -> Pushed<Frame> {
        // A byte at a time: the framing is decided at the header's last byte.
        for (i, &byte) in bytes.iter().enumerate() {
            self.bytes[self.len] = byte;
            self.len += 1;
            let framing = framing_of(self.taken(), self.offset, None, self.file_len);
            self.claimed = framing.claimed();
            let framed = match framing {
                Framing::NeedMore { what, frame: None } => {
                    self.within = what;
                    continue;
                },
                Framing::NeedMore { frame: Some(frame), .. } | Framing::Framed(frame) => Ok(frame),
                Framing::Damaged(damage) => Err(damage.into()),
            };
            return Pushed::done(i + 1, framed);
        }
        Pushed::more(bytes.len())
    }

    fn end(&mut self) -> AvroResult<Frame> {
        Err(ended(self.within, 1, 0, self.at()))
    }

    /// The byte being read: a header's varints are read a byte at a time.
    fn at(&self) -> u64 {
        self.offset + self.len as u64
    }
}

/// A block's marker, pushed to it after the block's data, checked against the file's
/// ([`check_marker`]) once all 16 bytes are there.
#[derive(Debug)]
pub struct BlockMarker {
    frame: Frame,
    sync: [u8; 16],
    bytes: [u8; 16],
    len: usize,
}

impl BlockMarker {
    /// The marker after the data of the block `frame`, in a file of marker `sync`.
    pub fn new(frame: Frame, sync: [u8; 16]) -> Self {
        Self { frame, sync, bytes: [0; 16], len: 0 }
    }

    /// The bytes taken.
    pub fn taken(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Push for BlockMarker {
    type Output = ();

    fn push(&mut self, bytes: &[u8]) -> Pushed<()> {
        let used = bytes.len().min(16 - self.len);
        self.bytes[self.len..self.len + used].copy_from_slice(&bytes[..used]);
        self.len += used;
        match self.len == 16 {
            true => Pushed::done(used, check_marker(&self.bytes, &self.sync, self.frame).map_err(AvroError::from)),
            false => Pushed::more(used),
        }
    }

    fn end(&mut self) -> AvroResult<()> {
        Err(ended("a block's sync marker", 16, self.len as u64, self.at()))
    }

    /// Where the marker begins.
    fn at(&self) -> u64 {
        self.frame.data_end()
    }
}

/// Bytes of the file from `start` on, as a search for the sync marker took them.
#[derive(Debug)]
pub struct Window {
    pub bytes: Vec<u8>,
    pub start: u64,
}

impl Window {
    /// The bytes from offset `from` to `to`, when the window holds them.
    pub fn slice(&self, from: u64, to: u64) -> Option<&[u8]> {
        let from = usize::try_from(from.checked_sub(self.start)?).ok()?;
        let to = usize::try_from(to.checked_sub(self.start)?).ok()?;
        self.bytes.get(from..to)
    }

    /// Where its bytes end.
    fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }
}

/// The first sync marker in bytes pushed to it ([`find_sync`]), which begin at the
/// window's start: gives where the marker begins, taking the bytes up to its end, and no
/// more; None when the stream ends first, or once a marker could only begin past `until`.
/// The bytes taken stay in its window, which is cut to its last `keep` bytes once it holds
/// more than twice as many.
#[derive(Debug)]
pub struct SyncSearch {
    sync: [u8; 16],
    window: Window,
    /// Bytes of the window searched: no marker begins before them.
    searched: usize,
    keep: usize,
    until: Option<u64>,
}

impl SyncSearch {
    /// Bytes searched per push: a stream's buffer may be a whole mapped window.
    const PIECE: usize = 1 << 20;

    /// A search from `start` on (see [`SyncSearch`]).
    pub fn new(sync: [u8; 16], start: u64, keep: usize, until: Option<u64>) -> Self {
        Self { sync, window: Window { bytes: Vec::new(), start }, searched: 0, keep, until }
    }

    /// The bytes it took, from its start to the marker's end.
    pub fn into_window(self) -> Window {
        self.window
    }

    /// Whether a marker not yet found could only begin past `until`: those in the bytes
    /// still to come begin in the last 15 taken at the earliest.
    fn given_up(&self) -> bool {
        self.until.is_some_and(|until| self.window.end() > until)
    }
}

impl Push for SyncSearch {
    type Output = Option<u64>;

    fn push(&mut self, bytes: &[u8]) -> Pushed<Option<u64>> {
        if self.given_up() {
            return Pushed::done(0, Ok(None));
        }
        let piece = &bytes[..bytes.len().min(Self::PIECE)];
        let before = self.window.bytes.len();
        self.window.bytes.extend_from_slice(piece);
        match find_sync(&self.window.bytes[self.searched..], &self.sync) {
            Ok(i) => {
                let marker_end = self.searched + i + 16;
                self.window.bytes.truncate(marker_end);
                let marker = self.window.start + (self.searched + i) as u64;
                return Pushed::done(marker_end - before, Ok(Some(marker)));
            },
            Err(resume) => self.searched += resume,
        }
        // Past twice `keep` bytes, all but the last `keep` go, none the search resumes at.
        let len = self.window.bytes.len();
        if len > 2 * self.keep {
            let dropped = (len - self.keep).min(self.searched);
            self.window.bytes.drain(..dropped);
            self.window.start += dropped as u64;
            self.searched -= dropped;
        }
        match self.given_up() {
            true => Pushed::done(piece.len(), Ok(None)),
            false => Pushed::more(piece.len()),
        }
    }

    fn end(&mut self) -> AvroResult<Option<u64>> {
        Ok(None)
    }

    /// Where the search stands.
    fn at(&self) -> u64 {
        self.window.end()
    }
}

/// Bytes as errors show them: two hex digits each, apart.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::varint::put_long;

    const SYNC: [u8; 16] = *b"0123456789abcdef";

    /// A block of `count` records and `len` bytes of data, then `marker`.
    fn block(count: i64, len: usize, marker: &[u8; 16]) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, count);
        put_long(&mut out, len as i64);
        out.extend(std::iter::repeat_n(7u8, len));
        out.extend_from_slice(marker);
        out
    }

    fn damage(framing: Framing) -> Damage {
        match framing {
            Framing::Damaged(damage) => damage,
            other => panic!("not damage: {other:?}"),
        }
    }

    #[test]
    fn a_whole_block_is_framed_at_its_offset() {
        let bytes = block(300, 200, &SYNC);
        let frame = Frame { offset: 1000, header_len: 4, count: 300, size: 200 };
        let file_len = Some(1000 + bytes.len() as u64);
        assert_eq!(framing_of(&bytes, 1000, Some(&SYNC), file_len), Framing::Framed(frame));
        assert_eq!((frame.data_end(), frame.end()), (1204, 1220));
        // Bytes past the block are not looked at.
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"more");
        assert_eq!(framing_of(&longer, 1000, Some(&SYNC), None), Framing::Framed(frame));
    }

    #[test]
    fn every_cut_of_a_block_needs_more_naming_the_part_it_ends_in() {
        let bytes = block(300, 200, &SYNC);
        let frame = Frame { offset: 0, header_len: 4, count: 300, size: 200 };
        for cut in 0..bytes.len() {
            let (what, known) = match cut {
                0..=1 => ("a block's record count", None),
                2..=3 => ("a block's byte size", None),
                4..=203 => ("a block's data", Some(frame)),
                _ => ("a block's sync marker", Some(frame)),
            };
            let framing = framing_of(&bytes[..cut], 0, Some(&SYNC), Some(bytes.len() as u64));
            assert_eq!(framing, Framing::NeedMore { what, frame: known }, "cut at {cut}");
            assert_eq!(framing.claimed(), known);
        }
    }

    #[test]
    fn a_negative_count_or_size_is_damage_at_the_block_s_start() {
        for (count, size) in [(-1, 5), (5, -2), (-3, -4)] {
            let mut bytes = Vec::new();
            put_long(&mut bytes, count);
            put_long(&mut bytes, size);
            let found = damage(framing_of(&bytes, 50, Some(&SYNC), None));
            let message = format!(
                "expected a non-negative block record count and byte size, found count {count} and size {size}"
            );
            assert_eq!(found, Damage { offset: 50, message, frame: None });
        }
    }

    #[test]
    fn a_varint_longer_than_64_bits_is_damage_where_it_begins() {
        let found = damage(framing_of(&[0xff; 10], 50, Some(&SYNC), None));
        assert_eq!(
            (found.offset, found.message.as_str()),
            (50, "a block's record count is not a valid varint: longer than 64 bits")
        );
        let mut bytes = vec![2];
        bytes.extend([0xff; 10]);
        let found = damage(framing_of(&bytes, 50, Some(&SYNC), None));
        assert_eq!(
            (found.offset, found.message.as_str()),
            (51, "a block's byte size is not a valid varint: longer than 64 bits")
        );
    }

    #[test]
    fn a_size_past_the_file_s_end_is_damage_that_keeps_what_the_header_claims() {
        let bytes = block(3, 20, &SYNC);
        let frame = Frame { offset: 10, header_len: 2, count: 3, size: 20 };
        let exact = 10 + bytes.len() as u64;
        assert_eq!(framing_of(&bytes, 10, Some(&SYNC), Some(exact)), Framing::Framed(frame));
        let found = damage(framing_of(&bytes[..2], 10, Some(&SYNC), Some(exact - 1)));
        let message = "block claims 20 bytes plus a 16-byte sync marker, but only 35 bytes remain in the file";
        assert_eq!(found, Damage { offset: 10, message: message.to_string(), frame: Some(frame) });
        // A file that ends before the header does: nothing remains.
        assert!(damage(framing_of(&bytes[..2], 10, None, Some(5)))
            .message
            .ends_with("only 0 bytes remain in the file"));
    }

    #[test]
    fn a_bad_marker_is_damage_where_it_begins_unless_the_caller_checks_it() {
        let bytes = block(3, 20, b"0123456789abcdeX");
        let frame = Frame { offset: 10, header_len: 2, count: 3, size: 20 };
        let found = damage(framing_of(&bytes, 10, Some(&SYNC), None));
        assert_eq!((found.offset, found.frame), (32, Some(frame)));
        assert_eq!(
            found.message,
            "bad sync marker after the block: expected 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66, \
             found 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 58"
        );
        assert_eq!(framing_of(&bytes, 10, None, None), Framing::Framed(frame));
        assert_eq!(check_marker(&bytes[22..], &SYNC, frame), Err(found));
        assert_eq!(check_marker(&SYNC, &SYNC, frame), Ok(()));
    }

    #[test]
    fn the_marker_search_finds_the_first_and_goes_on_across_a_boundary() {
        let mut bytes = b"data".to_vec();
        bytes.extend_from_slice(&SYNC);
        bytes.extend_from_slice(&SYNC);
        assert_eq!(find_sync(&bytes, &SYNC), Ok(4));
        assert_eq!(find_sync(&bytes[..4], &SYNC), Err(0));
        // Cut at every byte of the first marker: the search resumes where its start is kept.
        for cut in 5..20 {
            let resume = find_sync(&bytes[..cut], &SYNC).unwrap_err();
            assert!(resume <= 4, "cut at {cut}");
            assert_eq!(find_sync(&bytes[resume..], &SYNC).map(|i| resume + i), Ok(4), "cut at {cut}");
        }
        // A cut past 15 bytes of no marker keeps only the last 15.
        assert_eq!(find_sync(&[0; 40], &SYNC), Err(25));
    }

    /// What a push decoder makes of `bytes` pushed `piece` bytes at a time: its result
    /// (None: the bytes ended first) and the bytes it took.
    fn pushed<P: Push>(decoder: &mut P, bytes: &[u8], piece: usize) -> (Option<AvroResult<P::Output>>, usize) {
        let mut used = 0;
        // First nothing, as the refill loop does.
        for chunk in std::iter::once(&[][..]).chain(bytes.chunks(piece)) {
            let mut chunk = chunk;
            loop {
                let pushed = decoder.push(chunk);
                used += pushed.used;
                if pushed.done.is_some() {
                    return (pushed.done, used);
                }
                chunk = &chunk[pushed.used..];
                if chunk.is_empty() {
                    break;
                }
            }
        }
        (None, used)
    }

    #[test]
    fn a_block_header_pushed_in_pieces_is_framed_at_its_last_byte_as_a_whole_one() {
        let mut negative = Vec::new();
        put_long(&mut negative, 5);
        put_long(&mut negative, -2);
        for bytes in [block(300, 200, &SYNC), block(1, 0, &SYNC), negative, vec![0xff; 12]] {
            let whole = framing_of(&bytes, 50, None, Some(1000));
            for piece in [1, 2, 3, bytes.len()] {
                let mut header = BlockHeader::new(50, Some(1000));
                let (framed, used) = pushed(&mut header, &bytes, piece);
                let framed = framed.expect("decided").map_err(|e| (e.message.clone(), e.offset));
                match &whole {
                    Framing::Damaged(damage) => {
                        assert_eq!(framed, Err((damage.message.clone(), Some(damage.offset))), "pieces of {piece}");
                    },
                    framing => {
                        let frame = framing.claimed().unwrap();
                        assert_eq!((framed, used as u64), (Ok(frame), frame.header_len), "pieces of {piece}");
                        assert_eq!(header.taken(), &bytes[..used]);
                    },
                }
                assert_eq!(header.claimed(), whole.claimed());
            }
        }
        // Cut within it: the part it ends in, at the byte that is not there.
        let mut header = BlockHeader::new(50, None);
        assert_eq!(header.push(&[0x80]).done.map(|_| ()), None);
        let e = header.end().unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.offset, header.at()),
            ("the file ended while reading a block's record count: expected 1 bytes, found 0", Some(51), 51)
        );
        let mut header = BlockHeader::new(50, None);
        header.push(&[2]);
        assert!(header.end().unwrap_err().message.contains("while reading a block's byte size"));
    }

    #[test]
    fn a_block_s_marker_is_checked_once_whole_and_a_cut_one_says_what_was_found() {
        let frame = Frame { offset: 10, header_len: 2, count: 3, size: 20 };
        for piece in [1, 5, 16] {
            let mut marker = BlockMarker::new(frame, SYNC);
            let mut bytes = SYNC.to_vec();
            bytes.extend_from_slice(b"next block");
            let (checked, used) = pushed(&mut marker, &bytes, piece);
            assert_eq!((checked.unwrap().unwrap(), used, marker.taken()), ((), 16, &SYNC[..]), "pieces of {piece}");
            let mut marker = BlockMarker::new(frame, SYNC);
            let (checked, _) = pushed(&mut marker, b"0123456789abcdeX", piece);
            let e = checked.unwrap().unwrap_err();
            let damage = check_marker(b"0123456789abcdeX", &SYNC, frame).unwrap_err();
            assert_eq!((e.message.as_str(), e.offset), (damage.message.as_str(), Some(32)));
            assert_eq!(marker.taken(), b"0123456789abcdeX");
        }
        let mut marker = BlockMarker::new(frame, SYNC);
        marker.push(b"0123");
        let e = marker.end().unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.offset, marker.at()),
            ("the file ended while reading a block's sync marker: expected 16 bytes, found 4", Some(32), 32)
        );
    }

    #[test]
    fn the_search_pushed_in_pieces_takes_the_bytes_up_to_the_marker_s_end() {
        let mut bytes = vec![7u8; 100];
        bytes[40..56].copy_from_slice(&SYNC);
        bytes[70..86].copy_from_slice(&SYNC);
        for piece in [1, 5, 15, 16, 17, 100] {
            let mut search = SyncSearch::new(SYNC, 1000, 64, None);
            let (found, used) = pushed(&mut search, &bytes, piece);
            assert_eq!((found.unwrap().unwrap(), used), (Some(1040), 56), "pieces of {piece}");
            let window = search.into_window();
            assert_eq!((window.start, window.bytes.as_slice()), (1000, &bytes[..56]));
        }
        // None in the bytes: the search needs more, and at the end of the stream there is none.
        let mut search = SyncSearch::new(SYNC, 0, 64, None);
        assert!(pushed(&mut search, &bytes[..55], 7).0.is_none());
        assert_eq!((search.at(), search.end().unwrap()), (55, None));
    }

    #[test]
    fn the_search_keeps_what_it_is_asked_to_and_gives_up_past_its_limit() {
        let mut bytes = vec![7u8; 300];
        bytes[250..266].copy_from_slice(&SYNC);
        // Past twice `keep` bytes, the last `keep` stay: the marker may begin in the last
        // 15 of them.
        for piece in [1, 7, 30] {
            let mut search = SyncSearch::new(SYNC, 0, 40, None);
            assert_eq!(pushed(&mut search, &bytes, piece).0.unwrap().unwrap(), Some(250));
            let window = search.into_window();
            assert!(window.start > 0 && window.start <= 250 - 25, "pieces of {piece}: {}", window.start);
            assert_eq!(window.slice(0, 266), None);
            assert_eq!(window.slice(225, 266), Some(&bytes[225..266]));
        }
        // Keeping nothing keeps what a marker cut by a piece's end needs.
        let mut search = SyncSearch::new(SYNC, 0, 0, None);
        assert_eq!(pushed(&mut search, &bytes, 7).0.unwrap().unwrap(), Some(250));
        // Once a marker could only begin past the limit, nothing more is taken.
        for piece in [1, 10, 64] {
            let mut search = SyncSearch::new(SYNC, 0, 0, Some(200));
            let (found, used) = pushed(&mut search, &bytes, piece);
            assert_eq!(found.unwrap().unwrap(), None);
            assert!(used > 200 && used <= 200 + piece, "pieces of {piece}: {used}");
        }
        let mut search = SyncSearch::new(SYNC, 0, 0, Some(266));
        assert_eq!(pushed(&mut search, &bytes, 64).0.unwrap().unwrap(), Some(250));
    }
}
