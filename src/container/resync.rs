//! Where reading resumes after a block whose framing failed, decided from the bytes
//! alone, so that a whole-file read and every split of the file decide alike.
//!
//! The search starts where the failed block began (right after the last marker that
//! checked out) and finds the first sync marker from there. Every intact block between
//! the two ends at that marker, since its own marker is a marker. One is looked for where
//! the failed block's length says the next block begins (its marker was damaged), or a
//! few bytes either side (bytes inserted into or deleted from that marker), following
//! blocks whose own markers are damaged too. A block is accepted only if its framing
//! holds and its length ends it exactly at the marker. Else reading resumes right after
//! the marker, with the block there (which is read and checked as any other).

use super::framer::{framing_of, Frame, Window};

/// Bytes a damaged marker may have gained or lost, either side of where the block after
/// it would begin.
pub const MARKER_SHIFT: u64 = 16;

/// The bytes kept before the marker while searching for it: an intact block that
/// follows a damaged marker is found when it is no longer than this.
pub const WINDOW: usize = 16 << 20;

/// A block's framing as the bytes at some offset claim it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The records the block claims.
    pub count: u64,
    /// Where its data ends, that is where its marker must begin.
    pub data_end: u64,
}

impl From<Frame> for Claim {
    fn from(frame: Frame) -> Self {
        Claim { count: frame.count, data_end: frame.data_end() }
    }
}

/// The framing (record count and byte size, both non-negative varints) at the start of
/// `bytes`, the block beginning at `offset`: its header alone, whatever follows it.
pub fn claim(bytes: &[u8], offset: u64) -> Option<Claim> {
    framing_of(bytes, offset, None, None).claimed().map(Claim::from)
}

/// Where reading resumes, and the blocks left out before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumption {
    /// An intact block found before the marker: it starts here. None: reading resumes
    /// after the marker.
    pub block: Option<u64>,
    /// Blocks from the failed one up to there (at least the failed one).
    pub blocks_lost: usize,
    /// Their records, when their lengths lead exactly to the block found (only their
    /// markers were damaged): then their counts are as sure as any block's.
    pub records_lost: Option<u64>,
}

/// Decides where reading resumes after the block beginning at `failed` whose framing
/// claimed `claimed` (None: it did not parse), given the first marker from there begins
/// at `marker` and `window` holds the bytes before it.
pub fn resume_before_marker(
    window: &Window,
    sync: &[u8; 16],
    failed: u64,
    claimed: Option<Claim>,
    marker: u64,
) -> Resumption {
    let unknown = Resumption { block: None, blocks_lost: 1, records_lost: None };
    let Some(mut claim) = claimed else { return unknown };
    let mut blocks_lost = 1;
    let mut records = claim.count;
    // Each round: the block after the last one followed, where its length puts it.
    while claim.data_end < marker {
        let after = claim.data_end + 16;
        // Shifted places only where what stands in the marker's place is what is left of
        // one: elsewhere (a length gone wrong) they would find blocks in random bytes.
        let shifted = remnant_of_marker(window, sync, claim.data_end);
        // Several places may frame the same block: its count read with a byte more or
        // less (bytes with their high bit set continue a varint) leaves its length as it
        // is. The block begins where most of the marker ends (one byte of it changed, gone
        // or added); between places that explain as much, where the count fits the bytes
        // (a record takes a byte, but for schemas of nulls), then where more of the marker
        // is intact, then the nearest.
        let found = shifts()
            .take(if shifted { usize::MAX } else { 1 })
            .map(|d| after as i64 + d)
            .filter_map(|c| {
                let claim = (c > failed as i64 && (c as u64) < marker).then(|| ends_at(window, c as u64, marker))??;
                let (edited, intact) = marker_tail(window, sync, c as u64);
                let fits = claim.count <= marker - c as u64;
                Some((c, (edited, fits, intact, std::cmp::Reverse(c.abs_diff(after as i64)))))
            })
            .max_by_key(|&(_, rank)| rank)
            .map(|(c, _)| count_from_its_first_byte(window, sync, after, marker, c as u64) as i64);
        if let Some(c) = found {
            let exact = c == after as i64;
            return Resumption { block: Some(c as u64), blocks_lost, records_lost: exact.then_some(records) };
        }
        // A block of its own at that place, with a damaged marker too: follow it.
        match window.slice(after, marker).and_then(|bytes| claim_within(bytes, after, marker)) {
            Some(next) => {
                claim = next;
                records = records.saturating_add(next.count);
                blocks_lost += 1;
            },
            None => break,
        }
    }
    // No intact block before the marker: what lies between is one damaged stretch, its
    // records not known.
    unknown
}

/// At the end of the file, without a marker: the failed block was the last one when its
/// length ends it where the file leaves room for exactly its marker.
pub fn records_of_last_block(claimed: Option<Claim>, file_end: Option<u64>) -> Option<u64> {
    let claim = claimed?;
    (Some(claim.data_end + 16) == file_end).then_some(claim.count)
}

/// How many bytes of the sync marker end right before `offset`, one byte of the marker
/// allowed changed, gone or added (a damaged marker); then how many with none. With one
/// edit, a marker's bytes outweigh a few of them that happen to end a run of bytes (a
/// marker can hold its last byte twice).
fn marker_tail(window: &Window, sync: &[u8; 16], offset: u64) -> (usize, usize) {
    let bytes = window.slice(offset.saturating_sub(17).max(window.start), offset).unwrap_or(&[]);
    let common =
        |bytes: &[u8], tail: &[u8]| bytes.iter().rev().zip(tail.iter().rev()).take_while(|(a, b)| a == b).count();
    let exact = common(bytes, sync);
    if exact == sync.len() || exact == bytes.len() {
        return (exact, exact);
    }
    // The edit at the first byte that differs, counting from the end.
    let (bytes, sync) = (&bytes[..bytes.len() - exact], &sync[..sync.len() - exact]);
    let (fewer_bytes, fewer_sync) = (&bytes[..bytes.len() - 1], &sync[..sync.len() - 1]);
    let changed = common(fewer_bytes, fewer_sync);
    let gone = common(bytes, fewer_sync);
    let added = common(fewer_bytes, sync);
    (exact + changed.max(gone).max(added), exact)
}

/// A count of two bytes is not read from its second. The place one byte past `after`
/// (where the failed block's length puts the next block) can read a marker with one byte
/// added and its last intact, when the marker's last byte was changed and happens to equal
/// the next count's first (its high bit set, so the count runs on into that place): there
/// both places frame the same block and explain the marker alike, and the block begins at
/// `after`, as its length says, when the count read there fits the block's bytes (a byte
/// inserted before the marker's last one makes the same shape, with the marker's own last
/// byte at `after`: read as a count's first, it claims more records than the bytes hold).
fn count_from_its_first_byte(window: &Window, sync: &[u8; 16], after: u64, marker: u64, c: u64) -> u64 {
    let borrowed = c == after + 1 && window.slice(after, c).is_some_and(|b| b[0] == sync[15] && b[0] & 0x80 != 0);
    let fits = ends_at(window, after, marker).is_some_and(|claim| claim.count <= marker - after);
    if borrowed && fits && marker_tail(window, sync, after).0 + 1 >= marker_tail(window, sync, c).0 {
        after
    } else {
        c
    }
}

/// 0, then 1, -1, 2, -2, ... up to the shift a damaged marker may have (0 alone when
/// nothing is left of the marker).
fn shifts() -> impl Iterator<Item = i64> {
    std::iter::once(0).chain((1..=MARKER_SHIFT as i64).flat_map(|d| [d, -d]))
}

/// The claim of a block at `offset` whose length ends it at `marker`, holding records
/// (writers write no empty blocks).
fn ends_at(window: &Window, offset: u64, marker: u64) -> Option<Claim> {
    let bytes = window.slice(offset, marker)?;
    claim(bytes, offset).filter(|c| c.data_end == marker && c.count > 0)
}

/// Whether half of the sync marker, in one piece, stands about where a marker should
/// begin at `offset`: a marker with bytes inserted, deleted or changed keeps one half.
fn remnant_of_marker(window: &Window, sync: &[u8; 16], offset: u64) -> bool {
    let from = offset.saturating_sub(MARKER_SHIFT).max(window.start);
    let to = (offset + 16 + MARKER_SHIFT).min(window.start + window.bytes.len() as u64);
    let Some(bytes) = window.slice(from, to) else { return false };
    (0..=8).any(|i| bytes.windows(8).any(|w| w == &sync[i..i + 8]))
}

/// The claim of a block at `offset` (its bytes up to the marker), when it ends before it.
fn claim_within(bytes: &[u8], offset: u64, marker: u64) -> Option<Claim> {
    claim(bytes, offset).filter(|c| c.data_end < marker)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::varint::put_long;

    const SYNC: [u8; 16] = *b"MMMMMMMMNNNNNNNN";

    fn framing(count: i64, size: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, count);
        put_long(&mut out, size);
        out
    }

    /// Blocks of `sizes` bytes of data, each followed by a marker of 16 `M`s; returns the
    /// bytes and where each block begins.
    fn blocks(sizes: &[usize]) -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut starts) = (Vec::new(), Vec::new());
        for (i, size) in sizes.iter().enumerate() {
            starts.push(out.len() as u64);
            out.extend(framing(i as i64 + 1, *size as i64));
            out.extend(std::iter::repeat_n(b'd', *size));
            out.extend(SYNC);
        }
        (out, starts)
    }

    /// Three blocks of `count` records in `size` bytes of data, each followed by `sync`;
    /// returns the bytes and where each block begins.
    fn three_blocks(sync: &[u8; 16], count: i64, size: usize) -> (Vec<u8>, Vec<u64>) {
        let (mut out, mut starts) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            starts.push(out.len() as u64);
            out.extend(framing(count, size as i64));
            out.extend(std::iter::repeat_n(b'd', size));
            out.extend(sync);
        }
        (out, starts)
    }

    /// Where the first intact `sync` begins.
    fn marker_of(bytes: &[u8], sync: &[u8; 16]) -> u64 {
        bytes.windows(16).position(|w| w == sync).unwrap() as u64
    }

    fn first_marker(bytes: &[u8], from: u64) -> u64 {
        from + bytes[from as usize..].windows(16).position(|w| w == SYNC).unwrap() as u64
    }

    #[test]
    fn a_damaged_marker_keeps_the_block_after_it() {
        let (mut bytes, starts) = blocks(&[300, 300, 300]);
        let marker = starts[1] as usize - 16;
        bytes[marker + 3] = b'x';
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = first_marker(&bytes, starts[0]);
        let resumed = resume_before_marker(&window, &SYNC, starts[0], claim(&bytes, 0), m);
        assert_eq!(resumed, Resumption { block: Some(starts[1]), blocks_lost: 1, records_lost: Some(1) });
    }

    #[test]
    fn two_damaged_markers_in_a_row_keep_the_third_block() {
        let (mut bytes, starts) = blocks(&[300, 300, 300]);
        bytes[starts[1] as usize - 1] = b'x';
        bytes[starts[2] as usize - 1] = b'x';
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = first_marker(&bytes, 0);
        let resumed = resume_before_marker(&window, &SYNC, 0, claim(&bytes, 0), m);
        assert_eq!(resumed, Resumption { block: Some(starts[2]), blocks_lost: 2, records_lost: Some(3) });
    }

    #[test]
    fn a_byte_inserted_into_a_marker_keeps_the_block_after_it_without_its_count() {
        let (mut bytes, starts) = blocks(&[300, 300, 300]);
        bytes.insert(starts[1] as usize - 5, b'x');
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = first_marker(&bytes, 0);
        let resumed = resume_before_marker(&window, &SYNC, 0, claim(&bytes, 0), m);
        assert_eq!(resumed, Resumption { block: Some(starts[1] + 1), blocks_lost: 1, records_lost: None });
    }

    #[test]
    fn a_byte_with_its_high_bit_before_a_block_is_not_taken_for_part_of_its_count() {
        let (mut bytes, starts) = blocks(&[300, 300, 300]);
        bytes.insert(starts[1] as usize - 1, 0xbc);
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = first_marker(&bytes, 0);
        let resumed = resume_before_marker(&window, &SYNC, 0, claim(&bytes, 0), m);
        assert_eq!(resumed.block, Some(starts[1] + 1));
    }

    #[test]
    fn a_count_of_two_bytes_is_not_read_from_its_second() {
        let (bytes, starts) = three_blocks(&SYNC, 168, 300);
        for damage in [5, 14, 15] {
            let mut damaged = bytes.clone();
            damaged[starts[1] as usize - 16 + damage] ^= 0xff;
            let window = Window { bytes: damaged.clone(), start: 0 };
            let m = first_marker(&damaged, 0);
            let resumed = resume_before_marker(&window, &SYNC, 0, claim(&damaged, 0), m);
            assert_eq!(resumed.block, Some(starts[1]), "marker byte {damage} changed");
        }
        let mut damaged = bytes.clone();
        damaged.remove(starts[1] as usize - 1);
        let window = Window { bytes: damaged.clone(), start: 0 };
        let m = first_marker(&damaged, 0);
        assert_eq!(resume_before_marker(&window, &SYNC, 0, claim(&damaged, 0), m).block, Some(starts[1] - 1));
        // A byte inserted before the marker's last: not its last byte changed.
        let mut damaged = bytes.clone();
        damaged.insert(starts[1] as usize - 1, 0);
        damaged[starts[1] as usize + 1] = 0xd0;
        let window = Window { bytes: damaged.clone(), start: 0 };
        let m = first_marker(&damaged, 0);
        assert_eq!(resume_before_marker(&window, &SYNC, 0, claim(&damaged, 0), m).block, Some(starts[1] + 1));
    }

    #[test]
    fn a_changed_last_marker_byte_equal_to_the_next_count_s_first_keeps_that_count() {
        // A random marker ending in 0xb8, the first byte of the next block's count (156
        // records: b8 02). With the marker's last byte changed, the place one byte on reads
        // 16 bytes of marker (one byte added, the last intact) and, from the count's second
        // byte, a block of 1 record that ends exactly at the next marker.
        let mut sync = *b"MMMMMMMMNNNNNNNN";
        sync[15] = 0xb8;
        for count in [92, 156] {
            let (mut bytes, starts) = three_blocks(&sync, count, 300);
            bytes[starts[1] as usize - 1] ^= 0xff;
            let window = Window { bytes: bytes.clone(), start: 0 };
            let m = marker_of(&bytes, &sync);
            let resumed = resume_before_marker(&window, &sync, 0, claim(&bytes, 0), m);
            assert_eq!(resumed.block, Some(starts[1]), "a count of {count}");
        }
    }

    #[test]
    fn a_byte_inserted_before_a_marker_s_last_is_not_that_byte_read_as_a_count() {
        // The marker's last byte (0x90, the high bit set) pushed to where the next block
        // should begin, read as a count's first byte with the next block's count (0e):
        // 904 records in 65 bytes, a block that ends exactly at the next marker.
        let mut sync = *b"MMMMMMMMNNNNNNNN";
        sync[15] = 0x90;
        let (mut bytes, starts) = three_blocks(&sync, 7, 65);
        bytes.insert(starts[1] as usize - 1, 0);
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = marker_of(&bytes, &sync);
        let resumed = resume_before_marker(&window, &sync, 0, claim(&bytes, 0), m);
        assert_eq!(resumed.block, Some(starts[1] + 1));
    }

    #[test]
    fn a_changed_last_byte_of_a_marker_holding_it_twice_keeps_the_next_count() {
        // A random marker ending in 5d 5d; its last byte changed to a2 (the high bit set)
        // reads as the marker's last byte gone, 15 bytes of it intact, and a count of three
        // bytes (a2 b8 02: 19,985 records) for a block of 2,000 bytes that ends exactly at
        // the next marker. The count that fits its bytes wins.
        let mut sync = *b"MMMMMMMMNNNNNNNN";
        sync[14] = 0x5d;
        sync[15] = 0x5d;
        let (mut bytes, starts) = three_blocks(&sync, 156, 2000);
        bytes[starts[1] as usize - 1] ^= 0xff;
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = marker_of(&bytes, &sync);
        let resumed = resume_before_marker(&window, &sync, 0, claim(&bytes, 0), m);
        assert_eq!(resumed, Resumption { block: Some(starts[1]), blocks_lost: 1, records_lost: Some(156) });
    }

    #[test]
    fn a_marker_holding_its_last_byte_twice_that_loses_it_keeps_the_block_after_it() {
        // Read from the marker's first 0x7a on, its bytes with the high bit set and the
        // next block's count make one varint, and the block's own size follows: a block
        // that frames exactly, behind one byte of a marker.
        let sync: [u8; 16] = [1, 2, 3, 4, 5, 6, 0x7a, 0xf0, 0xcd, 0xc2, 0xed, 0xf6, 0x90, 0xa5, 0xe5, 0x7a];
        let (mut bytes, starts) = three_blocks(&sync, 7, 115);
        bytes.remove(starts[1] as usize - 1);
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = marker_of(&bytes, &sync);
        let resumed = resume_before_marker(&window, &sync, 0, claim(&bytes, 0), m);
        assert_eq!(resumed.block, Some(starts[1] - 1));
    }

    #[test]
    fn a_length_too_long_or_short_resumes_after_the_marker() {
        let (bytes, starts) = blocks(&[300, 300]);
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = starts[1] - 16;
        for wrong in [299, 301, 340, 10_000] {
            let mut damaged = framing(1, wrong);
            damaged.extend(&bytes[framing(1, 300).len()..]);
            let window = Window { bytes: damaged.clone(), start: 0 };
            let resumed = resume_before_marker(&window, &SYNC, 0, claim(&damaged, 0), m);
            assert_eq!(resumed.block, None, "length {wrong}");
        }
        assert_eq!(resume_before_marker(&window, &SYNC, 0, None, m).block, None);
    }

    #[test]
    fn a_marker_overwritten_whole_is_no_place_to_search_around() {
        let (mut bytes, starts) = blocks(&[300, 300, 300]);
        let marker = starts[1] as usize - 16;
        bytes.splice(marker..marker + 16, *b"0123456789abcdefg");
        let window = Window { bytes: bytes.clone(), start: 0 };
        let m = first_marker(&bytes, 0);
        assert_eq!(resume_before_marker(&window, &SYNC, 0, claim(&bytes, 0), m).block, None);
    }

    #[test]
    fn bytes_outside_the_window_are_not_searched() {
        let (mut bytes, starts) = blocks(&[300, 300]);
        bytes[starts[1] as usize - 1] = b'x';
        let m = first_marker(&bytes, 0);
        let window = Window { bytes: bytes[starts[1] as usize + 1..].to_vec(), start: starts[1] + 1 };
        assert_eq!(resume_before_marker(&window, &SYNC, 0, claim(&bytes, 0), m).block, None);
    }

    #[test]
    fn the_last_block_with_a_damaged_marker_keeps_its_count() {
        let claimed = Some(Claim { count: 7, data_end: 100 });
        assert_eq!(records_of_last_block(claimed, Some(116)), Some(7));
        assert_eq!(records_of_last_block(claimed, Some(117)), None);
        assert_eq!(records_of_last_block(None, Some(116)), None);
    }
}
