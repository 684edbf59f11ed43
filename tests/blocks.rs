//! Whole files block by block (`BlockFile`, `BlockWriter`): blocks handed out as stored, decompressed
//! or only framed; copied into a new file as they are or recompressed; damage left out and reported
//! with `repair`, and raised without it.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, schema_json, Ty, Val};
use polars_avro::blocks::{BlockData, BlockFile, BlockWriter};
use polars_avro::container::Codec;
use polars_avro::read::{AvroReader, Source};
use polars_avro::ErrorKind;

/// 40 records of a long `x` and a string `s`, 10 per block.
fn forty(codec: &str) -> (String, Vec<u8>) {
    let top = Ty::Record(vec![Ty::Long, Ty::Str]);
    let schema = schema_json(&top, &mut 0);
    let records: Vec<Val> = (0..40).map(|i| Val::Record(vec![Val::Long(i), Val::Str(format!("s{i}"))])).collect();
    let file = container(&schema, &top, &records, 10, codec);
    (schema, file)
}

fn xs(file: Vec<u8>) -> Vec<i64> {
    let df = AvroReader::new(Source::from_bytes(file)).finish().unwrap();
    df.column("f0").unwrap().i64().unwrap().into_no_null_iter().collect()
}

fn blocks(file: &[u8], data: BlockData, check: bool, repair: bool) -> (BlockFile, Vec<polars_avro::blocks::Block>) {
    let mut reader = BlockFile::open(Source::from_bytes(file.to_vec()), data, check, repair).unwrap();
    let mut out = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        out.push(block);
    }
    (reader, out)
}

#[test]
fn blocks_as_stored_decompressed_or_framed() {
    let (_, file) = forty("deflate");
    let (reader, stored) = blocks(&file, BlockData::Stored, false, false);
    assert_eq!(stored.iter().map(|b| b.count).collect::<Vec<_>>(), [10; 4]);
    assert!(stored.iter().all(|b| b.data.len() == b.stored_size));
    assert_eq!(reader.position(), file.len() as u64);
    let (_, decompressed) = blocks(&file, BlockData::Decompressed, false, false);
    // Ten records of a one-byte long and a three-byte string ("s0".."s9": length byte + 2).
    assert_eq!(decompressed[0].data.len(), 10 * (1 + 3));
    let (_, framed) = blocks(&file, BlockData::Framing, false, false);
    assert!(framed.iter().all(|b| b.data.is_empty()));
    assert_eq!(
        framed.iter().map(|b| b.offset).collect::<Vec<_>>(),
        stored.iter().map(|b| b.offset).collect::<Vec<_>>()
    );
}

#[test]
fn blocks_copied_stored_or_recompressed_read_back_the_same() {
    let (schema, file) = forty("snappy");
    let metadata = vec![("origin".to_string(), b"test".to_vec())];
    for (codec, stored) in [(Codec::Snappy, true), (Codec::Zstandard, false), (Codec::Null, false)] {
        let data = if stored { BlockData::Stored } else { BlockData::Decompressed };
        let (_, blocks) = blocks(&file, data, false, false);
        let mut writer = BlockWriter::new(Vec::new(), &schema, codec, None, &metadata).unwrap();
        for b in &blocks {
            writer.write_block(b.count, &b.data, stored).unwrap();
        }
        assert_eq!(writer.records_written(), 40);
        let out = writer.finish().unwrap();
        let header = polars_avro::read::read_header(Source::from_bytes(out.clone())).unwrap().0;
        assert_eq!((header.codec, header.schema_json.as_str()), (codec, schema.as_str()));
        assert!(header.metadata.contains(&("origin".to_string(), b"test".to_vec())));
        assert_eq!(xs(out), (0..40).collect::<Vec<_>>());
    }
}

#[test]
fn a_bad_level_or_schema_is_refused_before_anything_is_written() {
    let (schema, _) = forty("null");
    let level = BlockWriter::new(Vec::new(), &schema, Codec::Deflate, Some(42), &[]).err().unwrap();
    assert_eq!(level.kind, ErrorKind::Argument);
    assert!(level.to_string().contains("42"), "{level}");
    let bad = BlockWriter::new(Vec::new(), "{\"type\": \"nope\"}", Codec::Null, None, &[]).err().unwrap();
    assert_eq!(bad.kind, ErrorKind::Schema);
}

/// The file with bytes of the third block's data overwritten: its records no longer decode.
fn damaged(codec: &str) -> Vec<u8> {
    let (_, file) = forty(codec);
    let (_, stored) = blocks(&file, BlockData::Stored, false, false);
    let at = stored[2].offset as usize + 4;
    let mut file = file;
    file[at..at + 6].copy_from_slice(&[0xff; 6]);
    file
}

#[test]
fn repair_leaves_out_damaged_blocks_and_reports_them() {
    for codec in ["null", "deflate"] {
        let file = damaged(codec);
        let (mut reader, kept) = blocks(&file, BlockData::Stored, true, true);
        assert_eq!(kept.iter().map(|b| b.count).sum::<usize>(), 30, "{codec}");
        let skipped = reader.take_skipped();
        assert_eq!(skipped.len(), 1, "{codec}");
        assert_eq!(skipped[0].error.block, Some(2), "{codec}");
        assert_eq!(skipped[0].records, Some(10), "{codec}");
        // Without repair the damage raises, naming the block; without the records check a
        // null-codec block whose bytes are damaged is handed out as it is.
        let mut strict = BlockFile::open(Source::from_bytes(file.clone()), BlockData::Stored, true, false).unwrap();
        let error = std::iter::from_fn(|| strict.next_block().transpose()).find_map(Result::err).unwrap();
        assert_eq!(error.block, Some(2), "{codec}: {error}");
    }
    let (_, unchecked) = blocks(&damaged("null"), BlockData::Stored, false, true);
    assert_eq!(unchecked.len(), 4);
}

#[test]
fn repair_resynchronises_after_broken_framing() {
    let (_, mut file) = forty("null");
    let (_, stored) = blocks(&file, BlockData::Stored, false, false);
    // The second block's record count and size become a negative count.
    file[stored[1].offset as usize] = 0x01;
    let (mut reader, kept) = blocks(&file, BlockData::Stored, true, true);
    assert_eq!(kept.iter().map(|b| b.count).sum::<usize>(), 30);
    assert_eq!(reader.take_skipped().len(), 1);
}

#[test]
fn runs_of_blocks_recompressed_on_several_threads_keep_their_order() {
    let (schema, file) = forty("deflate");
    let (_, stored) = blocks(&file, BlockData::Stored, false, false);
    let run: Vec<(usize, &[u8], u64)> = stored.iter().map(|b| (b.count, &b.data[..], b.offset)).collect();
    let mut writer = BlockWriter::new(Vec::new(), &schema, Codec::Zstandard, None, &[]).unwrap();
    writer.write_recoded(&run[..3], Codec::Deflate, "in.avro", 2).unwrap();
    writer.write_recoded(&run[3..], Codec::Deflate, "in.avro", 2).unwrap();
    assert_eq!(xs(writer.finish().unwrap()), (0..40).collect::<Vec<_>>());
    // A block that does not decompress is named by its file and offset.
    let mut broken = stored[1].data.to_vec();
    broken.iter_mut().for_each(|b| *b = 0xff);
    let bad = vec![run[0], (10, &broken[..], stored[1].offset)];
    let mut writer = BlockWriter::new(Vec::new(), &schema, Codec::Snappy, None, &[]).unwrap();
    let error = writer.write_recoded(&bad, Codec::Deflate, "in.avro", 2).err().unwrap();
    assert_eq!((error.file.as_deref(), error.offset), (Some("in.avro"), Some(stored[1].offset)), "{error}");
}
