//! Work run under a check (`internals::checked`, what the Python layer does for Ctrl-C)
//! stops at the check between its steps: a batch read, a block written, a folder listed.

use std::cell::Cell;
use std::rc::Rc;

use polars_avro::internals::checked;
use polars_avro::read::{AvroReader, ReadOptions, Source};
use polars_avro::write::{AvroWriter, WriteOptions};
use polars_avro::{AvroError, AvroResult, ErrorKind};
use polars_core::prelude::{df, DataFrame};

/// A check that stops the work at its `n`th call, and how often it was called.
fn stop_at(n: usize) -> (impl Fn() -> AvroResult<()>, Rc<Cell<usize>>) {
    let calls = Rc::new(Cell::new(0));
    let counted = calls.clone();
    let check = move || {
        counted.set(counted.get() + 1);
        if counted.get() >= n {
            Err(AvroError::new(ErrorKind::Interrupted, "stop"))
        } else {
            Ok(())
        }
    };
    (check, calls)
}

fn writer(df: &DataFrame, threads: usize) -> AvroWriter<Vec<u8>> {
    let options = WriteOptions { sync_interval: 1000, n_threads: Some(threads), ..WriteOptions::default() };
    AvroWriter::for_frame(Vec::new(), df, options).unwrap()
}

#[test]
fn reads_and_writes_stop_at_the_check_between_their_steps() {
    let df = df!("a" => (0..10_000i64).collect::<Vec<_>>()).unwrap();
    let mut whole = writer(&df, 1);
    whole.write(&df).unwrap();
    let file = whole.finish().unwrap();
    for threads in [1, 2] {
        // Writing: a check before each block.
        let (check, calls) = stop_at(3);
        let mut partial = writer(&df, threads);
        assert_eq!(checked(check, || partial.write(&df)).unwrap_err().kind, ErrorKind::Interrupted);
        assert_eq!(calls.get(), 3, "{threads} threads");
        // Reading: a check before each batch.
        let (check, calls) = stop_at(3);
        let source = Source::Bytes { name: "f".into(), data: file.clone() };
        let options = ReadOptions { batch_size: 1000, n_threads: Some(threads), ..ReadOptions::default() };
        let mut reader = AvroReader::from_files(vec![source.into()]).with_options(options).batched().unwrap();
        let read = checked(check, || -> AvroResult<usize> {
            let mut batches = 0;
            while reader.next_batch()?.is_some() {
                batches += 1;
            }
            Ok(batches)
        });
        assert_eq!(read.unwrap_err().kind, ErrorKind::Interrupted);
        assert_eq!(calls.get(), 3, "{threads} threads");
        // Without a check the same work runs to its end.
        let source = Source::Bytes { name: "f".into(), data: file.clone() };
        let options = ReadOptions { batch_size: 1000, n_threads: Some(threads), ..ReadOptions::default() };
        assert_eq!(AvroReader::from_files(vec![source.into()]).with_options(options).finish().unwrap(), df);
    }
}

#[test]
fn a_listing_stops_at_the_check_before_each_folder() {
    let root = std::env::temp_dir().join(format!("polars-avro-interrupts-{}", std::process::id()));
    std::fs::create_dir_all(root.join("a/b/c/d")).unwrap();
    for (listing, calls_made) in [("folder", 3), ("glob", 3)] {
        let (check, calls) = stop_at(3);
        let listed = checked(check, || match listing {
            "folder" => polars_avro::source::avro_files_under(root.to_str().unwrap()),
            _ => polars_avro::source::glob_files(&format!("{}/**/*.avro", root.display())),
        });
        assert_eq!(listed.unwrap_err().kind, ErrorKind::Interrupted, "{listing}");
        assert_eq!(calls.get(), calls_made, "{listing}");
    }
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_decode_of_messages_stops_at_the_check_between_its_rounds() {
    use polars_avro::message::{Framing, MessageDecoder, Mode, Rows};
    use polars_avro::schema::parse_schema;
    let long = parse_schema("\"long\"").unwrap();
    let decoder = MessageDecoder::new(long.clone(), Framing::Raw, Some(long)).unwrap();
    let datum = [4u8]; // 2, zigzag-encoded
    let messages: Vec<Option<&[u8]>> = vec![Some(&datum[..]); 1_000_000];
    let rows = Rows { messages: &messages, ids: None };
    for threads in [1, 2] {
        let (check, calls) = stop_at(2);
        let decoded = checked(check, || decoder.decode("v".into(), rows, Mode::Strict, threads));
        assert_eq!(decoded.unwrap_err().kind, ErrorKind::Interrupted);
        assert_eq!(calls.get(), 2, "{threads} threads");
    }
    match decoder.decode("v".into(), rows, Mode::Strict, 2).unwrap() {
        polars_avro::message::Decoded::Done((values, failed)) => {
            assert_eq!((values.len(), failed), (1_000_000, 0));
            assert_eq!(values.i64().unwrap().get(999_999), Some(2));
        },
        polars_avro::message::Decoded::Missing(keys) => panic!("missing {keys:?}"),
    }
}
