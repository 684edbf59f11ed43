//! A Python binary file object as a Rust byte stream: each read takes the GIL briefly.

use std::io::Read;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::interrupt::{attached, file_object_error, python_gone};
use crate::read::Source;

struct PyFileReader {
    file: Py<PyAny>,
}

impl Read for PyFileReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        attached(python_gone, |py| {
            let chunk = self.file.call_method1(py, "read", (buf.len(),)).map_err(|e| file_object_error(py, e))?;
            let bytes = chunk.bind(py).cast::<PyBytes>().map_err(|_| {
                std::io::Error::other("the file object's read() did not return bytes: open it in binary mode")
            })?;
            let data = bytes.as_bytes();
            if data.len() > buf.len() {
                // The bytes past `n` would be lost: the stream cannot be trusted.
                return Err(std::io::Error::other(format!(
                    "the file object's read({}) returned {} bytes, more than asked for",
                    buf.len(),
                    data.len()
                )));
            }
            buf[..data.len()].copy_from_slice(data);
            Ok(data.len())
        })
    }
}

pub fn source_from_file_object(file: &Bound<'_, PyAny>) -> Source {
    let name = file
        .getattr("name")
        .ok()
        .and_then(|n| n.extract::<String>().ok())
        .unwrap_or_else(|| "<file object>".to_string());
    Source::Reader { name, reader: Box::new(PyFileReader { file: file.clone().unbind() }), len: None }
}
