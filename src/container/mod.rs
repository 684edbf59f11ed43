//! The Avro object container format: header (magic, metadata, sync marker) and the
//! framing of data blocks, read in `reader` (with framing found ahead of it in `framing`,
//! both by the one block framer in `framer`) and written in `writer`; the block codecs in
//! `codec`.

mod codec;
mod framer;
mod framing;
mod reader;
mod resync;
mod writer;

pub use codec::{Codec, MAX_BLOCK_LEN};
pub use framing::{walk_frames, FrameHints};
pub use reader::{check_magic, is_reserved_key, ByteRange, ContainerReader, Header, RawBlock, Resynced};
pub use writer::ContainerWriter;
