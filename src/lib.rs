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
pub mod avro_json;
pub mod blocks;
mod bufread;
pub mod container;
mod decode;
mod error;
pub mod filter;
mod frame_type;
mod interrupt;
mod memory;
pub mod message;
pub mod read;
pub mod schema;
#[cfg(unix)]
mod signals;
pub mod sink;
pub mod source;
mod threads;
mod time_zone;
mod varint;
pub mod write;

#[cfg(feature = "python")]
mod python;

pub use error::{AvroError, AvroResult, ErrorKind};
pub use frame_type::FrameType;

/// What the fuzz targets and benchmarks reach inside the crate. Not a stable API.
#[doc(hidden)]
pub mod internals {
    pub use crate::interrupt::checked;
}

/// docs/rust.md's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/rust.md")]
pub struct RustGuide;
