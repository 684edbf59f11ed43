//! The Polars type of a column as both sides of the Python boundary describe it: what
//! the writer encodes from (built from a Rust `DataType`, or from the JSON description the
//! Python package sends, since Python Polars knows types such as Map that cross into Rust
//! as something else), and what the reader's columns are described as. A leaf: it knows
//! only Polars and the error type.

use polars_core::prelude::{DataType, Field, FrozenCategories, TimeUnit, TimeZone};
use serde_json::{json, Value};

use crate::error::{AvroError, AvroResult};

/// A column's Polars type, as the boundary describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// Null.
    Null,
    /// Boolean.
    Boolean,
    /// Int8 to Int64 and UInt8 to UInt64.
    Int {
        /// Int rather than UInt.
        signed: bool,
        /// 8, 16, 32 or 64.
        bits: u8,
    },
    /// Float32.
    Float32,
    /// Float64.
    Float64,
    /// Decimal(precision, scale).
    Decimal {
        /// Digits in all.
        precision: usize,
        /// Digits after the point.
        scale: usize,
    },
    /// String.
    String,
    /// Binary.
    Binary,
    /// Date.
    Date,
    /// Time.
    Time,
    /// Datetime(unit, time zone).
    Datetime {
        /// The unit of the values.
        unit: TimeUnit,
        /// The time zone's name, or none for local times.
        time_zone: Option<String>,
    },
    /// Duration(unit).
    Duration(TimeUnit),
    /// Values are the codes of these categories.
    Enum(Vec<String>),
    /// List(inner).
    List(Box<FrameType>),
    /// Array(inner, size).
    Array(Box<FrameType>, usize),
    /// Struct of named fields.
    Struct(Vec<(String, FrameType)>),
    /// Entries are `Struct{key, value}` items of a list, as Polars keeps them.
    Map {
        /// The keys' type.
        key: Box<FrameType>,
        /// The values' type.
        value: Box<FrameType>,
    },
    /// A type Avro cannot hold, with its Polars name and what to do about it.
    Unsupported {
        /// The Polars name of the type.
        name: String,
        /// What to cast it to.
        hint: &'static str,
    },
}

impl FrameType {
    /// The type of a Rust Polars dtype (which has no Map: maps are lists of structs).
    pub fn from_dtype(dtype: &DataType) -> Self {
        use FrameType as F;
        match dtype {
            DataType::Null => F::Null,
            DataType::Boolean => F::Boolean,
            DataType::Int8 => F::Int { signed: true, bits: 8 },
            DataType::Int16 => F::Int { signed: true, bits: 16 },
            DataType::Int32 => F::Int { signed: true, bits: 32 },
            DataType::Int64 => F::Int { signed: true, bits: 64 },
            DataType::UInt8 => F::Int { signed: false, bits: 8 },
            DataType::UInt16 => F::Int { signed: false, bits: 16 },
            DataType::UInt32 => F::Int { signed: false, bits: 32 },
            DataType::UInt64 => F::Int { signed: false, bits: 64 },
            DataType::Float32 => F::Float32,
            DataType::Float64 => F::Float64,
            DataType::Decimal(precision, scale) => F::Decimal { precision: *precision, scale: *scale },
            DataType::String => F::String,
            DataType::Binary => F::Binary,
            DataType::Date => F::Date,
            DataType::Time => F::Time,
            DataType::Datetime(unit, tz) => F::Datetime { unit: *unit, time_zone: tz.as_ref().map(|t| t.to_string()) },
            DataType::Duration(unit) => F::Duration(*unit),
            DataType::Enum(categories, _) => {
                F::Enum(categories.categories().values_iter().map(str::to_string).collect())
            },
            DataType::List(inner) => F::List(Box::new(Self::from_dtype(inner))),
            DataType::Array(inner, size) => F::Array(Box::new(Self::from_dtype(inner)), *size),
            DataType::Struct(fields) => {
                F::Struct(fields.iter().map(|f| (f.name.to_string(), Self::from_dtype(&f.dtype))).collect())
            },
            other => {
                let name = format!("{other:?}");
                let hint = unsupported_hint(&name);
                F::Unsupported { name, hint }
            },
        }
    }

    /// The types without parameters, by their names in the JSON descriptions that cross
    /// to Python and back: the one list of them (Python reads it as `PLAIN_TYPES`).
    pub const PLAIN: [(&'static str, FrameType); 16] = [
        ("null", FrameType::Null),
        ("boolean", FrameType::Boolean),
        ("int8", FrameType::Int { signed: true, bits: 8 }),
        ("int16", FrameType::Int { signed: true, bits: 16 }),
        ("int32", FrameType::Int { signed: true, bits: 32 }),
        ("int64", FrameType::Int { signed: true, bits: 64 }),
        ("uint8", FrameType::Int { signed: false, bits: 8 }),
        ("uint16", FrameType::Int { signed: false, bits: 16 }),
        ("uint32", FrameType::Int { signed: false, bits: 32 }),
        ("uint64", FrameType::Int { signed: false, bits: 64 }),
        ("float32", FrameType::Float32),
        ("float64", FrameType::Float64),
        ("string", FrameType::String),
        ("binary", FrameType::Binary),
        ("date", FrameType::Date),
        ("time", FrameType::Time),
    ];

    /// Bytes a value of the type takes in memory, as a partitioned write estimates them to
    /// size its batches: 8, 32 for text and binary, 64 for a nested type.
    pub fn estimated_width(&self) -> usize {
        match self {
            FrameType::List(_) | FrameType::Array(..) | FrameType::Struct(_) | FrameType::Map { .. } => 64,
            FrameType::String | FrameType::Binary => 32,
            _ => 8,
        }
    }

    /// The JSON description of the type, which [`FrameType::from_json`] reads back and
    /// `polars_avro/_types.py` turns into a Polars dtype.
    pub fn to_json(&self) -> Value {
        use FrameType as F;
        if let Some((name, _)) = Self::PLAIN.iter().find(|(_, plain)| plain == self) {
            return json!({"type": name});
        }
        let unit = |unit: &TimeUnit| match unit {
            TimeUnit::Milliseconds => "ms",
            TimeUnit::Microseconds => "us",
            TimeUnit::Nanoseconds => "ns",
        };
        match self {
            F::Decimal { precision, scale } => json!({"type": "decimal", "precision": precision, "scale": scale}),
            F::Datetime { unit: u, time_zone } => json!({"type": "datetime", "unit": unit(u), "time_zone": time_zone}),
            F::Duration(u) => json!({"type": "duration", "unit": unit(u)}),
            F::Enum(categories) => json!({"type": "enum", "categories": categories}),
            F::List(inner) => json!({"type": "list", "inner": inner.to_json()}),
            F::Array(inner, size) => json!({"type": "array", "inner": inner.to_json(), "size": size}),
            F::Struct(fields) => {
                let fields: Vec<Value> = fields.iter().map(|(name, ft)| json!([name, ft.to_json()])).collect();
                json!({"type": "struct", "fields": fields})
            },
            F::Map { key, value } => json!({"type": "map", "key": key.to_json(), "value": value.to_json()}),
            F::Unsupported { name, .. } => json!({"type": "unsupported", "name": name}),
            plain => unreachable!("{plain:?} is in FrameType::PLAIN"),
        }
    }

    /// Parses the description the Python package writes (see `polars_avro/_types.py`).
    pub fn from_json(desc: &Value) -> AvroResult<Self> {
        use FrameType as F;
        let bad = || AvroError::argument(format!("not a column type description: {desc}"));
        let kind = desc.get("type").and_then(Value::as_str).ok_or_else(bad)?;
        let text = |key: &str| desc.get(key).and_then(Value::as_str).map(str::to_string);
        let number = |key: &str| desc.get(key).and_then(Value::as_u64).map(|n| n as usize).ok_or_else(bad);
        let child = |key: &str| desc.get(key).ok_or_else(bad).and_then(Self::from_json).map(Box::new);
        let unit = || match text("unit").as_deref() {
            Some("ms") => Ok(TimeUnit::Milliseconds),
            Some("us") => Ok(TimeUnit::Microseconds),
            Some("ns") => Ok(TimeUnit::Nanoseconds),
            _ => Err(bad()),
        };
        if let Some((_, plain)) = Self::PLAIN.iter().find(|(name, _)| *name == kind) {
            return Ok(plain.clone());
        }
        Ok(match kind {
            "decimal" => F::Decimal { precision: number("precision")?, scale: number("scale")? },
            "datetime" => F::Datetime { unit: unit()?, time_zone: text("time_zone") },
            "duration" => F::Duration(unit()?),
            "enum" => {
                let categories = desc.get("categories").and_then(Value::as_array).ok_or_else(bad)?;
                F::Enum(
                    categories
                        .iter()
                        .map(|c| c.as_str().map(str::to_string).ok_or_else(bad))
                        .collect::<AvroResult<_>>()?,
                )
            },
            "list" => F::List(child("inner")?),
            "array" => F::Array(child("inner")?, number("size")?),
            "struct" => {
                let fields = desc.get("fields").and_then(Value::as_array).ok_or_else(bad)?;
                let fields = fields
                    .iter()
                    .map(|f| match f.as_array().map(Vec::as_slice) {
                        Some([Value::String(name), field]) => Ok((name.clone(), Self::from_json(field)?)),
                        _ => Err(bad()),
                    })
                    .collect::<AvroResult<_>>()?;
                F::Struct(fields)
            },
            "map" => F::Map { key: child("key")?, value: child("value")? },
            "unsupported" => {
                let name = text("name").ok_or_else(bad)?;
                let hint = unsupported_hint(&name);
                F::Unsupported { name, hint }
            },
            _ => return Err(bad()),
        })
    }

    /// The type as the reader's Rust columns hold it: a map is a list of key/value
    /// structs there (Python Polars 2 casts it back to Map), so a map and such a list read
    /// into the same column.
    pub fn as_read(&self) -> FrameType {
        use FrameType as F;
        match self {
            F::Map { key, value } => F::List(Box::new(F::Struct(vec![
                ("key".to_string(), key.as_read()),
                ("value".to_string(), value.as_read()),
            ]))),
            F::List(inner) => F::List(Box::new(inner.as_read())),
            F::Array(inner, size) => F::Array(Box::new(inner.as_read()), *size),
            F::Struct(fields) => F::Struct(fields.iter().map(|(name, ft)| (name.clone(), ft.as_read())).collect()),
            other => other.clone(),
        }
    }

    /// The Rust Polars type of a column read as this type ([`FrameType::as_read`]: a map is a
    /// list of key/value structs); None for a type the reader never gives.
    pub fn read_dtype(&self) -> Option<DataType> {
        use FrameType as F;
        Some(match self {
            F::Null => DataType::Null,
            F::Boolean => DataType::Boolean,
            F::Int { signed: true, bits: 8 } => DataType::Int8,
            F::Int { signed: true, bits: 16 } => DataType::Int16,
            F::Int { signed: true, bits: 32 } => DataType::Int32,
            F::Int { signed: true, bits: 64 } => DataType::Int64,
            F::Int { signed: false, bits: 8 } => DataType::UInt8,
            F::Int { signed: false, bits: 16 } => DataType::UInt16,
            F::Int { signed: false, bits: 32 } => DataType::UInt32,
            F::Int { signed: false, bits: 64 } => DataType::UInt64,
            F::Int { .. } | F::Unsupported { .. } => return None,
            F::Float32 => DataType::Float32,
            F::Float64 => DataType::Float64,
            F::Decimal { precision, scale } => DataType::Decimal(*precision, *scale),
            F::String => DataType::String,
            F::Binary => DataType::Binary,
            F::Date => DataType::Date,
            F::Time => DataType::Time,
            F::Datetime { unit, time_zone } => {
                DataType::Datetime(*unit, TimeZone::opt_try_new(time_zone.as_deref()).ok().flatten())
            },
            F::Duration(unit) => DataType::Duration(*unit),
            F::Enum(symbols) => {
                DataType::from_frozen_categories(FrozenCategories::new(symbols.iter().map(String::as_str)).ok()?)
            },
            F::List(inner) => DataType::List(Box::new(inner.read_dtype()?)),
            F::Array(inner, size) => DataType::Array(Box::new(inner.read_dtype()?), *size),
            F::Struct(fields) => DataType::Struct(
                fields
                    .iter()
                    .map(|(name, ft)| Some(Field::new(name.as_str().into(), ft.read_dtype()?)))
                    .collect::<Option<_>>()?,
            ),
            F::Map { .. } => return self.as_read().read_dtype(),
        })
    }

    /// The Polars name of the type, for error messages.
    pub fn polars_name(&self) -> String {
        use FrameType as F;
        match self {
            F::Null => "Null".into(),
            F::Boolean => "Boolean".into(),
            F::Int { signed, bits } => format!("{}Int{bits}", if *signed { "" } else { "U" }),
            F::Float32 => "Float32".into(),
            F::Float64 => "Float64".into(),
            F::Decimal { precision, scale } => format!("Decimal({precision}, {scale})"),
            F::String => "String".into(),
            F::Binary => "Binary".into(),
            F::Date => "Date".into(),
            F::Time => "Time".into(),
            F::Datetime { unit, time_zone: None } => format!("Datetime({unit})"),
            F::Datetime { unit, time_zone: Some(tz) } => format!("Datetime({unit}, {tz})"),
            F::Duration(unit) => format!("Duration({unit})"),
            F::Enum(_) => "Enum".into(),
            F::List(inner) => format!("List({})", inner.polars_name()),
            F::Array(inner, size) => format!("Array({}, {size})", inner.polars_name()),
            F::Struct(_) => "Struct".into(),
            F::Map { key, value } => format!("Map({}, {})", key.polars_name(), value.polars_name()),
            F::Unsupported { name, .. } => name.clone(),
        }
    }
}

/// What to do with a column of a type Avro cannot hold, by its Polars name.
fn unsupported_hint(polars_name: &str) -> &'static str {
    match polars_name {
        "Int128" | "UInt128" => "cast it to Int64, or to Decimal(38, 0)",
        "Float16" => "cast it to Float32",
        name if name.starts_with("Categorical") => "cast it to pl.Enum (written as an Avro enum) or to String",
        name if name.starts_with("Object") => "convert its values to a Polars type first",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn widths_are_estimated_per_kind_of_type() {
        let list = FrameType::List(Box::new(FrameType::Boolean));
        let widths: Vec<usize> = [FrameType::Date, FrameType::String, FrameType::Binary, list]
            .iter()
            .map(FrameType::estimated_width)
            .collect();
        assert_eq!(widths, [8, 32, 32, 64]);
    }

    #[test]
    fn descriptions_parse() {
        let desc = json!({"type": "struct", "fields": [
            ["a", {"type": "uint16"}],
            ["b", {"type": "map", "key": {"type": "string"},
                   "value": {"type": "datetime", "unit": "ns", "time_zone": null}}],
        ]});
        let expected = FrameType::Struct(vec![
            ("a".into(), FrameType::Int { signed: false, bits: 16 }),
            (
                "b".into(),
                FrameType::Map {
                    key: Box::new(FrameType::String),
                    value: Box::new(FrameType::Datetime { unit: TimeUnit::Nanoseconds, time_zone: None }),
                },
            ),
        ]);
        assert_eq!(FrameType::from_json(&desc).unwrap(), expected);
        assert!(FrameType::from_json(&json!({"type": "int7"})).is_err());
    }

    #[test]
    fn descriptions_read_back_what_they_describe() {
        let mut types: Vec<FrameType> = FrameType::PLAIN.iter().map(|(_, ft)| ft.clone()).collect();
        types.extend([
            FrameType::Decimal { precision: 38, scale: 9 },
            FrameType::Datetime { unit: TimeUnit::Microseconds, time_zone: Some("Europe/Oslo".into()) },
            FrameType::Duration(TimeUnit::Nanoseconds),
            FrameType::Enum(vec!["a".into(), "b".into()]),
            FrameType::Array(Box::new(FrameType::Float32), 3),
            FrameType::Map {
                key: Box::new(FrameType::String),
                value: Box::new(FrameType::List(Box::new(FrameType::Date))),
            },
            FrameType::Struct(vec![("x".into(), FrameType::Time), ("y".into(), FrameType::Null)]),
        ]);
        for ft in types {
            assert_eq!(FrameType::from_json(&ft.to_json()).unwrap(), ft, "{}", ft.to_json());
        }
    }

    #[test]
    fn a_map_reads_as_a_list_of_key_value_structs() {
        let map = |value: FrameType| FrameType::Map { key: Box::new(FrameType::String), value: Box::new(value) };
        let entries = |value: FrameType| {
            FrameType::List(Box::new(FrameType::Struct(vec![
                ("key".into(), FrameType::String),
                ("value".into(), value),
            ])))
        };
        let nested = FrameType::Struct(vec![("m".into(), map(map(FrameType::Int { signed: true, bits: 64 })))]);
        let read = FrameType::Struct(vec![("m".into(), entries(entries(FrameType::Int { signed: true, bits: 64 })))]);
        assert_eq!(nested.as_read(), read);
        assert_eq!(read.as_read(), read);
        assert_ne!(map(FrameType::Float64).as_read(), entries(FrameType::Int { signed: true, bits: 64 }));
    }

    #[test]
    fn the_read_dtype_is_the_one_a_column_read_so_has() {
        let types = [
            FrameType::Int { signed: false, bits: 16 },
            FrameType::Decimal { precision: 38, scale: 9 },
            FrameType::Datetime { unit: TimeUnit::Microseconds, time_zone: Some("Europe/Oslo".into()) },
            FrameType::Datetime { unit: TimeUnit::Nanoseconds, time_zone: None },
            FrameType::Enum(vec!["b".into(), "a".into()]),
            FrameType::Array(Box::new(FrameType::Float32), 3),
            FrameType::Struct(vec![
                ("x".into(), FrameType::Time),
                ("y".into(), FrameType::List(Box::new(FrameType::Date))),
            ]),
        ];
        for ft in types {
            assert_eq!(FrameType::from_dtype(&ft.read_dtype().unwrap()), ft);
        }
        let map = FrameType::Map { key: Box::new(FrameType::String), value: Box::new(FrameType::Binary) };
        assert_eq!(FrameType::from_dtype(&map.read_dtype().unwrap()), map.as_read());
        assert_eq!(FrameType::Unsupported { name: "Int128".into(), hint: "" }.read_dtype(), None);
    }

    #[test]
    fn polars_names_are_those_polars_prints() {
        let int = |signed, bits| FrameType::Int { signed, bits };
        let cases = [
            (int(true, 8), "Int8"),
            (int(false, 64), "UInt64"),
            (FrameType::Decimal { precision: 38, scale: 2 }, "Decimal(38, 2)"),
            (FrameType::Datetime { unit: TimeUnit::Milliseconds, time_zone: None }, "Datetime(ms)"),
            (FrameType::Datetime { unit: TimeUnit::Nanoseconds, time_zone: Some("UTC".into()) }, "Datetime(ns, UTC)"),
            (FrameType::Duration(TimeUnit::Microseconds), "Duration(μs)"),
            (FrameType::List(Box::new(FrameType::Array(Box::new(FrameType::Float32), 2))), "List(Array(Float32, 2))"),
            (
                FrameType::Map { key: Box::new(FrameType::String), value: Box::new(FrameType::Binary) },
                "Map(String, Binary)",
            ),
            (FrameType::Enum(vec!["a".into()]), "Enum"),
            (FrameType::Struct(vec![]), "Struct"),
            (FrameType::Unsupported { name: "Int128".into(), hint: "" }, "Int128"),
        ];
        for (ft, name) in cases {
            assert_eq!(ft.polars_name(), name);
        }
    }

    #[test]
    fn malformed_descriptions_are_refused_as_arguments() {
        for desc in [
            json!(5),
            json!({"kind": "int8"}),
            json!({"type": "decimal", "precision": 5}),
            json!({"type": "decimal", "precision": -1, "scale": 0}),
            json!({"type": "datetime", "unit": "s"}),
            json!({"type": "duration"}),
            json!({"type": "enum", "categories": [1]}),
            json!({"type": "list"}),
            json!({"type": "list", "inner": {"type": "nope"}}),
            json!({"type": "array", "inner": {"type": "int8"}}),
            json!({"type": "struct", "fields": [["a"]]}),
            json!({"type": "struct", "fields": [[1, {"type": "int8"}]]}),
            json!({"type": "map", "key": {"type": "string"}}),
            json!({"type": "unsupported"}),
        ] {
            let error = FrameType::from_json(&desc).unwrap_err();
            assert_eq!(error.kind, crate::error::ErrorKind::Argument, "{desc}");
            assert!(error.message.starts_with("not a column type description: "), "{error}");
        }
    }

    #[test]
    fn an_unsupported_type_says_what_to_cast_it_to() {
        for (name, hint) in [
            ("Int128", "cast it to Int64, or to Decimal(38, 0)"),
            ("UInt128", "cast it to Int64, or to Decimal(38, 0)"),
            ("Float16", "cast it to Float32"),
            ("Categorical(Categories)", "cast it to pl.Enum (written as an Avro enum) or to String"),
            ("Object(\"x\")", "convert its values to a Polars type first"),
            ("Unknown", ""),
        ] {
            let read = FrameType::from_json(&json!({"type": "unsupported", "name": name})).unwrap();
            assert_eq!(read, FrameType::Unsupported { name: name.into(), hint }, "{name}");
        }
    }
}
