//! Long work its caller can stop. Loops that may run for long call [`check`] between
//! their steps (a batch read, a block written, a folder listed); a caller that wants a
//! say runs the work under [`checked`], whose check fails to stop it. The Python layer
//! stops at Ctrl-C this way; without a check, `check` always lets the work go on.
//! tests/interrupts.rs shows the reading, writing and listing loops stopping.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::AvroResult;

type Check = Rc<dyn Fn() -> AvroResult<()>>;

thread_local! {
    /// The check of the work running on this thread (the thread that began it: the
    /// loops that check run there, while pool threads decode one bounded piece each).
    static CHECK: RefCell<Option<Check>> = const { RefCell::new(None) };
}

/// Whether the work on this thread may go on; an error (its caller's) stops it.
pub fn check() -> AvroResult<()> {
    match CHECK.with_borrow(Clone::clone) {
        Some(check) => check(),
        None => Ok(()),
    }
}

/// Runs `work` on this thread with `check` asked between its steps.
pub fn checked<T>(check: impl Fn() -> AvroResult<()> + 'static, work: impl FnOnce() -> T) -> T {
    struct Restore(Option<Check>);
    impl Drop for Restore {
        fn drop(&mut self) {
            CHECK.set(self.0.take());
        }
    }
    let _restore = Restore(CHECK.replace(Some(Rc::new(check))));
    work()
}

/// A check that stops the work at its `n`th call, and how often it was called: for the
/// unit tests of the loops that check (tests/interrupts.rs has its own, outside the crate).
#[cfg(test)]
pub(crate) fn stop_at(n: usize) -> (impl Fn() -> AvroResult<()>, Rc<std::cell::Cell<usize>>) {
    let calls = Rc::new(std::cell::Cell::new(0));
    let counted = calls.clone();
    let check = move || {
        counted.set(counted.get() + 1);
        if counted.get() >= n {
            Err(crate::error::AvroError::interrupted())
        } else {
            Ok(())
        }
    };
    (check, calls)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{AvroError, ErrorKind};

    #[test]
    fn work_stops_at_the_first_check_that_fails_and_the_check_ends_with_it() {
        let (stop_at_three, steps) = stop_at(3);
        let result = checked(stop_at_three, || (0..10).try_for_each(|_| check()));
        assert_eq!(result.unwrap_err().kind, ErrorKind::Interrupted);
        assert_eq!(steps.get(), 3);
        assert!(check().is_ok(), "no check outside the work");
        // Nested work has its own check, and the outer one is back after it.
        let outer = checked(
            || Err(AvroError::interrupted()),
            || {
                assert!(checked(|| Ok(()), check).is_ok());
                check()
            },
        );
        assert!(outer.is_err());
    }
}
