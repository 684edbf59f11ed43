//! Ctrl-C during work that runs without the GIL. Python runs its SIGINT handler (the
//! `KeyboardInterrupt`, or an application's own) only on the main thread and only
//! between bytecodes, so a read or write of minutes would hear Ctrl-C at its end. A
//! handler of ours, in front of Python's (and Polars'), counts SIGINTs; the work's loops
//! check the count between steps (`crate::interrupt`), and when it moved:
//! - on the main thread, Python's handlers run there and then; one that raises stops the
//!   work and its exception is what the call raises, one that does not lets it go on;
//! - on another thread (Polars runs scans on its own), the work stops with
//!   `KeyboardInterrupt` where Python's handler is its default one (which raises it on the
//!   main thread), as Polars stops its own queries; an application's handler is left to
//!   the main thread.
//!
//! A SIGINT that is ignored (SIG_IGN) or left to end the process (SIG_DFL) gets no handler
//! of ours.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use pyo3::exceptions::{PyException, PyKeyboardInterrupt};
use pyo3::prelude::*;

use crate::error::{AvroError, AvroResult};

/// SIGINTs received since the process started.
static SIGINTS: AtomicU64 = AtomicU64::new(0);

#[cfg(unix)]
static SIGINT: crate::signals::Chained = crate::signals::Chained::new(libc::SIGINT);

#[cfg(unix)]
extern "C" fn on_sigint(_signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // Python's handler first: the count tells the work to ask Python, which must then
    // know of the signal already.
    SIGINT.chain(info, context);
    SIGINTS.fetch_add(1, Ordering::SeqCst);
}

/// Runs `work` without the GIL, stopping it (with the exception Python's handler raised)
/// when Ctrl-C is pressed; a SIGINT that arrives during its last step stops it as well.
pub fn interruptible<T: Send>(py: Python<'_>, work: impl FnOnce() -> AvroResult<T> + Send) -> AvroResult<T> {
    interruptible_since(py, &mut Heard::now(), work)
}

/// The SIGINTs a reader or writer that lives across calls has heard. A Ctrl-C between two
/// of its calls, while Python holds a batch (Polars hands a scan's batch on there), stops
/// the next call: a count taken afresh at each call would miss it, and the scan would read
/// on and hand Polars another batch after Polars stopped the query.
#[derive(Debug)]
pub struct Heard(u64);

impl Heard {
    /// Every SIGINT so far heard: only later ones stop the work.
    pub fn now() -> Self {
        Self(SIGINTS.load(Ordering::SeqCst))
    }
}

/// [`interruptible`], hearing the SIGINTs that came since `heard`.
pub fn interruptible_since<T: Send>(
    py: Python<'_>,
    heard: &mut Heard,
    work: impl FnOnce() -> AvroResult<T> + Send,
) -> AvroResult<T> {
    #[cfg(unix)]
    // Best effort: without it, Ctrl-C is heard when the work ends, as before.
    let _ = SIGINT.install(on_sigint, |handler| handler != libc::SIG_DFL && handler != libc::SIG_IGN);
    let since = heard.0;
    let (result, seen) = py.detach(move || {
        let seen = std::rc::Rc::new(Cell::new(since));
        let checked_seen = seen.clone();
        let check = move || stop_requested(&checked_seen);
        let result =
            crate::interrupt::checked(check, || work().and_then(|value| crate::interrupt::check().map(|()| value)));
        (result, seen.get())
    });
    heard.0 = seen;
    result
}

/// An exception raised in Python that stops the work (Ctrl-C's, or a file object's own),
/// carried through Rust's errors to be raised as it is.
#[derive(Debug)]
pub struct Raised(PyErr);

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Raised {}

/// The work stopped by an exception raised in Python.
pub fn stopped_by(err: PyErr) -> AvroError {
    AvroError::interrupted().with_source(Raised(err))
}

/// A Python file object's exception as an I/O error, told as any file's failure is (a
/// closed file's `ValueError`, an `OSError`), but for those that are no error of the file
/// (`KeyboardInterrupt` at Ctrl-C, `SystemExit`): they stop the work and are raised as
/// they are.
pub fn file_object_error(py: Python<'_>, err: PyErr) -> std::io::Error {
    if err.is_instance_of::<PyException>(py) {
        std::io::Error::other(err.to_string())
    } else {
        std::io::Error::other(stopped_by(err))
    }
}

/// `f` with the GIL, from any thread of the work. Where Python is gone or going (a Ctrl-C
/// that ended the program finalizes it while workers still run), the work stops with
/// `gone()`'s error instead: attaching there panics.
pub fn attached<T, E>(gone: impl FnOnce() -> E, f: impl FnOnce(Python<'_>) -> Result<T, E>) -> Result<T, E> {
    Python::try_attach(f).unwrap_or_else(|| Err(gone()))
}

/// The error of work stopped because Python is finalizing, as the file objects' reads and
/// writes give it.
pub fn python_gone() -> std::io::Error {
    std::io::Error::other(AvroError::interrupted())
}

/// The exception that stopped the work (a `KeyboardInterrupt` where none is carried).
pub fn raised(py: Python<'_>, err: &AvroError) -> PyErr {
    let carried = err.source.as_deref().and_then(|source| source.downcast_ref::<Raised>());
    carried.map_or_else(|| PyKeyboardInterrupt::new_err(""), |raised| raised.0.clone_ref(py))
}

fn stop_requested(seen: &Cell<u64>) -> AvroResult<()> {
    let now = SIGINTS.load(Ordering::SeqCst);
    if now == seen.get() {
        return Ok(());
    }
    seen.set(now);
    // A SIGINT that ended the program finalizes Python while the workers still run: where
    // Python is gone or going, the work stops (attaching there panics).
    let raised = attached(
        || PyKeyboardInterrupt::new_err(""),
        |py| -> PyResult<Option<PyErr>> {
            if on_main_thread(py)? {
                Ok(py.check_signals().err())
            } else {
                let signal = py.import("signal")?;
                let handler = signal.call_method1("getsignal", (libc::SIGINT,))?;
                Ok(handler.is(&signal.getattr("default_int_handler")?).then(|| PyKeyboardInterrupt::new_err("")))
            }
        },
    );
    match raised {
        Ok(None) => Ok(()),
        Ok(Some(err)) | Err(err) => Err(stopped_by(err)),
    }
}

fn on_main_thread(py: Python<'_>) -> PyResult<bool> {
    let threading = py.import("threading")?;
    Ok(threading.call_method0("current_thread")?.is(&threading.call_method0("main_thread")?))
}
