//! Skipping values nobody asked for: walks the bytes by schema without materializing
//! anything, jumping over whole array and map blocks when the writer recorded their size.

use super::cursor::Cursor;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, Node, NodeId};

/// How to step over a top-level field nobody asked for, compiled once per plan: the
/// common shapes skip without walking the schema, and neighbouring fixed-size fields are
/// stepped over in one go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipOp {
    Plain(PlainSkip),
    /// A `[null, T]` union (either order) of a plain T.
    Nullable {
        null_index: usize,
        inner: PlainSkip,
    },
    /// Anything else: walk the value by its schema.
    Value(NodeId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainSkip {
    /// int, long, enum.
    Varint,
    Boolean,
    /// null, float, double, fixed, and runs of them.
    Fixed(usize),
    /// string, bytes.
    LengthPrefixed,
}

impl PlainSkip {
    fn of(node: &Node) -> Option<Self> {
        Some(match node {
            Node::Null => PlainSkip::Fixed(0),
            Node::Boolean => PlainSkip::Boolean,
            Node::Int | Node::Long | Node::Enum { .. } => PlainSkip::Varint,
            Node::Float => PlainSkip::Fixed(4),
            Node::Double => PlainSkip::Fixed(8),
            Node::Fixed { size, .. } => PlainSkip::Fixed(*size),
            Node::Bytes | Node::String => PlainSkip::LengthPrefixed,
            _ => return None,
        })
    }

    #[inline(always)]
    fn skip(self, cur: &mut Cursor) -> AvroResult<()> {
        match self {
            PlainSkip::Varint => cur.read_long().map(|_| ()),
            PlainSkip::Boolean => cur.read_bool().map(|_| ()),
            PlainSkip::Fixed(n) => cur.skip(n),
            PlainSkip::LengthPrefixed => cur.read_bytes("a skipped string or bytes value").map(|_| ()),
        }
    }
}

impl SkipOp {
    pub fn compile(schema: &AvroSchema, id: NodeId) -> Self {
        if let Some(plain) = PlainSkip::of(schema.node(id)) {
            return SkipOp::Plain(plain);
        }
        if let Node::Union(branches) = schema.node(id) {
            if let [a, b] = branches.as_slice() {
                let (a, b) = (schema.node(*a), schema.node(*b));
                match (a, b, PlainSkip::of(a), PlainSkip::of(b)) {
                    (Node::Null, _, _, Some(inner)) => return SkipOp::Nullable { null_index: 0, inner },
                    (_, Node::Null, Some(inner), _) => return SkipOp::Nullable { null_index: 1, inner },
                    _ => {},
                }
            }
        }
        SkipOp::Value(id)
    }

    /// `self` followed by `next` as one op, when both are runs of fixed size.
    pub fn merge(self, next: SkipOp) -> Option<SkipOp> {
        match (self, next) {
            (SkipOp::Plain(PlainSkip::Fixed(a)), SkipOp::Plain(PlainSkip::Fixed(b))) => {
                Some(SkipOp::Plain(PlainSkip::Fixed(a.checked_add(b)?)))
            },
            _ => None,
        }
    }

    #[inline(always)]
    pub fn skip(self, schema: &AvroSchema, cur: &mut Cursor) -> AvroResult<()> {
        match self {
            SkipOp::Plain(plain) => plain.skip(cur),
            SkipOp::Nullable { null_index, inner } => {
                if read_union_branch(cur, 2)? != null_index {
                    inner.skip(cur)?;
                }
                Ok(())
            },
            SkipOp::Value(id) => {
                // A copy goes out of line, so that the caller's cursor can stay in registers.
                let mut walked = *cur;
                let result = skip_value(schema, id, &mut walked, 0);
                *cur = walked;
                result
            },
        }
    }
}

/// Recursive types can nest as deep as the data says; past this the data is rejected.
/// A union is no level of its own: its branch takes its place.
pub const MAX_VALUE_DEPTH: usize = 4096;

/// The node a value of `id` is: for a union, its branch, as the value's index says.
#[inline(always)]
pub fn union_resolved(schema: &AvroSchema, mut id: NodeId, cur: &mut Cursor) -> AvroResult<NodeId> {
    while let Node::Union(branches) = schema.node(id) {
        id = branches[read_union_branch(cur, branches.len())?];
    }
    Ok(id)
}

/// The error of a value nested deeper than [`MAX_VALUE_DEPTH`].
#[cold]
pub fn too_deep() -> AvroError {
    AvroError::decode(format!("values nest deeper than {MAX_VALUE_DEPTH} levels"))
}

#[inline(never)]
pub fn skip_value(schema: &AvroSchema, id: NodeId, cur: &mut Cursor, depth: usize) -> AvroResult<()> {
    if depth > MAX_VALUE_DEPTH {
        return Err(too_deep());
    }
    match schema.node(union_resolved(schema, id, cur)?) {
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
        Node::Union(_) => unreachable!("union_resolved resolves unions"),
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
#[inline(always)]
pub fn read_union_branch(cur: &mut Cursor, n_branches: usize) -> AvroResult<usize> {
    let start = cur.position();
    let index = cur.read_long()?;
    if index < 0 || index as u64 >= n_branches as u64 {
        return Err(bad_branch(start, index, n_branches));
    }
    Ok(index as usize)
}

#[cold]
#[inline(never)]
fn bad_branch(start: usize, index: i64, n_branches: usize) -> AvroError {
    AvroError::decode(format!(
        "expected a union branch index between 0 and {} at byte {start} of the block data, found {index}",
        n_branches.saturating_sub(1)
    ))
}
