//! The writer never writes a block larger than readers accept: rows far larger than the
//! first ones (which set the rows per block) are cut into more blocks, and a single row
//! past the bound is refused naming it. The bound is lowered here to make that testable.

use polars_avro::container::ContainerReader;
use polars_avro::read::{AvroReader, Source};
use polars_avro::write::{AvroWriter, WriteOptions};
use polars_avro::ErrorKind;
use polars_core::prelude::*;

/// Short strings first, so that the block size is estimated from them, then long ones.
fn growing_frame() -> DataFrame {
    let text: Vec<String> = (0..600).map(|i| if i < 300 { "x".to_string() } else { "y".repeat(3000) }).collect();
    let ids: Vec<i64> = (0..600).collect();
    DataFrame::new(600, vec![Column::new("id".into(), ids), Column::new("text".into(), text)]).unwrap()
}

fn written(df: &DataFrame, bound: usize) -> polars_avro::AvroResult<Vec<u8>> {
    let options = WriteOptions { n_threads: Some(2), ..WriteOptions::default() };
    let mut writer = AvroWriter::for_frame(Vec::new(), df, options)?.with_block_bound(bound);
    writer.write(&df.slice(0, 400))?;
    writer.write(&df.slice(400, 200))?;
    writer.finish()
}

#[test]
fn blocks_are_cut_to_what_readers_accept() {
    let df = growing_frame();
    let bound = 20_000;
    let file = written(&df, bound).unwrap();
    let mut blocks = ContainerReader::new(file.as_slice(), None).unwrap();
    let mut rows = 0;
    while let Some(block) = blocks.next_block().unwrap() {
        assert!(block.data.len() <= bound, "a block of {} bytes", block.data.len());
        rows += block.count;
    }
    assert_eq!(rows, 600);
    let back = AvroReader::new(Source::from_bytes(file)).finish().unwrap();
    let ids = |df: &DataFrame| df.column("id").unwrap().i64().unwrap().into_no_null_iter().collect::<Vec<_>>();
    let texts = |df: &DataFrame| {
        df.column("text").unwrap().str().unwrap().iter().map(|t| t.unwrap_or_default().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&back), ids(&df));
    assert_eq!(texts(&back), texts(&df));
}

#[test]
fn a_row_larger_than_a_block_may_hold_names_itself() {
    let err = written(&growing_frame(), 2000).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Encode);
    assert!(err.message.contains("cannot write row 300: it encodes to"), "{}", err.message);
}
