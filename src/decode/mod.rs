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

/// Decodes the first `count` records of a block's decompressed bytes into one array per
/// output column of the plan. With `selection`,
/// only the records whose bit is set are materialized; the others are skipped. When
/// `count` covers the whole block, the bytes must be used up exactly.
pub fn decode_block(
    schema: &AvroSchema,
    plan: &RowPlan,
    data: &[u8],
    count: usize,
    whole_block: bool,
    selection: Option<&Bitmap>,
) -> AvroResult<Vec<ArrayRef>> {
    if plan.columns.is_empty() {
        // Nothing to materialize: the caller knows the row count from the block.
        return Ok(Vec::new());
    }
    let mut columns = plan.columns.clone();
    let mut cur = Cursor::new(data);
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
    }
    if whole_block && !cur.is_empty() {
        return Err(AvroError::decode(format!(
            "expected the block's {count} records to use all {} decompressed bytes, found {} bytes left over",
            data.len(),
            cur.remaining()
        )));
    }
    columns.into_iter().map(|c| c.finish()).collect()
}

fn in_record(mut e: AvroError, record: usize) -> AvroError {
    e.message = format!("record {record} of the block: {}", e.message);
    e
}
