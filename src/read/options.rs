//! The options of a read as a plain value, as polars-io's `CsvReadOptions`: everything a
//! read is told besides its source and predicate.

use std::sync::Arc;

use polars::prelude::{IdxSize, PlSmallStr};

use crate::schema::AvroSchema;

/// Rows per batch when the caller does not say.
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// A column numbering the file's records (before any predicate), placed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIndex {
    /// The column's name.
    pub name: PlSmallStr,
    /// The number of the file's first record.
    pub offset: IdxSize,
}

/// A String column holding the file's path on every row, placed last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePathColumn {
    /// The column's name.
    pub name: PlSmallStr,
    /// The value on every row.
    pub path: String,
}

/// How one file is read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Only these columns, in this order (None: all).
    pub columns: Option<Vec<String>>,
    /// Stop after this many records of the file (before any predicate).
    pub n_rows: Option<usize>,
    /// Rows per batch: blocks are grouped until a batch holds at least this many.
    pub batch_size: usize,
    /// A first column numbering the records.
    pub row_index: Option<RowIndex>,
    /// A last column holding the file's path.
    pub file_path_column: Option<FilePathColumn>,
    /// Decoding threads (None: Polars' own count).
    pub n_threads: Option<usize>,
    /// How far ahead of the consumer blocks are read (None: [`ReadAhead::local`]).
    pub read_ahead: Option<ReadAhead>,
    /// Read the records into this schema's shape (schema resolution).
    pub reader_schema: Option<Arc<AvroSchema>>,
    /// Leave damaged blocks out instead of failing, and report them.
    pub ignore_errors: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            columns: None,
            n_rows: None,
            batch_size: DEFAULT_BATCH_SIZE,
            row_index: None,
            file_path_column: None,
            n_threads: None,
            read_ahead: None,
            reader_schema: None,
            ignore_errors: false,
        }
    }
}

/// How far ahead of the consumer the reader may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadAhead {
    /// Batches read and not yet handed out (decoding or decoded).
    pub max_batches: usize,
    /// Compressed bytes of those batches. One batch is always allowed, however large.
    pub max_bytes: usize,
}

impl ReadAhead {
    /// For local files: enough batches to keep every thread busy while the consumer works
    /// on one, and compressed bytes well below what a file can decode into.
    pub fn local(threads: usize) -> Self {
        Self { max_batches: 2 * threads.max(1), max_bytes: 256 << 20 }
    }
}
