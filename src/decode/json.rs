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
            write_json(schema, branch, cur, out, depth, mode)?;
            out.push('}');
            return Ok(());
        },
        // A union shows the value of its branch, at its own level.
        _ => union_resolved(schema, id, cur)?,
    };
    match schema.node(id) {
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
                write_json(schema, f.schema, cur, out, depth + 1, mode)?;
            }
            out.push('}');
        },
        Node::Array(item) => {
            write_json_array(cur, out, |cur, out| write_json(schema, *item, cur, out, depth + 1, mode))?
        },
        Node::Map(value) => write_json_map(cur, out, |cur, out| write_json(schema, *value, cur, out, depth + 1, mode))?,
        Node::Union(_) => unreachable!("union_resolved resolves unions"),
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
