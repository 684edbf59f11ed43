//! The message side of the bindings: a `MessageColumnDecoder` class over `MessageDecoder`
//! (the Python package fetches writer schemas between its calls), and the schema helpers.

use polars_core::prelude::{BinaryChunked, Int64Chunked, IntoSeries, NamedFrom, Series};
use pyo3::prelude::*;
use pyo3_polars::PySeries;

use super::errors::{detached, to_py_err};
use super::pydtype::Polars;
use crate::error::AvroError;
use crate::frame_type::FrameType;
use crate::message::{self, Decoded, Framing, MessageDecoder, Mode, Rows, SchemaKey};
use crate::schema::parse_schema;
use crate::write::writable_schema;

fn framing_from_name(name: &str) -> PyResult<Framing> {
    Framing::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Framing::NAMES.iter().map(|(n, _)| *n).collect();
        to_py_err(AvroError::argument(format!("framing must be one of {}, found '{name}'", names.join(", "))))
    })
}

fn binary(series: &Series) -> PyResult<&BinaryChunked> {
    series.binary().map_err(|_| {
        to_py_err(AvroError::argument(format!(
            "expected a Binary column of messages, found {} column '{}'",
            series.dtype(),
            series.name()
        )))
    })
}

fn int64(series: &Series) -> PyResult<&Int64Chunked> {
    series.i64().map_err(|_| {
        to_py_err(AvroError::argument(format!("expected an Int64 column of schema ids, found {}", series.dtype())))
    })
}

/// A key as Python sees it: ("id", int), ("fingerprint", int) or ("guid", str).
fn key_to_py(py: Python<'_>, key: SchemaKey) -> PyResult<PyKey> {
    Ok(match key {
        SchemaKey::Id(id) => ("id", id.into_pyobject(py)?.into_any().unbind()),
        SchemaKey::Fingerprint(fp) => ("fingerprint", fp.into_pyobject(py)?.into_any().unbind()),
        SchemaKey::Guid(guid) => ("guid", message::guid_text(&guid).into_pyobject(py)?.into_any().unbind()),
    })
}

fn key_from_py(kind: &str, value: &Bound<'_, PyAny>) -> PyResult<SchemaKey> {
    match kind {
        "id" => Ok(SchemaKey::Id(value.extract()?)),
        "fingerprint" => Ok(SchemaKey::Fingerprint(value.extract()?)),
        "guid" => {
            let text: String = value.extract()?;
            let hex: String = text.chars().filter(|c| *c != '-').collect();
            let bytes: Option<Vec<u8>> = (hex.len() == 32)
                .then(|| (0..16).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect())
                .flatten();
            let guid = bytes.and_then(|b| <[u8; 16]>::try_from(b).ok());
            guid.map(SchemaKey::Guid)
                .ok_or_else(|| to_py_err(AvroError::argument(format!("expected a GUID, found '{text}'"))))
        },
        other => Err(to_py_err(AvroError::internal(format!("unknown schema key kind '{other}'")))),
    }
}

/// Decodes columns of messages (one Avro datum each) into values of one reader schema.
#[pyclass(module = "polars_avro._internal", frozen)]
pub struct MessageColumnDecoder {
    inner: MessageDecoder,
    /// The values' type.
    frame_type: FrameType,
}

#[pymethods]
impl MessageColumnDecoder {
    /// `given_schema`: the writer schema of raw datums that carry no id.
    #[new]
    #[pyo3(signature = (reader_schema, framing, given_schema=None))]
    fn new(reader_schema: &str, framing: &str, given_schema: Option<&str>) -> PyResult<Self> {
        let framing = framing_from_name(framing)?;
        let parse = |json: &str, what: &str| {
            parse_schema(json).map_err(|mut e| {
                e.message = format!("the {what}: {}", e.message);
                to_py_err(e)
            })
        };
        let reader = parse(reader_schema, "reader schema")?;
        let given = given_schema.map(|json| parse(json, "writer schema")).transpose()?;
        let frame_type = crate::decode::datum_read_type(&reader, None).map_err(to_py_err)?.frame_type();
        let inner = MessageDecoder::new(reader, framing, given).map_err(to_py_err)?;
        Ok(Self { inner, frame_type })
    }

    /// The decoded values' type in the running Polars.
    fn dtype<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Polars::import(py)?.dtype(&self.frame_type)
    }

    /// The writer schema (JSON) a key names.
    fn add_writer(&self, kind: &str, key: &Bound<'_, PyAny>, schema_json: &str) -> PyResult<()> {
        self.inner.add_writer(key_from_py(kind, key)?, schema_json);
        Ok(())
    }

    /// No writer schema for this key, and why.
    fn add_missing(&self, kind: &str, key: &Bound<'_, PyAny>, reason: String) -> PyResult<()> {
        self.inner.add_missing(key_from_py(kind, key)?, reason);
        Ok(())
    }

    /// The decoded values and how many messages failed (permissive: they are null); or,
    /// when some messages name schemas not added yet, those keys (and no values): add
    /// them and call again.
    #[pyo3(signature = (messages, ids=None, *, permissive=false, threads=1))]
    fn decode(
        &self,
        py: Python<'_>,
        messages: PySeries,
        ids: Option<PySeries>,
        permissive: bool,
        threads: usize,
    ) -> PyResult<(Option<PySeries>, usize, Vec<PyKey>)> {
        let mode = if permissive { Mode::Permissive } else { Mode::Strict };
        let (values, missing) = self.run(py, &messages.0, ids.as_ref().map(|s| &s.0), mode, threads)?;
        let (values, failed) = values.map_or((None, 0), |(series, failed)| (Some(PySeries(series)), failed));
        Ok((values, failed, missing))
    }

    /// Why each message fails to decode (null where it decodes); or the keys to add first,
    /// as `decode` gives them.
    #[pyo3(signature = (messages, ids=None, *, threads=1))]
    fn reasons(
        &self,
        py: Python<'_>,
        messages: PySeries,
        ids: Option<PySeries>,
        threads: usize,
    ) -> PyResult<(Option<PySeries>, Vec<PyKey>)> {
        let (values, missing) = self.run(py, &messages.0, ids.as_ref().map(|s| &s.0), Mode::Reasons, threads)?;
        Ok((values.map(|(series, _)| PySeries(series)), missing))
    }
}

/// A schema key as Python sees it (see `key_to_py`).
type PyKey = (&'static str, Py<PyAny>);

/// The values of a run, with the failed count; or the keys whose schemas are missing.
type RunOutcome = (Option<(Series, usize)>, Vec<PyKey>);

impl MessageColumnDecoder {
    /// The messages' values in `mode`, unless some name schemas not added yet: then their keys.
    fn run(
        &self,
        py: Python<'_>,
        messages: &Series,
        ids: Option<&Series>,
        mode: Mode,
        threads: usize,
    ) -> PyResult<RunOutcome> {
        let name = messages.name().clone();
        let messages: Vec<Option<&[u8]>> = binary(messages)?.iter().collect();
        let ids: Option<Vec<Option<i64>>> = ids.map(|s| int64(s).map(|c| c.iter().collect())).transpose()?;
        let rows = Rows { messages: &messages, ids: ids.as_deref() };
        let outcome = detached(py, "decoding messages", || match mode {
            Mode::Reasons => self.inner.reasons(name, rows, threads).map(|d| match d {
                Decoded::Done(reasons) => Decoded::Done((reasons, 0)),
                Decoded::Missing(keys) => Decoded::Missing(keys),
            }),
            _ => self.inner.decode(name, rows, mode, threads),
        })?;
        match outcome {
            Decoded::Done(values) => Ok((Some(values), Vec::new())),
            Decoded::Missing(keys) => {
                Ok((None, keys.into_iter().map(|key| key_to_py(py, key)).collect::<PyResult<_>>()?))
            },
        }
    }
}

/// Each value as a message (Binary): `description` is the values' type description (as
/// polars_avro/_types.py writes it); without `schema_json`, the schema is derived from it.
#[pyfunction]
#[pyo3(signature = (values, description, schema_json, framing, schema_id, record_name))]
pub fn encode_messages(
    py: Python<'_>,
    values: PySeries,
    description: &str,
    schema_json: Option<&str>,
    framing: &str,
    schema_id: Option<i64>,
    record_name: &str,
) -> PyResult<PySeries> {
    let framing = framing_from_name(framing)?;
    let value: serde_json::Value = serde_json::from_str(description)
        .map_err(|e| to_py_err(AvroError::internal(format!("bad type description: {e}"))))?;
    let ft = FrameType::from_json(&value).map_err(to_py_err)?;
    let schema = match schema_json {
        Some(json) => writable_schema(json).map_err(to_py_err)?.0,
        None => message::derived_schema(&ft, record_name).map_err(to_py_err)?,
    };
    let series = values.0;
    Ok(PySeries(detached(py, "encoding messages", || {
        message::encode_messages(&series, &ft, &schema, framing, schema_id)
    })?))
}

/// Checks the schema `encode_messages` will encode with (see `message::check_encoding_schema`):
/// the warnings about names some readers misread.
#[pyfunction]
#[pyo3(signature = (schema_json, record_name))]
pub fn check_encoding_schema(schema_json: Option<&str>, record_name: &str) -> PyResult<Vec<String>> {
    message::check_encoding_schema(schema_json, record_name).map_err(to_py_err)
}

/// The schema id or fingerprint each message names (Int64).
#[pyfunction]
pub fn message_schema_ids(py: Python<'_>, messages: PySeries, framing: &str) -> PyResult<PySeries> {
    let framing = framing_from_name(framing)?;
    let name = messages.0.name().clone();
    let messages: Vec<Option<&[u8]>> = binary(&messages.0)?.iter().collect();
    let ids = detached(py, "reading schema ids", || message::schema_ids(&messages, framing))?;
    Ok(PySeries(Int64Chunked::new(name, ids).into_series()))
}

/// A schema (JSON) in Parsing Canonical Form.
#[pyfunction]
pub fn parsing_canonical_form(schema_json: &str) -> PyResult<String> {
    Ok(message::parsing_canonical_form(&parse_schema(schema_json).map_err(to_py_err)?))
}

/// The CRC-64-AVRO fingerprint of bytes, as a signed 64-bit integer.
#[pyfunction]
pub fn crc64_avro(data: &[u8]) -> i64 {
    message::crc64_avro(data) as i64
}
