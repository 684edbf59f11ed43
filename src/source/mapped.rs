//! A local file read through memory maps, a window of it at a time: blocks are handed out
//! as stretches of the map (no copy, no zeroed buffer, nothing done on the reading
//! thread but walking block headers), and a window is unmapped once no block holds it,
//! so what a read keeps resident is bounded by the blocks in flight, not by the file.
//!
//! Each map is guarded (see `guard`): a file cut shorter by another process while it is
//! mapped makes the read fail naming the file, where an unguarded map ends the process
//! with SIGBUS (as Polars' maps of IPC and Parquet files do). A window that cannot be
//! guarded is read instead.
//!
//! Walking block headers was much of what the reading thread did, and mapping their pages
//! on first touch most of that (the kernel maps 16 pages around each fault: about 4 of the
//! reading thread's 7 ms in a read of 1M flat records on two threads). The reading thread
//! is the part of a read that more threads do not speed up, so its time bounds the
//! speed-up on many cores. A read with a pool therefore has the pool's threads walk the
//! blocks' framing (`container::framing`) in the window being read, and maps the next
//! window as soon as the reader is in one, so that they walk it too, a piece each, a window
//! ahead of the reader: the reader takes the framing found without touching the blocks'
//! pages, and the walk's own faults map them for the decoding threads.

use std::fs::File;
use std::io::{BufRead, Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;
use memmap2::{Mmap, MmapOptions};
use rayon::ThreadPool;

use super::guard::{check_intact, cut_while_read, guard, Guard};
use crate::bufread::{read_from_buffer, ByteStream, WindowWalk};

/// Bytes mapped at a time: few maps per file, and little held resident while a block
/// keeps its window mapped. A block crossing a window's end starts a window of its own.
const WINDOW: u64 = 8 << 20;

/// The next window starts this far before the current one ends, so that a block crossing
/// the end (up to this long) lies within it.
const AHEAD_OVERLAP: u64 = 1 << 20;

/// Bytes of a window whose blocks one pool task walks.
const WALK_PIECE: usize = 1 << 20;

/// A regular file, read through maps of [`WINDOW`] bytes (or of a whole block, for larger ones).
pub(super) struct MappedFile {
    file: File,
    len: u64,
    /// [`WINDOW`], but for tests.
    window_len: u64,
    window: Bytes,
    window_start: u64,
    position: u64,
    /// The pool that walks the windows ahead of the reader, and the walk, if any.
    ahead: Option<(Arc<ThreadPool>, WindowWalk)>,
    /// Whether the window was handed to `ahead` to walk.
    window_walked: bool,
    /// The next window, mapped ahead, and where it starts.
    next: Option<(u64, Bytes)>,
}

impl MappedFile {
    /// Maps the start of `file`, whose length is `len`; gives the file back where its file
    /// system cannot map it.
    pub(super) fn new(file: File, len: u64) -> Result<Self, File> {
        Self::with_window(file, len, WINDOW)
    }

    fn with_window(file: File, len: u64, window_len: u64) -> Result<Self, File> {
        let Ok(window) = map(&file, 0, window_len.min(len), len) else { return Err(file) };
        Ok(Self {
            file,
            len,
            window_len,
            window,
            window_start: 0,
            position: 0,
            ahead: None,
            window_walked: false,
            next: None,
        })
    }

    /// Maps a window from `start`, at least `min_len` bytes of it (within the file): the
    /// one mapped ahead, when it holds them.
    fn map_from(&mut self, start: u64, min_len: u64) -> std::io::Result<()> {
        if let Some((next_start, next)) = self.next.take() {
            if next_start <= start && start + min_len <= next_start + next.len() as u64 {
                (self.window, self.window_start, self.window_walked) = (next, next_start, true);
                return Ok(());
            }
        }
        self.window = map(&self.file, start, min_len.max(self.window_len).min(self.len - start), self.len)?;
        self.window_start = start;
        self.window_walked = false;
        Ok(())
    }

    /// Has the pool walk the window being read, past the piece the reader is about to
    /// frame itself, and the next window, mapped now: a window ahead of the reader, the
    /// pool has the time the reader takes through a window to walk the next one. (Mapping
    /// it halfway through left the reader half the faults of a read on two threads.)
    fn map_ahead(&mut self) {
        let Some((pool, walk)) = &self.ahead else { return };
        if !self.window_walked {
            let at = usize::try_from(self.position - self.window_start).unwrap_or(usize::MAX);
            let from = at.saturating_add(WALK_PIECE).min(self.window.len());
            self.walk_on(pool, walk, self.window_start + from as u64, self.window.slice(from..));
            self.window_walked = true;
        }
        if self.next.is_some() || self.window_end() >= self.len {
            return;
        }
        let start = self.window_end().saturating_sub(AHEAD_OVERLAP).max(self.position);
        // A window that cannot be mapped now is mapped when the reader gets there, where
        // a failure is reported with its place.
        let Ok(next) = map(&self.file, start, self.window_len.min(self.len - start), self.len) else { return };
        self.walk_on(pool, walk, start, next.clone());
        self.next = Some((start, next));
    }

    /// Has the pool walk the blocks whose marker begins in `bytes` (which begin at `start`
    /// and run to their window's end), a piece a task. The last [`AHEAD_OVERLAP`] bytes of
    /// a window that another follows are left to that one, which begins there (or, where
    /// the reader is already past that, where the reader is): each byte is walked once,
    /// and each piece sees the rest of its window, at least that much past its end, for
    /// the blocks that cross it.
    ///
    /// The walk's touches map the pages (the kernel maps 16 around each fault, and blocks
    /// are rarely further apart; the decoding threads map what it leaves), so the tasks do
    /// not fill in the page tables after it: that took 3.5 ms of the 67 ms of CPU time of
    /// a two-thread read of 1M flat records (null codec), its walks over the page tables
    /// racing the walk's faults for their lock.
    fn walk_on(&self, pool: &ThreadPool, walk: &WindowWalk, start: u64, bytes: Bytes) {
        let walked = if start + (bytes.len() as u64) < self.len {
            bytes.len().saturating_sub(AHEAD_OVERLAP as usize)
        } else {
            bytes.len()
        };
        for from in (0..walked).step_by(WALK_PIECE) {
            let (bytes, walk) = (bytes.clone(), walk.clone());
            let piece = WALK_PIECE.min(walked - from);
            pool.spawn(move || walk(start + from as u64, &bytes[from..], piece));
        }
    }

    fn window_end(&self) -> u64 {
        self.window_start + self.window.len() as u64
    }

    /// Whether `start..end` lies within the mapped window.
    fn in_window(&self, start: u64, end: u64) -> bool {
        start >= self.window_start && end <= self.window_end()
    }
}

impl BufRead for MappedFile {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.position >= self.len {
            return Ok(&[]);
        }
        if !self.in_window(self.position, self.position + 1) {
            self.map_from(self.position, 1)?;
        }
        Ok(&self.window[(self.position - self.window_start) as usize..])
    }

    fn consume(&mut self, amount: usize) {
        self.position += amount as u64;
    }
}

impl Read for MappedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        read_from_buffer(self, buf)
    }
}

impl ByteStream for MappedFile {
    fn intact(&self, failed: bool) -> std::io::Result<()> {
        check_intact(&self.window, failed)
    }

    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        self.position = self.position.saturating_add(n);
        Ok(())
    }

    fn walk_ahead_on(&mut self, pool: Arc<ThreadPool>, walk: WindowWalk) {
        self.ahead = Some((pool, walk));
    }

    fn take_shared(&mut self, n: u64) -> Option<Bytes> {
        let end = self.position.checked_add(n).filter(|&end| end <= self.len)?;
        if !self.in_window(self.position, end) && self.map_from(self.position, n).is_err() {
            return None; // read instead, where the error is reported with its place
        }
        let at = (self.position - self.window_start) as usize;
        self.position = end;
        let taken = self.window.slice(at..at + n as usize);
        self.map_ahead();
        Some(taken)
    }
}

/// `len` bytes of `file` from `start`: mapped and guarded, or read where the map cannot
/// be guarded.
fn map(file: &File, start: u64, len: u64, file_len: u64) -> std::io::Result<Bytes> {
    let len = usize::try_from(len).map_err(std::io::Error::other)?;
    // SAFETY: the map is only read, and guarded before it is: a page the file no longer
    // has reads as zeros and marks the map cut (see `guard`), which readers check.
    let map = unsafe { MmapOptions::new().offset(start).len(len).map(file)? };
    // The guard keeps a handle of its own: the window may outlive the reader of the file.
    match file.try_clone().ok().and_then(|own| guard(map.as_ptr(), map.len(), own, file_len)) {
        Some(guard) => Ok(Bytes::from_owner(GuardedMap { guard, map })),
        None => read(file, start, len),
    }
}

/// A map and its guard, dropped in this order: the guard before the map is unmapped.
struct GuardedMap {
    #[allow(dead_code)] // held for its Drop
    guard: Guard,
    map: Mmap,
}

impl AsRef<[u8]> for GuardedMap {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

/// `len` bytes of `file` from `start`, read into memory of their own.
fn read(mut file: &File, start: u64, len: usize) -> std::io::Result<Bytes> {
    let mut window = Vec::with_capacity(len);
    file.seek(SeekFrom::Start(start))?;
    file.take(len as u64).read_to_end(&mut window)?;
    if window.len() < len {
        return Err(cut_while_read());
    }
    Ok(Bytes::from(window))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use proptest::prelude::*;

    use super::*;

    /// A file of `len` bytes that tell their offsets apart, and those bytes.
    fn file(len: usize) -> (File, Vec<u8>) {
        let bytes: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
        let path = std::env::temp_dir().join(format!("polars-avro-mapped-{}-{len}", std::process::id()));
        std::fs::File::create(&path).and_then(|mut f| f.write_all(&bytes)).unwrap();
        let file = File::open(&path).unwrap();
        std::fs::remove_file(&path).unwrap(); // the open file stays readable
        (file, bytes)
    }

    #[derive(Debug, Clone)]
    enum Step {
        Take(u64),
        Read(usize),
        Skip(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (0u64..30_000).prop_map(Step::Take),
            (1usize..20).prop_map(Step::Read),
            (0u64..10_000).prop_map(Step::Skip),
        ]
    }

    proptest! {
        /// Blocks taken, varints read and data skipped, across window ends and past the
        /// end of the file: every byte handed out is the file's byte at that offset.
        #[test]
        fn every_byte_handed_out_is_the_files(
            len in 1usize..100_000,
            window in 1u64..20_000,
            steps in proptest::collection::vec(step(), 1..60),
            ahead in any::<bool>(),
        ) {
            let (file, bytes) = file(len);
            let mut mapped = MappedFile::with_window(file, len as u64, window).unwrap();
            if ahead {
                mapped.walk_ahead_on(test_pool(), no_walk());
            }
            let mut at = 0usize;
            for step in steps {
                match step {
                    Step::Take(n) => match mapped.take_shared(n) {
                        Some(taken) => {
                            prop_assert_eq!(&taken[..], &bytes[at..at + n as usize]);
                            at += n as usize;
                        },
                        None => prop_assert!(at + n as usize > len, "refused {} bytes at {}", n, at),
                    },
                    Step::Read(n) => {
                        let mut buf = vec![0u8; n];
                        // Up to the window's end at most; nothing only at the file's end.
                        let read = mapped.read(&mut buf).unwrap();
                        prop_assert!(read <= n && (read > 0) == (at < len), "read {} at {}", read, at);
                        prop_assert_eq!(&buf[..read], &bytes[at.min(len)..at.min(len) + read]);
                        at += read;
                    },
                    Step::Skip(n) => {
                        mapped.skip(n).unwrap();
                        at += n as usize;
                    },
                }
            }
        }
    }

    const MIB: u64 = 1 << 20;

    fn test_pool() -> Arc<ThreadPool> {
        Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap())
    }

    fn no_walk() -> WindowWalk {
        Arc::new(|_, _, _| {})
    }

    /// A 10 MiB file mapped 4 MiB at a time, mapping ahead on a pool of two threads.
    fn mapping_ahead() -> (MappedFile, Vec<u8>) {
        let (file, bytes) = file(10 << 20);
        let mut mapped = MappedFile::with_window(file, 10 * MIB, 4 * MIB).unwrap();
        mapped.walk_ahead_on(test_pool(), no_walk());
        (mapped, bytes)
    }

    #[test]
    fn the_next_window_is_mapped_ahead_once_the_reader_is_in_one_and_then_read_from() {
        let (mut mapped, bytes) = mapping_ahead();
        assert!(mapped.next.is_none() && !mapped.window_walked, "not before the reader takes a block");
        let mut taken = vec![mapped.take_shared(1).unwrap()];
        // It starts AHEAD_OVERLAP before this window ends: a block crossing the end lies
        // within it.
        assert_eq!(mapped.next.as_ref().map(|(start, _)| *start), Some(4 * MIB - AHEAD_OVERLAP));
        assert!(mapped.window_walked);
        taken.push(mapped.take_shared(3 * MIB + 100).unwrap());
        assert_eq!(mapped.window_start, 0, "still within the first window");
        taken.push(mapped.take_shared(2 * MIB).unwrap());
        assert_eq!(mapped.window_start, 3 * MIB, "the window mapped ahead");
        assert_eq!(mapped.next.as_ref().map(|(start, _)| *start), Some(6 * MIB), "and the one after it");
        taken.push(mapped.take_shared(5 * MIB - 101).unwrap());
        assert!(mapped.take_shared(1).is_none() && mapped.next.is_none(), "nothing past the end");
        assert_eq!(taken.concat(), bytes);
    }

    #[test]
    fn the_walk_runs_once_over_every_byte_past_the_readers_first_piece() {
        let (file, bytes) = file(10 << 20);
        let mut mapped = MappedFile::with_window(file, 10 * MIB, 4 * MIB).unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let sender = std::sync::Mutex::new(sender);
        let walk: WindowWalk = Arc::new(move |start, bytes: &[u8], piece| {
            sender.lock().unwrap().send((start, bytes.to_vec(), piece)).unwrap();
        });
        mapped.walk_ahead_on(test_pool(), walk);
        // Windows at 0, 3 and 6 MiB (each AHEAD_OVERLAP before the end of the one before):
        // the reader in the first, then in the second.
        mapped.take_shared(1).unwrap();
        mapped.take_shared(3 * MIB + 100).unwrap();
        mapped.take_shared(2 * MIB).unwrap();
        assert_eq!(mapped.next.as_ref().map(|(start, _)| *start), Some(6 * MIB));
        drop(mapped);
        let mut walked: Vec<(u64, Vec<u8>, usize)> = receiver.iter().collect();
        walked.sort_by_key(|(start, ..)| *start);
        // The pieces follow one another from past the piece the reader frames itself to
        // the end of the file: none twice, none left out.
        let mut end = MIB + 1;
        for (start, seen, piece) in walked {
            assert_eq!(start, end, "the piece after the one that ends at {end}");
            assert!(piece <= WALK_PIECE);
            end = start + piece as u64;
            // Each sees to its window's end, for the blocks that cross its own.
            let window_end = start as usize + seen.len();
            assert!([4 << 20, 7 << 20, 10 << 20].contains(&window_end), "the piece at {start} sees to {window_end}");
            assert!(seen == bytes[start as usize..window_end], "the bytes of the piece at {start}");
        }
        assert_eq!(end, 10 * MIB);
    }

    #[test]
    fn a_block_past_the_window_mapped_ahead_gets_a_window_of_its_own() {
        let (mut mapped, bytes) = mapping_ahead();
        mapped.take_shared(2 * MIB).unwrap();
        assert!(mapped.next.is_some());
        // Starts before the window mapped ahead.
        let long = mapped.take_shared(5 * MIB).unwrap();
        assert_eq!(&long[..], &bytes[2 << 20..7 << 20]);
        assert_eq!(mapped.window_start, 2 * MIB);
        assert!(mapped.window_walked, "handed to the pool in turn");
    }

    #[test]
    fn a_block_longer_than_a_window_is_mapped_whole() {
        let (file, bytes) = file(50_000);
        let mut mapped = MappedFile::with_window(file, 50_000, 4096).unwrap();
        assert_eq!(&mapped.take_shared(10).unwrap()[..], &bytes[..10]);
        let long = mapped.take_shared(30_000).unwrap();
        assert_eq!(&long[..], &bytes[10..30_010]);
        assert!(mapped.take_shared(20_000).is_none(), "past the end");
        assert_eq!(&mapped.take_shared(19_990).unwrap()[..], &bytes[30_010..]);
        assert!(mapped.fill_buf().unwrap().is_empty());
    }

    /// A mapped 1 MiB file of sevens, its first `take` bytes taken as a block, then cut to
    /// `cut_to` bytes by "another program" (the file is removed; the map stays).
    fn taken_then_cut(tag: &str, take: u64, cut_to: u64) -> (MappedFile, Bytes) {
        let path = std::env::temp_dir().join(format!("polars-avro-mapped-{tag}-{}", std::process::id()));
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let mut mapped = MappedFile::with_window(File::open(&path).unwrap(), 1 << 20, 1 << 20).unwrap();
        let block = mapped.take_shared(take).unwrap();
        assert!(mapped.intact(true).is_ok() && check_intact(&block, true).is_ok());
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(cut_to).unwrap();
        std::fs::remove_file(&path).unwrap();
        (mapped, block)
    }

    #[test]
    fn a_file_cut_shorter_while_mapped_reads_as_cut_not_as_a_crash() {
        let (mapped, block) = taken_then_cut("cut", 900_000, 4096);
        // Pages past the new end: SIGBUS without the guard; zeros with it.
        let sum: u64 = block.iter().map(|&b| u64::from(b)).sum();
        assert!(sum < 7 * 900_000, "the pages past the end read as zeros");
        let error = check_intact(&block, false).unwrap_err();
        assert!(error.to_string().contains("shorter than when it was opened"), "{error}");
        assert!(mapped.intact(false).is_err(), "the window it came from");
        drop((block, mapped));
    }

    #[test]
    fn walking_a_file_cut_shorter_is_no_crash_and_the_reader_is_told() {
        let (mapped, block) = taken_then_cut("walk", 900_000, 4096);
        // A marker found nowhere: the walk reads every page of the block, past the cut too.
        let frames = crate::container::walk_frames(&block, 0, block.len(), &[1; 16], 1 << 20);
        assert!(frames.is_empty());
        assert!(mapped.intact(false).is_err(), "the window the walk read past the cut in");
        drop((block, mapped));
    }

    #[test]
    fn zeros_past_a_cut_within_its_last_page_are_told_apart_once_a_use_fails() {
        let (mapped, block) = taken_then_cut("tail", 10_000, 5000);
        // Past the new end, on its last page: zeros, and no fault to mark the map.
        assert_eq!(block[6000], 0);
        assert!(check_intact(&block, false).is_ok() && mapped.intact(false).is_ok());
        let errors = [check_intact(&block, true).unwrap_err(), mapped.intact(true).unwrap_err()];
        for error in errors {
            assert!(error.to_string().contains("shorter than when it was opened"), "{error}");
        }
    }
}
