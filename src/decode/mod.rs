//! Binary decoding of Avro records straight into Polars column buffers.

pub mod column;
mod cursor;
mod json;
pub mod plan;
mod skip;

pub use column::ArrayRef;
pub use cursor::Cursor;
pub use plan::{RowPlan, TopSlot};
pub use skip::skip_value;

use polars_arrow::bitmap::Bitmap;

use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;

/// The columns decoded from (part of) one block, one array per output column.
pub struct DecodedBlock {
    pub arrays: Vec<ArrayRef>,
    pub rows: usize,
}

/// Decodes the first `count` records of a block's decompressed bytes. With `selection`,
/// only the records whose bit is set are materialized; the others are skipped. When
/// `count` covers the whole block, the bytes must be used up exactly.
pub fn decode_block(
    schema: &AvroSchema,
    plan: &RowPlan,
    data: &[u8],
    count: usize,
    whole_block: bool,
    selection: Option<&Bitmap>,
) -> AvroResult<DecodedBlock> {
    if plan.columns.is_empty() {
        // Nothing to materialize: the record count is all that is needed.
        let rows = selection.map_or(count, |s| s.len() - s.unset_bits());
        return Ok(DecodedBlock { arrays: Vec::new(), rows });
    }
    let mut columns = plan.columns.clone();
    let mut cur = Cursor::new(data);
    let mut rows = 0;
    for record in 0..count {
        if let Some(selection) = selection {
            if !selection.get_bit(record) {
                skip_value(schema, schema.root, &mut cur, 0).map_err(|e| in_record(e, record))?;
                continue;
            }
        }
        for slot in &plan.slots {
            let result = match slot {
                TopSlot::Decode(out) => columns[*out].decode(schema, &mut cur),
                TopSlot::Skip(node) => skip_value(schema, *node, &mut cur, 0),
            };
            result.map_err(|e| in_record(e, record))?;
        }
        rows += 1;
    }
    if whole_block && !cur.is_empty() {
        return Err(AvroError::decode(format!(
            "expected the block's {count} records to use all {} decompressed bytes, found {} bytes left over",
            data.len(),
            cur.remaining()
        )));
    }
    let arrays = columns.into_iter().map(|c| c.finish()).collect::<AvroResult<Vec<_>>>()?;
    Ok(DecodedBlock { arrays, rows })
}

fn in_record(mut e: AvroError, record: usize) -> AvroError {
    e.message = format!("record {record} of the block: {}", e.message);
    e
}
