//! Whole container files block by block, for the tools that rewrite or describe files
//! without reading them into columns (the command line's `concat`, `recodec`, `repair`,
//! `meta`): a block is handed out as stored, decompressed, or only framed, its records
//! checked by decoding them when asked, and written into a new file as it is or
//! compressed anew. Nothing is kept past the block at hand.

use std::io::Write;

use bytes::Bytes;
use rayon::prelude::*;

use crate::container::{Codec, ContainerReader, ContainerWriter, Header};
use crate::decode::{BlockDecoder, PartStart, RowPlan};
use crate::error::{AvroError, AvroResult};
use crate::read::{SkippedData, Source};
use crate::schema::{parse_schema, AvroSchema};
use crate::source::{check_intact, Stream};
use crate::threads::pool;

/// How much of each block a [`BlockFile`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockData {
    /// Only the framing (record count, size, marker): the data is skipped, not read.
    Framing,
    /// The data as stored, still compressed.
    Stored,
    /// The data decompressed.
    Decompressed,
}

/// One block of a [`BlockFile`].
#[derive(Debug)]
pub struct Block {
    /// The block's position in the file, from 0.
    pub index: usize,
    /// Byte offset of the block's framing in the file.
    pub offset: u64,
    /// The records it holds.
    pub count: usize,
    /// Its data's size as stored.
    pub stored_size: usize,
    /// Its data as asked: empty for [`BlockData::Framing`].
    pub data: Bytes,
}

/// A container file read block by block.
pub struct BlockFile {
    container: ContainerReader<Stream>,
    name: String,
    schema: AvroSchema,
    data: BlockData,
    /// Decodes every record of each block (into columns dropped at once) before handing it
    /// out, when asked: a block is intact only if its records decode.
    plan: Option<RowPlan>,
    /// The fewest bytes a record of the schema takes, for the records check.
    min_record_size: usize,
    /// Damaged blocks are left out and recorded here, instead of failing the read.
    repair: bool,
    skipped: Vec<SkippedData>,
    ended: bool,
    scratch: Vec<u8>,
}

impl BlockFile {
    /// Opens a source and reads its header. `check_records` decodes each block's records
    /// (which needs its data decompressed, whatever `data` says); `repair` leaves damaged
    /// blocks out, as a read with `ignore_errors` does, and records them.
    pub fn open(source: Source, data: BlockData, check_records: bool, repair: bool) -> AvroResult<Self> {
        let (container, name) = crate::read::open_container(source)?;
        let schema = parse_schema(&container.header.schema_json).map_err(|e| e.in_file(&name))?;
        let plan = match check_records {
            true => Some(RowPlan::new(&schema, None, None).map_err(|e| e.in_file(&name))?),
            false => None,
        };
        let min_record_size = schema.min_encoded_size(schema.root);
        let (skipped, ended, scratch) = (Vec::new(), false, Vec::new());
        Ok(Self { container, name, schema, data, plan, min_record_size, repair, skipped, ended, scratch })
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.container.header
    }

    /// The file's writer schema, parsed.
    pub fn schema(&self) -> &AvroSchema {
        &self.schema
    }

    /// The name errors give the file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes of the file read so far.
    pub fn position(&self) -> u64 {
        self.container.offset()
    }

    /// The damage left out so far (with `repair`), taken.
    pub fn take_skipped(&mut self) -> Vec<SkippedData> {
        std::mem::take(&mut self.skipped)
    }

    /// The next intact block, or None at the end of the file. Without `repair`, damage
    /// is an error naming the file, block and offset.
    pub fn next_block(&mut self) -> AvroResult<Option<Block>> {
        while !self.ended {
            let framed = match self.data == BlockData::Framing && self.plan.is_none() {
                true => self.container.skip_block(),
                false => self.container.next_block(),
            };
            let raw = match framed {
                Ok(Some(raw)) => raw,
                Ok(None) => {
                    self.ended = true;
                    continue;
                },
                Err(e) => {
                    let e = e.in_file(&self.name);
                    if !self.repair || !e.is_damage() {
                        return Err(e);
                    }
                    let resynced = self.container.resync().map_err(|e| e.in_file(&self.name))?;
                    self.skipped.push(SkippedData { error: e, records: resynced.records_lost.map(|n| n as usize) });
                    self.ended = !resynced.resumes;
                    continue;
                },
            };
            match self.checked(raw) {
                Ok(block) => return Ok(Some(block)),
                Err((e, _)) if !self.repair || !e.is_damage() => return Err(e),
                // The framing held: the next block starts after this one's marker.
                Err((e, records)) => self.skipped.push(SkippedData { error: e, records: Some(records) }),
            }
        }
        Ok(None)
    }

    /// The block as asked, once its data decompresses and, when asked, its records decode.
    fn checked(&mut self, raw: crate::container::RawBlock) -> Result<Block, (AvroError, usize)> {
        let (index, offset, count) = (raw.index, raw.offset, raw.count);
        let locate = |e: AvroError| (e.in_file(&self.name).in_block(index).at_offset(offset), count);
        let codec = self.container.header.codec;
        let plain_needed = self.data == BlockData::Decompressed || self.plan.is_some();
        let used = (|| {
            if plain_needed && codec != Codec::Null {
                codec.decompress(&raw.data, &mut self.scratch)?;
            }
            if let Some(plan) = &self.plan {
                let plain: &[u8] = if codec == Codec::Null { &raw.data } else { &self.scratch };
                let mut decoder = BlockDecoder::new(&self.schema, plan, self.min_record_size);
                decoder.decode_block(plain, count, true, None, PartStart::default())?;
            }
            Ok(())
        })();
        // A file cut while read may have read as zeros: no damage to skip (see `check_intact`).
        check_intact(&raw.data, used.is_err()).map_err(|e| locate(AvroError::io(e, "reading the file failed")))?;
        used.map_err(locate)?;
        let data = match (self.data, codec) {
            (BlockData::Framing, _) => Bytes::new(),
            // Copied out of a mapped file, and checked after (see `check_intact`): the block
            // outlives this call, and the file may be cut while it is used.
            (BlockData::Stored, _) | (BlockData::Decompressed, Codec::Null) => Bytes::copy_from_slice(&raw.data),
            // Handed out as it is: the next block decompresses into a buffer of its own.
            (BlockData::Decompressed, _) => Bytes::from(std::mem::take(&mut self.scratch)),
        };
        check_intact(&raw.data, false).map_err(|e| locate(AvroError::io(e, "reading the file failed")))?;
        Ok(Block { index, offset, count, stored_size: raw.size, data })
    }
}

/// A new container file written block by block: blocks of its own codec copied as they
/// are, or decompressed data compressed here.
pub struct BlockWriter<W: Write> {
    container: ContainerWriter<W>,
    codec: Codec,
    level: i32,
    scratch: Vec<u8>,
    records: u64,
}

impl<W: Write> BlockWriter<W> {
    /// Writes the header: the schema as given (not re-serialized, so that it stays the
    /// source's byte for byte), the codec and the user's metadata.
    pub fn new(
        sink: W,
        schema_json: &str,
        codec: Codec,
        level: Option<i32>,
        metadata: &[(String, Vec<u8>)],
    ) -> AvroResult<Self> {
        Self::open(|| Ok(sink), schema_json, codec, level, metadata)
    }

    /// As [`BlockWriter::new`], the sink opened by `open` only once the schema and the
    /// level have been checked: a refused option leaves no file behind.
    pub fn open(
        open: impl FnOnce() -> AvroResult<W>,
        schema_json: &str,
        codec: Codec,
        level: Option<i32>,
        metadata: &[(String, Vec<u8>)],
    ) -> AvroResult<Self> {
        parse_schema(schema_json)?;
        let level = codec.checked_level(level)?;
        let container = ContainerWriter::new(open()?, schema_json, codec, metadata)?;
        Ok(Self { container, codec, level, scratch: Vec::new(), records: 0 })
    }

    /// The codec blocks are written with.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Writes a block of `count` records: `data` is already compressed with this writer's
    /// codec when `stored`, else decompressed and compressed here.
    pub fn write_block(&mut self, count: usize, data: &[u8], stored: bool) -> AvroResult<()> {
        if stored || self.codec == Codec::Null {
            self.container.write_block(count, data)?;
        } else {
            self.codec.compress(data, self.level, &mut self.scratch)?;
            self.container.write_block(count, &self.scratch)?;
        }
        self.records += count as u64;
        Ok(())
    }

    /// Writes blocks of the file `source` stored with codec `from` (each: record count,
    /// data, offset in `source`, for errors), decompressed and compressed with this
    /// writer's codec on `threads` threads, in order: a change of codec is the whole cost
    /// of a recodec, and blocks are independent.
    pub fn write_recoded(
        &mut self,
        blocks: &[(usize, &[u8], u64)],
        from: Codec,
        source: &str,
        threads: usize,
    ) -> AvroResult<()> {
        let (to, level) = (self.codec, self.level);
        let recode = |&(_, data, offset): &(usize, &[u8], u64)| -> AvroResult<Vec<u8>> {
            let mut plain = Vec::new();
            from.decompress(data, &mut plain).map_err(|e| e.in_file(source).at_offset(offset))?;
            let mut out = Vec::new();
            to.compress(&plain, level, &mut out)?;
            Ok(out)
        };
        let recoded: Vec<AvroResult<Vec<u8>>> = pool(threads)?.install(|| blocks.par_iter().map(recode).collect());
        for (&(count, _, _), data) in blocks.iter().zip(recoded) {
            self.container.write_block(count, &data?)?;
            self.records += count as u64;
        }
        Ok(())
    }

    /// Records written so far.
    pub fn records_written(&self) -> u64 {
        self.records
    }

    /// Flushes the sink and hands it back.
    pub fn finish(self) -> AvroResult<W> {
        self.container.finish()
    }

    /// The sink, as it is: for a copy abandoned midway.
    pub fn abandon(self) -> W {
        self.container.abandon()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::error::ErrorKind;

    const SCHEMA: &str = r#"{"type": "record", "name": "R", "fields": [{"name": "x", "type": "long"}]}"#;

    /// A deflate file of two blocks: three records, then two whose bytes no record decodes
    /// from (a varint that never ends), though they decompress.
    fn file() -> Vec<u8> {
        let mut writer = ContainerWriter::new(Vec::new(), SCHEMA, Codec::Deflate, &[]).unwrap();
        let level = Codec::Deflate.checked_level(None).unwrap();
        for (count, plain) in [(3, vec![2, 4, 6]), (2, vec![0xff; 4])] {
            let mut compressed = Vec::new();
            Codec::Deflate.compress(&plain, level, &mut compressed).unwrap();
            writer.write_block(count, &compressed).unwrap();
        }
        writer.finish().unwrap()
    }

    fn all(reader: &mut BlockFile) -> AvroResult<Vec<Block>> {
        std::iter::from_fn(|| reader.next_block().transpose()).collect()
    }

    #[test]
    fn framing_alone_hands_out_no_data_and_checks_no_records_unless_asked() {
        let mut reader = BlockFile::open(Source::from_bytes(file()), BlockData::Framing, false, false).unwrap();
        let blocks = all(&mut reader).unwrap();
        let shown: Vec<(usize, usize, bool)> = blocks.iter().map(|b| (b.index, b.count, b.data.is_empty())).collect();
        assert_eq!(shown, [(0, 3, true), (1, 2, true)]);
        assert_eq!(blocks[0].offset, reader.header().len);
        // Asked to check records, the framing still hands out no data, but the damage is found.
        let mut reader = BlockFile::open(Source::from_bytes(file()), BlockData::Framing, true, false).unwrap();
        let first = reader.next_block().unwrap().unwrap();
        assert!(first.data.is_empty());
        let error = reader.next_block().unwrap_err();
        assert_eq!(error.kind, ErrorKind::Decode);
        assert_eq!(
            (error.file.as_deref(), error.block, error.offset),
            (Some("<bytes>"), Some(1), Some(blocks[1].offset))
        );
        // With repair the block is left out, its records counted.
        let mut reader = BlockFile::open(Source::from_bytes(file()), BlockData::Decompressed, true, true).unwrap();
        let kept = all(&mut reader).unwrap();
        assert_eq!(kept.iter().map(|b| (b.index, b.data.to_vec())).collect::<Vec<_>>(), [(0, vec![2, 4, 6])]);
        let skipped = reader.take_skipped();
        assert_eq!((skipped.len(), skipped[0].records, skipped[0].error.block), (1, Some(2), Some(1)));
        assert!(reader.take_skipped().is_empty(), "taken");
    }

    #[test]
    fn a_refused_schema_or_level_opens_no_sink() {
        for (schema, codec, level) in
            [("{", Codec::Null, None), (SCHEMA, Codec::Null, Some(1)), (SCHEMA, Codec::Deflate, Some(99))]
        {
            let opened = Cell::new(false);
            let open = || {
                opened.set(true);
                Ok(Vec::<u8>::new())
            };
            assert!(BlockWriter::open(open, schema, codec, level, &[]).is_err(), "{schema} {codec:?} {level:?}");
            assert!(!opened.get());
        }
        let mut writer = BlockWriter::new(Vec::new(), SCHEMA, Codec::Null, None, &[]).unwrap();
        writer.write_block(2, &[2, 4], false).unwrap();
        writer.write_block(1, &[6], true).unwrap();
        assert_eq!((writer.codec(), writer.records_written()), (Codec::Null, 3));
        let mut reader =
            BlockFile::open(Source::from_bytes(writer.finish().unwrap()), BlockData::Stored, true, false).unwrap();
        let counts: Vec<usize> = all(&mut reader).unwrap().iter().map(|b| b.count).collect();
        assert_eq!(counts, [2, 1]);
    }
}
