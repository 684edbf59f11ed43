//! Arbitrary schema JSON, then arbitrary record bytes under it when it parses: the
//! schema parser, the plan built from it, and decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use polars_avro::container::{Codec, ContainerWriter};
use polars_avro::read::{AvroReader, Source};
use polars_avro::schema::parse_schema;
use polars_avro_fuzz::check_frame;

fuzz_target!(|data: &[u8]| {
    // The schema is the text up to the first NUL; the record bytes are what follows.
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let Ok(json) = std::str::from_utf8(&data[..split]) else { return };
    if parse_schema(json).is_err() {
        return;
    }
    // A count byte, then the block's bytes.
    let rest = data.get(split + 1..).unwrap_or(&[]);
    let (count, body) = rest.split_first().map_or((0, rest), |(&c, body)| (usize::from(c), body));
    let mut file = Vec::new();
    {
        let Ok(mut writer) = ContainerWriter::new(&mut file, json, Codec::Null, &[]) else { return };
        writer.write_block(count, body).unwrap();
        writer.finish().unwrap();
    }
    if let Ok(frame) = AvroReader::new(Source::from_bytes(file)).with_n_threads(Some(1)).finish() {
        check_frame(&frame);
    }
});
