//! The Avro object container format: the header (magic, metadata, sync marker) decided in
//! `header`, the framing of data blocks in `framer`, both from bytes pushed by the one
//! refill loop in `push`; blocks read in `reader` (with framing found ahead of it in
//! `framing`, where reading resumes after damage decided in `resync`, bytes read again
//! given back in `replay`) and written in `writer`; the block codecs in `codec`, over
//! libdeflate's own state in `libdeflate`.

mod codec;
mod framer;
mod framing;
mod header;
mod libdeflate;
mod push;
mod reader;
mod replay;
mod resync;
mod writer;

pub use codec::{Codec, MAX_BLOCK_LEN};
pub use framing::{walk_frames, FrameHints};
pub use header::{check_magic, is_reserved_key, Header};
pub use reader::{ByteRange, ContainerReader, RawBlock, Resynced};
pub use writer::ContainerWriter;
