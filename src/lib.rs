//! polars-avro: Apache Avro object container files read straight into Polars, and
//! Polars frames written as Avro.
//!
//! Data flows one way: `source` (bytes, from disk or an object store) -> `container`
//! (blocks) -> `decode` (columns) -> `read` (batches, pushdown) -> `python` (DataFrames for
//! Python). Writing runs the other way: `write` encodes frames into blocks for `container`.
//! `message` decodes and encodes single datums held in columns (Kafka messages);
//! `avro_json` renders datums as JSON, parses them from JSON and makes random ones.
//! `blocks` copies whole files block by block, for the tools that rewrite them.
//! docs/architecture.md says what each module owns.

#![warn(missing_docs)]

// Only the Python module's import sets it; its rule is unit-tested either way.
#[cfg_attr(not(feature = "python"), allow(dead_code))]
mod arenas;
mod avro_json;
mod blocks;
mod bufread;
mod container;
mod decode;
mod error;
mod frame_type;
mod interrupt;
mod message;
mod read;
mod schema;
#[cfg(unix)]
mod signals;
mod source;
mod threads;
mod time_zone;
mod varint;
mod write;

#[cfg(feature = "python")]
mod python;

pub use avro_json::{encode_lines, random_datums, render_datums, JsonMode};
pub use blocks::{Block, BlockData, BlockFile, BlockWriter};
pub use container::{check_magic, ByteRange, Codec, Header};
pub use decode::MAX_DECIMAL_PRECISION;
pub use error::{AvroError, AvroResult, ErrorKind};
pub use frame_type::FrameType;
pub use message::{
    crc64_avro, derived_schema, encode_messages, guid_text, parsing_canonical_form, read_framing, schema_fingerprint,
    schema_ids, Decoded, Framed, Framing, MessageDecoder, Mode, Rows, SchemaKey,
};
pub use read::{
    column_types, default_threads, parse_reader_schema, plan_splits, read_file_facts, read_header, read_schemas,
    AvroReader, BatchedReader, FileFacts, MissingColumns, Predicate, PredicateFn, ReadAhead, ReadOptions, ReadStats,
    RowIndex, ScanFile, ScanSchema, SkippedData, Source, SplitPart, StatValue, DEFAULT_BATCH_SIZE,
    DEFAULT_FILES_IN_FLIGHT,
};
pub use schema::{parse_schema, unify_schemas, AvroSchema};
pub use source::remote::{list_objects, RemoteObject, RemoteOptions, RemoteReadAhead, RemoteUpload, PART_SIZE};
pub use source::{avro_files_under, glob_files};
pub use write::{AvroWriter, WriteOptions};

/// What the fuzz targets and benchmarks reach inside the crate: the container format on
/// its own. Not a stable API.
#[doc(hidden)]
pub mod internals {
    pub use crate::container::{ContainerReader, ContainerWriter};
    pub use crate::interrupt::checked;
}
