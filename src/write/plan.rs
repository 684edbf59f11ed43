//! The writer's plan: how each column's values are written as their Avro type, decided
//! once per (schema, frame types) when a writer is made. Every check that needs no value
//! happens here; per chunk the plan is only bound to the chunk's arrays
//! ([`FieldPlan::bind`](super::encode), which also decides what depends on the chunk: whether
//! it has nulls, the width of its integers).

use std::collections::HashMap;

use polars_core::prelude::TimeUnit;

use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::schema::{field_path, AvroSchema, Field, Logical, LongTime, Node, NodeId};

/// A change of time unit on the way to Avro.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Scale {
    Same,
    /// Multiply (to a finer unit): fails on overflow.
    Mul(i64),
    /// Divide (to a coarser unit): fails when it would drop a remainder.
    Div(i64),
}

impl Scale {
    pub(super) fn between(from: TimeUnit, to: TimeUnit) -> Self {
        let ns = |u: TimeUnit| match u {
            TimeUnit::Milliseconds => 1_000_000i64,
            TimeUnit::Microseconds => 1_000,
            TimeUnit::Nanoseconds => 1,
        };
        let (from, to) = (ns(from), ns(to));
        match from.cmp(&to) {
            std::cmp::Ordering::Equal => Scale::Same,
            std::cmp::Ordering::Greater => Scale::Mul(from / to),
            std::cmp::Ordering::Less => Scale::Div(to / from),
        }
    }

    #[inline]
    pub(super) fn apply(self, v: i64) -> Option<i64> {
        // Dividing by a constant is a multiplication; by a variable, a slow hardware division.
        fn exact_div<const K: i64>(v: i64) -> Option<i64> {
            (v % K == 0).then_some(v / K)
        }
        match self {
            Scale::Same => Some(v),
            Scale::Mul(k) => v.checked_mul(k),
            Scale::Div(1_000) => exact_div::<1_000>(v),
            Scale::Div(1_000_000) => exact_div::<1_000_000>(v),
            Scale::Div(k) => (v % k == 0).then_some(v / k),
        }
    }
}

/// How one column (or nested value) is written: the step, and where it is, for messages.
pub struct FieldPlan {
    pub(super) step: Step,
    /// The column path (`a.b[]`).
    pub(super) path: Box<str>,
    /// The Polars type the column was described as, for a chunk whose arrays differ.
    pub(super) described: Box<str>,
}

/// What a [`FieldPlan`] does, without the arrays it will be bound to.
pub(super) enum Step {
    /// A value of a type that is not a union: a null in the column is an error naming
    /// `avro_type`.
    Required {
        value: Box<FieldPlan>,
        avro_type: Box<str>,
    },
    /// A union that only nulls take (the column is all nulls or of type Null): an error
    /// for a chunk with a value.
    NullOnly {
        index: i64,
        mismatch: AvroError,
    },
    /// A union with a null branch and the branch the column's type is written as.
    Nullable {
        null_branch: i64,
        value_branch: i64,
        value: Box<FieldPlan>,
    },
    /// A union without a null branch, whose values all take one branch.
    Branch {
        index: i64,
        value: Box<FieldPlan>,
        avro_type: Box<str>,
    },
    /// A union from a Struct with one field per non-null branch: the first field set wins.
    Branches {
        null_branch: Option<i64>,
        branches: Vec<(i64, FieldPlan)>,
    },
    /// Avro null: a chunk with a value is `mismatch`.
    Null {
        mismatch: AvroError,
    },
    Boolean,
    /// Avro int (`int32`) or long, from integers of any width, changed by `scale`.
    Int {
        scale: Scale,
        int32: bool,
    },
    Float,
    FloatAsDouble,
    Double,
    /// Avro string, or bytes from a String column (both are a length and the bytes).
    Utf8,
    Binary,
    Fixed {
        size: usize,
    },
    UuidFixed,
    /// Two's-complement big-endian: as few bytes as hold the value, or exactly `fixed`.
    Decimal {
        fixed: Option<usize>,
        max_abs: Option<i128>,
    },
    /// Decimal text as the unscaled value at the decimal's scale.
    DecimalFromText {
        fixed: Option<usize>,
        precision: usize,
        scale: usize,
    },
    /// Decimal text as a big-decimal: the unscaled value and its scale, inside Avro bytes.
    BigDecimalFromText,
    /// Polars category codes, mapped to the enum's symbol indices (None: not a symbol).
    Enum {
        to_symbol: Vec<Option<i64>>,
        categories: Vec<String>,
    },
    EnumFromString {
        symbols: HashMap<String, i64>,
    },
    List(Box<FieldPlan>),
    FixedList {
        size: usize,
        item: Box<FieldPlan>,
    },
    Map(Box<FieldPlan>),
    /// One plan per Avro field, each with the position of its column among the struct's.
    Record(Vec<(usize, FieldPlan)>),
    /// Avro duration: months, days and milliseconds as three little-endian u32.
    Duration,
}

impl FieldPlan {
    fn at(step: Step, ft: &FrameType, path: &str) -> Self {
        FieldPlan { step, path: path.into(), described: ft.polars_name().into() }
    }
}

/// The plans of a frame's columns: one per Avro field of the top-level record, each with
/// its column's position; or, for a schema that is not a record, the one column's.
pub fn plan_rows(schema: &AvroSchema, columns: &[(String, FrameType)]) -> AvroResult<Vec<(usize, FieldPlan)>> {
    if let Node::Record { fields, .. } = schema.node(schema.root) {
        let columns: Vec<(&str, &FrameType)> = columns.iter().map(|(n, ft)| (n.as_str(), ft)).collect();
        return plan_fields(schema, fields, &columns, "");
    }
    match columns {
        [(name, ft)] => Ok(vec![(0, plan(schema, schema.root, ft, name)?)]),
        _ => Err(AvroError::schema(format!(
            "the schema's top level is not a record, so the frame must have one column; it has {}",
            columns.len()
        ))),
    }
}

/// How a value of Avro type `node` is written from a column of Polars type `ft`.
pub fn plan(schema: &AvroSchema, node: NodeId, ft: &FrameType, path: &str) -> AvroResult<FieldPlan> {
    if let Node::Union(branches) = schema.node(node) {
        return plan_union(schema, branches, ft, path);
    }
    let value = plan_value(schema, node, ft, path)?;
    let step = Step::Required { value: Box::new(value), avro_type: avro_type_name(schema, node).into() };
    Ok(FieldPlan::at(step, ft, path))
}

fn plan_union(schema: &AvroSchema, branches: &[NodeId], ft: &FrameType, path: &str) -> AvroResult<FieldPlan> {
    let split = schema.split_union(branches);
    let null_branch = split.null.map(|p| p as i64);
    let values = split.values;
    let union = || branches_union(schema, branches);
    if *ft == FrameType::Null || values.is_empty() {
        let Some(index) = null_branch else {
            return Err(mismatch(union(), ft, path));
        };
        return Ok(FieldPlan::at(Step::NullOnly { index, mismatch: mismatch(union(), ft, path) }, ft, path));
    }
    if values.len() > 1 {
        if let Some(plan) = plan_branch_struct(schema, &values, null_branch, ft, path)? {
            return Ok(plan);
        }
    }
    // The first branch the column's type can be written as.
    let mut first_error = None;
    for (index, branch) in &values {
        let index = *index as i64;
        match plan_value(schema, *branch, ft, path) {
            Ok(value) => {
                let value = Box::new(value);
                let step = match null_branch {
                    Some(null_branch) => Step::Nullable { null_branch, value_branch: index, value },
                    None => Step::Branch { index, value, avro_type: union().into() },
                };
                return Ok(FieldPlan::at(step, ft, path));
            },
            Err(e) => {
                first_error.get_or_insert(e);
            },
        }
    }
    match first_error {
        Some(e) if values.len() == 1 => Err(e),
        _ => Err(mismatch(union(), ft, path)),
    }
}

/// A general union from the Struct the reader makes of it: one field per non-null
/// branch, named after the branch type. None when `ft` is not such a Struct.
fn plan_branch_struct(
    schema: &AvroSchema,
    values: &[(usize, NodeId)],
    null_branch: Option<i64>,
    ft: &FrameType,
    path: &str,
) -> AvroResult<Option<FieldPlan>> {
    let FrameType::Struct(fields) = ft else { return Ok(None) };
    let expected = schema.union_field_names(values);
    if fields.len() != expected.len() || fields.iter().zip(&expected).any(|((name, _), e)| name != e) {
        return Ok(None);
    }
    let branches = values
        .iter()
        .zip(fields)
        .map(|((index, node), (name, field_ft))| {
            Ok((*index as i64, plan_value(schema, *node, field_ft, &format!("{path}.{name}"))?))
        })
        .collect::<AvroResult<_>>()?;
    Ok(Some(FieldPlan::at(Step::Branches { null_branch, branches }, ft, path)))
}

/// How a value of a non-union Avro type is written.
fn plan_value(schema: &AvroSchema, node: NodeId, ft: &FrameType, path: &str) -> AvroResult<FieldPlan> {
    use FrameType as F;
    use Logical as L;
    let mismatched = || mismatch(avro_type_name(schema, node), ft, path);
    let fixed_size = || match schema.node(node) {
        Node::Fixed { size, .. } => Some(*size),
        _ => None,
    };
    let int = |scale: Scale, int32: bool| Step::Int { scale, int32 };
    let step = match (schema.node(node), schema.logical(node), ft) {
        (Node::Null, _, _) => Step::Null { mismatch: mismatched() },
        (Node::Boolean, _, F::Boolean) => Step::Boolean,
        (Node::Int, Some(L::Date), F::Date) => int(Scale::Same, true),
        (Node::Int, Some(L::TimeMillis), F::Time) => int(Scale::Div(1_000_000), true),
        (Node::Long, Some(L::TimeMicros), F::Time) => int(Scale::Div(1_000), false),
        (Node::Long, Some(logical), F::Datetime { unit, time_zone }) => {
            let (target, local) = match logical.long_time() {
                Some(LongTime::Timestamp(target)) => (target, false),
                Some(LongTime::LocalTimestamp(target)) => (target, true),
                _ => return Err(mismatched()),
            };
            if local && time_zone.is_some() {
                return Err(AvroError::schema(format!(
                    "the column '{path}' has time zone {}, but {} is a local (zone-less) timestamp: \
                     drop the zone first with .dt.replace_time_zone(None) or .dt.convert_time_zone(...)",
                    time_zone.as_deref().unwrap_or_default(),
                    avro_type_name(schema, node)
                )));
            }
            int(Scale::between(*unit, target), false)
        },
        (Node::Int, _, F::Int { .. } | F::Date) => int(Scale::Same, true),
        (Node::Long, Some(logical), F::Duration(unit))
            if matches!(logical.long_time(), Some(LongTime::Duration(_))) =>
        {
            int(Scale::between(*unit, logical.long_time().expect("a duration").unit()), false)
        },
        (Node::Long, _, F::Int { .. } | F::Duration(_)) => int(Scale::Same, false),
        (Node::Float, _, F::Float32) => Step::Float,
        (Node::Double, _, F::Float32) => Step::FloatAsDouble,
        (Node::Double, _, F::Float64) => Step::Double,
        (
            Node::Bytes | Node::Fixed { .. },
            Some(L::Decimal { precision, scale }),
            F::Decimal { precision: p, scale: s },
        ) => {
            if scale != *s {
                return Err(AvroError::schema(format!(
                    "the column '{path}' has scale {s}, but the Avro decimal has scale {scale}: cast the column \
                    to Decimal({precision}, {scale}) first"
                )));
            }
            let max_abs = (precision < *p).then(|| 10i128.pow(precision as u32) - 1);
            Step::Decimal { fixed: fixed_size(), max_abs }
        },
        (Node::Bytes | Node::Fixed { .. }, Some(L::Decimal { precision, scale }), F::String) => {
            Step::DecimalFromText { fixed: fixed_size(), precision, scale }
        },
        (Node::Bytes, Some(L::BigDecimal), F::String) => Step::BigDecimalFromText,
        (Node::Fixed { size: 16, .. }, Some(L::Uuid), F::String) => Step::UuidFixed,
        (Node::Fixed { size: 12, .. }, Some(L::Duration), F::Struct(fields)) => {
            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            let all_u32 = fields.iter().all(|(_, t)| *t == F::Int { signed: false, bits: 32 });
            if names != ["months", "days", "milliseconds"] || !all_u32 {
                return Err(mismatched());
            }
            Step::Duration
        },
        (Node::String | Node::Bytes, _, F::String) => Step::Utf8,
        (Node::Bytes, _, F::Binary) => Step::Binary,
        (Node::Fixed { size, .. }, _, F::Binary) => Step::Fixed { size: *size },
        (Node::Enum { symbols, .. }, _, F::Enum(categories)) => Step::Enum {
            to_symbol: categories.iter().map(|c| symbols.iter().position(|s| s == c).map(|p| p as i64)).collect(),
            categories: categories.clone(),
        },
        (Node::Enum { symbols, .. }, _, F::String) => {
            Step::EnumFromString { symbols: symbols.iter().enumerate().map(|(i, s)| (s.clone(), i as i64)).collect() }
        },
        (Node::Array(item), _, F::List(inner)) => {
            Step::List(Box::new(plan(schema, *item, inner, &format!("{path}[]"))?))
        },
        (Node::Array(item), _, F::Array(inner, size)) => {
            Step::FixedList { size: *size, item: Box::new(plan(schema, *item, inner, &format!("{path}[]"))?) }
        },
        (Node::Map(value), _, F::Map { key, value: value_ft }) if **key == F::String => {
            Step::Map(Box::new(plan(schema, *value, value_ft, &format!("{path}{{}}"))?))
        },
        // Polars before 2.0 has no Map: maps are read as lists of key/value structs.
        (Node::Map(value), _, F::List(entry)) => match entry.as_ref() {
            F::Struct(kv) if kv.len() == 2 && kv[0].0 == "key" && kv[0].1 == F::String && kv[1].0 == "value" => {
                Step::Map(Box::new(plan(schema, *value, &kv[1].1, &format!("{path}{{}}"))?))
            },
            _ => return Err(mismatched()),
        },
        (Node::Record { fields, .. }, _, F::Struct(ft_fields)) => {
            let columns: Vec<(&str, &FrameType)> = ft_fields.iter().map(|(n, t)| (n.as_str(), t)).collect();
            Step::Record(plan_fields(schema, fields, &columns, path)?)
        },
        _ => return Err(mismatched()),
    };
    Ok(FieldPlan::at(step, ft, path))
}

/// One plan per Avro field, in the schema's order, each with the position of the column
/// of its name among `columns`; every field must have its column and every column its field.
fn plan_fields(
    schema: &AvroSchema,
    fields: &[Field],
    columns: &[(&str, &FrameType)],
    path: &str,
) -> AvroResult<Vec<(usize, FieldPlan)>> {
    let by_name: HashMap<&str, usize> = columns.iter().enumerate().map(|(i, (name, _))| (*name, i)).collect();
    let named: std::collections::HashSet<&str> = fields.iter().map(|f| f.name.as_str()).collect();
    let missing: Vec<&str> = fields.iter().map(|f| f.name.as_str()).filter(|n| !by_name.contains_key(n)).collect();
    let extra: Vec<&str> = columns.iter().map(|(c, _)| *c).filter(|c| !named.contains(c)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        let place = if path.is_empty() { "the frame".to_string() } else { format!("the struct '{path}'") };
        let mut problems = Vec::new();
        let quoted = |names: &[&str]| names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ");
        if !missing.is_empty() {
            problems.push(format!("the schema's fields {} are not in {place}", quoted(&missing)));
        }
        if !extra.is_empty() {
            problems.push(format!("{place}'s columns {} are not in the schema", quoted(&extra)));
        }
        return Err(AvroError::schema(problems.join("; ")));
    }
    fields
        .iter()
        .map(|field| {
            let column = by_name[field.name.as_str()];
            let (name, ft) = columns[column];
            Ok((column, plan(schema, field.schema, ft, &field_path(path, name))?))
        })
        .collect()
}

fn mismatch(avro: String, ft: &FrameType, path: &str) -> AvroError {
    AvroError::schema(format!(
        "the column '{path}' has type {}, which cannot be written as Avro {avro}",
        ft.polars_name()
    ))
}

fn branches_union(schema: &AvroSchema, branches: &[NodeId]) -> String {
    format!("[{}]", branches.iter().map(|b| avro_type_name(schema, *b)).collect::<Vec<_>>().join(", "))
}

/// The Avro type for messages: `long`, `long (timestamp-micros)`, `record Point`, ...
fn avro_type_name(schema: &AvroSchema, node: NodeId) -> String {
    let base = match schema.node(node) {
        Node::Record { name, .. } => format!("record {}", name.fullname()),
        Node::Enum { name, .. } => format!("enum {}", name.fullname()),
        Node::Fixed { name, size } => format!("fixed {} ({size} bytes)", name.fullname()),
        Node::Union(branches) => branches_union(schema, branches),
        _ => schema.type_name(node),
    };
    match schema.logical(node) {
        Some(logical) => format!("{base} ({})", logical.name()),
        None => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_refuse_lossy_changes() {
        let to_micros = Scale::between(TimeUnit::Nanoseconds, TimeUnit::Microseconds);
        assert!(to_micros.apply(1_000) == Some(1) && to_micros.apply(1_001).is_none());
        let to_nanos = Scale::between(TimeUnit::Milliseconds, TimeUnit::Nanoseconds);
        assert!(to_nanos.apply(2) == Some(2_000_000) && to_nanos.apply(i64::MAX / 10).is_none());
    }
}
