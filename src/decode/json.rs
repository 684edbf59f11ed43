//! Values of recursive types become JSON text: a Polars column has a fixed depth, a
//! recursive Avro value does not.
//!
//! The rendering: records and maps are objects, arrays are arrays, a union shows the
//! value of its branch, an enum its symbol, bytes and fixed are strings of code points
//! U+0000..U+00FF (as in Avro's JSON encoding), NaN and infinities are the strings
//! "NaN", "Infinity" and "-Infinity".

use std::fmt::Write;

use super::cursor::Cursor;
use super::skip::{too_deep, union_resolved, MAX_VALUE_DEPTH};
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, Node, NodeId};

pub fn write_json(schema: &AvroSchema, id: NodeId, cur: &mut Cursor, out: &mut String, depth: usize) -> AvroResult<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    // A union shows the value of its branch, at its own level.
    match schema.node(union_resolved(schema, id, cur)?) {
        Node::Null => out.push_str("null"),
        Node::Boolean => out.push_str(if cur.read_bool()? { "true" } else { "false" }),
        Node::Int => write!(out, "{}", cur.read_int()?).unwrap(),
        Node::Long => write!(out, "{}", cur.read_long()?).unwrap(),
        Node::Float => write_float(out, f64::from(cur.read_f32()?)),
        Node::Double => write_float(out, cur.read_f64()?),
        Node::String => {
            let bytes = cur.read_str("a string")?;
            write_json_string(out, bytes.chars());
        },
        Node::Bytes => {
            let bytes = cur.read_bytes("a bytes value")?;
            write_json_string(out, bytes.iter().map(|b| char::from(*b)));
        },
        Node::Fixed { size, .. } => {
            let bytes = cur.read_fixed(*size)?;
            write_json_string(out, bytes.iter().map(|b| char::from(*b)));
        },
        Node::Enum { symbols, .. } => {
            let index = cur.read_long()?;
            let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i)).ok_or_else(|| {
                AvroError::decode(format!("expected an enum index below {}, found {index}", symbols.len()))
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
                write_json(schema, f.schema, cur, out, depth + 1)?;
            }
            out.push('}');
        },
        Node::Array(item) => write_json_array(cur, out, |cur, out| write_json(schema, *item, cur, out, depth + 1))?,
        Node::Map(value) => write_json_map(cur, out, |cur, out| write_json(schema, *value, cur, out, depth + 1))?,
        Node::Union(_) => unreachable!("union_resolved resolves unions"),
    }
    Ok(())
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
