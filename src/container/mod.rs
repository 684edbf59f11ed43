//! The Avro object container format: header (magic, metadata, sync marker) and the
//! framing of data blocks, read in `reader` and written in `writer`; the block codecs in
//! `codec`.

mod codec;
mod reader;
mod resync;
mod writer;

pub use codec::{Codec, MAX_BLOCK_LEN};
pub use reader::{check_magic, is_reserved_key, ByteRange, ContainerReader, Header, RawBlock, Resynced};
pub use writer::ContainerWriter;
