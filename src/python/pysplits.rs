//! Split planning for cluster engines: the headers and sizes of the files and their byte
//! ranges go to Python (a split is a picklable Python object, see polars_avro/_splits.py),
//! and come back, header facts included, when a worker reads a split.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use super::{skipped_dict, source_from_py, to_py_err};
use crate::container::{ByteRange, Codec, Header};
use crate::error::AvroError;
use crate::read::{SkippedData, SplitPart, DEFAULT_FILES_IN_FLIGHT};

/// A split's part of a file as Python hands it back: (start, end, schema JSON, codec name,
/// sync marker, header length).
pub type SplitArg = (u64, u64, String, String, Vec<u8>, u64);

/// The Rust form of a part handed back by Python.
pub fn split_part((start, end, schema_json, codec, sync, header_len): SplitArg) -> PyResult<SplitPart> {
    let sync: [u8; 16] = sync.try_into().map_err(|found: Vec<u8>| {
        to_py_err(AvroError::argument(format!("a split's sync marker must be 16 bytes, found {}", found.len())))
    })?;
    if start > end {
        return Err(to_py_err(AvroError::argument(format!("a split's range {start}..{end} ends before it starts"))));
    }
    let codec = Codec::from_name(&codec).map_err(to_py_err)?;
    let header = Header { schema_json, codec, metadata: Vec::new(), sync, len: header_len };
    Ok(SplitPart { header: Arc::new(header), range: ByteRange { start, end } })
}

/// Each file's header facts (None where damaged, with `ignore_errors`), the splits as
/// lists of (file index, start, end), and reports of the damaged headers.
type Planned<'py> = (Vec<Option<Bound<'py, PyDict>>>, Vec<Vec<(usize, u64, u64)>>, Vec<Bound<'py, PyDict>>);

/// Reads the headers and sizes of `sources` (several at once) and plans splits of about
/// `target_bytes` over them (see `read::plan_splits`).
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
    let in_flight = files_in_flight.unwrap_or(DEFAULT_FILES_IN_FLIGHT);
    let results = py.detach(|| crate::read::read_file_facts(sources, in_flight)).map_err(to_py_err)?;
    let (mut files, mut sizes, mut kept, mut damaged) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (index, result) in results.into_iter().enumerate() {
        match result {
            Ok(facts) => {
                let out = PyDict::new(py);
                out.set_item("schema_json", &facts.header.schema_json)?;
                out.set_item("codec", facts.header.codec.name())?;
                out.set_item("sync", PyBytes::new(py, &facts.header.sync))?;
                out.set_item("header_len", facts.header.len)?;
                out.set_item("size", facts.size)?;
                files.push(Some(out));
                sizes.push(facts.size);
                kept.push(index);
            },
            Err(e) if ignore_errors && e.is_damage() => {
                files.push(None);
                damaged.push(skipped_dict(py, SkippedData { error: e, records: None })?);
            },
            Err(e) => return Err(to_py_err(e)),
        }
    }
    let splits = crate::read::plan_splits(&sizes, target_bytes)
        .into_iter()
        .map(|split| split.into_iter().map(|(i, range)| (kept[i], range.start, range.end)).collect())
        .collect();
    Ok((files, splits, damaged))
}
