//! Whole files block by block (`crate::blocks`) for Python: the command line's `concat`,
//! `recodec`, `repair` and `meta` move blocks from a `BlockReader` to a `BlockWriter`
//! without reading them into columns.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict};

use super::errors::to_py_err;
use super::pywriter::target_of;
use super::{header_dict, skipped_dict, source_from_py};
use crate::blocks::{BlockData, BlockFile};
use crate::container::Codec;
use crate::error::AvroError;

/// A block as Python gets it: (record count, data, offset of its framing, stored size).
type PyBlock<'py> = (usize, Bound<'py, PyBytes>, u64, usize);

/// A container file read block by block.
#[pyclass(module = "polars_avro._internal")]
pub struct BlockReader {
    /// In a Mutex only to make the class Sync.
    file: Mutex<BlockFile>,
}

#[pymethods]
impl BlockReader {
    /// `data`: "framing" (data skipped), "stored" (as in the file) or "decompressed".
    /// `check_records` decodes each block's records before handing it out; `repair` leaves
    /// damaged blocks out (see `take_skipped`) instead of raising.
    #[new]
    #[pyo3(signature = (source, *, data, check_records=false, repair=false))]
    fn new(py: Python<'_>, source: &Bound<'_, PyAny>, data: &str, check_records: bool, repair: bool) -> PyResult<Self> {
        let data = match data {
            "framing" => BlockData::Framing,
            "stored" => BlockData::Stored,
            "decompressed" => BlockData::Decompressed,
            other => {
                return Err(to_py_err(AvroError::argument(format!(
                    "expected 'framing', 'stored' or 'decompressed' block data, found '{other}'"
                ))))
            },
        };
        let source = source_from_py(source)?;
        let file = py.detach(|| BlockFile::open(source, data, check_records, repair)).map_err(to_py_err)?;
        Ok(Self { file: Mutex::new(file) })
    }

    /// The file's header, as `read_header` gives it.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        header_dict(py, file.header())
    }

    /// The next block as (record count, data, offset of its framing, stored size), or None
    /// at the end of the file.
    fn next_block<'py>(&mut self, py: Python<'py>) -> PyResult<Option<PyBlock<'py>>> {
        let file = self.file.get_mut().unwrap_or_else(|e| e.into_inner());
        let block = py.detach(|| file.next_block()).map_err(to_py_err)?;
        Ok(block.map(|b| (b.count, PyBytes::new(py, &b.data), b.offset, b.stored_size)))
    }

    /// Bytes of the file read so far.
    fn position(&self) -> u64 {
        self.file.lock().unwrap_or_else(|e| e.into_inner()).position()
    }

    /// The damaged blocks left out so far (with `repair`), each as the scan reports them.
    fn take_skipped<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let skipped = self.file.lock().unwrap_or_else(|e| e.into_inner()).take_skipped();
        skipped.into_iter().map(|s| skipped_dict(py, s)).collect()
    }
}

/// A new container file written block by block.
#[pyclass(module = "polars_avro._internal")]
pub struct BlockWriter {
    /// In a Mutex only to make the class Sync; None once finished.
    inner: Option<Mutex<crate::blocks::BlockWriter<crate::sink::Sink>>>,
    name: String,
}

#[pymethods]
impl BlockWriter {
    /// Writes the header: `schema_json` as given, the codec `compression` names, and
    /// the user's `metadata`. `name`: how errors name the file (the path as the user gave
    /// it); default: the target's own name.
    #[new]
    #[pyo3(signature = (target, schema_json, *, compression, compression_level=None, metadata=Vec::new(), name=None))]
    fn new(
        py: Python<'_>,
        target: &Bound<'_, PyAny>,
        schema_json: &str,
        compression: &str,
        compression_level: Option<i32>,
        metadata: Vec<(String, Vec<u8>)>,
        name: Option<String>,
    ) -> PyResult<Self> {
        let codec = Codec::from_compression(compression).map_err(to_py_err)?;
        let (target, own_name) = target_of(target)?;
        let name = name.unwrap_or(own_name);
        let writer = py
            .detach(|| {
                crate::blocks::BlockWriter::open(|| target.open(), schema_json, codec, compression_level, &metadata)
            })
            .map_err(|e| to_py_err(e.in_file(&name)))?;
        Ok(Self { inner: Some(Mutex::new(writer)), name })
    }

    /// The codec the blocks are written with, as the header names it.
    fn codec(&self) -> PyResult<&'static str> {
        let writer = self.inner.as_ref().ok_or_else(finished)?;
        Ok(writer.lock().unwrap_or_else(|e| e.into_inner()).codec().name())
    }

    /// Writes a block of `count` records: `data` already compressed with this file's codec
    /// when `stored`, else decompressed (compressed here).
    fn write_block(&mut self, py: Python<'_>, count: usize, data: &[u8], stored: bool) -> PyResult<()> {
        let name = self.name.clone();
        let writer = self.inner.as_mut().ok_or_else(finished)?.get_mut().unwrap_or_else(|e| e.into_inner());
        py.detach(|| writer.write_block(count, data, stored)).map_err(|e| to_py_err(e.in_file(&name)))
    }

    /// Writes blocks of the file `source` stored with codec `from_codec` (an `avro.codec`
    /// name), each as (record count, data, offset in `source`), recompressed with this
    /// file's codec on `threads` threads (default: Polars' thread count), in order.
    #[pyo3(signature = (blocks, from_codec, source, *, threads=None))]
    fn write_recoded(
        &mut self,
        py: Python<'_>,
        blocks: Vec<(usize, PyBackedBytes, u64)>,
        from_codec: &str,
        source: &str,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let from = Codec::from_name(from_codec).map_err(to_py_err)?;
        let name = self.name.clone();
        let writer = self.inner.as_mut().ok_or_else(finished)?.get_mut().unwrap_or_else(|e| e.into_inner());
        // The bytes objects' own memory, not copies of it.
        let blocks: Vec<(usize, &[u8], u64)> = blocks.iter().map(|(n, d, o)| (*n, &d[..], *o)).collect();
        let threads = threads.unwrap_or_else(crate::read::default_threads);
        py.detach(|| writer.write_recoded(&blocks, from, source, threads)).map_err(|e| to_py_err(e.in_file(&name)))
    }

    /// Flushes the file (an object store's upload completes). Returns the records written.
    fn finish(&mut self, py: Python<'_>) -> PyResult<u64> {
        let writer = self.inner.take().ok_or_else(finished)?.into_inner().unwrap_or_else(|e| e.into_inner());
        let records = writer.records_written();
        py.detach(|| writer.finish().and_then(|sink| sink.complete(None)))
            .map_err(|e| to_py_err(e.in_file(&self.name)))?;
        Ok(records)
    }

    /// Abandons the file: an object store's upload is aborted, a local file's temporary one
    /// removed.
    fn abort(&mut self, py: Python<'_>) {
        if let Some(writer) = self.inner.take() {
            let writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
            py.detach(|| writer.abandon().abandon());
        }
    }
}

fn finished() -> PyErr {
    to_py_err(AvroError::argument("the writer is already finished"))
}
