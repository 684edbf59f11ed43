//! Turning a run of raw blocks into one output batch: decompress, decode, apply the
//! predicate with late materialization, and assemble the columns in projection order.
//! Everything here runs on a decoding thread; the plan, one per writer schema, is shared
//! by all of them. A batch may hold blocks of several files that share a schema.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use polars_core::prelude::{
    AnyValue, BooleanChunked, Column as PlColumn, DataFrame, DataType, IntoColumn, NewChunkedArray, PlSmallStr, Scalar,
    Schema, Series, UInt32Chunked, UInt64Chunked,
};

use super::options::{IndexType, ReadOptions, RowIndex};
use super::predicate::Predicate;
use super::scan_plan::scan_columns;
use super::skipped::SkippedData;
use crate::container::{Codec, RawBlock, MAX_BLOCK_LEN};
use crate::decode::{check_record_count, column_names, ArrayRef, BlockDecoder, PartStart, RowPlan};
use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;
use crate::source::check_intact;

/// Compressed bytes rarely hold more records than this each; reserving beyond it waits
/// for the data to confirm the count.
const MAX_PLAUSIBLE_RECORDS_PER_BYTE: usize = 64;

/// What the decoding threads know of the file a block came from.
#[derive(Clone)]
pub(super) struct FileInfo {
    /// Its position in the read.
    pub index: usize,
    pub name: String,
    /// Its value in the path column.
    pub path: String,
    pub codec: Codec,
    pub partition_values: Vec<AnyValue<'static>>,
    /// Not opened: its blocks stand for a record count an earlier read walked (and checked).
    pub remembered: bool,
    /// Where the split read from this file begins, when not at its first block: block
    /// indices count from there.
    pub split_start: Option<u64>,
}

impl FileInfo {
    /// Names this file (and the split) in an error of one of its blocks.
    pub fn locate(&self, e: AvroError) -> AvroError {
        e.in_file(&self.name).in_split(self.split_start)
    }
}

/// A block of a batch, and where its records belong.
pub(super) struct BatchBlock {
    pub block: RawBlock,
    /// Records to decode: fewer than its count when n_rows ends inside it.
    pub rows: usize,
    /// Of those, records at its start left out of the output (a slice's offset ends in
    /// it). Only the first block of a batch has any.
    pub skip: usize,
    /// Row index of its first record.
    pub first_row: u64,
    /// The file it came from.
    pub file: Arc<FileInfo>,
    /// Where its bytes begin in the file's block: a part of a block read in parts
    /// (`super::parts`) begins past its start.
    pub part: PartStart,
}

/// Consecutive blocks, of one or more files sharing a writer schema, that become one batch.
pub(super) struct RawBatch {
    pub blocks: Vec<BatchBlock>,
    /// Records in the batch, before any predicate.
    pub rows: usize,
}

impl RawBatch {
    /// Compressed bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.iter().map(|b| b.block.data.len()).sum()
    }
}

/// A decoded batch and what it cost.
pub(super) struct DecodedBatch {
    pub frame: AvroResult<DataFrame>,
    /// Records before the predicate.
    pub rows: usize,
    pub decompress: Duration,
    pub decode: Duration,
    /// Calls of the predicate's callback.
    pub callbacks: usize,
    /// Blocks left out (with `ignore_errors`), with the index of their file in the read.
    pub skipped: Vec<(usize, SkippedData)>,
}

impl DecodedBatch {
    pub fn failed(error: AvroError) -> Self {
        Self::of(Err(error))
    }

    /// A batch of `frame` that cost nothing yet.
    pub fn of(frame: AvroResult<DataFrame>) -> Self {
        Self { frame, rows: 0, decompress: Duration::ZERO, decode: Duration::ZERO, callbacks: 0, skipped: Vec::new() }
    }
}

/// Everything a decoding thread needs to turn raw blocks of one writer schema into a
/// batch: immutable once built and shared by the threads, beside the scratch they share.
pub(super) struct BatchPlan {
    pub schema: Arc<AvroSchema>,
    pub min_record_size: usize,
    /// Output column names, in the order asked for: decoded ones and [`Extra`] ones.
    pub projection: Vec<String>,
    /// The predicate's file columns (decoded for every row) and the rest (decoded for the
    /// rows that pass); without a predicate, `rest_plan` holds the whole projection.
    pub predicate_plan: Option<RowPlan>,
    pub rest_plan: RowPlan,
    /// A read of no column with `ignore_errors` (a count) decodes every column all the
    /// same, and drops them: it counts the records a read of the file gives.
    pub validate_plan: Option<RowPlan>,
    pub predicate: Option<Predicate>,
    pub row_index: Option<RowIndex>,
    pub file_path_column: Option<PlSmallStr>,
    pub partition_columns: Vec<(PlSmallStr, DataType)>,
    /// Whether any column needs the blocks' data: else only their record counts are read.
    pub needs_data: bool,
    /// Leave damaged blocks out instead of failing.
    pub ignore_errors: bool,
    pub scratch: Scratch,
}

/// What batches hand on to the next ones: reused buffers and sizing hints.
#[derive(Default)]
pub(super) struct Scratch {
    /// Decompression buffers returned by finished batches, for the next ones.
    buffers: Reused<u8>,
    /// Where each record of a batch starts, kept for a predicate's second pass.
    starts: Reused<usize>,
    /// Rows and builder sizes (`BlockDecoder::sizes`) of the last batch decoded without a
    /// predicate.
    sizes: Mutex<Option<(usize, Vec<usize>)>>,
}

/// Vectors that finished batches return and the next ones take: memory already touched,
/// where a fresh allocation is zeroed or faulted in page by page.
pub(super) struct Reused<T>(Mutex<Vec<Vec<T>>>);

impl<T> Default for Reused<T> {
    fn default() -> Self {
        Self(Mutex::new(Vec::new()))
    }
}

impl<T> Reused<T> {
    /// A vector from the pool as it was returned (its contents are the taker's to replace).
    fn take(&self) -> Vec<T> {
        self.0.lock().map(|mut b| b.pop()).ok().flatten().unwrap_or_default()
    }

    fn give_back(&self, vector: Vec<T>) {
        if vector.capacity() > 0 {
            if let Ok(mut pool) = self.0.lock() {
                pool.push(vector);
            }
        }
    }
}

/// Time spent in each stage of one batch, and the predicate callbacks it made.
#[derive(Default)]
struct Timing {
    decompress: Duration,
    decode: Duration,
    /// Calls of the predicate's callback (Polars, in Python): 0 where the reader's filter
    /// decided alone.
    callbacks: usize,
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
    /// The plan of files of writer schema `schema`, resolved into `reader_schema` if any,
    /// read with `options`.
    pub fn new(
        schema: Arc<AvroSchema>,
        reader_schema: Option<&AvroSchema>,
        options: &ReadOptions,
        predicate: Option<Predicate>,
    ) -> AvroResult<Self> {
        let plan_of = |columns: &[String]| RowPlan::new(&schema, reader_schema, Some(columns));
        let is_extra = |c: &str| {
            options.row_index.as_ref().is_some_and(|r| r.name == c)
                || options.file_path_column.as_ref().is_some_and(|f| f == c)
                || options.partition_columns.iter().any(|(p, _)| p == c)
        };
        let projection = match &options.columns {
            Some(columns) => columns.clone(),
            None => {
                let file_columns = column_names(reader_schema.unwrap_or(&schema));
                let partitions: Vec<String> = options.partition_columns.iter().map(|(p, _)| p.to_string()).collect();
                scan_columns(
                    options.row_index.as_ref().map(|r| r.name.as_str()),
                    file_columns.iter().map(String::as_str),
                    &partitions,
                    options.file_path_column.as_deref(),
                )
                .into_iter()
                .map(|(name, _)| name)
                .collect()
            },
        };
        // The predicate's file columns are decoded for every row, the rest only for the
        // rows that pass.
        let decoded = |columns: &mut dyn Iterator<Item = &String>| {
            let mut seen = HashSet::new();
            columns.filter(|c| !is_extra(c) && seen.insert(*c)).cloned().collect::<Vec<String>>()
        };
        let (predicate_plan, rest_columns) = match &predicate {
            Some(p) => {
                let own = decoded(&mut p.columns.iter());
                let rest = decoded(&mut projection.iter().filter(|c| !own.contains(c)));
                (Some(plan_of(&own)?), rest)
            },
            None => (None, decoded(&mut projection.iter())),
        };
        let rest_plan = plan_of(&rest_columns)?;
        let validate_plan = match options.ignore_errors && predicate.is_none() && rest_plan.is_empty() {
            true => Some(RowPlan::new(&schema, reader_schema, None)?),
            false => None,
        };
        Ok(Self {
            min_record_size: schema.min_encoded_size(schema.root),
            schema,
            needs_data: predicate.is_some() || !rest_plan.is_empty() || options.ignore_errors,
            projection,
            predicate_plan,
            rest_plan,
            validate_plan,
            predicate,
            row_index: options.row_index.clone(),
            file_path_column: options.file_path_column.clone(),
            partition_columns: options.partition_columns.clone(),
            ignore_errors: options.ignore_errors,
            scratch: Scratch::default(),
        })
    }

    /// The schema of the batches: every column of the projection with its type.
    pub fn output_schema(&self) -> Schema {
        let plans = self.predicate_plan.iter().chain(std::iter::once(&self.rest_plan));
        let decoded: HashMap<&str, &DataType> = plans.flat_map(|p| p.dtypes()).map(|(n, d)| (n.as_str(), d)).collect();
        let mut schema = Schema::default();
        for name in &self.projection {
            let extra = self.extra_dtype(name);
            let dtype = extra.or_else(|| decoded.get(name.as_str()).map(|d| (*d).clone()));
            if let Some(dtype) = dtype {
                schema.insert(name.as_str().into(), dtype);
            }
        }
        schema
    }

    /// The type of a column that is not decoded (row index, partition, file path).
    fn extra_dtype(&self, name: &str) -> Option<DataType> {
        if let Some(index) = self.row_index.as_ref().filter(|r| r.name == name) {
            return Some(index.index.dtype());
        }
        if let Some((_, dtype)) = self.partition_columns.iter().find(|(p, _)| p == name) {
            return Some(dtype.clone());
        }
        self.file_path_column.as_ref().filter(|f| *f == name).map(|_| DataType::String)
    }

    pub fn decode(&self, batch: RawBatch) -> DecodedBatch {
        let mut timing = Timing::default();
        let frame = self.decode_with(&batch, &mut timing);
        if let Some(error) = batch.blocks.iter().find_map(|b| cut_while_decoded(b, frame.is_err())) {
            return DecodedBatch { rows: batch.rows, ..DecodedBatch::failed(error) };
        }
        if self.ignore_errors && frame.as_ref().is_err_and(|e| e.is_damage()) {
            return self.decode_block_by_block(batch, timing);
        }
        DecodedBatch {
            frame,
            rows: batch.rows,
            decompress: timing.decompress,
            decode: timing.decode,
            callbacks: timing.callbacks,
            skipped: Vec::new(),
        }
    }

    fn decode_with(&self, batch: &RawBatch, timing: &mut Timing) -> AvroResult<DataFrame> {
        let df = match &self.predicate {
            None => self.decode_all(batch, timing),
            Some(predicate) => self.decode_filtered(batch, predicate, timing),
        }?;
        Ok(match batch.blocks.first().map_or(0, |b| b.skip) {
            0 => df,
            skip => df.slice(skip as i64, usize::MAX),
        })
    }

    /// A batch that failed, again one block at a time: the blocks that decode are kept
    /// (with their row index), the others are left out whole and reported.
    fn decode_block_by_block(&self, batch: RawBatch, mut timing: Timing) -> DecodedBatch {
        let (mut frames, mut skipped) = (Vec::new(), Vec::new());
        for block in batch.blocks {
            let (rows, file) = (block.rows, block.file.index);
            let single = RawBatch { blocks: vec![block], rows };
            match self.decode_with(&single, &mut timing) {
                Ok(df) => frames.push(df),
                Err(error) if error.is_damage() => skipped.push((file, SkippedData { error, records: Some(rows) })),
                // Not the data's fault (the predicate failed, say): the read fails.
                Err(error) => return DecodedBatch { rows: batch.rows, ..DecodedBatch::failed(error) },
            }
        }
        let lost: usize = skipped.iter().filter_map(|(_, s)| s.records).sum();
        let rows = batch.rows - lost;
        let mut frames = frames.into_iter();
        let frame = match frames.next() {
            // Every block failed: an empty frame of the batch's columns.
            None => self.empty_frame(),
            Some(first) => frames.try_fold(first, |mut df, next| {
                df.vstack_mut_owned(next)?;
                Ok(df)
            }),
        };
        DecodedBatch {
            frame,
            rows,
            decompress: timing.decompress,
            decode: timing.decode,
            callbacks: timing.callbacks,
            skipped,
        }
    }

    /// A batch of no rows, with the batch's columns.
    pub fn empty_frame(&self) -> AvroResult<DataFrame> {
        self.decode_with(&RawBatch { blocks: Vec::new(), rows: 0 }, &mut Timing::default())
    }

    /// No predicate: one buffer is reused for every block of the batch.
    fn decode_all(&self, batch: &RawBatch, timing: &mut Timing) -> AvroResult<DataFrame> {
        let mut decoded = Vec::new();
        let plan = match self.rest_plan.is_empty() {
            true => self.validate_plan.as_ref(),
            false => Some(&self.rest_plan),
        };
        if let Some(plan) = plan {
            let mut decoder = BlockDecoder::new(&self.schema, plan, self.min_record_size);
            // The record counts are not checked against the data yet: a count beyond what any
            // codec's bytes could plausibly hold reserves no more than that.
            let rows = batch.rows.min(batch.bytes().saturating_mul(MAX_PLAUSIBLE_RECORDS_PER_BYTE));
            decoder.reserve(rows);
            // Nested columns and text are sized like the last batch's, per row.
            if let Some((hint_rows, sizes)) = self.scratch.sizes.lock().ok().and_then(|h| h.clone()) {
                decoder.reserve_sizes(&sizes, rows as f64 / hint_rows.max(1) as f64);
            }
            let mut buffer = self.scratch.buffers.take();
            let mut result = Ok(());
            for b in &batch.blocks {
                result = decompress(b, &mut buffer, timing)
                    .and_then(|data| {
                        Timing::time(&mut timing.decode, || {
                            decoder.decode_block(data, b.rows, b.rows == b.block.count, None, b.part)
                        })
                    })
                    .map_err(|e| locate(e, b));
                if result.is_err() {
                    break;
                }
            }
            self.scratch.buffers.give_back(buffer);
            result?;
            let sizes = decoder.sizes();
            if !sizes.is_empty() {
                if let Ok(mut hint) = self.scratch.sizes.lock() {
                    *hint = Some((batch.rows, sizes));
                }
            }
            let arrays = Timing::time(&mut timing.decode, || decoder.finish())?;
            if !self.rest_plan.is_empty() {
                decoded = assemble_columns(&self.rest_plan, arrays);
            }
        } else {
            // Only counted: the data was not read, so each count is checked against the
            // most its block's bytes could decompress to.
            for b in batch.blocks.iter().filter(|b| !b.file.remembered) {
                let most = if b.file.codec == Codec::Null { b.block.size } else { MAX_BLOCK_LEN };
                check_record_count(b.block.count, most, self.min_record_size).map_err(|e| locate(e, b))?;
            }
        }
        decoded.extend(self.extra_columns(&batch.blocks, |_| true));
        self.assemble(batch.rows, decoded)
    }

    /// A predicate: its columns are decoded for every record, the rest only for the
    /// records that pass, a group of blocks at a time ([`filter_groups`]): a group's
    /// blocks are decompressed, its predicate columns decoded and the predicate evaluated,
    /// then the rest decoded for the group's records that pass, while its bytes are in the
    /// cache.
    fn decode_filtered(&self, batch: &RawBatch, predicate: &Predicate, timing: &mut Timing) -> AvroResult<DataFrame> {
        let mut buffers: Vec<Vec<u8>> = Vec::new();
        let mut starts = self.scratch.starts.take();
        let result = self.decode_filtered_with(batch, predicate, timing, &mut buffers, &mut starts);
        buffers.into_iter().for_each(|b| self.scratch.buffers.give_back(b));
        self.scratch.starts.give_back(starts);
        result
    }

    fn decode_filtered_with(
        &self,
        batch: &RawBatch,
        predicate: &Predicate,
        timing: &mut Timing,
        buffers: &mut Vec<Vec<u8>>,
        starts: &mut Vec<usize>,
    ) -> AvroResult<DataFrame> {
        let plan = self.predicate_plan.as_ref().expect("a predicate has a plan");
        let wanted = |name: &str| predicate.columns.iter().any(|c| c == name);
        // The other columns of every group go to one decoder: one chunk each.
        let mut rest = BlockDecoder::new(&self.schema, &self.rest_plan, self.min_record_size);
        let mut kept: Option<DataFrame> = None;
        let mut selected = 0;
        for group in filter_groups(&batch.blocks, predicate.calls_back()) {
            let rows: usize = group.iter().map(|b| b.rows).sum();
            let mut decoder = BlockDecoder::new(&self.schema, plan, self.min_record_size);
            // Where each record starts in its block, block after block: the second pass
            // jumps to the selected ones.
            starts.clear();
            starts.reserve(rows);
            for (i, b) in group.iter().enumerate() {
                if buffers.len() == i {
                    buffers.push(self.scratch.buffers.take());
                }
                let result = decompress(b, &mut buffers[i], timing).and_then(|data| {
                    Timing::time(&mut timing.decode, || {
                        decoder.decode_block(data, b.rows, b.rows == b.block.count, Some(&mut *starts), b.part)
                    })
                });
                result.map_err(|e| locate(e, b))?;
            }
            let mut predicate_columns = assemble_columns(plan, decoder.finish()?);
            predicate_columns.extend(self.extra_columns(group, wanted));
            let predicate_frame = DataFrame::new(rows, predicate_columns)?;
            let first_file = group.first().map_or("", |b| b.file.name.as_str());
            let (mask, called_back) = predicate.mask(&predicate_frame).map_err(|e| e.in_file(first_file))?;
            timing.callbacks += usize::from(called_back);
            selected += rows - mask.unset_bits();
            // Decode the other columns for the selected records only, block by block.
            let mut start = 0;
            for (b, buffer) in group.iter().zip(buffers.iter()) {
                let data: &[u8] = if b.file.codec == Codec::Null { &b.block.data } else { buffer };
                let selection = mask.clone().sliced(start, b.rows);
                let block_starts = &starts[start..start + b.rows];
                start += b.rows;
                if self.rest_plan.is_empty() || selection.set_bits() == 0 {
                    continue;
                }
                Timing::time(&mut timing.decode, || rest.decode_selected(data, block_starts, &selection, b.part))
                    .map_err(|e| locate(e, b))?;
            }
            let mask_ca = BooleanChunked::from_bitmap(PlSmallStr::EMPTY, mask);
            // On this thread: `DataFrame::filter` hands the columns to polars-core's own pool,
            // threads beside the decoding pool's that the batch waited for (a filtered read of
            // 1M records took 10 ms more CPU on two threads than on one, 42 ms against 38).
            let mut passed = predicate_frame.filter_seq(&mask_ca)?;
            let others = DataFrame::new(rows, self.extra_columns(group, |name| !wanted(name)))?;
            passed.hstack_mut(&others.filter_seq(&mask_ca)?.into_columns())?;
            match &mut kept {
                None => kept = Some(passed),
                Some(kept) => {
                    kept.vstack_mut_owned(passed)?;
                },
            }
        }
        let mut columns = assemble_columns(&self.rest_plan, rest.finish()?);
        if let Some(mut kept) = kept {
            kept.rechunk_mut();
            columns.extend(kept.into_columns());
        }
        self.assemble(selected, columns)
    }

    /// The columns that are not decoded (row index, partition values, file path) for
    /// every record of the batch, those `wanted` by name.
    fn extra_columns(&self, blocks: &[BatchBlock], wanted: impl Fn(&str) -> bool) -> Vec<PlColumn> {
        let mut columns = Vec::new();
        if let Some(index) = self.row_index.as_ref().filter(|r| wanted(&r.name)) {
            columns.push(row_index_column(index, blocks));
        }
        for (i, (name, dtype)) in self.partition_columns.iter().enumerate() {
            if wanted(name) {
                columns.push(per_file_column(name, dtype, blocks, |file| file.partition_values[i].clone()));
            }
        }
        if let Some(name) = self.file_path_column.as_ref().filter(|f| wanted(f)) {
            let path = |file: &FileInfo| AnyValue::StringOwned(file.path.as_str().into());
            columns.push(per_file_column(name, &DataType::String, blocks, path));
        }
        columns
    }

    /// Puts the output together in projection order.
    fn assemble(&self, height: usize, columns: Vec<PlColumn>) -> AvroResult<DataFrame> {
        let in_order = columns.len() == self.projection.len()
            && columns.iter().zip(&self.projection).all(|(column, name)| column.name().as_str() == name.as_str());
        if in_order {
            // The usual case: decoded in the order asked for.
            return Ok(DataFrame::new(height, columns)?);
        }
        // Places, not columns, go through the map: a column is a large value to move, and
        // a wide read moves tens of thousands.
        let order: Vec<usize> = {
            let place: HashMap<&str, usize> = columns.iter().enumerate().map(|(i, c)| (c.name().as_str(), i)).collect();
            self.projection.iter().filter_map(|name| place.get(name.as_str()).copied()).collect()
        };
        let mut columns: Vec<Option<PlColumn>> = columns.into_iter().map(Some).collect();
        let ordered = order.into_iter().filter_map(|i| columns[i].take()).collect();
        Ok(DataFrame::new(height, ordered)?)
    }
}

/// The block's decompressed bytes.
fn decompress<'b>(b: &'b BatchBlock, buffer: &'b mut Vec<u8>, timing: &mut Timing) -> AvroResult<&'b [u8]> {
    let data: &[u8] = match b.file.codec {
        // Nothing to undo: decode the block's own bytes.
        Codec::Null => &b.block.data,
        codec => {
            Timing::time(&mut timing.decompress, || codec.decompress(&b.block.data, buffer))?;
            buffer
        },
    };
    Ok(data)
}

/// The error of a block whose data came from a mapped file cut shorter while it was
/// decoded: what it gave may be zeros, not the file's records, nor damage to skip. After
/// its decoding `failed`, the file's length is checked too.
pub(super) fn cut_while_decoded(b: &BatchBlock, failed: bool) -> Option<AvroError> {
    let cut = check_intact(&b.block.data, failed).err()?;
    Some(locate(AvroError::io(cut, "reading the file failed"), b))
}

pub(super) fn locate(e: AvroError, b: &BatchBlock) -> AvroError {
    b.file.locate(e).in_block(b.block.index).at_offset(b.block.offset)
}

/// Compressed bytes of the blocks a filtered batch decompresses and keeps at once: their
/// bytes stay in the cache from the predicate's columns to the others' (a whole batch's
/// did not: a filtered read of 1M snappy records on two threads took 3,300 more page
/// faults, and its decompression a third longer).
const FILTER_GROUP_BYTES: usize = 128 << 10;

/// The groups of consecutive blocks a filtered batch is decoded in, each one block at
/// least, and one for a batch of no block. Blocks of the null codec are not decompressed
/// and a predicate that calls back into Python is called once a batch: those stay whole.
fn filter_groups(blocks: &[BatchBlock], whole: bool) -> Vec<&[BatchBlock]> {
    let mut groups = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, b) in blocks.iter().enumerate() {
        if !whole && b.file.codec != Codec::Null && i > start && bytes + b.block.data.len() > FILTER_GROUP_BYTES {
            groups.push(&blocks[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += b.block.data.len();
    }
    groups.push(&blocks[start..]);
    groups
}

/// A column holding one value per file: a constant when the batch holds one file, else
/// one run of the value per file.
fn per_file_column(
    name: &PlSmallStr,
    dtype: &DataType,
    blocks: &[BatchBlock],
    value: impl Fn(&FileInfo) -> AnyValue<'static>,
) -> PlColumn {
    let scalar = |file: &FileInfo| Scalar::new(dtype.clone(), value(file));
    let mut runs: Vec<(&Arc<FileInfo>, usize)> = Vec::new();
    for b in blocks {
        match runs.last_mut() {
            Some((file, rows)) if Arc::ptr_eq(file, &b.file) => *rows += b.rows,
            _ => runs.push((&b.file, b.rows)),
        }
    }
    match runs.as_slice() {
        [] => PlColumn::new_scalar(name.clone(), Scalar::null(dtype.clone()), 0),
        [(file, rows)] => PlColumn::new_scalar(name.clone(), scalar(file), *rows),
        _ => {
            let mut out = Series::new_empty(name.clone(), dtype);
            for (file, rows) in runs {
                let run = PlColumn::new_scalar(name.clone(), scalar(file), rows);
                // Same name and type: appending cannot fail.
                let _ = out.append_owned(run.as_materialized_series().clone());
            }
            out.rechunk().into_column()
        },
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

/// The row index of every record of a batch (its records' places before any filter), in
/// the index type the rows go to: each block numbers its records from its first row.
fn row_index_column(index: &RowIndex, blocks: &[BatchBlock]) -> PlColumn {
    let rows = blocks.iter().flat_map(|b| (0..b.rows as u64).map(move |i| b.first_row + i));
    match index.index {
        // Every row fits: the reader refuses a row index past the type's largest value.
        IndexType::U32 => UInt32Chunked::from_iter_values(index.name.clone(), rows.map(|r| r as u32)).into_column(),
        IndexType::U64 => UInt64Chunked::from_iter_values(index.name.clone(), rows).into_column(),
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{BooleanChunked, ChunkFull};
    use serde_json::json;

    use super::*;
    use crate::schema::parse_schema;

    fn abc() -> Arc<AvroSchema> {
        let schema = json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int"}, {"name": "b", "type": "string"}, {"name": "c", "type": "double"}]});
        Arc::new(parse_schema(&schema.to_string()).unwrap())
    }

    fn predicate_on(columns: &[&str]) -> Predicate {
        Predicate::of_callback(
            columns.iter().map(|c| c.to_string()).collect(),
            Arc::new(|df: DataFrame| Ok(BooleanChunked::full("".into(), true, df.height()))),
        )
    }

    fn columns(names: &[&str]) -> Option<Vec<String>> {
        Some(names.iter().map(|c| c.to_string()).collect())
    }

    fn names(plan: &RowPlan) -> Vec<&str> {
        plan.names.iter().map(|n| n.as_str()).collect()
    }

    fn output(plan: &BatchPlan) -> Vec<(String, DataType)> {
        plan.output_schema().iter().map(|(n, d)| (n.to_string(), d.clone())).collect()
    }

    fn with_extras() -> ReadOptions {
        ReadOptions {
            row_index: Some(RowIndex::new("idx", 0)),
            file_path_column: Some("path".into()),
            partition_columns: vec![("year".into(), DataType::Int32), ("b".into(), DataType::Int64)],
            ..ReadOptions::default()
        }
    }

    fn blocks(codec: Codec, sizes: &[usize]) -> Vec<BatchBlock> {
        let file = Arc::new(FileInfo {
            index: 0,
            name: "a.avro".into(),
            path: "a.avro".into(),
            codec,
            partition_values: Vec::new(),
            remembered: false,
            split_start: None,
        });
        let block = |(index, &size): (usize, &usize)| BatchBlock {
            block: RawBlock {
                index,
                offset: 0,
                count: 1,
                data: bytes::Bytes::from(vec![0u8; size]),
                size,
                framed_ahead: false,
            },
            rows: 1,
            skip: 0,
            first_row: index as u64,
            file: file.clone(),
            part: PartStart::default(),
        };
        sizes.iter().enumerate().map(block).collect()
    }

    fn group_sizes(groups: Vec<&[BatchBlock]>) -> Vec<usize> {
        groups.iter().map(|g| g.len()).collect()
    }

    #[test]
    fn a_filtered_batch_is_decoded_in_groups_of_compressed_bytes() {
        let k = 1 << 10;
        // Groups of 128 KiB at most, each a block at least (a larger block is a group alone).
        let snappy = blocks(Codec::Snappy, &[100 * k, 28 * k, 1, 200 * k, 64 * k, 64 * k, 64 * k]);
        assert_eq!(group_sizes(filter_groups(&snappy, false)), [2, 1, 1, 2, 1]);
        // Whole: blocks read where they lie, and a predicate calling back once a batch.
        assert_eq!(group_sizes(filter_groups(&blocks(Codec::Null, &[100 * k; 4]), false)), [4]);
        assert_eq!(group_sizes(filter_groups(&snappy, true)), [7]);
        // A batch of no block is one group of none, which gives the columns.
        assert_eq!(group_sizes(filter_groups(&[], false)), [0]);
    }

    #[test]
    fn all_columns_come_row_index_first_then_the_files_then_partitions_then_the_path() {
        let plan = BatchPlan::new(abc(), None, &with_extras(), None).unwrap();
        // A partition column the file also holds keeps the file's place and the partition's type.
        assert_eq!(
            output(&plan),
            [
                ("idx".to_string(), DataType::IDX_DTYPE),
                ("a".to_string(), DataType::Int32),
                ("b".to_string(), DataType::Int64),
                ("c".to_string(), DataType::Float64),
                ("year".to_string(), DataType::Int32),
                ("path".to_string(), DataType::String),
            ]
        );
        // Only the file's own columns are decoded, and not the one a partition replaces.
        assert_eq!(names(&plan.rest_plan), ["a", "c"]);
        assert!(plan.predicate_plan.is_none());
    }

    #[test]
    fn a_projection_keeps_its_order_and_decodes_only_its_file_columns() {
        let options = ReadOptions { columns: columns(&["path", "c", "idx", "a"]), ..with_extras() };
        let plan = BatchPlan::new(abc(), None, &options, None).unwrap();
        let order: Vec<String> = output(&plan).into_iter().map(|(n, _)| n).collect();
        assert_eq!(order, ["path", "c", "idx", "a"]);
        assert_eq!(names(&plan.rest_plan), ["c", "a"]);
        assert!(plan.needs_data);
    }

    #[test]
    fn the_predicates_columns_are_decoded_first_and_the_rest_after() {
        let options = ReadOptions { columns: columns(&["a", "b", "c"]), ..ReadOptions::default() };
        let plan = BatchPlan::new(abc(), None, &options, Some(predicate_on(&["c", "a", "c"]))).unwrap();
        assert_eq!(names(plan.predicate_plan.as_ref().unwrap()), ["c", "a"]);
        assert_eq!(names(&plan.rest_plan), ["b"]);
        // A predicate on columns outside the projection decodes them all the same.
        let options = ReadOptions { columns: columns(&["a"]), ..with_extras() };
        let plan = BatchPlan::new(abc(), None, &options, Some(predicate_on(&["c", "idx", "path"]))).unwrap();
        assert_eq!(names(plan.predicate_plan.as_ref().unwrap()), ["c"]);
        assert_eq!(names(&plan.rest_plan), ["a"]);
    }

    #[test]
    fn a_read_of_no_column_needs_no_data_unless_damage_is_to_be_skipped() {
        let options = ReadOptions { columns: Some(Vec::new()), ..ReadOptions::default() };
        let plan = BatchPlan::new(abc(), None, &options, None).unwrap();
        assert!(!plan.needs_data && plan.validate_plan.is_none());
        let options = ReadOptions { columns: Some(Vec::new()), ignore_errors: true, ..ReadOptions::default() };
        let plan = BatchPlan::new(abc(), None, &options, None).unwrap();
        // A count that skips damage decodes every record, so that it counts what a read gives.
        assert!(plan.needs_data);
        assert_eq!(names(plan.validate_plan.as_ref().unwrap()), ["a", "b", "c"]);
    }

    #[test]
    fn a_column_not_in_the_file_is_refused_naming_the_columns() {
        let options = ReadOptions { columns: columns(&["a", "zz"]), ..ReadOptions::default() };
        let message = BatchPlan::new(abc(), None, &options, None).err().unwrap().to_string();
        assert!(message.contains("column 'zz' is not in the Avro schema; the columns are: a, b, c"), "{message}");
    }
}
