//! Ctrl-C during work that runs without the GIL. Python runs its SIGINT handler (the
//! `KeyboardInterrupt`, or an application's own) only on the main thread and only
//! between bytecodes, so a read or write of minutes would hear Ctrl-C at its end. A
//! handler of ours, in front of Python's (and Polars'), counts SIGINTs; the work's loops
//! check the count between steps (`crate::interrupt`), and when it moved:
//! - on the main thread, Python's handlers run there and then; one that raises stops the
//!   work and its exception is what the call raises, one that does not lets it go on;
//! - on another thread (Polars runs scans on its own) while the main thread waits in a
//!   Polars call (`collect`, a sink), Python would run its handler only when that call
//!   returns, and then a second time after the work's own `KeyboardInterrupt`. So the
//!   signal is held back from Python, and the work runs Python's handler itself, once:
//!   its exception (the `KeyboardInterrupt`, an application's own) stops the work and is
//!   what the call raises; a handler that does not raise lets the work go on;
//! - on another thread while the main thread runs on, the signal goes to Python as it
//!   came, for the main thread, and the work stops with `KeyboardInterrupt` where
//!   Python's handler is its default one, as Polars stops its own queries.
//!
//! A SIGINT that is ignored (SIG_IGN) or left to end the process (SIG_DFL) gets no handler
//! of ours.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

use pyo3::exceptions::{PyException, PyKeyboardInterrupt};
use pyo3::prelude::*;

use crate::error::{AvroError, AvroResult};

/// SIGINTs received since the process started.
static SIGINTS: AtomicU64 = AtomicU64::new(0);

#[cfg(unix)]
static SIGINT: crate::signals::Chained = crate::signals::Chained::new(libc::SIGINT);

/// Works running without the GIL now, begun on the main thread and on others.
static WORKS_ON_MAIN: AtomicUsize = AtomicUsize::new(0);
static WORKS_OFF_MAIN: AtomicUsize = AtomicUsize::new(0);

/// A SIGINT held back from Python for a work off the main thread to hand on or handle.
static HELD: AtomicBool = AtomicBool::new(false);

/// Whether a SIGINT is held back from Python: only while works run off the main thread
/// and none on it. A work on the main thread has Python run its handler there.
fn held_back(works_on_main: usize, works_off_main: usize) -> bool {
    works_on_main == 0 && works_off_main > 0
}

#[cfg(unix)]
extern "C" fn on_sigint(_signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    if held_back(WORKS_ON_MAIN.load(Ordering::SeqCst), WORKS_OFF_MAIN.load(Ordering::SeqCst))
        && !HELD.swap(true, Ordering::SeqCst)
    {
        // Held until a work takes it. A second SIGINT while one is still held (no work
        // took it: a scan Polars stopped calling) goes to Python, as does the held one.
    } else {
        hand_on(HELD.swap(false, Ordering::SeqCst));
        // Python's handler first: the count tells the work to ask Python, which must
        // then know of the signal already.
        SIGINT.chain(info, context);
    }
    SIGINTS.fetch_add(1, Ordering::SeqCst);
}

/// Hands a held SIGINT, where `held`, to the handlers ours stands in front of (Python's,
/// which only notes it for the main thread), as if it came now.
fn hand_on(held: bool) {
    #[cfg(unix)]
    if held {
        // SAFETY: a zeroed siginfo_t is a valid one; Python's handler (and Polars')
        // only note the signal, as they do in a signal handler.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        info.si_signo = libc::SIGINT;
        SIGINT.chain(&mut info, std::ptr::null_mut());
    }
    #[cfg(not(unix))]
    let _ = held;
}

/// A work running now, counted on the main thread or off it while it lives. The last
/// work off the main thread to end hands on the SIGINT none took.
#[derive(Debug)]
struct Running {
    on_main: bool,
}

impl Running {
    fn begin(on_main: bool) -> Self {
        let works = if on_main { &WORKS_ON_MAIN } else { &WORKS_OFF_MAIN };
        works.fetch_add(1, Ordering::SeqCst);
        Self { on_main }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let works = if self.on_main { &WORKS_ON_MAIN } else { &WORKS_OFF_MAIN };
        works.fetch_sub(1, Ordering::SeqCst);
        if !held_back(WORKS_ON_MAIN.load(Ordering::SeqCst), WORKS_OFF_MAIN.load(Ordering::SeqCst)) {
            hand_on(HELD.swap(false, Ordering::SeqCst));
        }
    }
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
pub struct Heard {
    count: u64,
    /// Whether the reader is a scan's, which Polars may call from its own threads.
    scan: bool,
    /// A scan's hold on SIGINTs between its calls, as during them (see `for_scan`).
    between_calls: Option<Running>,
}

impl Heard {
    /// Every SIGINT so far heard: only later ones stop the work.
    pub fn now() -> Self {
        Self { count: SIGINTS.load(Ordering::SeqCst), scan: false, between_calls: None }
    }

    /// [`Heard::now`], for a reader that Polars may call from its own threads while the
    /// main thread waits in Polars: from its first such call, SIGINTs are held back from
    /// Python between its calls too, for its next call to run Python's handler (one that
    /// came while Polars held a batch reached Python, which ran the handler when the query
    /// ended, then our call stopped the query with a second exception). Held until
    /// [`Heard::done`] or the reader's end.
    pub fn for_scan() -> Self {
        Self { scan: true, ..Self::now() }
    }

    /// The reader reads no more: SIGINTs go to Python again between its calls.
    pub fn done(&mut self) {
        self.scan = false;
        self.between_calls = None;
    }

    /// Holds SIGINTs between this scan's calls from this call on, where it is made off the
    /// main thread while the main thread waits in Polars.
    fn hold_between_calls(&mut self, py: Python<'_>, on_main: bool) {
        if self.scan
            && self.between_calls.is_none()
            && !on_main
            && main_thread_waits_in_polars(py).ok().flatten().is_some()
        {
            self.between_calls = Some(Running::begin(false));
        }
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
    let since = heard.count;
    let on_main = on_main_thread(py);
    heard.hold_between_calls(py, on_main);
    super::alloc::keep_reserve();
    let memory = crate::memory::Watch::now();
    let (result, seen) = py.detach(move || {
        let _running = Running::begin(on_main);
        let seen = std::rc::Rc::new(Cell::new(since));
        let checked_seen = seen.clone();
        // An allocation the system refused stops the work as Ctrl-C does.
        let check = move || memory.check().and_then(|()| stop_requested(&checked_seen, on_main));
        // Checked first too: a SIGINT that came between calls stops this one at once.
        let result = crate::interrupt::checked(check, || {
            crate::interrupt::check()?;
            work().and_then(|value| crate::interrupt::check().map(|()| value))
        });
        // An error of a work during which the system refused memory is that refusal (a
        // library that failed to allocate says so in its own words).
        let result = result.or_else(|e| memory.check().and(Err(e)));
        (result, seen.get())
    });
    heard.count = seen;
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

fn stop_requested(seen: &Cell<u64>, on_main: bool) -> AvroResult<()> {
    let now = SIGINTS.load(Ordering::SeqCst);
    if now == seen.get() {
        return Ok(());
    }
    seen.set(now);
    // Taken by this work: another work that sees the count move finds none held.
    let held = !on_main && HELD.swap(false, Ordering::SeqCst);
    // A SIGINT that ended the program finalizes Python while the workers still run: where
    // Python is gone or going, the work stops (attaching there panics).
    let raised = attached(
        || {
            hand_on(held);
            PyKeyboardInterrupt::new_err("")
        },
        |py| -> PyResult<Option<PyErr>> {
            if on_main {
                return Ok(py.check_signals().err());
            }
            let signal = py.import("signal")?;
            let handler = signal.call_method1("getsignal", (libc::SIGINT,))?;
            let default = handler.is(&signal.getattr("default_int_handler")?);
            match main_thread_waits_in_polars(py).ok().flatten() {
                Some(frame) if held => run_handler(&handler, default, &frame),
                _ => {
                    hand_on(held);
                    Ok(default.then(|| PyKeyboardInterrupt::new_err("")))
                },
            }
        },
    );
    match raised {
        Ok(None) => Ok(()),
        Ok(Some(err)) | Err(err) => Err(stopped_by(err)),
    }
}

/// Runs Python's SIGINT handler for a SIGINT Python never heard, as Python would on the
/// main thread (with its frame): its exception stops the work.
fn run_handler(handler: &Bound<'_, PyAny>, default: bool, main_frame: &Bound<'_, PyAny>) -> PyResult<Option<PyErr>> {
    if default {
        return Ok(Some(PyKeyboardInterrupt::new_err("")));
    }
    if !handler.is_callable() {
        // SIG_IGN or SIG_DFL, set from Python since ours was installed: Python's own
        // handler no longer stands behind ours, and the signal goes where it would have.
        hand_on(true);
        return Ok(None);
    }
    Ok(handler.call1((libc::SIGINT, main_frame)).err())
}

/// The main thread's frame where it waits in a call into Polars (a `collect`, a sink):
/// Python would run a SIGINT handler there only when the call returned.
fn main_thread_waits_in_polars<'py>(py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(polars) = py.import("sys")?.getattr("modules")?.get_item("polars").ok() else {
        return Ok(None);
    };
    let Ok(polars_file) = polars.getattr("__file__").and_then(|f| f.extract::<String>()) else {
        return Ok(None);
    };
    let polars_dir = std::path::Path::new(&polars_file).parent().map(|d| d.to_string_lossy().into_owned());
    let frames = py.import("sys")?.call_method0("_current_frames")?;
    let Ok(frame) = frames.get_item(main_thread_ident(py)?) else {
        return Ok(None);
    };
    let file: String = frame.getattr("f_code")?.getattr("co_filename")?.extract()?;
    Ok(polars_dir.is_some_and(|dir| file.starts_with(&format!("{dir}{}", std::path::MAIN_SEPARATOR))).then_some(frame))
}

/// Python's main thread's `threading` ident (its pthread id, on POSIX).
fn main_thread_ident(py: Python<'_>) -> PyResult<u64> {
    static IDENT: OnceLock<u64> = OnceLock::new();
    if let Some(ident) = IDENT.get() {
        return Ok(*ident);
    }
    let ident = py.import("threading")?.call_method0("main_thread")?.getattr("ident")?.extract()?;
    Ok(*IDENT.get_or_init(|| ident))
}

fn on_main_thread(py: Python<'_>) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: pthread_self has no preconditions.
        let this = unsafe { libc::pthread_self() } as u64;
        main_thread_ident(py).is_ok_and(|main| main == this)
    }
    #[cfg(not(unix))]
    {
        let threading = py.import("threading");
        threading
            .and_then(|t| Ok(t.call_method0("current_thread")?.is(&t.call_method0("main_thread")?)))
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::held_back;

    #[test]
    fn a_sigint_is_held_back_from_python_only_while_works_run_off_the_main_thread_alone() {
        assert!(!held_back(0, 0), "no work: Python's, as ever");
        assert!(!held_back(1, 0), "a work on the main thread has Python run the handler there");
        assert!(held_back(0, 2));
        assert!(!held_back(1, 1), "the main thread's work hears it");
    }
}
