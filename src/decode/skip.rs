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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::avro_json::random_datums;
    use crate::decode::write_json;
    use crate::schema::{parse_schema, JsonMode};
    use crate::varint::put_long;

    fn schema(value: serde_json::Value) -> AvroSchema {
        parse_schema(&value.to_string()).unwrap()
    }

    #[test]
    fn plain_types_and_their_nullable_unions_compile_to_skips_without_the_schema() {
        let cases = [
            (json!("null"), SkipOp::Plain(PlainSkip::Fixed(0))),
            (json!("boolean"), SkipOp::Plain(PlainSkip::Boolean)),
            (json!("long"), SkipOp::Plain(PlainSkip::Varint)),
            (json!({"type": "enum", "name": "E", "symbols": ["A"]}), SkipOp::Plain(PlainSkip::Varint)),
            (json!("double"), SkipOp::Plain(PlainSkip::Fixed(8))),
            (json!({"type": "fixed", "name": "F", "size": 3}), SkipOp::Plain(PlainSkip::Fixed(3))),
            (json!("string"), SkipOp::Plain(PlainSkip::LengthPrefixed)),
            (json!(["null", "float"]), SkipOp::Nullable { null_index: 0, inner: PlainSkip::Fixed(4) }),
            (json!(["bytes", "null"]), SkipOp::Nullable { null_index: 1, inner: PlainSkip::LengthPrefixed }),
        ];
        for (ty, op) in cases {
            let s = schema(ty.clone());
            assert_eq!(SkipOp::compile(&s, s.root), op, "{ty}");
        }
        for ty in [json!(["null", "int", "string"]), json!(["int", "string"]), json!({"type": "array", "items": "int"})]
        {
            let s = schema(ty.clone());
            assert_eq!(SkipOp::compile(&s, s.root), SkipOp::Value(s.root), "{ty}");
        }
    }

    #[test]
    fn only_fixed_size_runs_merge() {
        let fixed = |n| SkipOp::Plain(PlainSkip::Fixed(n));
        assert_eq!(fixed(4).merge(fixed(8)), Some(fixed(12)));
        assert_eq!(fixed(4).merge(SkipOp::Plain(PlainSkip::Varint)), None);
        assert_eq!(SkipOp::Plain(PlainSkip::Varint).merge(fixed(4)), None);
        assert_eq!(fixed(usize::MAX).merge(fixed(1)), None);
    }

    /// Skipping datums ends each exactly where rendering it (a full decode) ends it.
    #[test]
    fn a_skip_steps_over_exactly_the_bytes_a_decode_reads() {
        let schemas = [
            json!("long"),
            json!(["null", "double"]),
            json!(["null", "int", "string", {"type": "fixed", "name": "F", "size": 2}]),
            json!({"type": "array", "items": ["null", "string"]}),
            json!({"type": "map", "values": {"type": "array", "items": "boolean"}}),
            json!({"type": "record", "name": "R", "fields": [
                {"name": "a", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y"]}},
                {"name": "b", "type": {"type": "map", "values": "float"}},
                {"name": "next", "type": ["null", "R"]}]}),
        ];
        for ty in schemas {
            let s = schema(ty.clone());
            for seed in 0..20 {
                let data = random_datums(&s, 8, seed, 0).unwrap();
                let (mut skipping, mut decoding) = (Cursor::new(&data), Cursor::new(&data));
                for _ in 0..8 {
                    SkipOp::compile(&s, s.root).skip(&s, &mut skipping).unwrap();
                    write_json(&s, s.root, &mut decoding, &mut String::new(), 0, JsonMode::Plain).unwrap();
                    assert_eq!(skipping.position(), decoding.position(), "{ty}, seed {seed}");
                }
                assert!(skipping.is_empty());
            }
        }
    }

    #[test]
    fn array_blocks_with_a_byte_size_are_jumped_over() {
        let s = schema(json!({"type": "array", "items": "long"}));
        // A block of -2 items (2 items, byte size given) of 2 bytes, then the end.
        let mut data = Vec::new();
        put_long(&mut data, -2);
        put_long(&mut data, 2);
        data.extend_from_slice(&[0x7f, 0x7f]);
        put_long(&mut data, 0);
        let mut cur = Cursor::new(&data);
        skip_value(&s, s.root, &mut cur, 0).unwrap();
        assert!(cur.is_empty());
        // A byte size past the data is an error naming it.
        let mut bad = Vec::new();
        put_long(&mut bad, -1);
        put_long(&mut bad, 100);
        let message = skip_value(&s, s.root, &mut Cursor::new(&bad), 0).unwrap_err().to_string();
        assert!(
            message.contains("invalid array block at byte 0 of the block data: count -1, byte size 100"),
            "{message}"
        );
    }

    #[test]
    fn values_nested_past_the_bound_are_refused() {
        let s = schema(json!({"type": "record", "name": "R", "fields": [{"name": "next", "type": ["null", "R"]}]}));
        // Branch 1 (R) again and again, never the null that would end it.
        let data = vec![2u8; MAX_VALUE_DEPTH + 2];
        let message = skip_value(&s, s.root, &mut Cursor::new(&data), 0).unwrap_err().to_string();
        assert!(message.contains(&format!("values nest deeper than {MAX_VALUE_DEPTH} levels")), "{message}");
    }
}
