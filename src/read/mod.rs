//! The polars-io-style reader: options, batching, parallel block decoding and late
//! materialization for predicates.

use std::sync::{Arc, LazyLock};

use polars::prelude::{
    AnyValue, BooleanChunked, Column as PlColumn, DataFrame, DataType, IdxCa, IdxSize, IntoColumn, IntoSeries,
    PlSmallStr, Scalar, Schema, Series,
};
use polars_arrow::bitmap::Bitmap;
use rayon::prelude::*;

pub use crate::source::Source;

use crate::container::{Codec, ContainerReader, Header};
use crate::decode::{decode_block, ArrayRef, RowPlan};
use crate::error::{AvroError, AvroResult};
use crate::schema::{parse_schema, AvroSchema};

/// Rows per batch when the caller does not say.
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// A predicate evaluated on a frame holding only the columns it needs; it returns one
/// boolean per row (null counts as false). Kept as a callback so that the user's own
/// Polars evaluates it (see the design guide: expressions do not cross Polars versions).
pub type PredicateFn = Arc<dyn Fn(DataFrame) -> AvroResult<BooleanChunked> + Send + Sync>;

#[derive(Clone)]
pub struct Predicate {
    /// The columns the predicate reads (file columns, the row index or the file path column).
    pub columns: Vec<String>,
    pub evaluate: PredicateFn,
}

/// Blocks are decoded on this pool, sized like Polars' own (POLARS_MAX_THREADS).
static POOL: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    let threads = std::env::var("POLARS_MAX_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("polars-avro-{i}"))
        .build()
        .expect("could not start the decoding threads")
});

/// Reads one Avro object container file into Polars.
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
    source: Source,
    columns: Option<Vec<String>>,
    n_rows: Option<usize>,
    batch_size: usize,
    row_index: Option<(PlSmallStr, IdxSize)>,
    file_path_column: Option<(PlSmallStr, String)>,
    predicate: Option<Predicate>,
}

impl AvroReader {
    pub fn new(source: Source) -> Self {
        Self {
            source,
            columns: None,
            n_rows: None,
            batch_size: DEFAULT_BATCH_SIZE,
            row_index: None,
            file_path_column: None,
            predicate: None,
        }
    }

    /// Only these columns, in this order (None: all).
    pub fn with_columns(mut self, columns: Option<Vec<String>>) -> Self {
        self.columns = columns;
        self
    }

    /// Stop after this many records of the file (before any predicate).
    pub fn with_n_rows(mut self, n_rows: Option<usize>) -> Self {
        self.n_rows = n_rows;
        self
    }

    /// Rows per batch: blocks are grouped until a batch holds at least this many rows.
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Adds a row index column (UInt32) counting the file's records from `offset`, placed first.
    pub fn with_row_index(mut self, row_index: Option<(PlSmallStr, IdxSize)>) -> Self {
        self.row_index = row_index;
        self
    }

    /// Adds a String column holding `path` on every row, placed last.
    pub fn with_file_path_column(mut self, column: Option<(PlSmallStr, String)>) -> Self {
        self.file_path_column = column;
        self
    }

    /// Keeps only the rows for which the predicate holds; its columns are decoded first,
    /// the other columns only for the rows that pass.
    pub fn with_predicate(mut self, predicate: Option<Predicate>) -> Self {
        self.predicate = predicate;
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
        let name = self.source.name().to_string();
        let (stream, total_len) = self.source.open()?;
        let container = ContainerReader::new(stream, total_len).map_err(|e| e.in_file(&name))?;
        let schema = Arc::new(parse_schema(&container.header.schema_json).map_err(|e| e.in_file(&name))?);
        let file_columns = file_column_names(&schema)?;
        let projection = match &self.columns {
            Some(columns) => columns.clone(),
            None => file_columns.clone(),
        };
        // Split the projection: the predicate's file columns are decoded for every row,
        // the rest only for rows that pass.
        let extra = |c: &String| {
            self.row_index.as_ref().is_some_and(|(n, _)| n.as_str() == c)
                || self.file_path_column.as_ref().is_some_and(|(n, _)| n.as_str() == c)
        };
        let (predicate_plan, rest_columns) = match &self.predicate {
            Some(p) => {
                let mut pcols: Vec<String> = Vec::new();
                for c in &p.columns {
                    if !extra(c) && !pcols.contains(c) {
                        pcols.push(c.clone());
                    }
                }
                let plan = RowPlan::new(&schema, Some(&pcols)).map_err(|e| e.in_file(&name))?;
                let rest: Vec<String> = projection.iter().filter(|c| !pcols.contains(c)).cloned().collect();
                (Some(plan), rest)
            },
            None => (None, projection.clone()),
        };
        let rest_plan = RowPlan::new(&schema, Some(&rest_columns)).map_err(|e| e.in_file(&name))?;
        let min_record_size = schema.min_encoded_size(schema.root);
        let row_offset = self.row_index.as_ref().map_or(0, |(_, o)| *o);
        Ok(BatchedReader {
            name,
            container,
            schema,
            projection,
            predicate_plan,
            rest_plan,
            predicate: self.predicate,
            row_index: self.row_index.map(|(n, _)| n),
            file_path_column: self.file_path_column,
            row_offset,
            rows_read: 0,
            rows_left: self.n_rows,
            batch_size: self.batch_size,
            min_record_size,
            buffers: Vec::new(),
            done: false,
        })
    }
}

/// The top-level column names of a file's schema.
pub fn file_column_names(schema: &AvroSchema) -> AvroResult<Vec<String>> {
    Ok(RowPlan::new(schema, None)?.names.iter().map(|n| n.to_string()).collect())
}

/// The Polars schema a file reads into, from its header alone.
pub fn polars_schema(schema: &AvroSchema) -> AvroResult<Schema> {
    let plan = RowPlan::new(schema, None)?;
    Ok(plan.dtypes().map(|(n, d)| (n.clone(), d.clone())).collect())
}

/// A block after decompression, ready to decode.
struct Block {
    index: usize,
    offset: u64,
    /// Records to decode: the block's count, or fewer when n_rows ends inside it.
    count: usize,
    whole: bool,
    data: Vec<u8>,
}

pub struct BatchedReader {
    name: String,
    container: ContainerReader<Box<dyn std::io::BufRead + Send + Sync>>,
    schema: Arc<AvroSchema>,
    projection: Vec<String>,
    predicate_plan: Option<RowPlan>,
    rest_plan: RowPlan,
    predicate: Option<Predicate>,
    row_index: Option<PlSmallStr>,
    file_path_column: Option<(PlSmallStr, String)>,
    row_offset: IdxSize,
    /// Records read from the file so far, before any predicate.
    rows_read: usize,
    rows_left: Option<usize>,
    batch_size: usize,
    min_record_size: usize,
    /// Decompression buffers kept for reuse across batches.
    buffers: Vec<Vec<u8>>,
    done: bool,
}

impl BatchedReader {
    pub fn header(&self) -> &Header {
        &self.container.header
    }

    pub fn avro_schema(&self) -> &AvroSchema {
        &self.schema
    }

    /// Records read from the file so far, counted before the predicate.
    pub fn rows_read(&self) -> usize {
        self.rows_read
    }

    /// The schema of the batches this reader yields.
    pub fn output_schema(&self) -> Schema {
        let mut schema = Schema::default();
        if let Some(name) = &self.row_index {
            schema.insert(name.clone(), DataType::IDX_DTYPE);
        }
        let plans = self.predicate_plan.iter().chain(std::iter::once(&self.rest_plan));
        let dtypes: Vec<(PlSmallStr, DataType)> =
            plans.flat_map(|p| p.dtypes().map(|(n, d)| (n.clone(), d.clone()))).collect();
        for name in &self.projection {
            if let Some((n, d)) = dtypes.iter().find(|(n, _)| n.as_str() == name) {
                schema.insert(n.clone(), d.clone());
            }
        }
        if let Some((name, _)) = &self.file_path_column {
            schema.insert(name.clone(), DataType::String);
        }
        schema
    }

    /// The next batch of rows, or None when the file (or n_rows) is exhausted.
    pub fn next_batch(&mut self) -> AvroResult<Option<DataFrame>> {
        loop {
            let Some(blocks) = self.next_blocks()? else { return Ok(None) };
            let rows: usize = blocks.iter().map(|b| b.count).sum();
            let first_row = self.row_offset;
            self.row_offset = self.row_offset.saturating_add(rows as IdxSize);
            self.rows_read += rows;
            let df = self.decode_batch(&blocks, first_row, rows);
            self.buffers.extend(blocks.into_iter().map(|b| b.data));
            let df = df?;
            // A predicate can reject a whole batch; empty batches are not worth yielding.
            if df.height() > 0 || self.predicate.is_none() {
                return Ok(Some(df));
            }
        }
    }

    fn decode_batch(&self, blocks: &[Block], first_row: IdxSize, rows: usize) -> AvroResult<DataFrame> {
        let Some(predicate) = &self.predicate else {
            let decoded = self.decode_blocks(blocks, &self.rest_plan, None)?;
            return self.assemble(rows, first_row, None, assemble_columns(&self.rest_plan, decoded), Vec::new());
        };
        let plan = self.predicate_plan.as_ref().expect("a predicate has a plan");
        let decoded = self.decode_blocks(blocks, plan, None)?;
        let predicate_frame = self.with_extra_columns(
            assemble_columns(plan, decoded),
            rows,
            first_row,
            predicate.columns.iter().map(String::as_str),
        )?;
        let mask = (predicate.evaluate)(predicate_frame.clone())
            .map_err(|e| e.in_file(&self.name))?;
        if mask.len() != rows {
            return Err(AvroError::argument(format!(
                "the predicate returned {} values for a batch of {rows} rows",
                mask.len()
            )));
        }
        let mask = mask_bitmap(&mask);
        let selected = rows - mask.unset_bits();
        // Split the mask along block boundaries and decode the rest of the columns for
        // the selected rows only.
        let mut selections = Vec::with_capacity(blocks.len());
        let mut start = 0;
        for b in blocks {
            selections.push(mask.clone().sliced(start, b.count));
            start += b.count;
        }
        let rest = self.decode_blocks(blocks, &self.rest_plan, Some(&selections))?;
        let mask_ca = BooleanChunked::from_bitmap(PlSmallStr::EMPTY, mask.clone());
        let filtered_predicate_columns: Vec<PlColumn> = predicate_frame.filter(&mask_ca)?.into_columns();
        let row_index = self
            .row_index
            .as_ref()
            .map(|name| row_index_column(name, first_row, rows).filter(&mask_ca))
            .transpose()?;
        self.assemble(selected, first_row, row_index, assemble_columns(&self.rest_plan, rest), filtered_predicate_columns)
    }

    /// Puts the output together in projection order, with the row index first and the
    /// file path column last.
    fn assemble(
        &self,
        height: usize,
        first_row: IdxSize,
        row_index: Option<Series>,
        decoded: Vec<PlColumn>,
        predicate_columns: Vec<PlColumn>,
    ) -> AvroResult<DataFrame> {
        let mut columns = Vec::with_capacity(self.projection.len() + 2);
        if let Some(name) = &self.row_index {
            let s = match row_index {
                Some(s) => s,
                None => row_index_column(name, first_row, height),
            };
            columns.push(s.into_column());
        }
        let mut pool: Vec<PlColumn> = decoded.into_iter().chain(predicate_columns).collect();
        for name in &self.projection {
            if let Some(pos) = pool.iter().position(|c| c.name().as_str() == name) {
                columns.push(pool.swap_remove(pos));
            }
        }
        if let Some((name, path)) = &self.file_path_column {
            columns.push(path_column(name, path, height));
        }
        Ok(DataFrame::new(height, columns)?)
    }

    /// Adds the row index and file path columns to a frame when `wanted` names them.
    fn with_extra_columns<'a>(
        &self,
        mut columns: Vec<PlColumn>,
        rows: usize,
        first_row: IdxSize,
        mut wanted: impl Iterator<Item = &'a str> + Clone,
    ) -> AvroResult<DataFrame> {
        if let Some(name) = &self.row_index {
            if wanted.clone().any(|w| w == name.as_str()) {
                columns.push(row_index_column(name, first_row, rows).into_column());
            }
        }
        if let Some((name, path)) = &self.file_path_column {
            if wanted.any(|w| w == name.as_str()) {
                columns.push(path_column(name, path, rows));
            }
        }
        Ok(DataFrame::new(rows, columns)?)
    }

    /// Reads and decompresses blocks until the batch holds `batch_size` rows.
    fn next_blocks(&mut self) -> AvroResult<Option<Vec<Block>>> {
        if self.done {
            return Ok(None);
        }
        let mut raw = Vec::new();
        let mut rows = 0usize;
        while rows < self.batch_size {
            if self.rows_left == Some(0) {
                break;
            }
            let Some(block) = self.container.next_block().map_err(|e| e.in_file(&self.name))? else {
                self.done = true;
                break;
            };
            let mut count = block.count;
            let mut whole = true;
            if let Some(left) = &mut self.rows_left {
                if count >= *left {
                    whole = count == *left;
                    count = *left;
                }
                *left -= count;
            }
            rows += count;
            raw.push((block, count, whole));
        }
        if raw.is_empty() {
            self.done = true;
            return Ok(None);
        }
        let codec = self.container.header.codec;
        let min_record_size = self.min_record_size;
        let mut buffers = std::mem::take(&mut self.buffers);
        let jobs: Vec<_> = raw.into_iter().map(|r| (r, buffers.pop().unwrap_or_default())).collect();
        self.buffers = buffers;
        let decompress = |((block, count, whole), mut buf): ((crate::container::RawBlock, usize, bool), Vec<u8>)| {
            codec
                .decompress(&block.data, &mut buf)
                .and_then(|()| check_record_count(block.count, buf.len(), min_record_size))
                .map_err(|e| e.in_file(&self.name).in_block(block.index).at_offset(block.offset))?;
            Ok(Block { index: block.index, offset: block.offset, count, whole, data: buf })
        };
        let blocks: AvroResult<Vec<Block>> = if jobs.len() == 1 || codec == Codec::Null {
            jobs.into_iter().map(decompress).collect()
        } else {
            POOL.install(|| jobs.into_par_iter().map(decompress).collect())
        };
        blocks.map(Some)
    }

    fn decode_blocks(&self, blocks: &[Block], plan: &RowPlan, selections: Option<&[Bitmap]>) -> AvroResult<Vec<Vec<ArrayRef>>> {
        let decode = |(i, b): (usize, &Block)| {
            let selection = selections.map(|s| &s[i]);
            decode_block(&self.schema, plan, &b.data, b.count, b.whole, selection)
                .map_err(|e| e.in_file(&self.name).in_block(b.index).at_offset(b.offset))
        };
        if blocks.len() == 1 {
            blocks.iter().enumerate().map(decode).collect()
        } else {
            POOL.install(|| blocks.par_iter().enumerate().map(decode).collect())
        }
    }
}

/// One Polars column per planned column, one chunk per block.
fn assemble_columns(plan: &RowPlan, decoded: Vec<Vec<ArrayRef>>) -> Vec<PlColumn> {
    let mut chunks: Vec<Vec<_>> = plan.columns.iter().map(|_| Vec::with_capacity(decoded.len())).collect();
    for block in decoded {
        for (i, array) in block.into_iter().enumerate() {
            chunks[i].push(array);
        }
    }
    plan.dtypes()
        .zip(chunks)
        .map(|((name, dtype), chunks)| {
            // SAFETY: the column builders produce the physical layout of their own dtype.
            let series = unsafe { Series::from_chunks_and_dtype_unchecked(name.clone(), chunks, dtype) };
            // Polars before 2.0 panics importing an Enum of several chunks (it cannot
            // concatenate the dictionary arrays it receives): hand those over in one chunk.
            let series = if dtype.contains_enums() && series.n_chunks() > 1 { series.rechunk() } else { series };
            series.into_column()
        })
        .collect()
}

fn row_index_column(name: &PlSmallStr, first_row: IdxSize, rows: usize) -> Series {
    let values: Vec<IdxSize> = (0..rows as IdxSize).map(|i| first_row + i).collect();
    IdxCa::from_vec(name.clone(), values).into_series()
}

fn path_column(name: &PlSmallStr, path: &str, rows: usize) -> PlColumn {
    let value = Scalar::new(DataType::String, AnyValue::StringOwned(path.into()));
    PlColumn::new_scalar(name.clone(), value, rows)
}

fn mask_bitmap(mask: &BooleanChunked) -> Bitmap {
    let mut bits = polars_arrow::bitmap::MutableBitmap::with_capacity(mask.len());
    for v in mask.iter() {
        bits.push(v == Some(true));
    }
    bits.into()
}

/// A block cannot hold more records than its bytes allow: a corrupt count is caught here,
/// before any buffer is sized by it.
fn check_record_count(count: usize, bytes: usize, min_record_size: usize) -> AvroResult<()> {
    if min_record_size > 0 && count > bytes / min_record_size {
        return Err(AvroError::format(format!(
            "block claims {count} records but its {bytes} decompressed bytes can hold at most {}",
            bytes / min_record_size
        )));
    }
    Ok(())
}
