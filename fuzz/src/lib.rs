//! What every fuzz target checks about a frame that was read: the arrays the decoder
//! builds with unchecked constructors (string views, list offsets, enum indices) must
//! pass the checks of Polars' own checked constructors, so an invalid array fails here
//! instead of misbehaving later in a user's query.

use polars::prelude::*;
use polars_arrow::array::{Array, BinaryViewArray, ListArray, StructArray, Utf8ViewArray};
use polars_arrow::datatypes::ArrowDataType;

/// Panics (a fuzz finding) when any array of `frame` breaks its type's invariants.
pub fn check_frame(frame: &DataFrame) {
    for column in frame.columns() {
        let series = column.as_materialized_series();
        assert_eq!(series.len(), frame.height(), "column {} has the wrong length", series.name());
        check_series(series);
    }
}

/// Panics (a fuzz finding) when any array of `series` breaks its type's invariants.
pub fn check_series(series: &Series) {
    let chunk_lengths: usize = series.chunks().iter().map(|chunk| chunk.len()).sum();
    assert_eq!(chunk_lengths, series.len(), "series {} has chunks of the wrong length", series.name());
    for chunk in series.chunks() {
        check_array(chunk.as_ref());
    }
    // Enum values index their categories: looking every one up proves them in range.
    let dtype = series.dtype();
    let without = without_enums(dtype);
    if &without != dtype {
        let looked_up = series.cast(&without).expect("enum values that name their symbols");
        for chunk in looked_up.chunks() {
            check_array(chunk.as_ref());
        }
    }
}

fn check_array(array: &dyn Array) {
    if let Some(validity) = array.validity() {
        assert_eq!(validity.len(), array.len(), "validity of the wrong length");
    }
    match array.dtype() {
        ArrowDataType::BinaryView => {
            let a = array.as_any().downcast_ref::<BinaryViewArray>().unwrap();
            BinaryViewArray::try_new(
                a.dtype().clone(),
                a.views().clone(),
                a.data_buffers().clone(),
                a.validity().cloned(),
            )
            .expect("valid binary views");
            check_total_len(a.values_iter().map(<[u8]>::len), a.total_bytes_len());
        },
        ArrowDataType::Utf8View => {
            let a = array.as_any().downcast_ref::<Utf8ViewArray>().unwrap();
            Utf8ViewArray::try_new(
                a.dtype().clone(),
                a.views().clone(),
                a.data_buffers().clone(),
                a.validity().cloned(),
            )
            .expect("valid UTF-8 views");
            check_total_len(a.values_iter().map(str::len), a.total_bytes_len());
        },
        ArrowDataType::LargeList(_) => {
            let a = array.as_any().downcast_ref::<ListArray<i64>>().unwrap();
            let offsets = a.offsets().as_slice();
            assert!(offsets.first().is_some_and(|&first| first >= 0), "list offsets start below zero");
            assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "list offsets decrease");
            assert!(*offsets.last().unwrap() as usize <= a.values().len(), "list offsets past the values");
            check_array(a.values().as_ref());
        },
        ArrowDataType::Struct(_) => {
            let a = array.as_any().downcast_ref::<StructArray>().unwrap();
            for field in a.values() {
                assert_eq!(field.len(), a.len(), "struct field of the wrong length");
                check_array(field.as_ref());
            }
        },
        _ => {},
    }
}

fn check_total_len(lengths: impl Iterator<Item = usize>, claimed: usize) {
    assert_eq!(lengths.sum::<usize>(), claimed, "total_bytes_len differs from the values' lengths");
}

/// `dtype` with every Enum (and Categorical) replaced by String.
fn without_enums(dtype: &DataType) -> DataType {
    match dtype {
        DataType::Enum(..) | DataType::Categorical(..) => DataType::String,
        DataType::List(inner) => DataType::List(Box::new(without_enums(inner))),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|f| Field::new(f.name().clone(), without_enums(f.dtype()))).collect())
        },
        other => other.clone(),
    }
}
