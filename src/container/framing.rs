//! Block framing found ahead of the reader: a stretch of a file (a mapped window) is
//! searched for the sync marker and the blocks after it are walked, each checked as the
//! reader checks it (by the one framer, [`super::framer`]). The reader takes
//! a block's framing from here when it reaches the block's offset, instead of loading its
//! header and marker itself: the chain of headers, each found only once the one before
//! it is read, is the reading thread's part of a read (docs/reading.md, many cores).

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::framer::{find_sync, framing_of, Frame, Framing};

/// Framings found ahead, by offset, until the reader takes them.
#[derive(Debug, Default)]
pub struct FrameHints {
    frames: Mutex<BTreeMap<u64, Frame>>,
}

impl FrameHints {
    /// Keeps `frames` (a stretch's, in order) until the reader takes them.
    pub fn add(&self, frames: Vec<Frame>) {
        if frames.is_empty() {
            return;
        }
        let mut known = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        known.extend(frames.into_iter().map(|frame| (frame.offset, frame)));
    }

    /// The framing of the block at `offset`, if one was found; those before it, which the
    /// reader has passed, are dropped.
    pub fn take(&self, offset: u64) -> Option<Frame> {
        let mut known = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        if known.first_key_value().is_some_and(|(&first, _)| first < offset) {
            *known = known.split_off(&offset);
        }
        known.remove(&offset)
    }
}

/// The blocks whose preceding sync marker begins in the first `limit` bytes of `bytes`
/// (which begin at `base` in a file of `total_len` bytes), as a split owns blocks, and end
/// within `bytes`, their framing checked as the reader checks it. The walk stops at the
/// first block that does not check or ends past `bytes`: the reader reads from there
/// itself, and reports what is wrong where it is.
pub fn walk_frames(bytes: &[u8], base: u64, limit: usize, sync: &[u8; 16], total_len: u64) -> Vec<Frame> {
    let searched = &bytes[..bytes.len().min(limit.saturating_add(15))];
    let Ok(marker) = find_sync(searched, sync) else { return Vec::new() };
    let (mut at, mut frames) = (marker + 16, Vec::new());
    while at - 16 < limit {
        let Framing::Framed(frame) = framing_of(&bytes[at..], base + at as u64, Some(sync), Some(total_len)) else {
            break;
        };
        at = (frame.end() - base) as usize;
        frames.push(frame);
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::varint::put_long;

    const SYNC: [u8; 16] = *b"0123456789abcdef";

    /// A file's bytes after its header: blocks of (count, data length), each followed by
    /// the marker, after a first marker (the header's).
    fn blocks(sizes: &[(i64, usize)]) -> (Vec<u8>, Vec<Frame>) {
        let mut bytes = b"header".to_vec();
        bytes.extend_from_slice(&SYNC);
        let mut frames = Vec::new();
        for &(count, len) in sizes {
            let offset = bytes.len() as u64;
            put_long(&mut bytes, count);
            put_long(&mut bytes, len as i64);
            let header_len = bytes.len() as u64 - offset;
            bytes.extend(std::iter::repeat_n(7u8, len));
            bytes.extend_from_slice(&SYNC);
            frames.push(Frame { offset, header_len, count: count as u64, size: len as u64 });
        }
        (bytes, frames)
    }

    #[test]
    fn the_blocks_after_the_first_marker_are_walked_to_the_end() {
        let (bytes, frames) = blocks(&[(3, 20), (1, 0), (300, 200)]);
        assert_eq!(walk_frames(&bytes, 0, usize::MAX, &SYNC, bytes.len() as u64), frames);
        // From a stretch that starts inside the first block: the blocks after its marker.
        let at = frames[0].offset as usize + 5;
        assert_eq!(walk_frames(&bytes[at..], at as u64, usize::MAX, &SYNC, bytes.len() as u64), frames[1..]);
    }

    #[test]
    fn pieces_walk_the_blocks_whose_marker_begins_in_them_and_together_every_block() {
        let (bytes, frames) = blocks(&[(3, 20), (1, 0), (300, 200), (2, 5), (1, 64)]);
        let total = bytes.len() as u64;
        for piece in [1, 7, 16, 30, 100, 1000] {
            let walked: Vec<Frame> = (0..bytes.len())
                .step_by(piece)
                .flat_map(|from| walk_frames(&bytes[from..], from as u64, piece, &SYNC, total))
                .collect();
            assert_eq!(walked, frames, "pieces of {piece} bytes");
        }
        // A block whose marker begins in the piece is walked whole, past the piece.
        let marker = frames[2].offset as usize - 16;
        assert_eq!(walk_frames(&bytes[marker..], marker as u64, 1, &SYNC, total), frames[2..3]);
    }

    #[test]
    fn the_walk_stops_where_a_block_ends_past_the_stretch_or_does_not_check() {
        let (bytes, frames) = blocks(&[(3, 20), (1, 40), (2, 10)]);
        let total = bytes.len() as u64;
        // Cut inside the second block's marker: the first alone.
        let cut = (frames[2].offset - 3) as usize;
        assert_eq!(walk_frames(&bytes[..cut], 0, usize::MAX, &SYNC, total), frames[..1]);
        // A wrong marker after the second block: the first alone.
        let mut damaged = bytes.clone();
        damaged[frames[2].offset as usize - 1] ^= 1;
        assert_eq!(walk_frames(&damaged, 0, usize::MAX, &SYNC, total), frames[..1]);
        // A negative count, as the reader refuses it.
        let (negative, _) = blocks(&[(-1, 20)]);
        assert_eq!(walk_frames(&negative, 0, usize::MAX, &SYNC, negative.len() as u64), []);
        // A size past the file's end (the file is longer than the stretch says).
        assert_eq!(walk_frames(&bytes, 0, usize::MAX, &SYNC, total - 1), frames[..2]);
        // No marker: nothing.
        assert_eq!(walk_frames(&bytes[..10], 0, usize::MAX, &SYNC, total), []);
    }

    #[test]
    fn hints_are_taken_by_offset_and_those_passed_are_dropped() {
        let (_, frames) = blocks(&[(3, 20), (1, 40), (2, 10)]);
        let hints = FrameHints::default();
        hints.add(frames[1..].to_vec());
        hints.add(frames[..1].to_vec());
        assert_eq!(hints.take(frames[0].offset), Some(frames[0]));
        assert_eq!(hints.take(frames[0].offset), None);
        // The reader went on by itself past the second: it is dropped.
        assert_eq!(hints.take(frames[2].offset), Some(frames[2]));
        assert!(hints.frames.lock().unwrap().is_empty());
    }
}
