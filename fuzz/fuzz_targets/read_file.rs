//! Arbitrary bytes as a whole Avro file: magic, header (with its schema JSON), blocks,
//! codecs. Reading must return a valid frame or an error, never panic, hang or run away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polars_avro::{AvroReader, Source};
use polars_avro_fuzz::check_frame;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = AvroReader::new(Source::from_bytes(data.to_vec())).with_n_threads(Some(1)).finish() {
        check_frame(&frame);
    }
});
