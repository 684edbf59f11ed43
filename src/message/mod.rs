//! Avro datums inside columns of messages (Kafka values): framings, Parsing Canonical
//! Form and fingerprints, and per-row writer schemas resolved into one reader schema.
//! Builds on `decode` (each datum is one value) and `write` (the inverse).

mod canonical;
mod decoder;
mod framing;

pub use canonical::{crc64_avro, parsing_canonical_form, schema_fingerprint};
pub use decoder::{Decoded, MessageDecoder, Mode, Rows};
pub use framing::{guid_text, read_framing, Framed, Framing, SchemaKey};

use polars_core::prelude::{BinaryChunked, IntoSeries, Series};

use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::AvroSchema;
use crate::write::{derive_schema, encode_datums, writable_schema};

/// The schema values of Polars type `ft` are encoded with when none is given: a Struct's
/// fields become a record named `record_name`, as `write_avro` derives it for a frame.
pub fn derived_schema(ft: &FrameType, record_name: &str) -> AvroResult<AvroSchema> {
    let FrameType::Struct(fields) = ft else {
        return Err(AvroError::argument(format!(
            "a schema is derived only for Struct values (a record's fields); pass schema= for values of {}",
            ft.polars_name()
        )));
    };
    Ok(writable_schema(&derive_schema(fields, record_name, None)?.to_string())?.0)
}

/// The schema messages are encoded with, checked as a file's is before any value: the one
/// given, else that of a record named `record_name` (its fields come with the values). The
/// warnings about names some readers misread (see `schema::check_written_names`).
pub fn check_encoding_schema(schema_json: Option<&str>, record_name: &str) -> AvroResult<Vec<String>> {
    let json = match schema_json {
        Some(json) => json.to_string(),
        None => derive_schema(&[], record_name, None)?.to_string(),
    };
    Ok(writable_schema(&json)?.1)
}

/// Each value of `column` (Polars type `ft`) as a message of `framing`: a datum of
/// `schema` after the framing's prefix, which names `schema_id` (Confluent) or the
/// schema's fingerprint (single-object). Null values give null messages.
pub fn encode_messages(
    column: &Series,
    ft: &FrameType,
    schema: &AvroSchema,
    framing: Framing,
    schema_id: Option<i64>,
) -> AvroResult<Series> {
    let key = match framing {
        Framing::Confluent => schema_id.map(SchemaKey::Id),
        Framing::SingleObject => Some(SchemaKey::Fingerprint(schema_fingerprint(schema) as i64)),
        Framing::Raw | Framing::Auto => None,
    };
    let prefix = framing::frame_prefix(framing, key).map_err(AvroError::argument)?;
    let messages = encode_datums(schema, ft, column, &prefix)?;
    Ok(BinaryChunked::with_chunk(column.name().clone(), messages).into_series())
}

/// The schema id or fingerprint each message names (null for null messages and for raw
/// datums that `Framing::Auto` finds). A schema GUID is not an integer: it is an error
/// naming the row, as is a message the framing does not fit.
pub fn schema_ids(messages: &[Option<&[u8]>], framing: Framing) -> AvroResult<Vec<Option<i64>>> {
    messages
        .iter()
        .enumerate()
        .map(|(row, message)| {
            let Some(message) = message else { return Ok(None) };
            let located = |message: String| {
                AvroError::decode(format!("{message} (framing '{}')", framing.name())).at_batch_row(row, messages.len())
            };
            match read_framing(message, framing).map_err(located)?.key {
                None => Ok(None),
                Some(SchemaKey::Id(id) | SchemaKey::Fingerprint(id)) => Ok(Some(id)),
                Some(key @ SchemaKey::Guid(_)) => {
                    Err(located(format!("expected a message with an integer schema id, found one with a {key}")))
                },
            }
        })
        .collect()
}
