//! What `ignore_errors` may skip: damage in the file's bytes, never a failure of
//! polars-avro itself (a Polars error, a panic), which raises naming the file and block.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use std::sync::Arc;

use avro_encoder::{container, schema_json, Ty, Val};
use polars_avro::read::{AvroReader, Predicate, Source};
use polars_avro::{AvroError, ErrorKind};
use polars_core::prelude::*;

/// 40 records of one long field `x`, 10 per block.
fn forty_records() -> Vec<u8> {
    let top = Ty::Record(vec![Ty::Long]);
    let schema = schema_json(&top, &mut 0);
    let records: Vec<Val> = (0..40).map(|i| Val::Record(vec![Val::Long(i)])).collect();
    container(&schema, &top, &records, 10, "null")
}

fn read_with(predicate: Predicate, ignore_errors: bool) -> Result<DataFrame, AvroError> {
    AvroReader::new(Source::from_bytes(forty_records()))
        .with_predicate(Some(predicate))
        .with_ignore_errors(ignore_errors)
        .with_batch_size(10)
        .with_n_threads(Some(2))
        .finish()
}

/// A predicate that fails on the batch holding record 20 the way `failure` says.
fn failing_on_record_20(failure: fn() -> Result<BooleanChunked, AvroError>) -> Predicate {
    Predicate::of_callback(
        vec!["f0".into()],
        Arc::new(move |df: DataFrame| {
            let x = df.column("f0")?.i64()?.clone();
            if x.iter().any(|v| v == Some(20)) {
                return failure();
            }
            Ok(x.gt_eq(0))
        }),
    )
}

#[test]
fn a_polars_error_is_not_damage() {
    let polars_error = || Err(PolarsError::ComputeError("a column of the wrong length".into()).into());
    for ignore_errors in [false, true] {
        let err = read_with(failing_on_record_20(polars_error), ignore_errors).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal, "ignore_errors={ignore_errors}: {err}");
        assert!(err.to_string().contains("wrong length"), "{err}");
        assert_eq!(err.file.as_deref(), Some("<bytes>"), "{err}");
    }
}

#[test]
fn a_panic_is_not_damage() {
    let panics = || panic!("a bug in the decoder");
    for ignore_errors in [false, true] {
        let err = read_with(failing_on_record_20(panics), ignore_errors).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Internal, "ignore_errors={ignore_errors}: {err}");
        assert!(err.to_string().contains("a bug in the decoder"), "{err}");
        assert_eq!((err.file.as_deref(), err.block), (Some("<bytes>"), Some(2)), "{err}");
    }
}

#[test]
fn damage_is_still_skipped() {
    let mut bytes = forty_records();
    // The last block's sync marker, damaged: that block is left out, the others are read.
    let end = bytes.len();
    bytes[end - 1] ^= 0xff;
    let keep_all =
        Predicate::of_callback(vec!["f0".into()], Arc::new(|df: DataFrame| Ok(df.column("f0")?.i64()?.gt_eq(0))));
    let mut reader = AvroReader::new(Source::from_bytes(bytes))
        .with_predicate(Some(keep_all))
        .with_ignore_errors(true)
        .with_batch_size(10)
        .batched()
        .unwrap();
    let mut rows = Vec::new();
    while let Some(df) = reader.next_batch().unwrap() {
        rows.extend(df.column("f0").unwrap().i64().unwrap().into_no_null_iter());
    }
    assert_eq!(rows, (0..30).collect::<Vec<i64>>());
    assert_eq!(reader.take_skipped().len(), 1);
}

/// A named pipe reports a size of 0: the reader reads it to its end instead.
#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_to_its_end() {
    let dir = std::env::temp_dir().join(format!("polars-avro-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("events.avro");
    let _ = std::fs::remove_file(&fifo);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let bytes = forty_records();
    let path = fifo.clone();
    let writer = std::thread::spawn(move || {
        std::io::Write::write_all(&mut std::fs::File::create(path).unwrap(), &bytes).unwrap()
    });
    let df = AvroReader::new(Source::from_path(&fifo)).finish().unwrap();
    writer.join().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let values: Vec<i64> = df.column("f0").unwrap().i64().unwrap().into_no_null_iter().collect();
    assert_eq!(values, (0..40).collect::<Vec<i64>>());
}
