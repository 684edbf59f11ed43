//! The Avro schema a frame is written with when the user gives none: the inverse of the
//! reading type table, every value nullable (as Polars columns are).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::names::{valid, PRIMITIVE_NAMES, SCHEMA_WORDS};
use crate::schema::{field_path, Logical, LongTime, TIME_ZONE_ATTRIBUTE};
use crate::time_zone::canonical_time_zone;

/// The schema of a top-level record named `name` (in `namespace`) with one field per column.
pub fn derive_schema(columns: &[(String, FrameType)], name: &str, namespace: Option<&str>) -> AvroResult<Value> {
    valid(name, "the record name")?;
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        for part in ns.split('.') {
            valid(part, &format!("the namespace '{ns}'"))?;
        }
    }
    let mut names = Names::new(name);
    let fields = record_fields(columns, "", &mut names)?;
    let mut record = json!({"type": "record", "name": name, "fields": fields});
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        record["namespace"] = json!(ns);
    }
    Ok(record)
}

/// Names of the records and enums made so far: Avro names must be unique in a schema. The
/// primitives' names and the words of the schema language count as taken: the first may not
/// name a type, and readers trip on the second.
struct Names {
    taken: HashSet<String>,
}

impl Names {
    fn new(top_level: &str) -> Self {
        let reserved = PRIMITIVE_NAMES.iter().chain(&SCHEMA_WORDS).map(|n| n.to_string());
        Self { taken: reserved.chain([top_level.to_string()]).collect() }
    }

    /// `wanted`, or `wanted_2`, `wanted_3`, ... when taken.
    fn unique(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 1;
        while !self.taken.insert(name.clone()) {
            n += 1;
            name = format!("{wanted}_{n}");
        }
        name
    }
}

fn record_fields(columns: &[(String, FrameType)], path: &str, names: &mut Names) -> AvroResult<Vec<Value>> {
    let mut seen = HashSet::new();
    columns
        .iter()
        .map(|(name, ft)| {
            let where_ = field_path(path, name);
            valid(name, &format!("the column '{where_}'"))
                .map_err(|e| with_hint(e, "rename it, or pass schema= with the names you want"))?;
            if !seen.insert(name.as_str()) {
                return Err(AvroError::schema(format!("the field name '{where_}' appears twice")));
            }
            Ok(json!({"name": name, "type": nullable(ft, &where_, names)?}))
        })
        .collect()
}

/// `["null", T]`; a Null column is just `"null"` (a union may not hold null twice).
fn nullable(ft: &FrameType, path: &str, names: &mut Names) -> AvroResult<Value> {
    match ft {
        FrameType::Null => Ok(json!("null")),
        _ => Ok(json!(["null", avro_type(ft, path, names)?])),
    }
}

fn avro_type(ft: &FrameType, path: &str, names: &mut Names) -> AvroResult<Value> {
    use FrameType as F;
    let logical = |base: &str, logical: &str| json!({"type": base, "logicalType": logical});
    Ok(match ft {
        F::Null => json!("null"),
        F::Boolean => json!("boolean"),
        F::Int { signed: true, bits: 8 | 16 | 32 } | F::Int { signed: false, bits: 8 | 16 } => json!("int"),
        F::Int { .. } => json!("long"),
        F::Float32 => json!("float"),
        F::Float64 => json!("double"),
        F::Decimal { precision, scale } => {
            json!({"type": "bytes", "logicalType": "decimal", "precision": precision, "scale": scale})
        },
        F::String => json!("string"),
        F::Binary => json!("bytes"),
        F::Date => logical("int", "date"),
        F::Time => logical("long", "time-micros"),
        F::Datetime { unit, time_zone } => {
            let time = if time_zone.is_some() { LongTime::Timestamp(*unit) } else { LongTime::LocalTimestamp(*unit) };
            let mut avro = logical("long", Logical::of_long_time(time).name());
            // The instant is what Avro keeps; the zone's name rides along for this reader.
            if let Some(zone) = time_zone.as_deref() {
                let zone = canonical_time_zone(zone).ok_or_else(|| {
                    AvroError::schema(format!(
                        "the column '{path}' has the time zone '{zone}', which is not one: expected a name from the \
                         time zone database (Europe/Oslo) or an offset (+01:00)"
                    ))
                })?;
                if zone != "UTC" {
                    avro[TIME_ZONE_ATTRIBUTE] = json!(zone);
                }
            }
            avro
        },
        F::Duration(unit) => logical("long", Logical::of_long_time(LongTime::Duration(*unit)).name()),
        F::Enum(categories) => {
            for symbol in categories {
                valid(symbol, &format!("the category '{symbol}' of the Enum column '{path}'")).map_err(|e| {
                    with_hint(e, "Avro enum symbols must be names; cast the column to String, or pass schema=")
                })?;
            }
            json!({"type": "enum", "name": names.unique(&avro_name(path)), "symbols": categories})
        },
        F::List(inner) | F::Array(inner, _) => {
            json!({"type": "array", "items": nullable(inner, &format!("{path}[]"), names)?})
        },
        F::Struct(fields) => {
            let name = names.unique(&avro_name(path));
            json!({"type": "record", "name": name, "fields": record_fields(fields, path, names)?})
        },
        F::Map { key, value } => {
            if **key != F::String {
                return Err(AvroError::schema(format!(
                    "the column '{path}' is a Map with {} keys; Avro map keys are strings",
                    key.polars_name()
                )));
            }
            json!({"type": "map", "values": nullable(value, &format!("{path}{{}}"), names)?})
        },
        F::Unsupported { name, hint } => {
            let hint = if hint.is_empty() { String::new() } else { format!(": {hint}") };
            // An encoding error, as Polars' writers raise ComputeError for a type they cannot write.
            return Err(AvroError::encode(format!(
                "the column '{path}' has type {name}, which Avro cannot hold{hint}"
            )));
        },
    })
}

/// A record or enum name made from a column path: `a.b[]` becomes `a_b`.
fn avro_name(path: &str) -> String {
    let name: String = path.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let name = name.trim_end_matches('_');
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_string()
    }
}

fn with_hint(mut e: AvroError, hint: &str) -> AvroError {
    e.message = format!("{} ({hint})", e.message);
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_types_get_unique_names() {
        let point = FrameType::Struct(vec![("x".into(), FrameType::Float64)]);
        let columns = vec![
            ("a".into(), point.clone()),
            ("b".into(), FrameType::List(Box::new(point))),
            ("a_2".into(), FrameType::Enum(vec!["X".into()])),
        ];
        let schema = derive_schema(&columns, "row", None).unwrap();
        let names: Vec<&str> = ["/fields/0/type/1/name", "/fields/1/type/1/items/1/name", "/fields/2/type/1/name"]
            .iter()
            .map(|p| schema.pointer(p).unwrap().as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b", "a_2"]);
    }

    #[test]
    fn no_type_is_named_after_a_primitive_or_a_schema_word() {
        use crate::schema::{check_written_names, parse_schema};
        let point = FrameType::Struct(vec![("x".into(), FrameType::Float64)]);
        for reserved in PRIMITIVE_NAMES.iter().chain(&SCHEMA_WORDS) {
            let columns = vec![
                (reserved.to_string(), point.clone()),
                // Named `long` too once the characters a name cannot hold are gone.
                (format!("{reserved}_"), FrameType::List(Box::new(point.clone()))),
                ("n".into(), FrameType::Struct(vec![(reserved.to_string(), FrameType::Enum(vec!["A".into()]))])),
            ];
            let schema = derive_schema(&columns, "row", None).unwrap();
            let name = |pointer: &str| schema.pointer(pointer).unwrap().as_str().unwrap().to_string();
            // The column keeps its name; its type takes the next free one.
            assert_eq!(name("/fields/0/name"), *reserved);
            assert_eq!(name("/fields/0/type/1/name"), format!("{reserved}_2"));
            assert_eq!(name("/fields/1/type/1/items/1/name"), format!("{reserved}_3"));
            assert_eq!(name("/fields/2/type/1/fields/0/type/1/name"), format!("n_{reserved}"));
            let warnings = check_written_names(&parse_schema(&schema.to_string()).unwrap()).unwrap();
            assert!(warnings.is_empty(), "{warnings:?}");
        }
    }

    #[test]
    fn invalid_names_are_refused() {
        let err = derive_schema(&[("my col".into(), FrameType::Boolean)], "row", None).unwrap_err();
        assert!(err.message.contains("the column 'my col' is not a valid Avro name"), "{}", err.message);
        let err = derive_schema(&[("e".into(), FrameType::Enum(vec!["New York".into()]))], "row", None).unwrap_err();
        assert!(err.message.contains("the category 'New York'"), "{}", err.message);
    }
}
