//! The Parsing Canonical Form of a schema and its CRC-64-AVRO fingerprint (Avro
//! specification, "Schema Resolution" / "Parsing Canonical Form for Schemas"): what
//! single-object encoding and schema registries identify a writer schema by.

use serde_json::Value;

use crate::schema::{AvroSchema, Node, NodeId};

/// The schema in Parsing Canonical Form: full names, only the attributes that matter to
/// parsing (name, type, fields, symbols, items, values, size) in that order, primitives
/// as bare names, no whitespace, each named type spelled out once and named afterwards.
pub fn parsing_canonical_form(schema: &AvroSchema) -> String {
    let mut out = String::new();
    let mut defined = vec![false; schema.nodes.len()];
    write_node(schema, schema.root, &mut defined, &mut out);
    out
}

fn write_node(schema: &AvroSchema, id: NodeId, defined: &mut [bool], out: &mut String) {
    let quoted = |text: &str| Value::String(text.to_string()).to_string();
    match schema.node(id) {
        Node::Null => out.push_str("\"null\""),
        Node::Boolean => out.push_str("\"boolean\""),
        Node::Int => out.push_str("\"int\""),
        Node::Long => out.push_str("\"long\""),
        Node::Float => out.push_str("\"float\""),
        Node::Double => out.push_str("\"double\""),
        Node::Bytes => out.push_str("\"bytes\""),
        Node::String => out.push_str("\"string\""),
        Node::Array(items) => {
            out.push_str("{\"type\":\"array\",\"items\":");
            write_node(schema, *items, defined, out);
            out.push('}');
        },
        Node::Map(values) => {
            out.push_str("{\"type\":\"map\",\"values\":");
            write_node(schema, *values, defined, out);
            out.push('}');
        },
        Node::Union(branches) => {
            out.push('[');
            for (i, branch) in branches.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_node(schema, *branch, defined, out);
            }
            out.push(']');
        },
        Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } if defined[id] => {
            out.push_str(&quoted(&name.fullname()));
        },
        Node::Record { name, fields } => {
            defined[id] = true;
            out.push_str(&format!("{{\"name\":{},\"type\":\"record\",\"fields\":[", quoted(&name.fullname())));
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{{\"name\":{},\"type\":", quoted(&field.name)));
                write_node(schema, field.schema, defined, out);
                out.push('}');
            }
            out.push_str("]}");
        },
        Node::Enum { name, symbols, .. } => {
            defined[id] = true;
            let symbols: Vec<String> = symbols.iter().map(|s| quoted(s)).collect();
            out.push_str(&format!(
                "{{\"name\":{},\"type\":\"enum\",\"symbols\":[{}]}}",
                quoted(&name.fullname()),
                symbols.join(",")
            ));
        },
        Node::Fixed { name, size } => {
            defined[id] = true;
            out.push_str(&format!("{{\"name\":{},\"type\":\"fixed\",\"size\":{size}}}", quoted(&name.fullname())));
        },
    }
}

/// The specification's "empty" CRC-64-AVRO value: the fingerprint of no bytes.
const CRC64_EMPTY: u64 = 0xc15d_213a_a4d7_a795;

const CRC64_TABLE: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut i = 0;
    while i < 256 {
        let mut fp = i as u64;
        let mut bit = 0;
        while bit < 8 {
            fp = (fp >> 1) ^ (CRC64_EMPTY & (fp & 1).wrapping_neg());
            bit += 1;
        }
        table[i] = fp;
        i += 1;
    }
    table
};

/// The 64-bit Rabin fingerprint the specification calls CRC-64-AVRO, of `bytes`.
pub fn crc64_avro(bytes: &[u8]) -> u64 {
    bytes.iter().fold(CRC64_EMPTY, |fp, b| (fp >> 8) ^ CRC64_TABLE[((fp ^ u64::from(*b)) & 0xff) as usize])
}

/// The CRC-64-AVRO fingerprint of a schema's Parsing Canonical Form: what single-object
/// encoding writes after its two magic bytes (little-endian).
pub fn schema_fingerprint(schema: &AvroSchema) -> u64 {
    crc64_avro(parsing_canonical_form(schema).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema;

    fn canonical(json: &str) -> String {
        parsing_canonical_form(&parse_schema(json).unwrap())
    }

    #[test]
    fn primitives_and_containers_keep_only_what_parsing_needs() {
        assert_eq!(canonical(r#"{"type": "int", "logicalType": "date"}"#), r#""int""#);
        assert_eq!(
            canonical(r#"{"type": "array", "items": "long", "default": []}"#),
            r#"{"type":"array","items":"long"}"#
        );
        assert_eq!(
            canonical(r#"["null", {"type": "map", "values": "string"}]"#),
            r#"["null",{"type":"map","values":"string"}]"#
        );
    }

    #[test]
    fn named_types_get_full_names_once_and_are_referred_to_after() {
        let json = r#"{"type": "record", "name": "Node", "namespace": "x.y", "doc": "d",
            "fields": [{"name": "value", "type": "int", "default": 0},
                       {"name": "next", "type": ["null", "Node"]},
                       {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
                       {"name": "id", "type": {"type": "fixed", "name": "Id", "size": 4}},
                       {"name": "other", "type": "Kind"}]}"#;
        assert_eq!(
            canonical(json),
            concat!(
                r#"{"name":"x.y.Node","type":"record","fields":[{"name":"value","type":"int"},"#,
                r#"{"name":"next","type":["null","x.y.Node"]},"#,
                r#"{"name":"kind","type":{"name":"x.y.Kind","type":"enum","symbols":["A","B"]}},"#,
                r#"{"name":"id","type":{"name":"x.y.Id","type":"fixed","size":4}},"#,
                r#"{"name":"other","type":"x.y.Kind"}]}"#
            )
        );
    }

    #[test]
    fn fingerprints_match_the_specification() {
        // The specification's test vectors (share/test/data/schema-tests.txt), as signed longs.
        assert_eq!(schema_fingerprint(&parse_schema(r#""null""#).unwrap()) as i64, 7195948357588979594);
        assert_eq!(schema_fingerprint(&parse_schema(r#""int""#).unwrap()) as i64, 8247732601305521295);
        assert_eq!(crc64_avro(b""), CRC64_EMPTY);
    }
}
