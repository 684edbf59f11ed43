//! Datums as JSON lines (`tojson`): one line per datum, each ending in a newline.

use crate::decode::{check_record_count, start_item_budget, write_datum_json, Cursor, Logicals};
use crate::error::{AvroError, AvroResult};
use crate::schema::AvroSchema;
use crate::schema::JsonMode;

/// The `count` datums of `schema` that `data` (a decompressed block's bytes) holds, one
/// JSON text per line, unions shown as `mode` says and logical types as `logicals` says.
/// The datums must use `data` up exactly. Errors name the record (from 0) and the byte
/// where it begins.
pub fn render_datums(
    schema: &AvroSchema,
    data: &[u8],
    count: usize,
    mode: JsonMode,
    logicals: Logicals,
) -> AvroResult<Vec<u8>> {
    // A corrupt count is caught before it becomes a long loop of empty records.
    check_record_count(count, data.len(), schema.min_encoded_size(schema.root))?;
    start_item_budget(data.len());
    let mut out = String::with_capacity(data.len().saturating_mul(2).min(1 << 30));
    let mut cur = Cursor::new(data);
    for record in 0..count {
        let start = cur.position();
        write_datum_json(schema, &mut cur, &mut out, mode, logicals).map_err(|mut e| {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::schema::parse_schema;
    use crate::varint::{put_bytes, put_long};

    fn render(schema: &str, data: &[u8], count: usize, mode: JsonMode) -> AvroResult<String> {
        let schema = parse_schema(schema).unwrap();
        render_datums(&schema, data, count, mode, Logicals::Stored).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn each_datum_is_a_line_of_json() {
        let mut data = Vec::new();
        for (branch, value) in [(1, 5), (0, 0), (1, -1)] {
            put_long(&mut data, branch);
            if branch == 1 {
                put_long(&mut data, value);
            }
        }
        let schema = r#"["null", "long"]"#;
        assert_eq!(render(schema, &data, 3, JsonMode::Plain).unwrap(), "5\nnull\n-1\n");
        assert_eq!(render(schema, &data, 3, JsonMode::AvroJson).unwrap(), "{\"long\":5}\nnull\n{\"long\":-1}\n");
        assert_eq!(render(schema, &[], 0, JsonMode::Plain).unwrap(), "");
    }

    #[test]
    fn readable_values_show_logical_types_and_floats_as_a_person_reads_them() {
        let schema = r#"{"type": "record", "name": "R", "fields": [
            {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
            {"name": "days", "type": {"type": "array", "items": {"type": "int", "logicalType": "date"}}},
            {"name": "f", "type": "float"}]}"#;
        let mut data = Vec::new();
        put_long(&mut data, 1);
        put_long(&mut data, 1_000_000);
        put_bytes(&mut data, &[0x04, 0xD2]);
        put_long(&mut data, 1);
        put_long(&mut data, 365);
        put_long(&mut data, 0);
        data.extend_from_slice(&0.4f32.to_le_bytes());
        let parsed = parse_schema(schema).unwrap();
        let readable = render_datums(&parsed, &data, 1, JsonMode::Plain, Logicals::Readable).unwrap();
        assert_eq!(
            String::from_utf8(readable).unwrap(),
            "{\"ts\":\"1970-01-01T00:00:01.000000Z\",\"amount\":12.34,\"days\":[\"1971-01-01\"],\"f\":0.4}\n"
        );
        // Stored, as tojson prints it: the long, the decimal's bytes, the double a float widens to.
        assert_eq!(
            render(schema, &data, 1, JsonMode::Plain).unwrap(),
            "{\"ts\":1000000,\"amount\":\"\\u0004Ò\",\"days\":[365],\"f\":0.4000000059604645}\n"
        );
    }

    #[test]
    fn a_datum_that_fails_is_named_by_its_record_and_first_byte() {
        let mut data = Vec::new();
        put_bytes(&mut data, b"ab");
        put_long(&mut data, 8);
        data.push(b'c');
        let error = render(r#""string""#, &data, 2, JsonMode::Plain).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Decode);
        assert!(error.message.starts_with("record 1 of the block (from byte 3): "), "{error}");
    }

    #[test]
    fn the_datums_must_use_the_bytes_up_exactly() {
        let error = render(r#""long""#, &[2, 4, 6], 2, JsonMode::Plain).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Decode);
        assert_eq!(
            error.message,
            "expected the block's 2 records to use all 3 decompressed bytes, found 1 bytes left over from byte 2"
        );
        // A count the bytes cannot hold is refused before any datum is read.
        let error = render(r#""long""#, &[2, 4], 3, JsonMode::Plain).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Format);
        assert_eq!(error.message, "block claims 3 records but its 2 decompressed bytes can hold at most 2");
    }
}
