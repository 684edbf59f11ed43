//! Arbitrary record bytes under fixed schemas that use every kind of Avro type: the
//! input's first byte picks the schema and the record count, the rest is one block
//! of a valid container. Also read through a reader schema, and with a projection.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use polars_avro::container::{Codec, ContainerWriter};
use polars_avro::read::{AvroReader, Source};
use polars_avro::schema::parse_schema;
use polars_avro_fuzz::check_frame;

const SCHEMAS: [&str; 4] = [
    r#"{"type": "record", "name": "All", "fields": [
        {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"}, {"name": "l", "type": "long"},
        {"name": "f", "type": "float"}, {"name": "d", "type": "double"}, {"name": "s", "type": "string"},
        {"name": "y", "type": "bytes"}, {"name": "n", "type": ["null", "string"]},
        {"name": "u", "type": ["int", "string", {"type": "array", "items": "long"}]},
        {"name": "a", "type": {"type": "array", "items": {"type": "map", "values": "double"}}},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X", "Y", "Z"]}},
        {"name": "x", "type": {"type": "fixed", "name": "F", "size": 3}},
        {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 20, "scale": 4}},
        {"name": "big", "type": {"type": "bytes", "logicalType": "decimal", "precision": 60, "scale": 2}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "dt", "type": {"type": "int", "logicalType": "date"}},
        {"name": "uu", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "du", "type": {"type": "fixed", "name": "D", "size": 12, "logicalType": "duration"}},
        {"name": "r", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "k", "type": ["null", "long"]}, {"name": "v", "type": {"type": "map", "values": "string"}}]}}
    ]}"#,
    r#"{"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "long"},
        {"name": "children", "type": {"type": "array", "items": "Node"}},
        {"name": "next", "type": ["null", "Node"]}
    ]}"#,
    r#"["null", "long", "string", {"type": "array", "items": ["null", "double"]}]"#,
    r#"{"type": "map", "values": {"type": "array", "items": {"type": "array", "items": "boolean"}}}"#,
];

/// The first schema read as a later version of itself: fields dropped, added with
/// defaults, promoted, and a union widened.
const READER: &str = r#"{"type": "record", "name": "All", "fields": [
    {"name": "l", "type": "double"}, {"name": "i", "type": "long"}, {"name": "s", "type": "bytes"},
    {"name": "n", "type": ["null", "string", "long"]},
    {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["Y", "W"], "default": "W"}},
    {"name": "added", "type": {"type": "array", "items": "int"}, "default": [1, 2]},
    {"name": "r", "type": {"type": "record", "name": "Inner", "fields": [{"name": "k", "type": ["null", "long"]}]}}
]}"#;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let which = usize::from(selector & 3);
    let count = usize::from(selector >> 2);
    let mut file = Vec::new();
    {
        let mut writer = ContainerWriter::new(&mut file, SCHEMAS[which], Codec::Null, &[]).unwrap();
        writer.write_block(count, body).unwrap();
        writer.finish().unwrap();
    }
    let read = |reader: AvroReader| {
        if let Ok(frame) = reader.with_n_threads(Some(1)).finish() {
            check_frame(&frame);
        }
    };
    read(AvroReader::new(Source::from_bytes(file.clone())));
    if which == 0 {
        read(AvroReader::new(Source::from_bytes(file.clone())).with_columns(Some(vec!["u".into(), "big".into()])));
        let reader_schema = Arc::new(parse_schema(READER).unwrap());
        read(AvroReader::new(Source::from_bytes(file)).with_reader_schema(Some(reader_schema)));
    }
});
