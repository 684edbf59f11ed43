//! Binary datums of a schema as JSON text and back, and datums made up at random: what
//! the command line's `tojson`, `fromjson` and `random` do to a block's records.
//!
//! - `render`: datums as JSON lines, in Avro's JSON encoding or plain (unions unwrapped),
//!   through the one JSON renderer of `decode::json`;
//! - `parse`: JSON lines as datums of a writer schema, in either mode;
//! - `random`: random datums of any schema, the same for the same seed.
//!
//! It works on the schema model and the datums' bytes only: no Polars types.

mod parse;
mod random;
mod render;

pub use crate::decode::Logicals;
pub use crate::schema::JsonMode;
pub use parse::encode_lines;
pub use random::random_datums;
pub use render::render_datums;
