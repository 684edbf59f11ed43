//! Avro values as JSON text: the values of recursive types (a Polars column has a fixed
//! depth, a recursive Avro value does not), and whole datums for `avro_json` (`tojson`).
//!
//! The rendering: records are objects (fields in schema order), maps are objects,
//! arrays are arrays, an enum is its symbol, bytes and fixed are strings of code points
//! U+0000..U+00FF (as in Avro's JSON encoding), logical types show their underlying
//! value. A union shows the value of its branch ([`JsonMode::Plain`]), or, in Avro's
//! JSON encoding ([`JsonMode::AvroJson`]), `null` or `{"<branch type>": value}`.
//!
//! Floats and doubles: a float is shown as the double it widens to (what fastavro reads:
//! `0.1f32` is `0.10000000149011612`), read back into the same float. NaN and the
//! infinities, which JSON lacks, are the strings "NaN", "Infinity" and "-Infinity" in
//! both modes: what Java's Avro JsonEncoder writes (Jackson quotes them) and its decoder
//! reads. fastavro's json_writer writes them bare (`NaN`), which is not JSON.

use std::fmt::Write;

use super::cursor::Cursor;
use super::readable::write_readable;
use super::skip::{read_union_branch, too_deep, union_resolved, MAX_VALUE_DEPTH};
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, JsonMode, Node, NodeId};

/// The value of node `id` at the cursor as JSON text, unions shown as `mode` says.
pub fn write_json(
    schema: &AvroSchema,
    id: NodeId,
    cur: &mut Cursor,
    out: &mut String,
    depth: usize,
    mode: JsonMode,
) -> AvroResult<()> {
    render(schema, id, cur, out, depth, mode, Logicals::Stored)
}

/// A whole datum as [`write_json`] writes it, its logical types' values shown as `logicals` says.
pub fn write_datum_json(
    schema: &AvroSchema,
    cur: &mut Cursor,
    out: &mut String,
    mode: JsonMode,
    logicals: Logicals,
) -> AvroResult<()> {
    render(schema, schema.root, cur, out, 0, mode, logicals)
}

/// How logical types' values are shown: as they are stored (the Avro JSON encoding's
/// way), or as a person reads them (`readable`: decimal numbers, ISO 8601 times, and
/// floats in their own shortest text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logicals {
    /// The value a logical type is stored as (a decimal's bytes, a timestamp's long).
    Stored,
    /// The value it stands for, as a person reads it.
    Readable,
}

fn render(
    schema: &AvroSchema,
    id: NodeId,
    cur: &mut Cursor,
    out: &mut String,
    depth: usize,
    mode: JsonMode,
    logicals: Logicals,
) -> AvroResult<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    let id = match (mode, schema.node(id)) {
        (JsonMode::AvroJson, Node::Union(branches)) => {
            let branch = branches[read_union_branch(cur, branches.len())?];
            if matches!(schema.node(branch), Node::Null) {
                out.push_str("null");
                return Ok(());
            }
            // The wrapper is no level of its own: its branch takes its place.
            out.push('{');
            write_branch_name(out, schema, branch);
            out.push(':');
            render(schema, branch, cur, out, depth, mode, logicals)?;
            out.push('}');
            return Ok(());
        },
        // A union shows the value of its branch, at its own level.
        _ => union_resolved(schema, id, cur)?,
    };
    if let (Logicals::Readable, Some(logical)) = (logicals, schema.logical(id)) {
        if write_readable(logical, schema.node(id), cur, out)? {
            return Ok(());
        }
    }
    match schema.node(id) {
        Node::Enum { symbols, .. } => {
            let start = cur.position();
            let index = cur.read_long()?;
            let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i)).ok_or_else(|| {
                AvroError::decode(format!(
                    "expected an enum index between 0 and {} at byte {start} of the block data, found {index}",
                    symbols.len().saturating_sub(1)
                ))
            })?;
            write_json_string(out, symbol.chars());
        },
        Node::Record { fields, .. } => {
            out.push('{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, f.name.chars());
                out.push(':');
                render(schema, f.schema, cur, out, depth + 1, mode, logicals)?;
            }
            out.push('}');
        },
        Node::Array(item) => {
            write_json_array(cur, out, |cur, out| render(schema, *item, cur, out, depth + 1, mode, logicals))?
        },
        Node::Map(value) => {
            write_json_map(cur, out, |cur, out| render(schema, *value, cur, out, depth + 1, mode, logicals))?
        },
        Node::Union(_) => unreachable!("union_resolved resolves unions"),
        // A float as the shortest text that reads back as it (`0.4`, not the double it
        // widens to, `0.4000000059604645`).
        Node::Float if logicals == Logicals::Readable => {
            let v = cur.read_f32()?;
            if v.is_finite() {
                write!(out, "{v:?}").unwrap();
            } else {
                write_float(out, f64::from(v));
            }
        },
        scalar => write_scalar(scalar, cur, out)?,
    }
    Ok(())
}

/// A value of a type without parts (null, boolean, the numbers, string, bytes, fixed).
pub fn write_scalar(node: &Node, cur: &mut Cursor, out: &mut String) -> AvroResult<()> {
    match node {
        Node::Null => out.push_str("null"),
        Node::Boolean => out.push_str(if cur.read_bool()? { "true" } else { "false" }),
        Node::Int => write!(out, "{}", cur.read_int()?).unwrap(),
        Node::Long => write!(out, "{}", cur.read_long()?).unwrap(),
        Node::Float => write_float(out, f64::from(cur.read_f32()?)),
        Node::Double => write_float(out, cur.read_f64()?),
        Node::String => write_json_string(out, cur.read_str("a string")?.chars()),
        Node::Bytes => write_json_string(out, cur.read_bytes("a bytes value")?.iter().map(|b| char::from(*b))),
        Node::Fixed { size, .. } => write_json_string(out, cur.read_fixed(*size)?.iter().map(|b| char::from(*b))),
        other => unreachable!("{other:?} has parts"),
    }
    Ok(())
}

/// The name Avro's JSON encoding gives a union's branch, quoted: the full name of a named
/// type, otherwise the type's own name.
pub fn write_branch_name(out: &mut String, schema: &AvroSchema, id: NodeId) {
    write_json_string(out, schema.branch_label(id).chars());
}

/// An Avro array as a JSON array, each item rendered by `item`.
pub fn write_json_array(
    cur: &mut Cursor,
    out: &mut String,
    mut item: impl FnMut(&mut Cursor, &mut String) -> AvroResult<()>,
) -> AvroResult<()> {
    out.push('[');
    let mut first = true;
    cur.for_each_item("array", |cur| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        item(cur, out)
    })?;
    out.push(']');
    Ok(())
}

/// An Avro map as a JSON object, each value rendered by `value`.
pub fn write_json_map(
    cur: &mut Cursor,
    out: &mut String,
    mut value: impl FnMut(&mut Cursor, &mut String) -> AvroResult<()>,
) -> AvroResult<()> {
    out.push('{');
    let mut first = true;
    cur.for_each_item("map", |cur| {
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        let key = cur.read_str("a map key")?;
        write_json_string(out, key.chars());
        out.push(':');
        value(cur, out)
    })?;
    out.push('}');
    Ok(())
}

pub fn write_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("\"NaN\"");
    } else if v.is_infinite() {
        out.push_str(if v > 0.0 { "\"Infinity\"" } else { "\"-Infinity\"" });
    } else {
        write!(out, "{v:?}").unwrap();
    }
}

pub fn write_json_string(out: &mut String, chars: impl Iterator<Item = char>) {
    out.push('"');
    for c in chars {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => write!(out, "\\u{:04x}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::schema::parse_schema;
    use crate::varint::{put_bytes, put_long};

    /// An Avro long's bytes (also an int's, a count's, a union branch's).
    pub(crate) fn long(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, v);
        out
    }

    /// Avro string or bytes: the length, then the bytes.
    pub(crate) fn text(s: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_bytes(&mut out, s);
        out
    }

    /// The value of `schema` in `data` as JSON, all of `data` used.
    fn render(schema: &Value, data: &[u8], mode: JsonMode) -> AvroResult<String> {
        let schema = parse_schema(&schema.to_string()).unwrap();
        let mut cur = Cursor::new(data);
        let mut out = String::new();
        write_json(&schema, schema.root, &mut cur, &mut out, 0, mode)?;
        assert!(cur.is_empty(), "every byte is read");
        Ok(out)
    }

    #[test]
    fn each_type_renders_as_its_json() {
        let cases: Vec<(Value, Vec<u8>, &str)> = vec![
            (json!("null"), vec![], "null"),
            (json!("boolean"), vec![1], "true"),
            (json!("boolean"), vec![0], "false"),
            (json!("int"), long(-3), "-3"),
            (json!("long"), long(i64::MAX), "9223372036854775807"),
            (json!("float"), 0.1f32.to_le_bytes().to_vec(), "0.10000000149011612"),
            (json!("double"), 1.0f64.to_le_bytes().to_vec(), "1.0"),
            (json!("double"), 1e300f64.to_le_bytes().to_vec(), "1e300"),
            (json!("string"), text("é\"".as_bytes()), "\"é\\\"\""),
            (json!("bytes"), text(&[0x00, 0x41, 0xff]), "\"\\u0000Aÿ\""),
            (json!({"type": "fixed", "name": "F", "size": 2}), vec![0xe9, 0x20], "\"é \""),
            (json!({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}), long(2), "\"C\""),
            (json!({"type": "array", "items": "int"}), [long(2), long(1), long(2), long(0)].concat(), "[1,2]"),
            (json!({"type": "array", "items": "int"}), long(0), "[]"),
            (
                json!({"type": "map", "values": "int"}),
                [long(2), text(b"k"), long(1), text(b"j"), long(2), long(0)].concat(),
                "{\"k\":1,\"j\":2}",
            ),
            (
                json!({"type": "record", "name": "R", "fields": [
                    {"name": "a", "type": "int"}, {"name": "b", "type": ["null", "string"]}
                ]}),
                [long(1), long(1), text(b"x")].concat(),
                "{\"a\":1,\"b\":\"x\"}",
            ),
        ];
        for (schema, data, expected) in cases {
            assert_eq!(render(&schema, &data, JsonMode::Plain).unwrap(), expected, "{schema}");
        }
    }

    #[test]
    fn floats_json_lacks_are_quoted_names() {
        let cases = [
            (json!("double"), f64::NAN.to_le_bytes().to_vec(), "\"NaN\""),
            (json!("double"), f64::INFINITY.to_le_bytes().to_vec(), "\"Infinity\""),
            (json!("float"), f32::NEG_INFINITY.to_le_bytes().to_vec(), "\"-Infinity\""),
        ];
        for (schema, data, expected) in cases {
            for mode in [JsonMode::Plain, JsonMode::AvroJson] {
                assert_eq!(render(&schema, &data, mode).unwrap(), expected, "{schema}");
            }
        }
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters_only() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\nd\re\tf\u{1}g\u{1f}h\u{7f}/é".chars());
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001fh\u{7f}/é\"");
    }

    #[test]
    fn a_union_shows_its_value_or_in_avro_json_its_branch_by_name() {
        let schema = json!([
            "null",
            "int",
            {"type": "record", "name": "P", "namespace": "n", "fields": [{"name": "x", "type": "int"}]},
            {"type": "long", "logicalType": "timestamp-millis"},
            {"type": "array", "items": "int"},
        ]);
        for (data, plain, avro_json) in [
            (long(0), "null", "null"),
            ([long(1), long(3)].concat(), "3", "{\"int\":3}"),
            ([long(2), long(1)].concat(), "{\"x\":1}", "{\"n.P\":{\"x\":1}}"),
            ([long(3), long(5)].concat(), "5", "{\"long\":5}"),
            ([long(4), long(0)].concat(), "[]", "{\"array\":[]}"),
        ] {
            assert_eq!(render(&schema, &data, JsonMode::Plain).unwrap(), plain);
            assert_eq!(render(&schema, &data, JsonMode::AvroJson).unwrap(), avro_json);
        }
    }

    #[test]
    fn indices_past_the_symbols_or_branches_are_decode_errors() {
        let enum_schema = json!({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]});
        for index in [3, -1] {
            let error = render(&enum_schema, &long(index), JsonMode::Plain).unwrap_err();
            assert_eq!(error.kind, crate::error::ErrorKind::Decode);
            assert_eq!(
                error.message,
                format!("expected an enum index between 0 and 2 at byte 0 of the block data, found {index}")
            );
        }
        for mode in [JsonMode::Plain, JsonMode::AvroJson] {
            let error = render(&json!(["null", "int"]), &long(2), mode).unwrap_err();
            assert_eq!(
                error.message,
                "expected a union branch index between 0 and 1 at byte 0 of the block data, found 2"
            );
        }
    }
}
