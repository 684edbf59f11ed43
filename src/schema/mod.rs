//! Avro schemas: the model ([`AvroSchema`], an arena of nodes), parsed from JSON
//! (`parse`), unified across files (`unify`), the specification's rules for names that a
//! written schema keeps (`names`), and values given as JSON (datums and field defaults)
//! encoded as Avro (`json`).

mod json;
mod model;
pub(crate) mod names;
mod parse;
mod unify;

pub use json::JsonMode;
pub(crate) use json::{encode_default, encode_json};
pub use model::AvroSchema;
pub(crate) use model::{
    field_path, Field, Logical, LongTime, Name, Node, NodeId, MAX_TEXT_DIGITS, TIME_ZONE_ATTRIBUTE,
};
pub use names::check_written_names;
pub use parse::parse_schema;
pub use unify::{unify_schemas, with_null_defaults};
