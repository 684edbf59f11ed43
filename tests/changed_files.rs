//! A file read with its own schema must give the columns the scan planned from its
//! header (`ReadOptions::planned`): one that changed since is refused, saying what
//! changed, never read into types it no longer has.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, schema_json, Ty, Val};
use std::sync::Arc;

use polars_avro::read::{AvroReader, ReadOptions, ScanSchema, Source};
use polars_avro::{ErrorKind, FrameType};
use polars_core::prelude::*;

/// A file of fields `f0: long` and `f1: map of int`.
fn file() -> Vec<u8> {
    let top = Ty::Record(vec![Ty::Long, Ty::Map(Box::new(Ty::Int))]);
    let schema = schema_json(&top, &mut 0);
    let records = [Val::Record(vec![Val::Long(1), Val::Map(vec![("k".into(), Val::Int(2))])])];
    container(&schema, &top, &records, 10, "null")
}

fn read_planned(planned: Vec<(&str, FrameType)>) -> Result<DataFrame, String> {
    let columns = planned.into_iter().map(|(name, ft)| (name.to_string(), ft)).collect();
    let options = ReadOptions { planned: Some(Arc::new(ScanSchema::new(None, columns))), ..ReadOptions::default() };
    AvroReader::new(Source::from_bytes(file())).with_options(options).finish().map_err(|e| {
        assert_eq!(e.kind, ErrorKind::SchemaMismatch, "{e}");
        e.message.clone()
    })
}

const LONG: FrameType = FrameType::Int { signed: true, bits: 64 };

fn map() -> FrameType {
    FrameType::Map { key: Box::new(FrameType::String), value: Box::new(FrameType::Int { signed: true, bits: 32 }) }
}

#[test]
fn the_planned_columns_read() {
    assert_eq!(read_planned(vec![("f0", LONG), ("f1", map())]).unwrap().height(), 1);
}

#[test]
fn a_map_planned_as_the_key_value_list_it_reads_into_reads() {
    let entries = FrameType::List(Box::new(FrameType::Struct(vec![
        ("key".into(), FrameType::String),
        ("value".into(), FrameType::Int { signed: true, bits: 32 }),
    ])));
    assert_eq!(read_planned(vec![("f0", LONG), ("f1", entries)]).unwrap().height(), 1);
}

#[test]
fn a_file_whose_columns_changed_is_refused_saying_what_changed() {
    let cases = [
        (vec![("f0", FrameType::Float64), ("f1", map())], "its column 'f0' was Float64 and is now Int64"),
        (vec![("f0", LONG), ("f1", map()), ("f2", LONG)], "its column 'f2' is gone"),
        (vec![("f0", LONG)], "it has new columns: 'f1'"),
        (vec![("f1", map()), ("f0", LONG)], "its columns were 'f1', 'f0' and are now 'f0', 'f1'"),
    ];
    for (planned, change) in cases {
        let message = read_planned(planned).unwrap_err();
        assert!(message.starts_with("the file changed after the scan was planned: "), "{message}");
        assert!(message.contains(change), "{message}");
    }
}
