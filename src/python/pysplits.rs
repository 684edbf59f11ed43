//! Split planning for cluster engines: the headers and sizes of the files and their byte
//! ranges go to Python as [`SplitFile`]s (a split is a picklable Python object of them, see
//! polars_avro/_splits.py), and come back, header facts included, when a worker reads a split.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};

use super::interrupt::interruptible;
use super::{skipped_dict, source_from_py, to_py_err};
use crate::container::{ByteRange, Codec, Header};
use crate::error::AvroError;
use crate::read::{default_files_in_flight, SkippedData, SplitPart};

/// One file's part of a split.
///
/// The blocks whose preceding sync marker begins at a byte in ``[start, end)``, as Hadoop's
/// and Spark's Avro readers divide files (the last one is read whole, past ``end``), and
/// what reading them needs from the file's header. Picklable.
#[pyclass(frozen, eq, hash, from_py_object, module = "polars_avro._internal")]
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SplitFile {
    /// The path or URL.
    #[pyo3(get)]
    path: String,
    #[pyo3(get)]
    start: u64,
    #[pyo3(get)]
    end: u64,
    /// The file's size when the split was planned.
    #[pyo3(get)]
    size: u64,
    /// The file's writer schema (JSON), from its header.
    #[pyo3(get)]
    schema: String,
    codec: Codec,
    sync: [u8; 16],
    /// Bytes of the header: the first block starts here.
    #[pyo3(get)]
    header_len: u64,
}

#[pymethods]
impl SplitFile {
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        path: String,
        start: u64,
        end: u64,
        size: u64,
        schema: String,
        codec: String,
        sync: &[u8],
        header_len: u64,
    ) -> PyResult<Self> {
        let sync: [u8; 16] = sync.try_into().map_err(|_| {
            to_py_err(AvroError::argument(format!("a split's sync marker must be 16 bytes, found {}", sync.len())))
        })?;
        if start > end {
            return Err(to_py_err(AvroError::argument(format!(
                "a split's range {start}..{end} of '{path}' ends before it starts"
            ))));
        }
        let codec = Codec::from_name(&codec).map_err(to_py_err)?;
        Ok(Self { path, start, end, size, schema, codec, sync, header_len })
    }

    /// The file's codec, from its header.
    #[getter]
    fn codec(&self) -> &'static str {
        self.codec.name()
    }

    /// The file's 16-byte sync marker, from its header.
    #[getter]
    fn sync<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.sync)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let s = slf.get();
        let args =
            (&s.path, s.start, s.end, s.size, &s.schema, s.codec.name(), PyBytes::new(py, &s.sync), s.header_len);
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }

    fn __repr__(&self) -> String {
        format!("SplitFile('{}', {}..{} of {} bytes)", self.path, self.start, self.end, self.size)
    }
}

impl SplitFile {
    /// The part of its file a reader reads.
    pub fn part(&self) -> SplitPart {
        let header = Header {
            schema_json: self.schema.clone(),
            codec: self.codec,
            metadata: Vec::new(),
            sync: self.sync,
            len: self.header_len,
        };
        SplitPart { header: Arc::new(header), range: ByteRange { start: self.start, end: self.end } }
    }
}

/// Each file's writer schema (None where damaged, with `ignore_errors`), the splits as lists
/// of (file index, part), and reports of the damaged headers.
type Planned<'py> = (Vec<Option<String>>, Vec<Vec<(usize, SplitFile)>>, Vec<Bound<'py, PyDict>>);

/// Reads the headers and sizes of `sources` (paths and URLs, several at once) and plans
/// splits of about `target_bytes` over them (see `read::plan_splits`).
#[pyfunction]
#[pyo3(signature = (sources, *, target_bytes, ignore_errors=false, files_in_flight=None))]
pub fn plan_splits<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    target_bytes: u64,
    ignore_errors: bool,
    files_in_flight: Option<usize>,
) -> PyResult<Planned<'py>> {
    if target_bytes == 0 {
        return Err(to_py_err(AvroError::argument("target_bytes must be at least 1, found 0")));
    }
    let sources = sources.iter().map(|s| source_from_py(&s)).collect::<PyResult<Vec<_>>>()?;
    let names: Vec<String> = sources.iter().map(|s| s.name()).collect();
    let in_flight = files_in_flight.unwrap_or_else(|| default_files_in_flight(&sources));
    let results = interruptible(py, || crate::read::read_file_facts(sources, in_flight)).map_err(to_py_err)?;
    let (mut schemas, mut facts, mut sizes, mut kept, mut damaged) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(file) => {
                schemas.push(Some(file.header.schema_json.clone()));
                sizes.push(file.size);
                kept.push(index);
                facts.push(file);
            },
            Err(e) if ignore_errors && e.is_damage() => {
                schemas.push(None);
                damaged.push(skipped_dict(py, SkippedData { error: e, records: None })?);
            },
            Err(e) => return Err(to_py_err(e)),
        }
    }
    let splits = crate::read::plan_splits(&sizes, target_bytes)
        .into_iter()
        .map(|split| {
            split
                .into_iter()
                .map(|(i, range)| {
                    let (file, header) = (kept[i], &facts[i].header);
                    let part = SplitFile {
                        path: names[file].clone(),
                        start: range.start,
                        end: range.end,
                        size: facts[i].size,
                        schema: header.schema_json.clone(),
                        codec: header.codec,
                        sync: header.sync,
                        header_len: header.len,
                    };
                    (file, part)
                })
                .collect()
        })
        .collect();
    Ok((schemas, splits, damaged))
}
