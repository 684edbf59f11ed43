//! An Avro container file as the floors read it (`floor.rs`, `write_floor.rs`): its
//! header's codec and sync marker, its blocks walked a batch at a time, and each block's
//! records decompressed with the codec's own crate.

use super::hand::{Bad, Bytes};

#[derive(Clone, Copy, PartialEq)]
pub enum Codec {
    Null,
    Snappy,
    Deflate,
    Zstandard,
}

/// A block as the file holds it: its record count and its (compressed) bytes.
pub struct RawBlock<'a> {
    pub count: usize,
    pub data: &'a [u8],
}

/// The rows of a batch, each decoded into columns of its own, whole blocks at a time. Ours
/// makes batches of 65,536 rows; smaller ones keep a batch's columns in the cache while
/// they are built (the floor on one thread measured about 1.3x faster than with 65,536),
/// and let a file of few batches keep every thread busy to its end.
pub const BATCH_ROWS: usize = 8_192;

/// Whole blocks of about `BATCH_ROWS` records, and how many of their records to decode.
pub struct Batch<'a> {
    pub blocks: Vec<RawBlock<'a>>,
    pub rows: usize,
}

/// The blocks of a container file, walked a batch at a time, up to `left` records.
pub struct Walker<'a> {
    b: Bytes<'a>,
    pub codec: Codec,
    sync: [u8; 16],
    left: usize,
}

impl<'a> Walker<'a> {
    /// The file's header read: its codec and sync marker.
    pub fn new(file: &'a [u8], limit: Option<usize>) -> Result<Self, Bad> {
        let mut b = Bytes::new(file);
        if b.take(4)? != b"Obj\x01" {
            return Err(Bad("not an Avro container file"));
        }
        let mut codec = Codec::Null;
        b.each_item(|b| {
            let key = b.string()?;
            let value = b.bytes()?;
            if key == b"avro.codec" {
                codec = match value {
                    b"null" => Codec::Null,
                    b"snappy" => Codec::Snappy,
                    b"deflate" => Codec::Deflate,
                    b"zstandard" => Codec::Zstandard,
                    _ => return Err(Bad("a codec the floor does not know")),
                };
            }
            Ok(())
        })?;
        let sync = b.fixed()?;
        Ok(Self { b, codec, sync, left: limit.unwrap_or(usize::MAX) })
    }

    pub fn next_batch(&mut self) -> Result<Option<Batch<'a>>, Bad> {
        let (mut blocks, mut rows) = (Vec::new(), 0);
        while self.b.pos < self.b.data.len() && self.left > 0 && rows < BATCH_ROWS {
            let count = self.b.len()?;
            let size = self.b.len()?;
            blocks.push(RawBlock { count, data: self.b.take(size)? });
            if self.b.fixed::<16>()? != self.sync {
                return Err(Bad("a block not followed by the file's sync marker"));
            }
            let take = count.min(self.left);
            (rows, self.left) = (rows + take, self.left - take);
        }
        Ok((!blocks.is_empty()).then_some(Batch { blocks, rows }))
    }
}

/// A block's records, decompressed into `out` (left empty for the null codec: the block
/// is read where it lies).
pub fn decompress<'a>(codec: Codec, data: &'a [u8], out: &'a mut Vec<u8>) -> Result<&'a [u8], Bad> {
    match codec {
        Codec::Null => return Ok(data),
        Codec::Snappy => {
            let (body, crc) = data.split_at(data.len().checked_sub(4).ok_or(Bad("a snappy block too short"))?);
            let len = snap::raw::decompress_len(body).map_err(|_| Bad("a bad snappy block"))?;
            out.resize(len, 0);
            snap::raw::Decoder::new().decompress(body, out).map_err(|_| Bad("a bad snappy block"))?;
            if crc32fast::hash(out) != u32::from_be_bytes(crc.try_into().unwrap()) {
                return Err(Bad("a snappy block's checksum differs"));
            }
        },
        Codec::Deflate => {
            out.resize(out.capacity().max(data.len() * 4), 0);
            let mut inflater = libdeflater::Decompressor::new();
            loop {
                match inflater.deflate_decompress(data, out) {
                    Ok(len) => {
                        out.truncate(len);
                        break;
                    },
                    Err(libdeflater::DecompressionError::InsufficientSpace) => out.resize(out.len() * 2, 0),
                    Err(_) => return Err(Bad("a bad deflate block")),
                }
            }
        },
        Codec::Zstandard => {
            out.clear();
            // One call into a buffer of the size the frame states, else the stream; the
            // decompressor is kept per thread (making one costs as much as a block's work).
            thread_local! {
                static ZSTD: std::cell::RefCell<zstd::bulk::Decompressor<'static>> =
                    std::cell::RefCell::new(zstd::bulk::Decompressor::new().unwrap());
            }
            match zstd::zstd_safe::get_frame_content_size(data) {
                Ok(Some(len)) => {
                    out.reserve(len as usize);
                    ZSTD.with_borrow_mut(|d| d.decompress_to_buffer(data, out))
                        .map_err(|_| Bad("a bad zstandard block"))?;
                },
                _ => zstd::stream::copy_decode(data, &mut *out).map_err(|_| Bad("a bad zstandard block"))?,
            }
        },
    }
    Ok(out)
}
