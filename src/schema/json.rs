//! The JSON forms of an Avro value, encoded as Avro binary: a datum written as JSON
//! (`fromjson`, in Avro's JSON encoding or plain) and a field's default (the reader's
//! fields a writer lacks, and `fromjson`'s missing fields). One encoder, one set of rules:
//! the decoder renders the same forms (`decode::json`).
//!
//! Both forms read records as objects (a missing field takes its default), maps as
//! objects, arrays as arrays, enums as their symbol, bytes and fixed as strings of code
//! points U+0000..U+00FF, floats and doubles as numbers or the strings "NaN", "Infinity"
//! and "-Infinity", logical types as their underlying value. Ints and longs must be
//! written as whole numbers (`5`, not `5.0` or `5e0`), within their range; a float's
//! magnitude at most f32::MAX.
//!
//! Unions: in Avro's JSON encoding ([`JsonMode::AvroJson`]) `null` or
//! `{"<branch>": value}`, the branch named by [`AvroSchema::branch_label`]. In plain JSON
//! ([`JsonMode::Plain`]) and in defaults, the value itself, given to the first branch, in
//! the union's order, that takes it: null to the null branch, a boolean to boolean, a
//! number to int/long/float/double, a string to string/bytes/enum/fixed (and to
//! float/double when it is "NaN", "Infinity" or "-Infinity"), an object to a record or
//! map, an array to an array.

use std::fmt;

use serde_json::{Map, Number, Value};

use super::model::{AvroSchema, Field, Name, Node, NodeId};
use crate::error::{AvroError, AvroResult};
use crate::varint::{put_bytes, put_long};

/// How a union is shown in JSON; everything else is shown the same in both modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonMode {
    /// The value of the union's branch (the JSON of recursive types in columns).
    Plain,
    /// Avro's JSON encoding (Avro 1.12 specification, "JSON Encoding"): `null` for the null
    /// branch, otherwise `{"<branch type>": value}`, the branch named by its full name for
    /// a named type, else by its type ("int", "array", "map", ...; logical types by their
    /// underlying type). What avro-tools `tojson` prints and fastavro's json_writer writes.
    AvroJson,
}

/// The deepest JSON value encoded: serde_json's own bound on what it parses, which
/// defaults filled in for nested records (each may have its own) are held to as well.
const MAX_JSON_DEPTH: usize = 128;

/// Appends the JSON `value` of a datum of node `id`, in `mode`, as Avro binary. Errors are
/// encode errors saying where in the value (", field 'a.b'") what was expected and found.
pub fn encode_json(
    schema: &AvroSchema,
    id: NodeId,
    value: &Value,
    mode: JsonMode,
    out: &mut Vec<u8>,
) -> AvroResult<()> {
    Encoder { schema, form: Form::Datum(mode) }.encode(id, value, out, &Path::Root, 0)
}

/// Appends a field's JSON default as Avro binary of node `id`: the field at `path` is
/// then decoded from it like any value. A default that is no value of its type is a
/// schema error naming the field.
pub fn encode_default(schema: &AvroSchema, id: NodeId, value: &Value, out: &mut Vec<u8>, path: &str) -> AvroResult<()> {
    Encoder { schema, form: Form::Default }
        .encode(id, value, out, &Path::Root, 0)
        .map_err(|e| AvroError::schema(format!("the default of '{path}'{}", e.message)))
}

/// Where a value is inside its datum, for messages: built on the stack as the encoder
/// descends, written out only for an error.
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Field(Path::Root, name) => f.write_str(name),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Path::Key(parent, key) => write!(f, "{parent}[{}]", Value::String(key.to_string())),
        }
    }
}

/// ", field 'a.b'" for a message, or nothing at the top level.
fn place(path: &Path) -> String {
    match path {
        Path::Root => String::new(),
        path => format!(", field '{path}'"),
    }
}

/// What a JSON value is, for messages: scalars as their JSON text (long strings cut), an
/// array by its length, an object by its keys.
fn found(value: &Value) -> String {
    const MAX: usize = 60;
    match value {
        Value::Array(items) => format!("an array of {} items", items.len()),
        Value::Object(map) if map.is_empty() => "an empty object".into(),
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().take(5).map(|k| Value::String(k.clone()).to_string()).collect();
            let more = if map.len() > 5 { ", ..." } else { "" };
            format!("an object with keys {}{more}", keys.join(", "))
        },
        Value::String(s) if s.chars().count() > MAX => {
            let cut: String = s.chars().take(MAX).collect();
            format!("{}... ({} characters)", &Value::String(cut).to_string().trim_end_matches('"'), s.chars().count())
        },
        other => other.to_string(),
    }
}

fn mismatch(path: &Path, expected: impl fmt::Display, value: &Value) -> AvroError {
    AvroError::encode(format!("{}: expected {expected}, found {}", place(path), found(value)))
}

fn branch_labels(schema: &AvroSchema, branches: &[NodeId]) -> String {
    let labels: Vec<String> = branches.iter().map(|b| schema.branch_label(*b)).collect();
    labels.join(", ")
}

/// The text of a non-finite float as `decode::json` writes it.
fn non_finite(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// A JSON string of code points U+0000..U+00FF as bytes.
fn code_points(text: &str) -> Result<Vec<u8>, char> {
    text.chars().map(|c| u8::try_from(u32::from(c)).map_err(|_| c)).collect()
}

/// Whether a JSON value of this kind can be a value of `node` (plain mode's choice of a
/// union branch tries only these).
fn kind_fits(node: &Node, value: &Value) -> bool {
    match value {
        Value::Null => matches!(node, Node::Null),
        Value::Bool(_) => matches!(node, Node::Boolean),
        Value::Number(_) => matches!(node, Node::Int | Node::Long | Node::Float | Node::Double),
        Value::String(s) => {
            matches!(node, Node::String | Node::Bytes | Node::Enum { .. } | Node::Fixed { .. })
                || (matches!(node, Node::Float | Node::Double) && non_finite(s).is_some())
        },
        Value::Array(_) => matches!(node, Node::Array(_)),
        Value::Object(_) => matches!(node, Node::Record { .. } | Node::Map(_)),
    }
}

/// Which JSON an encoder reads: a datum in one of the two forms, or a field's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Datum(JsonMode),
    /// A default: unions as in plain JSON (the first branch that takes the value, as Avro
    /// 1.12 says of defaults), and keys of a record's object that are not its fields
    /// ignored, as Java's Avro does.
    Default,
}

struct Encoder<'a> {
    schema: &'a AvroSchema,
    form: Form,
}

impl Encoder<'_> {
    fn encode(&self, id: NodeId, value: &Value, out: &mut Vec<u8>, path: &Path, depth: usize) -> AvroResult<()> {
        let schema = self.schema;
        if depth > MAX_JSON_DEPTH {
            return Err(AvroError::encode(format!(
                "{}: expected a value nesting at most {MAX_JSON_DEPTH} levels, found one nesting deeper",
                place(path)
            )));
        }
        match schema.node(id) {
            Node::Null => {
                if !value.is_null() {
                    return Err(mismatch(path, "null", value));
                }
            },
            Node::Boolean => match value {
                Value::Bool(b) => out.push(u8::from(*b)),
                _ => return Err(mismatch(path, "a boolean (true or false)", value)),
            },
            Node::Int => {
                let v = whole(value).and_then(|v| i32::try_from(v).ok());
                let v = v.ok_or_else(|| {
                    mismatch(path, format_args!("an int (a whole number from {} to {})", i32::MIN, i32::MAX), value)
                })?;
                put_long(out, i64::from(v));
            },
            Node::Long => {
                let v = whole(value).ok_or_else(|| {
                    mismatch(path, format_args!("a long (a whole number from {} to {})", i64::MIN, i64::MAX), value)
                })?;
                put_long(out, v);
            },
            Node::Float => {
                let v = float(value).filter(|v| !v.is_finite() || v.abs() <= f64::from(f32::MAX)).ok_or_else(|| {
                    mismatch(
                        path,
                        format_args!(
                            "a float (a number of magnitude at most {:e}, or \"NaN\", \"Infinity\" or \
                                \"-Infinity\")",
                            f32::MAX
                        ),
                        value,
                    )
                })?;
                out.extend_from_slice(&(v as f32).to_le_bytes());
            },
            Node::Double => {
                let v = float(value).ok_or_else(|| {
                    mismatch(path, "a double (a number, or \"NaN\", \"Infinity\" or \"-Infinity\")", value)
                })?;
                out.extend_from_slice(&v.to_le_bytes());
            },
            Node::String => match value {
                Value::String(s) => put_bytes(out, s.as_bytes()),
                _ => return Err(mismatch(path, "a string", value)),
            },
            Node::Bytes => {
                let bytes = self.byte_string(value, path, "bytes (a string of code points U+0000..U+00FF)")?;
                put_bytes(out, &bytes);
            },
            Node::Fixed { name, size } => {
                let expected = || {
                    format!(
                        "fixed '{}' of {size} bytes (a string of {size} code points U+0000..U+00FF)",
                        name.fullname()
                    )
                };
                let bytes = self.byte_string(value, path, &expected())?;
                if bytes.len() != *size {
                    return Err(AvroError::encode(format!(
                        "{}: expected {}, found {} code points",
                        place(path),
                        expected(),
                        bytes.len()
                    )));
                }
                out.extend_from_slice(&bytes);
            },
            Node::Enum { name, symbols, .. } => {
                let index = value.as_str().and_then(|s| symbols.iter().position(|sym| sym == s));
                let index = index.ok_or_else(|| {
                    mismatch(
                        path,
                        format_args!("a symbol of enum '{}' ({})", name.fullname(), symbols.join(", ")),
                        value,
                    )
                })?;
                put_long(out, index as i64);
            },
            Node::Array(item) => {
                let Value::Array(items) = value else { return Err(mismatch(path, "an array", value)) };
                if !items.is_empty() {
                    put_long(out, items.len() as i64);
                    for (i, v) in items.iter().enumerate() {
                        self.encode(*item, v, out, &Path::Index(path, i), depth + 1)?;
                    }
                }
                put_long(out, 0);
            },
            Node::Map(inner) => {
                let Value::Object(entries) = value else { return Err(mismatch(path, "an object (a map)", value)) };
                if !entries.is_empty() {
                    put_long(out, entries.len() as i64);
                    for (k, v) in entries {
                        put_bytes(out, k.as_bytes());
                        self.encode(*inner, v, out, &Path::Key(path, k), depth + 1)?;
                    }
                }
                put_long(out, 0);
            },
            Node::Record { name, fields } => {
                let Value::Object(object) = value else {
                    return Err(mismatch(path, format_args!("an object (record '{}')", name.fullname()), value));
                };
                self.encode_record(name, fields, object, out, path, depth)?;
            },
            Node::Union(branches) => match self.form {
                Form::Datum(JsonMode::AvroJson) => {
                    let (index, inner) = self.tagged_branch(branches, value, path)?;
                    put_long(out, index as i64);
                    self.encode(branches[index], inner, out, path, depth + 1)?;
                },
                Form::Datum(JsonMode::Plain) | Form::Default => {
                    self.encode_plain_union(branches, value, out, path, depth)?
                },
            },
        }
        Ok(())
    }

    fn byte_string(&self, value: &Value, path: &Path, expected: &str) -> AvroResult<Vec<u8>> {
        let Value::String(s) = value else { return Err(mismatch(path, expected, value)) };
        code_points(s).map_err(|c| {
            AvroError::encode(format!(
                "{}: expected {expected}, found {} with code point U+{:04X}",
                place(path),
                found(value),
                u32::from(c)
            ))
        })
    }

    fn encode_record(
        &self,
        name: &Name,
        fields: &[Field],
        object: &Map<String, Value>,
        out: &mut Vec<u8>,
        path: &Path,
        depth: usize,
    ) -> AvroResult<()> {
        let mut given = 0;
        for f in fields {
            let at = Path::Field(path, &f.name);
            match (object.get(&f.name), &f.default) {
                (Some(v), _) => {
                    given += 1;
                    self.encode(f.schema, v, out, &at, depth + 1)?;
                },
                (None, Some(default)) => {
                    let defaults = Encoder { schema: self.schema, form: Form::Default };
                    defaults.encode(f.schema, default, out, &at, depth + 1)?
                },
                (None, None) => {
                    return Err(AvroError::encode(format!(
                        "{}: expected the field in the object of record '{}', found it missing (it has no default)",
                        place(&at),
                        name.fullname()
                    )))
                },
            }
        }
        if given < object.len() && self.form != Form::Default {
            let extra = object.keys().find(|k| !fields.iter().any(|f| &f.name == *k)).expect("a key no field has");
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return Err(AvroError::encode(format!(
                "{}: expected only fields of record '{}' ({}), found the unknown field {}",
                place(path),
                name.fullname(),
                names.join(", "),
                Value::String(extra.clone())
            )));
        }
        Ok(())
    }

    /// The branch (its position) and value of a union's value in Avro's JSON encoding:
    /// `null` (the null branch), or `{"<branch>": value}`.
    fn tagged_branch<'v>(&self, branches: &[NodeId], value: &'v Value, path: &Path) -> AvroResult<(usize, &'v Value)> {
        let schema = self.schema;
        let expected = || {
            format!(
                "a union value (null, or an object {{\"<branch>\": value}} naming one branch of {})",
                branch_labels(schema, branches)
            )
        };
        match value {
            Value::Null => {
                let index = branches.iter().position(|b| matches!(schema.node(*b), Node::Null));
                let index = index.ok_or_else(|| {
                    AvroError::encode(format!(
                        "{}: expected {}, found null, and the union has no null branch",
                        place(path),
                        expected()
                    ))
                })?;
                Ok((index, value))
            },
            Value::Object(map) if map.len() == 1 => {
                let (label, inner) = map.iter().next().expect("one entry");
                let index = branches
                    .iter()
                    .position(|b| !matches!(schema.node(*b), Node::Null) && schema.branch_label(*b) == *label);
                let index = index.ok_or_else(|| {
                    AvroError::encode(format!(
                        "{}: expected {}, found the branch name {}",
                        place(path),
                        expected(),
                        Value::String(label.clone())
                    ))
                })?;
                Ok((index, inner))
            },
            _ => Err(mismatch(path, expected(), value)),
        }
    }

    /// A plain value given to the first branch, in the union's order, that takes it.
    fn encode_plain_union(
        &self,
        branches: &[NodeId],
        value: &Value,
        out: &mut Vec<u8>,
        path: &Path,
        depth: usize,
    ) -> AvroResult<()> {
        let schema = self.schema;
        let mut tried = Vec::new();
        for (index, branch) in branches.iter().enumerate() {
            if !kind_fits(schema.node(*branch), value) {
                continue;
            }
            let mark = out.len();
            put_long(out, index as i64);
            match self.encode(*branch, value, out, path, depth + 1) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    out.truncate(mark);
                    tried.push(e);
                },
            }
        }
        // One branch could have taken it: its own error says best what is wrong.
        if tried.len() == 1 {
            return Err(tried.pop().expect("one error"));
        }
        Err(mismatch(
            path,
            format_args!("a value of one of the union's branches ({})", branch_labels(schema, branches)),
            value,
        ))
    }
}

/// A JSON number written as a whole number, as an i64.
fn whole(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) if !n.is_f64() => n.as_i64(),
        _ => None,
    }
}

/// A JSON number, or the text of a non-finite one, as a double.
fn float(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(number_f64(n)),
        Value::String(s) => non_finite(s),
        _ => None,
    }
}

fn number_f64(n: &Number) -> f64 {
    n.as_f64().expect("serde_json numbers convert to f64 without arbitrary_precision")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::error::ErrorKind;
    use crate::schema::parse_schema;

    /// The default `value` of a field of type `ty`, encoded.
    fn default_of(ty: Value, value: Value) -> AvroResult<Vec<u8>> {
        let schema = parse_schema(&ty.to_string()).unwrap();
        let mut out = Vec::new();
        encode_default(&schema, schema.root, &value, &mut out, "f").map(|()| out)
    }

    fn long(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, v);
        out
    }

    #[test]
    fn defaults_of_each_type_encode_as_its_binary() {
        let cases = [
            (json!("null"), json!(null), vec![]),
            (json!("boolean"), json!(true), vec![1]),
            (json!("int"), json!(-2), long(-2)),
            (json!("long"), json!(1i64 << 40), long(1 << 40)),
            (json!("float"), json!(1.5), 1.5f32.to_le_bytes().to_vec()),
            (json!("double"), json!("-Infinity"), f64::NEG_INFINITY.to_le_bytes().to_vec()),
            (json!("string"), json!("é"), [vec![4], "é".as_bytes().to_vec()].concat()),
            (json!("bytes"), json!("\u{0}\u{ff}"), vec![4, 0, 0xff]),
            (json!({"type": "fixed", "name": "F", "size": 2}), json!("ab"), b"ab".to_vec()),
            (json!({"type": "enum", "name": "E", "symbols": ["A", "B"]}), json!("B"), long(1)),
            (json!({"type": "array", "items": "int"}), json!([1, 2]), [long(2), long(1), long(2), long(0)].concat()),
            (json!({"type": "array", "items": "int"}), json!([]), long(0)),
            (
                json!({"type": "map", "values": "int"}),
                json!({"k": 3}),
                [long(1), vec![2, b'k'], long(3), long(0)].concat(),
            ),
        ];
        for (ty, value, bytes) in cases {
            assert_eq!(default_of(ty.clone(), value.clone()).unwrap(), bytes, "{ty} {value}");
        }
    }

    #[test]
    fn a_union_default_takes_the_first_branch_that_holds_it() {
        assert_eq!(default_of(json!(["null", "string"]), json!(null)).unwrap(), long(0));
        assert_eq!(default_of(json!(["string", "null"]), json!("x")).unwrap(), [long(0), vec![2, b'x']].concat());
        // Avro 1.12: not only the first branch.
        assert_eq!(default_of(json!(["null", "string"]), json!("x")).unwrap(), [long(1), vec![2, b'x']].concat());
        assert_eq!(default_of(json!(["int", "long"]), json!(1i64 << 40)).unwrap(), [long(1), long(1 << 40)].concat());
    }

    #[test]
    fn a_record_default_takes_its_fields_defaults_and_ignores_other_keys() {
        let ty = json!({"type": "record", "name": "P", "fields": [
            {"name": "x", "type": "int"}, {"name": "y", "type": "int", "default": 7}]});
        assert_eq!(default_of(ty.clone(), json!({"x": 1, "other": true})).unwrap(), [long(1), long(7)].concat());
        let message = default_of(ty, json!({"y": 1})).unwrap_err().to_string();
        assert!(message.contains("the default of 'f', field 'x': expected the field in the object"), "{message}");
    }

    #[test]
    fn a_default_that_is_no_value_of_its_type_is_a_schema_error_saying_what_was_found() {
        let cases = [
            (
                json!("int"),
                json!("x"),
                "the default of 'f': expected an int (a whole number from -2147483648 to 2147483647), found \"x\"",
            ),
            (json!("int"), json!(1.0), "found 1.0"),
            (json!("float"), json!(1e39), "expected a float (a number of magnitude at most"),
            (json!("double"), json!("nan"), "found \"nan\""),
            (json!({"type": "fixed", "name": "F", "size": 2}), json!("abc"), "found 3 code points"),
            (json!("bytes"), json!("€"), "code point U+20AC"),
            (json!(["null", "int"]), json!("x"), "expected a value of one of the union's branches (null, int)"),
            (
                json!({"type": "array", "items": "int"}),
                json!([1, "2"]),
                "the default of 'f', field '[1]': expected an int",
            ),
        ];
        for (ty, value, expected) in cases {
            let error = default_of(ty, value).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Schema);
            assert!(error.message.contains(expected), "{} does not say {expected}", error.message);
        }
    }

    #[test]
    fn defaults_that_nest_without_end_are_refused() {
        // Each Node's default needs another Node's default: refused, not a stack overflow.
        let ty = json!({"type": "record", "name": "Node", "fields": [
            {"name": "next", "type": "Node", "default": {}}]});
        let message = default_of(ty, json!({})).unwrap_err().to_string();
        assert!(message.contains("expected a value nesting at most 128 levels"), "{message}");
    }

    #[test]
    fn the_tagged_form_names_branches_by_their_labels() {
        let schema = parse_schema(r#"["null", {"type": "record", "name": "a.R", "fields": []}, "long"]"#).unwrap();
        let mut out = Vec::new();
        encode_json(&schema, schema.root, &json!({"a.R": {}}), JsonMode::AvroJson, &mut out).unwrap();
        encode_json(&schema, schema.root, &json!({"long": 5}), JsonMode::AvroJson, &mut out).unwrap();
        assert_eq!(out, [long(1), long(2), long(5)].concat());
        let error = encode_json(&schema, schema.root, &json!({"R": {}}), JsonMode::AvroJson, &mut out).unwrap_err();
        assert!(
            error.message.contains("naming one branch of null, a.R, long), found the branch name \"R\""),
            "{error}"
        );
    }
}
