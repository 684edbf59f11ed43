//! Values of a recursive type read with a reader schema: the writer's bytes rendered as
//! the JSON text of the reader's type (what `json.rs` renders for a value written with
//! the reader's schema), by the same resolution rules as `resolve.rs`.
//!
//! A recursive type has no fixed depth, so its resolution is a graph, not a tree: one
//! [`JsonStep`] per (writer type, reader type) pair met, and steps refer to each other
//! by index.

use std::collections::HashMap;

use super::cursor::Cursor;
use super::json::{write_float, write_json, write_json_array, write_json_map, write_json_string, write_scalar};
use super::matching::{
    cannot_read, check_fixed, check_names, encoded_default, enum_to_reader, matching_branch, no_reader_branch,
    no_writer_branch, reader_fields_by_name, reads_as_written,
};
use super::skip::{read_union_branch, too_deep, SkipOp, MAX_VALUE_DEPTH};
use crate::error::{AvroError, AvroResult};
use crate::schema::{field_path, AvroSchema, JsonMode, Node, NodeId};

/// The steps rendering a writer's value as the reader's JSON; the first is the root.
#[derive(Debug, Clone)]
pub struct JsonResolution {
    steps: Vec<JsonStep>,
}

#[derive(Debug, Clone)]
enum JsonStep {
    /// A value of the writer's type without parts (its node), rendered as `json.rs`
    /// renders it: an int read as long prints alike.
    Scalar(Node),
    /// A writer's int or long read as float or double, a float read as double.
    LongAsFloat,
    LongAsDouble,
    FloatAsDouble,
    /// A string read as bytes (its bytes as code points), bytes read as a string (UTF-8).
    StringAsBytes,
    BytesAsString,
    /// The reader's symbol of each writer symbol (None: not one, and no default).
    Enum(Vec<Option<String>>),
    /// The writer's fields in its order, each rendered into an output field or skipped;
    /// the output fields are the reader's (names already quoted), defaults rendered once.
    Record {
        names: Vec<String>,
        fields: Vec<JsonField>,
        defaults: Vec<(usize, String)>,
    },
    Array(usize),
    Map(usize),
    /// The step of each branch of the writer's union (None: the reader cannot take it).
    Union {
        branches: Vec<Option<usize>>,
        writer_types: Vec<String>,
    },
    /// Not yet compiled (only while compiling: a pair met again on the way down).
    Pending,
}

#[derive(Debug, Clone, Copy)]
enum JsonField {
    Read { out: usize, step: usize },
    Skip(SkipOp),
}

impl JsonResolution {
    /// The rendering of the writer's `writer_node` as the reader's `reader_node`.
    pub fn new(
        writer: &AvroSchema,
        reader: &AvroSchema,
        writer_node: NodeId,
        reader_node: NodeId,
        path: &str,
    ) -> AvroResult<Self> {
        let mut compiler = Compiler { writer, reader, steps: Vec::new(), seen: HashMap::new() };
        compiler.step(writer_node, reader_node, path)?;
        Ok(Self { steps: compiler.steps })
    }

    /// Renders the writer's value at `cur` (of a schema `writer`) into `out`.
    pub fn write(&self, writer: &AvroSchema, cur: &mut Cursor, out: &mut String) -> AvroResult<()> {
        self.write_step(0, writer, cur, out, 0)
    }

    fn write_step(
        &self,
        step: usize,
        writer: &AvroSchema,
        cur: &mut Cursor,
        out: &mut String,
        depth: usize,
    ) -> AvroResult<()> {
        if depth > MAX_VALUE_DEPTH {
            return Err(too_deep());
        }
        match &self.steps[step] {
            JsonStep::Scalar(node) => write_scalar(node, cur, out)?,
            JsonStep::LongAsFloat => write_float(out, f64::from(cur.read_long()? as f32)),
            JsonStep::LongAsDouble => write_float(out, cur.read_long()? as f64),
            JsonStep::FloatAsDouble => write_float(out, f64::from(cur.read_f32()?)),
            JsonStep::StringAsBytes => {
                let bytes = cur.read_bytes("a string")?;
                write_json_string(out, bytes.iter().map(|b| char::from(*b)));
            },
            JsonStep::BytesAsString => {
                let text = cur.read_str("a bytes value read as a string")?;
                write_json_string(out, text.chars());
            },
            JsonStep::Enum(symbols) => {
                let index = cur.read_long()?;
                let symbol = usize::try_from(index).ok().and_then(|i| symbols.get(i)).ok_or_else(|| {
                    AvroError::decode(format!("expected an enum index below {}, found {index}", symbols.len()))
                })?;
                let symbol = symbol.as_deref().ok_or_else(|| {
                    AvroError::decode(format!(
                        "the writer's enum symbol {index} is not a symbol of the reader's enum, which has no default"
                    ))
                })?;
                write_json_string(out, symbol.chars());
            },
            JsonStep::Record { names, fields, defaults } => {
                let mut values = vec![String::new(); names.len()];
                for field in fields {
                    match *field {
                        JsonField::Read { out, step } => {
                            self.write_step(step, writer, cur, &mut values[out], depth + 1)?
                        },
                        JsonField::Skip(op) => op.skip(writer, cur)?,
                    }
                }
                for (out, default) in defaults {
                    values[*out].push_str(default);
                }
                out.push('{');
                for (i, (name, value)) in names.iter().zip(&values).enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(name);
                    out.push(':');
                    out.push_str(value);
                }
                out.push('}');
            },
            JsonStep::Array(item) => {
                write_json_array(cur, out, |cur, out| self.write_step(*item, writer, cur, out, depth + 1))?
            },
            JsonStep::Map(value) => {
                write_json_map(cur, out, |cur, out| self.write_step(*value, writer, cur, out, depth + 1))?
            },
            JsonStep::Union { branches, writer_types } => {
                let branch = read_union_branch(cur, branches.len())?;
                let step = branches[branch].ok_or_else(|| {
                    AvroError::decode(format!(
                        "the writer's union branch {branch} holds a {}, which the reader's schema cannot take there",
                        writer_types[branch]
                    ))
                })?;
                self.write_step(step, writer, cur, out, depth)?;
            },
            JsonStep::Pending => unreachable!("every step is compiled before any value is read"),
        }
        Ok(())
    }
}

struct Compiler<'s> {
    writer: &'s AvroSchema,
    reader: &'s AvroSchema,
    steps: Vec<JsonStep>,
    /// The step of each (writer, reader) pair compiled or being compiled.
    seen: HashMap<(NodeId, NodeId), usize>,
}

impl Compiler<'_> {
    fn step(&mut self, writer_node: NodeId, reader_node: NodeId, path: &str) -> AvroResult<usize> {
        if let Some(step) = self.seen.get(&(writer_node, reader_node)) {
            return Ok(*step);
        }
        let index = self.steps.len();
        self.steps.push(JsonStep::Pending);
        self.seen.insert((writer_node, reader_node), index);
        self.steps[index] = self.compile(writer_node, reader_node, path)?;
        Ok(index)
    }

    fn compile(&mut self, writer_node: NodeId, reader_node: NodeId, path: &str) -> AvroResult<JsonStep> {
        let (writer, reader) = (self.writer, self.reader);
        let candidates = |branches: &[NodeId]| branches.iter().copied().enumerate().collect::<Vec<_>>();
        Ok(match (writer.node(writer_node), reader.node(reader_node)) {
            // A union's JSON is its branch's value: the writer's branch is read, the
            // reader's chosen, and neither shows.
            (Node::Union(writer_branches), reader_type) => {
                let targets = match reader_type {
                    Node::Union(reader_branches) => candidates(reader_branches),
                    _ => vec![(0, reader_node)],
                };
                let mut branches = Vec::with_capacity(writer_branches.len());
                for branch in writer_branches {
                    branches.push(match matching_branch(writer, reader, *branch, &targets) {
                        Some(target) => Some(self.step(*branch, targets[target].1, path)?),
                        None => None,
                    });
                }
                let writer_types: Vec<String> = writer_branches.iter().map(|b| writer.type_name(*b)).collect();
                if branches.iter().all(Option::is_none) {
                    return Err(no_writer_branch(&writer_types, &reader.type_name(reader_node), path));
                }
                JsonStep::Union { branches, writer_types }
            },
            (_, Node::Union(reader_branches)) => {
                let targets = candidates(reader_branches);
                let target = matching_branch(writer, reader, writer_node, &targets)
                    .ok_or_else(|| no_reader_branch(writer, writer_node, path))?;
                // The same JSON as the reader's branch: compiled as that pair.
                return self.compile(writer_node, targets[target].1, path);
            },
            (
                Node::Record { name: writer_name, fields: writer_fields },
                Node::Record { name: reader_name, fields: reader_fields },
            ) => {
                check_names(writer_name, reader_name, path)?;
                let by_name = reader_fields_by_name(reader_fields);
                let mut fields = Vec::with_capacity(writer_fields.len());
                let mut read = vec![false; reader_fields.len()];
                for writer_field in writer_fields {
                    fields.push(match by_name.get(writer_field.name.as_str()) {
                        Some(&out) => {
                            read[out] = true;
                            let at = field_path(path, &reader_fields[out].name);
                            JsonField::Read {
                                out,
                                step: self.step(writer_field.schema, reader_fields[out].schema, &at)?,
                            }
                        },
                        None => JsonField::Skip(SkipOp::compile(writer, writer_field.schema)),
                    });
                }
                let mut defaults = Vec::new();
                for (out, field) in reader_fields.iter().enumerate().filter(|(i, _)| !read[*i]) {
                    let at = field_path(path, &field.name);
                    // Encoded, then rendered as a value of the reader's type: the same JSON.
                    let encoded = encoded_default(reader, field, &at)?;
                    let mut text = String::new();
                    write_json(reader, field.schema, &mut Cursor::new(&encoded), &mut text, 0, JsonMode::Plain)?;
                    defaults.push((out, text));
                }
                let names = reader_fields
                    .iter()
                    .map(|f| {
                        let mut quoted = String::new();
                        write_json_string(&mut quoted, f.name.chars());
                        quoted
                    })
                    .collect();
                JsonStep::Record { names, fields, defaults }
            },
            (
                Node::Enum { name: writer_name, symbols: writer_symbols, .. },
                Node::Enum { name: reader_name, symbols: reader_symbols, default, .. },
            ) => {
                check_names(writer_name, reader_name, path)?;
                let to_reader = enum_to_reader(writer_symbols, reader_symbols, default.as_deref());
                JsonStep::Enum(to_reader.iter().map(|s| s.map(|i| reader_symbols[i as usize].clone())).collect())
            },
            (Node::Array(writer_item), Node::Array(reader_item)) => {
                JsonStep::Array(self.step(*writer_item, *reader_item, &format!("{path}[]"))?)
            },
            (Node::Map(writer_value), Node::Map(reader_value)) => {
                JsonStep::Map(self.step(*writer_value, *reader_value, &format!("{path}{{}}"))?)
            },
            (
                Node::Fixed { name: writer_name, size: writer_size },
                Node::Fixed { name: reader_name, size: reader_size },
            ) => {
                check_fixed((writer_name, *writer_size), (reader_name, *reader_size), path)?;
                JsonStep::Scalar(writer.node(writer_node).clone())
            },
            (writer_type, reader_type) if reads_as_written(writer_type, reader_type) => {
                JsonStep::Scalar(writer_type.clone())
            },
            (Node::Int | Node::Long, Node::Float) => JsonStep::LongAsFloat,
            (Node::Int | Node::Long, Node::Double) => JsonStep::LongAsDouble,
            (Node::Float, Node::Double) => JsonStep::FloatAsDouble,
            (Node::String, Node::Bytes) => JsonStep::StringAsBytes,
            (Node::Bytes, Node::String) => JsonStep::BytesAsString,
            _ => return Err(cannot_read(writer, reader, writer_node, reader_node, path)),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::decode::json::tests::{long, text};
    use crate::error::ErrorKind;
    use crate::schema::parse_schema;

    /// The writer's value in `data` rendered as the reader's type.
    fn render(writer: &Value, reader: &Value, data: &[u8]) -> AvroResult<String> {
        let (writer, reader) = (parse_schema(&writer.to_string())?, parse_schema(&reader.to_string())?);
        let resolution = JsonResolution::new(&writer, &reader, writer.root, reader.root, "f")?;
        let (mut cur, mut out) = (Cursor::new(data), String::new());
        resolution.write(&writer, &mut cur, &mut out)?;
        assert!(cur.is_empty(), "every byte is read");
        Ok(out)
    }

    #[test]
    fn promoted_values_render_as_the_readers_type() {
        for (writer, reader, data, expected) in [
            ("int", "long", long(3), "3"),
            ("int", "float", long(3), "3.0"),
            ("int", "double", long(-3), "-3.0"),
            // Read as a float, as the reader's type holds it.
            ("long", "float", long(16_777_217), "16777216.0"),
            ("long", "double", long(16_777_217), "16777217.0"),
            ("float", "double", 0.5f32.to_le_bytes().to_vec(), "0.5"),
            ("string", "bytes", text("é".as_bytes()), "\"Ã©\""),
            ("bytes", "string", text(b"abc"), "\"abc\""),
        ] {
            assert_eq!(render(&json!(writer), &json!(reader), &data).unwrap(), expected, "{writer} as {reader}");
        }
    }

    #[test]
    fn a_record_shows_the_readers_fields_in_its_order_defaults_filled_in() {
        let writer = json!({"type": "record", "name": "R", "fields": [
            {"name": "a", "type": "int"}, {"name": "gone", "type": "string"}, {"name": "b", "type": "long"}
        ]});
        let reader = json!({"type": "record", "name": "R", "fields": [
            {"name": "b", "type": "double"},
            {"name": "a", "type": "long"},
            {"name": "c", "type": "string", "default": "d\""},
            {"name": "n", "type": ["null", "int"], "default": null},
        ]});
        let data = [long(1), text(b"zz"), long(2)].concat();
        assert_eq!(render(&writer, &reader, &data).unwrap(), "{\"b\":2.0,\"a\":1,\"c\":\"d\\\"\",\"n\":null}");
        let no_default = json!({"type": "record", "name": "R", "fields": [{"name": "z", "type": "int"}]});
        let error = render(&writer, &no_default, &data).unwrap_err();
        assert_eq!(error.message, "the reader's field 'f.z' is not in the writer's schema and has no default");
    }

    #[test]
    fn an_enum_symbol_goes_by_name_or_to_the_readers_default() {
        let writer = json!({"type": "enum", "name": "E", "symbols": ["A", "B", "C"]});
        let reader = json!({"type": "enum", "name": "E", "symbols": ["C", "A"]});
        let with_default = json!({"type": "enum", "name": "E", "symbols": ["C", "A"], "default": "A"});
        assert_eq!(render(&writer, &reader, &long(0)).unwrap(), "\"A\"");
        assert_eq!(render(&writer, &reader, &long(2)).unwrap(), "\"C\"");
        assert_eq!(render(&writer, &with_default, &long(1)).unwrap(), "\"A\"");
        let error = render(&writer, &reader, &long(1)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Decode);
        assert_eq!(
            error.message,
            "the writer's enum symbol 1 is not a symbol of the reader's enum, which has no default"
        );
        assert_eq!(render(&writer, &reader, &long(3)).unwrap_err().message, "expected an enum index below 3, found 3");
    }

    #[test]
    fn a_writers_union_branch_renders_as_the_readers_branch_that_takes_it() {
        let writer = json!(["null", "int", "string"]);
        let reader = json!(["null", "long"]);
        assert_eq!(render(&writer, &reader, &long(0)).unwrap(), "null");
        assert_eq!(render(&writer, &reader, &[long(1), long(3)].concat()).unwrap(), "3");
        let error = render(&writer, &reader, &long(2)).unwrap_err();
        assert_eq!(
            error.message,
            "the writer's union branch 2 holds a string, which the reader's schema cannot take there"
        );
        // A value read into a reader's union: no wrapper, its branch's JSON.
        assert_eq!(render(&json!("int"), &json!(["null", "double"]), &long(3)).unwrap(), "3.0");
    }

    #[test]
    fn types_that_cannot_resolve_are_schema_errors_at_the_path() {
        for (writer, reader, message) in [
            (json!("string"), json!("int"), "at 'f': the writer's string cannot be read as the reader's int"),
            (json!("long"), json!("int"), "at 'f': the writer's long cannot be read as the reader's int"),
            (
                json!(["string", "boolean"]),
                json!("int"),
                "at 'f': no branch of the writer's union [string, boolean] can be read as the reader's int",
            ),
            (
                json!("boolean"),
                json!(["null", "int"]),
                "at 'f': the writer's boolean matches no branch of the reader's union",
            ),
            (
                json!({"type": "array", "items": "string"}),
                json!({"type": "array", "items": "int"}),
                "at 'f[]': the writer's string cannot be read as the reader's int",
            ),
        ] {
            let error = render(&writer, &reader, &[]).unwrap_err();
            assert_eq!((error.kind, error.message.as_str()), (ErrorKind::Schema, message));
        }
    }

    #[test]
    fn a_recursive_type_resolves_once_per_pair_of_types() {
        let list = |v: &str| {
            json!({"type": "record", "name": "L", "fields": [
                {"name": "v", "type": v}, {"name": "next", "type": ["null", "L"]}
            ]})
        };
        let data = [long(1), long(1), long(2), long(0)].concat();
        let rendered = render(&list("int"), &list("double"), &data).unwrap();
        assert_eq!(rendered, "{\"v\":1.0,\"next\":{\"v\":2.0,\"next\":null}}");
    }
}
