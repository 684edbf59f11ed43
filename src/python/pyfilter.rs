//! The parts of a query's predicate the reader takes: Python hands over the predicate's
//! conjuncts serialized, and gets back the filter of those the reader evaluates itself
//! (crate::filter) and which they are; Polars keeps the rest.

use polars_core::prelude::{Schema, Series};
use pyo3::prelude::*;
use pyo3_polars::{PyDataFrame, PySeries};

use crate::filter::{parse_with_lists, Filter};

/// The part of a predicate the reader evaluates, handed back with a read's request.
#[pyclass(module = "polars_avro._internal", frozen)]
pub struct ReaderFilter {
    pub filter: Filter,
}

/// Of `parts` (the conjuncts of a predicate, each as `Expr.meta.serialize(format="json")`
/// gives it) over the columns of `columns` (a frame of no row in the types the reader
/// decodes), the filter of those the reader takes (joined by `&`; None for none), and
/// whether it took each. `lists` are the parts' list literals: the bytes Polars wrote for
/// each, and its values (`filter::parse_with_lists`).
#[pyfunction]
pub fn reader_filter(
    parts: Vec<String>,
    columns: PyDataFrame,
    lists: Vec<(Vec<u8>, PySeries)>,
) -> (Option<ReaderFilter>, Vec<bool>) {
    let schema: Schema = columns.0.schema().as_ref().clone();
    let lists: Vec<(Vec<u8>, Series)> = lists.into_iter().map(|(bytes, values)| (bytes, values.0)).collect();
    let parsed: Vec<Option<Filter>> = parts.iter().map(|part| parse_with_lists(part, &schema, &lists)).collect();
    let taken = parsed.iter().map(Option::is_some).collect();
    let filter = parsed.into_iter().flatten().reduce(|a, b| Filter::And(Box::new(a), Box::new(b)));
    (filter.map(|filter| ReaderFilter { filter }), taken)
}
