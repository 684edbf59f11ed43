//! Arbitrary bytes as a whole Avro file: magic, header (with its schema JSON), blocks,
//! codecs. Reading must return a value or an error, never panic, hang or run away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polars_avro::{AvroReader, Source};

fuzz_target!(|data: &[u8]| {
    let _ = AvroReader::new(Source::from_bytes(data.to_vec())).with_n_threads(Some(1)).finish();
});
