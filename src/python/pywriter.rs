//! The writing side of the bindings: a `FileWriter` class over `AvroWriter`, writing to
//! what `crate::sink` makes of a path, an object store URL or a Python binary file object.

use std::io::Write;
use std::sync::Mutex;

use polars_core::prelude::DataFrame;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3_polars::PyDataFrame;

use super::errors::to_py_err;
use super::interrupt::{attached, file_object_error, interruptible, python_gone};
use super::parse_columns;
use super::pyremote::RemoteFile;
use crate::container::Codec;
use crate::error::AvroError;
use crate::sink::{RemoteUpload, Sink, Target, PART_SIZE};
use crate::write::{AvroWriter, WriteOptions};

/// Writes through a Python object's `write` method, taking the GIL for each call.
pub(super) struct PyFileSink {
    file: Py<PyAny>,
}

impl Write for PyFileSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        attached(python_gone, |py| {
            let written = self.file.call_method1(py, "write", (PyBytes::new(py, buf),));
            // Raw file objects may write less than asked; buffered ones return None or the length.
            let written = written.and_then(|w| w.extract::<Option<usize>>(py));
            Ok(written.map_err(|e| file_object_error(py, e))?.unwrap_or(buf.len()))
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        attached(python_gone, |py| {
            self.file.call_method0(py, "flush").map(|_| ()).map_err(|e| file_object_error(py, e))
        })
    }
}

/// How a file is written, as one value: the attributes of the Python `WriteOptions` of
/// these names (the record's name is its `name`).
#[derive(FromPyObject)]
pub struct WriteRequest {
    compression: String,
    compression_level: Option<i32>,
    #[pyo3(attribute("name"))]
    record_name: String,
    namespace: Option<String>,
    schema: Option<String>,
    schema_from_source: bool,
    metadata: Vec<(String, Vec<u8>)>,
    sync_interval: usize,
    n_threads: Option<usize>,
}

impl WriteRequest {
    pub(super) fn options(self) -> PyResult<WriteOptions> {
        Ok(WriteOptions {
            codec: Codec::from_compression(&self.compression).map_err(to_py_err)?,
            compression_level: self.compression_level,
            record_name: self.record_name,
            namespace: self.namespace,
            schema_json: self.schema,
            schema_from_source: self.schema_from_source,
            metadata: self.metadata,
            sync_interval: self.sync_interval,
            n_threads: self.n_threads,
        })
    }
}

/// One Avro file being written, frame by frame.
#[pyclass(module = "polars_avro._internal")]
pub struct FileWriter {
    /// In a Mutex only to make the class Sync; None once finished.
    inner: Option<Mutex<AvroWriter<Sink>>>,
    name: String,
}

#[pymethods]
impl FileWriter {
    /// `target`: a path, an object store's `RemoteFile` or a binary file object (see
    /// `sink::Target`). `columns`: (name, type description JSON) per column, as
    /// polars_avro/_types.py writes them. `name`: how errors name the file (the path as
    /// the user gave it); default: the target's own path, URL or name.
    #[new]
    #[pyo3(signature = (target, columns, request, *, name=None))]
    fn new(
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        columns: Vec<(String, String)>,
        request: WriteRequest,
        name: Option<String>,
    ) -> PyResult<Self> {
        let columns = parse_columns(&columns).map_err(to_py_err)?;
        let options = request.options()?;
        // Where to write; nothing is created until every option has been checked.
        let (target, own_name) = target_of(target)?;
        let name = name.unwrap_or(own_name);
        // Interruptible: a named pipe opens only when a reader opens its other end.
        let writer = interruptible(py, || AvroWriter::open(|| target.open(), columns, options))
            .map_err(|e| to_py_err(e.in_file(&name)))?;
        Ok(Self { inner: Some(Mutex::new(writer)), name })
    }

    /// Warnings about names in the schema that some readers misread (see
    /// `schema::check_written_names`).
    fn name_warnings(&mut self) -> PyResult<Vec<String>> {
        Ok(self.writer()?.get_mut().unwrap_or_else(|e| e.into_inner()).name_warnings().to_vec())
    }

    /// The Avro schema JSON written in the header.
    fn schema_json(&mut self) -> PyResult<String> {
        Ok(self.writer()?.get_mut().unwrap_or_else(|e| e.into_inner()).schema_json().to_string())
    }

    /// Appends a frame's rows. The height travels separately because a frame with no
    /// columns loses it on the way from Python.
    fn write(&mut self, py: Python<'_>, df: PyDataFrame, height: usize) -> PyResult<()> {
        let name = self.name.clone();
        let df =
            if df.0.width() == 0 { DataFrame::new(height, Vec::new()).map_err(|e| to_py_err(e.into()))? } else { df.0 };
        let writer = self.writer()?.get_mut().unwrap_or_else(|e| e.into_inner());
        interruptible(py, || writer.write(&df)).map_err(|e| to_py_err(e.in_file(&name)))
    }

    /// Writes the last block and flushes. Returns the rows written.
    fn finish(&mut self, py: Python<'_>) -> PyResult<u64> {
        let name = self.name.clone();
        let writer = self.inner.take().ok_or_else(finished)?.into_inner().unwrap_or_else(|e| e.into_inner());
        let rows = writer.rows_written();
        interruptible(py, || writer.finish().and_then(|sink| sink.complete(None)))
            .map_err(|e| to_py_err(e.in_file(&name)))?;
        Ok(rows)
    }

    /// Abandons the file: an object store upload is aborted (no object appears), a local
    /// file's temporary one removed.
    fn abort(&mut self, py: Python<'_>) {
        if let Some(writer) = self.inner.take() {
            let writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
            py.detach(|| writer.abandon().abandon());
        }
    }
}

impl FileWriter {
    fn writer(&mut self) -> PyResult<&mut Mutex<AvroWriter<Sink>>> {
        self.inner.as_mut().ok_or_else(finished)
    }
}

/// Where a path, an object store's `RemoteFile` or a Python binary file object says to
/// write (nothing is created yet), and the name errors give it.
pub(super) fn target_of(target: &Bound<'_, PyAny>) -> PyResult<(Target, String)> {
    Ok(if let Ok(remote) = target.cast::<RemoteFile>() {
        let object = remote.get().object();
        if object.url.ends_with('/') {
            let msg = format!("cannot write to '{}': it names a folder, not an object", object.url);
            return Err(to_py_err(AvroError::argument(msg)));
        }
        (Target::Remote(RemoteUpload::new(object, PART_SIZE)), object.url.clone())
    } else if let Ok(path) = target.extract::<std::path::PathBuf>() {
        let own = path.display().to_string();
        (Target::path(path).map_err(to_py_err)?, own)
    } else if target.hasattr("write")? {
        let own = target.getattr("name").and_then(|n| n.extract::<String>()).unwrap_or_else(|_| "<file object>".into());
        (Target::Writer(Box::new(PyFileSink { file: target.clone().unbind() })), own)
    } else {
        return Err(to_py_err(AvroError::argument(format!(
            "expected a path or a binary file object to write to, found {}",
            target.get_type().name()?
        ))));
    })
}

fn finished() -> PyErr {
    to_py_err(AvroError::argument("the writer is already finished"))
}
