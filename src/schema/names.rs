//! The specification's rules for names (Avro 1.12, "Names"), as a schema about to be written
//! must keep them. The reader is more lenient: files that break them exist, and are read.

use std::collections::HashSet;

use super::model::{field_path, AvroSchema, Name, Node, NodeId};
use crate::error::{AvroError, AvroResult};

/// The primitive type names: "[they] have no namespace and their names may not be defined in
/// any namespace". Java, Apache's Python `avro`, spavro, cavro and goavro refuse a schema that
/// names a type so.
pub const PRIMITIVE_NAMES: [&str; 8] = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"];

/// Words of the schema language that the specification allows as a type's name but some
/// readers take for the word: goavro and cavro read wrong values from a file with an enum
/// named `enum` or a record named `map`, and spavro (after Apache's older Python `avro`)
/// refuses a type whose full name is a complex type's keyword, `request` or `error_union`.
pub const SCHEMA_WORDS: [&str; 9] =
    ["record", "enum", "array", "map", "fixed", "union", "error", "request", "error_union"];

/// Whether `name` is an Avro name: `[A-Za-z_][A-Za-z0-9_]*`.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks every name of a schema about to be written against the specification: each named
/// type has a valid name that is not a primitive's, each namespace is valid names joined by
/// dots, field names, aliases and enum symbols are valid names (full names are unique: the
/// parser refuses a name defined twice). The error names the rule broken and where.
///
/// Returns a warning for each type named after a word of the schema language: valid Avro,
/// which some readers misread.
pub fn check_written_names(schema: &AvroSchema) -> AvroResult<Vec<String>> {
    let mut walk = Walk { schema, seen: HashSet::new(), warnings: Vec::new() };
    walk.node(schema.root, "")?;
    Ok(walk.warnings)
}

struct Walk<'a> {
    schema: &'a AvroSchema,
    /// Named types already checked: a type referred to again (or recursively) once.
    seen: HashSet<NodeId>,
    warnings: Vec<String>,
}

impl Walk<'_> {
    fn node(&mut self, id: NodeId, path: &str) -> AvroResult<()> {
        match self.schema.node(id) {
            Node::Array(items) => self.node(*items, &format!("{path}[]")),
            Node::Map(values) => self.node(*values, &format!("{path}{{}}")),
            Node::Union(branches) => branches.iter().try_for_each(|b| self.node(*b, path)),
            Node::Record { name, fields } => {
                if !self.named(id, "record", name, path)? {
                    return Ok(());
                }
                for field in fields {
                    let at = field_path(path, &field.name);
                    let what = format!("the field '{at}'");
                    valid(&field.name, &what)?;
                    for alias in &field.aliases {
                        valid(alias, &format!("the alias '{alias}' of {what}"))?;
                    }
                    self.node(field.schema, &at)?;
                }
                Ok(())
            },
            Node::Enum { name, symbols, .. } => {
                if self.named(id, "enum", name, path)? {
                    for symbol in symbols {
                        valid(symbol, &format!("the symbol '{symbol}' of the enum '{}'", name.fullname()))?;
                    }
                }
                Ok(())
            },
            Node::Fixed { name, .. } => self.named(id, "fixed", name, path).map(|_| ()),
            Node::Null
            | Node::Boolean
            | Node::Int
            | Node::Long
            | Node::Float
            | Node::Double
            | Node::Bytes
            | Node::String => Ok(()),
        }
    }

    /// Checks a named type's name, namespace and aliases once; false when seen before.
    fn named(&mut self, id: NodeId, kind: &str, name: &Name, path: &str) -> AvroResult<bool> {
        if !self.seen.insert(id) {
            return Ok(false);
        }
        let at = if path.is_empty() { "at the top level".to_string() } else { format!("at '{path}'") };
        let what = format!("the {kind} '{}' ({at})", name.fullname());
        if name.name.is_empty() {
            return Err(AvroError::schema(format!(
                "the {kind} {at} has no name: the Avro specification gives every record, enum and fixed a name, \
                 and Java refuses a file without one"
            )));
        }
        valid(&name.name, &what)?;
        if PRIMITIVE_NAMES.contains(&name.name.as_str()) {
            return Err(AvroError::schema(format!(
                "{what} is named after the primitive type '{}': the Avro specification forbids defining a primitive \
                 type's name in any namespace, and Java and Apache's Python avro refuse such a file; give the type \
                 another name",
                name.name
            )));
        }
        if let Some(namespace) = name.namespace.as_deref().filter(|ns| !ns.is_empty()) {
            valid_full(namespace, &format!("the namespace '{namespace}' of {what}"))?;
        }
        for alias in &name.aliases {
            valid_full(alias, &format!("the alias '{alias}' of {what}"))?;
        }
        if SCHEMA_WORDS.contains(&name.name.as_str()) {
            self.warnings.push(format!(
                "{what} is named after the schema keyword '{}': valid Avro, but goavro and cavro read wrong values \
                 from such a file and spavro refuses it; another name avoids that",
                name.name
            ));
        }
        Ok(true)
    }
}

/// `name` is a valid Avro name, or the error says which rule `what` breaks.
pub fn valid(name: &str, what: &str) -> AvroResult<()> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(AvroError::schema(format!(
            "{what} is not a valid Avro name: names start with a letter or '_' and hold only letters, digits and '_'"
        )))
    }
}

/// A full name or namespace: valid names joined by dots.
fn valid_full(full: &str, what: &str) -> AvroResult<()> {
    if full.split('.').all(is_valid_name) {
        Ok(())
    } else {
        Err(AvroError::schema(format!(
            "{what} is not valid: a namespace is names joined by dots, each starting with a letter or '_' and \
             holding only letters, digits and '_'"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse::parse_schema;

    fn check(json: &str) -> AvroResult<Vec<String>> {
        check_written_names(&parse_schema(json).unwrap())
    }

    fn record(name: &str, fields: &str) -> String {
        format!(r#"{{"type":"record","name":"{name}","fields":[{fields}]}}"#)
    }

    #[test]
    fn valid_names_are_letters_digits_and_underscores_not_starting_with_a_digit() {
        for name in ["a", "_", "A1", "_9_z", "long_2"] {
            assert!(is_valid_name(name), "{name}");
        }
        for name in ["", "1a", "a-b", "a.b", "é", "a b"] {
            assert!(!is_valid_name(name), "{name}");
        }
    }

    #[test]
    fn a_type_named_after_a_primitive_is_refused_in_any_namespace() {
        for primitive in PRIMITIVE_NAMES {
            let top = check(&record(primitive, "")).unwrap_err();
            assert!(top.message.contains(&format!("named after the primitive type '{primitive}'")), "{}", top.message);
            assert!(top.message.contains("at the top level"), "{}", top.message);
            let nested = format!(r#"{{"name":"p","type":{{"type":"enum","name":"{primitive}","symbols":["A"]}}}}"#);
            let e = check(&format!(
                r#"{{"type":"record","name":"r","namespace":"com.x","fields":[{{"name":"q","type":["null",{}]}}]}}"#,
                record("Q", &nested)
            ))
            .unwrap_err();
            assert!(e.message.contains(&format!("the enum 'com.x.{primitive}' (at 'q.p')")), "{}", e.message);
            assert!(e.message.contains("forbids defining a primitive type's name in any namespace"), "{}", e.message);
        }
        let fixed = check(&record("r", r#"{"name":"f","type":{"type":"fixed","name":"a.b.string","size":2}}"#));
        assert!(fixed.unwrap_err().message.contains("the fixed 'a.b.string' (at 'f')"));
    }

    #[test]
    fn a_type_named_after_a_schema_word_is_written_with_a_warning() {
        let warnings = check(&record(
            "r",
            r#"{"name":"m","type":{"type":"map","values":{"type":"record","name":"map","fields":[]}}},
               {"name":"e","type":{"type":"enum","name":"enum","symbols":["enum"]}},
               {"name":"again","type":"map"}"#,
        ))
        .unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("the record 'map' (at 'm{}') is named after the schema keyword 'map'"));
        assert!(warnings[1].contains("the enum 'enum' (at 'e')"), "{warnings:?}");
        // spavro compares full names: a namespace is enough for it, not for the others.
        assert_eq!(check(&record("x.union", "")).unwrap().len(), 1);
        assert!(check(&record("Row", r#"{"name":"record","type":"long"}"#)).unwrap().is_empty());
    }

    #[test]
    fn names_namespaces_fields_aliases_and_symbols_must_be_valid() {
        let cases = [
            (record("", ""), "the record at the top level has no name"),
            (record("r", r#"{"name":"a-b","type":"int"}"#), "the field 'a-b' is not a valid Avro name"),
            (
                record("r", r#"{"name":"a","aliases":["1a"],"type":"int"}"#),
                "the alias '1a' of the field 'a' is not a valid Avro name",
            ),
            (
                r#"{"type":"record","name":"r","namespace":"com..x","fields":[]}"#.to_string(),
                "the namespace 'com..x' of the record 'com..x.r' (at the top level) is not valid",
            ),
            (
                r#"{"type":"record","name":"r","aliases":["a.2b"],"fields":[]}"#.to_string(),
                "the alias 'a.2b' of the record 'r' (at the top level) is not valid",
            ),
            (
                record("r", r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["ok","not ok"]}}"#),
                "the symbol 'not ok' of the enum 'E' is not a valid Avro name",
            ),
            (record("r", r#"{"name":"f","type":{"type":"fixed","name":"F-1","size":1}}"#), "the fixed 'F-1' (at 'f')"),
        ];
        for (schema, expected) in cases {
            let e = check(&schema).unwrap_err();
            assert!(e.message.contains(expected), "{schema}: {}", e.message);
        }
    }

    #[test]
    fn a_recursive_type_is_checked_once() {
        let list = r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
        assert!(check(list).unwrap().is_empty());
        let words = r#"{"type":"record","name":"array","fields":[{"name":"a","type":["null","array"]}]}"#;
        assert_eq!(check(words).unwrap().len(), 1);
    }
}
