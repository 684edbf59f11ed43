//! Memory maps guarded against files cut shorter while they are mapped.
//!
//! Touching a page of a map past the end of its file raises SIGBUS, which ends the
//! process; another program truncating or rewriting a file while it is read (log
//! rotation, a tool regenerating it in place) would end the reader. A guarded map is
//! registered here; a SIGBUS inside one puts a page of zeros where the missing page was
//! (so the faulting read goes on, reading zeros) and marks the map cut. Whoever read from
//! the map checks [`check_intact`] before trusting what it read, and fails naming the file.
//! Faults anywhere else go on to the handler that was there before (Python's faulthandler,
//! or the default: the process ends, as it would have).
//!
//! Reading the file instead of mapping it costs a copy of every byte out of the page cache:
//! 10-25% of a read of flat records (docs/benchmarks.md has the measurement).

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

#[cfg(unix)]
use libc::{c_int, c_void, siginfo_t};

/// Maps guarded at once: windows of the blocks in flight, across every read of the
/// process. A map made when every slot is taken is read instead (see `mapped`).
const SLOTS: usize = 1024;

/// A guarded map's address range, and whether a fault found it cut short. An empty
/// range (`end` 0) is a free slot.
struct Slot {
    claimed: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    cut: AtomicBool,
}

static GUARDED: [Slot; SLOTS] = [const {
    Slot {
        claimed: AtomicBool::new(false),
        start: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        cut: AtomicBool::new(false),
    }
}; SLOTS];

/// Maps found cut short and still guarded: while none is, [`cut_short`] is one load.
static CUT_MAPS: AtomicUsize = AtomicUsize::new(0);

/// A guarded map's registration: dropped before the map is unmapped, so that its
/// addresses, once reused by another map, are never taken for this one.
pub(super) struct Guard {
    slot: usize,
}

/// The file each claimed slot maps (a handle of its own) and the file's length when it
/// was opened: a cut that leaves part of a page reads as zeros past the new end without a
/// fault, which only the file's length tells. Never touched by the handler.
static FILES: Mutex<Vec<Option<(File, u64)>>> = Mutex::new(Vec::new());

fn files() -> std::sync::MutexGuard<'static, Vec<Option<(File, u64)>>> {
    let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    files.resize_with(SLOTS, || None);
    files
}

/// Guards the map of `len` bytes at `start` of `file` (a handle of the map's own), whose
/// length was `file_len` when opened; None when every slot is taken, or where the handler
/// cannot be installed (then the caller reads instead of mapping).
pub(super) fn guard(start: *const u8, len: usize, file: File, file_len: u64) -> Option<Guard> {
    install().ok()?;
    let slot = GUARDED
        .iter()
        .position(|s| s.claimed.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_ok())?;
    files()[slot] = Some((file, file_len));
    GUARDED[slot].start.store(start as usize, Ordering::Release);
    GUARDED[slot].end.store(start as usize + len, Ordering::Release);
    Some(Guard { slot })
}

impl Drop for Guard {
    fn drop(&mut self) {
        files()[self.slot] = None;
        let slot = &GUARDED[self.slot];
        slot.end.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
        if slot.cut.swap(false, Ordering::AcqRel) {
            CUT_MAPS.fetch_sub(1, Ordering::AcqRel);
        }
        slot.claimed.store(false, Ordering::Release);
    }
}

/// The slot whose map holds `address`, and its index.
fn slot_of(address: usize) -> Option<(usize, &'static Slot)> {
    GUARDED.iter().enumerate().find(|(_, s)| {
        let end = s.end.load(Ordering::Acquire);
        end != 0 && (s.start.load(Ordering::Acquire)..end).contains(&address)
    })
}

/// Whether `bytes`, read from a guarded map, were read from a map found cut short: some
/// of them may be the zeros put in place of pages the file no longer has.
fn cut_short(bytes: &[u8]) -> bool {
    if CUT_MAPS.load(Ordering::Acquire) == 0 || bytes.is_empty() {
        return false;
    }
    slot_of(bytes.as_ptr() as usize).is_some_and(|(_, s)| s.cut.load(Ordering::Acquire))
}

/// An error when `bytes`, handed out by a stream (a block's data), came from a mapped file
/// cut shorter while it was read: some of them may be zeros in place of pages the file
/// lost. Checked after the bytes are used, since the cut may come meanwhile. When their use
/// `failed` (a decode error, a bad marker), also when their file is now shorter than when
/// it was opened: the zeros a cut leaves past the new end, on its last page, come without
/// a fault, and read as damage.
pub(crate) fn check_intact(bytes: &[u8], failed: bool) -> std::io::Result<()> {
    if cut_short(bytes) {
        return Err(cut_while_read());
    }
    let Some((index, _)) = slot_of(bytes.as_ptr() as usize).filter(|_| failed && !bytes.is_empty()) else {
        return Ok(());
    };
    let files = files();
    let Some((file, file_len)) = &files[index] else { return Ok(()) };
    match file.metadata() {
        Ok(meta) if meta.len() < *file_len => Err(cut_while_read()),
        _ => Ok(()),
    }
}

/// The error of a file found shorter than when it was opened.
pub(super) fn cut_while_read() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::UnexpectedEof,
        "the file is shorter than when it was opened: another program cut or rewrote it while it was read",
    )
}

/// Marks the map holding `address` cut short, if one does.
#[cfg_attr(not(unix), allow(dead_code))] // the SIGBUS handler marks; tests mark anywhere
fn mark_cut(address: usize) -> bool {
    let Some((_, slot)) = slot_of(address) else { return false };
    if !slot.cut.swap(true, Ordering::AcqRel) {
        CUT_MAPS.fetch_add(1, Ordering::AcqRel);
    }
    true
}

/// Our SIGBUS handler, in front of the one found before it.
#[cfg(unix)]
static SIGBUS: crate::signals::Chained = crate::signals::Chained::new(libc::SIGBUS);
#[cfg(unix)]
static PAGE: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler unless it is the one installed (another may have replaced it
/// since: Python's faulthandler, enabled later, for one).
#[cfg(unix)]
fn install() -> std::io::Result<()> {
    if PAGE.load(Ordering::Acquire) == 0 {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        PAGE.store(usize::try_from(page).unwrap_or(4096).max(1), Ordering::Release);
    }
    // In front of any handler: faults outside guarded maps end the process as before.
    SIGBUS.install(on_sigbus, |_| true).map(|_| ())
}

#[cfg(unix)]
extern "C" fn on_sigbus(_signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel hands a valid siginfo_t; si_addr is meaningful for the faults
    // it raises itself (a positive si_code), not for a kill() or raise().
    let address = unsafe { ((*info).si_code > 0).then(|| (*info).si_addr() as usize) };
    if let Some(address) = address {
        let page_len = PAGE.load(Ordering::Acquire);
        if slot_of(address).is_some() {
            let page = (address / page_len * page_len) as *mut c_void;
            let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED;
            // SAFETY: replaces one page of a guarded map, which only this module's
            // callers read, by zeros; the map stays the same length.
            let zeros = unsafe { libc::mmap(page, page_len, libc::PROT_READ, flags, -1, 0) };
            if zeros != libc::MAP_FAILED && mark_cut(address) {
                return; // the read goes on, reading zeros, and its reader checks
            }
        }
    }
    SIGBUS.chain(info, context);
}

/// No SIGBUS here: maps are not guarded, and files are read instead.
#[cfg(not(unix))]
fn install() -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_of_a_cut_map_are_told_apart_until_its_guard_is_dropped() {
        let (a, b) = (vec![1u8; 100], vec![2u8; 100]);
        let file = || File::open(std::env::current_exe().unwrap()).unwrap();
        let (guard_a, _guard_b) =
            (guard(a.as_ptr(), a.len(), file(), 0).unwrap(), guard(b.as_ptr(), b.len(), file(), 0).unwrap());
        assert!(!cut_short(&a[10..20]));
        assert!(mark_cut(a.as_ptr() as usize + 50));
        assert!(cut_short(&a[10..20]) && !cut_short(&b[10..20]));
        assert!(!mark_cut(usize::MAX), "no map there");
        drop(guard_a);
        assert!(!cut_short(&a[10..20]), "the slot is free again");
    }
}
