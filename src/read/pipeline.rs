//! Read-ahead: blocks are read on the caller's thread, file after file (each opened
//! ahead by [`Opener`]), and grouped into batches, which are decompressed and decoded on
//! a rayon pool while the caller consumes earlier ones. Blocks of consecutive files that
//! share a writer schema go into the same batch, so many small files make few batches.
//! A bounded window of batches is in flight; results come back in file order, and so do
//! errors, each at its own block. A block of more records than a batch is a slot of its
//! own, read in parts (`super::parts`), one part in flight at a time.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use polars_core::prelude::DataFrame;
use rayon::ThreadPool;

use super::batch::{BatchBlock, BatchPlan, DecodedBatch, FileInfo, RawBatch};
use super::files::{BatchPlans, OpenedFile, Opener, ScanFile};
use super::options::{default_files_in_flight, ReadAhead, ReadOptions};
use super::parts::BlockParts;
use super::predicate::Predicate;
use super::rows::{BlockRows, RowAccount};
use super::skipped::SkippedData;
use super::stats::{verbose, ReadStats};
use crate::decode::PartStart;
use crate::error::{AvroError, AvroResult};
use crate::memory::Watch;
use crate::source::remote::RequestCount;
use crate::threads::{panic_message, pool, thread_count};

/// A batch stops growing at this many compressed bytes even below its row target, so a
/// file of wide records still splits into batches that fit the read-ahead window (a
/// decoding task costs far less than what 4 MiB take to decode).
const MAX_BATCH_BYTES: usize = 4 << 20;
/// Batches a read makes for each thread at least, where its size allows: the last batch
/// read is decoded after every other, so with one batch a thread a read takes about twice
/// what its threads need; with four, a quarter more.
const BATCHES_PER_THREAD: u64 = 4;
/// A batch holds at least this many compressed bytes: handing a batch over and joining it
/// costs the calling thread a few microseconds a column (a 100-column file's batches of
/// 256 KiB bounded 96 threads to 3x one), and each is a chunk of every column.
const MIN_BATCH_BYTES: usize = 512 << 10;

/// Compressed bytes a batch holds at most, for a read of about `read_bytes` (unknown for a
/// stream) on `threads` threads.
fn batch_bytes(read_bytes: Option<u64>, threads: usize) -> usize {
    match read_bytes {
        Some(bytes) if threads > 1 => {
            let share = bytes / (threads as u64 * BATCHES_PER_THREAD);
            usize::try_from(share).unwrap_or(usize::MAX).clamp(MIN_BATCH_BYTES, MAX_BATCH_BYTES)
        },
        _ => MAX_BATCH_BYTES,
    }
}

enum Slot {
    /// Read, not handed to a thread: the consumer decodes it when its turn comes.
    Raw(Arc<BatchPlan>, RawBatch),
    Decoding(Receiver<DecodedBatch>),
    /// A block read in parts, its next part not handed to a thread.
    Parts(Arc<BatchPlan>, BlockParts),
    /// A part decoding on the pool; the block comes back with it while parts are left.
    PartDecoding(Arc<BatchPlan>, Receiver<(DecodedBatch, Option<BlockParts>)>),
    /// Reading the file failed here; reported after the batches before it.
    Failed(AvroError),
}

struct InFlight {
    slot: Slot,
    blocks: usize,
    bytes: usize,
}

/// The files' blocks read ahead, decoded on the pool and handed out in file order.
pub(super) struct Pipeline {
    opener: Opener,
    /// The file blocks are read from; None between files.
    current: Option<OpenedFile>,
    /// None: everything is decoded on the caller's thread, with no read-ahead.
    pool: Option<Arc<ThreadPool>>,
    /// Leave damaged blocks, and files whose header is damaged, out instead of failing.
    ignore_errors: bool,
    /// Whether a predicate filters the batches (an empty result is then not handed out).
    filtered: bool,
    read_ahead: ReadAhead,
    window: VecDeque<InFlight>,
    blocks_in_flight: usize,
    bytes_in_flight: usize,
    batch_size: usize,
    /// Compressed bytes a batch holds at most ([`batch_bytes`]), from the size of the file
    /// read times the files of the read.
    batch_bytes: usize,
    threads: usize,
    files: u64,
    /// The records still to read and leave out, the row index, the rows still to give.
    rows: RowAccount,
    reading_done: bool,
    finished: bool,
    stats: ReadStats,
    /// Requests the read's sources made to object stores.
    requests: RequestCount,
    /// Blocks left out with `ignore_errors`, not yet taken.
    skipped: Vec<(usize, SkippedData)>,
    /// Allocations the system refused since the read began (`crate::memory`).
    memory: Watch,
    /// A block to read in parts, met while a batch was filling: it comes next.
    in_parts_next: Option<(Arc<BatchPlan>, BatchBlock)>,
}

impl Pipeline {
    pub fn new(mut files: Vec<ScanFile>, options: ReadOptions, predicate: Option<Predicate>) -> AvroResult<Self> {
        if options.skip_rows > 0 && predicate.is_some() {
            // The records to leave out are counted before any filter; a filtered read
            // would have to decode them to evaluate it.
            return Err(AvroError::argument("skip_rows cannot be combined with a predicate"));
        }
        let requests = RequestCount::default();
        files.iter_mut().for_each(|file| file.source.count_requests(&requests));
        let threads = thread_count(options.n_threads)?;
        // Files whose rows are all ruled out are not opened, unless their records count.
        let listed = files.len();
        if !options.counts_records_before_filter() {
            files.retain(|file| !file.ruled_out);
        }
        let files_skipped = listed - files.len();
        let drops_rows = predicate.is_some() || files.iter().any(|file| file.ruled_out);
        let rows = RowAccount::new(&options, drops_rows);
        // With a record limit no file is opened before the ones before it are read; with
        // one thread nothing happens beside the caller.
        let files_in_flight = match (rows.records_capped(), threads) {
            (true, _) | (_, 1) => 0,
            _ => options.files_in_flight.unwrap_or_else(|| default_files_in_flight(files.iter().map(|f| &f.source))),
        };
        let read_ahead = options.read_ahead.unwrap_or_else(|| ReadAhead::local(threads));
        let (pool, read_ahead) = if threads == 1 {
            (None, ReadAhead { max_batches: 1, max_bytes: 0 })
        } else {
            (Some(pool(threads)?), ReadAhead { max_batches: read_ahead.max_batches.max(1), ..read_ahead })
        };
        let stats = ReadStats { threads, files_skipped, ..ReadStats::default() };
        let (batch_size, ignore_errors, filtered) =
            (options.batch_size.max(1), options.ignore_errors, predicate.is_some());
        let file_count = files.len() as u64;
        let opener = Opener::new(files, BatchPlans::new(options, predicate), files_in_flight, pool.clone())?;
        let mut pipeline = Self {
            opener,
            current: None,
            ignore_errors,
            filtered,
            pool,
            read_ahead,
            window: VecDeque::new(),
            blocks_in_flight: 0,
            bytes_in_flight: 0,
            batch_size,
            batch_bytes: MAX_BATCH_BYTES,
            threads,
            files: file_count,
            rows,
            reading_done: false,
            finished: false,
            stats,
            requests,
            skipped: Vec::new(),
            memory: Watch::now(),
            in_parts_next: None,
        };
        // The first file is opened here, so that its errors surface when the read starts
        // and its columns are known even when no batch follows.
        pipeline.open_next_file()?;
        if pipeline.rows.all_given() {
            pipeline.finish();
        }
        Ok(pipeline)
    }

    /// A plan of the files read so far (None before the first file is opened), for the
    /// columns of a read that gave no batch.
    pub fn any_plan(&self) -> Option<Arc<BatchPlan>> {
        self.opener.plans.any()
    }

    /// `e` in the file the read is in, at the block it reads next where that is known.
    pub fn locate_here(&self, e: AvroError) -> AvroError {
        match &self.current {
            Some(file) => file.locate_next(e),
            None => e,
        }
    }

    pub fn stats(&self) -> ReadStats {
        ReadStats { requests: self.requests.load(Ordering::Relaxed), ..self.stats.clone() }
    }

    /// The next batch in file order, or None at the end (or after an error).
    pub fn next_batch(&mut self) -> AvroResult<Option<DataFrame>> {
        while !self.finished {
            // An allocation refused since the read began (reading ahead, joining batches)
            // stops it, in the file it reads: what it holds is freed.
            if let Err(e) = self.memory.check() {
                let located = self.locate_here(e);
                self.finish();
                return Err(located);
            }
            // Between batches, each a bounded piece of work: a read stops when asked to.
            if let Err(e) = crate::interrupt::check() {
                self.finish();
                return Err(e);
            }
            self.fill();
            let Some(next) = self.window.pop_front() else {
                self.finish();
                break;
            };
            self.blocks_in_flight -= next.blocks;
            self.bytes_in_flight -= next.bytes;
            let stopped = || AvroError::internal("a decoding thread stopped without a result");
            let decoded = match next.slot {
                Slot::Raw(plan, batch) => decode_caught(&plan, batch, self.memory),
                Slot::Decoding(receiver) => {
                    let start = Instant::now();
                    let decoded = receiver.recv().unwrap_or_else(|_| DecodedBatch::failed(stopped()));
                    self.stats.wait += start.elapsed();
                    decoded
                },
                Slot::Parts(plan, parts) => {
                    let (decoded, rest) = decode_part_caught(&plan, parts, self.memory);
                    self.parts_left(plan, rest);
                    decoded
                },
                Slot::PartDecoding(plan, receiver) => {
                    let start = Instant::now();
                    let (decoded, rest) = receiver.recv().unwrap_or_else(|_| (DecodedBatch::failed(stopped()), None));
                    self.stats.wait += start.elapsed();
                    self.parts_left(plan, rest);
                    decoded
                },
                Slot::Failed(e) => {
                    self.finish();
                    return Err(e);
                },
            };
            self.stats.batches += 1;
            self.stats.rows += decoded.rows;
            self.skipped.extend(decoded.skipped);
            self.stats.decompress += decoded.decompress;
            self.stats.decode += decoded.decode;
            self.stats.batches_filtered_in_python += decoded.callbacks;
            match decoded.frame {
                Err(e) => {
                    self.finish();
                    return Err(e);
                },
                // A predicate can reject a whole batch; empty batches are not worth yielding.
                Ok(df) if df.height() == 0 && self.filtered => continue,
                Ok(df) => return Ok(Some(self.within_limit(df))),
            }
        }
        Ok(None)
    }

    /// A batch cut to the rows still to hand out; the read finishes once none is left.
    fn within_limit(&mut self, df: DataFrame) -> DataFrame {
        let given = self.rows.give(df.height());
        let df = if given < df.height() { df.head(Some(given)) } else { df };
        if self.rows.all_given() {
            self.finish();
        }
        df
    }

    /// Puts a block read in parts back at the front of the window while parts are left,
    /// its next part already decoding on the pool when there is one.
    fn parts_left(&mut self, plan: Arc<BatchPlan>, rest: Option<BlockParts>) {
        let Some(parts) = rest else { return };
        let bytes = parts.bytes();
        let slot = match &self.pool {
            Some(pool) => Slot::PartDecoding(plan.clone(), spawn_part(pool, plan, parts, self.memory)),
            None => Slot::Parts(plan, parts),
        };
        self.blocks_in_flight += 1;
        self.bytes_in_flight += bytes;
        self.window.push_front(InFlight { slot, blocks: 1, bytes });
    }

    /// Reads batches until the window is full. Each goes to the pool once the next one is
    /// read, so the threads start on the first while the reading thread reads the rest
    /// (with many threads the window is most of a file); the last one read waits until
    /// it is known whether it is the only batch left.
    fn fill(&mut self) {
        let mut last_read: Option<InFlight> = None;
        while !self.reading_done
            && self.window.len() + usize::from(last_read.is_some()) < self.read_ahead.max_batches
            && ((self.window.is_empty() && last_read.is_none()) || self.bytes_in_flight < self.read_ahead.max_bytes)
        {
            let start = Instant::now();
            let (batch, error) = self.read_batch();
            self.stats.io += start.elapsed();
            if let Some(batch) = batch {
                self.blocks_in_flight += batch.blocks;
                self.bytes_in_flight += batch.bytes;
                if let Some(previous) = last_read.replace(batch) {
                    self.launch(previous, false);
                }
            }
            if let Some(e) = error {
                if let Some(previous) = last_read.take() {
                    self.launch(previous, false);
                }
                self.window.push_back(InFlight { slot: Slot::Failed(e), blocks: 0, bytes: 0 });
            }
        }
        self.stats.peak_blocks_in_flight = self.stats.peak_blocks_in_flight.max(self.blocks_in_flight);
        self.stats.peak_bytes_in_flight = self.stats.peak_bytes_in_flight.max(self.bytes_in_flight);
        if let Some(last) = last_read {
            let only_batch_left = self.window.is_empty() && self.reading_done;
            self.launch(last, only_batch_left);
        }
    }

    /// Puts a batch read at the back of the window, handed to the pool unless this thread
    /// decodes it: without a pool, for the only batch left, or for batches of no data (a
    /// count), decoding here costs less than handing the work over.
    fn launch(&mut self, batch: InFlight, only_batch_left: bool) {
        let InFlight { slot, blocks, bytes } = batch;
        let slot = match (slot, &self.pool) {
            (Slot::Raw(plan, batch), Some(pool)) if !only_batch_left && plan.needs_data => {
                Slot::Decoding(spawn_decode(pool, plan, batch, self.memory))
            },
            (Slot::Parts(plan, parts), Some(pool)) => {
                Slot::PartDecoding(plan.clone(), spawn_part(pool, plan, parts, self.memory))
            },
            (slot, _) => slot,
        };
        self.window.push_back(InFlight { slot, blocks, bytes });
    }

    /// Reads blocks, of one file or of consecutive files sharing a plan, until the batch
    /// holds `batch_size` records (or n_rows is reached, or the files end); a block of
    /// more records than a batch is read in parts, in a slot of its own. A read error
    /// comes back beside the blocks read before it.
    fn read_batch(&mut self) -> (Option<InFlight>, Option<AvroError>) {
        let in_parts = |plan: Arc<BatchPlan>, block: BatchBlock, batch_size: usize| {
            let parts = BlockParts::new(block, batch_size);
            InFlight { blocks: 1, bytes: parts.bytes(), slot: Slot::Parts(plan, parts) }
        };
        if let Some((plan, block)) = self.in_parts_next.take() {
            return (Some(in_parts(plan, block, self.batch_size)), None);
        }
        let mut blocks: Vec<BatchBlock> = Vec::new();
        let mut plan: Option<Arc<BatchPlan>> = None;
        let (mut rows, mut bytes) = (0usize, 0usize);
        let mut error = None;
        while rows < self.batch_size && bytes < self.batch_bytes {
            if self.rows.records_done() {
                self.reading_done = true;
                break;
            }
            let file = match self.open_next_file() {
                Ok(()) => match self.current.as_mut() {
                    Some(file) => file,
                    None => {
                        self.reading_done = true;
                        break;
                    },
                },
                Err(e) => {
                    self.reading_done = true;
                    error = Some(e);
                    break;
                },
            };
            // A batch is decoded by one plan: a file of another schema starts the next one.
            if plan.as_ref().is_some_and(|p| !Arc::ptr_eq(p, &file.plan)) {
                break;
            }
            let block = match file.next_block(self.rows.skip_left()) {
                Ok(Some(block)) => block,
                Ok(None) => {
                    self.current = None;
                    continue;
                },
                Err(e) if self.ignore_errors && e.is_damage() => match file.resync() {
                    // A broken frame: the block is left out, and reading goes on where the
                    // next intact one starts.
                    Ok(resynced) => {
                        let records = resynced.records_lost.map(|r| r as usize);
                        // The row index keeps the places of records whose count is known.
                        if let Err(e) = self.rows.lost(records.unwrap_or(0)) {
                            self.reading_done = true;
                            error = Some(e);
                            break;
                        }
                        self.skipped.push((file.info.index, SkippedData { error: e, records }));
                        if !resynced.resumes {
                            self.current = None;
                        }
                        continue;
                    },
                    Err(e) => {
                        self.reading_done = true;
                        error = Some(e);
                        break;
                    },
                },
                Err(e) => {
                    self.reading_done = true;
                    error = Some(e);
                    break;
                },
            };
            let taken = self.rows.take_block(block.count, file.count_only);
            self.stats.blocks += 1;
            self.stats.blocks_framed_ahead += usize::from(block.framed_ahead);
            self.stats.bytes_read += block.size as u64;
            // Where the offset ends in this block, every block before it was left out, so
            // it starts the batch.
            let (count, skip, first_row) = match taken {
                Ok(BlockRows::Read { rows, skip, first_row }) => (rows, skip, first_row),
                Ok(BlockRows::Counted(count)) => {
                    self.stats.rows += count;
                    continue;
                },
                Err(e) => {
                    self.reading_done = true;
                    error = Some(e);
                    break;
                },
            };
            let (block_bytes, info) = (block.data.len(), file.info.clone());
            // A block cut short by n_rows whose codec streams is still read in parts: few
            // records are wanted, but inflating the whole block may take gigabytes.
            let records = if file.info.codec.inflates_in_pieces() { block.count } else { count };
            let block = BatchBlock { block, rows: count, skip, first_row, file: info, part: PartStart::default() };
            if file.plan.needs_data
                && !file.info.remembered
                && BlockParts::wanted(records, self.batch_size, file.plan.min_record_size)
            {
                let plan = file.plan.clone();
                if blocks.is_empty() {
                    return (Some(in_parts(plan, block, self.batch_size)), None);
                }
                self.in_parts_next = Some((plan, block));
                break;
            }
            rows += count;
            bytes += block_bytes;
            plan.get_or_insert_with(|| file.plan.clone());
            blocks.push(block);
        }
        match plan {
            Some(plan) if !blocks.is_empty() => {
                let (blocks_len, bytes) = (blocks.len(), bytes);
                let slot = Slot::Raw(plan, RawBatch { blocks, rows });
                (Some(InFlight { slot, blocks: blocks_len, bytes }), error)
            },
            _ => (None, error),
        }
    }

    /// Makes sure blocks have a file to come from, unless every file has been read: the
    /// next one that opens (files whose header is damaged are left out with `ignore_errors`).
    fn open_next_file(&mut self) -> AvroResult<()> {
        while self.current.is_none() {
            match self.opener.next_file() {
                None => return Ok(()),
                Some((_, Ok(file))) => {
                    let read_bytes = file.total_len().map(|len| len.saturating_mul(self.files));
                    self.batch_bytes = batch_bytes(read_bytes, self.threads);
                    self.stats.files += 1;
                    self.stats.files_known += usize::from(file.info.remembered);
                    self.stats.headers_read += usize::from(file.header_read);
                    self.current = Some(file);
                },
                Some((index, Err(e))) if self.ignore_errors && e.is_damage() => {
                    self.stats.files += 1;
                    self.skipped.push((index, SkippedData { error: e, records: None }));
                },
                Some((_, Err(e))) => return Err(e),
            }
        }
        Ok(())
    }

    /// What was left out so far, in file order.
    pub fn take_skipped(&mut self) -> Vec<SkippedData> {
        let mut skipped = std::mem::take(&mut self.skipped);
        skipped.sort_by_key(|(file, s)| (*file, s.error.offset));
        skipped.into_iter().map(|(_, s)| s).collect()
    }

    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.window.clear();
        // Readers opened only for their header read nothing worth a line.
        if verbose() && self.stats.blocks > 0 {
            eprintln!("[polars-avro] {}", self.stats());
        }
    }
}

impl Drop for Pipeline {
    /// A read stopped early (a head, an abandoned iterator) is still logged.
    fn drop(&mut self) {
        self.finish();
    }
}

fn spawn_decode(pool: &ThreadPool, plan: Arc<BatchPlan>, batch: RawBatch, memory: Watch) -> Receiver<DecodedBatch> {
    let (sender, receiver) = sync_channel(1);
    pool.spawn(move || {
        // The consumer may have gone away; then nobody needs the result.
        let _ = sender.send(decode_caught(&plan, batch, memory));
    });
    receiver
}

fn spawn_part(
    pool: &ThreadPool,
    plan: Arc<BatchPlan>,
    parts: BlockParts,
    memory: Watch,
) -> Receiver<(DecodedBatch, Option<BlockParts>)> {
    let (sender, receiver) = sync_channel(1);
    pool.spawn(move || {
        let _ = sender.send(decode_part_caught(&plan, parts, memory));
    });
    receiver
}

/// The next part of a block read in parts, a panic and a refused allocation caught as in
/// [`decode_caught`].
fn decode_part_caught(plan: &BatchPlan, parts: BlockParts, memory: Watch) -> (DecodedBatch, Option<BlockParts>) {
    let at = parts.location();
    let (decoded, rest) = catch_unwind(AssertUnwindSafe(|| parts.decode_next(plan)))
        .unwrap_or_else(|panic| (DecodedBatch::failed(panicked(panic.as_ref(), Some(at.clone()))), None));
    match memory.check() {
        Ok(()) => (decoded, rest),
        Err(refused) => (DecodedBatch::failed(located(refused, Some(at))), None),
    }
}

/// Decodes a batch; a panic becomes an error instead of taking the process down. It is
/// a bug, not damage, so it is never skipped: it names the batch's first file and block.
/// So does an allocation the system refused while it decoded (`crate::memory`): the
/// batch fails, and the read with it, freeing what it holds.
fn decode_caught(plan: &BatchPlan, batch: RawBatch, memory: Watch) -> DecodedBatch {
    let rows = batch.rows;
    let first_block = batch.blocks.first().map(|b| (b.file.clone(), b.block.index, b.block.offset));
    let decoded = catch_unwind(AssertUnwindSafe(|| plan.decode(batch))).unwrap_or_else(|panic| DecodedBatch {
        rows,
        ..DecodedBatch::failed(panicked(panic.as_ref(), first_block.clone()))
    });
    match memory.check() {
        Ok(()) => decoded,
        Err(refused) => DecodedBatch { rows, ..DecodedBatch::failed(located(refused, first_block)) },
    }
}

/// `error` at a block of a file, where the block is known.
fn located(error: AvroError, at: Option<(Arc<FileInfo>, usize, u64)>) -> AvroError {
    match at {
        Some((file, index, offset)) => file.locate(error).in_block(index).at_offset(offset),
        None => error,
    }
}

/// The error of a decoding panic, at the first block it decoded.
fn panicked(panic: &(dyn std::any::Any + Send), at: Option<(Arc<FileInfo>, usize, u64)>) -> AvroError {
    let what = panic_message(panic);
    located(AvroError::internal(format!("internal error, please report it: decoding panicked: {what}")), at)
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::*;

    use super::*;
    use crate::container::{Codec, ContainerWriter};
    use crate::read::{IndexType, RowIndex, Source};
    use crate::varint::put_long;

    const SCHEMA: &str = r#"{"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]}"#;
    const PER_BLOCK: i64 = 10;

    /// A file of `blocks` blocks of 10 records each, ids counting from 0; the blocks in
    /// `garbage` hold bytes no record decodes from (a varint that never ends), so a read
    /// that decodes one fails.
    fn file(blocks: i64, garbage: &[i64]) -> Vec<u8> {
        let mut writer = ContainerWriter::new(Vec::new(), SCHEMA, Codec::Null, &[]).unwrap();
        for block in 0..blocks {
            let mut data = Vec::new();
            for id in block * PER_BLOCK..(block + 1) * PER_BLOCK {
                put_long(&mut data, id);
            }
            if garbage.contains(&block) {
                data = vec![0xff; data.len()];
            }
            writer.write_block(PER_BLOCK as usize, &data).unwrap();
        }
        writer.finish().unwrap()
    }

    fn scan_file(data: Vec<u8>, ruled_out: bool) -> ScanFile {
        ScanFile { ruled_out, ..ScanFile::from(Source::from_bytes(data)) }
    }

    /// Every batch of a read, on one thread and on two, as the ids read and the
    /// pipeline's report of what was left out (the same for both).
    fn read(files: impl Fn() -> Vec<ScanFile>, options: ReadOptions) -> (DataFrame, Vec<SkippedData>) {
        let mut results = [1, 2].map(|threads| {
            let options = ReadOptions { n_threads: Some(threads), batch_size: 10, ..options.clone() };
            let mut pipeline = Pipeline::new(files(), options, None).unwrap();
            let mut frames = Vec::new();
            while let Some(df) = pipeline.next_batch().unwrap() {
                frames.push(df);
            }
            let mut df = frames.pop().unwrap_or_default();
            for earlier in frames.iter().rev() {
                df = earlier.vstack(&df).unwrap();
            }
            (df, pipeline.take_skipped())
        });
        let two = results[1].0.clone();
        assert!(results[0].0.equals(&two), "one thread: {:?}, two: {two:?}", results[0].0);
        let [one, _] = &mut results;
        (one.0.clone(), std::mem::take(&mut one.1))
    }

    fn ids(df: &DataFrame) -> Vec<i64> {
        df.column("id").unwrap().i64().unwrap().into_no_null_iter().collect()
    }

    #[test]
    fn a_read_makes_several_batches_a_thread_within_bounds() {
        let mb = 1 << 20;
        // 53 MB on 16 threads: 64 batches of 0.83 MB; on two, 4 MiB (the row target decides).
        assert_eq!(batch_bytes(Some(53 * mb), 16), 53 * mb as usize / 64);
        assert_eq!(batch_bytes(Some(53 * mb), 2), MAX_BATCH_BYTES);
        // A small read stops at the smallest batch; one thread, or a stream of unknown
        // length, takes the largest.
        assert_eq!(batch_bytes(Some(mb), 16), MIN_BATCH_BYTES);
        assert_eq!(batch_bytes(Some(mb), 1), MAX_BATCH_BYTES);
        assert_eq!(batch_bytes(None, 16), MAX_BATCH_BYTES);
    }

    #[test]
    fn the_blocks_before_a_slices_offset_are_counted_not_decoded() {
        // The first two blocks cannot be decoded: the read must not try.
        let options = ReadOptions { skip_rows: 25, n_rows: Some(32), ..ReadOptions::default() };
        let (df, _) = read(|| vec![scan_file(file(4, &[0, 1]), false)], options);
        assert_eq!(ids(&df), (25..32).collect::<Vec<_>>());
    }

    #[test]
    fn reading_stops_at_the_block_that_reaches_n_rows() {
        let options = ReadOptions { n_rows: Some(15), ..ReadOptions::default() };
        let (df, _) = read(|| vec![scan_file(file(4, &[2, 3]), false)], options);
        assert_eq!(ids(&df), (0..15).collect::<Vec<_>>());
    }

    #[test]
    fn a_file_only_counted_moves_the_row_index_and_gives_no_row() {
        let options = ReadOptions { row_index: Some(RowIndex::new("i", 100)), ..ReadOptions::default() };
        let files = || vec![scan_file(file(2, &[0, 1]), true), scan_file(file(1, &[]), false)];
        let (df, _) = read(files, options);
        assert_eq!(ids(&df), (0..10).collect::<Vec<_>>());
        let index: Vec<IdxSize> = df.column("i").unwrap().idx().unwrap().into_no_null_iter().collect();
        assert_eq!(index, (120..130).collect::<Vec<_>>());
    }

    #[test]
    fn a_file_ruled_out_is_not_opened_where_no_record_is_counted() {
        // The first file cannot be read: opening it would fail the read.
        let files = || vec![scan_file(vec![0; 10], true), scan_file(file(1, &[]), false)];
        let mut pipeline = Pipeline::new(files(), ReadOptions::default(), None).unwrap();
        assert_eq!(ids(&pipeline.next_batch().unwrap().unwrap()), (0..10).collect::<Vec<_>>());
        assert_eq!(pipeline.stats().files_skipped, 1);
        // Counting records before the filter, it is opened (and here fails).
        let counted = ReadOptions { n_rows: Some(5), ..ReadOptions::default() };
        assert!(Pipeline::new(files(), counted, None).is_err());
    }

    #[test]
    fn a_limit_cuts_the_rows_handed_out_and_ends_the_read() {
        let options = ReadOptions { limit: Some(15), ..ReadOptions::default() };
        let (df, _) = read(|| vec![scan_file(file(4, &[2, 3]), false)], options);
        assert_eq!(ids(&df), (0..15).collect::<Vec<_>>(), "blocks past the limit are not decoded");
        // After a file ruled out and counted, the limit still counts rows handed out.
        let options = ReadOptions { limit: Some(15), row_index: Some(RowIndex::new("i", 0)), ..ReadOptions::default() };
        let files = || vec![scan_file(file(2, &[]), true), scan_file(file(4, &[]), false)];
        let (df, _) = read(files, options);
        assert_eq!(ids(&df), (0..15).collect::<Vec<_>>());
        let none = ReadOptions { limit: Some(0), ..ReadOptions::default() };
        let mut pipeline = Pipeline::new(vec![scan_file(file(1, &[0]), false)], none, None).unwrap();
        assert!(pipeline.next_batch().unwrap().is_none());
    }

    #[test]
    fn a_block_that_fails_to_decode_is_left_out_whole_and_reported_with_ignore_errors() {
        let data = || vec![scan_file(file(4, &[1]), false)];
        let (df, skipped) = read(data, ReadOptions { ignore_errors: true, ..ReadOptions::default() });
        assert_eq!(ids(&df), (0..10).chain(20..40).collect::<Vec<_>>());
        assert_eq!(skipped.len(), 1);
        assert_eq!((skipped[0].records, skipped[0].error.block), (Some(10), Some(1)));
        // Without ignore_errors the read fails at that block.
        let mut pipeline = Pipeline::new(data(), ReadOptions::default(), None).unwrap();
        let error = std::iter::from_fn(|| Some(pipeline.next_batch())).find_map(Result::err).unwrap();
        assert_eq!(error.block, Some(1), "{error}");
    }

    #[test]
    fn after_broken_framing_the_read_resumes_at_the_next_sync_marker() {
        let mut data = file(4, &[]);
        // The sync marker after the second block, corrupted: that block's framing is broken.
        let sync: [u8; 16] = data[data.len() - 16..].try_into().unwrap();
        let markers: Vec<usize> = (0..data.len() - 15).filter(|&i| data[i..i + 16] == sync).collect();
        data[markers[2]] ^= 0xff;
        let (df, skipped) = read(
            || vec![scan_file(data.clone(), false)],
            ReadOptions { ignore_errors: true, ..ReadOptions::default() },
        );
        let ids = ids(&df);
        assert_eq!(&ids[..10], (0..10).collect::<Vec<_>>(), "the block before the damage");
        assert_eq!(&ids[ids.len() - 10..], (30..40).collect::<Vec<_>>(), "the block after the next marker");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in order, none twice: {ids:?}");
        assert_eq!(skipped.len(), 1);
        // The blocks between the damage and the marker found are counted: nothing is
        // dropped unreported.
        let lost = skipped[0].records.expect("the records of the blocks left out, counted");
        assert_eq!(ids.len() + lost, 40, "{ids:?}, {lost} lost");
    }

    #[test]
    fn a_row_index_of_64_bits_numbers_records_past_32_bits() {
        let offset = u32::MAX as u64 - 5;
        let row_index = RowIndex { name: "i".into(), offset, index: IndexType::U64 };
        let options = ReadOptions { row_index: Some(row_index), ..ReadOptions::default() };
        let (df, _) = read(|| vec![scan_file(file(1, &[]), false)], options);
        let index = df.column("i").unwrap();
        assert_eq!(index.dtype(), &DataType::UInt64);
        let values: Vec<u64> = index.u64().unwrap().into_no_null_iter().collect();
        assert_eq!(values, (offset..offset + 10).collect::<Vec<_>>());
        // Of 32 bits, the same offset leaves room for 5 more records, not 10.
        let row_index = RowIndex { name: "i".into(), offset, index: IndexType::U32 };
        let mut pipeline = Pipeline::new(
            vec![scan_file(file(1, &[]), false)],
            ReadOptions { row_index: Some(row_index), ..ReadOptions::default() },
            None,
        )
        .unwrap();
        let error = std::iter::from_fn(|| Some(pipeline.next_batch())).find_map(Result::err).unwrap();
        assert!(error.message.contains("the row index overflows"), "{error}");
    }
}
