//! JSON lines as datums of a writer schema (`fromjson`): the inverse of `render`.
//!
//! Each non-blank line is one JSON value, one datum. Both modes read records as objects
//! (a missing field takes its default, a field the record lacks is an error), maps as
//! objects, arrays as arrays, enums as their symbol, bytes and fixed as strings of code
//! points U+0000..U+00FF, floats and doubles as numbers or the strings "NaN", "Infinity"
//! and "-Infinity", logical types as their underlying value. Ints and longs must be
//! written as whole numbers (`5`, not `5.0` or `5e0`), within their range.
//!
//! Unions: in Avro's JSON encoding ([`JsonMode::AvroJson`]) `null` or
//! `{"<branch type>": value}`, the branch named as `decode::json` names it (full name of
//! a named type). In plain JSON ([`JsonMode::Plain`]) the value itself, given to the
//! first branch, in the union's order, that takes it: null to the null branch, a boolean
//! to boolean, a number to int/long/float/double, a string to string/bytes/enum/fixed
//! (and to float/double when it is "NaN", "Infinity" or "-Infinity"), an object to a
//! record or map, an array to an array.
//!
//! JSON nests at most 128 levels here (serde_json's bound): deeper values are refused.

use std::fmt;

use serde_json::{Map, Number, Value};

use crate::decode::JsonMode;
use crate::error::{AvroError, AvroResult};
use crate::schema::{encode_default, AvroSchema, Name, Node, NodeId};
use crate::varint::{put_bytes, put_long};

/// The JSON lines of `text` (blank lines skipped) as concatenated datums of `schema`, and
/// how many. `first_line` is the number of the first line of `text`, so that errors name
/// the line of the whole input when it comes in chunks.
pub fn encode_lines(schema: &AvroSchema, text: &[u8], mode: JsonMode, first_line: u64) -> AvroResult<(Vec<u8>, usize)> {
    let encoder = Encoder { schema, mode };
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut count = 0;
    for (i, line) in text.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let number = first_line.saturating_add(i as u64);
        let value: Value = serde_json::from_slice(line).map_err(|e| not_json(number, &e))?;
        encoder.encode(schema.root, &value, &mut out, &Path::Root).map_err(|mut e| {
            e.message = format!("line {number}{}", e.message);
            e
        })?;
        count += 1;
    }
    Ok((out, count))
}

fn not_json(line: u64, e: &serde_json::Error) -> AvroError {
    // serde_json says where as "... at line 1 column 7"; the line is ours to count.
    let text = e.to_string();
    let what = text.rfind(" at line ").map_or(text.as_str(), |at| &text[..at]);
    AvroError::encode(format!("line {line}, column {}: expected a JSON value, found invalid JSON: {what}", e.column()))
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

fn full_name(name: &Name) -> String {
    name.fullname()
}

/// Whether `label` names branch `id` as Avro's JSON encoding does.
fn is_branch_label(schema: &AvroSchema, id: NodeId, label: &str) -> bool {
    match schema.node(id) {
        Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => {
            match name.namespace.as_deref().filter(|ns| !ns.is_empty()) {
                Some(ns) => {
                    label.len() == ns.len() + 1 + name.name.len()
                        && label.starts_with(ns)
                        && label[ns.len()..].starts_with('.')
                        && label.ends_with(name.name.as_str())
                },
                None => label == name.name,
            }
        },
        _ => schema.type_name(id) == label,
    }
}

fn branch_labels(schema: &AvroSchema, branches: &[NodeId]) -> String {
    let labels: Vec<String> = branches
        .iter()
        .map(|b| match schema.node(*b) {
            Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => full_name(name),
            _ => schema.type_name(*b),
        })
        .collect();
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

struct Encoder<'a> {
    schema: &'a AvroSchema,
    mode: JsonMode,
}

impl Encoder<'_> {
    fn encode(&self, id: NodeId, value: &Value, out: &mut Vec<u8>, path: &Path) -> AvroResult<()> {
        let schema = self.schema;
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
                        full_name(name)
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
                        format_args!("a symbol of enum '{}' ({})", full_name(name), symbols.join(", ")),
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
                        self.encode(*item, v, out, &Path::Index(path, i))?;
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
                        self.encode(*inner, v, out, &Path::Key(path, k))?;
                    }
                }
                put_long(out, 0);
            },
            Node::Record { name, fields } => {
                let Value::Object(object) = value else {
                    return Err(mismatch(path, format_args!("an object (record '{}')", full_name(name)), value));
                };
                self.encode_record(name, fields, object, out, path)?;
            },
            Node::Union(branches) => match self.mode {
                JsonMode::AvroJson => self.encode_tagged_union(branches, value, out, path)?,
                JsonMode::Plain => self.encode_plain_union(branches, value, out, path)?,
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
        fields: &[crate::schema::Field],
        object: &Map<String, Value>,
        out: &mut Vec<u8>,
        path: &Path,
    ) -> AvroResult<()> {
        let mut given = 0;
        for f in fields {
            let at = Path::Field(path, &f.name);
            match (object.get(&f.name), &f.default) {
                (Some(v), _) => {
                    given += 1;
                    self.encode(f.schema, v, out, &at)?;
                },
                (None, Some(default)) => encode_default(self.schema, f.schema, default, out, &at.to_string(), 0)?,
                (None, None) => {
                    return Err(AvroError::encode(format!(
                        "{}: expected the field in the object of record '{}', found it missing (it has no default)",
                        place(&at),
                        full_name(name)
                    )))
                },
            }
        }
        if given < object.len() {
            let extra = object.keys().find(|k| !fields.iter().any(|f| &f.name == *k)).expect("a key no field has");
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            return Err(AvroError::encode(format!(
                "{}: expected only fields of record '{}' ({}), found the unknown field {}",
                place(path),
                full_name(name),
                names.join(", "),
                Value::String(extra.clone())
            )));
        }
        Ok(())
    }

    /// Avro's JSON encoding of a union: `null`, or `{"<branch>": value}`.
    fn encode_tagged_union(
        &self,
        branches: &[NodeId],
        value: &Value,
        out: &mut Vec<u8>,
        path: &Path,
    ) -> AvroResult<()> {
        let schema = self.schema;
        let expected = || {
            format!(
                "a union value (null, or an object {{\"<branch>\": value}} naming one branch of {})",
                branch_labels(schema, branches)
            )
        };
        let (index, inner) = match value {
            Value::Null => {
                let index = branches.iter().position(|b| matches!(schema.node(*b), Node::Null));
                let index = index.ok_or_else(|| {
                    AvroError::encode(format!(
                        "{}: expected {}, found null, and the union has no null branch",
                        place(path),
                        expected()
                    ))
                })?;
                put_long(out, index as i64);
                return Ok(());
            },
            Value::Object(map) if map.len() == 1 => {
                let (label, inner) = map.iter().next().expect("one entry");
                let index = branches
                    .iter()
                    .position(|b| !matches!(schema.node(*b), Node::Null) && is_branch_label(schema, *b, label));
                let index = index.ok_or_else(|| {
                    AvroError::encode(format!(
                        "{}: expected {}, found the branch name {}",
                        place(path),
                        expected(),
                        Value::String(label.clone())
                    ))
                })?;
                (index, inner)
            },
            _ => return Err(mismatch(path, expected(), value)),
        };
        put_long(out, index as i64);
        self.encode(branches[index], inner, out, path)
    }

    /// A plain value given to the first branch, in the union's order, that takes it.
    fn encode_plain_union(&self, branches: &[NodeId], value: &Value, out: &mut Vec<u8>, path: &Path) -> AvroResult<()> {
        let schema = self.schema;
        let mut tried = Vec::new();
        for (index, branch) in branches.iter().enumerate() {
            if !kind_fits(schema.node(*branch), value) {
                continue;
            }
            let mark = out.len();
            put_long(out, index as i64);
            match self.encode(*branch, value, out, path) {
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
    use super::*;
    use crate::decode::{write_json, Cursor};
    use crate::schema::parse_schema;

    fn encode(schema: &str, text: &str, mode: JsonMode) -> AvroResult<(Vec<u8>, usize)> {
        encode_lines(&parse_schema(schema).unwrap(), text.as_bytes(), mode, 1)
    }

    fn render(schema: &str, data: &[u8], mode: JsonMode) -> String {
        let schema = parse_schema(schema).unwrap();
        let mut out = String::new();
        let mut cur = Cursor::new(data);
        while !cur.is_empty() {
            write_json(&schema, schema.root, &mut cur, &mut out, 0, mode).unwrap();
            out.push('\n');
        }
        out
    }

    const RECORD: &str = r#"{"type": "record", "name": "R", "namespace": "n", "fields": [
        {"name": "i", "type": "int"},
        {"name": "u", "type": ["null", "long", "string", {"type": "record", "name": "S", "fields": [
            {"name": "b", "type": "bytes"}]}]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}, "default": "B"},
        {"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}},
        {"name": "m", "type": {"type": "map", "values": ["null", "double"]}},
        {"name": "a", "type": {"type": "array", "items": "float"}}
    ]}"#;

    #[test]
    fn each_mode_reads_back_what_it_renders() {
        let avro_json = concat!(
            r#"{"i":-3,"u":{"n.S":{"b":"\u0000ÿ"}},"e":"A","f":"ab","m":{"x":{"double":1.5},"y":null},"a":[0.5,"NaN"]}"#,
            "\n",
            r#"{"i":2147483647,"u":null,"e":"B","f":"\u0001\u0002","m":{},"a":[]}"#,
            "\n",
            r#"{"i":0,"u":{"long":7},"e":"B","f":"zz","m":{"k":{"double":"-Infinity"}},"a":[-1.0]}"#,
            "\n",
        );
        let (data, count) = encode(RECORD, avro_json, JsonMode::AvroJson).unwrap();
        assert_eq!(count, 3);
        assert_eq!(render(RECORD, &data, JsonMode::AvroJson), avro_json);
        let plain = render(RECORD, &data, JsonMode::Plain);
        assert!(plain.starts_with(r#"{"i":-3,"u":{"b":"\u0000ÿ"},"e":"A","f":"ab","m":{"x":1.5,"y":null}"#), "{plain}");
        let (again, count) = encode(RECORD, &plain, JsonMode::Plain).unwrap();
        assert_eq!((again, count), (data, 3));
    }

    #[test]
    fn plain_unions_take_the_first_branch_that_fits() {
        let schema = r#"["null", "int", "double", "string", {"type": "enum", "name": "E", "symbols": ["x"]}]"#;
        let (data, _) = encode(schema, "null\n5\n3000000000\n2.5\n\"x\"\n\"NaN\"\n", JsonMode::Plain).unwrap();
        // int 5; 3e9 does not fit an int: a double; "x" is a string before it is a symbol;
        // "NaN" is a double, the double branch coming before the string.
        let rendered = render(schema, &data, JsonMode::AvroJson);
        assert_eq!(
            rendered,
            "null\n{\"int\":5}\n{\"double\":3000000000.0}\n{\"double\":2.5}\n{\"string\":\"x\"}\n{\"double\":\"NaN\"}\n"
        );
    }

    #[test]
    fn errors_name_the_line_the_field_and_what_was_found() {
        let ok = r#"{"i":1,"u":null,"f":"ab","m":{},"a":[]}"#;
        let cases = [
            (r#"{"i":1,"u":null,"f":"ab","m":{},"a":[]"#, "line 3, column"),
            (r#"{"i":2147483648,"u":null,"f":"ab","m":{},"a":[]}"#, "line 3, field 'i': expected an int"),
            (r#"{"i":1.0,"u":null,"f":"ab","m":{},"a":[]}"#, "found 1.0"),
            (r#"{"u":null,"f":"ab","m":{},"a":[]}"#, "field 'i': expected the field"),
            (r#"{"i":1,"u":{"S":{"b":""}},"f":"ab","m":{},"a":[]}"#, "found the branch name \"S\""),
            (r#"{"i":1,"u":7,"f":"ab","m":{},"a":[]}"#, "field 'u': expected a union value"),
            (
                r#"{"i":1,"u":null,"e":"C","f":"ab","m":{},"a":[]}"#,
                "expected a symbol of enum 'n.E' (A, B), found \"C\"",
            ),
            (r#"{"i":1,"u":null,"f":"abc","m":{},"a":[]}"#, "found 3 code points"),
            (r#"{"i":1,"u":null,"f":"a€","m":{},"a":[]}"#, "code point U+20AC"),
            (r#"{"i":1,"u":null,"f":"ab","m":{"k":{"int":1}},"a":[]}"#, "field 'm[\"k\"]'"),
            (r#"{"i":1,"u":null,"f":"ab","m":{},"a":[1e39]}"#, "field 'a[0]': expected a float"),
            (r#"{"i":1,"u":null,"f":"ab","m":{},"a":[],"z":0}"#, "found the unknown field \"z\""),
        ];
        for (line, expected) in cases {
            let text = format!("{ok}\n\n{line}\n");
            let err = encode(RECORD, &text, JsonMode::AvroJson).unwrap_err();
            assert!(err.message.contains(expected), "{} does not say {expected}", err.message);
            assert!(err.message.starts_with("line 3"), "{}", err.message);
        }
    }

    #[test]
    fn doubles_read_back_to_the_same_bits() {
        // Shortest texts the default serde_json parser reads one bit off (float_roundtrip).
        let values = [1.1425670480148526e-254, 5e-324, f64::MAX, -0.0, 0.1 + 0.2, 2.2250738585072014e-308];
        let mut data = Vec::new();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let text = render(r#""double""#, &data, JsonMode::Plain);
        assert_eq!(encode(r#""double""#, &text, JsonMode::Plain).unwrap(), (data, values.len()));
    }

    #[test]
    fn missing_fields_take_their_default() {
        let (data, _) = encode(RECORD, r#"{"i":1,"u":null,"f":"ab","m":{},"a":[]}"#, JsonMode::AvroJson).unwrap();
        assert_eq!(
            render(RECORD, &data, JsonMode::Plain),
            "{\"i\":1,\"u\":null,\"e\":\"B\",\"f\":\"ab\",\"m\":{},\"a\":[]}\n"
        );
    }
}
