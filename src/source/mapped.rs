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
//! Mapping pages on first touch was much of what the reading thread did: the pages of
//! block headers are touched there first, and the kernel maps 16 pages around each
//! (about 4 of the reading thread's 7 ms in a read of 1M flat records on two threads).
//! The reading thread is the part of a read that more threads do not speed up, so its
//! time bounds the speed-up on many cores. A read with a pool therefore has the pool's
//! threads fill in the page tables of the window being read, and maps the next window as
//! soon as the reader is in one, so that they fill in its page tables too, a piece each,
//! a window ahead of the reader.

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

/// Bytes of a window whose pages one pool task maps.
const POPULATE_PIECE: usize = 1 << 20;

/// A regular file, read through maps of [`WINDOW`] bytes (or of a whole block, for larger ones).
pub(super) struct MappedFile {
    file: File,
    len: u64,
    /// [`WINDOW`], but for tests.
    window_len: u64,
    window: Bytes,
    window_start: u64,
    position: u64,
    /// Where pages are mapped ahead of the reader, if anywhere.
    ahead: Option<Arc<ThreadPool>>,
    /// Whether the window's pages were handed to `ahead` to map.
    window_populated: bool,
    /// The next window, mapped ahead, and where it starts.
    next: Option<(u64, Bytes)>,
    /// What `ahead` runs over each stretch it maps (the container's framing walk).
    walk: Option<WindowWalk>,
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
            window_populated: false,
            next: None,
            walk: None,
        })
    }

    /// Maps a window from `start`, at least `min_len` bytes of it (within the file): the
    /// one mapped ahead, when it holds them.
    fn map_from(&mut self, start: u64, min_len: u64) -> std::io::Result<()> {
        if let Some((next_start, next)) = self.next.take() {
            if next_start <= start && start + min_len <= next_start + next.len() as u64 {
                (self.window, self.window_start, self.window_populated) = (next, next_start, true);
                return Ok(());
            }
        }
        self.window = map(&self.file, start, min_len.max(self.window_len).min(self.len - start), self.len)?;
        self.window_start = start;
        self.window_populated = false;
        Ok(())
    }

    /// Has the pool map the pages of the window being read, past the piece the reader is
    /// about to touch itself, and of the next window, mapped now: a window ahead of the
    /// reader, the pool has the time the reader takes through a window to map the next
    /// one's pages. (Mapping it halfway through left the reader half the faults of a read on
    /// two threads.) A small file's pages are left to the reader: a task for them would cost
    /// more than the faults.
    fn map_ahead(&mut self) {
        let Some(pool) = self.ahead.clone() else { return };
        if !self.window_populated {
            self.window_populated = true;
            let at = usize::try_from(self.position - self.window_start).unwrap_or(usize::MAX);
            let from = at.saturating_add(POPULATE_PIECE).min(self.window.len());
            self.ahead_on(&pool, self.window_start + from as u64, self.window.slice(from..));
        }
        if self.next.is_some() || self.window_end() >= self.len {
            return;
        }
        let start = self.window_end().saturating_sub(AHEAD_OVERLAP).max(self.position);
        // A window that cannot be mapped now is mapped when the reader gets there, where
        // a failure is reported with its place.
        let Ok(next) = map(&self.file, start, self.window_len.min(self.len - start), self.len) else { return };
        self.ahead_on(&pool, start, next.clone());
        self.next = Some((start, next));
    }

    /// Has the pool map the pages of `bytes` (which begin at `start`), a piece a task, each
    /// task first walking the blocks whose marker begins in its piece (see `walk`): a reader
    /// given a block's framing touches none of its pages, so the walk goes first (on two busy
    /// cores it was ahead of the reader for a median 59% of a 25 MB file's blocks, against
    /// 34% walked after the pages were mapped).
    fn ahead_on(&self, pool: &ThreadPool, start: u64, bytes: Bytes) {
        for from in (0..bytes.len()).step_by(POPULATE_PIECE) {
            let (bytes, walk) = (bytes.clone(), self.walk.clone());
            pool.spawn(move || {
                if let Some(walk) = walk {
                    walk(start + from as u64, &bytes[from..], POPULATE_PIECE);
                }
                populate(&bytes[from..(from + POPULATE_PIECE).min(bytes.len())]);
            });
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

    fn map_ahead_on(&mut self, pool: Arc<ThreadPool>, walk: Option<WindowWalk>) {
        (self.ahead, self.walk) = (Some(pool), walk);
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

/// Maps the pages of `bytes` (part of a map) into the process's page tables, reading
/// them from the file where they are not in memory, as touching each would.
fn populate(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        // MADV_POPULATE_READ (Linux 5.14) wants the start of a page: the piece's, which
        // the map holds too (maps begin at the page that holds their first byte).
        // SAFETY: sysconf only reads a value.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096).max(1);
        let start = bytes.as_ptr() as usize;
        let aligned = start & !(page - 1);
        // SAFETY: the range lies within a live map (the piece holds it), and populating only
        // reads it; a page past a cut file fails the call instead of raising SIGBUS.
        let done = unsafe {
            libc::madvise(aligned as *mut libc::c_void, start - aligned + bytes.len(), libc::MADV_POPULATE_READ)
        };
        // Any failure but an older kernel's (a page past a cut file, for instance) is the
        // reader's to meet, where it is reported with its place.
        if done == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
            return;
        }
    }
    // Older kernels and other systems: a read of each page (of 4 KiB at least) maps it
    // (and, on Linux, its neighbours); a page past a cut is the guard's to handle.
    for at in (0..bytes.len()).step_by(4096) {
        // SAFETY: `at` is within `bytes`.
        unsafe { std::ptr::read_volatile(bytes.as_ptr().add(at)) };
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
                mapped.map_ahead_on(test_pool(), None);
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

    /// A 10 MiB file mapped 4 MiB at a time, mapping ahead on a pool of two threads.
    fn mapping_ahead() -> (MappedFile, Vec<u8>) {
        let (file, bytes) = file(10 << 20);
        let mut mapped = MappedFile::with_window(file, 10 * MIB, 4 * MIB).unwrap();
        mapped.map_ahead_on(test_pool(), None);
        (mapped, bytes)
    }

    #[test]
    fn the_next_window_is_mapped_ahead_once_the_reader_is_in_one_and_then_read_from() {
        let (mut mapped, bytes) = mapping_ahead();
        assert!(mapped.next.is_none() && !mapped.window_populated, "not before the reader takes a block");
        let mut taken = vec![mapped.take_shared(1).unwrap()];
        // It starts AHEAD_OVERLAP before this window ends: a block crossing the end lies
        // within it.
        assert_eq!(mapped.next.as_ref().map(|(start, _)| *start), Some(4 * MIB - AHEAD_OVERLAP));
        assert!(mapped.window_populated);
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
    fn the_walk_runs_over_each_piece_mapped_ahead_from_its_offset_to_the_window_end() {
        let (file, bytes) = file(10 << 20);
        let mut mapped = MappedFile::with_window(file, 10 * MIB, 4 * MIB).unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let sender = std::sync::Mutex::new(sender);
        let walk: WindowWalk = Arc::new(move |start, bytes: &[u8], piece| {
            sender.lock().unwrap().send((start, bytes.to_vec(), piece)).unwrap();
        });
        mapped.map_ahead_on(test_pool(), Some(walk));
        mapped.take_shared(1).unwrap();
        // The first window past the piece the reader touches (1..4 MiB), and the next one
        // (3..7 MiB): a piece of 1 MiB a task.
        let mut walked: Vec<(u64, Vec<u8>, usize)> = (0..7).map(|_| receiver.recv().unwrap()).collect();
        walked.sort_by_key(|(start, bytes, _)| (*start, bytes.len()));
        let starts: Vec<u64> = walked.iter().map(|(start, ..)| start / MIB).collect();
        assert_eq!(starts, [1, 2, 3, 3, 4, 5, 6]);
        for (start, seen, piece) in walked {
            // From the piece's start to its window's end.
            let end = start as usize + seen.len();
            assert!(end == 4 << 20 || end == 7 << 20, "the piece at {start} runs to {end}");
            assert!(seen == bytes[start as usize..end], "the bytes of the piece at {start}");
            assert_eq!(piece, POPULATE_PIECE);
        }
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
        assert!(mapped.window_populated, "its pages handed to the pool in turn");
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
    fn mapping_the_pages_of_a_file_cut_shorter_is_no_crash_and_no_error_of_its_own() {
        let (mapped, block) = taken_then_cut("populate", 900_000, 4096);
        populate(&block);
        // Past the cut only the reader's own use tells (above); populating added nothing.
        assert!(mapped.intact(false).is_ok() && check_intact(&block, false).is_ok());
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
