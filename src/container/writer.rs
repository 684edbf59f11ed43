//! Writing the object container format: the header (magic, metadata, sync marker), then
//! blocks framed by their record count, byte size and the sync marker.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{IoSlice, Write};

use super::codec::Codec;
use super::header::{is_reserved_key, MAGIC};
use crate::error::{AvroError, AvroResult};
use crate::varint::{put_bytes, put_long};

/// Writes a container file to any byte sink; blocks arrive already compressed.
pub struct ContainerWriter<W: Write> {
    sink: W,
    sync: [u8; 16],
    /// Bytes written so far, for error messages.
    offset: u64,
    blocks: usize,
}

impl<W: Write> ContainerWriter<W> {
    /// Writes the header. `metadata` holds the user's entries; avro.schema and avro.codec
    /// are added here and may not be among them.
    pub fn new(mut sink: W, schema_json: &str, codec: Codec, metadata: &[(String, Vec<u8>)]) -> AvroResult<Self> {
        Self::check_metadata(metadata)?;
        let sync = random_sync_marker();
        let mut header = Vec::with_capacity(schema_json.len() + 128);
        header.extend_from_slice(&MAGIC);
        put_long(&mut header, metadata.len() as i64 + 2);
        put_bytes(&mut header, b"avro.schema");
        put_bytes(&mut header, schema_json.as_bytes());
        put_bytes(&mut header, b"avro.codec");
        put_bytes(&mut header, codec.name().as_bytes());
        for (key, value) in metadata {
            put_bytes(&mut header, key.as_bytes());
            put_bytes(&mut header, value);
        }
        put_long(&mut header, 0);
        header.extend_from_slice(&sync);
        sink.write_all(&header).map_err(|e| AvroError::io(e, "writing the header failed").at_offset(0))?;
        Ok(Self { sink, sync, offset: header.len() as u64, blocks: 0 })
    }

    /// Refuses user metadata under the keys the format reserves (`avro.*`).
    pub fn check_metadata(metadata: &[(String, Vec<u8>)]) -> AvroResult<()> {
        match metadata.iter().find(|(k, _)| is_reserved_key(k)) {
            Some((key, _)) => Err(AvroError::argument(format!(
                "metadata keys starting with 'avro.' are reserved for the format, found '{key}'"
            ))),
            None => Ok(()),
        }
    }

    /// Writes one block: `count` records whose encoding, compressed, is `data`.
    pub fn write_block(&mut self, count: usize, data: &[u8]) -> AvroResult<()> {
        let mut frame = Vec::with_capacity(20);
        put_long(&mut frame, count as i64);
        put_long(&mut frame, data.len() as i64);
        // One vectored write: a buffered sink passes a block larger than its buffer straight
        // through, with no copy into the buffer.
        let mut parts = [IoSlice::new(&frame), IoSlice::new(data), IoSlice::new(&self.sync)];
        write_all_vectored(&mut self.sink, &mut parts)
            .map_err(|e| AvroError::io(e, "writing a block failed").in_block(self.blocks).at_offset(self.offset))?;
        self.offset += (frame.len() + data.len() + self.sync.len()) as u64;
        self.blocks += 1;
        Ok(())
    }

    /// Blocks written so far.
    pub fn blocks_written(&self) -> usize {
        self.blocks
    }

    /// Bytes written so far, the header included.
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    /// The sink, as it is: for a write abandoned midway.
    pub fn abandon(self) -> W {
        self.sink
    }

    /// Flushes the sink and hands it back.
    pub fn finish(mut self) -> AvroResult<W> {
        self.sink.flush().map_err(|e| AvroError::io(e, "flushing the file failed").at_offset(self.offset))?;
        Ok(self.sink)
    }
}

/// `Write::write_all_vectored`, which is not stable yet.
fn write_all_vectored(sink: &mut impl Write, mut parts: &mut [IoSlice<'_>]) -> std::io::Result<()> {
    while !parts.is_empty() {
        match sink.write_vectored(parts) {
            Ok(0) => return Err(std::io::Error::new(std::io::ErrorKind::WriteZero, "the sink took no bytes")),
            Ok(n) => IoSlice::advance_slices(&mut parts, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {},
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// 16 bytes that differ from file to file (the specification asks for a random marker),
/// from the standard library's randomly seeded hasher: no RNG crate needed for this.
fn random_sync_marker() -> [u8; 16] {
    let mut marker = [0u8; 16];
    for half in marker.chunks_mut(8) {
        let mut hasher = RandomState::new().build_hasher();
        hasher
            .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    marker
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longs_are_zigzag_varints() {
        let encode = |v: i64| {
            let mut out = Vec::new();
            put_long(&mut out, v);
            out
        };
        assert_eq!(encode(0), [0]);
        assert_eq!(encode(-1), [1]);
        assert_eq!(encode(1), [2]);
        assert_eq!(encode(-64), [0x7f]);
        assert_eq!(encode(64), [0x80, 0x01]);
        assert_eq!(encode(i64::MIN), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    }

    #[test]
    fn metadata_under_the_formats_keys_is_refused() {
        let entries = |key: &str| vec![("app.version".to_string(), b"1".to_vec()), (key.to_string(), b"x".to_vec())];
        assert!(ContainerWriter::<Vec<u8>>::check_metadata(&entries("avrox")).is_ok());
        for key in ["avro.schema", "avro.codec", "avro.other"] {
            let message = ContainerWriter::<Vec<u8>>::check_metadata(&entries(key)).unwrap_err().to_string();
            assert!(message.contains(&format!("reserved for the format, found '{key}'")), "{message}");
        }
    }

    #[test]
    fn sync_markers_differ() {
        assert_ne!(random_sync_marker(), random_sync_marker());
    }
}
