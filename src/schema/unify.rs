//! One reader schema for files whose writer schemas evolved: every field of every file,
//! types widened where the specification's resolution allows (int to long to double,
//! float to double, enum symbols merged); a field some files lack keeps the default its
//! newest declaration gives, or is made nullable with a null default when none declares
//! one. Each file is then read into it by schema resolution.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::model::{field_path, AvroSchema, Field, Logical, Name, Node, NodeId};
use super::parse::parse_schema;
use crate::error::{AvroError, AvroResult, ErrorKind};

/// One reader schema (JSON) for files given as (name, writer schema JSON), unified in
/// order; a conflict is an [`ErrorKind::SchemaMismatch`] naming the file and the field.
pub fn unify_schemas(schemas: &[(String, String)]) -> AvroResult<Value> {
    let parse = |(name, json): &(String, String)| parse_schema(json).map_err(|e| e.in_file(name));
    let Some(first) = schemas.first() else {
        return Err(AvroError::argument("no schemas to unify"));
    };
    let mut unified = parse(first)?;
    for (i, pair) in schemas.iter().enumerate().skip(1) {
        let next = parse(pair)?;
        let json = unify(&unified, &next).map_err(|c| {
            let earlier = if i == 1 {
                format!("'{}' has", first.0)
            } else {
                format!("the files before it (from '{}') have", first.0)
            };
            AvroError::new(
                ErrorKind::SchemaMismatch,
                format!(
                    "the file '{}' cannot be read with the others: at {} it has {}, where {earlier} {}",
                    pair.0, c.path, c.right, c.left
                ),
            )
            .in_file(&pair.0)
        })?;
        unified = parse_schema(&json.to_string())?;
    }
    Ok(to_json(&unified))
}

/// `schema` (a record's) as JSON with each top-level field that declares no default made
/// nullable with a null one, as a field only some files have is unified: files that lack
/// it read it as nulls.
pub fn with_null_defaults(schema: &AvroSchema) -> Value {
    let mut json = to_json(schema);
    if let Some(fields) = json.get_mut("fields").and_then(Value::as_array_mut) {
        for field in fields.iter_mut().filter(|f| f.get("default").is_none()) {
            field["type"] = nullable(field["type"].take());
            field["default"] = Value::Null;
        }
    }
    json
}

/// Where two schemas cannot be unified: the field path and what each side has.
#[derive(Debug, Clone, PartialEq)]
struct Conflict {
    path: String,
    left: String,
    right: String,
}

/// The reader schema (JSON) that both `a` and `b` resolve into, and the top-level fields
/// each lacks, or where they conflict.
fn unify(a: &AvroSchema, b: &AvroSchema) -> Result<Value, Conflict> {
    let mut unifier = Unifier { a, b, emitted: HashSet::new() };
    unifier.pair(a.root, b.root, "")
}

/// A schema as JSON, named types written out once and referred to by name after.
fn to_json(schema: &AvroSchema) -> Value {
    emit(schema, schema.root, &mut HashSet::new())
}

struct Unifier<'a> {
    a: &'a AvroSchema,
    b: &'a AvroSchema,
    /// Named types already written out: later occurrences (and recursion) refer to them.
    emitted: HashSet<String>,
}

impl Unifier<'_> {
    fn conflict(&self, x: NodeId, y: NodeId, path: &str) -> Conflict {
        Conflict { path: display_path(path), left: describe(self.a, x), right: describe(self.b, y) }
    }

    fn pair(&mut self, x: NodeId, y: NodeId, path: &str) -> Result<Value, Conflict> {
        let (xs, ys) = (self.a.node(x), self.b.node(y));
        if matches!(xs, Node::Union(_)) || matches!(ys, Node::Union(_)) {
            return self.unions(x, y, path);
        }
        if self.a.logical(x) != self.b.logical(y) {
            return Err(self.conflict(x, y, path));
        }
        match (xs, ys) {
            (Node::Record { name: xn, fields: xf }, Node::Record { name: yn, fields: yf }) => {
                if xn.name != yn.name && !path.is_empty() {
                    return Err(self.conflict(x, y, path));
                }
                let full = xn.fullname();
                if !self.emitted.insert(full.clone()) {
                    return Ok(json!(full));
                }
                let mut fields = Vec::new();
                let x_names: HashSet<&str> = xf.iter().map(|f| f.name.as_str()).collect();
                let y_names: HashMap<&str, &Field> = yf.iter().map(|f| (f.name.as_str(), f)).collect();
                for f in xf {
                    let at = field_path(path, &f.name);
                    let unified = match y_names.get(f.name.as_str()) {
                        // The newer declaration of a default wins; a default (null, for a
                        // field made nullable before) still serves the files that lack it.
                        Some(g) => field_with_default(
                            &f.name,
                            self.pair(f.schema, g.schema, &at)?,
                            g.default.clone().or(f.default.clone()),
                        ),
                        None => one_sided(&f.name, emit(self.a, f.schema, &mut self.emitted), f.default.clone()),
                    };
                    fields.push(unified);
                }
                for g in yf.iter().filter(|g| !x_names.contains(g.name.as_str())) {
                    fields.push(one_sided(&g.name, emit(self.b, g.schema, &mut self.emitted), g.default.clone()));
                }
                let mut record = json!({"type": "record", "name": xn.name, "fields": fields});
                if let Some(ns) = xn.namespace.as_ref().filter(|ns| !ns.is_empty()) {
                    record["namespace"] = json!(ns);
                }
                Ok(record)
            },
            (Node::Enum { name: xn, symbols: xs, default }, Node::Enum { name: yn, symbols: ys, .. }) => {
                if xn.name != yn.name {
                    return Err(self.conflict(x, y, path));
                }
                let full = xn.fullname();
                if !self.emitted.insert(full.clone()) {
                    return Ok(json!(full));
                }
                let mut symbols = xs.clone();
                symbols.extend(ys.iter().filter(|s| !xs.contains(s)).cloned());
                let mut out = named_json("enum", xn, json!({"symbols": symbols}));
                if let Some(d) = default {
                    out["default"] = json!(d);
                }
                Ok(out)
            },
            (Node::Fixed { name: xn, size: a }, Node::Fixed { name: yn, size: b }) if xn.name == yn.name && a == b => {
                Ok(emit(self.a, x, &mut self.emitted))
            },
            (Node::Array(xi), Node::Array(yi)) => {
                Ok(json!({"type": "array", "items": self.pair(*xi, *yi, &format!("{path}[]"))?}))
            },
            (Node::Map(xv), Node::Map(yv)) => {
                Ok(json!({"type": "map", "values": self.pair(*xv, *yv, &format!("{path}{{}}"))?}))
            },
            (a, b) if std::mem::discriminant(a) == std::mem::discriminant(b) && is_primitive(a) => {
                Ok(emit(self.a, x, &mut self.emitted))
            },
            // Promotions: the wider type, which both resolve into.
            (Node::Int, Node::Long) | (Node::Long, Node::Int) => Ok(json!("long")),
            (Node::Int | Node::Long | Node::Float, Node::Float | Node::Double)
            | (Node::Float | Node::Double, Node::Int | Node::Long | Node::Float) => Ok(json!("double")),
            (Node::String, Node::Bytes) | (Node::Bytes, Node::String) => Ok(json!("string")),
            _ => Err(self.conflict(x, y, path)),
        }
    }

    /// At least one side is a union: `[null, T]` and `T` unify (nullable if either is);
    /// unions of several types must be the same on both sides.
    fn unions(&mut self, x: NodeId, y: NodeId, path: &str) -> Result<Value, Conflict> {
        let (x_null, x_values) = branches(self.a, x);
        let (y_null, y_values) = branches(self.b, y);
        let inner = match (x_values.as_slice(), y_values.as_slice()) {
            ([a], [b]) => self.pair(*a, *b, path)?,
            ([a], []) => emit(self.a, *a, &mut self.emitted),
            ([], [b]) => emit(self.b, *b, &mut self.emitted),
            ([], []) => return Ok(json!("null")),
            _ if describe(self.a, x) == describe(self.b, y) => return Ok(emit(self.a, x, &mut self.emitted)),
            _ => return Err(self.conflict(x, y, path)),
        };
        Ok(if x_null || y_null { nullable(inner) } else { inner })
    }
}

fn branches(schema: &AvroSchema, id: NodeId) -> (bool, Vec<NodeId>) {
    match schema.node(id) {
        Node::Union(b) => {
            let split = schema.split_union(b);
            (split.null.is_some(), split.values.into_iter().map(|(_, node)| node).collect())
        },
        Node::Null => (true, Vec::new()),
        _ => (false, vec![id]),
    }
}

/// `["null", T]`, the shape a null default needs; a union already holding null is kept.
fn nullable(inner: Value) -> Value {
    match inner {
        Value::String(s) if s == "null" => json!("null"),
        Value::Array(mut branches) => {
            if !branches.iter().any(|b| b == "null") {
                branches.insert(0, json!("null"));
            } else if branches[0] != "null" {
                // A null default must match the first branch.
                branches.retain(|b| b != "null");
                branches.insert(0, json!("null"));
            }
            Value::Array(branches)
        },
        other => json!(["null", other]),
    }
}

/// A field only one side has: the files of the other side read its declared default, or
/// null when it declares none (the field is made nullable).
fn one_sided(name: &str, schema: Value, default: Option<Value>) -> Value {
    match default {
        Some(d) => field_with_default(name, schema, Some(d)),
        None => field_json(name, nullable(schema), Some(Value::Null)),
    }
}

/// A field whose default, if any, matches its union's first branch, as the specification
/// asks: null first for a null default, last for any other.
fn field_with_default(name: &str, schema: Value, default: Option<Value>) -> Value {
    let schema = match (schema, &default) {
        (schema @ Value::Array(_), Some(Value::Null)) => nullable(schema),
        (Value::Array(mut branches), Some(_)) if branches.first().is_some_and(|b| b == "null") => {
            let null = branches.remove(0);
            branches.push(null);
            Value::Array(branches)
        },
        (schema, _) => schema,
    };
    field_json(name, schema, default)
}

fn field_json(name: &str, schema: Value, default: Option<Value>) -> Value {
    let mut field = json!({"name": name, "type": schema});
    if let Some(d) = default {
        field["default"] = d;
    }
    field
}

fn named_json(kind: &str, name: &Name, mut rest: Value) -> Value {
    rest["type"] = json!(kind);
    rest["name"] = json!(name.name);
    if let Some(ns) = name.namespace.as_ref().filter(|ns| !ns.is_empty()) {
        rest["namespace"] = json!(ns);
    }
    rest
}

fn is_primitive(node: &Node) -> bool {
    matches!(
        node,
        Node::Null | Node::Boolean | Node::Int | Node::Long | Node::Float | Node::Double | Node::Bytes | Node::String
    )
}

/// One node as JSON; named types already in `emitted` are written as references.
fn emit(schema: &AvroSchema, id: NodeId, emitted: &mut HashSet<String>) -> Value {
    let base = match schema.node(id) {
        Node::Record { name, fields } => {
            let full = name.fullname();
            if !emitted.insert(full.clone()) {
                return json!(full);
            }
            let fields: Vec<Value> = fields.iter().map(|f| emit_field(schema, f, emitted)).collect();
            named_json("record", name, json!({"fields": fields}))
        },
        Node::Enum { name, symbols, default } => {
            let full = name.fullname();
            if !emitted.insert(full.clone()) {
                return json!(full);
            }
            let mut out = named_json("enum", name, json!({"symbols": symbols}));
            if let Some(d) = default {
                out["default"] = json!(d);
            }
            out
        },
        Node::Fixed { name, size } => {
            let full = name.fullname();
            if !emitted.insert(full.clone()) {
                return json!(full);
            }
            named_json("fixed", name, json!({"size": size}))
        },
        Node::Array(item) => json!({"type": "array", "items": emit(schema, *item, emitted)}),
        Node::Map(value) => json!({"type": "map", "values": emit(schema, *value, emitted)}),
        Node::Union(branches) => Value::Array(branches.iter().map(|b| emit(schema, *b, emitted)).collect()),
        _ => json!(schema.type_name(id)),
    };
    match schema.logical(id) {
        None => base,
        Some(logical) => {
            let mut out = if base.is_string() { json!({"type": base}) } else { base };
            out["logicalType"] = json!(logical.name());
            if let Logical::Decimal { precision, scale } = logical {
                out["precision"] = json!(precision);
                out["scale"] = json!(scale);
            }
            out
        },
    }
}

fn emit_field(schema: &AvroSchema, field: &Field, emitted: &mut HashSet<String>) -> Value {
    let mut out = json!({"name": field.name, "type": emit(schema, field.schema, emitted)});
    if let Some(d) = &field.default {
        out["default"] = d.clone();
    }
    if !field.aliases.is_empty() {
        out["aliases"] = json!(field.aliases);
    }
    out
}

/// A node's type for messages: its JSON, named types by name.
fn describe(schema: &AvroSchema, id: NodeId) -> String {
    let mut emitted = HashSet::new();
    // Named types appear by name only: their contents were compared field by field.
    mark_named(schema, id, &mut emitted);
    emit(schema, id, &mut emitted).to_string()
}

fn mark_named(schema: &AvroSchema, id: NodeId, emitted: &mut HashSet<String>) {
    match schema.node(id) {
        Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => {
            emitted.insert(name.fullname());
        },
        Node::Union(branches) => branches.iter().for_each(|b| mark_named(schema, *b, emitted)),
        Node::Array(inner) | Node::Map(inner) => mark_named(schema, *inner, emitted),
        _ => {},
    }
}

fn display_path(path: &str) -> String {
    if path.is_empty() {
        "the top level".to_string()
    } else {
        format!("'{path}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_merged_and_widened() {
        let a = parse_schema(
            r#"{"type":"record","name":"r","fields":[{"name":"id","type":"int"},{"name":"x","type":"float"}]}"#,
        )
        .unwrap();
        let b = parse_schema(
            r#"{"type":"record","name":"r","fields":[
                {"name":"id","type":"long"},{"name":"y","type":"string"},{"name":"x","type":["null","double"]}
            ]}"#,
        )
        .unwrap();
        let unified = unify(&a, &b).unwrap();
        let expected = json!({"type": "record", "name": "r", "fields": [
            {"name": "id", "type": "long"},
            {"name": "x", "type": ["null", "double"]},
            {"name": "y", "type": ["null", "string"], "default": null},
        ]});
        assert_eq!(unified, expected);
    }

    #[test]
    fn a_field_made_nullable_keeps_its_default_through_later_files() {
        let a = parse_schema(r#"{"type":"record","name":"r","fields":[{"name":"id","type":"int"}]}"#).unwrap();
        let b = parse_schema(
            r#"{"type":"record","name":"r","fields":[{"name":"id","type":"int"},{"name":"n","type":"string"}]}"#,
        )
        .unwrap();
        let ab = parse_schema(&unify(&a, &b).unwrap().to_string()).unwrap();
        let abb = unify(&ab, &b).unwrap();
        assert_eq!(abb["fields"][1], json!({"name": "n", "type": ["null", "string"], "default": null}));
    }

    #[test]
    fn conflicts_name_the_field() {
        let nested = |v: &str| {
            let json = r#"{"type":"record","name":"r","fields":[
                {"name":"p","type":{"type":"record","name":"P","fields":[{"name":"v","type":"V"}]}}
            ]}"#;
            parse_schema(&json.replace("\"V\"", &format!("\"{v}\""))).unwrap()
        };
        let (a, b) = (nested("int"), nested("string"));
        let conflict = unify(&a, &b).unwrap_err();
        assert_eq!(conflict, Conflict { path: "'p.v'".into(), left: "\"int\"".into(), right: "\"string\"".into() });
    }

    #[test]
    fn schemas_round_trip_through_json() {
        let text = r#"{"type":"record","name":"r","namespace":"n","fields":[
            {"name":"a","type":{"type":"fixed","name":"F","size":4}},
            {"name":"b","type":["null","F"],"default":null},
            {"name":"c","type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}},
            {"name":"d","type":{"type":"array","items":"r"}}]}"#;
        let schema = parse_schema(text).unwrap();
        assert_eq!(parse_schema(&to_json(&schema).to_string()).unwrap(), schema);
    }

    fn one_field(field_type: Value) -> AvroSchema {
        let json = json!({"type": "record", "name": "r", "fields": [{"name": "f", "type": field_type}]});
        parse_schema(&json.to_string()).unwrap()
    }

    /// The unified type of field `f` typed `a` in one file and `b` in the next.
    fn unified_field(a: Value, b: Value) -> Result<Value, Conflict> {
        unify(&one_field(a), &one_field(b)).map(|mut record| record["fields"][0].take())
    }

    #[test]
    fn primitives_widen_to_the_type_both_resolve_into() {
        for (a, b, wide) in [
            ("int", "long", "long"),
            ("long", "int", "long"),
            ("int", "float", "double"),
            ("int", "double", "double"),
            ("long", "float", "double"),
            ("float", "double", "double"),
            ("double", "int", "double"),
            ("float", "float", "float"),
            ("string", "bytes", "string"),
            ("bytes", "string", "string"),
        ] {
            assert_eq!(unified_field(json!(a), json!(b)).unwrap(), json!({"name": "f", "type": wide}), "{a} {b}");
        }
        for (a, b) in [("boolean", "int"), ("string", "long"), ("double", "string"), ("null", "int")] {
            let conflict = unified_field(json!(a), json!(b)).unwrap_err();
            assert_eq!(
                (conflict.path.as_str(), conflict.left, conflict.right),
                ("'f'", format!("\"{a}\""), format!("\"{b}\""))
            );
        }
    }

    #[test]
    fn enum_symbols_are_merged_in_order_of_appearance() {
        let symbols = |s: &[&str]| json!({"type": "enum", "name": "E", "symbols": s, "default": s[0]});
        let field = unified_field(symbols(&["A", "B"]), symbols(&["C", "B", "D"])).unwrap();
        assert_eq!(
            field["type"],
            json!({"type": "enum", "name": "E", "symbols": ["A", "B", "C", "D"], "default": "A"})
        );
        let other = json!({"type": "enum", "name": "F", "symbols": ["A"]});
        assert_eq!(unified_field(symbols(&["A"]), other).unwrap_err().path, "'f'");
    }

    #[test]
    fn a_nullable_side_makes_the_field_nullable_and_a_value_default_puts_null_last() {
        let field = unified_field(json!(["null", "int"]), json!("long")).unwrap();
        assert_eq!(field, json!({"name": "f", "type": ["null", "long"]}));
        // The default the first file declares still serves; it must match the first branch.
        let a =
            parse_schema(r#"{"type":"record","name":"r","fields":[{"name":"f","type":"int","default":5}]}"#).unwrap();
        let unified = unify(&a, &one_field(json!(["null", "int"]))).unwrap();
        assert_eq!(unified["fields"][0], json!({"name": "f", "type": ["int", "null"], "default": 5}));
        // Unions of several types unify only with the same union.
        let wide = json!(["null", "int", "string"]);
        assert_eq!(unified_field(wide.clone(), wide.clone()).unwrap()["type"], wide);
        assert!(unified_field(wide, json!(["null", "int", "boolean"])).is_err());
    }

    #[test]
    fn a_conflict_names_the_file_the_field_and_what_came_before() {
        let file = |name: &str, t: &str| {
            (name.to_string(), json!({"type": "record", "name": "r", "fields": [{"name": "x", "type": t}]}).to_string())
        };
        let error = unify_schemas(&[file("a", "int"), file("b", "string")]).unwrap_err();
        assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::SchemaMismatch, Some("b")));
        assert_eq!(
            error.message,
            "the file 'b' cannot be read with the others: at 'x' it has \"string\", where 'a' has \"int\""
        );
        // What came before is the widened type of all the files before.
        let error = unify_schemas(&[file("a", "int"), file("b", "long"), file("c", "boolean")]).unwrap_err();
        assert_eq!(
            error.message,
            "the file 'c' cannot be read with the others: at 'x' it has \"boolean\", where the files before it (from 'a') \
             have \"long\""
        );
        let error = unify_schemas(&[file("a", "int"), ("b".into(), "{".into())]).unwrap_err();
        assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::Schema, Some("b")));
        assert_eq!(unify_schemas(&[]).unwrap_err().kind, ErrorKind::Argument);
    }
}
