//! The JSON side of the bindings: an `AvroJson` class over one writer schema, for the
//! command line's `tojson`, `fromjson` and `random` (see `crate::avro_json`).

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::errors::{detached, to_py_err};
use crate::avro_json::{encode_lines, random_datums, render_datums, JsonMode, Logicals};
use crate::schema::{parse_schema, AvroSchema};

fn mode(avro_json: bool) -> JsonMode {
    if avro_json {
        JsonMode::AvroJson
    } else {
        JsonMode::Plain
    }
}

/// Datums of one writer schema as JSON lines and back, and random datums of it.
#[pyclass(module = "polars_avro._internal", frozen)]
pub struct AvroJson {
    schema: AvroSchema,
}

#[pymethods]
impl AvroJson {
    #[new]
    fn new(schema_json: &str) -> PyResult<Self> {
        Ok(Self { schema: parse_schema(schema_json).map_err(to_py_err)? })
    }

    /// The `count` datums of `data` (a decompressed block's bytes) as JSON lines, each
    /// ending in a newline: Avro's JSON encoding, or plain JSON (unions unwrapped);
    /// `readable`: logical types' values as a person reads them, not as stored.
    #[pyo3(signature = (data, count, *, avro_json, readable=false))]
    fn render<'py>(
        &self,
        py: Python<'py>,
        data: &[u8],
        count: usize,
        avro_json: bool,
        readable: bool,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let logicals = if readable { Logicals::Readable } else { Logicals::Stored };
        let out = detached(py, "rendering datums as JSON", || {
            render_datums(&self.schema, data, count, mode(avro_json), logicals)
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// JSON lines (blank ones skipped) as concatenated datums, and how many; errors name
    /// lines counted from `first_line`.
    #[pyo3(signature = (lines, *, avro_json, first_line=1))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        lines: &[u8],
        avro_json: bool,
        first_line: u64,
    ) -> PyResult<(Bound<'py, PyBytes>, usize)> {
        let (out, count) =
            detached(py, "encoding JSON as datums", || encode_lines(&self.schema, lines, mode(avro_json), first_line))?;
        Ok((PyBytes::new(py, &out), count))
    }

    /// `count` random datums, concatenated: datums `first..first + count` of `seed`, each
    /// the same whichever call makes it.
    #[pyo3(signature = (count, seed, *, first=0))]
    fn random<'py>(&self, py: Python<'py>, count: usize, seed: u64, first: u64) -> PyResult<Bound<'py, PyBytes>> {
        let out = detached(py, "making random datums", || random_datums(&self.schema, count, seed, first))?;
        Ok(PyBytes::new(py, &out))
    }
}
