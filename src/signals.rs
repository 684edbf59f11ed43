//! Signal handlers put in front of whatever handler a signal already had (Python's,
//! Polars', faulthandler's), handing the signal on to it: ours only notes what it needs.
//! Another library may replace ours later, so each use installs it again when it is gone.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use libc::{c_int, c_void, siginfo_t};

/// A handler's entry point, as `SA_SIGINFO` handlers take it.
pub type Handler = extern "C" fn(c_int, *mut siginfo_t, *mut c_void);

/// One signal's handler of ours and the one found before it.
pub struct Chained {
    signal: c_int,
    /// The handler found before ours: its function (or SIG_DFL, SIG_IGN) and flags.
    previous: AtomicUsize,
    previous_flags: AtomicUsize,
    /// Serializes installing (never taken inside a handler).
    installing: Mutex<()>,
}

impl Chained {
    /// Nothing installed yet.
    pub const fn new(signal: c_int) -> Self {
        Self {
            signal,
            previous: AtomicUsize::new(libc::SIG_DFL),
            previous_flags: AtomicUsize::new(0),
            installing: Mutex::new(()),
        }
    }

    /// Puts `ours` in front of the signal's handler unless it is there already, and
    /// only where `wanted` says so of the handler there now (an ignored signal stays
    /// ignored). Returns whether ours is the signal's handler.
    pub fn install(&self, ours: Handler, wanted: impl Fn(usize) -> bool) -> std::io::Result<bool> {
        let _installing = self.installing.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: sigaction with a null new action only reads the current one.
        let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaction(self.signal, std::ptr::null(), &mut current) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if current.sa_sigaction == ours as usize {
            return Ok(true);
        }
        if !wanted(current.sa_sigaction) {
            return Ok(false);
        }
        self.previous.store(current.sa_sigaction, Ordering::Release);
        self.previous_flags.store(current.sa_flags as usize, Ordering::Release);
        // SAFETY: a zeroed sigaction is a valid one (empty mask), filled in below.
        let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
        action.sa_sigaction = ours as usize;
        // SA_ONSTACK: a thread out of stack still gets its overflow report (Rust's handler
        // runs on the alternate stack). SA_RESTART as the handler before asked: whether a
        // system call the signal interrupts starts again is the process's choice, not ours.
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | (current.sa_flags & libc::SA_RESTART);
        // SAFETY: the handlers of this crate only do async-signal-safe work.
        if unsafe { libc::sigaction(self.signal, &action, std::ptr::null_mut()) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(true)
    }

    /// Hands the signal to the handler found before ours. Found none (SIG_DFL or
    /// SIG_IGN), the default action is restored: a fault's instruction runs again and
    /// the process ends as it would have without us.
    pub fn chain(&self, info: *mut siginfo_t, context: *mut c_void) {
        let previous = self.previous.load(Ordering::Acquire);
        let flags = self.previous_flags.load(Ordering::Acquire) as c_int;
        if previous == libc::SIG_DFL || previous == libc::SIG_IGN {
            // SAFETY: signal() with SIG_DFL is async-signal-safe.
            unsafe { libc::signal(self.signal, libc::SIG_DFL) };
        } else if flags & libc::SA_SIGINFO != 0 {
            // SAFETY: the previous handler was installed with SA_SIGINFO, so it takes these.
            let handler: Handler = unsafe { std::mem::transmute(previous) };
            handler(self.signal, info, context);
        } else {
            // SAFETY: the previous handler was installed without SA_SIGINFO.
            let handler: extern "C" fn(c_int) = unsafe { std::mem::transmute(previous) };
            handler(self.signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicU32;

    use super::*;

    static SEEN: AtomicU32 = AtomicU32::new(0);
    static BEFORE: AtomicU32 = AtomicU32::new(0);
    static CHAINED: Chained = Chained::new(libc::SIGUSR2);

    extern "C" fn before(_: c_int) {
        BEFORE.fetch_add(1, Ordering::SeqCst);
    }

    extern "C" fn ours(_: c_int, info: *mut siginfo_t, context: *mut c_void) {
        SEEN.fetch_add(1, Ordering::SeqCst);
        CHAINED.chain(info, context);
    }

    #[test]
    fn a_chained_handler_sees_the_signal_and_hands_it_on_and_is_installed_once() {
        // SAFETY: a handler that only counts, for a signal nothing else in the tests uses.
        unsafe { libc::signal(libc::SIGUSR2, before as extern "C" fn(c_int) as usize) };
        assert!(!CHAINED.install(ours, |_| false).unwrap(), "not wanted: left as it was");
        assert!(CHAINED.install(ours, |_| true).unwrap());
        assert!(CHAINED.install(ours, |_| false).unwrap(), "already there");
        // SAFETY: raise() runs the handler on this thread before it returns.
        unsafe { libc::raise(libc::SIGUSR2) };
        assert_eq!((SEEN.load(Ordering::SeqCst), BEFORE.load(Ordering::SeqCst)), (1, 1));
    }
}
