//! Polars' expressions, in the JSON form `Expr.meta.serialize(format="json")` gives, read
//! into [`Filter`]s: the forms of every release the package supports (1.30's literals carry
//! their type beside their value, 2.x's name their type; 1.x writes some typed literals as
//! casts of untyped ones; a list literal is the bytes of an Arrow IPC stream, read here).
//! Anything not known, or a pair of column and literal types whose cast Polars would make
//! some other way (`literal` decides), gives None: Polars evaluates that part.

use polars_core::prelude::{DataType, Int128Chunked, IntoSeries, Schema, Series, TimeUnit, IDX_DTYPE};
use serde_json::Value;

use super::literal::{cast, comparison, fits_precision, float, int_series, Literal};
use super::tree::{CmpOp, ColumnPath, Derived, Filter, TextTest};

/// The filter of a serialized expression over columns of `schema`, or None where the
/// reader cannot evaluate it exactly as Polars would.
pub fn parse(json: &str, schema: &Schema) -> Option<Filter> {
    parse_value(&serde_json::from_str(json).ok()?, schema)
}

/// [`parse`] of an expression's JSON already read.
pub fn parse_value(expr: &Value, schema: &Schema) -> Option<Filter> {
    filter(expr, &Context { schema })
}

/// What an expression is read against: the columns' types.
struct Context<'a> {
    schema: &'a Schema,
}

fn filter(expr: &Value, cx: &Context) -> Option<Filter> {
    let (kind, body) = single(expr)?;
    match kind {
        "BinaryExpr" => binary(body, cx),
        "Column" => {
            let path = column(expr, cx.schema)?;
            (path.dtype == DataType::Boolean).then_some(Filter::Column(path))
        },
        "Function" => function(body, cx),
        "Literal" | "Cast" => match literal(expr)? {
            Literal::Bool(value) => Some(Filter::Const(Some(value))),
            Literal::Null(DataType::Boolean) => Some(Filter::Const(None)),
            _ => None,
        },
        _ => None,
    }
}

/// The one key of an object and its value (Polars' enums serialize so).
fn single(value: &Value) -> Option<(&str, &Value)> {
    let object = value.as_object()?;
    if object.len() != 1 {
        return None;
    }
    object.iter().next().map(|(k, v)| (k.as_str(), v))
}

fn binary(body: &Value, cx: &Context) -> Option<Filter> {
    let (left, right) = (body.get("left")?, body.get("right")?);
    let op = match body.get("op")?.as_str()? {
        "And" | "LogicalAnd" => {
            return Some(Filter::And(Box::new(filter(left, cx)?), Box::new(filter(right, cx)?)));
        },
        "Or" | "LogicalOr" => {
            return Some(Filter::Or(Box::new(filter(left, cx)?), Box::new(filter(right, cx)?)));
        },
        "Eq" => CmpOp::Eq,
        "NotEq" => CmpOp::NotEq,
        "Lt" => CmpOp::Lt,
        "LtEq" => CmpOp::LtEq,
        "Gt" => CmpOp::Gt,
        "GtEq" => CmpOp::GtEq,
        "EqValidity" => CmpOp::EqMissing,
        "NotEqValidity" => CmpOp::NotEqMissing,
        _ => return None,
    };
    let schema = cx.schema;
    match (column(left, schema), column(right, schema)) {
        (Some(path), None) => compared(path, op, &literal(right)?),
        (None, Some(path)) => compared(path, op.flipped(), &literal(left)?),
        _ => None,
    }
}

fn function(body: &Value, cx: &Context) -> Option<Filter> {
    let schema = cx.schema;
    let inputs = body.get("input")?.as_array()?;
    let function = body.get("function")?;
    if let Some(name) = function.get("Boolean").and_then(Value::as_str) {
        let [input] = inputs.as_slice() else { return None };
        return match name {
            "Not" => Some(Filter::Not(Box::new(filter(input, cx)?))),
            "IsNull" => Some(Filter::IsNull(column(input, schema)?)),
            "IsNotNull" => Some(Filter::IsNotNull(column(input, schema)?)),
            _ => None,
        };
    }
    if let Some(closed) = function.get("Boolean").and_then(|b| b.get("IsBetween")).and_then(|b| b.get("closed")) {
        let [input, low, high] = inputs.as_slice() else { return None };
        let (low_op, high_op) = match closed.as_str()? {
            "Both" => (CmpOp::GtEq, CmpOp::LtEq),
            "Left" => (CmpOp::GtEq, CmpOp::Lt),
            "Right" => (CmpOp::Gt, CmpOp::LtEq),
            "None" => (CmpOp::Gt, CmpOp::Lt),
            _ => return None,
        };
        let path = column(input, schema)?;
        let (low, high) = (literal(low)?, literal(high)?);
        // Polars 1.39 and 1.40 hand a Float32 column's untyped float bounds as they are and
        // compare them in Float64, where other releases cast them to Float32 first: which
        // one the running Polars does is its own to say.
        let untyped_float = |l: &Literal| matches!(l, Literal::DynFloat(_));
        if path.dtype == DataType::Float32 && (untyped_float(&low) || untyped_float(&high)) {
            return None;
        }
        let low = compared(path.clone(), low_op, &low)?;
        let high = compared(path, high_op, &high)?;
        return Some(Filter::And(Box::new(low), Box::new(high)));
    }
    if let Some(nulls_equal) = function.get("Boolean").and_then(|b| b.get("IsIn")).and_then(|b| b.get("nulls_equal")) {
        let [input, list] = inputs.as_slice() else { return None };
        return is_in(column(input, schema)?, list_of(list)?, nulls_equal.as_bool()?);
    }
    if function.get("ListExpr").and_then(|f| f.get("Contains")).is_some() {
        // `nulls_equal` matters only for a null, which is left to Polars.
        let [input, value] = inputs.as_slice() else { return None };
        let column = column(input, schema)?;
        let DataType::List(inner) = &column.dtype else { return None };
        let (cast, value) = comparison(inner, &literal(value)?)?;
        return (!cast && value.null_count() == 0).then_some(Filter::ListContains { column, value });
    }
    let text = function.get("StringExpr")?;
    let test = match text {
        Value::String(name) if name == "StartsWith" => TextTest::StartsWith,
        Value::String(name) if name == "EndsWith" => TextTest::EndsWith,
        _ if text.get("Contains")?.get("literal")?.as_bool()? => TextTest::Contains,
        _ => return None,
    };
    let [input, pattern] = inputs.as_slice() else { return None };
    let column = column(input, schema)?;
    let Literal::String(pattern) = literal(pattern)? else { return None };
    (column.dtype == DataType::String).then_some(Filter::Text { column, test, pattern })
}

/// The values of a list literal, from the Arrow IPC stream Polars wrote for it (2.x's
/// `{"Literal": {"Scalar": {"List": [...]}}}`, 1.x's with `{"dtype": ..., "value": {"List": [...]}}`).
/// A stream this Polars does not read: None.
fn list_of(expr: &Value) -> Option<Series> {
    // A Series handed to `is_in` is named: `{"Alias": [literal, name]}`.
    if let Some([aliased, _]) = expr.get("Alias").and_then(Value::as_array).map(Vec::as_slice) {
        return list_of(aliased);
    }
    let scalar = expr.get("Literal")?.get("Scalar")?;
    let bytes = scalar.get("value").unwrap_or(scalar).get("List")?.as_array()?;
    let bytes: Vec<u8> = bytes.iter().map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok())).collect::<Option<_>>()?;
    Series::deserialize_from_reader(&mut std::io::Cursor::new(bytes)).ok()
}

/// `is_in` of a list of the column's own type, or of integers for an integer column: a
/// value past the column's type equals none of its values (2.x casts the list so before it
/// hands it over, 1.x compares in the wider type). Other lists are Polars' to cast, and a
/// float list holding NaN stays Polars' too: how it hashes NaN is its own.
fn is_in(column: ColumnPath, list: Series, nulls_equal: bool) -> Option<Filter> {
    let null = nulls_equal.then_some(list.null_count() > 0);
    let values = list.drop_nulls();
    let values = if list.dtype() == &column.dtype {
        values
    } else if list.dtype().is_integer() && column.dtype.is_integer() {
        // A non-strict cast makes the values past the column's type nulls.
        values.cast(&column.dtype).ok()?.drop_nulls()
    } else if let (DataType::Decimal(_, list_scale), DataType::Decimal(precision, scale)) =
        (list.dtype(), &column.dtype)
    {
        // Decimals of the column's scale (1.x makes a Python list Decimal(38, s)); a value
        // past its precision equals none of its values.
        if list_scale != scale {
            return None;
        }
        let unscaled = values.decimal().ok()?.physical().clone();
        let fitting: Int128Chunked =
            unscaled.iter().filter(|v| v.is_some_and(|v| fits_precision(v, *precision))).collect();
        fitting.into_decimal_unchecked(*precision, *scale).into_series()
    } else {
        return None;
    };
    if values.is_nan().is_ok_and(|nan| nan.any()) {
        return None;
    }
    Some(Filter::IsIn { values, column, null })
}

/// A column, or a struct field of one, with its type.
fn column(expr: &Value, schema: &Schema) -> Option<ColumnPath> {
    let (kind, body) = single(expr)?;
    match kind {
        "Column" => {
            let name = body.as_str()?;
            Some(ColumnPath { name: name.into(), fields: Vec::new(), dtype: schema.get(name)?.clone(), derived: None })
        },
        // An integer modulo a positive int, untyped or of its type (`pl.col("id") % 3`, as
        // Polars hands it a reader once it has cast the literal).
        "BinaryExpr" if body.get("op")?.as_str()? == "Modulus" => {
            let mut path = column(body.get("left")?, schema)?;
            let k = match literal(body.get("right")?)? {
                Literal::DynInt(k) => k,
                Literal::Int(k, dtype) if dtype == path.dtype => k,
                _ => return None,
            };
            if path.derived.is_some() || !path.dtype.is_integer() || k <= 0 {
                return None;
            }
            path.derived = Some(Derived::Modulo(int_series(k, &path.dtype)?));
            Some(path)
        },
        "Function" => {
            let function = body.get("function")?;
            let inputs = body.get("input")?.as_array()?;
            let mut path = column(inputs.first()?, schema)?;
            if path.derived.is_some() {
                return None;
            }
            if let Some(field) = function.get("StructExpr").and_then(|f| f.get("FieldByName")).and_then(Value::as_str) {
                let DataType::Struct(fields) = &path.dtype else { return None };
                let dtype = fields.iter().find(|f| f.name().as_str() == field)?.dtype().clone();
                path.fields.push(field.into());
                path.dtype = dtype;
                return (inputs.len() == 1).then_some(path);
            }
            let DataType::List(inner) = &path.dtype else { return None };
            let list = function.get("ListExpr")?;
            let (derived, dtype) = match (list.as_str(), inputs.as_slice()) {
                (Some("Length"), [_]) => (Derived::ListLen, IDX_DTYPE),
                // `null_on_oob=False` raises past the ends: Polars' to raise.
                (None, [_, index]) if list.get("Get")?.as_bool()? => {
                    let index = match literal(index)? {
                        Literal::DynInt(i) | Literal::Int(i, _) => i64::try_from(i).ok()?,
                        _ => return None,
                    };
                    (Derived::ListGet(index), inner.as_ref().clone())
                },
                _ => return None,
            };
            path.derived = Some(derived);
            path.dtype = dtype;
            Some(path)
        },
        _ => None,
    }
}

fn literal(expr: &Value) -> Option<Literal> {
    let (kind, body) = single(expr)?;
    match kind {
        "Literal" => {
            let (form, value) = single(body)?;
            match form {
                "Dyn" => match single(value)? {
                    ("Int", n) => Some(Literal::DynInt(integer(n)?)),
                    // NaN and the infinities serialize as null: which one is not known.
                    ("Float", x) => Some(Literal::DynFloat(x.as_f64()?)),
                    _ => None,
                },
                "Scalar" => scalar(value),
                _ => None,
            }
        },
        "Cast" => {
            let inner = literal(body.get("expr")?)?;
            let dtype = body.get("dtype")?;
            // 2.x wraps the type (`{"Literal": type}`); 1.x gives it bare.
            let dtype = dtype_of(dtype.get("Literal").unwrap_or(dtype))?;
            cast(inner, &dtype)
        },
        _ => None,
    }
}

/// A typed scalar: 2.x's `{"Int64": 5}`, 1.x's `{"dtype": "Int64", "value": {"Int64": 5}}`.
fn scalar(value: &Value) -> Option<Literal> {
    if let (Some(dtype), Some(inner)) = (value.get("dtype"), value.get("value")) {
        let dtype = dtype_of(dtype)?;
        if inner.as_str() == Some("Null") {
            return Some(Literal::Null(dtype));
        }
        let (kind, v) = single(inner)?;
        return typed(kind.trim_end_matches("Owned"), v, Some(&dtype));
    }
    let (kind, v) = single(value)?;
    if kind == "Null" {
        return Some(Literal::Null(dtype_of(v)?));
    }
    typed(kind, v, None)
}

/// A value named by its kind (1.x's `Bool`, `StringOwned`, `DatetimeOwned`; 2.x's `Boolean`...).
fn typed(kind: &str, v: &Value, dtype: Option<&DataType>) -> Option<Literal> {
    match kind {
        "Bool" | "Boolean" => Some(Literal::Bool(v.as_bool()?)),
        "String" | "Str" => Some(Literal::String(v.as_str()?.to_string())),
        "Binary" => Some(Literal::Binary(
            v.as_array()?.iter().map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok())).collect::<Option<_>>()?,
        )),
        "Date" => Some(Literal::Date(i32::try_from(v.as_i64()?).ok()?)),
        "Time" => Some(Literal::Time(v.as_i64()?)),
        "Duration" => {
            let [value, unit] = v.as_array()?.as_slice() else { return None };
            Some(Literal::Duration(value.as_i64()?, time_unit(unit)?))
        },
        "Decimal" => {
            // 2.x: [value, precision, scale]; 1.x: [value, scale].
            let parts = v.as_array()?;
            let (value, scale) = (parts.first()?, parts.last()?);
            let value = value.as_i64().map(i128::from).or_else(|| value.as_str()?.parse().ok())?;
            Some(Literal::Decimal(value, usize::try_from(scale.as_u64()?).ok()?))
        },
        "Datetime" => {
            // [value, unit, zone]: the zone 2.x's `{"inner": "UTC"}` or 1.x's "UTC", or null.
            let [value, unit, zone] = v.as_array()?.as_slice() else { return None };
            let zone = match zone {
                Value::Null => None,
                Value::String(z) => Some(z.clone()),
                other => Some(other.get("inner")?.as_str()?.to_string()),
            };
            let unit = time_unit(unit)?;
            if let Some(DataType::Datetime(u, z)) = dtype {
                if *u != unit || z.as_ref().map(|z| z.as_str()) != zone.as_deref() {
                    return None;
                }
            }
            Some(Literal::Datetime(value.as_i64()?, unit, zone))
        },
        _ => {
            let dtype = dtype_of(&Value::String(kind.to_string()))?;
            if dtype.is_integer() {
                Some(Literal::Int(integer(v)?, dtype))
            } else if dtype.is_float() {
                Some(float(v.as_f64()?, dtype))
            } else {
                None
            }
        },
    }
}

fn integer(v: &Value) -> Option<i128> {
    v.as_i64().map(i128::from).or_else(|| v.as_u64().map(i128::from))
}

fn time_unit(v: &Value) -> Option<TimeUnit> {
    match v.as_str()? {
        "Milliseconds" => Some(TimeUnit::Milliseconds),
        "Microseconds" => Some(TimeUnit::Microseconds),
        "Nanoseconds" => Some(TimeUnit::Nanoseconds),
        _ => None,
    }
}

/// The types a literal is cast to, or has, that the reader knows: the plain ones by name,
/// durations, decimals and datetimes; None for any other (categoricals...).
fn dtype_of(v: &Value) -> Option<DataType> {
    if let Some(name) = v.as_str() {
        return Some(match name {
            "Boolean" => DataType::Boolean,
            "Int8" => DataType::Int8,
            "Int16" => DataType::Int16,
            "Int32" => DataType::Int32,
            "Int64" => DataType::Int64,
            "UInt8" => DataType::UInt8,
            "UInt16" => DataType::UInt16,
            "UInt32" => DataType::UInt32,
            "UInt64" => DataType::UInt64,
            "Float32" => DataType::Float32,
            "Float64" => DataType::Float64,
            "String" => DataType::String,
            "Binary" => DataType::Binary,
            "Date" => DataType::Date,
            "Time" => DataType::Time,
            "Null" => DataType::Null,
            _ => return None,
        });
    }
    if let Some(unit) = v.get("Duration") {
        return Some(DataType::Duration(time_unit(unit)?));
    }
    if let Some([precision, scale]) = v.get("Decimal").and_then(Value::as_array).map(Vec::as_slice) {
        let scale = usize::try_from(scale.as_u64()?).ok()?;
        return Some(DataType::Decimal(usize::try_from(precision.as_u64().unwrap_or(38)).ok()?, scale));
    }
    let [unit, zone] = v.get("Datetime")?.as_array()?.as_slice() else { return None };
    let zone = match zone {
        Value::Null => None,
        other => Some(other.get("inner").unwrap_or(other).as_str()?.to_string()),
    };
    // A zone's name as Polars holds it; only UTC is made here (the others need the database).
    let zone = match zone.as_deref() {
        None => None,
        Some("UTC") => Some(polars_core::prelude::TimeZone::UTC),
        Some(_) => return None,
    };
    Some(DataType::Datetime(time_unit(unit)?, zone))
}

/// A comparison of the column with a literal in the type Polars compares them in.
fn compared(column: ColumnPath, op: CmpOp, literal: &Literal) -> Option<Filter> {
    let (cast, value) = comparison(&column.dtype, literal)?;
    Some(Filter::Compare { column, cast, op, value })
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{Field, NamedFrom, TimeZone};

    use super::*;

    fn schema() -> Schema {
        Schema::from_iter([
            Field::new("count".into(), DataType::Int32),
            Field::new("f".into(), DataType::Float32),
            Field::new("s".into(), DataType::String),
            Field::new("b".into(), DataType::Boolean),
            Field::new("d".into(), DataType::Date),
            Field::new("t".into(), DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))),
            Field::new("st".into(), DataType::Struct(vec![Field::new("x".into(), DataType::Int64)])),
            Field::new("m".into(), DataType::Decimal(10, 2)),
        ])
    }

    fn compare_of(json: &str) -> (bool, CmpOp, Series) {
        match parse(json, &schema()) {
            Some(Filter::Compare { cast, op, value, .. }) => (cast, op, value),
            other => panic!("{json}: {other:?}"),
        }
    }

    /// The same predicates in the JSON of Polars 1.30 and of 2.1, as `meta.serialize` gives them.
    #[test]
    fn the_forms_of_each_release_read_alike() {
        let pairs = [
            (
                r#"{"BinaryExpr":{"left":{"Column":"s"},"op":"Eq","right":{"Literal":{"Scalar":{"dtype":"String","value":{"StringOwned":"abc"}}}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"s"},"op":"Eq","right":{"Literal":{"Scalar":{"String":"abc"}}}}}"#,
            ),
            (
                r#"{"BinaryExpr":{"left":{"Column":"f"},"op":"GtEq","right":{"Cast":{"expr":{"Literal":{"Dyn":{"Float":0.1}}},"dtype":"Float32","options":"Strict"}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"f"},"op":"GtEq","right":{"Literal":{"Scalar":{"Float32":0.1}}}}}"#,
            ),
            (
                r#"{"BinaryExpr":{"left":{"Column":"d"},"op":"Lt","right":{"Literal":{"Scalar":{"dtype":"Date","value":{"Date":19724}}}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"d"},"op":"Lt","right":{"Literal":{"Scalar":{"Date":19724}}}}}"#,
            ),
            (
                r#"{"BinaryExpr":{"left":{"Column":"b"},"op":"Eq","right":{"Literal":{"Scalar":{"dtype":"Boolean","value":{"Bool":true}}}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"b"},"op":"Eq","right":{"Literal":{"Scalar":{"Boolean":true}}}}}"#,
            ),
        ];
        for (old, new) in pairs {
            assert_eq!(parse(old, &schema()), parse(new, &schema()), "{old}");
            assert!(parse(new, &schema()).is_some(), "{new}");
        }
        let not_null = |flags: &str| {
            format!(r#"{{"Function":{{"input":[{{"Column":"count"}}],"function":{{"Boolean":"IsNotNull"}}{flags}}}}}"#)
        };
        let old = not_null(r#","options":{"check_lengths":true,"flags":"ALLOW_GROUP_AWARE"}"#);
        assert_eq!(parse(&old, &schema()), parse(&not_null(""), &schema()));
    }

    #[test]
    fn literals_take_the_type_polars_compares_in() {
        // An untyped int takes an Int32 column's type; one past it is Polars' to cast.
        let (cast, _, value) = compare_of(
            r#"{"BinaryExpr":{"left":{"Column":"count"},"op":"Lt","right":{"Literal":{"Dyn":{"Int":1000}}}}}"#,
        );
        assert_eq!((cast, value.dtype()), (false, &DataType::Int32));
        let past =
            r#"{"BinaryExpr":{"left":{"Column":"count"},"op":"Lt","right":{"Literal":{"Dyn":{"Int":4294967296}}}}}"#;
        assert_eq!(parse(past, &schema()), None);
        // An untyped float makes an integer column Float64; a Float32 literal is its f32.
        let (cast, _, value) = compare_of(
            r#"{"BinaryExpr":{"left":{"Column":"count"},"op":"Lt","right":{"Literal":{"Dyn":{"Float":2.5}}}}}"#,
        );
        assert_eq!((cast, value.dtype()), (true, &DataType::Float64));
        let (cast, _, value) =
            compare_of(r#"{"BinaryExpr":{"left":{"Column":"f"},"op":"Lt","right":{"Literal":{"Dyn":{"Float":0.1}}}}}"#);
        assert_eq!((cast, value.f32().unwrap().get(0)), (false, Some(0.1f32)));
        // NaN serializes as null: not known which, so Polars' to compare.
        let nan = r#"{"BinaryExpr":{"left":{"Column":"f"},"op":"Gt","right":{"Literal":{"Dyn":{"Float":null}}}}}"#;
        assert_eq!(parse(nan, &schema()), None);
        // A zoned datetime compares with a column of its zone and unit only.
        let (_, _, value) = compare_of(
            r#"{"BinaryExpr":{"left":{"Column":"t"},"op":"Lt","right":{"Literal":{"Scalar":{"Datetime":[1704164400000000,"Microseconds",{"inner":"UTC"}]}}}}}"#,
        );
        assert_eq!(value.dtype(), &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)));
        let naive = r#"{"BinaryExpr":{"left":{"Column":"t"},"op":"Lt","right":{"Literal":{"Scalar":{"Datetime":[1,"Microseconds",null]}}}}}"#;
        assert_eq!(parse(naive, &schema()), None);
        // A literal on the left flips the comparison.
        let (_, op, _) =
            compare_of(r#"{"BinaryExpr":{"left":{"Literal":{"Dyn":{"Int":5}}},"op":"Gt","right":{"Column":"count"}}}"#);
        assert_eq!(op, CmpOp::Lt);
    }

    #[test]
    fn times_durations_and_decimals_of_both_forms() {
        let schema = Schema::from_iter([
            Field::new("t".into(), DataType::Time),
            Field::new("du".into(), DataType::Duration(TimeUnit::Microseconds)),
            Field::new("m".into(), DataType::Decimal(10, 2)),
        ]);
        let pairs = [
            (
                r#"{"BinaryExpr":{"left":{"Column":"t"},"op":"NotEq","right":{"Literal":{"Scalar":{"dtype":"Time","value":{"Time":66675011701000}}}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"t"},"op":"NotEq","right":{"Literal":{"Scalar":{"Time":66675011701000}}}}}"#,
            ),
            (
                r#"{"BinaryExpr":{"left":{"Column":"du"},"op":"Lt","right":{"Literal":{"Scalar":{"dtype":{"Duration":"Microseconds"},"value":{"Duration":[5000000,"Microseconds"]}}}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"du"},"op":"Lt","right":{"Literal":{"Scalar":{"Duration":[5000000,"Microseconds"]}}}}}"#,
            ),
            (
                r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Gt","right":{"Cast":{"expr":{"Literal":{"Scalar":{"dtype":"String","value":{"StringOwned":"-9422.5"}}}},"dtype":{"Decimal":[10,2]},"options":"Strict"}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Gt","right":{"Cast":{"expr":{"Literal":{"Scalar":{"String":"-9422.5"}}},"dtype":{"Literal":{"Decimal":[10,2]}},"options":"Strict"}}}}"#,
            ),
            (
                r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Lt","right":{"Literal":{"Scalar":{"dtype":{"Decimal":[null,3]},"value":{"Decimal":[1250,3]}}}}}}"#,
                r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Lt","right":{"Literal":{"Scalar":{"Decimal":[1250,38,3]}}}}}"#,
            ),
        ];
        for (old, new) in pairs {
            let parsed = parse(new, &schema);
            assert!(parsed.is_some(), "{new}");
            assert_eq!(parse(old, &schema), parsed, "{old}");
        }
        let Some(Filter::Compare { value, .. }) = parse(pairs[2].1, &schema) else { unreachable!() };
        assert_eq!(value.dtype(), &DataType::Decimal(10, 2));
        assert_eq!(value.decimal().unwrap().physical().get(0), Some(-942250));
        // A literal with more digits than the column's scale, or past its precision: Polars'.
        let finer = r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Lt","right":{"Literal":{"Scalar":{"Decimal":[1255,38,3]}}}}}"#;
        assert_eq!(parse(finer, &schema), None);
        let wide = r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Gt","right":{"Cast":{"expr":{"Literal":{"Scalar":{"String":"123456789.5"}}},"dtype":{"Literal":{"Decimal":[10,2]}},"options":"Strict"}}}}"#;
        assert_eq!(parse(wide, &schema), None);
    }

    #[test]
    fn what_is_not_known_is_left_to_polars() {
        let refused = [
            // A decimal of the wrong scale, an arithmetic expression, a column against a column, a regex.
            r#"{"BinaryExpr":{"left":{"Column":"m"},"op":"Lt","right":{"Literal":{"Scalar":{"Decimal":[1255,38,3]}}}}}"#,
            r#"{"BinaryExpr":{"left":{"BinaryExpr":{"left":{"Column":"count"},"op":"Multiply","right":{"Literal":{"Dyn":{"Int":2}}}}},"op":"Lt","right":{"Literal":{"Dyn":{"Int":5}}}}}"#,
            r#"{"BinaryExpr":{"left":{"Column":"count"},"op":"Lt","right":{"Column":"count"}}}"#,
            r#"{"Function":{"input":[{"Column":"s"},{"Literal":{"Scalar":{"String":"a.c"}}}],"function":{"StringExpr":{"Contains":{"literal":false,"strict":true}}}}}"#,
            // A column not in the schema, a non-Boolean column alone, a half the reader takes.
            r#"{"Function":{"input":[{"Column":"zz"}],"function":{"Boolean":"IsNull"}}}"#,
            r#"{"Column":"count"}"#,
            r#"{"BinaryExpr":{"left":{"Column":"b"},"op":"And","right":{"Column":"zz"}}}"#,
            "not json",
        ];
        for json in refused {
            assert_eq!(parse(json, &schema()), None, "{json}");
        }
    }

    /// An `is_in` of the column `column` and a list literal (`list`, the JSON of one).
    fn is_in_json(column: &str, list: &str, nulls_equal: bool) -> String {
        format!(
            r#"{{"Function":{{"input":[{{"Column":"{column}"}},{list}],"function":{{"Boolean":{{"IsIn":{{"nulls_equal":{nulls_equal}}}}}}}}}}}"#
        )
    }

    /// The forms of a list literal of `values`: 2.x's, 1.x's with its type, and a named Series.
    fn list_forms(values: &Series) -> [String; 3] {
        let bytes = serde_json::to_string(&values.serialize_to_bytes().unwrap()).unwrap();
        [
            format!(r#"{{"Literal":{{"Scalar":{{"List":{bytes}}}}}}}"#),
            format!(r#"{{"Literal":{{"Scalar":{{"dtype":{{"List":"Int64"}},"value":{{"List":{bytes}}}}}}}}}"#),
            format!(r#"{{"Alias":[{{"Literal":{{"Scalar":{{"List":{bytes}}}}}}},""]}}"#),
        ]
    }

    #[test]
    fn is_in_takes_the_lists_of_the_columns_type() {
        let schema =
            Schema::from_iter([Field::new("count".into(), DataType::Int32), Field::new("f".into(), DataType::Float64)]);
        let wide = Series::new("".into(), [Some(5i64), None, Some(1 << 40)]);
        for form in list_forms(&wide) {
            let Some(Filter::IsIn { values, null, .. }) = parse(&is_in_json("count", &form, true), &schema) else {
                panic!("{form}")
            };
            // Past Int32: in no row. The null is kept apart.
            assert_eq!((values.dtype(), values.len(), null), (&DataType::Int32, 1, Some(true)), "{form}");
        }
        let [form, ..] = list_forms(&wide);
        assert_eq!(parse(&is_in_json("f", &form, false), &schema), None, "ints for floats: Polars'");
        let not_a_stream = r#"{"Literal":{"Scalar":{"List":[1,2,3]}}}"#;
        assert_eq!(parse(&is_in_json("count", not_a_stream, true), &schema), None, "bytes not read: Polars'");
        let [nan, ..] = list_forms(&Series::new("".into(), [1.0f64, f64::NAN]));
        assert_eq!(parse(&is_in_json("f", &nan, false), &schema), None, "NaN: Polars'");
        let decimals = Schema::from_iter([Field::new("m".into(), DataType::Decimal(4, 2))]);
        let list = Int128Chunked::from_vec("".into(), vec![1250, 99999, 5]).into_decimal_unchecked(38, 2).into_series();
        let [form, ..] = list_forms(&list);
        let Some(Filter::IsIn { values, .. }) = parse(&is_in_json("m", &form, false), &decimals) else {
            panic!("decimals")
        };
        assert_eq!(values.dtype(), &DataType::Decimal(4, 2));
        assert_eq!(values.decimal().unwrap().physical().into_no_null_iter().collect::<Vec<_>>(), [1250, 5]);
        let [finer, ..] = list_forms(&list.cast(&DataType::Decimal(38, 3)).unwrap());
        assert_eq!(parse(&is_in_json("m", &finer, false), &decimals), None);
        let [floats, ..] = list_forms(&Series::new("".into(), [1.0f64]));
        let Some(Filter::IsIn { null, .. }) = parse(&is_in_json("f", &floats, false), &schema) else {
            panic!("floats")
        };
        assert_eq!(null, None);
    }

    /// `pl.col("a").is_in([1, 2, 3]).meta.serialize(format="json")` of Python Polars 2.1.
    const PYTHON_2_1_IS_IN: &str = r#"{"Function":{"input":[{"Column":"a"},{"Literal":{"Scalar":{"List":[255,255,255,255,184,0,0,0,4,0,0,0,242,255,255,255,20,0,0,0,4,0,1,0,0,0,10,0,11,0,8,0,10,0,4,0,242,255,255,255,72,0,0,0,16,0,0,0,0,0,10,0,12,0,0,0,4,0,8,0,1,0,0,0,4,0,0,0,244,255,255,255,24,0,0,0,12,0,0,0,8,0,12,0,4,0,8,0,3,0,0,0,91,48,93,0,9,0,0,0,95,80,76,95,70,76,65,71,83,0,0,0,1,0,0,0,4,0,0,0,236,255,255,255,56,0,0,0,32,0,0,0,24,0,0,0,1,2,0,0,16,0,18,0,4,0,16,0,17,0,8,0,0,0,12,0,0,0,0,0,244,255,255,255,64,0,0,0,1,0,0,0,8,0,9,0,4,0,8,0,0,0,0,0,0,0,0,0,0,0,0,0,255,255,255,255,128,0,0,0,4,0,0,0,236,255,255,255,64,0,0,0,0,0,0,0,20,0,0,0,4,0,3,0,12,0,19,0,16,0,18,0,12,0,4,0,234,255,255,255,3,0,0,0,0,0,0,0,60,0,0,0,16,0,0,0,0,0,10,0,20,0,4,0,12,0,16,0,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,24,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,2,0,0,0,0,0,0,0,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,255,255,255,255,0,0,0,0]}}}],"function":{"Boolean":{"IsIn":{"nulls_equal":false}}}}}"#;
    /// The same of Python Polars 1.30.
    const PYTHON_1_30_IS_IN: &str = r#"{"Function":{"input":[{"Column":"a"},{"Literal":{"Scalar":{"dtype":{"List":"Int64"},"value":{"List":[255,255,255,255,184,0,0,0,4,0,0,0,242,255,255,255,20,0,0,0,4,0,1,0,0,0,10,0,11,0,8,0,10,0,4,0,242,255,255,255,72,0,0,0,16,0,0,0,0,0,10,0,12,0,0,0,4,0,8,0,1,0,0,0,4,0,0,0,244,255,255,255,24,0,0,0,12,0,0,0,8,0,12,0,4,0,8,0,3,0,0,0,91,48,93,0,9,0,0,0,95,80,76,95,70,76,65,71,83,0,0,0,1,0,0,0,4,0,0,0,236,255,255,255,56,0,0,0,32,0,0,0,24,0,0,0,1,2,0,0,16,0,18,0,4,0,16,0,17,0,8,0,0,0,12,0,0,0,0,0,244,255,255,255,64,0,0,0,1,0,0,0,8,0,9,0,4,0,8,0,0,0,0,0,0,0,0,0,0,0,0,0,255,255,255,255,136,0,0,0,4,0,0,0,236,255,255,255,64,0,0,0,0,0,0,0,20,0,0,0,4,0,3,0,12,0,19,0,16,0,18,0,12,0,4,0,230,255,255,255,3,0,0,0,0,0,0,0,64,0,0,0,20,0,0,0,0,0,0,0,0,0,10,0,20,0,4,0,12,0,16,0,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,24,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,0,0,0,0,2,0,0,0,0,0,0,0,3,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,255,255,255,255,0,0,0,0]}}}}],"function":{"Boolean":{"IsIn":{"nulls_equal":false}}},"options":{"check_lengths":true,"flags":"ALLOW_GROUP_AWARE | ROW_SEPARABLE | LENGTH_PRESERVING"}}}"#;

    /// `pl.col("a").is_in([1, 2, 3])` as Python Polars 2.1 and 1.30 serialize it: their list
    /// literals' Arrow IPC streams are read here.
    #[test]
    fn the_lists_python_polars_writes_are_read() {
        let schema = Schema::from_iter([Field::new("a".into(), DataType::Int64)]);
        for json in [PYTHON_2_1_IS_IN, PYTHON_1_30_IS_IN] {
            let Some(Filter::IsIn { values, .. }) = parse(json, &schema) else { panic!("{json}") };
            assert_eq!(values.i64().unwrap().into_no_null_iter().collect::<Vec<_>>(), [1, 2, 3]);
        }
    }

    #[test]
    fn list_functions_of_both_forms() {
        let schema = Schema::from_iter([Field::new("l".into(), DataType::List(Box::new(DataType::Int32)))]);
        let options =
            r#","options":{"check_lengths":true,"flags":"ALLOW_GROUP_AWARE | ROW_SEPARABLE | LENGTH_PRESERVING"}"#;
        let len = |o: &str| {
            format!(
                r#"{{"BinaryExpr":{{"left":{{"Function":{{"input":[{{"Column":"l"}}],"function":{{"ListExpr":"Length"}}{o}}}}},"op":"Gt","right":{{"Literal":{{"Dyn":{{"Int":0}}}}}}}}}}"#
            )
        };
        let Some(Filter::Compare { column, value, .. }) = parse(&len(""), &schema) else { panic!("len") };
        assert_eq!((column.derived, value.dtype()), (Some(Derived::ListLen), &IDX_DTYPE));
        assert_eq!(parse(&len(options), &schema), parse(&len(""), &schema));
        let get = |on_oob: bool| {
            format!(
                r#"{{"BinaryExpr":{{"left":{{"Function":{{"input":[{{"Column":"l"}},{{"Literal":{{"Dyn":{{"Int":-1}}}}}}],"function":{{"ListExpr":{{"Get":{on_oob}}}}}}}}},"op":"Eq","right":{{"Literal":{{"Dyn":{{"Int":99}}}}}}}}}}"#
            )
        };
        let Some(Filter::Compare { column, value, .. }) = parse(&get(true), &schema) else { panic!("get") };
        assert_eq!((column.derived, value.dtype()), (Some(Derived::ListGet(-1)), &DataType::Int32));
        assert_eq!(parse(&get(false), &schema), None, "raising past the ends: Polars'");
        let contains = |value: &str| {
            format!(
                r#"{{"Function":{{"input":[{{"Column":"l"}},{{"Literal":{value}}}],"function":{{"ListExpr":{{"Contains":{{"nulls_equal":true}}}}}}}}}}"#
            )
        };
        let Some(Filter::ListContains { value, .. }) = parse(&contains(r#"{"Dyn":{"Int":72}}"#), &schema) else {
            panic!("contains")
        };
        assert_eq!(value.dtype(), &DataType::Int32);
        assert_eq!(parse(&contains(r#"{"Dyn":{"Float":7.5}}"#), &schema), None, "a float for ints: Polars'");
        assert_eq!(parse(&contains(r#"{"Scalar":{"Null":"Int32"}}"#), &schema), None, "a null: Polars'");
    }

    #[test]
    fn an_enum_takes_a_category_as_its_position() {
        let dtype =
            DataType::from_frozen_categories(polars_core::prelude::FrozenCategories::new(["low", "high"]).unwrap());
        let schema = Schema::from_iter([Field::new("e".into(), dtype)]);
        let eq = |s: &str| {
            format!(
                r#"{{"BinaryExpr":{{"left":{{"Column":"e"}},"op":"Lt","right":{{"Literal":{{"Scalar":{{"String":"{s}"}}}}}}}}}}"#
            )
        };
        let Some(Filter::Compare { value, cast, .. }) = parse(&eq("high"), &schema) else { panic!("high") };
        assert_eq!((cast, value.dtype(), value.u8().unwrap().get(0)), (false, &DataType::UInt8, Some(1)));
        assert_eq!(parse(&eq("medium"), &schema), None, "not a category: Polars'");
    }

    #[test]
    fn struct_fields_between_and_constants() {
        let modulo = r#"{"BinaryExpr":{"left":{"BinaryExpr":{"left":{"Column":"count"},"op":"Modulus","right":{"Literal":{"Dyn":{"Int":3}}}}},"op":"Eq","right":{"Literal":{"Dyn":{"Int":0}}}}}"#;
        let Some(Filter::Compare { column, .. }) = parse(modulo, &schema()) else { panic!("{modulo}") };
        assert!(matches!(column.derived, Some(Derived::Modulo(m)) if m.dtype() == &DataType::Int32));
        let typed = r#"{"BinaryExpr":{"left":{"BinaryExpr":{"left":{"Column":"count"},"op":"Modulus","right":{"Literal":{"Scalar":{"Int32":3}}}}},"op":"Eq","right":{"Literal":{"Scalar":{"Int32":0}}}}}"#;
        assert_eq!(parse(typed, &schema()), parse(modulo, &schema()), "as Polars hands it, after its casts");
        let by_zero = modulo.replace(r#"{"Int":3}"#, r#"{"Int":0}"#);
        assert_eq!(parse(&by_zero, &schema()), None, "Polars' null for % 0");
        let field = r#"{"BinaryExpr":{"left":{"Function":{"input":[{"Column":"st"}],"function":{"StructExpr":{"FieldByName":"x"}}}},"op":"Gt","right":{"Literal":{"Dyn":{"Int":3}}}}}"#;
        let Some(Filter::Compare { column, .. }) = parse(field, &schema()) else { panic!("{field}") };
        assert_eq!((column.fields.len(), column.dtype), (1, DataType::Int64));
        let between = r#"{"Function":{"input":[{"Column":"count"},{"Literal":{"Dyn":{"Int":1}}},{"Literal":{"Dyn":{"Int":5}}}],"function":{"Boolean":{"IsBetween":{"closed":"Left"}}}}}"#;
        let Some(Filter::And(low, high)) = parse(between, &schema()) else { panic!("{between}") };
        assert!(matches!(
            (*low, *high),
            (Filter::Compare { op: CmpOp::GtEq, .. }, Filter::Compare { op: CmpOp::Lt, .. })
        ));
        let f32_between = r#"{"Function":{"input":[{"Column":"f"},{"Literal":{"Dyn":{"Float":0.1}}},{"Literal":{"Dyn":{"Int":5}}}],"function":{"Boolean":{"IsBetween":{"closed":"Both"}}}}}"#;
        assert_eq!(parse(f32_between, &schema()), None, "1.39 and 1.40 compare in Float64, others in Float32");
        let null_1_30 = r#"{"Cast":{"expr":{"Literal":{"Scalar":{"dtype":"Null","value":"Null"}}},"dtype":"Boolean","options":"Strict"}}"#;
        assert_eq!(parse(null_1_30, &schema()), Some(Filter::Const(None)));
        assert_eq!(parse(r#"{"Literal":{"Scalar":{"Null":"Boolean"}}}"#, &schema()), Some(Filter::Const(None)));
        assert_eq!(parse(r#"{"Literal":{"Scalar":{"Boolean":true}}}"#, &schema()), Some(Filter::Const(Some(true))));
    }
}
