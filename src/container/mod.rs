//! The Avro object container format: header (magic, metadata, sync marker) and the
//! framing of data blocks, read in `reader` and written in `writer`; the block codecs in
//! `codec`.

mod codec;
mod reader;
mod resync;
mod writer;

pub use codec::{Codec, MAX_BLOCK_LEN};
pub use reader::{check_magic, ByteRange, ContainerReader, Header, RawBlock, Resynced};
pub use writer::ContainerWriter;

/// Whether a header metadata key is one the format reserves (`avro.schema`, `avro.codec`
/// and any other `avro.*`): a writer refuses such keys from its user, and what a user
/// reads back as a file's own metadata is the rest ([`Header::user_metadata`]).
pub fn is_reserved_key(key: &str) -> bool {
    key.starts_with("avro.")
}
