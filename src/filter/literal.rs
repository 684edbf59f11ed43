//! A filter's literal, and the type Polars compares a column with it in: an untyped number
//! takes the column's type where it fits exactly, typed numbers the wider of the two types,
//! a decimal the column's scale where no digit is lost, an Enum's string its category's
//! position; any other pair of types is Polars' to decide (None).

use polars_core::prelude::{
    DataType, Int128Chunked, Int32Chunked, Int64Chunked, IntoSeries, NamedFrom, PlSmallStr, Series, TimeUnit,
};

/// A literal as the expression gives it: untyped (`Dyn`, a Python int or float, which Polars
/// casts to the column's type) or of a type.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    DynInt(i128),
    DynFloat(f64),
    Int(i128, DataType),
    Float(f64, DataType),
    Bool(bool),
    String(String),
    Binary(Vec<u8>),
    Date(i32),
    /// Nanoseconds since midnight.
    Time(i64),
    Duration(i64, TimeUnit),
    /// An unscaled value and its scale (digits after the point).
    Decimal(i128, usize),
    Datetime(i64, TimeUnit, Option<String>),
    Null(DataType),
}

/// A float literal of a float type: a Float32 one holds the nearest f32 (JSON writes its
/// shortest decimal form), which is what Polars widens when it compares in Float64.
pub fn float(x: f64, dtype: DataType) -> Literal {
    let x = if dtype == DataType::Float32 { f64::from(x as f32) } else { x };
    Literal::Float(x, dtype)
}

/// A literal cast as 1.x writes typed literals: an untyped number to a number type, a null
/// to a type, a UTC datetime to the naive one of the same value. Any other cast: None.
pub fn cast(inner: Literal, dtype: &DataType) -> Option<Literal> {
    match (inner, dtype) {
        (Literal::DynInt(n), d) if d.is_integer() => Some(Literal::Int(n, d.clone())),
        (Literal::DynInt(n), d) if d.is_float() => Some(float(n as f64, d.clone())),
        (Literal::DynFloat(x), d) if d.is_float() => Some(float(x, d.clone())),
        (Literal::Null(DataType::Null), d) => Some(Literal::Null(d.clone())),
        (Literal::String(text), DataType::Decimal(precision, scale)) => {
            let value = decimal_text(&text, *scale)?;
            fits_precision(value, *precision).then_some(Literal::Decimal(value, *scale))
        },
        (Literal::Datetime(v, unit, Some(zone)), DataType::Datetime(u, None)) if zone == "UTC" && *u == unit => {
            Some(Literal::Datetime(v, unit, None))
        },
        _ => None,
    }
}

/// The literal as a one-value Series of the type the comparison is made in, and whether the
/// column is cast to it: None where Polars would compare in a type not handled here.
pub fn comparison(column: &DataType, literal: &Literal) -> Option<(bool, Series)> {
    let name = PlSmallStr::from_static("literal");
    let of = |dtype: &DataType, cast: bool, value: Series| value.cast(dtype).ok().map(|v| (cast, v));
    match literal {
        // An untyped int takes the column's type where it fits there exactly.
        Literal::DynInt(n) if column.is_integer() => {
            fits(*n, column).then(|| int_series(*n, column))?.map(|s| (false, s))
        },
        Literal::DynInt(n) if column.is_float() => {
            let exact = if *column == DataType::Float32 { 1i128 << 24 } else { 1i128 << 53 };
            (n.abs() <= exact).then(|| of(column, false, Series::new(name, [*n as f64])))?
        },
        // An untyped float takes a float column's type, and makes an integer one Float64.
        Literal::DynFloat(x) if *column == DataType::Float32 => {
            (x.abs() <= f64::from(f32::MAX)).then(|| (false, Series::new(name, [*x as f32])))
        },
        Literal::DynFloat(x) if *column == DataType::Float64 => Some((false, Series::new(name, [*x]))),
        Literal::DynFloat(x) if column.is_integer() => Some((true, Series::new(name, [*x]))),
        // Typed numbers: the wider of two integer types of one signedness, the wider float.
        Literal::Int(n, dtype) if column.is_integer() && column.is_signed_integer() == dtype.is_signed_integer() => {
            let wider = if dtype_bits(dtype) > dtype_bits(column) { dtype } else { column };
            int_series(*n, wider).map(|s| (wider != column, s))
        },
        Literal::Float(x, dtype) if column.is_float() || (column.is_integer() && *dtype == DataType::Float64) => {
            let wider = if *dtype == DataType::Float64 || column.is_integer() { &DataType::Float64 } else { column };
            let value =
                if *wider == DataType::Float32 { Series::new(name, [*x as f32]) } else { Series::new(name, [*x]) };
            Some((wider != column, value))
        },
        Literal::Bool(b) if *column == DataType::Boolean => Some((false, Series::new(name, [*b]))),
        Literal::String(s) if *column == DataType::String => Some((false, Series::new(name, [s.as_str()]))),
        // An Enum compares in its categories' order: the literal as its category's position,
        // of the Enum's physical type, which the reader compares an Enum's values in
        // (ColumnPath::resolve). A string not among the categories is Polars' (1.x refuses
        // it, 2.x finds every value unequal).
        Literal::String(s) if matches!(column, DataType::Enum(..)) => {
            let DataType::Enum(categories, _) = column else { return None };
            let position = categories.categories().values_iter().position(|c| c == s)?;
            of(&column.to_physical(), false, Series::new(name, [u32::try_from(position).ok()?]))
        },
        Literal::Binary(b) if *column == DataType::Binary => Some((false, Series::new(name, [b.as_slice()]))),
        Literal::Date(d) if *column == DataType::Date => {
            Some((false, Int32Chunked::from_vec(name, vec![*d]).into_date().into_series()))
        },
        Literal::Time(ns) if *column == DataType::Time => {
            Some((false, Int64Chunked::from_vec(name, vec![*ns]).into_time().into_series()))
        },
        Literal::Duration(v, unit) if *column == DataType::Duration(*unit) => {
            Some((false, Int64Chunked::from_vec(name, vec![*v]).into_duration(*unit).into_series()))
        },
        // A decimal compares exactly: at the column's scale, where the literal has no more digits.
        Literal::Decimal(v, scale) => match column {
            DataType::Decimal(precision, column_scale) => {
                let v = rescaled(*v, *scale, *column_scale)?;
                Some((
                    false,
                    Int128Chunked::from_vec(name, vec![v])
                        .into_decimal_unchecked(*precision, *column_scale)
                        .into_series(),
                ))
            },
            _ => None,
        },
        Literal::Datetime(v, unit, zone) => match column {
            DataType::Datetime(u, z) if u == unit && z.as_ref().map(|z| z.as_str()) == zone.as_deref() => {
                Some((false, Int64Chunked::from_vec(name, vec![*v]).into_datetime(*u, z.clone()).into_series()))
            },
            _ => None,
        },
        _ => None,
    }
}

/// Whether a decimal's unscaled value has at most `precision` digits.
pub fn fits_precision(value: i128, precision: usize) -> bool {
    u32::try_from(precision).ok().and_then(|p| 10u128.checked_pow(p)).is_none_or(|limit| value.unsigned_abs() < limit)
}

/// A decimal's unscaled value at another scale, where no digit is lost.
fn rescaled(value: i128, from: usize, to: usize) -> Option<i128> {
    if to >= from {
        value.checked_mul(10i128.checked_pow(u32::try_from(to - from).ok()?)?)
    } else {
        let factor = 10i128.checked_pow(u32::try_from(from - to).ok()?)?;
        (value % factor == 0).then(|| value / factor)
    }
}

/// A decimal's text (`-12.5`) as an unscaled value of `scale` digits after the point, where
/// it has no more than that (a strict cast refuses more).
fn decimal_text(text: &str, scale: usize) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) || fraction.len() > scale
    {
        return None;
    }
    let unscaled: i128 = format!("{whole}{fraction:0<scale$}").parse().ok()?;
    Some(if negative { -unscaled } else { unscaled })
}

fn dtype_bits(dtype: &DataType) -> usize {
    match dtype {
        DataType::Int8 | DataType::UInt8 => 8,
        DataType::Int16 | DataType::UInt16 => 16,
        DataType::Int32 | DataType::UInt32 => 32,
        _ => 64,
    }
}

/// Whether an integer fits an integer type.
fn fits(n: i128, dtype: &DataType) -> bool {
    let (low, high): (i128, i128) = match dtype {
        DataType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DataType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DataType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        DataType::UInt8 => (0, u8::MAX.into()),
        DataType::UInt16 => (0, u16::MAX.into()),
        DataType::UInt32 => (0, u32::MAX.into()),
        DataType::UInt64 => (0, u64::MAX.into()),
        _ => return false,
    };
    (low..=high).contains(&n)
}

/// A one-value Series of an integer type, where the value fits it.
pub fn int_series(n: i128, dtype: &DataType) -> Option<Series> {
    if !fits(n, dtype) {
        return None;
    }
    let name = PlSmallStr::from_static("literal");
    let series =
        if n < 0 || n <= i128::from(i64::MAX) { Series::new(name, [n as i64]) } else { Series::new(name, [n as u64]) };
    series.cast(dtype).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_text_and_scales_keep_every_digit_or_refuse() {
        assert_eq!(decimal_text("1.5", 2), Some(150));
        assert_eq!(decimal_text("-.05", 2), Some(-5));
        assert_eq!(decimal_text("1.555", 2), None);
        assert_eq!(decimal_text("1e3", 2), None);
        assert_eq!(decimal_text(".", 2), None);
        assert_eq!(rescaled(1250, 3, 2), Some(125));
        assert_eq!(rescaled(1255, 3, 2), None);
    }

    #[test]
    fn an_untyped_int_takes_the_columns_type_where_it_fits() {
        let (cast, value) = comparison(&DataType::Int8, &Literal::DynInt(100)).unwrap();
        assert!(!cast);
        assert_eq!(value.dtype(), &DataType::Int8);
        assert_eq!(comparison(&DataType::Int8, &Literal::DynInt(300)), None);
        // Typed integers compare in the wider type: the column is cast.
        let (cast, value) = comparison(&DataType::Int16, &Literal::Int(5, DataType::Int64)).unwrap();
        assert!(cast);
        assert_eq!(value.dtype(), &DataType::Int64);
    }
}
