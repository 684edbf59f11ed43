//! Where a read stands in its records and rows: the records still to read (`n_rows`, or a
//! slice's end where nothing drops rows), the records of a slice's offset still to leave
//! out, the next record's row index, and the rows still to hand out (a limit counted after
//! the filter). The pipeline asks it what each block it reads is to the read.

use super::options::{IndexType, ReadOptions};
use crate::error::{AvroError, AvroResult};

/// The counts of a read in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RowAccount {
    /// Records still to read, where their number is capped.
    records_left: Option<usize>,
    /// Records still to leave out at the start (a slice's offset).
    skip_left: usize,
    /// The next record's row index and its type (None: no row index asked for).
    next_row: Option<(u64, IndexType)>,
    /// Rows still to hand out, where a limit is set.
    rows_to_give: Option<usize>,
}

/// What a block's records are to the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlockRows {
    /// Counted towards `n_rows` and the row index, none of them wanted: this many.
    Counted(usize),
    /// The block's first `rows` records are read, of which the first `skip` are left out
    /// after decoding (the offset ends in this block); the first's row index is `first_row`.
    Read { rows: usize, skip: usize, first_row: u64 },
}

impl RowAccount {
    /// The counts at a read's start; `drops_rows`: a predicate or a file ruled out can drop
    /// rows, so records read past the offset are not all rows handed out.
    pub fn new(options: &ReadOptions, drops_rows: bool) -> Self {
        Self {
            records_left: options.records_to_read(drops_rows),
            skip_left: options.skip_rows,
            next_row: options.row_index.as_ref().map(|r| (r.offset, r.index)),
            rows_to_give: options.limit,
        }
    }

    /// Whether the records are capped: files are then opened one after the other.
    pub fn records_capped(&self) -> bool {
        self.records_left.is_some()
    }

    /// Whether every record to read has been read.
    pub fn records_done(&self) -> bool {
        self.records_left == Some(0)
    }

    /// Records still to leave out at the start: blocks wholly before them need no data.
    pub fn skip_left(&self) -> usize {
        self.skip_left
    }

    /// Takes the next block, of `records` records (`count_only`: its file's rows are all
    /// ruled out): how many of them are read and where they stand. An error where the row
    /// index would pass the largest value of its type.
    pub fn take_block(&mut self, records: usize, count_only: bool) -> AvroResult<BlockRows> {
        let mut count = records;
        if let Some(left) = &mut self.records_left {
            count = count.min(*left);
            *left -= count;
        }
        let first_row = self.next_row.map_or(0, |(row, _)| row);
        self.lost(count)?;
        let before_offset = self.skip_left > 0 && count <= self.skip_left;
        if before_offset {
            self.skip_left -= count;
        }
        if count_only || before_offset {
            return Ok(BlockRows::Counted(count));
        }
        let skip = std::mem::take(&mut self.skip_left);
        Ok(BlockRows::Read { rows: count, skip, first_row })
    }

    /// Moves the row index past `records` records left out (a damaged block's): the
    /// records after them keep their places. Polars' rule: the offset plus the records
    /// read must fit its index type, so every index can be held.
    pub fn lost(&mut self, records: usize) -> AvroResult<()> {
        let Some((row, index)) = self.next_row else { return Ok(()) };
        let after = u64::try_from(records).ok().and_then(|r| row.checked_add(r)).filter(|&after| after <= index.max());
        let after = after.ok_or_else(|| {
            AvroError::capacity(format!(
                "the row index overflows: {records} more records after index {row} pass the largest value of \
                 Polars' index type, {}; pass a smaller row_index_offset",
                index.max()
            ))
        })?;
        self.next_row = Some((after, index));
        Ok(())
    }

    /// Of a batch of `height` rows, how many are handed out.
    pub fn give(&mut self, height: usize) -> usize {
        let Some(left) = &mut self.rows_to_give else { return height };
        let given = height.min(*left);
        *left -= given;
        given
    }

    /// Whether every row to hand out has been: the read is over.
    pub fn all_given(&self) -> bool {
        self.rows_to_give == Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::RowIndex;

    fn account(options: ReadOptions) -> RowAccount {
        RowAccount::new(&options, false)
    }

    #[test]
    fn n_rows_caps_the_records_taken_of_the_blocks() {
        let mut rows = account(ReadOptions { n_rows: Some(15), ..ReadOptions::default() });
        assert!(rows.records_capped());
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Read { rows: 10, skip: 0, first_row: 0 });
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Read { rows: 5, skip: 0, first_row: 0 });
        assert!(rows.records_done());
        assert!(!account(ReadOptions::default()).records_capped());
    }

    #[test]
    fn blocks_before_the_offset_are_counted_and_the_block_it_ends_in_skips_the_rest() {
        let mut rows = account(ReadOptions { skip_rows: 25, ..ReadOptions::default() });
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Counted(10));
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Counted(10));
        assert_eq!(rows.skip_left(), 5);
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Read { rows: 10, skip: 5, first_row: 0 });
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Read { rows: 10, skip: 0, first_row: 0 });
        // An offset that ends with a block leaves out that block whole.
        let mut rows = account(ReadOptions { skip_rows: 10, ..ReadOptions::default() });
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Counted(10));
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Read { rows: 10, skip: 0, first_row: 0 });
    }

    #[test]
    fn a_slice_reads_its_offset_and_length_where_nothing_drops_rows() {
        let options = ReadOptions { skip_rows: 5, limit: Some(10), ..ReadOptions::default() };
        let mut rows = account(options.clone());
        assert_eq!(rows.take_block(100, false).unwrap(), BlockRows::Read { rows: 15, skip: 5, first_row: 0 });
        assert!(rows.records_done());
        // Where a filter drops rows, every record may be needed to find the limit's.
        assert!(!RowAccount::new(&options, true).records_capped());
    }

    #[test]
    fn the_row_index_counts_every_record_taken_counted_or_lost() {
        let options = ReadOptions { row_index: Some(RowIndex::new("i", 100)), ..ReadOptions::default() };
        let mut rows = account(options);
        assert_eq!(rows.take_block(10, true).unwrap(), BlockRows::Counted(10));
        rows.lost(7).unwrap();
        assert_eq!(rows.take_block(10, false).unwrap(), BlockRows::Read { rows: 10, skip: 0, first_row: 117 });
        assert_eq!(rows.take_block(3, false).unwrap(), BlockRows::Read { rows: 3, skip: 0, first_row: 127 });
    }

    #[test]
    fn a_row_index_past_polars_index_type_is_refused() {
        for index in [IndexType::U32, IndexType::U64] {
            let mut rows = account(ReadOptions::default());
            rows.next_row = Some((index.max() - 5, index));
            assert!(rows.lost(5).is_ok());
            assert_eq!(rows.next_row, Some((index.max(), index)));
            let error = rows.take_block(1, false).unwrap_err();
            assert!(error.message.contains("the row index overflows"), "{error}");
        }
        let mut none = account(ReadOptions::default());
        assert!(none.lost(usize::MAX).is_ok());
    }

    #[test]
    fn a_limit_cuts_the_rows_handed_out() {
        let mut rows = account(ReadOptions { limit: Some(15), ..ReadOptions::default() });
        assert_eq!(rows.give(10), 10);
        assert!(!rows.all_given());
        assert_eq!(rows.give(10), 5);
        assert!(rows.all_given());
        assert_eq!(rows.give(10), 0);
        assert!(account(ReadOptions { limit: Some(0), ..ReadOptions::default() }).all_given());
        let mut unlimited = account(ReadOptions::default());
        assert_eq!(unlimited.give(usize::MAX), usize::MAX);
        assert!(!unlimited.all_given());
    }
}
