//! The polars-io-style reader: options, then the files opened ahead (files), their
//! batches read ahead and decoded in parallel (pipeline), each with late materialization
//! for predicates (batch).

mod batch;
mod files;
mod known;
mod options;
pub mod partitions;
mod parts;
mod pipeline;
mod predicate;
mod rows;
mod scan_filter;
mod scan_plan;
mod scan_schema;
mod skipped;
mod splits;
mod stats;

use std::sync::Arc;

use polars_core::prelude::{DataFrame, DataType, PlSmallStr, Schema};

pub use crate::source::Source;
pub use crate::threads::default_threads;
pub(crate) use files::open_container;
pub use files::{read_schemas, ScanFile, SchemasRead, SplitPart};
pub use options::{
    default_files_in_flight, IndexType, ReadAhead, ReadOptions, RowIndex, Sizes, DEFAULT_BATCH_SIZE,
    DEFAULT_FILES_IN_FLIGHT, LOW_MEMORY_BATCH_SIZE,
};
pub use predicate::{Predicate, PredicateFn};
pub use scan_filter::{FilesKept, ScanFilter};
pub use scan_plan::{ColumnKind, ColumnSelection, ScanPlan};
pub use scan_schema::{parse_reader_schema, ExtraColumns, FromFirst, MissingColumns, ScanSchema};
pub use skipped::SkippedData;
pub use splits::{plan_splits, read_file_facts, FileFacts};
pub use stats::{ReadStats, StatValue};

use crate::container::Header;
pub use crate::decode::{column_types, MAX_DECIMAL_PRECISION};
use crate::error::{AvroError, AvroResult, ErrorKind};
use crate::schema::{parse_schema, AvroSchema};
use pipeline::Pipeline;

/// Reads Avro object container files into Polars, one after the other as one frame: the
/// files, the options, and a predicate.
///
/// ```no_run
/// use polars_avro::read::{AvroReader, Source};
/// let df = AvroReader::new(Source::from_path("events.avro"))
///     .with_columns(Some(vec!["id".into(), "name".into()]))
///     .with_n_rows(Some(1000))
///     .finish()
///     .unwrap();
/// ```
pub struct AvroReader {
    files: Vec<ScanFile>,
    options: ReadOptions,
    predicate: Option<Predicate>,
}

impl AvroReader {
    /// A reader of `source` with the default options: every column, every record.
    pub fn new(source: Source) -> Self {
        Self::from_files(vec![source.into()])
    }

    /// A reader of several files, read in this order as one frame. Files that share a
    /// writer schema share one decoding plan; files of other writer schemas must read into
    /// the same columns (give a reader schema that they all resolve into).
    pub fn from_files(files: Vec<ScanFile>) -> Self {
        Self { files, options: ReadOptions::default(), predicate: None }
    }

    /// All options at once.
    pub fn with_options(mut self, options: ReadOptions) -> Self {
        self.options = options;
        self
    }

    /// Skips damaged blocks instead of failing: a block whose framing is broken (the
    /// reader then searches for the next sync marker), or that fails to decompress or
    /// decode, is left out whole; [`BatchedReader::take_skipped`] says what was left out.
    pub fn with_ignore_errors(mut self, ignore_errors: bool) -> Self {
        self.options.ignore_errors = ignore_errors;
        self
    }

    /// Reads the file's records into the shape of this Avro schema (schema resolution:
    /// fields by name and alias, defaults, promotions, enum symbols by name); the columns
    /// and `with_columns` are then the reader schema's.
    pub fn with_reader_schema(mut self, schema: Option<Arc<AvroSchema>>) -> Self {
        self.options.reader_schema = schema;
        self
    }

    /// Only these columns, in this order (None: all).
    pub fn with_columns(mut self, columns: Option<Vec<String>>) -> Self {
        self.options.columns = columns;
        self
    }

    /// Stop after this many records (before any predicate).
    pub fn with_n_rows(mut self, n_rows: Option<usize>) -> Self {
        self.options.n_rows = n_rows;
        self
    }

    /// Rows per batch: blocks are grouped until a batch holds at least this many rows.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.options.batch_size = batch_size;
        self
    }

    /// Adds a row index column counting the file's records from its offset, placed first.
    pub fn with_row_index(mut self, row_index: Option<RowIndex>) -> Self {
        self.options.row_index = row_index;
        self
    }

    /// Adds a String column of this name holding each record's file (its path or URL, `in-mem`
    /// for bytes and streams, as Polars' readers give them), placed last.
    pub fn with_file_path_column(mut self, column: Option<PlSmallStr>) -> Self {
        self.options.file_path_column = column;
        self
    }

    /// Keeps only the rows for which the predicate holds; its columns are decoded first,
    /// the other columns only for the rows that pass.
    pub fn with_predicate(mut self, predicate: Option<Predicate>) -> Self {
        self.predicate = predicate;
        self
    }

    /// Decoding threads (None: [`default_threads`], Polars' own count). With one thread
    /// everything happens on the calling thread, with no read-ahead.
    pub fn with_n_threads(mut self, threads: Option<usize>) -> Self {
        self.options.n_threads = threads;
        self
    }

    /// How far ahead of the consumer blocks are read (None: [`ReadAhead::local`]).
    pub fn with_read_ahead(mut self, read_ahead: Option<ReadAhead>) -> Self {
        self.options.read_ahead = read_ahead;
        self
    }

    /// Reads everything into one DataFrame.
    pub fn finish(self) -> AvroResult<DataFrame> {
        let mut batches = self.batched()?;
        let mut out: Option<DataFrame> = None;
        while let Some(batch) = batches.next_batch()? {
            match &mut out {
                None => out = Some(batch),
                Some(df) => {
                    df.vstack_mut_owned(batch)?;
                },
            }
        }
        match out {
            Some(df) => Ok(df),
            None => Ok(DataFrame::empty_with_schema(&batches.output_schema())),
        }
    }

    /// An iterator of batches; files are opened as it goes.
    pub fn batched(self) -> AvroResult<BatchedReader> {
        let Self { files, options, predicate } = self;
        let extras = extra_columns(&options);
        Ok(BatchedReader { pipeline: Pipeline::new(files, options, predicate)?, extras })
    }
}

/// The columns of a read that come from no file (row index, partitions, file path): the
/// whole schema of a read that opened no file.
fn extra_columns(options: &ReadOptions) -> Schema {
    let mut schema = Schema::default();
    if let Some(row_index) = &options.row_index {
        schema.insert(row_index.name.clone(), row_index.index.dtype());
    }
    for (name, dtype) in &options.partition_columns {
        schema.insert(name.clone(), dtype.clone());
    }
    if let Some(name) = &options.file_path_column {
        schema.insert(name.clone(), DataType::String);
    }
    schema
}

/// The header of a source and its parsed writer schema, reading nothing further.
pub fn read_header(source: Source) -> AvroResult<(Header, AvroSchema)> {
    let (container, name) = files::open_container(source)?;
    let schema = parse_schema(&container.header.schema_json).map_err(|e| e.in_file(&name))?;
    Ok((container.header, schema))
}

/// Files being read, yielding batches in file order.
pub struct BatchedReader {
    /// The columns no file gives, for a read that opened no file.
    extras: Schema,
    pipeline: Pipeline,
}

impl BatchedReader {
    /// Records of the batches handed out so far, counted before the predicate.
    pub fn rows_read(&self) -> usize {
        self.pipeline.stats().rows
    }

    /// What the read has done so far.
    pub fn stats(&self) -> ReadStats {
        self.pipeline.stats()
    }

    /// The schema of the batches this reader yields (known once a file is open; before,
    /// only the columns that come from no file).
    pub fn output_schema(&self) -> Schema {
        self.pipeline.any_plan().map_or_else(|| self.extras.clone(), |plan| plan.output_schema())
    }

    /// The next batch of rows, or None when the files (or n_rows) are exhausted.
    pub fn next_batch(&mut self) -> AvroResult<Option<DataFrame>> {
        self.pipeline.next_batch()
    }

    /// What a read with `ignore_errors` has left out since the last call, in file order.
    pub fn take_skipped(&mut self) -> Vec<SkippedData> {
        self.pipeline.take_skipped()
    }

    /// An allocation refused while batches were joined, noticed when the call ended (it
    /// names no file), in the file the read is in; other errors as they are.
    pub fn locate_here(&self, e: AvroError) -> AvroError {
        if e.kind != ErrorKind::OutOfMemory || e.file.is_some() {
            return e;
        }
        self.pipeline.locate_here(e)
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::*;

    use super::*;
    use crate::container::{Codec, ContainerWriter};
    use crate::error::ErrorKind;

    const SCHEMA: &str = r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}, {"name": "b", "type": "string"}]}"#;

    /// A file of `blocks` blocks of ten records: `a` counting from 0, `b` empty.
    fn file(blocks: i64) -> Vec<u8> {
        let mut writer = ContainerWriter::new(Vec::new(), SCHEMA, Codec::Null, &[]).unwrap();
        for block in 0..blocks {
            let mut data = Vec::new();
            for a in block * 10..(block + 1) * 10 {
                crate::varint::put_long(&mut data, a);
                data.push(0);
            }
            writer.write_block(10, &data).unwrap();
        }
        writer.finish().unwrap()
    }

    fn names(schema: &Schema) -> Vec<&str> {
        schema.iter_names().map(|n| n.as_str()).collect()
    }

    #[test]
    fn the_columns_of_no_file_are_the_row_index_then_partitions_then_the_path() {
        let options = ReadOptions {
            row_index: Some(RowIndex { name: "i".into(), offset: 0, index: IndexType::U64 }),
            partition_columns: vec![("year".into(), DataType::Int32), ("day".into(), DataType::String)],
            file_path_column: Some("path".into()),
            ..ReadOptions::default()
        };
        let schema = extra_columns(&options);
        assert_eq!(names(&schema), ["i", "year", "day", "path"]);
        let dtypes: Vec<&DataType> = schema.iter_values().collect();
        assert_eq!(dtypes, [&DataType::UInt64, &DataType::Int32, &DataType::String, &DataType::String]);
        assert!(extra_columns(&ReadOptions::default()).is_empty());
    }

    #[test]
    fn a_read_of_no_rows_gives_an_empty_frame_of_its_columns() {
        let empty =
            AvroReader::new(Source::from_bytes(file(0))).with_row_index(Some(RowIndex::new("i", 0))).finish().unwrap();
        assert_eq!((empty.height(), names(empty.schema())), (0, vec!["i", "a", "b"]));
        let none = AvroReader::from_files(vec![]).with_file_path_column(Some("path".into())).finish().unwrap();
        assert_eq!((none.height(), names(none.schema())), (0, vec!["path"]));
    }

    #[test]
    fn the_readers_options_shape_the_frame() {
        let df = AvroReader::new(Source::from_bytes(file(3)))
            // The extra columns are named among the files' own, in any order.
            .with_columns(Some(vec!["b".into(), "i".into(), "a".into(), "path".into()]))
            .with_n_rows(Some(25))
            .with_batch_size(10)
            .with_row_index(Some(RowIndex::new("i", 100)))
            .with_file_path_column(Some("path".into()))
            .with_n_threads(Some(1))
            .finish()
            .unwrap();
        assert_eq!(names(df.schema()), ["b", "i", "a", "path"]);
        let a: Vec<i64> = df.column("a").unwrap().i64().unwrap().into_no_null_iter().collect();
        assert_eq!(a, (0..25).collect::<Vec<_>>());
        let i = df.column("i").unwrap().cast(&DataType::UInt64).unwrap();
        assert_eq!(i.u64().unwrap().into_no_null_iter().collect::<Vec<_>>(), (100..125).collect::<Vec<_>>());
        // Bytes have no path: Polars' readers give them `in-mem`.
        assert_eq!(df.column("path").unwrap().str().unwrap().get(24), Some("in-mem"));
    }

    #[test]
    fn a_header_is_read_alone_and_damage_names_the_source() {
        let (header, schema) = read_header(Source::from_bytes(file(2))).unwrap();
        assert_eq!((header.schema_json.as_str(), header.codec), (SCHEMA, Codec::Null));
        assert_eq!(crate::decode::column_names(&schema), ["a", "b"]);
        let error = read_header(Source::from_bytes(b"not avro".to_vec())).unwrap_err();
        assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::Format, Some("<bytes>")));
    }
}
