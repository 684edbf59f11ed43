//! The polars-io-style reader: options, then batches read ahead and decoded in parallel
//! (pipeline), each with late materialization for predicates (batch).

mod batch;
mod options;
mod pipeline;
mod predicate;
mod skipped;
mod stats;

use std::io::BufRead;
use std::sync::Arc;

use polars::prelude::{DataFrame, DataType, PlSmallStr, Schema};

pub use crate::source::Source;
pub use crate::threads::default_threads;
pub use options::{FilePathColumn, ReadAhead, ReadOptions, RowIndex, DEFAULT_BATCH_SIZE};
pub use predicate::{Predicate, PredicateFn};
pub use skipped::SkippedData;
pub use stats::{ReadStats, StatValue};

use crate::container::{ContainerReader, Header};
use crate::decode::RowPlan;
use crate::error::AvroResult;
use crate::frame_type::FrameType;
use crate::schema::{parse_schema, AvroSchema};
use batch::BatchPlan;
use pipeline::Pipeline;

/// Reads one Avro object container file into Polars: a source, the options, and a
/// predicate.
///
/// ```no_run
/// use polars_avro::{AvroReader, Source};
/// let df = AvroReader::new(Source::from_path("events.avro"))
///     .with_columns(Some(vec!["id".into(), "name".into()]))
///     .with_n_rows(Some(1000))
///     .finish()
///     .unwrap();
/// ```
pub struct AvroReader {
    source: Source,
    options: ReadOptions,
    predicate: Option<Predicate>,
}

impl AvroReader {
    /// A reader of `source` with the default options: every column, every record.
    pub fn new(source: Source) -> Self {
        Self { source, options: ReadOptions::default(), predicate: None }
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

    /// Stop after this many records of the file (before any predicate).
    pub fn with_n_rows(mut self, n_rows: Option<usize>) -> Self {
        self.options.n_rows = n_rows;
        self
    }

    /// Rows per batch: blocks are grouped until a batch holds at least this many rows.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.options.batch_size = batch_size;
        self
    }

    /// Adds a row index column (IdxSize) counting the file's records from its offset, placed first.
    pub fn with_row_index(mut self, row_index: Option<RowIndex>) -> Self {
        self.options.row_index = row_index;
        self
    }

    /// Adds a String column holding a path on every row, placed last.
    pub fn with_file_path_column(mut self, column: Option<FilePathColumn>) -> Self {
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

    /// Opens the file and returns an iterator of batches.
    pub fn batched(self) -> AvroResult<BatchedReader> {
        let Self { source, options, predicate } = self;
        let name = source.name();
        let (container, schema) = open(source)?;
        let schema = Arc::new(schema);
        let plan = BatchPlan::new(name, schema.clone(), container.header.codec, &options, predicate)?;
        let output_schema = output_schema(&plan);
        let schema = options.reader_schema.clone().unwrap_or(schema);
        let pipeline = Pipeline::new(container, plan, &options)?;
        Ok(BatchedReader { schema, output_schema, pipeline })
    }
}

/// The header of a source and its parsed writer schema, reading nothing further.
pub fn read_header(source: Source) -> AvroResult<(Header, AvroSchema)> {
    let (container, schema) = open(source)?;
    Ok((container.header, schema))
}

/// The columns (name, type) the records of a schema read into, Avro maps marked as maps.
pub fn column_types(schema: &AvroSchema) -> AvroResult<Vec<(String, FrameType)>> {
    let plan = RowPlan::new(schema, None, None)?;
    Ok(plan.columns().map(|(name, read)| (name.to_string(), read.frame_type())).collect())
}

/// Opens a source and reads its header and writer schema.
fn open(source: Source) -> AvroResult<(ContainerReader<Box<dyn BufRead + Send + Sync>>, AvroSchema)> {
    let name = source.name();
    let (stream, total_len) = source.open()?;
    let container = ContainerReader::new(stream, total_len).map_err(|e| e.in_file(&name))?;
    let schema = parse_schema(&container.header.schema_json).map_err(|e| e.in_file(&name))?;
    Ok((container, schema))
}

/// The schema of the batches a plan yields.
fn output_schema(plan: &BatchPlan) -> Schema {
    let mut schema = Schema::default();
    if let Some(row_index) = &plan.row_index {
        schema.insert(row_index.name.clone(), DataType::IDX_DTYPE);
    }
    let plans = plan.predicate_plan.iter().chain(std::iter::once(&plan.rest_plan));
    let dtypes: Vec<(PlSmallStr, DataType)> =
        plans.flat_map(|p| p.dtypes().map(|(n, d)| (n.clone(), d.clone()))).collect();
    for name in &plan.projection {
        if let Some((n, d)) = dtypes.iter().find(|(n, _)| n.as_str() == name) {
            schema.insert(n.clone(), d.clone());
        }
    }
    if let Some(column) = &plan.file_path_column {
        schema.insert(column.name.clone(), DataType::String);
    }
    schema
}

/// An open file yielding batches in file order.
pub struct BatchedReader {
    /// The schema the batches follow: the reader schema when one was given, else the file's.
    schema: Arc<AvroSchema>,
    output_schema: Schema,
    pipeline: Pipeline,
}

impl BatchedReader {
    /// The file's header.
    pub fn header(&self) -> &Header {
        self.pipeline.header()
    }

    /// The schema the columns follow: the reader schema when one was given, else the file's.
    pub fn avro_schema(&self) -> &AvroSchema {
        &self.schema
    }

    /// Records of the batches handed out so far, counted before the predicate.
    pub fn rows_read(&self) -> usize {
        self.pipeline.stats().rows
    }

    /// What the read has done so far.
    pub fn stats(&self) -> &ReadStats {
        self.pipeline.stats()
    }

    /// The schema of the batches this reader yields.
    pub fn output_schema(&self) -> Schema {
        self.output_schema.clone()
    }

    /// The next batch of rows, or None when the file (or n_rows) is exhausted.
    pub fn next_batch(&mut self) -> AvroResult<Option<DataFrame>> {
        self.pipeline.next_batch()
    }

    /// What a read with `ignore_errors` has left out since the last call, in file order.
    pub fn take_skipped(&mut self) -> Vec<SkippedData> {
        self.pipeline.take_skipped()
    }
}
