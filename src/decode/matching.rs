//! The specification's matching rules, shared by the resolution into columns
//! (`resolve.rs`) and into JSON text (`json_resolve.rs`): which names match, which
//! reader field a writer's field is, which reader symbol a writer's, which union branch
//! a writer's type goes to.

use std::collections::HashMap;

use crate::error::{AvroError, AvroResult};
use crate::schema::{encode_default, AvroSchema, Field, Name, Node, NodeId};

/// The first reader branch (position in `branches`) that the writer's `writer_node` can be read
/// as: the same type (or named type of the same name) first, then a promotion.
pub fn matching_branch(
    writer: &AvroSchema,
    reader: &AvroSchema,
    writer_node: NodeId,
    branches: &[(usize, NodeId)],
) -> Option<usize> {
    let same = |candidate: NodeId| match (writer.node(writer_node), reader.node(candidate)) {
        (Node::Record { name: a, .. }, Node::Record { name: b, .. })
        | (Node::Enum { name: a, .. }, Node::Enum { name: b, .. })
        | (Node::Fixed { name: a, .. }, Node::Fixed { name: b, .. }) => b.reads(a),
        (Node::Array(_), Node::Array(_)) | (Node::Map(_), Node::Map(_)) => true,
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    };
    let promotes = |candidate: NodeId| {
        matches!(
            (writer.node(writer_node), reader.node(candidate)),
            (Node::Int, Node::Long | Node::Float | Node::Double)
                | (Node::Long, Node::Float | Node::Double)
                | (Node::Float, Node::Double)
                | (Node::String, Node::Bytes)
                | (Node::Bytes, Node::String)
        )
    };
    branches
        .iter()
        .position(|(_, candidate)| same(*candidate))
        .or_else(|| branches.iter().position(|(_, candidate)| promotes(*candidate)))
}

/// The reader's fields by the names a writer's field may have: a reader field matches a
/// writer field by its name, else by one of its aliases.
pub fn reader_fields_by_name(reader_fields: &[Field]) -> HashMap<&str, usize> {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, field) in reader_fields.iter().enumerate().rev() {
        for alias in &field.aliases {
            by_name.insert(alias.as_str(), i);
        }
    }
    for (i, field) in reader_fields.iter().enumerate().rev() {
        by_name.insert(field.name.as_str(), i);
    }
    by_name
}

/// The reader's symbol (index) for each of the writer's: the same symbol, else the
/// reader's default, else None (an error when a value has it).
pub fn enum_to_reader(writer_symbols: &[String], reader_symbols: &[String], default: Option<&str>) -> Vec<Option<u32>> {
    let symbol = |s: &str| reader_symbols.iter().position(|x| x == s).map(|p| p as u32);
    let fallback = default.and_then(symbol);
    writer_symbols.iter().map(|s| symbol(s).or(fallback)).collect()
}

/// Two fixed types match by name (as [`check_names`]) and size.
pub fn check_fixed(writer: (&Name, usize), reader: (&Name, usize), path: &str) -> AvroResult<()> {
    check_names(writer.0, reader.0, path)?;
    if writer.1 != reader.1 {
        return Err(AvroError::schema(format!(
            "at '{path}': the writer's fixed has {} bytes, the reader's {}",
            writer.1, reader.1
        )));
    }
    Ok(())
}

pub fn check_names(writer: &Name, reader: &Name, path: &str) -> AvroResult<()> {
    if reader.reads(writer) {
        return Ok(());
    }
    let aliases = match reader.aliases.as_slice() {
        [] => "no aliases".to_string(),
        aliases => format!("the aliases {}", aliases.join(", ")),
    };
    Err(AvroError::schema(format!(
        "at '{path}': the writer's type is named '{}' and the reader's '{}' (with {aliases}); a named type \
        resolves by its name or by one of the reader's aliases",
        writer.fullname(),
        reader.fullname()
    )))
}

// The schema errors both resolutions give, worded once.

/// A writer's type that no branch of the reader's union takes.
pub fn no_reader_branch(writer: &AvroSchema, writer_node: NodeId, path: &str) -> AvroError {
    AvroError::schema(format!(
        "at '{path}': the writer's {} matches no branch of the reader's union",
        writer.type_name(writer_node)
    ))
}

/// A writer's union no branch of which the reader's type takes.
pub fn no_writer_branch(writer_types: &[String], reader_type: &str, path: &str) -> AvroError {
    AvroError::schema(format!(
        "at '{path}': no branch of the writer's union [{}] can be read as the reader's {reader_type}",
        writer_types.join(", ")
    ))
}

/// The value of a reader's field the writer lacks, at `at`: its default, encoded as Avro
/// binary, decoded in each record like a value the writer wrote. Without a default, an error.
pub fn encoded_default(reader: &AvroSchema, field: &Field, at: &str) -> AvroResult<Vec<u8>> {
    let Some(default) = &field.default else {
        return Err(AvroError::schema(format!(
            "the reader's field '{at}' is not in the writer's schema and has no default"
        )));
    };
    let mut encoded = Vec::new();
    encode_default(reader, field.schema, default, &mut encoded, at)?;
    Ok(encoded)
}

/// Types that do not resolve.
pub fn cannot_read(
    writer: &AvroSchema,
    reader: &AvroSchema,
    writer_node: NodeId,
    reader_node: NodeId,
    path: &str,
) -> AvroError {
    AvroError::schema(format!(
        "at '{path}': the writer's {} cannot be read as the reader's {}",
        writer.type_name(writer_node),
        reader.type_name(reader_node)
    ))
}
