//! Binary decoding of Avro records straight into Polars column buffers.

pub mod column;
mod cursor;
mod json;
pub mod plan;
mod skip;
mod views;

pub use column::{ArrayRef, Column};
pub use cursor::Cursor;
pub use plan::{RowPlan, TopSlot};
pub use skip::skip_value;

use polars_arrow::bitmap::Bitmap;

use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;

/// Decodes the records of one or more consecutive blocks into one set of column
/// builders (one chunk per output column), so that a batch made of many small blocks
/// still becomes a few large arrays.
pub struct BlockDecoder<'a> {
    schema: &'a AvroSchema,
    plan: &'a RowPlan,
    columns: Vec<Column>,
    /// The fewest bytes a record can take: bounds the records a block can really hold.
    min_record_size: usize,
}

impl<'a> BlockDecoder<'a> {
    pub fn new(schema: &'a AvroSchema, plan: &'a RowPlan, min_record_size: usize) -> Self {
        Self { schema, plan, columns: plan.columns.clone(), min_record_size }
    }

    /// Decodes the first `count` records of a block's decompressed bytes. With `selection`,
    /// only the records whose bit is set are materialized; the others are skipped. When
    /// `count` covers the whole block, the bytes must be used up exactly.
    pub fn decode_block(&mut self, data: &[u8], count: usize, whole_block: bool, selection: Option<&Bitmap>) -> AvroResult<()> {
        // A corrupt count is caught here, before any buffer is sized by it.
        if self.min_record_size > 0 && count > data.len() / self.min_record_size {
            return Err(AvroError::format(format!(
                "block claims {count} records but its {} decompressed bytes can hold at most {}",
                data.len(),
                data.len() / self.min_record_size
            )));
        }
        if self.columns.is_empty() {
            // Nothing to materialize: the caller knows the row count from the block.
            return Ok(());
        }
        let selected = selection.map_or(count, |s| count - s.unset_bits());
        self.columns.iter_mut().for_each(|c| c.reserve(selected));
        let schema = self.schema;
        let mut cur = Cursor::new(data);
        for record in 0..count {
            if let Some(selection) = selection {
                if !selection.get_bit(record) {
                    skip_value(schema, schema.root, &mut cur, 0).map_err(|e| in_record(e, record))?;
                    continue;
                }
            }
            for slot in &self.plan.slots {
                let result = match slot {
                    TopSlot::Decode(out) => self.columns[*out].decode(schema, &mut cur),
                    TopSlot::Skip(node) => skip_value(schema, *node, &mut cur, 0),
                };
                result.map_err(|e| in_record(e, record))?;
            }
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

    /// One array per output column of the plan.
    pub fn finish(self) -> AvroResult<Vec<ArrayRef>> {
        self.columns.into_iter().map(Column::finish).collect()
    }
}

fn in_record(mut e: AvroError, record: usize) -> AvroError {
    e.message = format!("record {record} of the block: {}", e.message);
    e
}
