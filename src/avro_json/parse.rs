//! JSON lines as datums of a writer schema (`fromjson`): the inverse of `render`. Each
//! non-blank line is one JSON value, one datum, encoded by the schema's JSON encoder
//! (`schema::json`, which says what each mode takes); a field the record lacks is an
//! error. JSON nests at most 128 levels here (serde_json's bound): deeper values are
//! refused.

use serde_json::Value;

use crate::error::{AvroError, AvroResult};
use crate::schema::{encode_json, AvroSchema, JsonMode};

/// The JSON lines of `text` (blank lines skipped) as concatenated datums of `schema`, and
/// how many. `first_line` is the number of the first line of `text`, so that errors name
/// the line of the whole input when it comes in chunks.
pub fn encode_lines(schema: &AvroSchema, text: &[u8], mode: JsonMode, first_line: u64) -> AvroResult<(Vec<u8>, usize)> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut count = 0;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = first_line.saturating_add(i as u64);
        let value: Value = serde_json::from_slice(line).map_err(|e| not_json(number, &e))?;
        encode_json(schema, schema.root, &value, mode, &mut out).map_err(|mut e| {
            e.message = format!("line {number}{}", e.message);
            e
        })?;
        count += 1;
    }
    Ok((out, count))
}

fn not_json(line: u64, e: &serde_json::Error) -> AvroError {
    // serde_json says where as "... at line 1 column 7"; the line is ours to count.
    let text = e.to_string();
    let what = text.rfind(" at line ").map_or(text.as_str(), |at| &text[..at]);
    AvroError::encode(format!("line {line}, column {}: expected a JSON value, found invalid JSON: {what}", e.column()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{write_json, Cursor};
    use crate::schema::parse_schema;

    fn encode(schema: &str, text: &str, mode: JsonMode) -> AvroResult<(Vec<u8>, usize)> {
        encode_lines(&parse_schema(schema).unwrap(), text.as_bytes(), mode, 1)
    }

    fn render(schema: &str, data: &[u8], mode: JsonMode) -> String {
        let schema = parse_schema(schema).unwrap();
        let mut out = String::new();
        let mut cur = Cursor::new(data);
        while !cur.is_empty() {
            write_json(&schema, schema.root, &mut cur, &mut out, 0, mode).unwrap();
            out.push('\n');
        }
        out
    }

    const RECORD: &str = r#"{"type": "record", "name": "R", "namespace": "n", "fields": [
        {"name": "i", "type": "int"},
        {"name": "u", "type": ["null", "long", "string", {"type": "record", "name": "S", "fields": [
            {"name": "b", "type": "bytes"}]}]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}, "default": "B"},
        {"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}},
        {"name": "m", "type": {"type": "map", "values": ["null", "double"]}},
        {"name": "a", "type": {"type": "array", "items": "float"}}
    ]}"#;

    #[test]
    fn each_mode_reads_back_what_it_renders() {
        let avro_json = concat!(
            r#"{"i":-3,"u":{"n.S":{"b":"\u0000ÿ"}},"e":"A","f":"ab","m":{"x":{"double":1.5},"y":null},"a":[0.5,"NaN"]}"#,
            "\n",
            r#"{"i":2147483647,"u":null,"e":"B","f":"\u0001\u0002","m":{},"a":[]}"#,
            "\n",
            r#"{"i":0,"u":{"long":7},"e":"B","f":"zz","m":{"k":{"double":"-Infinity"}},"a":[-1.0]}"#,
            "\n",
        );
        let (data, count) = encode(RECORD, avro_json, JsonMode::AvroJson).unwrap();
        assert_eq!(count, 3);
        assert_eq!(render(RECORD, &data, JsonMode::AvroJson), avro_json);
        let plain = render(RECORD, &data, JsonMode::Plain);
        assert!(plain.starts_with(r#"{"i":-3,"u":{"b":"\u0000ÿ"},"e":"A","f":"ab","m":{"x":1.5,"y":null}"#), "{plain}");
        let (again, count) = encode(RECORD, &plain, JsonMode::Plain).unwrap();
        assert_eq!((again, count), (data, 3));
    }

    #[test]
    fn plain_unions_take_the_first_branch_that_fits() {
        let schema = r#"["null", "int", "double", "string", {"type": "enum", "name": "E", "symbols": ["x"]}]"#;
        let (data, _) = encode(schema, "null\n5\n3000000000\n2.5\n\"x\"\n\"NaN\"\n", JsonMode::Plain).unwrap();
        // int 5; 3e9 does not fit an int: a double; "x" is a string before it is a symbol;
        // "NaN" is a double, the double branch coming before the string.
        let rendered = render(schema, &data, JsonMode::AvroJson);
        assert_eq!(
            rendered,
            "null\n{\"int\":5}\n{\"double\":3000000000.0}\n{\"double\":2.5}\n{\"string\":\"x\"}\n{\"double\":\"NaN\"}\n"
        );
    }

    #[test]
    fn errors_name_the_line_the_field_and_what_was_found() {
        let ok = r#"{"i":1,"u":null,"f":"ab","m":{},"a":[]}"#;
        let cases = [
            (r#"{"i":1,"u":null,"f":"ab","m":{},"a":[]"#, "line 3, column"),
            (r#"{"i":2147483648,"u":null,"f":"ab","m":{},"a":[]}"#, "line 3, field 'i': expected an int"),
            (r#"{"i":1.0,"u":null,"f":"ab","m":{},"a":[]}"#, "found 1.0"),
            (r#"{"u":null,"f":"ab","m":{},"a":[]}"#, "field 'i': expected the field"),
            (r#"{"i":1,"u":{"S":{"b":""}},"f":"ab","m":{},"a":[]}"#, "found the branch name \"S\""),
            (r#"{"i":1,"u":7,"f":"ab","m":{},"a":[]}"#, "field 'u': expected a union value"),
            (
                r#"{"i":1,"u":null,"e":"C","f":"ab","m":{},"a":[]}"#,
                "expected a symbol of enum 'n.E' (A, B), found \"C\"",
            ),
            (r#"{"i":1,"u":null,"f":"abc","m":{},"a":[]}"#, "found 3 code points"),
            (r#"{"i":1,"u":null,"f":"a€","m":{},"a":[]}"#, "code point U+20AC"),
            (r#"{"i":1,"u":null,"f":"ab","m":{"k":{"int":1}},"a":[]}"#, "field 'm[\"k\"]'"),
            (r#"{"i":1,"u":null,"f":"ab","m":{},"a":[1e39]}"#, "field 'a[0]': expected a float"),
            (r#"{"i":1,"u":null,"f":"ab","m":{},"a":[],"z":0}"#, "found the unknown field \"z\""),
        ];
        for (line, expected) in cases {
            let text = format!("{ok}\n\n{line}\n");
            let err = encode(RECORD, &text, JsonMode::AvroJson).unwrap_err();
            assert!(err.message.contains(expected), "{} does not say {expected}", err.message);
            assert!(err.message.starts_with("line 3"), "{}", err.message);
        }
    }

    #[test]
    fn doubles_read_back_to_the_same_bits() {
        // Shortest texts the default serde_json parser reads one bit off (float_roundtrip).
        let values = [1.1425670480148526e-254, 5e-324, f64::MAX, -0.0, 0.1 + 0.2, 2.2250738585072014e-308];
        let mut data = Vec::new();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let text = render(r#""double""#, &data, JsonMode::Plain);
        assert_eq!(encode(r#""double""#, &text, JsonMode::Plain).unwrap(), (data, values.len()));
    }

    #[test]
    fn missing_fields_take_their_default() {
        let (data, _) = encode(RECORD, r#"{"i":1,"u":null,"f":"ab","m":{},"a":[]}"#, JsonMode::AvroJson).unwrap();
        assert_eq!(
            render(RECORD, &data, JsonMode::Plain),
            "{\"i\":1,\"u\":null,\"e\":\"B\",\"f\":\"ab\",\"m\":{},\"a\":[]}\n"
        );
    }
}
