//! Predicates pushed into a read: evaluated on the predicate's own columns, decoded
//! first, so that the other columns are decoded only for the rows that pass.

use std::sync::Arc;

use polars_arrow::array::BooleanArray;
use polars_arrow::bitmap::{Bitmap, MutableBitmap};
use polars_core::prelude::{BooleanChunked, DataFrame};

use crate::error::{AvroError, AvroResult};
use crate::filter::Filter;

/// A predicate evaluated on a frame holding only the columns it needs; it returns one
/// boolean per row (null counts as false). A callback, so that the user's own Polars
/// evaluates what the reader's [`Filter`] cannot (see the design guide: expressions do not
/// cross Polars versions). It is called from the decoding threads.
pub type PredicateFn = Arc<dyn Fn(DataFrame) -> AvroResult<BooleanChunked> + Send + Sync>;

/// A predicate pushed into a read: the columns it needs, the part the reader evaluates
/// itself and the rest, which a callback evaluates. Rows pass where both hold.
#[derive(Clone)]
pub struct Predicate {
    /// The columns the predicate reads (file columns, the row index or the file path column).
    pub columns: Vec<String>,
    /// The part the reader evaluates, on its own threads.
    pub filter: Option<Filter>,
    /// The rest, called with a frame of the columns, from the decoding threads.
    pub callback: Option<PredicateFn>,
}

impl Predicate {
    /// A predicate the reader evaluates whole.
    pub fn of_filter(filter: Filter) -> Self {
        Self { columns: filter.columns(), filter: Some(filter), callback: None }
    }

    /// A predicate a callback evaluates whole, on `columns`.
    pub fn of_callback(columns: Vec<String>, callback: PredicateFn) -> Self {
        Self { columns, filter: None, callback: Some(callback) }
    }

    /// The predicate of a filter's part and a callback's (on its columns), either or both;
    /// None for neither. The columns read are both parts', each once.
    pub fn of(filter: Option<Filter>, callback: Option<(Vec<String>, PredicateFn)>) -> Option<Self> {
        match (filter, callback) {
            (None, None) => None,
            (Some(filter), None) => Some(Self::of_filter(filter)),
            (filter, Some((mut columns, callback))) => {
                for column in filter.iter().flat_map(Filter::columns) {
                    if !columns.contains(&column) {
                        columns.push(column);
                    }
                }
                Some(Self { columns, filter, callback: Some(callback) })
            },
        }
    }

    /// Whether a part of it is evaluated by calling back into Python (holding its lock).
    pub fn calls_back(&self) -> bool {
        self.callback.is_some()
    }

    /// The rows of `df` that pass, and whether the callback was called for them (not where
    /// the filter kept none).
    pub fn mask(&self, df: &DataFrame) -> AvroResult<(Bitmap, bool)> {
        let rows = df.height();
        let kept = match &self.filter {
            Some(filter) => filter.mask(df)?,
            None => Bitmap::new_with_value(true, rows),
        };
        let Some(callback) = self.callback.as_ref().filter(|_| kept.set_bits() > 0) else {
            return Ok((kept, false));
        };
        let mask = callback(df.clone())?;
        if mask.len() != rows {
            return Err(AvroError::argument(format!(
                "the predicate returned {} values for a batch of {rows} rows",
                mask.len()
            )));
        }
        Ok((&kept & &mask_bitmap(&mask), true))
    }
}

/// The rows a Boolean column keeps: a null keeps none, as in a filter.
fn mask_bitmap(mask: &BooleanChunked) -> Bitmap {
    // Word by word.
    let kept = |chunk: &BooleanArray| match chunk.validity() {
        Some(valid) => chunk.values() & valid,
        None => chunk.values().clone(),
    };
    let mut chunks = mask.downcast_iter();
    match (chunks.next(), chunks.next()) {
        (Some(only), None) => kept(only),
        _ => {
            let mut bits = MutableBitmap::with_capacity(mask.len());
            mask.downcast_iter().for_each(|chunk| bits.extend_from_bitmap(&kept(chunk)));
            bits.into()
        },
    }
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::{ChunkFull, NamedFrom};

    use super::*;

    #[test]
    fn a_filter_and_a_callback_read_the_columns_of_both_once() {
        use crate::filter::ColumnPath;
        let is_null = |name: &str| {
            Filter::IsNull(ColumnPath {
                name: name.into(),
                fields: Vec::new(),
                dtype: polars_core::prelude::DataType::Int64,
                derived: None,
            })
        };
        let both = Filter::And(Box::new(is_null("a")), Box::new(is_null("c")));
        let callback: PredicateFn = Arc::new(|df: DataFrame| Ok(BooleanChunked::full("".into(), true, df.height())));
        assert!(Predicate::of(None, None).is_none());
        let filtered = Predicate::of(Some(both.clone()), None).unwrap();
        assert_eq!((filtered.columns, filtered.callback.is_none()), (vec!["a".to_string(), "c".to_string()], true));
        let called = Predicate::of(None, Some((vec!["b".into()], callback.clone()))).unwrap();
        assert_eq!((called.columns, called.filter), (vec!["b".to_string()], None));
        let joined = Predicate::of(Some(both), Some((vec!["b".into(), "a".into()], callback))).unwrap();
        assert_eq!(joined.columns, ["b", "a", "c"]);
        assert!(joined.filter.is_some() && joined.callback.is_some());
    }

    #[test]
    fn a_mask_keeps_the_rows_that_are_true_and_not_null_across_chunks() {
        let values = [Some(true), None, Some(false), Some(true)];
        let mut mask = BooleanChunked::new("".into(), &values[..]);
        // A second chunk, with no nulls, starting inside a byte and past 64 bits.
        let long: Vec<bool> = (0..70).map(|i| i % 3 == 0).collect();
        mask.append(&BooleanChunked::new("".into(), &long[..])).unwrap();
        assert_eq!(mask.chunks().len(), 2);
        let bits = mask_bitmap(&mask);
        let expected: Vec<bool> = values.iter().map(|v| *v == Some(true)).chain(long.iter().copied()).collect();
        assert_eq!(bits.iter().collect::<Vec<bool>>(), expected);
        // One chunk, sliced: its offset is kept.
        let sliced = BooleanChunked::new("".into(), &values[..]).slice(1, 3);
        assert_eq!(mask_bitmap(&sliced).iter().collect::<Vec<bool>>(), vec![false, false, true]);
    }
}
