//! Memory the system refused. Rust ends the process when an allocation fails (`memory
//! allocation of N bytes failed`, then SIGABRT): under an address-space limit (`ulimit
//! -v`, as batch schedulers and some containers set) a read too large for it took the
//! user's whole session with it. The Python layer's allocator (`python/alloc.rs`) keeps a
//! reserve of address space of its own for that moment: it serves a refused allocation
//! from the reserve and notes the failure here. A work watches for failures from its start
//! ([`Watch`]) and stops at its next step with an out-of-memory error, freeing what it
//! holds, where the process would have ended.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::error::{AvroError, AvroResult, ErrorKind};

/// Allocations that failed since the process started, and the size of the latest.
static FAILURES: AtomicU64 = AtomicU64::new(0);
static LATEST_SIZE: AtomicUsize = AtomicUsize::new(0);

/// Notes a failed allocation of `size` bytes (0: not known); allocates nothing.
pub fn note_failed(size: usize) {
    LATEST_SIZE.store(size, Ordering::SeqCst);
    FAILURES.fetch_add(1, Ordering::SeqCst);
}

/// The failed allocations a work has seen: those before it began are not its own.
#[derive(Debug, Clone, Copy)]
pub struct Watch(u64);

impl Watch {
    pub fn now() -> Self {
        Self(FAILURES.load(Ordering::SeqCst))
    }

    /// An out-of-memory error where an allocation failed since the work began.
    pub fn check(&self) -> AvroResult<()> {
        if FAILURES.load(Ordering::SeqCst) == self.0 {
            return Ok(());
        }
        let size = LATEST_SIZE.load(Ordering::SeqCst);
        Err(AvroError::new(
            ErrorKind::OutOfMemory,
            format!(
                "out of memory: the system refused an allocation{}{}; the work stopped and freed what it held. \
                 Read fewer files at once, stream the query (collect(engine=\"streaming\"), a sink) or raise the \
                 limit",
                // A library's own allocation may not tell its size.
                if size == 0 { String::new() } else { format!(" of {size} bytes") },
                limit_note(address_space_limit()),
            ),
        ))
    }
}

/// What an out-of-memory error says of the address-space limit (nothing without one).
pub fn limit_note(address_space_limit: Option<u64>) -> String {
    address_space_limit.map_or_else(String::new, |limit| {
        format!(" (the process's address space is limited to {limit} bytes: ulimit -v)")
    })
}

/// The process's address-space limit (RLIMIT_AS), where one is set.
pub fn address_space_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit only writes the struct it is given.
        let got = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0;
        (got && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_sees_the_failures_after_it_began_and_not_those_before() {
        note_failed(1);
        let watch = Watch::now();
        assert!(watch.check().is_ok());
        note_failed(6_818_580);
        let error = watch.check().unwrap_err();
        assert_eq!(error.kind, ErrorKind::OutOfMemory);
        assert!(error.message.contains("an allocation of 6818580 bytes"), "{}", error.message);
        assert!(Watch::now().check().is_ok(), "a later work starts afresh");
    }
}
