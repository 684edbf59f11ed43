//! pyo3 bindings: argument conversion, GIL release and errors. The Python package
//! (polars_avro/) builds the user-facing API on top of these.

mod errors;
mod pymessage;
mod pyreader;
mod pyremote;
mod pysplits;
mod pywriter;

use std::sync::{Arc, Mutex};

use polars::prelude::{DataFrame, IdxSize, PlSmallStr};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use pyo3_polars::{PyDataFrame, PySeries};

use crate::container::Codec;
use crate::decode::MAX_DECIMAL_PRECISION;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::read::{
    AvroReader, BatchedReader, Predicate, ReadOptions, ReadStats, RowIndex, ScanFile, SkippedData, Source, StatValue,
    DEFAULT_BATCH_SIZE, DEFAULT_FILES_IN_FLIGHT,
};
use crate::schema::{parse_schema, AvroSchema};
pub use errors::to_py_err;

fn source_from_py(source: &Bound<'_, PyAny>) -> PyResult<Source> {
    if let Ok(bytes) = source.cast::<PyBytes>() {
        return Ok(Source::from_bytes(bytes.as_bytes().to_vec()));
    }
    if let Ok(remote) = source.cast::<pyremote::RemoteFile>() {
        return Ok(remote.get().source());
    }
    if let Ok(path) = source.extract::<std::path::PathBuf>() {
        return Ok(Source::from_path(path));
    }
    if source.hasattr("read")? {
        return Ok(pyreader::source_from_file_object(source));
    }
    Err(to_py_err(AvroError::argument(format!(
        "expected a path, bytes or a binary file object as the source, found {}",
        source.get_type().name()?
    ))))
}

/// The files of a scan, per file: the partition values (one row per file), whether it
/// is read only to count its records, and the part a split reads of it.
fn scan_files(
    sources: &Bound<'_, PyList>,
    partitions: Option<&DataFrame>,
    count_only: Option<Vec<bool>>,
    splits: Option<Vec<pysplits::SplitArg>>,
) -> PyResult<Vec<ScanFile>> {
    if splits.as_ref().is_some_and(|s| s.len() != sources.len()) {
        return Err(to_py_err(AvroError::argument("a split must give one range per source")));
    }
    let mut splits = splits.map(|s| s.into_iter());
    let mut files = Vec::with_capacity(sources.len());
    for (i, source) in sources.iter().enumerate() {
        let partition_values = match partitions {
            Some(df) => df
                .columns()
                .iter()
                .map(|c| c.get(i).map(|v| v.into_static()))
                .collect::<Result<_, _>>()
                .map_err(|e| to_py_err(AvroError::from(e)))?,
            None => Vec::new(),
        };
        let count_only = count_only.as_ref().is_some_and(|c| c.get(i) == Some(&true));
        let split = splits.as_mut().and_then(Iterator::next).map(pysplits::split_part).transpose()?;
        files.push(ScanFile { source: source_from_py(&source)?, partition_values, count_only, split });
    }
    Ok(files)
}

/// The files of a scan being read batch by batch.
#[pyclass(module = "polars_avro._internal")]
struct ScanReader {
    /// In a Mutex only to make the class Sync, as pyo3 requires (methods take `&mut self`,
    /// so it is never contended).
    inner: Option<Mutex<BatchedReader>>,
    /// An exception raised by the user's predicate, re-raised as it is.
    predicate_error: Arc<Mutex<Option<PyErr>>>,
    /// The statistics of a finished read (the reader itself is gone by then).
    final_stats: Option<ReadStats>,
    /// A batch read while joining batches that did not join (its schema differed): the
    /// next call's first.
    pending: Option<DataFrame>,
    /// What `ignore_errors` left out and nobody has taken yet (the reader may be gone).
    skipped: Vec<SkippedData>,
}

#[pymethods]
impl ScanReader {
    #[new]
    #[pyo3(signature = (
        sources, *, columns=None, n_rows=None, skip_rows=0, batch_size=None, row_index=None, file_path_column=None,
        partitions=None, count_only=None, predicate=None, n_threads=None, reader_schema=None,
        ignore_errors=false, files_in_flight=None, splits=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sources: &Bound<'_, PyList>,
        columns: Option<Vec<String>>,
        n_rows: Option<usize>,
        skip_rows: usize,
        batch_size: Option<usize>,
        row_index: Option<(String, IdxSize)>,
        file_path_column: Option<String>,
        partitions: Option<PyDataFrame>,
        count_only: Option<Vec<bool>>,
        predicate: Option<(Vec<String>, Py<PyAny>)>,
        n_threads: Option<usize>,
        reader_schema: Option<String>,
        ignore_errors: bool,
        files_in_flight: Option<usize>,
        splits: Option<Vec<pysplits::SplitArg>>,
    ) -> PyResult<Self> {
        if n_threads == Some(0) {
            return Err(to_py_err(AvroError::argument("n_threads must be at least 1, found 0")));
        }
        let partitions = partitions.map(|df| df.0);
        let files = scan_files(sources, partitions.as_ref(), count_only, splits)?;
        let partition_columns = partitions
            .map_or_else(Vec::new, |df| df.columns().iter().map(|c| (c.name().clone(), c.dtype().clone())).collect());
        let reader_schema = reader_schema
            .map(|json| parse_schema(&json).map(Arc::new).map_err(reader_schema_error))
            .transpose()
            .map_err(to_py_err)?;
        let predicate_error = Arc::new(Mutex::new(None));
        let predicate = predicate.map(|(columns, callable)| Predicate {
            columns,
            evaluate: python_predicate(callable, predicate_error.clone()),
        });
        let options = ReadOptions {
            columns,
            n_rows,
            skip_rows,
            batch_size: batch_size.unwrap_or(DEFAULT_BATCH_SIZE),
            row_index: row_index.map(|(name, offset)| RowIndex { name: PlSmallStr::from(name.as_str()), offset }),
            file_path_column: file_path_column.map(|name| PlSmallStr::from(name.as_str())),
            partition_columns,
            files_in_flight,
            n_threads,
            read_ahead: None,
            reader_schema,
            ignore_errors,
        };
        let reader = AvroReader::from_files(files).with_options(options).with_predicate(predicate);
        let inner = py.detach(|| reader.batched()).map_err(to_py_err)?;
        Ok(Self {
            inner: Some(Mutex::new(inner)),
            predicate_error,
            final_stats: None,
            pending: None,
            skipped: Vec::new(),
        })
    }

    /// What the read has done so far: counters, and times in seconds.
    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        let live = self.inner.as_mut().map(|r| r.get_mut().unwrap_or_else(|e| e.into_inner()).stats());
        let Some(stats) = live.or_else(|| self.final_stats.clone()) else {
            return Ok(out);
        };
        for (name, value) in stats.entries() {
            match value {
                StatValue::Count(n) => out.set_item(name, n)?,
                StatValue::Seconds(s) => out.set_item(name, s)?,
            }
        }
        Ok(out)
    }

    /// What `ignore_errors` left out since the last call: one dict per block, in file order.
    fn take_skipped<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        if let Some(reader) = self.inner.as_mut() {
            self.skipped.extend(reader.get_mut().unwrap_or_else(|e| e.into_inner()).take_skipped());
        }
        std::mem::take(&mut self.skipped).into_iter().map(|s| skipped_dict(py, s)).collect()
    }

    /// The next batch as (DataFrame, height), or None at the end; with `join`, up to that
    /// many batches as one frame, their chunks appended (an eager read crosses into Python
    /// once, not once per batch: each crossing costs a Series per column and a frame).
    /// The height travels separately because a frame with no columns loses it on the way
    /// to Python.
    #[pyo3(signature = (join = 1))]
    fn next_batch(&mut self, py: Python<'_>, join: usize) -> PyResult<Option<(PyDataFrame, usize)>> {
        // The reader is gone after the end or an error, when no batch is pending.
        let Some(reader) = self.inner.as_mut() else { return Ok(None) };
        let reader = reader.get_mut().unwrap_or_else(|e| e.into_inner());
        let pending = &mut self.pending;
        let result = py.detach(|| joined_batches(reader, join, pending));
        self.skipped.extend(reader.take_skipped());
        if !matches!(result, Ok(Some(_))) {
            self.final_stats = Some(reader.stats());
        }
        match result {
            Ok(Some(df)) => Ok(Some(with_height(df))),
            Ok(None) => {
                self.inner = None;
                Ok(None)
            },
            Err(e) => {
                self.inner = None;
                if let Some(user_error) = self.predicate_error.lock().unwrap().take() {
                    return Err(user_error);
                }
                Err(to_py_err(e))
            },
        }
    }
}

fn with_height(df: DataFrame) -> (PyDataFrame, usize) {
    let height = df.height();
    (PyDataFrame(df), height)
}

/// Up to `most` batches as one frame, their chunks appended (not copied). A batch whose
/// schema differs from the first's, or that would take the frame past the rows a Polars
/// frame holds, is left in `pending`, to begin the next frame. Frames of no column (a
/// count) are only heights, and are not joined.
fn joined_batches(
    reader: &mut BatchedReader,
    most: usize,
    pending: &mut Option<DataFrame>,
) -> AvroResult<Option<DataFrame>> {
    let mut joined = match pending.take() {
        Some(df) => df,
        None => match reader.next_batch()? {
            Some(df) => df,
            None => return Ok(None),
        },
    };
    for _ in 1..most {
        if joined.width() == 0 {
            break;
        }
        let Some(next) = reader.next_batch()? else { break };
        let fits = joined.height() + next.height() <= IdxSize::MAX as usize;
        if !fits || joined.schema() != next.schema() {
            *pending = Some(next);
            break;
        }
        joined.vstack_mut_owned(next).map_err(AvroError::from)?;
    }
    Ok(Some(joined))
}

fn skipped_dict(py: Python<'_>, skipped: SkippedData) -> PyResult<Bound<'_, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("kind", errors::class_name(&skipped.error))?;
    out.set_item("file", skipped.error.file.clone())?;
    out.set_item("block", skipped.error.block)?;
    out.set_item("offset", skipped.error.offset)?;
    out.set_item("records", skipped.records)?;
    out.set_item("message", skipped.error.to_string())?;
    Ok(out)
}

/// The columns (name, type description) a schema's records read into.
fn describe_columns(schema: &AvroSchema, file: Option<&str>) -> PyResult<Vec<(String, String)>> {
    let columns = crate::read::column_types(schema).map_err(|e| match file {
        Some(file) => to_py_err(e.in_file(file)),
        None => to_py_err(e),
    })?;
    Ok(columns.into_iter().map(|(name, ft)| (name, ft.to_json().to_string())).collect())
}

/// Evaluates the predicate with the user's Python Polars.
fn python_predicate(callable: Py<PyAny>, error_slot: Arc<Mutex<Option<PyErr>>>) -> crate::read::PredicateFn {
    Arc::new(move |df: DataFrame| {
        Python::attach(|py| {
            let result = callable.call1(py, (PyDataFrame(df),)).and_then(|mask| mask.extract::<PySeries>(py));
            let failed = |e: PyErr| {
                let message = e.to_string();
                // Batches are filtered in parallel: the first failure is the one kept.
                error_slot.lock().unwrap().get_or_insert(e);
                AvroError::argument(format!("the predicate failed: {message}"))
            };
            let series = result.map_err(failed)?.0;
            let mask = series.bool().map_err(|_| {
                AvroError::argument(format!("the predicate must give a Boolean column, found {}", series.dtype()))
            })?;
            Ok(mask.clone())
        })
    })
}

/// The header of a file: its schema JSON, codec and every metadata entry.
#[pyfunction]
fn read_header<'py>(py: Python<'py>, source: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let source = source_from_py(source)?;
    let name = source.name();
    let (header, schema) = py.detach(|| crate::read::read_header(source)).map_err(to_py_err)?;
    let out = PyDict::new(py);
    out.set_item("schema_json", &header.schema_json)?;
    out.set_item("codec", header.codec.name())?;
    let metadata = PyDict::new(py);
    for (k, v) in &header.metadata {
        metadata.set_item(k, PyBytes::new(py, v))?;
    }
    out.set_item("metadata", metadata)?;
    out.set_item("sync_marker", PyBytes::new(py, &header.sync))?;
    out.set_item("columns", describe_columns(&schema, Some(&name))?)?;
    Ok(out)
}

/// Each file's writer schema (None where its header is damaged), and what was damaged.
type SchemasRead<'py> = (Vec<Option<String>>, Vec<Bound<'py, PyDict>>);

/// The writer schema (JSON) of each source, from their headers, read several at once.
/// With `ignore_errors`, a source whose header is damaged gives None and a report of what
/// was wrong; otherwise the first failure (in the sources' order) raises.
#[pyfunction]
#[pyo3(signature = (sources, *, ignore_errors=false, files_in_flight=None))]
fn read_schemas<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    ignore_errors: bool,
    files_in_flight: Option<usize>,
) -> PyResult<SchemasRead<'py>> {
    let sources = sources.iter().map(|s| source_from_py(&s)).collect::<PyResult<Vec<_>>>()?;
    let in_flight = files_in_flight.unwrap_or(DEFAULT_FILES_IN_FLIGHT);
    let results = py.detach(|| crate::read::read_schemas(sources, in_flight)).map_err(to_py_err)?;
    let (mut schemas, mut damaged) = (Vec::with_capacity(results.len()), Vec::new());
    for result in results {
        match result {
            Ok(json) => schemas.push(Some(json)),
            Err(e) if ignore_errors && e.is_damage() => {
                schemas.push(None);
                damaged.push(skipped_dict(py, SkippedData { error: e, records: None })?);
            },
            Err(e) => return Err(to_py_err(e)),
        }
    }
    Ok((schemas, damaged))
}

/// The columns (name, type description) a schema, given as JSON, reads into: the writer
/// schema of `file` (errors name it), or without one the reader schema.
#[pyfunction]
#[pyo3(signature = (schema_json, *, file=None))]
fn describe_schema(schema_json: &str, file: Option<&str>) -> PyResult<Vec<(String, String)>> {
    let schema = parse_schema(schema_json).map_err(|e| match file {
        Some(file) => e.in_file(file),
        None => reader_schema_error(e),
    });
    describe_columns(&schema.map_err(to_py_err)?, file)
}

/// One reader schema for files whose writer schemas differ (see `schema::unify`), from
/// (file name, schema JSON) pairs; a conflict names the file and the field.
#[pyfunction]
fn unify_schemas(schemas: Vec<(String, String)>) -> PyResult<String> {
    crate::schema::unify_schemas(&schemas).map(|json| json.to_string()).map_err(to_py_err)
}

fn reader_schema_error(mut e: AvroError) -> AvroError {
    e.message = format!("the reader schema: {}", e.message);
    e
}

/// The local files a glob pattern matches, sorted.
#[pyfunction]
fn glob_files(py: Python<'_>, pattern: &str) -> PyResult<Vec<String>> {
    py.detach(|| crate::source::glob_files(pattern)).map_err(to_py_err)
}

/// The `.avro` files under a local directory, sorted (names starting with `.` or `_` left out).
#[pyfunction]
fn avro_files_under(py: Python<'_>, dir: &str) -> PyResult<Vec<String>> {
    py.detach(|| crate::source::avro_files_under(dir)).map_err(to_py_err)
}

/// The decoding threads a read uses when it does not say: POLARS_MAX_THREADS, else one per core.
#[pyfunction]
fn default_threads() -> usize {
    crate::read::default_threads()
}

#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ScanReader>()?;
    m.add_class::<pywriter::FileWriter>()?;
    m.add_class::<pyremote::RemoteFile>()?;
    m.add_class::<pymessage::MessageColumnDecoder>()?;
    m.add_function(wrap_pyfunction!(pymessage::message_schema_ids, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::encode_messages, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::parsing_canonical_form, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::crc64_avro, m)?)?;
    m.add_function(wrap_pyfunction!(pyremote::list_objects, m)?)?;
    m.add_function(wrap_pyfunction!(read_header, m)?)?;
    m.add_function(wrap_pyfunction!(read_schemas, m)?)?;
    m.add_function(wrap_pyfunction!(pysplits::plan_splits, m)?)?;
    m.add_function(wrap_pyfunction!(glob_files, m)?)?;
    m.add_function(wrap_pyfunction!(avro_files_under, m)?)?;
    m.add_function(wrap_pyfunction!(describe_schema, m)?)?;
    m.add_function(wrap_pyfunction!(unify_schemas, m)?)?;
    m.add("MAX_DECIMAL_PRECISION", MAX_DECIMAL_PRECISION)?;
    // Defaults and names the Python package shows and passes back: defined here only.
    m.add("DEFAULT_BATCH_SIZE", DEFAULT_BATCH_SIZE)?;
    m.add("DEFAULT_SYNC_INTERVAL", crate::write::DEFAULT_SYNC_INTERVAL)?;
    m.add("COMPRESSIONS", Codec::COMPRESSIONS.iter().map(|(name, _)| *name).collect::<Vec<_>>())?;
    let levels: Vec<(&str, (i32, i32, i32))> =
        Codec::COMPRESSIONS.iter().filter_map(|(name, codec)| Some((*name, codec.level_range()?))).collect();
    m.add("COMPRESSION_LEVELS", levels)?;
    let stat_names: Vec<&str> = ReadStats::default().entries().iter().map(|(name, _)| *name).collect();
    m.add("READ_STATS_FIELDS", stat_names)?;
    let plain: Vec<(&str, String)> = FrameType::PLAIN.iter().map(|(name, ft)| (*name, ft.polars_name())).collect();
    m.add("PLAIN_TYPES", plain)?;
    m.add_function(wrap_pyfunction!(default_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
