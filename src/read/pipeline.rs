//! Read-ahead: blocks are read on the caller's thread and grouped into batches, which
//! are decompressed and decoded on a rayon pool while the caller consumes earlier ones.
//! A bounded window of batches is in flight; results come back in file order, and so do
//! errors, each at its own block.

use std::collections::VecDeque;
use std::io::BufRead;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::time::Instant;

use polars::prelude::{DataFrame, IdxSize};
use rayon::ThreadPool;

use super::batch::{BatchPlan, DecodedBatch, RawBatch};
use super::options::{ReadAhead, ReadOptions};
use super::skipped::SkippedData;
use super::stats::{verbose, ReadStats};
use crate::container::{ContainerReader, Header};
use crate::error::{AvroError, AvroResult};
use crate::threads::{default_threads, panic_message, pool};

/// A batch stops growing at this many compressed bytes even below its row target, so a
/// file of huge records still splits into batches that fit the read-ahead window.
const MAX_BATCH_BYTES: usize = 16 << 20;

enum Slot {
    /// Read, not handed to a thread: the consumer decodes it when its turn comes.
    Raw(RawBatch),
    Decoding(Receiver<DecodedBatch>),
    /// Reading the file failed here; reported after the batches before it.
    Failed(AvroError),
}

struct InFlight {
    slot: Slot,
    blocks: usize,
    bytes: usize,
}

/// One file's blocks read ahead, decoded on the pool and handed out in file order.
pub(super) struct Pipeline {
    container: ContainerReader<Box<dyn BufRead + Send + Sync>>,
    plan: Arc<BatchPlan>,
    /// None: everything is decoded on the caller's thread, with no read-ahead.
    pool: Option<Arc<ThreadPool>>,
    read_ahead: ReadAhead,
    window: VecDeque<InFlight>,
    blocks_in_flight: usize,
    bytes_in_flight: usize,
    batch_size: usize,
    /// Records still to read when n_rows is set.
    rows_left: Option<usize>,
    /// Row index of the next record to read.
    next_row: IdxSize,
    reading_done: bool,
    finished: bool,
    stats: ReadStats,
    /// Blocks left out with `ignore_errors`, not yet taken.
    skipped: Vec<SkippedData>,
}

impl Pipeline {
    pub fn new(
        container: ContainerReader<Box<dyn BufRead + Send + Sync>>,
        plan: BatchPlan,
        options: &ReadOptions,
    ) -> AvroResult<Self> {
        let threads = options.n_threads.unwrap_or_else(default_threads).max(1);
        let read_ahead = options.read_ahead.unwrap_or_else(|| ReadAhead::local(threads));
        let (pool, read_ahead) = if threads == 1 {
            (None, ReadAhead { max_batches: 1, max_bytes: 0 })
        } else {
            (Some(pool(threads)?), ReadAhead { max_batches: read_ahead.max_batches.max(1), ..read_ahead })
        };
        let stats = ReadStats { threads, ..ReadStats::default() };
        Ok(Self {
            container,
            plan: Arc::new(plan),
            pool,
            read_ahead,
            window: VecDeque::new(),
            blocks_in_flight: 0,
            bytes_in_flight: 0,
            batch_size: options.batch_size.max(1),
            rows_left: options.n_rows,
            next_row: options.row_index.as_ref().map_or(0, |r| r.offset),
            reading_done: false,
            finished: false,
            stats,
            skipped: Vec::new(),
        })
    }

    pub fn header(&self) -> &Header {
        &self.container.header
    }

    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// The next batch in file order, or None at the end (or after an error).
    pub fn next_batch(&mut self) -> AvroResult<Option<DataFrame>> {
        while !self.finished {
            self.fill();
            let Some(next) = self.window.pop_front() else {
                self.finish();
                break;
            };
            self.blocks_in_flight -= next.blocks;
            self.bytes_in_flight -= next.bytes;
            let decoded = match next.slot {
                Slot::Raw(batch) => decode_caught(&self.plan, batch),
                Slot::Decoding(receiver) => {
                    let start = Instant::now();
                    let decoded = receiver.recv().unwrap_or_else(|_| {
                        DecodedBatch::failed(AvroError::internal("a decoding thread stopped without a result"))
                    });
                    self.stats.wait += start.elapsed();
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
            match decoded.frame {
                Err(e) => {
                    self.finish();
                    return Err(e);
                },
                // A predicate can reject a whole batch; empty batches are not worth yielding.
                Ok(df) if df.height() == 0 && self.plan.predicate.is_some() => continue,
                Ok(df) => return Ok(Some(df)),
            }
        }
        Ok(None)
    }

    /// Reads batches until the window is full, then hands the new ones to the pool.
    fn fill(&mut self) {
        let mut fresh: Vec<InFlight> = Vec::new();
        while !self.reading_done
            && self.window.len() + fresh.len() < self.read_ahead.max_batches
            && ((self.window.is_empty() && fresh.is_empty()) || self.bytes_in_flight < self.read_ahead.max_bytes)
        {
            let start = Instant::now();
            let (batch, error) = self.read_batch();
            self.stats.io += start.elapsed();
            if let Some(batch) = batch {
                let (blocks, bytes) = (batch.blocks.len(), batch.bytes());
                self.blocks_in_flight += blocks;
                self.bytes_in_flight += bytes;
                fresh.push(InFlight { slot: Slot::Raw(batch), blocks, bytes });
            }
            if let Some(e) = error {
                fresh.push(InFlight { slot: Slot::Failed(e), blocks: 0, bytes: 0 });
            }
        }
        self.stats.peak_blocks_in_flight = self.stats.peak_blocks_in_flight.max(self.blocks_in_flight);
        self.stats.peak_bytes_in_flight = self.stats.peak_bytes_in_flight.max(self.bytes_in_flight);
        // Without a pool, or for the only batch left, decoding on this thread costs less
        // than handing the work over.
        let only_batch_left = self.window.is_empty() && self.reading_done && fresh.len() == 1;
        for InFlight { slot, blocks, bytes } in fresh {
            let slot = match (slot, &self.pool) {
                (Slot::Raw(batch), Some(pool)) if !only_batch_left => {
                    Slot::Decoding(spawn_decode(pool, &self.plan, batch))
                },
                (slot, _) => slot,
            };
            self.window.push_back(InFlight { slot, blocks, bytes });
        }
    }

    /// Reads blocks until the batch holds `batch_size` records (or n_rows is reached, or
    /// the file ends). A read error comes back beside the blocks read before it.
    fn read_batch(&mut self) -> (Option<RawBatch>, Option<AvroError>) {
        let mut blocks = Vec::new();
        let (mut rows, mut bytes, mut last_block_rows) = (0usize, 0usize, 0usize);
        let mut error = None;
        while rows < self.batch_size && bytes < MAX_BATCH_BYTES {
            if self.rows_left == Some(0) {
                self.reading_done = true;
                break;
            }
            let block = match self.container.next_block() {
                Ok(Some(block)) => block,
                Ok(None) => {
                    self.reading_done = true;
                    break;
                },
                Err(e) if self.plan.ignore_errors && e.is_damage() => {
                    // A broken frame: leave the block out and go on after the next sync marker.
                    if !self.container.error_continues_damage() {
                        self.skipped.push(SkippedData { error: e.in_file(&self.plan.name), records: None });
                    }
                    match self.container.resync() {
                        Ok(Some(_)) => continue,
                        Ok(None) => {
                            self.reading_done = true;
                            break;
                        },
                        Err(e) => {
                            self.reading_done = true;
                            error = Some(e.in_file(&self.plan.name));
                            break;
                        },
                    }
                },
                Err(e) => {
                    self.reading_done = true;
                    error = Some(e.in_file(&self.plan.name));
                    break;
                },
            };
            let mut count = block.count;
            if let Some(left) = &mut self.rows_left {
                count = count.min(*left);
                *left -= count;
            }
            self.stats.blocks += 1;
            self.stats.bytes_read += block.data.len() as u64;
            rows += count;
            bytes += block.data.len();
            last_block_rows = count;
            blocks.push(block);
        }
        if blocks.is_empty() {
            return (None, error);
        }
        let first_row = self.next_row;
        self.next_row = self.next_row.saturating_add(rows as IdxSize);
        (Some(RawBatch { blocks, last_block_rows, rows, first_row }), error)
    }

    /// What was left out so far, in file order.
    pub fn take_skipped(&mut self) -> Vec<SkippedData> {
        let mut skipped = std::mem::take(&mut self.skipped);
        skipped.sort_by_key(|s| s.error.offset);
        skipped
    }

    fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.window.clear();
        // Readers opened only for their header read nothing worth a line.
        if verbose() && self.stats.blocks > 0 {
            eprintln!("[polars-avro] {}: {}", self.plan.name, self.stats);
        }
    }
}

impl Drop for Pipeline {
    /// A read stopped early (a head, an abandoned iterator) is still logged.
    fn drop(&mut self) {
        self.finish();
    }
}

fn spawn_decode(pool: &ThreadPool, plan: &Arc<BatchPlan>, batch: RawBatch) -> Receiver<DecodedBatch> {
    let (sender, receiver) = sync_channel(1);
    let plan = plan.clone();
    pool.spawn(move || {
        // The consumer may have gone away; then nobody needs the result.
        let _ = sender.send(decode_caught(&plan, batch));
    });
    receiver
}

/// Decodes a batch; a panic becomes an error instead of taking the process down. It is
/// a bug, not damage, so it is never skipped: it names the file and the batch's first block.
fn decode_caught(plan: &BatchPlan, batch: RawBatch) -> DecodedBatch {
    let rows = batch.rows;
    let first_block = batch.blocks.first().map(|b| (b.index, b.offset));
    catch_unwind(AssertUnwindSafe(|| plan.decode(batch))).unwrap_or_else(|panic| {
        let what = panic_message(panic.as_ref());
        let mut error = AvroError::internal(format!("internal error, please report it: decoding panicked: {what}"))
            .in_file(&plan.name);
        if let Some((index, offset)) = first_block {
            error = error.in_block(index).at_offset(offset);
        }
        DecodedBatch { rows, ..DecodedBatch::failed(error) }
    })
}
