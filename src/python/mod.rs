//! pyo3 bindings: argument conversion, GIL release and errors. The Python package
//! (polars_avro/) builds the user-facing API on top of these.

mod alloc;
mod errors;
mod interrupt;
mod pyblocks;
mod pychecks;
mod pydtype;
mod pyjson;
mod pylisting;
mod pymessage;
mod pyoptions;
mod pypartitioned;
mod pyplan;
mod pyreader;
mod pyremote;
mod pyscan;
mod pysplits;
mod pywriter;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::container::Codec;
use crate::decode::MAX_DECIMAL_PRECISION;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::read::{ReadStats, SkippedData, Source, DEFAULT_BATCH_SIZE};
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
    if let Ok(file) = source.cast::<pyreader::FileObject>() {
        return file.get().source(source.py());
    }
    if source.hasattr("read")? {
        return Ok(pyreader::source_from_file_object(source));
    }
    Err(to_py_err(AvroError::argument(format!(
        "expected a path, bytes or a binary file object as the source, found {}",
        source.get_type().name()?
    ))))
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

/// Columns as the Python package describes them: (name, type description JSON) pairs.
pub(super) fn parse_columns(columns: &[(String, String)]) -> AvroResult<Vec<(String, FrameType)>> {
    columns
        .iter()
        .map(|(name, desc)| {
            let value: serde_json::Value = serde_json::from_str(desc)
                .map_err(|e| AvroError::argument(format!("bad type description of column '{name}': {e}")))?;
            Ok((name.clone(), FrameType::from_json(&value)?))
        })
        .collect()
}

/// The header of a file: its schema JSON, codec and every metadata entry.
#[pyfunction]
fn read_header<'py>(py: Python<'py>, source: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let source = source_from_py(source)?;
    let (header, _) = py.detach(|| crate::read::read_header(source)).map_err(to_py_err)?;
    header_dict(py, &header)
}

/// A header as Python sees it: its schema JSON, codec, metadata (all of it, and the
/// user's: all but `avro.*`) and sync marker.
fn header_dict<'py>(py: Python<'py>, header: &crate::container::Header) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    out.set_item("schema_json", &header.schema_json)?;
    out.set_item("codec", header.codec.name())?;
    let metadata = PyDict::new(py);
    for (k, v) in &header.metadata {
        metadata.set_item(k, PyBytes::new(py, v))?;
    }
    out.set_item("metadata", metadata)?;
    let user_metadata = PyDict::new(py);
    for (k, v) in header.user_metadata() {
        user_metadata.set_item(k, PyBytes::new(py, v))?;
    }
    out.set_item("user_metadata", user_metadata)?;
    out.set_item("sync_marker", PyBytes::new(py, &header.sync))?;
    Ok(out)
}

/// One reader schema for files whose writer schemas differ (see `schema::unify`), from
/// (file name, schema JSON) pairs; a conflict names the file and the field.
#[pyfunction]
fn unify_schemas(schemas: Vec<(String, String)>) -> PyResult<String> {
    crate::schema::unify_schemas(&schemas).map(|json| json.to_string()).map_err(to_py_err)
}

/// Whether a path is an object store's URL (a `file://` URL is a local path).
#[pyfunction]
fn is_store_url(path: &str) -> bool {
    crate::source::is_store_url(path)
}

/// Whether a path or URL is a glob pattern.
#[pyfunction]
fn has_glob(path: &str) -> bool {
    crate::source::has_glob(path)
}

/// Where a pattern's walk or listing starts: the folders before its first wildcard.
#[pyfunction]
fn glob_base(pattern: &str) -> &str {
    crate::source::glob_base(pattern)
}

/// The decoding threads a read uses when it does not say: POLARS_MAX_THREADS, else one per core.
#[pyfunction]
fn default_threads() -> usize {
    crate::read::default_threads()
}

/// The threads a read or write asking for `asked` runs on, or the error naming the limit,
/// so that entry points refuse a bad `n_threads` when called, not when a query runs.
#[pyfunction]
#[pyo3(signature = (asked=None))]
fn thread_count(asked: Option<usize>) -> PyResult<usize> {
    crate::threads::thread_count(asked).map_err(to_py_err)
}

#[pymodule]
fn _internal(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Before any thread of ours allocates: threads starting later share the bounded arenas.
    crate::arenas::bound_under_address_limit();
    m.add_class::<pyplan::ScanPlan>()?;
    m.add_class::<pyplan::PlannedScan>()?;
    m.add_class::<pyscan::ScanReader>()?;
    m.add_class::<pysplits::SplitFile>()?;
    m.add_class::<pywriter::FileWriter>()?;
    m.add_class::<pypartitioned::PartitionedWriter>()?;
    m.add_class::<pyblocks::BlockReader>()?;
    m.add_class::<pyblocks::BlockWriter>()?;
    m.add_class::<pyremote::RemoteFile>()?;
    m.add_class::<pyreader::FileObject>()?;
    m.add_class::<pymessage::MessageColumnDecoder>()?;
    m.add_class::<pyjson::AvroJson>()?;
    m.add_function(wrap_pyfunction!(pymessage::message_schema_ids, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::encode_messages, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::check_encoding_schema, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::parsing_canonical_form, m)?)?;
    m.add_function(wrap_pyfunction!(pymessage::crc64_avro, m)?)?;
    m.add_function(wrap_pyfunction!(read_header, m)?)?;
    m.add_function(wrap_pyfunction!(pyplan::plan_sources, m)?)?;
    m.add_function(wrap_pyfunction!(pylisting::list_sources, m)?)?;
    m.add_function(wrap_pyfunction!(pysplits::plan_splits, m)?)?;
    m.add_function(wrap_pyfunction!(pysplits::split_scan, m)?)?;
    m.add_function(wrap_pyfunction!(is_store_url, m)?)?;
    m.add_function(wrap_pyfunction!(has_glob, m)?)?;
    m.add_function(wrap_pyfunction!(glob_base, m)?)?;
    m.add_function(wrap_pyfunction!(unify_schemas, m)?)?;
    m.add("MAX_DECIMAL_PRECISION", MAX_DECIMAL_PRECISION)?;
    m.add("HIVE_NULL", crate::source::HIVE_NULL)?;
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
    m.add("ALLOCATOR", alloc::in_use())?;
    m.add_function(wrap_pyfunction!(thread_count, m)?)?;
    m.add_function(wrap_pyfunction!(pychecks::check_whole_number, m)?)?;
    m.add_function(wrap_pyfunction!(pychecks::check_counts, m)?)?;
    m.add_function(wrap_pyfunction!(pychecks::check_flag, m)?)?;
    m.add_function(wrap_pyfunction!(pychecks::check_text, m)?)?;
    m.add_function(wrap_pyfunction!(pychecks::check_threads, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
