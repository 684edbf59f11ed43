//! Arbitrary bytes as a whole Avro file: magic, header (with its schema JSON), blocks,
//! codecs. Reading must return a valid frame or an error, never panic, hang or run away.
//! Read again in batches of a few records (blocks larger than that are read in parts, see
//! src/read/parts.rs), it must give the same frame, or fail too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polars_avro::read::{AvroReader, Source};
use polars_avro_fuzz::check_frame;

fuzz_target!(|data: &[u8]| {
    let read = |batch_size: usize| {
        AvroReader::new(Source::from_bytes(data.to_vec())).with_n_threads(Some(1)).with_batch_size(batch_size).finish()
    };
    let whole = read(polars_avro::read::DEFAULT_BATCH_SIZE);
    if let Ok(frame) = &whole {
        check_frame(frame);
    }
    let small = 1 + data.last().map_or(0, |b| usize::from(*b % 8));
    match (&whole, read(small)) {
        (Ok(frame), Ok(in_parts)) => {
            check_frame(&in_parts);
            assert!(frame.equals_missing(&in_parts), "batches of {small} give another frame");
        },
        (Err(_), Err(_)) => {},
        (whole, in_parts) => panic!("batches of {small} disagree: {whole:?} against {in_parts:?}"),
    }
});
