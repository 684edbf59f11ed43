//! Datums as JSON lines (`tojson`): one line per datum, each ending in a newline.

use crate::decode::{check_record_count, start_item_budget, write_json, Cursor};
use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;
use crate::schema::JsonMode;

/// The `count` datums of `schema` that `data` (a decompressed block's bytes) holds, one
/// JSON text per line, unions shown as `mode` says. The datums must use `data` up exactly.
/// Errors name the record (from 0) and the byte where it begins.
pub fn render_datums(schema: &AvroSchema, data: &[u8], count: usize, mode: JsonMode) -> AvroResult<Vec<u8>> {
    // A corrupt count is caught before it becomes a long loop of empty records.
    check_record_count(count, data.len(), schema.min_encoded_size(schema.root))?;
    start_item_budget(data.len());
    let mut out = String::with_capacity(data.len().saturating_mul(2).min(1 << 30));
    let mut cur = Cursor::new(data);
    for record in 0..count {
        let start = cur.position();
        write_json(schema, schema.root, &mut cur, &mut out, 0, mode).map_err(|mut e| {
            e.message = format!("record {record} of the block (from byte {start}): {}", e.message);
            e
        })?;
        out.push('\n');
    }
    if !cur.is_empty() {
        return Err(AvroError::decode(format!(
            "expected the block's {count} records to use all {} decompressed bytes, found {} bytes left over \
            from byte {}",
            data.len(),
            cur.remaining(),
            cur.position()
        )));
    }
    Ok(out.into_bytes())
}
