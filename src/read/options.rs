//! The options of a read as a plain value, as polars-io's `CsvReadOptions`: everything a
//! read is told besides its source and predicate.

use std::sync::Arc;

use polars_core::prelude::{DataType, IdxSize, PlSmallStr};

use super::scan_schema::ScanSchema;
use crate::schema::AvroSchema;
use crate::source::Source;

/// Rows per batch when the caller does not say.
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// Rows per batch under `low_memory` when the caller does not say.
pub const LOW_MEMORY_BATCH_SIZE: usize = 8_192;

/// Files opened at once ahead of the reader when the options do not say.
pub const DEFAULT_FILES_IN_FLIGHT: usize = 16;

/// Objects of a store opened at once when the options do not say, unless Polars' own
/// setting of its requests in flight to stores (`POLARS_CONCURRENCY_BUDGET`) says: at tens
/// of milliseconds a request, 64 hide the latency where 16 took 2.4-3.4x as long (issue
/// 71), and each holds no more than its first blocks.
pub const DEFAULT_OBJECTS_IN_FLIGHT: usize = 64;

/// The sizes a read was asked for, and the one rule that fills in the rest: what the
/// caller gave, else what `low_memory` implies (Polars' option of that name: smaller
/// batches and one file read ahead, less memory at some cost in speed), else the batch
/// size the query engine asks for, else the reader's defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sizes {
    /// The caller's rows per batch.
    pub batch_size: Option<usize>,
    /// The caller's files read ahead.
    pub files_in_flight: Option<usize>,
    /// Hold less at once.
    pub low_memory: bool,
}

impl Sizes {
    /// Rows per batch, where the engine running the query asks for `engine`'s.
    pub fn batch_size(&self, engine: Option<usize>) -> usize {
        let low_memory = self.low_memory.then_some(LOW_MEMORY_BATCH_SIZE);
        self.batch_size.or(low_memory).or(engine).unwrap_or(DEFAULT_BATCH_SIZE)
    }

    /// Files opened and read ahead at once, where the caller or `low_memory` says; None
    /// leaves it to the files read ([`default_files_in_flight`]).
    pub fn files_in_flight(&self) -> Option<usize> {
        self.files_in_flight.or(self.low_memory.then_some(1))
    }
}

/// Files opened and read ahead at once where nobody said, for a read of `sources`: more
/// where they are objects of a store, each a request's latency away.
pub fn default_files_in_flight<'a>(sources: impl IntoIterator<Item = &'a Source>) -> usize {
    match sources.into_iter().any(Source::is_remote) {
        true => polars_concurrency_budget().unwrap_or(DEFAULT_OBJECTS_IN_FLIGHT),
        false => DEFAULT_FILES_IN_FLIGHT,
    }
}

/// Polars' own bound on requests in flight to object stores, where the user set it.
fn polars_concurrency_budget() -> Option<usize> {
    std::env::var("POLARS_CONCURRENCY_BUDGET").ok()?.trim().parse().ok().filter(|&n| n > 0)
}

/// A column numbering the records (before any predicate, across files), placed first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIndex {
    /// The column's name.
    pub name: PlSmallStr,
    /// The number of the first record.
    pub offset: u64,
    /// The type of the column: the index type of the Polars the rows go to.
    pub index: IndexType,
}

impl RowIndex {
    /// A row index of this crate's own Polars index type.
    pub fn new(name: impl Into<PlSmallStr>, offset: u64) -> Self {
        Self { name: name.into(), offset, index: IndexType::default() }
    }
}

/// Polars' index type, in which it counts rows and numbers them: 32 bits, or 64 where
/// Polars is built for more rows (Python's `polars[rt64]`, `polars-u64-idx`). The Polars a
/// read's rows go to may not be the one this crate is built with, whose type is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexType {
    /// UInt32: Polars' default.
    U32,
    /// UInt64.
    U64,
}

impl Default for IndexType {
    fn default() -> Self {
        if IdxSize::MAX as u64 == u32::MAX as u64 {
            Self::U32
        } else {
            Self::U64
        }
    }
}

impl IndexType {
    /// The one of this many bits (32 or 64).
    pub fn of_bits(bits: u32) -> Option<Self> {
        match bits {
            32 => Some(Self::U32),
            64 => Some(Self::U64),
            _ => None,
        }
    }

    /// The largest index it holds.
    pub fn max(self) -> u64 {
        match self {
            Self::U32 => u32::MAX as u64,
            Self::U64 => u64::MAX,
        }
    }

    /// Its Polars dtype.
    pub fn dtype(self) -> DataType {
        match self {
            Self::U32 => DataType::UInt32,
            Self::U64 => DataType::UInt64,
        }
    }
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
    /// Hand out this many rows at most, counted after the predicate (and after the
    /// offset of `skip_rows`); reading stops once they are out.
    pub limit: Option<usize>,
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
    /// The schema a scan planned its files into, from their headers then (None: any file
    /// goes). Without a reader schema, a file that gives other columns changed since, and
    /// is refused rather than read into a plan it no longer has; a file whose header gives
    /// a writer schema the plan parsed is read with that one, not parsed again.
    pub planned: Option<Arc<ScanSchema>>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            columns: None,
            n_rows: None,
            limit: None,
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
            planned: None,
        }
    }
}

impl ReadOptions {
    /// Whether records are counted before any filter (by `n_rows`, or a row index): a
    /// file whose rows a filter rules out must then still be read to count them.
    pub fn counts_records_before_filter(&self) -> bool {
        self.n_rows.is_some() || self.row_index.is_some()
    }

    /// The most records to read: `n_rows`, and where every record read past the offset is
    /// a row handed out (`drops_rows` false: no predicate, no file ruled out), the offset
    /// plus `limit`.
    pub fn records_to_read(&self, drops_rows: bool) -> Option<usize> {
        let slice_end = self.limit.filter(|_| !drops_rows).map(|limit| limit.saturating_add(self.skip_rows));
        match (self.n_rows, slice_end) {
            (Some(n), Some(end)) => Some(n.min(end)),
            (n, end) => n.or(end),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::remote::{RemoteObject, RemoteReadAhead};

    #[test]
    fn sizes_are_the_callers_else_low_memorys_else_the_engines_else_the_defaults() {
        let default = Sizes::default();
        assert_eq!((default.batch_size(None), default.files_in_flight()), (DEFAULT_BATCH_SIZE, None));
        assert_eq!(default.batch_size(Some(1000)), 1000, "the engine's, where nobody else said");
        let low = Sizes { low_memory: true, ..Sizes::default() };
        assert_eq!((low.batch_size(Some(1000)), low.files_in_flight()), (LOW_MEMORY_BATCH_SIZE, Some(1)));
        let given = Sizes { batch_size: Some(500), files_in_flight: Some(4), low_memory: true };
        assert_eq!((given.batch_size(Some(1000)), given.files_in_flight()), (500, Some(4)));
    }

    #[test]
    fn objects_of_a_store_are_read_more_at_once_than_local_files() {
        let local = Source::from_path("a.avro");
        assert_eq!(default_files_in_flight([&local]), 16);
        let object = RemoteObject::in_memory("a.avro", b"");
        let remote = Source::Remote { object, read_ahead: RemoteReadAhead::default(), requests: None };
        let objects = polars_concurrency_budget().unwrap_or(DEFAULT_OBJECTS_IN_FLIGHT);
        assert_eq!(default_files_in_flight([&local, &remote]), objects, "Polars' budget, else 64");
    }

    #[test]
    fn a_limit_caps_the_records_read_only_where_no_filter_drops_rows() {
        let options = ReadOptions { limit: Some(10), skip_rows: 5, ..ReadOptions::default() };
        assert_eq!(options.records_to_read(false), Some(15), "the slice's end");
        assert_eq!(options.records_to_read(true), None, "a filter may drop any record");
        let capped = ReadOptions { n_rows: Some(12), ..options.clone() };
        assert_eq!((capped.records_to_read(false), capped.records_to_read(true)), (Some(12), Some(12)));
        let wide = ReadOptions { limit: Some(usize::MAX), ..options };
        assert_eq!(wide.records_to_read(false), Some(usize::MAX));
        assert_eq!(ReadOptions::default().records_to_read(false), None);
    }

    #[test]
    fn records_are_counted_before_the_filter_with_n_rows_or_a_row_index() {
        assert!(!ReadOptions::default().counts_records_before_filter());
        assert!(ReadOptions { n_rows: Some(1), ..ReadOptions::default() }.counts_records_before_filter());
        let indexed = ReadOptions { row_index: Some(RowIndex::new("i", 0)), ..ReadOptions::default() };
        assert!(indexed.counts_records_before_filter());
    }

    #[test]
    fn index_types_are_32_or_64_bits_wide() {
        for (bits, index, max, dtype) in [
            (32, IndexType::U32, u64::from(u32::MAX), DataType::UInt32),
            (64, IndexType::U64, u64::MAX, DataType::UInt64),
        ] {
            assert_eq!(IndexType::of_bits(bits), Some(index));
            assert_eq!((index.max(), index.dtype()), (max, dtype));
        }
        for bits in [0, 8, 16, 31, 128] {
            assert_eq!(IndexType::of_bits(bits), None, "{bits}");
        }
        // The default is the index type of the Polars this crate is built with.
        assert_eq!(IndexType::default().max(), IdxSize::MAX as u64);
        assert_eq!(IndexType::default().dtype(), polars_core::prelude::IDX_DTYPE);
        let row_index = RowIndex::new("i", 7);
        assert_eq!((row_index.name.as_str(), row_index.offset, row_index.index), ("i", 7, IndexType::default()));
    }
}
