//! Skipping values nobody asked for: walks the bytes by schema without materializing
//! anything, jumping over whole array and map blocks when the writer recorded their size.

use super::cursor::Cursor;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, Node, NodeId};

/// Recursive types can nest as deep as the data says; past this the data is rejected.
pub const MAX_VALUE_DEPTH: usize = 4096;

pub fn skip_value(schema: &AvroSchema, id: NodeId, cur: &mut Cursor, depth: usize) -> AvroResult<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(AvroError::decode(format!("values nest deeper than {MAX_VALUE_DEPTH} levels")));
    }
    match schema.node(id) {
        Node::Null => Ok(()),
        Node::Boolean => cur.read_bool().map(|_| ()),
        Node::Int | Node::Long | Node::Enum { .. } => cur.read_long().map(|_| ()),
        Node::Float => cur.skip(4),
        Node::Double => cur.skip(8),
        Node::Bytes | Node::String => cur.read_bytes("a skipped string or bytes value").map(|_| ()),
        Node::Fixed { size, .. } => cur.skip(*size),
        Node::Record { fields, .. } => {
            for f in fields {
                skip_value(schema, f.schema, cur, depth + 1)?;
            }
            Ok(())
        },
        Node::Array(item) => skip_blocks(cur, "array", |cur| skip_value(schema, *item, cur, depth + 1)),
        Node::Map(value) => skip_blocks(cur, "map", |cur| {
            cur.read_bytes("a map key")?;
            skip_value(schema, *value, cur, depth + 1)
        }),
        Node::Union(branches) => {
            let branch = read_union_branch(cur, branches.len())?;
            skip_value(schema, branches[branch], cur, depth + 1)
        },
    }
}

fn skip_blocks(
    cur: &mut Cursor,
    what: &str,
    mut skip_item: impl FnMut(&mut Cursor) -> AvroResult<()>,
) -> AvroResult<()> {
    loop {
        let (count, byte_size) = cur.read_block_header(what)?;
        if count == 0 {
            return Ok(());
        }
        match byte_size {
            Some(size) => cur.skip(size)?,
            None => {
                for _ in 0..count {
                    skip_item(cur)?;
                }
            },
        }
    }
}

/// Reads a union's branch index and checks it against the number of branches.
#[inline]
pub fn read_union_branch(cur: &mut Cursor, n_branches: usize) -> AvroResult<usize> {
    let start = cur.position();
    let index = cur.read_long()?;
    if index < 0 || index as u64 >= n_branches as u64 {
        return Err(AvroError::decode(format!(
            "expected a union branch index between 0 and {} at byte {start} of the block data, found {index}",
            n_branches.saturating_sub(1)
        )));
    }
    Ok(index as usize)
}
