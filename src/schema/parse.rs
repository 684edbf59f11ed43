//! Avro JSON schema parsing (Avro 1.12): primitives, complex types, named types with
//! namespaces, references to earlier names (recursion included) and logical types.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::model::{AvroSchema, Field, Logical, Name, Node, NodeId, SchemaNode, MAX_TEXT_DIGITS, TIME_ZONE_ATTRIBUTE};
use crate::error::{AvroError, AvroResult};

/// Parses a schema from its JSON text.
pub fn parse_schema(json: &str) -> AvroResult<AvroSchema> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| AvroError::schema(format!("the Avro schema is not valid JSON: {e}")))?;
    let mut parser = Parser { nodes: Vec::new(), names: HashMap::new() };
    let root = parser.parse(&value, None, 0)?;
    Ok(AvroSchema { nodes: parser.nodes, root })
}

/// Deeper nesting than this is rejected rather than risking the stack.
const MAX_DEPTH: usize = 256;

/// The largest fixed size: Java's Avro holds sizes in an int, so no writer goes beyond.
/// Sums of sizes (records, merged skips) are still checked or saturating.
const MAX_FIXED_SIZE: u64 = i32::MAX as u64;

struct Parser {
    nodes: Vec<SchemaNode>,
    names: HashMap<String, NodeId>,
}

fn primitive(name: &str) -> Option<Node> {
    Some(match name {
        "null" => Node::Null,
        "boolean" => Node::Boolean,
        "int" => Node::Int,
        "long" => Node::Long,
        "float" => Node::Float,
        "double" => Node::Double,
        "bytes" => Node::Bytes,
        "string" => Node::String,
        _ => return None,
    })
}

impl Parser {
    fn push(&mut self, node: Node, logical: Option<Logical>) -> NodeId {
        self.nodes.push(SchemaNode { node, logical, time_zone: None });
        self.nodes.len() - 1
    }

    fn parse(&mut self, value: &Value, namespace: Option<&str>, depth: usize) -> AvroResult<NodeId> {
        if depth > MAX_DEPTH {
            return Err(AvroError::schema(format!("the Avro schema nests deeper than {MAX_DEPTH} levels")));
        }
        match value {
            Value::String(name) => self.reference(name, namespace),
            Value::Array(branches) => {
                let ids =
                    branches.iter().map(|b| self.parse(b, namespace, depth + 1)).collect::<AvroResult<Vec<_>>>()?;
                if ids.iter().any(|id| matches!(self.nodes[*id].node, Node::Union(_))) {
                    return Err(AvroError::schema("a union may not directly contain another union"));
                }
                Ok(self.push(Node::Union(ids), None))
            },
            Value::Object(obj) => self.parse_object(obj, namespace, depth),
            other => Err(AvroError::schema(format!(
                "expected a type name, an object or a union array in the Avro schema, found {other}"
            ))),
        }
    }

    fn reference(&mut self, name: &str, namespace: Option<&str>) -> AvroResult<NodeId> {
        if let Some(node) = primitive(name) {
            return Ok(self.push(node, None));
        }
        let candidates = if name.contains('.') {
            vec![name.to_string()]
        } else {
            let mut c = Vec::new();
            if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
                c.push(format!("{ns}.{name}"));
            }
            c.push(name.to_string());
            c
        };
        candidates
            .iter()
            .find_map(|full| self.names.get(full).copied())
            .ok_or_else(|| AvroError::schema(format!("unknown type '{name}' in the Avro schema")))
    }

    fn parse_object(&mut self, obj: &Map<String, Value>, namespace: Option<&str>, depth: usize) -> AvroResult<NodeId> {
        let type_value = obj.get("type").ok_or_else(|| {
            AvroError::schema(format!("a schema object has no \"type\": {}", Value::Object(obj.clone())))
        })?;
        let type_name = match type_value {
            Value::String(s) => s.as_str(),
            // {"type": {...}} or {"type": [...]}: a schema wrapped in an object.
            nested => return self.parse(nested, namespace, depth + 1),
        };
        let logical_name = obj.get("logicalType").and_then(Value::as_str);
        match type_name {
            "record" | "error" => self.parse_record(obj, namespace, depth),
            "enum" => {
                let name = self.declare_name(obj, namespace)?;
                let symbols = obj
                    .get("symbols")
                    .and_then(Value::as_array)
                    .ok_or_else(|| AvroError::schema(format!("enum '{}' has no \"symbols\" array", name.fullname())))?
                    .iter()
                    .map(|s| {
                        s.as_str().map(str::to_string).ok_or_else(|| {
                            AvroError::schema(format!(
                                "enum '{}' has a symbol that is not a string: {s}",
                                name.fullname()
                            ))
                        })
                    })
                    .collect::<AvroResult<Vec<_>>>()?;
                let mut seen = std::collections::HashSet::new();
                if let Some(dup) = symbols.iter().find(|s| !seen.insert(s.as_str())) {
                    return Err(AvroError::schema(format!(
                        "enum '{}' lists the symbol '{dup}' twice",
                        name.fullname()
                    )));
                }
                let default = obj.get("default").and_then(Value::as_str).map(str::to_string);
                let full = name.fullname();
                let id = self.push(Node::Enum { name, symbols, default }, None);
                self.register(full, id)?;
                Ok(id)
            },
            "fixed" => {
                let name = self.declare_name(obj, namespace)?;
                let size = obj
                    .get("size")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| AvroError::schema(format!("fixed '{}' has no valid \"size\"", name.fullname())))?;
                if size > MAX_FIXED_SIZE {
                    return Err(AvroError::schema(format!(
                        "fixed '{}' has size {size}: expected at most {MAX_FIXED_SIZE} bytes (Java's limit, an int)",
                        name.fullname()
                    )));
                }
                let size = size as usize;
                let logical = logical_type(logical_name, obj, &Node::Fixed { name: name.clone(), size })?;
                let full = name.fullname();
                let id = self.push(Node::Fixed { name, size }, logical);
                self.register(full, id)?;
                Ok(id)
            },
            "array" => {
                let items = obj.get("items").ok_or_else(|| AvroError::schema("an array schema has no \"items\""))?;
                let item = self.parse(items, namespace, depth + 1)?;
                Ok(self.push(Node::Array(item), None))
            },
            "map" => {
                let values = obj.get("values").ok_or_else(|| AvroError::schema("a map schema has no \"values\""))?;
                let value = self.parse(values, namespace, depth + 1)?;
                Ok(self.push(Node::Map(value), None))
            },
            other => match primitive(other) {
                Some(node) => {
                    let logical = logical_type(logical_name, obj, &node)?;
                    let id = self.push(node, logical);
                    if matches!(
                        logical,
                        Some(Logical::TimestampMillis | Logical::TimestampMicros | Logical::TimestampNanos)
                    ) {
                        self.nodes[id].time_zone =
                            obj.get(TIME_ZONE_ATTRIBUTE).and_then(Value::as_str).map(str::to_string);
                    }
                    Ok(id)
                },
                // {"type": "com.example.Name"}: a reference in object form.
                None => self.reference(other, namespace),
            },
        }
    }

    fn parse_record(&mut self, obj: &Map<String, Value>, namespace: Option<&str>, depth: usize) -> AvroResult<NodeId> {
        let unnamed = obj.get("name").and_then(Value::as_str).is_none_or(str::is_empty);
        let name = if depth == 0 && unnamed {
            // Polars' own write_avro names the top-level record "": not valid Avro, but such
            // files exist, and nothing can refer to the top level by name.
            Name { name: String::new(), namespace: None, aliases: Vec::new() }
        } else {
            self.declare_name(obj, namespace)?
        };
        let full = name.fullname();
        // Registered before the fields are parsed, so that fields can refer to the record itself.
        let id = self.push(Node::Record { name: name.clone(), fields: Vec::new() }, None);
        if !unnamed {
            self.register(full.clone(), id)?;
        }
        let field_values = obj
            .get("fields")
            .and_then(Value::as_array)
            .ok_or_else(|| AvroError::schema(format!("record '{full}' has no \"fields\" array")))?;
        let inner_ns = name.namespace.clone();
        let mut fields = Vec::with_capacity(field_values.len());
        let mut seen = HashSet::with_capacity(field_values.len());
        for fv in field_values {
            let fobj = fv
                .as_object()
                .ok_or_else(|| AvroError::schema(format!("record '{full}' has a field that is not an object: {fv}")))?;
            let fname = fobj
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| AvroError::schema(format!("record '{full}' has a field without a \"name\"")))?;
            if !seen.insert(fname) {
                return Err(AvroError::schema(format!("record '{full}' has two fields named '{fname}'")));
            }
            let ftype = fobj
                .get("type")
                .ok_or_else(|| AvroError::schema(format!("field '{fname}' of record '{full}' has no \"type\"")))?;
            let schema = self.parse(ftype, inner_ns.as_deref(), depth + 1)?;
            let aliases = string_list(fobj.get("aliases"));
            fields.push(Field { name: fname.to_string(), schema, aliases, default: fobj.get("default").cloned() });
        }
        self.nodes[id].node = Node::Record { name, fields };
        Ok(id)
    }

    /// Reads `name`, `namespace` and `aliases` of a named type; a dotted name carries its
    /// own namespace, and an alias without a dot is in the type's namespace.
    fn declare_name(&self, obj: &Map<String, Value>, enclosing: Option<&str>) -> AvroResult<Name> {
        let raw = obj.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).ok_or_else(|| {
            AvroError::schema(format!("a named type has no \"name\": {}", Value::Object(obj.clone())))
        })?;
        let (name, namespace) = match raw.rsplit_once('.') {
            Some((ns, simple)) => (simple.to_string(), Some(ns.to_string())),
            None => match obj.get("namespace") {
                Some(Value::String(ns)) => (raw.to_string(), Some(ns.clone())),
                _ => (raw.to_string(), enclosing.map(str::to_string)),
            },
        };
        let aliases = string_list(obj.get("aliases"))
            .into_iter()
            .map(|alias| match namespace.as_deref() {
                Some(ns) if !ns.is_empty() && !alias.contains('.') => format!("{ns}.{alias}"),
                _ => alias,
            })
            .collect();
        Ok(Name { name, namespace, aliases })
    }

    fn register(&mut self, fullname: String, id: NodeId) -> AvroResult<()> {
        if self.names.insert(fullname.clone(), id).is_some() {
            return Err(AvroError::schema(format!("the Avro schema defines the name '{fullname}' twice")));
        }
        Ok(())
    }
}

fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The logical type of a node, or None when it is unknown or does not fit the
/// underlying type (the specification says to ignore it then). A decimal of more digits
/// than its text may have is an error: its text would take gigabytes.
fn logical_type(name: Option<&str>, obj: &Map<String, Value>, node: &Node) -> AvroResult<Option<Logical>> {
    use Logical::*;
    let Some(name) = name else { return Ok(None) };
    let logical = match (name, node) {
        ("decimal", Node::Bytes | Node::Fixed { .. }) => {
            let Some(precision) = obj.get("precision").and_then(Value::as_u64) else { return Ok(None) };
            let scale = match obj.get("scale").map(Value::as_u64) {
                None => 0,
                Some(Some(scale)) => scale,
                Some(None) => return Ok(None),
            };
            if precision == 0 || scale > precision {
                return Ok(None);
            }
            if precision > MAX_TEXT_DIGITS as u64 {
                return Err(AvroError::schema(format!(
                    "a decimal of precision {precision}: polars-avro reads and writes decimals of up to \
                     {MAX_TEXT_DIGITS} digits"
                )));
            }
            let (precision, scale) = (precision as usize, scale as usize);
            if let Node::Fixed { size, .. } = node {
                if precision > max_decimal_digits(*size) {
                    return Ok(None);
                }
            }
            Decimal { precision, scale }
        },
        ("big-decimal", Node::Bytes) => BigDecimal,
        ("uuid", Node::String) => Uuid,
        ("uuid", Node::Fixed { size: 16, .. }) => Uuid,
        ("date", Node::Int) => Date,
        ("time-millis", Node::Int) => TimeMillis,
        ("time-micros", Node::Long) => TimeMicros,
        ("timestamp-millis", Node::Long) => TimestampMillis,
        ("timestamp-micros", Node::Long) => TimestampMicros,
        ("timestamp-nanos", Node::Long) => TimestampNanos,
        ("local-timestamp-millis", Node::Long) => LocalTimestampMillis,
        ("local-timestamp-micros", Node::Long) => LocalTimestampMicros,
        ("local-timestamp-nanos", Node::Long) => LocalTimestampNanos,
        ("duration", Node::Fixed { size: 12, .. }) => Duration,
        ("duration-millis", Node::Long) => DurationMillis,
        ("duration-micros", Node::Long) => DurationMicros,
        ("duration-nanos", Node::Long) => DurationNanos,
        _ => return Ok(None),
    };
    Ok(Some(logical))
}

/// The most decimal digits a two's-complement number of `size` bytes can hold.
fn max_decimal_digits(size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    // floor(log10(2^(8*size - 1) - 1)); sizes are at most MAX_FIXED_SIZE.
    ((8 * size as u64 - 1) as f64 * std::f64::consts::LOG10_2).floor() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recursive_record_refers_to_itself() {
        let s = parse_schema(
            r#"{"type":"record","name":"Node","namespace":"x","fields":[
                {"name":"value","type":"int"},
                {"name":"next","type":["null","Node"]}]}"#,
        )
        .unwrap();
        let Node::Record { fields, .. } = s.node(s.root) else { panic!() };
        let Node::Union(branches) = s.node(fields[1].schema) else { panic!() };
        assert_eq!(branches[1], s.root);
    }

    #[test]
    fn aliases_of_named_types_are_full_names() {
        let s = parse_schema(
            r#"{"type":"record","name":"R","namespace":"new","aliases":["Old","other.Older"],"fields":[
                {"name":"e","type":{"type":"enum","name":"E","aliases":["F"],"symbols":["A"]}}]}"#,
        )
        .unwrap();
        let Node::Record { name, fields } = s.node(s.root) else { panic!() };
        assert_eq!(name.aliases, ["new.Old", "other.Older"]);
        let Node::Enum { name, .. } = s.node(fields[0].schema) else { panic!() };
        assert_eq!(name.aliases, ["new.F"]);
    }

    #[test]
    fn only_the_top_level_record_may_be_unnamed() {
        let s = parse_schema(r#"{"type":"record","name":"","fields":[{"name":"a","type":"int"}]}"#).unwrap();
        assert!(matches!(s.node(s.root), Node::Record { fields, .. } if fields.len() == 1));
        let nested =
            r#"{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"record","name":"","fields":[]}}]}"#;
        assert!(parse_schema(nested).is_err());
    }

    #[test]
    fn invalid_logical_type_falls_back_to_base() {
        let s = parse_schema(r#"{"type":"bytes","logicalType":"decimal","precision":2,"scale":5}"#).unwrap();
        assert_eq!(s.logical(s.root), None);
        let s = parse_schema(r#"{"type":"fixed","name":"f","size":2,"logicalType":"decimal","precision":5}"#).unwrap();
        assert_eq!(s.logical(s.root), None);
        let s = parse_schema(r#"{"type":"fixed","name":"f","size":2,"logicalType":"decimal","precision":4}"#).unwrap();
        assert_eq!(s.logical(s.root), Some(Logical::Decimal { precision: 4, scale: 0 }));
    }

    #[test]
    fn a_decimal_of_more_digits_than_its_text_may_have_is_an_error() {
        let decimal = |precision: u64| {
            format!(r#"{{"type":"bytes","logicalType":"decimal","precision":{precision},"scale":{precision}}}"#)
        };
        let s = parse_schema(&decimal(MAX_TEXT_DIGITS as u64)).unwrap();
        let widest = Logical::Decimal { precision: MAX_TEXT_DIGITS, scale: MAX_TEXT_DIGITS };
        assert_eq!(s.logical(s.root), Some(widest));
        for precision in [MAX_TEXT_DIGITS as u64 + 1, u64::MAX] {
            let e = parse_schema(&decimal(precision)).unwrap_err();
            assert!(e.message.contains(&format!("a decimal of precision {precision}")), "{}", e.message);
        }
    }

    #[test]
    fn unknown_names_and_bad_json_are_errors() {
        assert!(parse_schema("{not json").is_err());
        assert!(parse_schema(r#"{"type":"record","name":"r","fields":[{"name":"a","type":"Nope"}]}"#).is_err());
        assert!(parse_schema(r#"[["int"]]"#).is_err());
    }
}
