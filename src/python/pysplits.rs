//! Split planning for cluster engines, in one call: a scan's planning, then the files' byte
//! ranges as [`SplitFile`]s (a split is a picklable Python object of them and the plan, see
//! polars_avro/_splits.py), which come back, header facts included, when a worker reads a
//! split ([`split_scan`]).

use std::sync::Arc;

use polars_core::prelude::{IdxCa, IdxSize, PlSmallStr};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyTuple};
use pyo3_polars::PyDataFrame;

use super::interrupt::interruptible;
use super::pychecks::{check_whole_number, MOST_COUNT};
use super::pylisting::{found, Found, ScanSource};
use super::pyoptions::ScanOptions;
use super::pyplan::{planned, Headers, PlannedScan, ScanPlan};
use super::{skipped_dict, to_py_err};
use crate::container::{ByteRange, Codec, Header};
use crate::error::{AvroError, AvroResult};
use crate::read::{default_files_in_flight, SkippedData, SplitPart};
use crate::source::remote::RemoteOptions;

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

/// The splits of a plan, each its files' parts with their partition values (one row per
/// part; None without partition columns), and reports of the headers left out as damaged.
type Planned<'py> = (ScanPlan, Vec<(Vec<SplitFile>, Option<PyDataFrame>)>, Vec<Bound<'py, PyDict>>);

/// Splits planned in one call: the files `sources` name (listed as `plan_sources` lists
/// them: paths and URLs only, since a split names its files), their partition values typed,
/// their headers and sizes read `files_in_flight` at a time, the scan's plan made from those
/// headers as a scan makes it, and splits of about `target_bytes` (at least 1, as Python
/// checks; see `read::plan_splits`).
#[pyfunction]
#[pyo3(signature = (sources, options, *, storage_options, retries, target_bytes, reader_schema=None))]
#[allow(clippy::too_many_arguments)]
pub fn plan_splits<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    options: &Bound<'py, PyAny>,
    storage_options: Vec<(String, String)>,
    #[pyo3(from_py_with = super::pychecks::retries)] retries: usize,
    target_bytes: &Bound<'py, PyAny>,
    reader_schema: Option<String>,
) -> PyResult<Planned<'py>> {
    check_whole_number("target_bytes", target_bytes, 1, MOST_COUNT)?;
    let target_bytes: u64 = target_bytes.extract()?;
    let Found { options, files, names, partitions } = found(py, sources, options, storage_options, retries)?;
    if files.iter().any(|f| f.path.is_none()) {
        let msg = "plan_splits needs paths or URLs: a split names its files, and bytes or file objects have no name";
        return Err(to_py_err(AvroError::argument(msg)));
    }
    let sources = files.iter().map(|f| f.source(py)).collect::<PyResult<Vec<_>>>()?;
    let in_flight = options.files_in_flight.unwrap_or_else(|| default_files_in_flight(&sources));
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
            Err(e) if options.ignore_errors && e.is_damage() => {
                schemas.push(None);
                damaged.push(skipped_dict(py, SkippedData { error: e, records: None })?);
            },
            Err(e) => return Err(to_py_err(e)),
        }
    }
    let named = files.iter().map(|f| (f.name.clone(), f.path.clone())).collect();
    let (plan, _) =
        planned(py, named, &options, Headers::Read(schemas), reader_schema, partitions.keys, partitions.dtypes)?;
    let mut splits = Vec::new();
    for split in crate::read::plan_splits(&sizes, target_bytes) {
        let mut parts = Vec::with_capacity(split.len());
        let mut rows = Vec::with_capacity(split.len());
        for (i, range) in split {
            let (file, header) = (kept[i], &facts[i].header);
            rows.push(file as IdxSize);
            parts.push(SplitFile {
                path: names[file].clone(),
                start: range.start,
                end: range.end,
                size: facts[i].size,
                schema: header.schema_json.clone(),
                codec: header.codec,
                sync: header.sync,
                header_len: header.len,
            });
        }
        let values = match &partitions.values {
            Some(values) => {
                let rows = IdxCa::from_vec(PlSmallStr::EMPTY, rows);
                Some(PyDataFrame(values.take(&rows).map_err(|e| to_py_err(e.into()))?))
            },
            None => None,
        };
        splits.push((parts, values));
    }
    Ok((plan, splits, damaged))
}

/// The scan of one split, on a worker: the parts `files` of its files, with their
/// `partition_values` (one row each), read with the plan's `plan` and the worker's own
/// `options` (checked as a scan's are: the worker's `n_threads` is the caller's),
/// `storage_options` and `retries`.
#[pyfunction]
#[pyo3(signature = (plan, files, partition_values, options, *, storage_options, retries))]
pub fn split_scan(
    plan: ScanPlan,
    files: Vec<SplitFile>,
    partition_values: Option<PyDataFrame>,
    #[pyo3(from_py_with = ScanOptions::of)] options: ScanOptions,
    storage_options: Vec<(String, String)>,
    #[pyo3(from_py_with = super::pychecks::retries)] retries: usize,
) -> PyResult<PlannedScan> {
    let remote = RemoteOptions { options: storage_options, retries };
    let sources = files
        .into_iter()
        .map(|f| ScanSource::named(f.path.clone(), f.size, &remote, f.part()))
        .collect::<AvroResult<Vec<_>>>()
        .map_err(to_py_err)?;
    Ok(PlannedScan::new(sources, partition_values.map(|df| df.0), plan, options, false))
}
