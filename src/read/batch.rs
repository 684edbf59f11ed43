//! Turning a run of raw blocks into one output batch: decompress, decode, apply the
//! predicate with late materialization, and assemble the columns in projection order.
//! Everything here runs on a decoding thread; the plan is shared by all of them.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polars::prelude::{
    AnyValue, BooleanChunked, Column as PlColumn, DataFrame, DataType, IdxCa, IdxSize, IntoColumn, IntoSeries,
    PlSmallStr, Scalar, Series,
};
use polars_arrow::bitmap::{Bitmap, MutableBitmap};

use super::options::{FilePathColumn, ReadOptions, RowIndex};
use super::predicate::Predicate;
use super::skipped::SkippedData;
use crate::container::{Codec, RawBlock};
use crate::decode::{column_names, ArrayRef, BlockDecoder, RowPlan};
use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;

/// Compressed bytes rarely hold more records than this each; reserving beyond it waits
/// for the data to confirm the count.
const MAX_PLAUSIBLE_RECORDS_PER_BYTE: usize = 64;

/// Consecutive blocks that become one batch.
pub(super) struct RawBatch {
    pub blocks: Vec<RawBlock>,
    /// Records to decode from the last block: fewer than its count when n_rows ends inside it.
    pub last_block_rows: usize,
    /// Records in the batch, before any predicate.
    pub rows: usize,
    /// Row index of the batch's first record.
    pub first_row: IdxSize,
}

impl RawBatch {
    /// Compressed bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.data.len()).sum()
    }

    fn rows_of(&self, i: usize) -> usize {
        if i + 1 == self.blocks.len() {
            self.last_block_rows
        } else {
            self.blocks[i].count
        }
    }
}

/// A decoded batch and what it cost.
pub(super) struct DecodedBatch {
    pub frame: AvroResult<DataFrame>,
    /// Records before the predicate.
    pub rows: usize,
    pub decompress: Duration,
    pub decode: Duration,
    /// Blocks left out (with `ignore_errors`).
    pub skipped: Vec<SkippedData>,
}

impl DecodedBatch {
    pub fn failed(error: AvroError) -> Self {
        Self { frame: Err(error), rows: 0, decompress: Duration::ZERO, decode: Duration::ZERO, skipped: Vec::new() }
    }
}

/// Everything a decoding thread needs to turn raw blocks into a batch: immutable once
/// built and shared by the threads, beside the scratch they share.
pub(super) struct BatchPlan {
    pub name: String,
    pub schema: Arc<AvroSchema>,
    pub codec: Codec,
    pub min_record_size: usize,
    /// Output column names of the file, in the order asked for.
    pub projection: Vec<String>,
    /// The predicate's file columns (decoded for every row) and the rest (decoded for the
    /// rows that pass); without a predicate, `rest_plan` holds the whole projection.
    pub predicate_plan: Option<RowPlan>,
    pub rest_plan: RowPlan,
    pub predicate: Option<Predicate>,
    pub row_index: Option<RowIndex>,
    pub file_path_column: Option<FilePathColumn>,
    /// Leave damaged blocks out instead of failing.
    pub ignore_errors: bool,
    pub scratch: Scratch,
}

/// What batches hand on to the next ones: reused buffers and sizing hints.
#[derive(Default)]
pub(super) struct Scratch {
    /// Decompression buffers returned by finished batches, for the next ones.
    buffers: Mutex<Vec<Vec<u8>>>,
    /// Rows and nested column sizes of the last batch decoded without a predicate.
    nested_sizes: Mutex<Option<(usize, Vec<usize>)>>,
}

impl Scratch {
    fn take_buffer(&self) -> Vec<u8> {
        self.buffers.lock().map(|mut b| b.pop()).ok().flatten().unwrap_or_default()
    }

    fn return_buffer(&self, buffer: Vec<u8>) {
        if buffer.capacity() > 0 {
            if let Ok(mut buffers) = self.buffers.lock() {
                buffers.push(buffer);
            }
        }
    }
}

/// Time spent in each stage of one batch.
#[derive(Default)]
struct Timing {
    decompress: Duration,
    decode: Duration,
}

impl Timing {
    fn time<T>(slot: &mut Duration, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        *slot += start.elapsed();
        out
    }
}

impl BatchPlan {
    /// The plan of a file of writer schema `schema`, read with `options`.
    pub fn new(
        name: String,
        schema: Arc<AvroSchema>,
        codec: Codec,
        options: &ReadOptions,
        predicate: Option<Predicate>,
    ) -> AvroResult<Self> {
        let reader_schema = options.reader_schema.as_deref();
        let plan_of =
            |columns: &[String]| RowPlan::new(&schema, reader_schema, Some(columns)).map_err(|e| e.in_file(&name));
        let projection = match &options.columns {
            Some(columns) => columns.clone(),
            None => column_names(reader_schema.unwrap_or(&schema)),
        };
        // The predicate's file columns are decoded for every row, the rest only for the
        // rows that pass.
        let added = |c: &String| {
            options.row_index.as_ref().is_some_and(|r| r.name.as_str() == c)
                || options.file_path_column.as_ref().is_some_and(|f| f.name.as_str() == c)
        };
        let (predicate_plan, rest_columns) = match &predicate {
            Some(p) => {
                let mut own: Vec<String> = Vec::new();
                for c in &p.columns {
                    if !added(c) && !own.contains(c) {
                        own.push(c.clone());
                    }
                }
                let rest = projection.iter().filter(|c| !own.contains(c)).cloned().collect::<Vec<_>>();
                (Some(plan_of(&own)?), rest)
            },
            None => (None, projection.clone()),
        };
        let rest_plan = plan_of(&rest_columns)?;
        Ok(Self {
            name,
            codec,
            min_record_size: schema.min_encoded_size(schema.root),
            schema,
            projection,
            predicate_plan,
            rest_plan,
            predicate,
            row_index: options.row_index.clone(),
            file_path_column: options.file_path_column.clone(),
            ignore_errors: options.ignore_errors,
            scratch: Scratch::default(),
        })
    }

    pub fn decode(&self, batch: RawBatch) -> DecodedBatch {
        let mut timing = Timing::default();
        let frame = self.decode_with(&batch, &mut timing);
        if self.ignore_errors && frame.as_ref().is_err_and(|e| e.is_damage()) {
            return self.decode_block_by_block(batch, timing);
        }
        DecodedBatch {
            frame,
            rows: batch.rows,
            decompress: timing.decompress,
            decode: timing.decode,
            skipped: Vec::new(),
        }
    }

    fn decode_with(&self, batch: &RawBatch, timing: &mut Timing) -> AvroResult<DataFrame> {
        match &self.predicate {
            None => self.decode_all(batch, timing),
            Some(predicate) => self.decode_filtered(batch, predicate, timing),
        }
    }

    /// A batch that failed, again one block at a time: the blocks that decode are kept
    /// (with their row index), the others are left out whole and reported.
    fn decode_block_by_block(&self, batch: RawBatch, mut timing: Timing) -> DecodedBatch {
        let (mut frames, mut skipped) = (Vec::new(), Vec::new());
        let mut first_row = batch.first_row;
        let last = batch.blocks.len().saturating_sub(1);
        let last_block_rows = batch.last_block_rows;
        for (i, block) in batch.blocks.into_iter().enumerate() {
            let rows = if i == last { last_block_rows } else { block.count };
            let single = RawBatch { blocks: vec![block], last_block_rows: rows, rows, first_row };
            match self.decode_with(&single, &mut timing) {
                Ok(df) => frames.push(df),
                Err(error) if error.is_damage() => skipped.push(SkippedData { error, records: Some(rows) }),
                // Not the data's fault (the predicate failed, say): the read fails.
                Err(error) => return DecodedBatch { rows: batch.rows, ..DecodedBatch::failed(error) },
            }
            first_row = first_row.saturating_add(rows as IdxSize);
        }
        let lost: usize = skipped.iter().filter_map(|s| s.records).sum();
        let rows = batch.rows - lost;
        let mut frames = frames.into_iter();
        let frame = match frames.next() {
            // Every block failed: an empty frame of the batch's columns.
            None => {
                self.decode_with(&RawBatch { blocks: Vec::new(), last_block_rows: 0, rows: 0, first_row }, &mut timing)
            },
            Some(first) => frames.try_fold(first, |mut df, next| {
                df.vstack_mut_owned(next)?;
                Ok(df)
            }),
        };
        DecodedBatch { frame, rows, decompress: timing.decompress, decode: timing.decode, skipped }
    }

    /// No predicate: one buffer is reused for every block of the batch.
    fn decode_all(&self, batch: &RawBatch, timing: &mut Timing) -> AvroResult<DataFrame> {
        let mut decoder = BlockDecoder::new(&self.schema, &self.rest_plan, self.min_record_size);
        // The record counts are not checked against the data yet: a count beyond what any
        // codec's bytes could plausibly hold reserves no more than that.
        let rows = batch.rows.min(batch.bytes().saturating_mul(MAX_PLAUSIBLE_RECORDS_PER_BYTE));
        decoder.reserve(rows);
        // Nested columns are sized like the last batch's, per row.
        if let Some((hint_rows, lens)) = self.scratch.nested_sizes.lock().ok().and_then(|h| h.clone()) {
            decoder.reserve_nested(&lens, rows as f64 / hint_rows.max(1) as f64);
        }
        let mut buffer = self.scratch.take_buffer();
        let mut result = Ok(());
        for (i, block) in batch.blocks.iter().enumerate() {
            let rows = batch.rows_of(i);
            result = self
                .decompress(block, &mut buffer, timing)
                .and_then(|data| {
                    Timing::time(&mut timing.decode, || decoder.decode_block(data, rows, rows == block.count, None))
                })
                .map_err(|e| self.locate(e, block));
            if result.is_err() {
                break;
            }
        }
        self.scratch.return_buffer(buffer);
        result?;
        let lens = decoder.nested_lens();
        if !lens.is_empty() {
            if let Ok(mut hint) = self.scratch.nested_sizes.lock() {
                *hint = Some((batch.rows, lens));
            }
        }
        let columns = Timing::time(&mut timing.decode, || decoder.finish())?;
        self.assemble(batch.rows, batch.first_row, None, assemble_columns(&self.rest_plan, columns), Vec::new())
    }

    /// A predicate: its columns are decoded for every record, the rest only for the
    /// records that pass, so every block's bytes are kept until the mask is known.
    fn decode_filtered(&self, batch: &RawBatch, predicate: &Predicate, timing: &mut Timing) -> AvroResult<DataFrame> {
        let mut buffers: Vec<Vec<u8>> = Vec::with_capacity(batch.blocks.len());
        let result = self.decode_filtered_with(batch, predicate, timing, &mut buffers);
        buffers.into_iter().for_each(|b| self.scratch.return_buffer(b));
        result
    }

    fn decode_filtered_with(
        &self,
        batch: &RawBatch,
        predicate: &Predicate,
        timing: &mut Timing,
        buffers: &mut Vec<Vec<u8>>,
    ) -> AvroResult<DataFrame> {
        let plan = self.predicate_plan.as_ref().expect("a predicate has a plan");
        let (rows, first_row) = (batch.rows, batch.first_row);
        let mut decoder = BlockDecoder::new(&self.schema, plan, self.min_record_size);
        // Where each record starts, per block: the second pass jumps to the selected ones.
        let mut starts: Vec<Vec<usize>> = Vec::with_capacity(batch.blocks.len());
        for (i, block) in batch.blocks.iter().enumerate() {
            let mut buffer = self.scratch.take_buffer();
            let mut block_starts = Vec::new();
            let result = self.decompress(block, &mut buffer, timing).and_then(|data| {
                let n = batch.rows_of(i);
                Timing::time(&mut timing.decode, || {
                    decoder.decode_block(data, n, n == block.count, Some(&mut block_starts))
                })
            });
            buffers.push(buffer);
            starts.push(block_starts);
            result.map_err(|e| self.locate(e, block))?;
        }
        let predicate_frame = self.with_extra_columns(
            assemble_columns(plan, decoder.finish()?),
            rows,
            first_row,
            predicate.columns.iter().map(String::as_str),
        )?;
        let mask = (predicate.evaluate)(predicate_frame.clone()).map_err(|e| e.in_file(&self.name))?;
        if mask.len() != rows {
            return Err(AvroError::argument(format!(
                "the predicate returned {} values for a batch of {rows} rows",
                mask.len()
            )));
        }
        let mask = mask_bitmap(&mask);
        let selected = rows - mask.unset_bits();
        // Decode the other columns for the selected records only, block by block.
        let mut decoder = BlockDecoder::new(&self.schema, &self.rest_plan, self.min_record_size);
        let mut start = 0;
        for (i, ((block, buffer), starts)) in batch.blocks.iter().zip(buffers.iter()).zip(&starts).enumerate() {
            let data: &[u8] = if self.codec == Codec::Null { &block.data } else { buffer };
            let n = batch.rows_of(i);
            let selection = mask.clone().sliced(start, n);
            start += n;
            if self.rest_plan.is_empty() || selection.set_bits() == 0 {
                continue;
            }
            Timing::time(&mut timing.decode, || decoder.decode_selected(data, starts, &selection))
                .map_err(|e| self.locate(e, block))?;
        }
        let rest = assemble_columns(&self.rest_plan, decoder.finish()?);
        let mask_ca = BooleanChunked::from_bitmap(PlSmallStr::EMPTY, mask);
        let filtered_predicate_columns: Vec<PlColumn> = predicate_frame.filter(&mask_ca)?.into_columns();
        let row_index = filtered_predicate_columns
            .iter()
            .find(|c| self.row_index.as_ref().is_some_and(|r| r.name == *c.name()))
            .map(|c| c.as_materialized_series().clone());
        self.assemble(selected, first_row, row_index, rest, filtered_predicate_columns)
    }

    /// The block's decompressed bytes.
    fn decompress<'b>(
        &self,
        block: &'b RawBlock,
        buffer: &'b mut Vec<u8>,
        timing: &mut Timing,
    ) -> AvroResult<&'b [u8]> {
        let data: &[u8] = match self.codec {
            // Nothing to undo: decode the block's own bytes.
            Codec::Null => &block.data,
            codec => {
                Timing::time(&mut timing.decompress, || codec.decompress(&block.data, buffer))?;
                buffer
            },
        };
        Ok(data)
    }

    fn locate(&self, e: AvroError, block: &RawBlock) -> AvroError {
        e.in_file(&self.name).in_block(block.index).at_offset(block.offset)
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
        if let Some(index) = &self.row_index {
            let s = match row_index {
                Some(s) => s,
                None => row_index_column(&index.name, first_row, height),
            };
            columns.push(s.into_column());
        }
        let mut pool: Vec<PlColumn> = decoded.into_iter().chain(predicate_columns).collect();
        for name in &self.projection {
            if let Some(pos) = pool.iter().position(|c| c.name().as_str() == name) {
                columns.push(pool.swap_remove(pos));
            }
        }
        if let Some(column) = &self.file_path_column {
            columns.push(path_column(&column.name, &column.path, height));
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
        if let Some(index) = &self.row_index {
            if wanted.clone().any(|w| w == index.name.as_str()) {
                columns.push(row_index_column(&index.name, first_row, rows).into_column());
            }
        }
        if let Some(column) = &self.file_path_column {
            if wanted.any(|w| w == column.name.as_str()) {
                columns.push(path_column(&column.name, &column.path, rows));
            }
        }
        Ok(DataFrame::new(rows, columns)?)
    }
}

/// One Polars column per planned column.
fn assemble_columns(plan: &RowPlan, arrays: Vec<ArrayRef>) -> Vec<PlColumn> {
    plan.dtypes()
        .zip(arrays)
        .map(|((name, dtype), array)| {
            // SAFETY: the column builders produce the physical layout of their own dtype.
            unsafe { Series::from_chunks_and_dtype_unchecked(name.clone(), vec![array], dtype) }.into_column()
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
    let mut bits = MutableBitmap::with_capacity(mask.len());
    for v in mask.iter() {
        bits.push(v == Some(true));
    }
    bits.into()
}
