//! polars-avro: Apache Avro object container files read straight into Polars.
//!
//! Data flows one way: [`source`] (bytes, from disk or an object store) -> [`container`] (blocks) -> [`decode`]
//! (columns) -> [`read`] (batches, pushdown) -> `python` (DataFrames for Python).
//! Writing runs the other way: [`write`] encodes frames into blocks for [`container`].

mod bufread;
pub mod container;
pub mod decode;
pub mod error;
pub mod read;
pub mod schema;
pub mod source;
pub mod threads;
pub mod varint;
pub mod write;

#[cfg(feature = "python")]
mod python;

pub use error::{AvroError, AvroResult, ErrorKind};
pub use read::{AvroReader, BatchedReader, Predicate, Source};
pub use write::{AvroWriter, WriteOptions};
