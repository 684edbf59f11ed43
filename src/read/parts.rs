//! Blocks of more records than a batch, read a batch at a time. The block's bytes are
//! decompressed as a stream into a window that holds about one part; the part's records
//! are found by stepping over them, then decoded as a block of their own. So a block of
//! hundreds of millions of records (a decompression bomb of a few kilobytes among them)
//! costs a few batches of memory, not a block's worth of columns. The parts of a block
//! come one after another: the stream cannot be entered in the middle.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use super::batch::{cut_while_decoded, locate, BatchBlock, BatchPlan, DecodedBatch, FileInfo, RawBatch};
use super::skipped::SkippedData;
use crate::container::{Codec, RawBlock, MAX_BLOCK_LEN};
use crate::decode::{check_record_count, skip_records, PartStart, RowPlan};
use crate::error::{AvroError, AvroResult};

/// Decompressed bytes are read in steps of at least this many.
const MIN_READ: usize = 1 << 20;

/// A block read in parts of `part_rows` records, and how far it has been read.
pub(super) struct BlockParts {
    /// The block as a batch would hold it; its bytes move into `stream` when the first
    /// part is read.
    block: BatchBlock,
    stream: Option<Box<dyn Read + Send>>,
    stream_ended: bool,
    /// Bytes the stream gave so far.
    decompressed: usize,
    /// Decompressed bytes read and not yet taken: the next part's start on, from `head`.
    window: Vec<u8>,
    head: usize,
    /// Where the next part starts in the block's decompressed bytes.
    part_start: usize,
    /// Records of the block stepped over so far (decoded, or left out by an offset).
    taken: usize,
    part_rows: usize,
    /// The file as the parts see it: their bytes are decompressed already.
    decompressed_file: Arc<FileInfo>,
    /// A plan of no column: records stepped over, field by field.
    no_columns: Option<Box<RowPlan>>,
}

impl BlockParts {
    /// Whether a block whose first `records` records are read is read in parts, for
    /// batches of `batch_size` records. Records that can take no bytes (only nulls and
    /// empty records) make columns that hold next to nothing: their blocks are read whole,
    /// where their count is checked against their bytes.
    pub fn wanted(records: usize, batch_size: usize, min_record_size: usize) -> bool {
        records > batch_size && min_record_size > 0
    }

    pub fn new(block: BatchBlock, part_rows: usize) -> Self {
        let decompressed_file = Arc::new(FileInfo { codec: Codec::Null, ..(*block.file).clone() });
        Self {
            block,
            stream: None,
            stream_ended: false,
            decompressed: 0,
            window: Vec::new(),
            head: 0,
            part_start: 0,
            taken: 0,
            part_rows: part_rows.max(1),
            decompressed_file,
            no_columns: None,
        }
    }

    /// The block's file, index and offset, for errors.
    pub fn location(&self) -> (Arc<FileInfo>, usize, u64) {
        (self.block.file.clone(), self.block.block.index, self.block.block.offset)
    }

    /// Compressed bytes held before the first part: counted as in flight once, with it.
    pub fn bytes(&self) -> usize {
        if self.stream.is_some() {
            0
        } else {
            self.block.block.data.len()
        }
    }

    /// Decodes the next part: the batch, and the block again while parts are left. A
    /// damaged part ends the block: with `ignore_errors`, the records from its start to
    /// the block's end are left out, and reported.
    pub fn decode_next(mut self, plan: &BatchPlan) -> (DecodedBatch, Option<Self>) {
        let start = Instant::now();
        let part = self.next_part(plan);
        let stepping = start.elapsed();
        let part = match cut_while_decoded(&self.block, part.is_err()) {
            Some(cut) => Err(cut),
            None => part,
        };
        let (mut decoded, more) = match part {
            Ok(part) => {
                let rest = self.block.rows - self.taken;
                let mut decoded = plan.decode(RawBatch { rows: part.rows, blocks: vec![part] });
                // The part's bytes are a copy: a failure may still come of the file's cut.
                if let Some(cut) = decoded.frame.as_ref().err().and_then(|_| cut_while_decoded(&self.block, true)) {
                    decoded = DecodedBatch::failed(cut);
                }
                decoded.skipped.iter_mut().for_each(|(_, s)| s.records = s.records.map(|r| r + rest));
                let more = rest > 0 && decoded.skipped.is_empty();
                (decoded, more)
            },
            Err(error) if plan.ignore_errors && error.is_damage() => {
                let records = Some(self.block.rows - self.taken.max(self.block.skip));
                let skipped = vec![(self.block.file.index, SkippedData { error, records })];
                (DecodedBatch { skipped, ..DecodedBatch::of(plan.empty_frame()) }, false)
            },
            Err(error) => (DecodedBatch::failed(error), false),
        };
        decoded.decompress += stepping;
        (decoded, more.then_some(self))
    }

    /// The next part's records as a block of their own.
    fn next_part(&mut self, plan: &BatchPlan) -> AvroResult<BatchBlock> {
        if self.stream.is_none() {
            self.open(plan).map_err(|e| locate(e, &self.block))?;
        }
        let (first, at) = (self.taken, self.part_start);
        let n = self.part_rows.min(self.block.rows - first);
        let end = self.step_over(plan, n).map_err(|e| locate(e, &self.block))?;
        if self.taken == self.block.block.count {
            self.expect_end(end).map_err(|e| locate(e, &self.block))?;
        }
        let data = self.window[self.head..self.head + end].to_vec();
        self.advance(end);
        Ok(BatchBlock {
            block: RawBlock {
                index: self.block.block.index,
                offset: self.block.block.offset,
                count: n,
                size: data.len(),
                data: data.into(),
                framed_ahead: self.block.block.framed_ahead,
            },
            rows: n,
            skip: 0,
            first_row: self.block.first_row + first as u64,
            file: self.decompressed_file.clone(),
            part: PartStart { record: first, byte: at },
        })
    }

    /// Starts the stream, and steps over the records an offset leaves out (never decoded).
    fn open(&mut self, plan: &BatchPlan) -> AvroResult<()> {
        let codec = self.block.file.codec;
        // Kept by the block as well, to check once streamed (see `cut_while_decoded`).
        let data = self.block.block.data.clone();
        // A corrupt count is caught before any buffer is sized by it, as for a whole block.
        let most = if codec == Codec::Null { data.len() } else { MAX_BLOCK_LEN };
        check_record_count(self.block.block.count, most, plan.min_record_size)?;
        self.stream = Some(codec.stream(data)?);
        self.no_columns = Some(Box::new(RowPlan::new(&plan.schema, None, Some(&[]))?));
        let mut left = self.block.skip;
        while left > 0 {
            let n = left.min(self.part_rows);
            let end = self.step_over(plan, n)?;
            self.advance(end);
            left -= n;
        }
        Ok(())
    }

    /// Steps over `n` records from the next part's start, reading on while they go past
    /// the window's end: the byte where they end, counted from the part's start.
    fn step_over(&mut self, plan: &BatchPlan, n: usize) -> AvroResult<usize> {
        let (mut stepped, mut end) = (0, 0);
        let mut failed_before: Option<String> = None;
        while stepped < n {
            let from = PartStart { record: self.taken + stepped, byte: self.part_start };
            let part = &self.window[self.head..];
            let no_columns = self.no_columns.as_ref().expect("planned when the stream opened");
            let (more, at, error) = skip_records(&plan.schema, no_columns, part, end, n - stepped, from);
            (stepped, end) = (stepped + more, at);
            let Some(error) = error else { break };
            // The window may end inside the record: read on, unless the stream has ended, or
            // reading on changed nothing (errors that depend on the bytes after them, such
            // as a length past the end, say how many remain).
            if self.stream_ended || failed_before.as_ref() == Some(&error.message) {
                return Err(self.ended_early(plan, error));
            }
            failed_before = Some(error.message.clone());
            self.read_more((self.window.len() - self.head).max(MIN_READ))?;
        }
        self.taken += n;
        Ok(end)
    }

    /// Appends up to `want` more decompressed bytes to the window.
    fn read_more(&mut self, want: usize) -> AvroResult<()> {
        let codec = self.block.file.codec;
        let Some(stream) = self.stream.as_mut() else { return Ok(()) };
        // One byte past the bound tells a block at the bound from a bomb.
        let limit = want.min(MAX_BLOCK_LEN + 1 - self.decompressed);
        // Bytes taken make room: what is left of the window is usually a record's tail.
        self.window.drain(..self.head);
        self.head = 0;
        let before = self.window.len();
        stream.take(limit as u64).read_to_end(&mut self.window).map_err(|e| codec.read_error(&e))?;
        let got = self.window.len() - before;
        self.decompressed += got;
        if self.decompressed > MAX_BLOCK_LEN {
            return Err(codec.too_large(self.block.block.size));
        }
        self.stream_ended = got < limit;
        Ok(())
    }

    /// The error of records that do not step over once the stream has ended: a count
    /// larger than the bytes can hold says so, as for a block decoded whole.
    fn ended_early(&self, plan: &BatchPlan, error: AvroError) -> AvroError {
        match self.stream_ended {
            true => check_record_count(self.block.block.count, self.decompressed, plan.min_record_size).err(),
            false => None,
        }
        .unwrap_or(error)
    }

    /// After the block's last record, its bytes must end.
    fn expect_end(&mut self, end: usize) -> AvroResult<()> {
        if self.head + end == self.window.len() && !self.stream_ended {
            self.read_more(1)?;
        }
        if self.head + end < self.window.len() {
            return Err(AvroError::decode(format!(
                "expected the block's {} records to end at its decompressed byte {}, found bytes left over",
                self.block.block.count,
                self.part_start + end
            )));
        }
        Ok(())
    }

    /// Moves the next part's start `end` bytes on.
    fn advance(&mut self, end: usize) {
        self.head += end;
        self.part_start += end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_blocks_of_more_records_than_a_batch_that_take_bytes_are_read_in_parts() {
        for (records, batch_size, min_record_size, wanted) in [
            (100, 10, 1, true),
            (11, 10, 8, true),
            (10, 10, 1, false),
            (9, 10, 1, false),
            // Records that can take no bytes: read whole, where their count is checked.
            (1 << 30, 10, 0, false),
        ] {
            assert_eq!(
                BlockParts::wanted(records, batch_size, min_record_size),
                wanted,
                "{records} {batch_size} {min_record_size}"
            );
        }
    }
}
