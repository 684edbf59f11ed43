//! A slice's offset (`ReadOptions::skip_rows`): the blocks before it are left out unread,
//! so damage there is never met, and the rows after it keep their row index.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, schema_json, Ty, Val};
use polars_avro::read::{AvroReader, Predicate, ReadOptions, RowIndex, Source};
use polars_avro::ErrorKind;
use polars_core::prelude::*;

/// 40 records of one long field `x` (0 to 39), 10 per block, the data of the first two
/// blocks overwritten with bytes that cannot decode (their framing intact).
fn forty_records_first_blocks_damaged() -> Vec<u8> {
    let top = Ty::Record(vec![Ty::Long]);
    let schema = schema_json(&top, &mut 0);
    let records: Vec<Val> = (0..40).map(|i| Val::Record(vec![Val::Long(i)])).collect();
    let mut data = container(&schema, &top, &records, 10, "null");
    let sync: Vec<u8> = data[data.len() - 16..].to_vec();
    let marker_at = |from: usize, data: &[u8]| from + data[from..].windows(16).position(|w| w == sync).unwrap();
    let mut start = marker_at(0, &data) + 16;
    for _ in 0..2 {
        let end = marker_at(start, &data);
        // Count and size (one byte each here), then 10 one-byte records: all continuation bytes.
        data[start + 2..end].fill(0xff);
        start = end + 16;
    }
    data
}

fn read(skip_rows: usize, n_rows: usize) -> PolarsResult<DataFrame> {
    let options = ReadOptions {
        skip_rows,
        n_rows: Some(n_rows),
        row_index: Some(RowIndex::new("i", 0)),
        batch_size: 10,
        ..ReadOptions::default()
    };
    AvroReader::new(Source::from_bytes(forty_records_first_blocks_damaged()))
        .with_options(options)
        .finish()
        .map_err(|e| polars_err!(ComputeError: "{e}"))
}

#[test]
fn the_blocks_before_the_offset_are_not_decoded() {
    let df = read(25, 30).unwrap();
    let x: Vec<i64> = df.column("f0").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert_eq!(x, (25..30).collect::<Vec<_>>());
    let i: Vec<u64> =
        df.column("i").unwrap().cast(&DataType::UInt64).unwrap().u64().unwrap().into_no_null_iter().collect();
    assert_eq!(i, (25..30).collect::<Vec<_>>());
    // An offset inside a damaged block decodes it, and meets the damage.
    assert!(read(15, 30).is_err());
}

#[test]
fn an_offset_with_a_predicate_is_refused() {
    let predicate = Predicate::of_callback(
        vec!["f0".into()],
        std::sync::Arc::new(|df: DataFrame| Ok(df.column("f0")?.i64()?.gt(0))),
    );
    let err = AvroReader::new(Source::from_bytes(forty_records_first_blocks_damaged()))
        .with_options(ReadOptions { skip_rows: 5, ..ReadOptions::default() })
        .with_predicate(Some(predicate))
        .finish()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Argument);
}
