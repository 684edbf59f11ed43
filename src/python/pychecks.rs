//! The one check each kind of option gets (a whole number in a range, a count, a flag, a
//! text), for every function of the package that takes one: a value that is not what the
//! option takes raises `AvroArgumentError` naming the option and what was found, where it
//! would otherwise raise an OverflowError or TypeError on its way into Rust, or be taken
//! for what it is not (a truthy value for True). Rust calls them where an option crosses
//! (a scan's options inside its planning call: `pyoptions.rs`); the package's Python, as
//! `_internal.check_*`, where it takes an option that crosses no such call.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};

use super::to_py_err;
use crate::error::AvroError;

/// The largest count an option takes: what the Rust reader and writer hold counts in.
pub const MOST_COUNT: i128 = i64::MAX as i128;

fn refused(message: String) -> PyErr {
    to_py_err(AvroError::argument(message))
}

/// How a message names a value it refuses: its type's name and its repr.
fn found(value: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(format!("{} {}", value.get_type().name()?, value.repr()?))
}

/// A whole number written with a comma between each three digits, as Python's `{:,}` does.
fn with_commas(value: &Bound<'_, PyAny>) -> PyResult<String> {
    PyString::new(value.py(), "{:,}").call_method1("format", (value,))?.extract()
}

/// `value` where it is an int (not a bool) from `least` to `most`; else an error naming the
/// option `name`. Python ints of any size are compared, not only those Rust holds.
#[pyfunction]
#[pyo3(signature = (name, value, least, most = MOST_COUNT))]
pub fn check_whole_number(name: &str, value: &Bound<'_, PyAny>, least: i128, most: i128) -> PyResult<()> {
    if value.is_instance_of::<PyBool>() || !value.is_instance_of::<PyInt>() {
        return Err(refused(format!("{name} must be a whole number, found {}", found(value)?)));
    }
    if value.lt(least)? {
        return Err(refused(format!("{name} must be at least {least}, found {value}")));
    }
    if value.gt(most)? {
        let most = with_commas(&most.into_pyobject(value.py())?.into_any())?;
        return Err(refused(format!("{name} must be at most {most}, found {}", with_commas(value)?)));
    }
    Ok(())
}

/// `retries` where a function takes it (`from_py_with`): a whole number, at least 0.
pub fn retries(given: &Bound<'_, PyAny>) -> PyResult<usize> {
    check_whole_number("retries", given, 0, MOST_COUNT)?;
    given.extract()
}

/// [`check_whole_number`] for an option counting something, where it is not None.
pub fn check_count(name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    match value.is_none() {
        true => Ok(()),
        false => check_whole_number(name, value, 1, MOST_COUNT),
    }
}

/// The one check of `n_threads`, for reads and writes alike: None, or a count within the
/// reader's bound (`threads::thread_count`), checked when the function is called, not when
/// a query runs.
#[pyfunction]
pub fn check_threads(n_threads: &Bound<'_, PyAny>) -> PyResult<()> {
    check_count("n_threads", n_threads)?;
    if !n_threads.is_none() {
        crate::threads::thread_count(Some(n_threads.extract()?)).map_err(to_py_err)?;
    }
    Ok(())
}

/// [`check_whole_number`] for options counting something, by name: each None or at least 1.
#[pyfunction]
#[pyo3(signature = (**options))]
pub fn check_counts(options: Option<&Bound<'_, PyDict>>) -> PyResult<()> {
    for (name, value) in options.into_iter().flatten() {
        check_count(&name.extract::<String>()?, &value)?;
    }
    Ok(())
}

/// A True/False option: a bool, not a value that is truthy.
#[pyfunction]
pub fn check_flag(name: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
    match value.is_instance_of::<PyBool>() {
        true => Ok(()),
        false => Err(refused(format!("{name} must be True or False, found {}", found(value)?))),
    }
}

/// A text option: a str, `what` saying what it names (None, where allowed, is the caller's
/// to skip). A column name holds no NUL: Polars hands columns across its Arrow C
/// interface, whose names end at one.
#[pyfunction]
#[pyo3(signature = (name, value, what = "a column name"))]
pub fn check_text(name: &str, value: &Bound<'_, PyAny>, what: &str) -> PyResult<()> {
    if !value.is_instance_of::<PyString>() {
        return Err(refused(format!("{name} must be {what} (a str), found {}", found(value)?)));
    }
    if what == "a column name" && value.contains("\0")? {
        let msg = format!(
            "{name} {} holds a NUL character, which no column name crossing into Polars can hold",
            value.repr()?
        );
        return Err(refused(msg));
    }
    Ok(())
}
