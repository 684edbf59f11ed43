//! The specification's matching rules, shared by the resolution into columns
//! (`resolve.rs`) and into JSON text (`json_resolve.rs`): which names match, which
//! reader field a writer's field is, which reader symbol a writer's, which union branch
//! a writer's type goes to.

use std::collections::HashMap;

use crate::error::{AvroError, AvroResult};
use crate::schema::{encode_default, AvroSchema, Field, Name, Node, NodeId};

/// Whether the reader's `reader` type without parts takes the writer's `writer` values as
/// they are: the same primitive type, or an int as a long (both varints).
pub fn reads_as_written(writer: &Node, reader: &Node) -> bool {
    matches!(
        (writer, reader),
        (Node::Null, Node::Null)
            | (Node::Boolean, Node::Boolean)
            | (Node::Int | Node::Long, Node::Long)
            | (Node::Int, Node::Int)
            | (Node::Float, Node::Float)
            | (Node::Double, Node::Double)
            | (Node::String, Node::String)
            | (Node::Bytes, Node::Bytes)
    )
}

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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::parse_schema;

    fn schema(value: serde_json::Value) -> AvroSchema {
        parse_schema(&value.to_string()).unwrap()
    }

    /// A union schema's branches, as the resolution hands them to `matching_branch`.
    fn branches(union: &AvroSchema) -> Vec<(usize, NodeId)> {
        let Node::Union(ids) = union.node(union.root) else { panic!("not a union") };
        ids.iter().copied().enumerate().collect()
    }

    fn fields(record: &AvroSchema) -> &[Field] {
        let Node::Record { fields, .. } = record.node(record.root) else { panic!("not a record") };
        fields
    }

    fn name(name: &str, namespace: Option<&str>, aliases: &[&str]) -> Name {
        let aliases = aliases.iter().map(|a| a.to_string()).collect();
        Name { name: name.into(), namespace: namespace.map(Into::into), aliases }
    }

    #[test]
    fn only_the_same_primitive_or_an_int_as_a_long_reads_as_written() {
        let all =
            [Node::Null, Node::Boolean, Node::Int, Node::Long, Node::Float, Node::Double, Node::String, Node::Bytes];
        for writer in &all {
            for reader in &all {
                let expected = writer == reader || (writer, reader) == (&Node::Int, &Node::Long);
                assert_eq!(reads_as_written(writer, reader), expected, "{writer:?} as {reader:?}");
            }
        }
        // Promotions that change the bytes or their meaning are not.
        assert!(!reads_as_written(&Node::Long, &Node::Int));
        assert!(!reads_as_written(&Node::String, &Node::Bytes));
    }

    #[test]
    fn a_writers_type_goes_to_the_same_type_first_then_to_a_promotion() {
        let reader = schema(json!(["null", "double", "long", "string"]));
        let branch = |writer: serde_json::Value| {
            let writer = schema(writer);
            matching_branch(&writer, &reader, writer.root, &branches(&reader))
        };
        assert_eq!(branch(json!("long")), Some(2), "the same type, though a promotion comes first");
        assert_eq!(branch(json!("int")), Some(1), "no int: the first branch it promotes to");
        assert_eq!(branch(json!("float")), Some(1));
        assert_eq!(branch(json!("bytes")), Some(3), "bytes and string promote both ways");
        assert_eq!(branch(json!("null")), Some(0));
        assert_eq!(branch(json!("boolean")), None);
        assert_eq!(branch(json!({"type": "array", "items": "int"})), None);
    }

    #[test]
    fn named_types_go_to_the_branch_of_their_name_or_of_an_alias() {
        let reader = schema(json!([
            {"type": "record", "name": "A", "fields": []},
            {"type": "record", "name": "B", "aliases": ["old.Legacy"], "fields": []},
            {"type": "fixed", "name": "F", "size": 4},
        ]));
        let branch = |writer: serde_json::Value| {
            let writer = schema(writer);
            matching_branch(&writer, &reader, writer.root, &branches(&reader))
        };
        assert_eq!(branch(json!({"type": "record", "name": "B", "fields": []})), Some(1));
        assert_eq!(branch(json!({"type": "record", "name": "Legacy", "namespace": "old", "fields": []})), Some(1));
        assert_eq!(branch(json!({"type": "record", "name": "Legacy", "fields": []})), None, "aliases are full names");
        assert_eq!(branch(json!({"type": "fixed", "name": "F", "size": 4})), Some(2));
        assert_eq!(branch(json!({"type": "enum", "name": "A", "symbols": ["x"]})), None, "a name of another kind");
    }

    #[test]
    fn reader_fields_are_found_by_name_before_alias() {
        let reader = schema(json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int", "aliases": ["b", "old"]},
            {"name": "b", "type": "int"},
            {"name": "c", "type": "int", "aliases": ["old"]},
        ]}));
        let by_name = reader_fields_by_name(fields(&reader));
        assert_eq!(by_name["a"], 0);
        assert_eq!(by_name["b"], 1, "a field's own name wins over another's alias");
        assert_eq!(by_name["old"], 0, "of two fields with one alias, the first");
        assert_eq!(by_name["c"], 2);
        assert!(!by_name.contains_key("d"));
    }

    #[test]
    fn writer_symbols_go_to_the_same_symbol_else_the_readers_default() {
        let strings = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (writer, reader) = (strings(&["A", "B", "C"]), strings(&["C", "A", "UNKNOWN"]));
        assert_eq!(enum_to_reader(&writer, &reader, None), [Some(1), None, Some(0)]);
        assert_eq!(enum_to_reader(&writer, &reader, Some("UNKNOWN")), [Some(1), Some(2), Some(0)]);
        assert_eq!(enum_to_reader(&writer, &reader, Some("NOT_A_SYMBOL")), [Some(1), None, Some(0)]);
    }

    #[test]
    fn named_types_match_by_name_or_alias_and_fixed_by_size() {
        let writer = name("Point", Some("geo"), &[]);
        assert!(check_names(&writer, &name("Point", None, &[]), "p").is_ok());
        assert!(check_names(&writer, &name("Spot", None, &["geo.Point"]), "p").is_ok());
        let error = check_names(&writer, &name("Spot", Some("geo"), &["Point"]), "r.p").unwrap_err();
        assert!(error.message.contains("at 'r.p': the writer's type is named 'geo.Point' and the reader's 'geo.Spot'"));
        assert!(error.message.contains("(with the aliases Point)"), "{error}");
        let error = check_names(&writer, &name("Spot", None, &[]), "p").unwrap_err();
        assert!(error.message.contains("(with no aliases)"), "{error}");
        let fixed = name("F", None, &[]);
        assert!(check_fixed((&fixed, 16), (&fixed, 16), "f").is_ok());
        let error = check_fixed((&fixed, 16), (&fixed, 12), "f").unwrap_err();
        assert!(error.message.contains("at 'f': the writer's fixed has 16 bytes, the reader's 12"), "{error}");
    }

    #[test]
    fn a_field_the_writer_lacks_reads_its_default_encoded_or_is_refused() {
        let reader = schema(json!({"type": "record", "name": "R", "fields": [
            {"name": "n", "type": "long", "default": -2},
            {"name": "u", "type": ["null", "string"], "default": null},
            {"name": "s", "type": "string", "default": "hi"},
            {"name": "none", "type": "int"},
        ]}));
        let fields = fields(&reader);
        assert_eq!(encoded_default(&reader, &fields[0], "n").unwrap(), [3], "zig-zag -2");
        assert_eq!(encoded_default(&reader, &fields[1], "u").unwrap(), [0], "the null branch");
        assert_eq!(encoded_default(&reader, &fields[2], "s").unwrap(), [4, b'h', b'i']);
        let error = encoded_default(&reader, &fields[3], "r.none").unwrap_err();
        assert!(error.message.contains("the reader's field 'r.none' is not in the writer's schema and has no default"));
    }
}
