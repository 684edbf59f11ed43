//! Raising the package's own exceptions (defined in polars_avro/exceptions.py) from
//! AvroError, with the file, block, offset and row as attributes.

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::prelude::*;
use pyo3::types::PyModule;

use super::interrupt::interruptible;
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::threads::panic_message;

pub fn class_name(err: &AvroError) -> &'static str {
    match err.kind {
        ErrorKind::Io => "AvroIOError",
        ErrorKind::NotFound => "AvroFileNotFoundError",
        ErrorKind::PermissionDenied => "AvroPermissionError",
        ErrorKind::Format => "AvroFormatError",
        ErrorKind::Codec => "AvroCodecError",
        ErrorKind::Schema => "AvroSchemaError",
        ErrorKind::Decode => "AvroDecodeError",
        ErrorKind::SchemaMismatch => "AvroSchemaMismatchError",
        ErrorKind::Argument => "AvroArgumentError",
        ErrorKind::ColumnNotFound => "AvroColumnNotFoundError",
        ErrorKind::Duplicate => "AvroDuplicateError",
        ErrorKind::SchemaFieldNotFound => "AvroSchemaFieldNotFoundError",
        ErrorKind::OptionConflict => "AvroOptionConflictError",
        ErrorKind::Encode => "AvroEncodeError",
        ErrorKind::Capacity => "AvroCapacityError",
        ErrorKind::Internal => "AvroInternalError",
        ErrorKind::OutOfMemory => "AvroMemoryError",
        ErrorKind::Interrupted => "AvroError",
    }
}

pub fn to_py_err(err: AvroError) -> PyErr {
    Python::attach(|py| {
        if err.kind == ErrorKind::Interrupted {
            return super::interrupt::raised(py, &err);
        }
        let build = || -> PyResult<PyErr> {
            let module = PyModule::import(py, "polars_avro.exceptions")?;
            let class = module.getattr(class_name(&err))?;
            let message = match err.way_out() {
                Some(way_out) => format!("{err}; {way_out}"),
                None => err.to_string(),
            };
            let exc = class.call1((message,))?;
            exc.setattr("file", err.file.clone())?;
            exc.setattr("block", err.block)?;
            exc.setattr("split_start", err.split_start)?;
            exc.setattr("offset", err.offset)?;
            exc.setattr("row", err.row)?;
            exc.setattr("batch_rows", err.batch_rows)?;
            Ok(PyErr::from_value(exc))
        };
        build().unwrap_or_else(|e| e)
    })
}

/// Runs `work` without the GIL and stoppable by Ctrl-C, a panic (of `what`) becoming an
/// internal error.
pub fn detached<T: Send>(py: Python<'_>, what: &str, work: impl FnOnce() -> AvroResult<T> + Send) -> PyResult<T> {
    interruptible(py, || {
        catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
            Err(AvroError::internal(format!(
                "internal error, please report it: {what} panicked: {}",
                panic_message(panic.as_ref())
            )))
        })
    })
    .map_err(to_py_err)
}
