//! Schema resolution (the specification's "Schema Resolution"), rule by rule: files written
//! with one schema (by the test encoder, not the crate) read with another.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use std::sync::Arc;

use avro_encoder::{container, schema_json, Ty, Val};
use polars_avro::read::{AvroReader, Source};
use polars_avro::schema::parse_schema;
use polars_avro::{AvroResult, ErrorKind};
use polars_core::prelude::*;

/// Records of one field `f0` of type `ty` holding `values`, read with a reader schema whose
/// `f0` is `reader` (Avro JSON).
fn read_as(ty: Ty, values: Vec<Val>, reader: &str) -> AvroResult<Column> {
    let top = Ty::Record(vec![ty]);
    let writer = schema_json(&top, &mut 0);
    let records: Vec<Val> = values.into_iter().map(|v| Val::Record(vec![v])).collect();
    let file = container(&writer, &top, &records, 2, "null");
    let reader = format!(r#"{{"type":"record","name":"R1","fields":[{{"name":"f0","type":{reader}}}]}}"#);
    let df = AvroReader::new(Source::from_bytes(file))
        .with_reader_schema(Some(Arc::new(parse_schema(&reader)?)))
        .finish()?;
    Ok(df.column("f0").unwrap().clone())
}

#[test]
fn numbers_and_text_promote_as_the_specification_lists() {
    let big = 1i64 << 40;
    let longs = |c: Column| c.i64().unwrap().into_no_null_iter().collect::<Vec<_>>();
    let floats = |c: Column| c.f32().unwrap().into_no_null_iter().collect::<Vec<_>>();
    let doubles = |c: Column| c.f64().unwrap().into_no_null_iter().collect::<Vec<_>>();
    let ints = || vec![Val::Int(-7), Val::Int(i32::MAX)];
    assert_eq!(longs(read_as(Ty::Int, ints(), r#""long""#).unwrap()), [-7, i64::from(i32::MAX)]);
    assert_eq!(floats(read_as(Ty::Int, ints(), r#""float""#).unwrap()), [-7.0, i32::MAX as f32]);
    assert_eq!(doubles(read_as(Ty::Int, ints(), r#""double""#).unwrap()), [-7.0, f64::from(i32::MAX)]);
    let long_values = || vec![Val::Long(-big), Val::Long(3)];
    assert_eq!(floats(read_as(Ty::Long, long_values(), r#""float""#).unwrap()), [-big as f32, 3.0]);
    assert_eq!(doubles(read_as(Ty::Long, long_values(), r#""double""#).unwrap()), [-big as f64, 3.0]);
    assert_eq!(doubles(read_as(Ty::Float, vec![Val::Float(1.5)], r#""double""#).unwrap()), [1.5]);
    let text = read_as(Ty::Str, vec![Val::Str("é".into())], r#""bytes""#).unwrap();
    assert_eq!(text.binary().unwrap().get(0), Some("é".as_bytes()));
    let bytes = read_as(Ty::Bytes, vec![Val::Bytes(b"ok".to_vec())], r#""string""#).unwrap();
    assert_eq!(bytes.str().unwrap().get(0), Some("ok"));
}

#[test]
fn unions_resolve_branch_by_branch() {
    // The writer's ["null", int] read as long: the value promoted, a null an error.
    let nullable = || Ty::Nullable(Box::new(Ty::Int), true);
    let read = read_as(nullable(), vec![Val::Int(3), Val::Int(4)], r#""long""#).unwrap();
    assert_eq!(read.i64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [3, 4]);
    let err = read_as(nullable(), vec![Val::Int(3), Val::Null], r#""long""#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode, "{err}");
    // A plain int read as the reader's ["null", long].
    let read = read_as(Ty::Int, vec![Val::Int(5)], r#"["null", "long"]"#).unwrap();
    assert_eq!(read.i64().unwrap().get(0), Some(5));
    // A writer type that no branch of the reader's union takes.
    let err = read_as(Ty::Bool, vec![Val::Bool(true)], r#"["int", "string"]"#).unwrap_err();
    assert!(err.message.contains("matches no branch of the reader's union"), "{err}");
}

#[test]
fn named_types_resolve_by_name() {
    // The record is R1 and its fixed F2, as the encoder numbers them.
    let id = || vec![Val::Bytes(vec![1, 2, 3, 4])];
    let read = read_as(Ty::Fixed(4), id(), r#"{"type": "fixed", "name": "F2", "size": 4}"#).unwrap();
    assert_eq!(read.binary().unwrap().get(0), Some(&[1u8, 2, 3, 4][..]));
    let err = read_as(Ty::Fixed(4), id(), r#"{"type": "fixed", "name": "Other", "size": 4}"#).unwrap_err();
    assert!(err.message.contains("named 'F2' and the reader's 'Other' (with no aliases)"), "{err}");
}

#[test]
fn named_types_resolve_by_the_readers_aliases() {
    let id = || vec![Val::Bytes(vec![1, 2, 3, 4])];
    let read = read_as(Ty::Fixed(4), id(), r#"{"type": "fixed", "name": "Hash", "aliases": ["F2"], "size": 4}"#);
    assert_eq!(read.unwrap().binary().unwrap().get(0), Some(&[1u8, 2, 3, 4][..]));
    // An alias without a dot is in the reader type's namespace: x.F2 is not the writer's F2.
    let reader = r#"{"type": "fixed", "name": "Hash", "namespace": "x", "aliases": ["F2"], "size": 4}"#;
    let err = read_as(Ty::Fixed(4), id(), reader).unwrap_err();
    assert!(err.message.contains("named 'F2' and the reader's 'x.Hash' (with the aliases x.F2)"), "{err}");
    let reader = r#"{"type": "enum", "name": "Hue", "aliases": ["other", "E2"], "symbols": ["S1", "S0"]}"#;
    let read = read_as(Ty::Enum(2), vec![Val::Enum(0), Val::Enum(1)], reader).unwrap();
    let symbols = read.cast(&DataType::String).unwrap();
    assert_eq!(symbols.str().unwrap().iter().collect::<Vec<_>>(), [Some("S0"), Some("S1")]);
    // A record nested in the writer's record, read as a renamed reader record.
    let nested = Ty::Record(vec![Ty::Int]);
    let reader =
        r#"{"type": "record", "name": "Renamed", "aliases": ["R2"], "fields": [{"name": "f0", "type": "long"}]}"#;
    let read = read_as(nested, vec![Val::Record(vec![Val::Int(9)])], reader).unwrap();
    let inner = read.struct_().unwrap().field_by_name("f0").unwrap();
    assert_eq!(inner.i64().unwrap().get(0), Some(9));
}

#[test]
fn a_union_of_several_types_reads_as_one_type() {
    let branch = |i: usize, v: Val| Val::Branch(i, Box::new(v));
    let int_or_long = || Ty::Union(vec![Ty::Int, Ty::Long]);
    let read = read_as(int_or_long(), vec![branch(0, Val::Int(-3)), branch(1, Val::Long(1 << 40))], r#""long""#);
    assert_eq!(read.unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [-3, 1 << 40]);
    // Each branch promoted as its own type promotes, into one column.
    let values = vec![branch(0, Val::Int(-7)), branch(1, Val::Float(1.5)), branch(0, Val::Int(2))];
    let read = read_as(Ty::Union(vec![Ty::Int, Ty::Float]), values, r#""double""#).unwrap();
    assert_eq!(read.f64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [-7.0, 1.5, 2.0]);
    let values = vec![branch(1, Val::Bytes(b"b".to_vec())), branch(0, Val::Str("s".into()))];
    let read = read_as(Ty::Union(vec![Ty::Str, Ty::Bytes]), values, r#""string""#).unwrap();
    assert_eq!(read.str().unwrap().iter().collect::<Vec<_>>(), [Some("b"), Some("s")]);
    // A value of a branch the reader's type does not match: an error at that value.
    let values = vec![branch(0, Val::Int(1)), branch(1, Val::Bool(true))];
    let err = read_as(Ty::Union(vec![Ty::Int, Ty::Bool]), values, r#""long""#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode, "{err}");
    assert!(err.message.contains("branch 1 holds a boolean, which the reader's long cannot take"), "{err}");
    // No branch matching: a schema error up front.
    let err = read_as(Ty::Union(vec![Ty::Bool, Ty::Str]), vec![branch(0, Val::Bool(true))], r#""long""#).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema, "{err}");
    assert!(err.message.contains("at 'f0': no branch of the writer's union [boolean, string]"), "{err}");
    // Several writer branches into one branch of the reader's union.
    let values = vec![branch(0, Val::Int(1)), branch(2, Val::Str("x".into())), branch(1, Val::Long(1 << 40))];
    let read = read_as(Ty::Union(vec![Ty::Int, Ty::Long, Ty::Str]), values, r#"["long", "string"]"#).unwrap();
    let read = read.struct_().unwrap();
    let longs = read.field_by_name("long").unwrap();
    assert_eq!(longs.i64().unwrap().iter().collect::<Vec<_>>(), [Some(1), None, Some(1 << 40)]);
    let strings = read.field_by_name("string").unwrap();
    assert_eq!(strings.str().unwrap().iter().collect::<Vec<_>>(), [None, Some("x"), None]);
}

/// Records of fields `f0`, `f1`, ... of types `tys`, read with a reader record whose fields
/// are `reader_fields` (an Avro JSON list).
fn read_records(tys: Vec<Ty>, rows: Vec<Vec<Val>>, reader_fields: &str) -> AvroResult<DataFrame> {
    let top = Ty::Record(tys);
    let writer = schema_json(&top, &mut 0);
    let records: Vec<Val> = rows.into_iter().map(Val::Record).collect();
    let file = container(&writer, &top, &records, 2, "null");
    let reader = format!(r#"{{"type":"record","name":"R1","fields":{reader_fields}}}"#);
    AvroReader::new(Source::from_bytes(file)).with_reader_schema(Some(Arc::new(parse_schema(&reader)?))).finish()
}

#[test]
fn fields_match_by_name_or_alias_and_the_others_are_skipped_or_take_their_defaults() {
    let tys = vec![Ty::Int, Ty::Str, Ty::Array(Box::new(Ty::Long))];
    let row = |i: i32, s: &str, items: Vec<i64>| {
        vec![Val::Int(i), Val::Str(s.into()), Val::Array(items.into_iter().map(Val::Long).collect())]
    };
    let rows = || vec![row(1, "a", vec![5, 6]), row(2, "b", vec![]), row(3, "c", vec![7])];
    // In the reader's order; f2 (an array) is the writer's only: skipped.
    let reader = r#"[{"name": "renamed", "aliases": ["f1"], "type": "string"},
        {"name": "f0", "type": "long"},
        {"name": "added", "type": "double", "default": 2.5},
        {"name": "note", "type": ["null", "string"], "default": null},
        {"name": "tags", "type": {"type": "array", "items": "int"}, "default": [1, 2]}]"#;
    let df = read_records(tys.clone(), rows(), reader).unwrap();
    assert_eq!(df.get_column_names(), ["renamed", "f0", "added", "note", "tags"]);
    assert_eq!(df.column("renamed").unwrap().str().unwrap().iter().flatten().collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(df.column("f0").unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(df.column("added").unwrap().f64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [2.5; 3]);
    assert_eq!(df.column("note").unwrap().null_count(), 3);
    let tags = df.column("tags").unwrap().list().unwrap().get_as_series(2).unwrap();
    assert_eq!(tags.i32().unwrap().into_no_null_iter().collect::<Vec<_>>(), [1, 2]);
    // A field the writer lacks and that has no default.
    let reader = r#"[{"name": "f0", "type": "int"}, {"name": "missing", "type": "int"}]"#;
    let err = read_records(tys, rows(), reader).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema);
    assert!(
        err.message.contains("the reader's field 'missing' is not in the writer's schema and has no default"),
        "{err}"
    );
}

#[test]
fn enum_symbols_resolve_by_name_else_to_the_readers_default() {
    // The writer's enum E2 has the symbols S0, S1 and S2; the reader's lacks S1.
    let values = || vec![Val::Enum(0), Val::Enum(2), Val::Enum(1)];
    let reader = r#"{"type": "enum", "name": "E2", "symbols": ["S2", "S0"], "default": "S2"}"#;
    let read = read_as(Ty::Enum(3), values(), reader).unwrap();
    assert!(matches!(read.dtype(), DataType::Enum(..)), "{:?}", read.dtype());
    let symbols = read.cast(&DataType::String).unwrap();
    assert_eq!(symbols.str().unwrap().iter().flatten().collect::<Vec<_>>(), ["S0", "S2", "S2"]);
    // Without a default, the symbol the reader lacks is an error where a row has it.
    let reader = r#"{"type": "enum", "name": "E2", "symbols": ["S2", "S0"]}"#;
    let err = read_as(Ty::Enum(3), values(), reader).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Decode);
    assert!(err.message.contains("not a symbol of the reader's enum, which has no default"), "{err}");
    assert!(read_as(Ty::Enum(3), vec![Val::Enum(0), Val::Enum(2)], reader).is_ok());
}
