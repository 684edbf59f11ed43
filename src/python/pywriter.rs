//! The writing side of the bindings: a `FileWriter` class over `AvroWriter`, writing to a
//! path or to a Python binary file object.

use std::fs::File;
use std::io::{BufWriter, Write};
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
use crate::error::{AvroError, AvroResult};
use crate::source::remote::{RemoteUpload, PART_SIZE};
#[cfg(unix)]
use crate::source::PipeWriter;
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

/// Where a file is written, and how it is made final.
pub(super) enum Sink {
    Local(BufWriter<File>),
    /// A named pipe (or `/dev/stdout` read by a pipe): written in waits Ctrl-C can stop.
    #[cfg(unix)]
    Pipe(BufWriter<PipeWriter>),
    Python(BufWriter<PyFileSink>),
    /// An object store: the object appears when the upload completes.
    Remote(RemoteUpload),
}

impl Sink {
    fn as_write(&mut self) -> &mut dyn Write {
        match self {
            Sink::Local(w) => w,
            #[cfg(unix)]
            Sink::Pipe(w) => w,
            Sink::Python(w) => w,
            Sink::Remote(w) => w,
        }
    }

    /// Drops what was written, its buffered bytes unwritten: a pipe whose reader is gone
    /// or stalled would wait for them. An object store's upload is aborted.
    pub(super) fn abandon(self) {
        match self {
            Sink::Local(w) => drop(w.into_parts()),
            #[cfg(unix)]
            Sink::Pipe(w) => drop(w.into_parts()),
            Sink::Python(w) => drop(w.into_parts()),
            Sink::Remote(upload) => drop(upload),
        }
    }

    /// Makes what was written final (the writer has flushed it).
    pub(super) fn complete(self) -> AvroResult<()> {
        match self {
            Sink::Remote(upload) => upload.complete(),
            _ => Ok(()),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.as_write().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.as_write().write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.as_write().flush()
    }
}

/// Where a writer is to write, before anything is created there.
pub(super) enum Target {
    Local(std::path::PathBuf),
    Python(Py<PyAny>),
    Remote(RemoteUpload),
}

impl Target {
    pub(super) fn open(self) -> AvroResult<Sink> {
        Ok(match self {
            #[cfg(unix)]
            Target::Local(path) if is_pipe(&path) => {
                let pipe = PipeWriter::open(&path).map_err(|e| AvroError::io(e, "could not open the pipe"))?;
                Sink::Pipe(BufWriter::with_capacity(1 << 20, pipe))
            },
            Target::Local(path) => {
                let file = File::create(&path).map_err(|e| AvroError::io(e, "could not create the file"))?;
                // Small: blocks larger than the buffer go straight to the file, uncopied.
                Sink::Local(BufWriter::with_capacity(32 << 10, file))
            },
            // Buffered: each call into Python takes the GIL and copies into a bytes object.
            Target::Python(file) => Sink::Python(BufWriter::with_capacity(1 << 20, PyFileSink { file })),
            Target::Remote(upload) => Sink::Remote(upload),
        })
    }
}

#[cfg(unix)]
fn is_pipe(path: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo())
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
    /// `columns`: (name, type description JSON) per column, as polars_avro/_types.py writes them.
    /// `name`: how errors name the file (the path the user gave, where `sink` is a
    /// temporary file beside it); default: the sink's own path, URL or name.
    #[new]
    #[pyo3(signature = (
        sink, columns, *, compression, compression_level=None, record_name, namespace=None, schema=None,
        metadata=Vec::new(), sync_interval, n_threads=None, name=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sink: &Bound<'_, PyAny>,
        columns: Vec<(String, String)>,
        compression: &str,
        compression_level: Option<i32>,
        record_name: String,
        namespace: Option<String>,
        schema: Option<String>,
        metadata: Vec<(String, Vec<u8>)>,
        sync_interval: usize,
        n_threads: Option<usize>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let columns = parse_columns(&columns).map_err(to_py_err)?;
        let options = WriteOptions {
            codec: Codec::from_compression(compression).map_err(to_py_err)?,
            compression_level,
            record_name,
            namespace,
            schema_json: schema,
            metadata,
            sync_interval,
            n_threads,
        };
        // Where to write; nothing is created until every option has been checked.
        let (target, own_name) = target_of(sink)?;
        let name = name.unwrap_or(own_name);
        // Interruptible: a named pipe opens only when a reader opens its other end.
        let writer = interruptible(py, || AvroWriter::open(|| target.open(), columns, options))
            .map_err(|e| to_py_err(e.in_file(&name)))?;
        Ok(Self { inner: Some(Mutex::new(writer)), name })
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
        interruptible(py, || writer.finish().and_then(Sink::complete)).map_err(|e| to_py_err(e.in_file(&name)))?;
        Ok(rows)
    }

    /// Abandons the file: an object store upload is aborted (no object appears); a local
    /// file is left to the caller, who wrote it under a temporary name.
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
pub(super) fn target_of(sink: &Bound<'_, PyAny>) -> PyResult<(Target, String)> {
    Ok(if let Ok(remote) = sink.cast::<RemoteFile>() {
        let object = remote.get().object();
        (Target::Remote(RemoteUpload::new(object, PART_SIZE)), object.url.clone())
    } else if let Ok(path) = sink.extract::<std::path::PathBuf>() {
        let own = path.display().to_string();
        (Target::Local(path), own)
    } else if sink.hasattr("write")? {
        let own = sink.getattr("name").and_then(|n| n.extract::<String>()).unwrap_or_else(|_| "<file object>".into());
        (Target::Python(sink.clone().unbind()), own)
    } else {
        return Err(to_py_err(AvroError::argument(format!(
            "expected a path or a binary file object to write to, found {}",
            sink.get_type().name()?
        ))));
    })
}

fn finished() -> PyErr {
    to_py_err(AvroError::argument("the writer is already finished"))
}
