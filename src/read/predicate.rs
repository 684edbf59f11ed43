//! Predicates pushed into a read: evaluated on the predicate's own columns, decoded
//! first, so that the other columns are decoded only for the rows that pass.

use std::sync::Arc;

use polars_core::prelude::{BooleanChunked, DataFrame};

use crate::error::AvroResult;

/// A predicate evaluated on a frame holding only the columns it needs; it returns one
/// boolean per row (null counts as false). Kept as a callback so that the user's own
/// Polars evaluates it (see the design guide: expressions do not cross Polars versions).
/// It is called from the decoding threads.
pub type PredicateFn = Arc<dyn Fn(DataFrame) -> AvroResult<BooleanChunked> + Send + Sync>;

/// A predicate pushed into a read: the columns it needs and how to evaluate it.
#[derive(Clone)]
pub struct Predicate {
    /// The columns the predicate reads (file columns, the row index or the file path column).
    pub columns: Vec<String>,
    /// Called with a frame of those columns, from the decoding threads.
    pub evaluate: PredicateFn,
}
