//! Block codecs of the Avro object container format.

use std::cell::RefCell;
use std::io::Read;

use super::libdeflate::{Deflater, InflateError, Inflater};
use crate::error::{AvroError, AvroResult};

/// The most bytes a block may decompress to: Java's largest sync interval (writers
/// make blocks of kilobytes to megabytes). It keeps a decompression bomb (kilobytes of
/// zstandard or bzip2 that expand a millionfold) from exhausting the memory.
pub const MAX_BLOCK_LEN: usize = 1 << 30;

/// A block codec of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// Blocks stored as they are.
    Null,
    /// Raw deflate (RFC 1951).
    Deflate,
    /// Snappy, each block followed by the CRC-32 of its uncompressed bytes.
    Snappy,
    /// Zstandard.
    Zstandard,
    /// bzip2.
    Bzip2,
    /// xz (LZMA2).
    Xz,
}

impl Codec {
    /// The codec an `avro.codec` entry names (`zstd` too; empty or missing: null).
    pub fn from_name(name: &str) -> AvroResult<Self> {
        Ok(match name {
            "null" | "" => Codec::Null,
            "deflate" => Codec::Deflate,
            "snappy" => Codec::Snappy,
            "zstandard" | "zstd" => Codec::Zstandard,
            "bzip2" => Codec::Bzip2,
            "xz" => Codec::Xz,
            other => {
                return Err(AvroError::codec(format!(
                    "unknown codec '{other}' in avro.codec: expected one of null, deflate, snappy, zstandard, bzip2, xz"
                )))
            },
        })
    }

    /// The codecs by the names writers take (`compression=`): the names of `avro.codec`,
    /// with `uncompressed` for null, as Polars names it.
    pub const COMPRESSIONS: [(&'static str, Codec); 6] = [
        ("uncompressed", Codec::Null),
        ("snappy", Codec::Snappy),
        ("deflate", Codec::Deflate),
        ("zstandard", Codec::Zstandard),
        ("bzip2", Codec::Bzip2),
        ("xz", Codec::Xz),
    ];

    /// The codec a writer's `compression=` names: one of [`Codec::COMPRESSIONS`], or a
    /// name `avro.codec` accepts.
    pub fn from_compression(name: &str) -> AvroResult<Self> {
        if let Some((_, codec)) = Self::COMPRESSIONS.iter().find(|(n, _)| *n == name) {
            return Ok(*codec);
        }
        Self::from_name(name).map_err(|_| {
            let names: Vec<&str> = Self::COMPRESSIONS.iter().map(|(n, _)| *n).collect();
            AvroError::argument(format!("unknown compression '{name}': expected one of {}", names.join(", ")))
        })
    }

    /// The name written in `avro.codec`.
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Null => "null",
            Codec::Deflate => "deflate",
            Codec::Snappy => "snappy",
            Codec::Zstandard => "zstandard",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }

    /// Decompresses one block's bytes into `out` (replacing what it held, its capacity reused).
    pub fn decompress(&self, data: &[u8], out: &mut Vec<u8>) -> AvroResult<()> {
        if !matches!(self, Codec::Deflate | Codec::Snappy) {
            // Inflate and snappy size the buffer themselves, keeping bytes already
            // initialised: zeroing a reused buffer again costs a pass over every block.
            out.clear();
        }
        let failed = |e: &dyn std::fmt::Display| self.read_error(e);
        // Streams are read one byte past the bound, to tell a block at the bound from a bomb.
        let bounded = |reader: &mut dyn Read, out: &mut Vec<u8>| reader.take(MAX_BLOCK_LEN as u64 + 1).read_to_end(out);
        match self {
            Codec::Null => out.extend_from_slice(data),
            Codec::Deflate => inflate(data, out).map_err(|e| failed(&e))?,
            Codec::Snappy => decompress_snappy(data, out)?,
            Codec::Zstandard if decompress_zstd_one_shot(data, out) => {},
            Codec::Zstandard | Codec::Bzip2 | Codec::Xz => {
                out.clear();
                bounded(&mut self.stream(data)?, out).map_err(|e| failed(&e))?;
            },
        }
        if out.len() > MAX_BLOCK_LEN {
            return Err(self.too_large(data.len()));
        }
        Ok(())
    }
}

impl Codec {
    /// A block's bytes decompressed as a stream: how [`Codec::decompress`] undoes the
    /// codecs that have no one-shot path, and how blocks read in parts (`read::parts`)
    /// are undone whatever their codec. Read [`MAX_BLOCK_LEN`] bytes at most: the stream
    /// does not stop there by itself. Null and snappy blocks are held whole (snappy cannot
    /// be undone in pieces); a stream's read errors become [`Codec::read_error`]s.
    pub fn stream<'a>(&self, data: impl AsRef<[u8]> + Send + 'a) -> AvroResult<Box<dyn Read + Send + 'a>> {
        let data = std::io::Cursor::new(data);
        Ok(match self {
            Codec::Null => Box::new(data),
            Codec::Deflate => Box::new(flate2::read::DeflateDecoder::new(data)),
            Codec::Snappy => {
                let mut out = Vec::new();
                decompress_snappy(data.get_ref().as_ref(), &mut out)?;
                Box::new(std::io::Cursor::new(out))
            },
            Codec::Zstandard => {
                Box::new(zstd::stream::read::Decoder::with_buffer(data).map_err(|e| self.read_error(&e))?)
            },
            Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
            Codec::Xz => Box::new(xz2::read::XzDecoder::new_multi_decoder(data)),
        })
    }

    /// Whether [`Codec::stream`] undoes a block piece by piece, rather than holding it whole.
    pub fn inflates_in_pieces(&self) -> bool {
        !matches!(self, Codec::Null | Codec::Snappy)
    }

    /// Bytes that do not decompress.
    pub fn read_error(&self, e: &dyn std::fmt::Display) -> AvroError {
        AvroError::codec(format!("{} decompression failed: {e}", self.name()))
    }

    /// The error of a block that decompresses to more than [`MAX_BLOCK_LEN`] bytes.
    pub fn too_large(&self, compressed: usize) -> AvroError {
        AvroError::codec(format!(
            "{} block of {compressed} bytes decompresses to more than {MAX_BLOCK_LEN} bytes, the most a block may hold",
            self.name()
        ))
    }

    /// The levels a codec accepts, and the one it uses when none is given.
    pub fn level_range(&self) -> Option<(i32, i32, i32)> {
        match self {
            Codec::Null | Codec::Snappy => None,
            Codec::Deflate => Some((0, 9, 6)),
            Codec::Zstandard => Some((1, 22, 3)),
            Codec::Bzip2 => Some((1, 9, 9)),
            Codec::Xz => Some((0, 9, 6)),
        }
    }

    /// Checks a user's compression level: None takes the codec's default.
    pub fn checked_level(&self, level: Option<i32>) -> AvroResult<i32> {
        match (self.level_range(), level) {
            (None, None) => Ok(0),
            (None, Some(level)) => {
                Err(AvroError::argument(format!("the {} codec takes no compression level, found {level}", self.name())))
            },
            (Some((_, _, default)), None) => Ok(default),
            (Some((low, high, _)), Some(level)) if (low..=high).contains(&level) => Ok(level),
            (Some((low, high, _)), Some(level)) => Err(AvroError::argument(format!(
                "the {} compression level must be from {low} to {high}, found {level}",
                self.name()
            ))),
        }
    }

    /// Compresses one block's bytes into `out` (cleared first), at a level checked by
    /// [`Codec::checked_level`].
    pub fn compress(&self, data: &[u8], level: i32, out: &mut Vec<u8>) -> AvroResult<()> {
        out.clear();
        let failed = |e: &dyn std::fmt::Display| AvroError::codec(format!("{} compression failed: {e}", self.name()));
        match self {
            Codec::Null => out.extend_from_slice(data),
            Codec::Deflate => deflate(data, level as u32, out).map_err(|e| failed(&e))?,
            Codec::Snappy => {
                out.resize(snap::raw::max_compress_len(data.len()), 0);
                let len = snap::raw::Encoder::new().compress(data, out).map_err(|e| failed(&e))?;
                out.truncate(len);
                out.extend_from_slice(&crc32fast::hash(data).to_be_bytes());
            },
            Codec::Zstandard => compress_zstd(data, level, out).map_err(|e| failed(&e))?,
            Codec::Bzip2 => {
                let compression = bzip2::Compression::new(level as u32);
                bzip2::read::BzEncoder::new(data, compression).read_to_end(out).map_err(|e| failed(&e))?;
            },
            Codec::Xz => {
                xz2::read::XzEncoder::new(data, level as u32).read_to_end(out).map_err(|e| failed(&e))?;
            },
        }
        Ok(())
    }
}

/// Raw deflate (no zlib header), as Avro wants it, by libdeflate: a whole block in one
/// call, about 1.6x as fast as zlib-rs at the default level 6 for the same size (1M
/// records of the benchmark's primitives in 1 MiB blocks: 0.66 s against 1.08 s). Its
/// levels 0 to 9 are zlib's. The compressor is kept per thread, per level.
fn deflate(data: &[u8], level: u32, out: &mut Vec<u8>) -> Result<(), String> {
    thread_local! {
        static DEFLATER: RefCell<Option<(u32, Deflater)>> = const { RefCell::new(None) };
    }
    DEFLATER.with_borrow_mut(|slot| {
        let deflater = match slot {
            Some((l, d)) if *l == level => d,
            _ => &mut slot.insert((level, libdeflate_state("compressor", Deflater::new(level))?)).1,
        };
        deflater.compress(data, out);
        Ok(())
    })
}

/// libdeflate's state for a thread, or the system's refusal of its memory (under an
/// address-space limit) noted, so that the work stops with an out-of-memory error
/// (`crate::memory`).
fn libdeflate_state<T>(what: &str, state: Option<T>) -> Result<T, String> {
    state.ok_or_else(|| {
        crate::memory::note_failed(0);
        format!("out of memory: libdeflate could not allocate its {what}")
    })
}

/// zstandard with a per-thread context, the frame stating its size (readers, ours
/// included, then decompress it in one call).
fn compress_zstd(data: &[u8], level: i32, out: &mut Vec<u8>) -> std::io::Result<()> {
    thread_local! {
        static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    }
    COMPRESSOR.with_borrow_mut(|slot| {
        if !matches!(slot, Some((l, _)) if *l == level) {
            let mut compressor = zstd::bulk::Compressor::new(level)?;
            compressor.include_contentsize(true)?;
            *slot = Some((level, compressor));
        }
        let compressor = &mut slot.as_mut().unwrap().1;
        out.reserve(zstd::zstd_safe::compress_bound(data.len()));
        compressor.compress_to_buffer(data, out)?;
        Ok(())
    })
}

/// Blocks claiming more than this are decompressed as a stream, so that a corrupt size in
/// a frame header cannot become a large allocation.
const MAX_ONE_SHOT_LEN: u64 = 256 << 20;

/// Decompresses a zstandard frame that states its size straight into a buffer of that
/// size, in one call. False when the frame does not say, or says too much, or anything
/// goes wrong: the streaming decoder then does the work (and reports errors).
fn decompress_zstd_one_shot(data: &[u8], out: &mut Vec<u8>) -> bool {
    thread_local! {
        static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
    }
    let Ok(Some(len)) = zstd::zstd_safe::get_frame_content_size(data) else { return false };
    if len > MAX_ONE_SHOT_LEN {
        return false;
    }
    out.reserve(len as usize);
    DECOMPRESSOR.with_borrow_mut(|slot| {
        if slot.is_none() {
            *slot = zstd::bulk::Decompressor::new().ok();
        }
        slot.as_mut().is_some_and(|d| d.decompress_to_buffer(data, out).is_ok())
    })
}

/// Raw deflate (no zlib header), as Avro writes it, inflated by libdeflate: a whole block
/// in one call, about 1.6x as fast as a streaming inflater. Avro does not record how large
/// a block inflates to, so the buffer is sized by the last block's ratio (blocks of a file
/// compress alike), with a little room, and doubled until the block fits. Whatever `out`
/// already holds is overwritten, not zeroed again. The decompressor is kept per thread.
fn inflate(data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    thread_local! {
        static INFLATER: RefCell<Option<(Inflater, f64)>> = const { RefCell::new(None) };
    }
    INFLATER.with_borrow_mut(|slot| {
        let (inflater, last_ratio) = match slot {
            Some(inflater) => inflater,
            None => slot.insert((libdeflate_state("decompressor", Inflater::new())?, 4.0)),
        };
        let guess = (data.len() as f64 * *last_ratio * 1.1) as usize + 1024;
        let mut len = guess.min(MAX_BLOCK_LEN + 1);
        loop {
            out.resize(len, 0);
            match inflater.inflate(data, out) {
                Ok(inflated) => {
                    out.truncate(inflated);
                    *last_ratio = inflated as f64 / data.len().max(1) as f64;
                    return Ok(());
                },
                // Past the bound: the caller reports the bomb.
                Err(InflateError::NoSpace) if len > MAX_BLOCK_LEN => return Ok(()),
                Err(InflateError::NoSpace) => len = (len * 2).min(MAX_BLOCK_LEN + 1),
                Err(InflateError::BadData) => {
                    return Err("the data is not a valid deflate stream (corrupt or truncated)".to_string())
                },
            }
        }
    })
}

/// Snappy in Avro: a raw snappy block followed by the big-endian CRC32 of the
/// uncompressed bytes.
fn decompress_snappy(data: &[u8], out: &mut Vec<u8>) -> AvroResult<()> {
    if data.len() < 4 {
        return Err(AvroError::codec(format!(
            "expected a snappy block of at least 4 bytes (data then CRC32), found {} bytes",
            data.len()
        )));
    }
    let (compressed, crc) = data.split_at(data.len() - 4);
    let expected_crc = u32::from_be_bytes(crc.try_into().unwrap());
    let len = snap::raw::decompress_len(compressed)
        .map_err(|e| AvroError::codec(format!("snappy decompression failed: {e}")))?;
    // A snappy element of n bytes expands to at most about 22n bytes: a larger claim is corrupt,
    // and must not become a large allocation.
    if len > compressed.len().saturating_mul(32) + 64 {
        return Err(AvroError::codec(format!(
            "snappy block claims {len} uncompressed bytes from {} compressed bytes, more than snappy can produce",
            compressed.len()
        )));
    }
    out.resize(len, 0); // zeroes only what the buffer grows by
    snap::raw::Decoder::new()
        .decompress(compressed, out)
        .map_err(|e| AvroError::codec(format!("snappy decompression failed: {e}")))?;
    let actual_crc = crc32fast::hash(out);
    if actual_crc != expected_crc {
        return Err(AvroError::codec(format!(
            "snappy block checksum mismatch: expected CRC32 {expected_crc:#010x}, found {actual_crc:#010x}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::error::ErrorKind;

    /// Bytes that compress, but not to nothing: a repeating text with a counter in it.
    fn sample() -> Vec<u8> {
        (0..20_000u32).flat_map(|i| format!("record {} of the sample;", i % 977).into_bytes()).collect()
    }

    fn compressed(codec: Codec, data: &[u8], level: Option<i32>) -> Vec<u8> {
        let mut out = Vec::new();
        codec.compress(data, codec.checked_level(level).unwrap(), &mut out).unwrap();
        out
    }

    #[test]
    fn every_codec_and_level_round_trips_one_shot_and_streamed() {
        let data = sample();
        for (_, codec) in Codec::COMPRESSIONS {
            let levels = match codec.level_range() {
                None => vec![None],
                Some((low, high, _)) => vec![None, Some(low), Some(high)],
            };
            for level in levels {
                let block = compressed(codec, &data, level);
                // Deflate's level 0 stores the bytes as they are.
                if codec != Codec::Null && !(codec == Codec::Deflate && level == Some(0)) {
                    assert!(block.len() < data.len() / 2, "{codec:?} {level:?}: {} bytes", block.len());
                }
                // A reused buffer, shorter or longer than the block: what it held must not stay.
                for mut out in [vec![1, 2, 3], vec![7; data.len() + 100]] {
                    codec.decompress(&block, &mut out).unwrap();
                    assert!(out == data, "{codec:?} {level:?}: one-shot");
                }
                let mut streamed = Vec::new();
                codec.stream(&block).unwrap().read_to_end(&mut streamed).unwrap();
                assert!(streamed == data, "{codec:?} {level:?}: streamed");
            }
        }
    }

    #[test]
    fn a_snappy_block_is_checked_against_its_crc() {
        let data = sample();
        let mut block = compressed(Codec::Snappy, &data, None);
        let last = block.len() - 1;
        block[last] ^= 1;
        let err = Codec::Snappy.decompress(&block, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Codec);
        assert!(err.message.contains("checksum mismatch"), "{err}");
        let err = Codec::Snappy.decompress(&block[..3], &mut Vec::new()).unwrap_err();
        assert!(err.message.contains("at least 4 bytes"), "{err}");
    }

    #[test]
    fn bytes_that_do_not_decompress_are_codec_errors() {
        let garbage: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        for codec in [Codec::Deflate, Codec::Snappy, Codec::Zstandard, Codec::Bzip2, Codec::Xz] {
            let err = codec.decompress(&garbage, &mut Vec::new()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Codec, "{codec:?}: {err}");
            assert!(err.message.contains(codec.name()) || err.message.contains("snappy"), "{codec:?}: {err}");
        }
    }

    #[test]
    fn levels_are_checked_against_each_codec_range() {
        assert_eq!(Codec::Deflate.checked_level(None).unwrap(), 6);
        assert_eq!(Codec::Zstandard.checked_level(Some(22)).unwrap(), 22);
        let err = Codec::Deflate.checked_level(Some(42)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Argument);
        assert!(err.message.contains("from 0 to 9, found 42"), "{err}");
        let err = Codec::Snappy.checked_level(Some(1)).unwrap_err();
        assert!(err.message.contains("takes no compression level"), "{err}");
    }
}
