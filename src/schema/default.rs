//! The JSON defaults of record fields, encoded as Avro binary: a reader field the writer
//! lacks is then decoded from its default like any value.

use serde_json::Value;

use super::model::{field_path, AvroSchema, Node, NodeId};
use crate::error::{AvroError, AvroResult};
use crate::varint::{put_bytes, put_long};

/// Encodes a field's JSON default as Avro binary of reader node `id` (the specification's
/// JSON encoding of defaults: bytes and fixed as strings of code points 0-255, a union's
/// default matching one of its branches).
pub fn encode_default(
    schema: &AvroSchema,
    id: NodeId,
    value: &Value,
    out: &mut Vec<u8>,
    path: &str,
    depth: usize,
) -> AvroResult<()> {
    let bad = || {
        AvroError::schema(format!(
            "the default of '{path}', {value}, is not a value of its type {}",
            schema.type_name(id)
        ))
    };
    if depth > 64 {
        return Err(bad());
    }
    match schema.node(id) {
        Node::Null => value.is_null().then_some(()).ok_or_else(bad)?,
        Node::Boolean => out.push(value.as_bool().ok_or_else(bad)? as u8),
        Node::Int => put_long(out, i64::from(value.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(bad)?)),
        Node::Long => put_long(out, value.as_i64().ok_or_else(bad)?),
        Node::Float => out.extend_from_slice(&(value.as_f64().ok_or_else(bad)? as f32).to_le_bytes()),
        Node::Double => out.extend_from_slice(&value.as_f64().ok_or_else(bad)?.to_le_bytes()),
        Node::String => put_bytes(out, value.as_str().ok_or_else(bad)?.as_bytes()),
        Node::Bytes => put_bytes(out, &code_points(value).ok_or_else(bad)?),
        Node::Fixed { size, .. } => {
            let bytes = code_points(value).filter(|b| b.len() == *size).ok_or_else(bad)?;
            out.extend_from_slice(&bytes);
        },
        Node::Enum { symbols, .. } => {
            let symbol = value.as_str().ok_or_else(bad)?;
            put_long(out, symbols.iter().position(|s| s == symbol).ok_or_else(bad)? as i64);
        },
        Node::Array(item) => {
            let items = value.as_array().ok_or_else(bad)?;
            if !items.is_empty() {
                put_long(out, items.len() as i64);
                for v in items {
                    encode_default(schema, *item, v, out, path, depth + 1)?;
                }
            }
            put_long(out, 0);
        },
        Node::Map(inner) => {
            let entries = value.as_object().ok_or_else(bad)?;
            if !entries.is_empty() {
                put_long(out, entries.len() as i64);
                for (k, v) in entries {
                    put_bytes(out, k.as_bytes());
                    encode_default(schema, *inner, v, out, path, depth + 1)?;
                }
            }
            put_long(out, 0);
        },
        Node::Record { fields, .. } => {
            let object = value.as_object().ok_or_else(bad)?;
            for f in fields {
                let v = object.get(&f.name).or(f.default.as_ref()).ok_or_else(bad)?;
                encode_default(schema, f.schema, v, out, &field_path(path, &f.name), depth + 1)?;
            }
        },
        Node::Union(branches) => {
            // The first branch the value fits (Avro 1.12; before, always the first branch).
            for (i, branch) in branches.iter().enumerate() {
                let mut encoded = Vec::new();
                if encode_default(schema, *branch, value, &mut encoded, path, depth + 1).is_ok() {
                    put_long(out, i as i64);
                    out.extend_from_slice(&encoded);
                    return Ok(());
                }
            }
            return Err(bad());
        },
    }
    Ok(())
}

/// A JSON string of code points 0-255 as bytes (Avro's JSON encoding of bytes and fixed).
fn code_points(value: &Value) -> Option<Vec<u8>> {
    value.as_str()?.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}
