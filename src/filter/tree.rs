//! The filter tree, and its evaluation over a decoded frame by Kleene's logic.

use polars_arrow::bitmap::Bitmap;
use polars_core::prelude::{
    BooleanChunked, ChunkCompareEq, ChunkCompareIneq, DataFrame, DataType, PlSmallStr, PolarsResult, Series,
};

use crate::error::{AvroError, AvroResult};

/// A predicate the reader evaluates: true, false or null per row.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The same for every row (`pl.lit(True)`; None: a null).
    Const(Option<bool>),
    /// A Boolean column as it is.
    Column(ColumnPath),
    /// A column compared with a literal.
    Compare {
        /// The column.
        column: ColumnPath,
        /// Whether the column is cast to the literal's type first (else it has that type).
        cast: bool,
        /// The comparison.
        op: CmpOp,
        /// The literal: one value, of the type the comparison is made in.
        value: Series,
    },
    /// Holds where the value is null.
    IsNull(ColumnPath),
    /// Holds where the value is not null.
    IsNotNull(ColumnPath),
    /// A String column tested against a literal pattern.
    Text {
        /// The column.
        column: ColumnPath,
        /// The test.
        test: TextTest,
        /// The pattern, matched as it is (not a regular expression).
        pattern: String,
    },
    /// Holds where the filter fails (null where it is null).
    Not(Box<Filter>),
    /// Holds where both hold; fails where either fails.
    And(Box<Filter>, Box<Filter>),
    /// Holds where either holds; fails where both fail.
    Or(Box<Filter>, Box<Filter>),
}

/// A column of the frame, or a field of a struct column (`pl.col("s").struct.field("x")`),
/// or either modulo a positive integer (`pl.col("id") % 3`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPath {
    /// The frame's column.
    pub name: PlSmallStr,
    /// Struct fields below the column, outermost first.
    pub fields: Vec<PlSmallStr>,
    /// The type of the value the path leads to.
    pub dtype: DataType,
    /// A positive integer the value is taken modulo (Polars' `%`, floored), of its type.
    pub modulo: Option<Series>,
}

/// Polars' comparison operators; the `Missing` ones treat a null as a value (`eq_missing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `eq_missing`: nulls equal each other, and nothing else.
    EqMissing,
    /// `ne_missing`.
    NotEqMissing,
}

impl CmpOp {
    /// The operator with its sides swapped (`5 > x` is `x < 5`).
    pub fn flipped(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::LtEq => Self::GtEq,
            Self::Gt => Self::Lt,
            Self::GtEq => Self::LtEq,
            same => same,
        }
    }
}

/// `str.starts_with`, `str.ends_with` and `str.contains(..., literal=True)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextTest {
    /// `str.starts_with`
    StartsWith,
    /// `str.ends_with`
    EndsWith,
    /// `str.contains(..., literal=True)`
    Contains,
}

/// Where a predicate holds and where it fails; rows in neither are null. Kleene's logic is
/// then two bitmap operations per `&` or `|`, and a swap for `~`.
struct Truth {
    holds: Bitmap,
    fails: Bitmap,
}

impl Truth {
    fn constant(value: Option<bool>, rows: usize) -> Self {
        Self {
            holds: Bitmap::new_with_value(value == Some(true), rows),
            fails: Bitmap::new_with_value(value == Some(false), rows),
        }
    }

    /// A Boolean column's truth, none where `outer` (a struct's validity) is unset.
    fn of(values: &BooleanChunked, outer: Option<&Bitmap>) -> Self {
        let values = values.rechunk();
        let rows = values.len();
        let (set, valid) = match values.downcast_iter().next() {
            Some(array) => (array.values().clone(), array.validity().cloned()),
            None => (Bitmap::new_zeroed(rows), None),
        };
        let valid = both(valid.as_ref(), outer);
        match valid {
            Some(valid) => Self { holds: &set & &valid, fails: &!&set & &valid },
            None => Self { fails: !&set, holds: set },
        }
    }

    /// Null checks: `null` holds where the value is null (its struct's too).
    fn of_nulls(valid: Option<Bitmap>, rows: usize, null: bool) -> Self {
        let valid = valid.unwrap_or_else(|| Bitmap::new_with_value(true, rows));
        let invalid = !&valid;
        if null {
            Self { holds: invalid, fails: valid }
        } else {
            Self { holds: valid, fails: invalid }
        }
    }
}

/// The rows set in both validities (None: all of them).
fn both(a: Option<&Bitmap>, b: Option<&Bitmap>) -> Option<Bitmap> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a & b),
        (Some(v), None) | (None, Some(v)) => Some(v.clone()),
        (None, None) => None,
    }
}

impl Filter {
    /// The columns of the frame the filter reads, each once.
    pub fn columns(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.visit_columns(&mut |name| {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        });
        names
    }

    fn visit_columns(&self, found: &mut impl FnMut(&str)) {
        match self {
            Self::Const(_) => {},
            Self::Column(c) | Self::IsNull(c) | Self::IsNotNull(c) => found(&c.name),
            Self::Compare { column, .. } | Self::Text { column, .. } => found(&column.name),
            Self::Not(f) => f.visit_columns(found),
            Self::And(a, b) | Self::Or(a, b) => {
                a.visit_columns(found);
                b.visit_columns(found);
            },
        }
    }

    /// The rows of `df` the filter keeps (true, not null), one bit per row.
    pub fn mask(&self, df: &DataFrame) -> AvroResult<Bitmap> {
        Ok(self.truth(df)?.holds)
    }

    fn truth(&self, df: &DataFrame) -> AvroResult<Truth> {
        let rows = df.height();
        Ok(match self {
            Self::Const(value) => Truth::constant(*value, rows),
            Self::Column(path) => {
                let (values, outer) = path.resolve(df)?;
                Truth::of(values.bool()?, outer.as_ref())
            },
            Self::Compare { column, cast, op, value } => {
                let (values, outer) = column.resolve(df)?;
                let values = if *cast { values.cast(value.dtype())? } else { values };
                let compared = compare(&values, *op, value)?;
                match (op, outer) {
                    // A field of a null struct is a null, which `eq_missing` compares too:
                    // unequal to the literal (never a null itself).
                    (CmpOp::EqMissing | CmpOp::NotEqMissing, Some(outer)) => {
                        let Truth { holds, fails } = Truth::of(&compared, None);
                        let (holds, fails, nulls) = (&holds & &outer, &fails & &outer, !&outer);
                        if *op == CmpOp::EqMissing {
                            Truth { holds, fails: &fails | &nulls }
                        } else {
                            Truth { holds: &holds | &nulls, fails }
                        }
                    },
                    (_, outer) => Truth::of(&compared, outer.as_ref()),
                }
            },
            Self::IsNull(path) | Self::IsNotNull(path) => {
                let (values, outer) = path.resolve(df)?;
                let valid = both(values.rechunk_validity().as_ref(), outer.as_ref());
                Truth::of_nulls(valid, rows, matches!(self, Self::IsNull(_)))
            },
            Self::Text { column, test, pattern } => {
                let (values, outer) = column.resolve(df)?;
                let tested: BooleanChunked = values
                    .str()?
                    .iter()
                    .map(|v| {
                        v.map(|s| match test {
                            TextTest::StartsWith => s.starts_with(pattern.as_str()),
                            TextTest::EndsWith => s.ends_with(pattern.as_str()),
                            TextTest::Contains => s.contains(pattern.as_str()),
                        })
                    })
                    .collect();
                Truth::of(&tested, outer.as_ref())
            },
            Self::Not(inner) => {
                let Truth { holds, fails } = inner.truth(df)?;
                Truth { holds: fails, fails: holds }
            },
            Self::And(a, b) => {
                let (a, b) = (a.truth(df)?, b.truth(df)?);
                Truth { holds: &a.holds & &b.holds, fails: &a.fails | &b.fails }
            },
            Self::Or(a, b) => {
                let (a, b) = (a.truth(df)?, b.truth(df)?);
                Truth { holds: &a.holds | &b.holds, fails: &a.fails & &b.fails }
            },
        })
    }
}

fn compare(values: &Series, op: CmpOp, value: &Series) -> PolarsResult<BooleanChunked> {
    match op {
        CmpOp::Eq => values.equal(value),
        CmpOp::NotEq => values.not_equal(value),
        CmpOp::Lt => values.lt(value),
        CmpOp::LtEq => values.lt_eq(value),
        CmpOp::Gt => values.gt(value),
        CmpOp::GtEq => values.gt_eq(value),
        CmpOp::EqMissing => values.equal_missing(value),
        CmpOp::NotEqMissing => values.not_equal_missing(value),
    }
}

impl ColumnPath {
    /// The values the path leads to in `df`, and the validity of the structs above them
    /// (a field of a null struct is null; None: no struct, or none null).
    fn resolve(&self, df: &DataFrame) -> AvroResult<(Series, Option<Bitmap>)> {
        let mut values = df.column(&self.name)?.as_materialized_series().clone();
        let mut outer: Option<Bitmap> = None;
        for field in &self.fields {
            let validity = values.rechunk_validity();
            outer = both(outer.as_ref(), validity.as_ref());
            values = values.struct_()?.field_by_name(field)?;
        }
        if values.dtype() != &self.dtype {
            // The plan's types are the reader's: a difference is this package's bug.
            return Err(AvroError::internal(format!(
                "the filter expected {} of type {}, the reader decoded {}",
                self.describe(),
                self.dtype,
                values.dtype()
            )));
        }
        let values = match &self.modulo {
            Some(modulo) => (&values % modulo)?,
            None => values,
        };
        Ok((values, outer))
    }

    fn describe(&self) -> String {
        std::iter::once(self.name.as_str()).chain(self.fields.iter().map(|f| f.as_str())).collect::<Vec<_>>().join(".")
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{Column, IntoColumn, IntoSeries, NamedFrom};

    use super::*;

    fn frame() -> DataFrame {
        let a = Series::new("a".into(), [Some(1i32), None, Some(3), Some(4)]);
        let b = Series::new("b".into(), [Some(true), Some(false), None, Some(true)]);
        let s = Series::new("s".into(), [Some("apple"), Some("banana"), None, Some("grape")]);
        DataFrame::new(4, vec![a.into_column(), b.into_column(), s.into_column()]).unwrap()
    }

    fn path(name: &str, dtype: DataType) -> ColumnPath {
        ColumnPath { name: name.into(), fields: Vec::new(), dtype, modulo: None }
    }

    fn a_gt(n: i32) -> Filter {
        let value = Series::new("literal".into(), [n]);
        Filter::Compare { column: path("a", DataType::Int32), cast: false, op: CmpOp::Gt, value }
    }

    fn rows(filter: &Filter) -> Vec<bool> {
        filter.mask(&frame()).unwrap().iter().collect()
    }

    #[test]
    fn a_comparison_with_a_null_keeps_nothing_nor_does_its_negation() {
        assert_eq!(rows(&a_gt(2)), [false, false, true, true]);
        assert_eq!(rows(&Filter::Not(Box::new(a_gt(2)))), [true, false, false, false]);
    }

    #[test]
    fn and_or_follow_kleene_logic() {
        let b = Filter::Column(path("b", DataType::Boolean));
        let null = Filter::Const(None);
        // null & false is false, so its negation keeps the row; null | true is true.
        let and = Filter::And(Box::new(null.clone()), Box::new(b.clone()));
        assert_eq!(rows(&Filter::Not(Box::new(and))), [false, true, false, false]);
        let or = Filter::Or(Box::new(null), Box::new(b.clone()));
        assert_eq!(rows(&or), [true, false, false, true]);
        let either = Filter::Or(Box::new(a_gt(3)), Box::new(Filter::Not(Box::new(b))));
        assert_eq!(rows(&either), [false, true, false, true]);
    }

    #[test]
    fn null_checks_and_text_tests() {
        assert_eq!(rows(&Filter::IsNull(path("a", DataType::Int32))), [false, true, false, false]);
        assert_eq!(rows(&Filter::IsNotNull(path("s", DataType::String))), [true, true, false, true]);
        let text =
            |test, pattern: &str| Filter::Text { column: path("s", DataType::String), test, pattern: pattern.into() };
        assert_eq!(rows(&text(TextTest::StartsWith, "ba")), [false, true, false, false]);
        assert_eq!(rows(&text(TextTest::EndsWith, "e")), [true, false, false, true]);
        assert_eq!(rows(&Filter::Not(Box::new(text(TextTest::Contains, "ap")))), [false, true, false, false]);
    }

    #[test]
    fn a_field_of_a_null_struct_is_null() {
        let x = Series::new("x".into(), [Some(1i64), Some(2), Some(3)]);
        let mut st = polars_core::prelude::StructChunked::from_series("st".into(), 3, [x].iter()).unwrap();
        st = st.with_outer_validity(Some(Bitmap::from_iter([true, false, true])));
        let df = DataFrame::new(3, vec![Column::from(st.into_series())]).unwrap();
        let field = ColumnPath { name: "st".into(), fields: vec!["x".into()], dtype: DataType::Int64, modulo: None };
        let gt = Filter::Compare {
            column: field.clone(),
            cast: false,
            op: CmpOp::Gt,
            value: Series::new("literal".into(), [0i64]),
        };
        assert_eq!(Filter::Not(Box::new(gt)).mask(&df).unwrap().iter().collect::<Vec<_>>(), [false, false, false]);
        assert_eq!(Filter::IsNull(field).mask(&df).unwrap().iter().collect::<Vec<_>>(), [false, true, false]);
    }

    #[test]
    fn eq_missing_takes_a_field_of_a_null_struct_for_a_null() {
        let x = Series::new("x".into(), [Some(3i64), Some(2), Some(3)]);
        let st = polars_core::prelude::StructChunked::from_series("st".into(), 3, [x].iter())
            .unwrap()
            .with_outer_validity(Some(Bitmap::from_iter([true, true, false])));
        let df = DataFrame::new(3, vec![Column::from(st.into_series())]).unwrap();
        let field = ColumnPath { name: "st".into(), fields: vec!["x".into()], dtype: DataType::Int64, modulo: None };
        let three = Series::new("literal".into(), [3i64]);
        let compare = |op| Filter::Compare { column: field.clone(), cast: false, op, value: three.clone() };
        let rows = |f: Filter| f.mask(&df).unwrap().iter().collect::<Vec<_>>();
        assert_eq!(rows(compare(CmpOp::EqMissing)), [true, false, false]);
        assert_eq!(rows(compare(CmpOp::NotEqMissing)), [false, true, true]);
        assert_eq!(rows(Filter::Not(Box::new(compare(CmpOp::EqMissing)))), [false, true, true]);
    }

    #[test]
    fn a_modulo_is_floored_as_polars_takes_it() {
        let a = Series::new("a".into(), [Some(-7i64), Some(7), None, Some(i64::MIN)]);
        let df = DataFrame::new(4, vec![a.into_column()]).unwrap();
        let mut column = path("a", DataType::Int64);
        column.modulo = Some(Series::new("literal".into(), [3i64]));
        let is = |n: i64| Filter::Compare {
            column: column.clone(),
            cast: false,
            op: CmpOp::Eq,
            value: Series::new("literal".into(), [n]),
        };
        let rows = |f: Filter| f.mask(&df).unwrap().iter().collect::<Vec<_>>();
        // -7 % 3 is 2 (not -1), i64::MIN % 3 is 1; a null stays null.
        assert_eq!(rows(is(2)), [true, false, false, false]);
        assert_eq!(rows(is(1)), [false, true, false, true]);
        assert_eq!(rows(Filter::Not(Box::new(is(2)))), [false, true, false, true]);
    }

    #[test]
    fn a_column_of_another_type_than_planned_is_an_internal_error() {
        let wrong = Filter::IsNull(path("a", DataType::Int64));
        let message = wrong.mask(&frame()).unwrap_err().to_string();
        assert!(message.contains("the filter expected a of type i64, the reader decoded i32"), "{message}");
    }

    #[test]
    fn the_columns_are_named_once() {
        let both =
            Filter::And(Box::new(a_gt(1)), Box::new(Filter::Or(Box::new(a_gt(2)), Box::new(Filter::Const(None)))));
        assert_eq!(both.columns(), ["a"]);
    }
}
