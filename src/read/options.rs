//! The options of a read as a plain value, as polars-io's `CsvReadOptions`: everything a
//! read is told besides its source and predicate.

use std::sync::Arc;

use polars_core::prelude::{DataType, IdxSize, PlSmallStr};

use crate::frame_type::FrameType;
use crate::schema::AvroSchema;

/// Rows per batch when the caller does not say.
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// A column numbering the records (before any predicate, across files), placed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIndex {
    /// The column's name.
    pub name: PlSmallStr,
    /// The number of the first record.
    pub offset: IdxSize,
}

/// How the files of a read are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Only these columns, in this order (None: all): the files' columns, the row index,
    /// the partition columns and the file path column may be named in any order.
    pub columns: Option<Vec<String>>,
    /// Stop after this many records, counted across files (before any predicate); no
    /// file is opened once they are read.
    pub n_rows: Option<usize>,
    /// Leave out this many records at the start, counted across files (a slice's offset):
    /// blocks wholly before it are not decompressed or decoded. They still count towards
    /// `n_rows` and the row index. Not with a predicate.
    pub skip_rows: usize,
    /// Rows per batch: blocks are grouped until a batch holds at least this many.
    pub batch_size: usize,
    /// A first column numbering the records.
    pub row_index: Option<RowIndex>,
    /// A last column of this name holding each record's file path (the source's name).
    pub file_path_column: Option<PlSmallStr>,
    /// Columns whose value is the same for every record of a file (hive partitions),
    /// after the files' own columns; each file gives its values ([`ScanFile`]). A file
    /// column of the same name is not decoded: the partition value takes its place.
    ///
    /// [`ScanFile`]: super::ScanFile
    pub partition_columns: Vec<(PlSmallStr, DataType)>,
    /// Files opened and read ahead at once, beyond the one being read (None: 16). The
    /// headers of small files arrive while earlier ones decode; objects in a store are
    /// requested this many at a time.
    pub files_in_flight: Option<usize>,
    /// Decoding threads (None: Polars' own count).
    pub n_threads: Option<usize>,
    /// How far ahead of the consumer blocks are read (None: [`ReadAhead::local`]).
    pub read_ahead: Option<ReadAhead>,
    /// Read the records into this schema's shape (schema resolution).
    pub reader_schema: Option<Arc<AvroSchema>>,
    /// Leave damaged blocks out instead of failing, and report them.
    pub ignore_errors: bool,
    /// The columns a scan planned its files to give, from their headers then (None: any):
    /// a file read with its own schema that gives others changed since, and is refused
    /// rather than read into a plan it no longer has. Not with a reader schema, which
    /// every file is resolved into.
    pub planned_columns: Option<Vec<(String, FrameType)>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            columns: None,
            n_rows: None,
            skip_rows: 0,
            batch_size: DEFAULT_BATCH_SIZE,
            row_index: None,
            file_path_column: None,
            partition_columns: Vec::new(),
            files_in_flight: None,
            n_threads: None,
            read_ahead: None,
            reader_schema: None,
            ignore_errors: false,
            planned_columns: None,
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
    /// on one, and a few MiB of compressed bytes per thread. A projection of wide records
    /// keeps little of what it reads, so these bytes, not its columns, would bound its
    /// memory if more were allowed.
    pub fn local(threads: usize) -> Self {
        Self { max_batches: 2 * threads.max(1), max_bytes: threads.max(1) * (8 << 20) }
    }
}
