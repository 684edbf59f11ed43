//! Single datums, each a whole message (a Kafka value): every value of a column encoded
//! as one datum of the schema, after a framing prefix. The inverse of `decode::datum`.

use polars_arrow::array::{BinaryViewArray, MutableBinaryViewArray};
use polars_core::prelude::Series;

use super::plan::plan;
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::AvroSchema;

/// Each value of `column` (Polars type `ft`) as `prefix` and one datum of `schema`; a
/// null value gives a null message.
pub fn encode_datums(
    schema: &AvroSchema,
    ft: &FrameType,
    column: &Series,
    prefix: &[u8],
) -> AvroResult<BinaryViewArray> {
    let physical = column.to_physical_repr();
    let mut out = MutableBinaryViewArray::<[u8]>::with_capacity(column.len());
    let mut message = Vec::new();
    let mut row = 0;
    let plan = plan(schema, schema.root, ft, "")?;
    for chunk in physical.chunks() {
        let encoder = plan.bind(chunk.as_ref())?;
        for i in 0..chunk.len() {
            if chunk.is_null(i) {
                out.push_null();
            } else {
                message.clear();
                message.extend_from_slice(prefix);
                encoder.encode(i, &mut message).map_err(|failure| {
                    AvroError::encode(format!("cannot encode the value {}", failure.0)).at_batch_row(row, column.len())
                })?;
                out.push_value(&message);
            }
            row += 1;
        }
    }
    Ok(out.into())
}
