//! The mapping from Avro types to Polars types, row by row as docs/reading.md tables it:
//! the column type each Avro type of a field reads into (`column_types`, which the reader
//! and `read_avro_schema` use). In tests/, not beside `decode/read_type.rs`: the lib's
//! unit-test binary is not linked with libpython, and the mapping reaches Polars' types.

use polars_avro::{column_types, parse_schema, FrameType};
use serde_json::{json, Value};

/// The Polars type a record field of Avro type `avro` reads into.
fn column_type(avro: Value) -> FrameType {
    let schema = json!({"type": "record", "name": "R", "fields": [{"name": "f", "type": avro}]});
    let schema = parse_schema(&schema.to_string()).unwrap();
    let mut columns = column_types(&schema).unwrap();
    assert_eq!(columns.len(), 1);
    columns.remove(0).1
}

fn logical(base: &str, logical: &str) -> Value {
    json!({"type": base, "logicalType": logical})
}

#[test]
fn primitive_and_logical_types_read_as_the_table_says() {
    let cases: Vec<(Value, &str)> = vec![
        (json!("null"), "Null"),
        (json!("boolean"), "Boolean"),
        (json!("int"), "Int32"),
        (json!("long"), "Int64"),
        (json!("float"), "Float32"),
        (json!("double"), "Float64"),
        (json!("bytes"), "Binary"),
        (json!("string"), "String"),
        (json!({"type": "fixed", "name": "F", "size": 3}), "Binary"),
        (json!({"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 4}), "Decimal(38, 4)"),
        (
            json!({"type": "fixed", "name": "D", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 2}),
            "Decimal(18, 2)",
        ),
        // Wider than Polars holds: the exact text.
        (json!({"type": "bytes", "logicalType": "decimal", "precision": 39, "scale": 4}), "String"),
        (logical("bytes", "big-decimal"), "String"),
        (logical("string", "uuid"), "String"),
        (json!({"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}), "String"),
        (logical("int", "date"), "Date"),
        (logical("int", "time-millis"), "Time"),
        (logical("long", "time-micros"), "Time"),
        (logical("long", "timestamp-millis"), "Datetime(ms, UTC)"),
        (logical("long", "timestamp-micros"), "Datetime(μs, UTC)"),
        (logical("long", "timestamp-nanos"), "Datetime(ns, UTC)"),
        (logical("long", "local-timestamp-millis"), "Datetime(ms)"),
        (logical("long", "local-timestamp-micros"), "Datetime(μs)"),
        (logical("long", "local-timestamp-nanos"), "Datetime(ns)"),
        (logical("long", "duration-millis"), "Duration(ms)"),
        (logical("long", "duration-micros"), "Duration(μs)"),
        (logical("long", "duration-nanos"), "Duration(ns)"),
        // A logical type that does not fit its type, or is unknown: the underlying type.
        (logical("string", "date"), "String"),
        (logical("long", "date"), "Int64"),
        (logical("int", "timestamp-micros"), "Int32"),
        (logical("long", "no-such-type"), "Int64"),
        (json!({"type": "fixed", "name": "U", "size": 8, "logicalType": "uuid"}), "Binary"),
        (json!({"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 5}), "Binary"),
    ];
    for (avro, polars) in cases {
        assert_eq!(column_type(avro.clone()).polars_name(), polars, "{avro}");
    }
}

#[test]
fn complex_types_read_as_the_table_says() {
    let enum_type = json!({"type": "enum", "name": "E", "symbols": ["B", "A"]});
    assert_eq!(column_type(enum_type), FrameType::Enum(vec!["B".into(), "A".into()]));
    assert_eq!(column_type(json!({"type": "array", "items": "int"})).polars_name(), "List(Int32)");
    let map = column_type(json!({"type": "map", "values": "double"}));
    assert_eq!(map.polars_name(), "Map(String, Float64)");
    let record = json!({"type": "record", "name": "P", "fields": [
        {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"]}]});
    assert_eq!(
        column_type(record),
        FrameType::Struct(vec![
            ("x".into(), FrameType::Int { signed: true, bits: 32 }),
            ("y".into(), FrameType::String)
        ])
    );
    let duration = json!({"type": "fixed", "name": "D", "size": 12, "logicalType": "duration"});
    let u32_ = FrameType::Int { signed: false, bits: 32 };
    assert_eq!(
        column_type(duration),
        FrameType::Struct(vec![
            ("months".into(), u32_.clone()),
            ("days".into(), u32_.clone()),
            ("milliseconds".into(), u32_)
        ])
    );
}

#[test]
fn unions_read_as_their_value_or_a_struct_of_branches() {
    // [null, T] in either order: T (nullable).
    assert_eq!(column_type(json!(["null", "long"])).polars_name(), "Int64");
    assert_eq!(column_type(json!(["string", "null"])).polars_name(), "String");
    // Two or more non-null branches: a Struct with a field per branch, named after it; a
    // named type by its simple name; a clash of names gets the branch index.
    let point = json!({"type": "record", "name": "ns.Point", "fields": [{"name": "x", "type": "int"}]});
    let other_point = json!({"type": "record", "name": "other.Point", "fields": [{"name": "y", "type": "int"}]});
    let union = column_type(json!(["null", "int", "string", point, other_point]));
    let FrameType::Struct(fields) = union else { panic!("{union:?}") };
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["int", "string", "Point", "Point_4"]);
}

#[test]
fn a_recursive_type_reads_as_json_text_where_it_refers_back() {
    let node = json!({"type": "record", "name": "Node", "fields": [
        {"name": "value", "type": "int"},
        {"name": "next", "type": ["null", "Node"]}]});
    let schema = json!({"type": "record", "name": "R", "fields": [{"name": "head", "type": node}]});
    let columns = column_types(&parse_schema(&schema.to_string()).unwrap()).unwrap();
    let FrameType::Struct(fields) = &columns[0].1 else { panic!("{columns:?}") };
    assert_eq!(fields[0], ("value".into(), FrameType::Int { signed: true, bits: 32 }));
    assert_eq!(fields[1], ("next".into(), FrameType::String));
}

#[test]
fn a_top_level_schema_that_is_no_record_is_one_column_named_value() {
    let columns = column_types(&parse_schema(r#"{"type": "array", "items": "string"}"#).unwrap()).unwrap();
    assert_eq!(columns, vec![("value".to_string(), FrameType::List(Box::new(FrameType::String)))]);
}
