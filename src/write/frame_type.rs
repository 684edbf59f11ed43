//! The Polars type of each column to write, as the writer needs it: from a Rust
//! `DataType`, or from the JSON description the Python package sends (Python Polars
//! knows types, such as Map, that cross into Rust as something else).

use polars::prelude::{DataType, TimeUnit};
use serde_json::Value;

use crate::error::{AvroError, AvroResult};

/// A column's Polars type, as the writer sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum FrameType {
    Null,
    Boolean,
    Int {
        signed: bool,
        bits: u8,
    },
    Float32,
    Float64,
    Decimal {
        precision: usize,
        scale: usize,
    },
    String,
    Binary,
    Date,
    Time,
    Datetime {
        unit: TimeUnit,
        time_zone: Option<String>,
    },
    Duration(TimeUnit),
    /// Values are the codes of these categories.
    Enum(Vec<String>),
    List(Box<FrameType>),
    Array(Box<FrameType>, usize),
    Struct(Vec<(String, FrameType)>),
    /// Entries are `Struct{key, value}` items of a list, as Polars keeps them.
    Map {
        key: Box<FrameType>,
        value: Box<FrameType>,
    },
    /// A type Avro cannot hold, with its Polars name and what to do about it.
    Unsupported {
        name: String,
        hint: &'static str,
    },
}

impl FrameType {
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
        Ok(match kind {
            "null" => F::Null,
            "boolean" => F::Boolean,
            "int8" | "int16" | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" => {
                let signed = kind.starts_with("int");
                let bits = kind.trim_start_matches('u').trim_start_matches("int").parse().map_err(|_| bad())?;
                F::Int { signed, bits }
            },
            "float32" => F::Float32,
            "float64" => F::Float64,
            "decimal" => F::Decimal { precision: number("precision")?, scale: number("scale")? },
            "string" => F::String,
            "binary" => F::Binary,
            "date" => F::Date,
            "time" => F::Time,
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
}
