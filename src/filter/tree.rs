//! The filter tree, and its evaluation over a decoded frame by Kleene's logic.

use polars_arrow::bitmap::Bitmap;
use polars_arrow::offset::OffsetsBuffer;
use polars_core::prelude::{
    BooleanChunked, ChunkCompareEq, ChunkCompareIneq, DataFrame, DataType, IdxCa, IdxSize, IntoSeries, PlSmallStr,
    PolarsResult, Series,
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
    /// `is_in` of a list literal: holds where the value is one of the list's.
    IsIn {
        /// The column.
        column: ColumnPath,
        /// The list's values but its nulls, of the column's type.
        values: Series,
        /// What a null value gives: null (Polars' `nulls_equal=False`), or whether the
        /// list holds a null.
        null: Option<bool>,
    },
    /// `list.contains` of a literal: holds where the list holds the value.
    ListContains {
        /// The list column.
        column: ColumnPath,
        /// The value: one, not null, of the lists' type.
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
/// or a value derived from either (`pl.col("id") % 3`, `pl.col("tags").list.len()`).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnPath {
    /// The frame's column.
    pub name: PlSmallStr,
    /// Struct fields below the column, outermost first.
    pub fields: Vec<PlSmallStr>,
    /// The type of the value the path leads to (derived, where it is).
    pub dtype: DataType,
    /// What is computed from the value before it is tested.
    pub derived: Option<Derived>,
}

/// A value computed from a column's (or field's) before a filter tests it.
#[derive(Debug, Clone, PartialEq)]
pub enum Derived {
    /// The value modulo a positive integer of its type (Polars' `%`, floored).
    Modulo(Series),
    /// A list's length (`list.len()`), of Polars' index type.
    ListLen,
    /// A list's element at an index, counted from the end where negative, null past either
    /// end (`list.get(i, null_on_oob=True)`, `list.first()`, `list.last()`).
    ListGet(i64),
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
            Self::Compare { column, .. }
            | Self::Text { column, .. }
            | Self::IsIn { column, .. }
            | Self::ListContains { column, .. } => found(&column.name),
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
            Self::IsIn { column, values, null } => {
                let (column_values, outer) = column.resolve(df)?;
                let valid = both(column_values.rechunk_validity().as_ref(), outer.as_ref())
                    .unwrap_or_else(|| Bitmap::new_with_value(true, rows));
                let member = members(&column_values, values)?;
                let (holds, fails) = (&member & &valid, &!&member & &valid);
                match null {
                    None => Truth { holds, fails },
                    Some(true) => Truth { holds: &holds | &!&valid, fails },
                    Some(false) => Truth { holds, fails: &fails | &!&valid },
                }
            },
            Self::ListContains { column, value } => {
                let (lists, outer) = column.resolve(df)?;
                let Truth { holds, fails } = list_contains(&lists, value)?;
                match outer {
                    Some(outer) => Truth { holds: &holds & &outer, fails: &fails & &outer },
                    None => Truth { holds, fails },
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

/// A list column's single chunk: its offsets, and its values with their type.
fn list_parts(lists: &Series) -> AvroResult<(OffsetsBuffer<i64>, Series, Option<Bitmap>)> {
    let lists = lists.list()?.rechunk();
    let values = lists.get_inner();
    let array = lists.downcast_iter().next().ok_or_else(|| AvroError::internal("a list column of no chunk"))?;
    Ok((array.offsets().clone(), values, array.validity().cloned()))
}

/// Each list's length, null for a null list.
fn list_lengths(lists: &Series) -> AvroResult<Series> {
    let (offsets, _, validity) = list_parts(lists)?;
    let lengths: IdxCa = offsets
        .lengths()
        .enumerate()
        .map(|(row, length)| validity.as_ref().is_none_or(|v| v.get_bit(row)).then_some(length as IdxSize))
        .collect();
    Ok(lengths.into_series())
}

/// Each list's element at `index` (from the end where negative), null past either end.
fn list_elements(lists: &Series, index: i64) -> AvroResult<Series> {
    let (offsets, values, validity) = list_parts(lists)?;
    let taken: IdxCa = offsets
        .offset_and_length_iter()
        .enumerate()
        .map(|(row, (start, length))| {
            let at = if index < 0 { length as i64 + index } else { index };
            let valid = validity.as_ref().is_none_or(|v| v.get_bit(row));
            (valid && (0..length as i64).contains(&at)).then(|| (start as i64 + at) as IdxSize)
        })
        .collect();
    Ok(values.take(&taken)?)
}

/// Whether each list holds `value` (one value of the lists' type): null for a null list,
/// false for an empty one; a null element equals nothing.
fn list_contains(lists: &Series, value: &Series) -> AvroResult<Truth> {
    let (offsets, values, validity) = list_parts(lists)?;
    let equal = Truth::of(&values.to_physical_repr().equal(value.to_physical_repr().as_ref())?, None).holds;
    let rows = offsets.len_proxy();
    let found: Bitmap = offsets
        .offset_and_length_iter()
        .map(|(start, length)| (start..start + length).any(|i| equal.get_bit(i)))
        .collect();
    let valid = validity.unwrap_or_else(|| Bitmap::new_with_value(true, rows));
    Ok(Truth { holds: &found & &valid, fails: &!&found & &valid })
}

/// Lists longer than this are looked up in a hash set, shorter ones compared value by value.
const HASHED_FROM: usize = 8;

/// The rows of `values` (null or not) equal to one of `list` (no null, the same type).
fn members(values: &Series, list: &Series) -> AvroResult<Bitmap> {
    let rows = values.len();
    let list = list.to_physical_repr();
    let values = values.to_physical_repr();
    if list.len() > HASHED_FROM {
        if let Some(found) = hashed_members(&values, &list)? {
            return Ok(found);
        }
    }
    let mut found = Bitmap::new_zeroed(rows);
    for i in 0..list.len() {
        let equal = values.equal(&list.slice(i as i64, 1))?;
        found = &found | &Truth::of(&equal, None).holds;
    }
    Ok(found)
}

/// `members` by a hash set of the list, for the types whose equality is their bytes':
/// integers (and what is physically one), strings and binaries. None for the others.
fn hashed_members(values: &Series, list: &Series) -> AvroResult<Option<Bitmap>> {
    fn of<T: Eq + std::hash::Hash>(
        values: impl Iterator<Item = Option<T>>,
        list: impl Iterator<Item = Option<T>>,
    ) -> Bitmap {
        let set: std::collections::HashSet<T> = list.flatten().collect();
        values.map(|v| v.is_some_and(|v| set.contains(&v))).collect()
    }
    let dtype = values.dtype();
    Ok(Some(if dtype.is_integer() {
        let (values, list) = (values.cast(&DataType::Int128)?, list.cast(&DataType::Int128)?);
        of(values.i128()?.iter(), list.i128()?.iter())
    } else if *dtype == DataType::String {
        of(values.str()?.iter(), list.str()?.iter())
    } else if *dtype == DataType::Binary {
        of(values.binary()?.iter(), list.binary()?.iter())
    } else {
        return Ok(None);
    }))
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
        let decoded = values.dtype().clone();
        let values = match &self.derived {
            None => values,
            Some(Derived::Modulo(modulo)) => (&values % modulo)?,
            Some(Derived::ListLen) => list_lengths(&values)?,
            Some(Derived::ListGet(index)) => list_elements(&values, *index)?,
        };
        if values.dtype() != &self.dtype {
            // The plan's types are the reader's: a difference is this package's bug.
            return Err(AvroError::internal(format!(
                "the filter expected {} of type {}, the reader decoded {decoded}",
                self.describe(),
                self.dtype,
            )));
        }
        // An Enum's values as their categories' positions, which order them as Polars orders
        // an Enum (its literals are made so: polars_json::comparison).
        let values = match self.dtype {
            DataType::Enum(..) => values.to_physical_repr().into_owned(),
            _ => values,
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
        ColumnPath { name: name.into(), fields: Vec::new(), dtype, derived: None }
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
        let field = ColumnPath { name: "st".into(), fields: vec!["x".into()], dtype: DataType::Int64, derived: None };
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
        let field = ColumnPath { name: "st".into(), fields: vec!["x".into()], dtype: DataType::Int64, derived: None };
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
        column.derived = Some(Derived::Modulo(Series::new("literal".into(), [3i64])));
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
    fn is_in_keeps_a_null_null_unless_nulls_are_equal() {
        let is_in = |values: Series, null| Filter::IsIn { column: path("s", DataType::String), values, null };
        let list = Series::new("literal".into(), ["apple", "grape"]);
        // s: apple, banana, null, grape.
        assert_eq!(rows(&is_in(list.clone(), None)), [true, false, false, true]);
        assert_eq!(rows(&Filter::Not(Box::new(is_in(list.clone(), None)))), [false, true, false, false]);
        assert_eq!(rows(&is_in(list.clone(), Some(true))), [true, false, true, true]);
        assert_eq!(rows(&Filter::Not(Box::new(is_in(list, Some(false))))), [false, true, true, false]);
        // An empty list: nothing is in it, and a null is still null.
        let empty = Series::new_empty("literal".into(), &DataType::String);
        assert_eq!(rows(&Filter::Not(Box::new(is_in(empty, None)))), [true, true, false, true]);
    }

    #[test]
    fn a_long_list_is_hashed_to_the_same_answer() {
        let values =
            Series::new("a".into(), (0..100i64).map(|i| (i % 7 != 0).then_some(i * 3 % 50)).collect::<Vec<_>>());
        for list in [
            Series::new("literal".into(), (0..20i64).collect::<Vec<_>>()),
            Series::new("literal".into(), (0..20i64).map(|i| i * 5).collect::<Vec<_>>()),
        ] {
            let hashed = hashed_members(&values, &list).unwrap().expect("integers are hashed");
            let mut compared = Bitmap::new_zeroed(values.len());
            for i in 0..list.len() {
                compared = &compared | &Truth::of(&values.equal(&list.slice(i as i64, 1)).unwrap(), None).holds;
            }
            assert_eq!(hashed, compared);
            assert!(hashed.set_bits() > 0 && hashed.unset_bits() > 0);
        }
        let strings = Series::new("s".into(), [Some("a"), None, Some("b")]);
        let list = Series::new("literal".into(), ["b", "c"]);
        assert_eq!(hashed_members(&strings, &list).unwrap().unwrap().iter().collect::<Vec<_>>(), [false, false, true]);
        assert!(hashed_members(&Series::new("f".into(), [1.0f64]), &Series::new("l".into(), [1.0f64]))
            .unwrap()
            .is_none());
    }

    #[test]
    fn an_enum_compares_by_its_categories_order() {
        let categories = polars_core::prelude::FrozenCategories::new(["low", "high"]).unwrap();
        let dtype = DataType::from_frozen_categories(categories);
        let e = Series::new("e".into(), [Some("high"), None, Some("low")]).cast(&dtype).unwrap();
        let df = DataFrame::new(3, vec![e.into_column()]).unwrap();
        // "high" is category 1: above "low" (0), though below it as a string.
        let above_low = Filter::Compare {
            column: path("e", dtype.clone()),
            cast: false,
            op: CmpOp::Gt,
            value: Series::new("literal".into(), [0u8]),
        };
        assert_eq!(above_low.mask(&df).unwrap().iter().collect::<Vec<_>>(), [true, false, false]);
        let list = Series::new("literal".into(), ["low"]).cast(&dtype).unwrap();
        let is_in = Filter::IsIn { column: path("e", dtype), values: list, null: None };
        assert_eq!(is_in.mask(&df).unwrap().iter().collect::<Vec<_>>(), [false, false, true]);
    }

    #[test]
    fn list_lengths_elements_and_contains() {
        let lists = [Some(vec![Some(1i64), None, Some(3)]), None, Some(vec![]), Some(vec![Some(3)])];
        let l = Series::new(
            "l".into(),
            lists.iter().map(|l| l.as_ref().map(|v| Series::new("".into(), v.clone()))).collect::<Vec<_>>(),
        );
        // A slice of a longer frame: the offsets do not start at 0.
        let l = Series::new("l".into(), [Some(Series::new("".into(), [9i64]))]).extend(&l).unwrap().slice(1, 4);
        let df = DataFrame::new(4, vec![l.into_column()]).unwrap();
        let list_type = DataType::List(Box::new(DataType::Int64));
        let derived =
            |derived, dtype| ColumnPath { name: "l".into(), fields: Vec::new(), dtype, derived: Some(derived) };
        let compare = |column, op, value: Series| Filter::Compare { column, cast: false, op, value };
        let rows = |f: Filter| f.mask(&df).unwrap().iter().collect::<Vec<_>>();
        let length = derived(Derived::ListLen, polars_core::prelude::IDX_DTYPE);
        let one = Series::new("literal".into(), [1 as IdxSize]);
        assert_eq!(rows(compare(length.clone(), CmpOp::Gt, one.clone())), [true, false, false, false]);
        assert_eq!(rows(Filter::Not(Box::new(compare(length, CmpOp::Gt, one)))), [false, false, true, true]);
        let three = Series::new("literal".into(), [3i64]);
        let last = derived(Derived::ListGet(-1), DataType::Int64);
        assert_eq!(rows(compare(last, CmpOp::Eq, three.clone())), [true, false, false, true]);
        let second = derived(Derived::ListGet(1), DataType::Int64);
        assert_eq!(rows(Filter::IsNull(second)), [true, true, true, true], "a null element, a null list, past the end");
        let contains = || Filter::ListContains { column: path("l", list_type.clone()), value: three.clone() };
        assert_eq!(rows(contains()), [true, false, false, true]);
        assert_eq!(rows(Filter::Not(Box::new(contains()))), [false, false, true, false], "a null list stays null");
    }

    #[test]
    fn the_columns_are_named_once() {
        let both =
            Filter::And(Box::new(a_gt(1)), Box::new(Filter::Or(Box::new(a_gt(2)), Box::new(Filter::Const(None)))));
        assert_eq!(both.columns(), ["a"]);
    }
}
