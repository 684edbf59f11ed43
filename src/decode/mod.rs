//! Binary decoding of Avro records straight into Polars column buffers.
//!
//! The layers, each knowing only those before it: primitives (`cursor`, `positions`, `views`,
//! `decimal`, `skip`, `json`, `readable`), the type tree as data (`read_type`, built by `resolve` and
//! `plan`, with `matching`; `json_resolve` for recursive types read with a reader schema), then the buffers built from it (`column`) and the block loop here; `datum`
//! reads single datums (messages) into the same buffers. The cursor and the JSON
//! renderer also serve `avro_json` (datums as JSON lines).

mod column;
mod cursor;
mod datum;
mod decimal;
mod json;
mod json_resolve;
mod matching;
mod plan;
mod positions;
mod read_type;
mod readable;
mod resolve;
mod rows;
mod skip;
mod views;

pub use column::ArrayRef;
pub use cursor::{start_item_budget, Cursor};
pub use datum::{datum_read_type, in_message, DatumColumn};
#[cfg(test)]
pub use decimal::decimal_text;
#[cfg(test)]
pub use json::write_json;
pub use json::{write_datum_json, Logicals};
pub(crate) use matching::reader_fields_by_name;
pub use plan::{column_names, column_types, RowPlan};
pub use read_type::{ReadType, MAX_DECIMAL_PRECISION};
pub(crate) use readable::write_uuid_text;

use column::{decode_record, Column};
use polars_arrow::bitmap::Bitmap;
use rows::RowSteps;

use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;

/// The most records a block may claim when its records can take no bytes.
pub const MAX_ZERO_SIZE_RECORDS: usize = 1 << 20;

/// Decodes the records of one or more consecutive blocks into one set of column
/// builders (one chunk per output column), so that a batch made of many small blocks
/// still becomes a few large arrays.
pub struct BlockDecoder<'a> {
    schema: &'a AvroSchema,
    columns: Vec<Column<'a>>,
    steps: RowSteps<'a>,
    /// The fewest bytes a record can take: bounds the records a block can really hold.
    min_record_size: usize,
}

impl<'a> BlockDecoder<'a> {
    pub fn new(schema: &'a AvroSchema, plan: &'a RowPlan, min_record_size: usize) -> Self {
        let columns: Vec<Column> = plan.record.fields.iter().map(Column::new).collect();
        let steps = RowSteps::new(&plan.record, &columns);
        Self { schema, columns, steps, min_record_size }
    }

    /// Makes room for `rows` more records up front (decode_block also reserves, block by
    /// block, but growing block by block copies the columns over and over).
    pub fn reserve(&mut self, rows: usize) {
        self.columns.iter_mut().for_each(|c| c.reserve(rows));
    }

    /// What the columns' builders grew to beyond one value per record (nested values,
    /// bytes of text: see [`Column::sizes`]).
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = Vec::new();
        self.columns.iter().for_each(|c| c.sizes(&mut sizes));
        sizes
    }

    /// Sizes the builders like another decoder's [`BlockDecoder::sizes`], times `scale`.
    pub fn reserve_sizes(&mut self, sizes: &[usize], scale: f64) {
        let mut sizes = sizes.iter().copied();
        self.columns.iter_mut().for_each(|c| c.reserve_sizes(&mut sizes, scale));
    }

    /// Decodes the first `count` records of a block's decompressed bytes (or of a part of
    /// them, beginning at `from`). When `count` covers them all, the bytes must be used up
    /// exactly. With `starts`, where each record begins is appended to it, for
    /// [`BlockDecoder::decode_selected`].
    pub fn decode_block(
        &mut self,
        data: &[u8],
        count: usize,
        whole_block: bool,
        starts: Option<&mut Vec<usize>>,
        from: PartStart,
    ) -> AvroResult<()> {
        // A corrupt count is caught here, before any buffer is sized by it.
        check_record_count(count, data.len(), self.min_record_size)?;
        cursor::start_item_budget(data.len());
        if self.columns.is_empty() && starts.is_none() {
            // Nothing to materialize: the caller knows the row count from the block.
            return Ok(());
        }
        self.reserve(count);
        let mut cur = Cursor::new(data);
        match starts {
            // Two loops, so that the common one checks nothing per record but the data.
            None => {
                for record in 0..count {
                    self.steps
                        .decode(&mut self.columns, self.schema, &mut cur)
                        .map_err(|e| in_record(e, record, from))?;
                }
            },
            Some(starts) => {
                starts.reserve(count);
                for record in 0..count {
                    starts.push(cur.position());
                    self.steps
                        .decode(&mut self.columns, self.schema, &mut cur)
                        .map_err(|e| in_record(e, record, from))?;
                }
            },
        }
        if whole_block && !cur.is_empty() {
            return Err(AvroError::decode(format!(
                "expected the block's {count} records to use all {} decompressed bytes, found {} bytes left over",
                data.len(),
                cur.remaining()
            )));
        }
        Ok(())
    }

    /// Decodes only the records whose bit is set in `selection`, jumping straight to each
    /// through `starts` (recorded by a first pass over the block).
    pub fn decode_selected(
        &mut self,
        data: &[u8],
        starts: &[usize],
        selection: &Bitmap,
        from: PartStart,
    ) -> AvroResult<()> {
        if self.columns.is_empty() {
            return Ok(());
        }
        cursor::start_item_budget(data.len());
        self.reserve(selection.set_bits());
        for record in selection.true_idx_iter() {
            let mut cur = Cursor::new(data);
            cur.skip(starts[record])?;
            self.steps.decode(&mut self.columns, self.schema, &mut cur).map_err(|e| in_record(e, record, from))?;
        }
        Ok(())
    }

    /// One array per output column of the plan.
    pub fn finish(self) -> AvroResult<Vec<ArrayRef>> {
        self.columns.into_iter().map(Column::finish).collect()
    }
}

/// Where decoded bytes begin in their block: past its start for a part of a block read
/// in parts (`read::parts`), whose errors still name records and bytes of the block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartStart {
    /// The block's record that comes first.
    pub record: usize,
    /// Its offset in the block's decompressed bytes.
    pub byte: usize,
}

fn in_record(mut e: AvroError, record: usize, from: PartStart) -> AvroError {
    let record = from.record + record;
    e.message = match from.byte {
        0 => format!("record {record} of the block: {}", e.message),
        byte => format!(
            "record {record} of the block (byte positions count from its decompressed byte {byte}): {}",
            e.message
        ),
    };
    e
}

/// Steps over up to `n` records of a block's decompressed bytes from byte `from` (a
/// record boundary) without decoding them, by the steps of `no_columns`, a plan that
/// reads no column: how many it stepped over, the byte where they end, and why it
/// stopped before `n` (the bytes end in a record, or do not fit the schema). Errors name
/// record and byte as [`BlockDecoder::decode_block`] would.
pub fn skip_records(
    schema: &AvroSchema,
    no_columns: &RowPlan,
    data: &[u8],
    from: usize,
    n: usize,
    part: PartStart,
) -> (usize, usize, Option<AvroError>) {
    cursor::start_item_budget(data.len());
    let mut cur = Cursor::new(data);
    if let Err(e) = cur.skip(from) {
        return (0, 0, Some(e));
    }
    for record in 0..n {
        let end = cur.position();
        if let Err(e) = decode_record(&no_columns.record, &mut [], schema, &mut cur) {
            return (record, end, Some(in_record(e, record, part)));
        }
    }
    (n, cur.position(), None)
}

/// Whether a block's record count is plausible for `bytes` decompressed bytes (at most)
/// of records taking at least `min_record_size` bytes each: a corrupt count is caught
/// before any buffer is sized by it. Records that take no bytes (only nulls, empty records)
/// cannot be checked against the bytes: past a bound, their count is taken to be corrupt,
/// not a long loop to run.
pub fn check_record_count(count: usize, bytes: usize, min_record_size: usize) -> AvroResult<()> {
    if min_record_size > 0 && count > bytes / min_record_size {
        return Err(AvroError::format(format!(
            "block claims {count} records but its {bytes} decompressed bytes can hold at most {}",
            bytes / min_record_size
        )));
    }
    if min_record_size == 0 && count > bytes.max(MAX_ZERO_SIZE_RECORDS) {
        return Err(AvroError::format(format!(
            "block claims {count} records of a schema whose records can take no bytes; at most \
            {MAX_ZERO_SIZE_RECORDS} are accepted per block"
        )));
    }
    Ok(())
}
