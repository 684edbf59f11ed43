//! A Python binary file object as a Rust byte stream: each read takes the GIL briefly.

use std::io::Read;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::interrupt::{attached, file_object_error, python_gone};
use super::to_py_err;
use crate::container::check_magic;
use crate::error::AvroError;
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
    let name = name_of(file);
    Source::Reader { name, reader: Box::new(PyFileReader { file: file.clone().unbind() }), len: None }
}

/// Bytes a one-shot stream is read in at a time: Ctrl-C is heard between two.
const STREAM_PIECE: usize = 1 << 20;

/// A binary file object a scan reads, rewound to where it was given for each read, so that a
/// LazyFrame over it can be collected again. One that cannot be rewound is read to its end
/// once, here, and its bytes kept; so are a pipe's or a device's.
#[pyclass(module = "polars_avro._internal", frozen)]
pub struct FileObject {
    held: Held,
    /// What errors call it: its `name` (a pipe's path), else `<file object>`.
    name: String,
    /// Its value in a scan's path column: its URL or path where it has one, else what
    /// Polars' readers give a file object, `open-file` over a file descriptor, `in-mem` for
    /// any other.
    path: String,
}

/// Where a file object's bytes are read from at each read.
enum Held {
    /// The file object, rewound to `start`.
    Rewound { file: Py<PyAny>, start: u64 },
    /// Its bytes, read once.
    Kept(Vec<u8>),
}

impl FileObject {
    /// A file object a user gave, or a listing found at `url`; refused in text mode.
    pub fn of(file: &Bound<'_, PyAny>, url: Option<String>) -> PyResult<Self> {
        let py = file.py();
        if file.is_instance(&py.import("io")?.getattr("TextIOBase")?)? {
            let msg = "the file object is in text mode: open it in binary mode ('rb')";
            return Err(to_py_err(AvroError::argument(msg)));
        }
        let name = name_of(file);
        let path = url.unwrap_or_else(|| {
            let descriptor = file.call_method0("fileno").is_ok();
            (if descriptor { "open-file" } else { "in-mem" }).to_string()
        });
        let seekable = file.call_method0("seekable").and_then(|s| s.extract::<bool>()).unwrap_or(false);
        let held = if seekable {
            Held::Rewound { file: file.clone().unbind(), start: file.call_method0("tell")?.extract::<u64>()? }
        } else {
            Held::Kept(read_to_end(file, &name)?)
        };
        Ok(Self { held, name, path })
    }

    /// The bytes of a pipe or a device at `path`, read once.
    pub fn kept(path: String, data: Vec<u8>) -> Self {
        Self { held: Held::Kept(data), name: path.clone(), path }
    }

    /// The source of one read: the kept bytes, or the file object rewound.
    pub fn source(&self, py: Python<'_>) -> PyResult<Source> {
        match &self.held {
            Held::Kept(data) => Ok(Source::Bytes { name: self.name.clone(), data: data.clone() }),
            Held::Rewound { file, start } => {
                file.call_method1(py, "seek", (*start,))?;
                Ok(source_from_file_object(file.bind(py)))
            },
        }
    }

    /// What errors call it.
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// Its value in a scan's path column.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// A one-shot stream's bytes, read to its end; refused after its first four when they cannot
/// begin an Avro file (`/dev/zero` would be read until memory ran out).
fn read_to_end(file: &Bound<'_, PyAny>, name: &str) -> PyResult<Vec<u8>> {
    let mut data = Vec::new();
    let mut checked = false;
    loop {
        let asked = if checked { STREAM_PIECE } else { 4 - data.len() };
        let piece = file.call_method1("read", (asked,))?;
        let Ok(bytes) = piece.cast::<PyBytes>() else {
            let msg = "the file object's read() did not return bytes: open it in binary mode";
            return Err(to_py_err(AvroError::argument(msg).in_file(name)));
        };
        if bytes.as_bytes().is_empty() {
            break;
        }
        data.extend_from_slice(bytes.as_bytes());
        if !checked && data.len() >= 4 {
            check_magic(&data[..4]).map_err(|e| to_py_err(e.in_file(name)))?;
            checked = true;
        }
        file.py().check_signals()?;
    }
    if !checked {
        check_magic(&data).map_err(|e| to_py_err(e.in_file(name)))?;
    }
    Ok(data)
}

fn name_of(file: &Bound<'_, PyAny>) -> String {
    file.getattr("name").ok().and_then(|n| n.extract::<String>().ok()).unwrap_or_else(|| "<file object>".to_string())
}
