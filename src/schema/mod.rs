//! Avro schemas: the model ([`AvroSchema`], an arena of nodes), parsed from JSON
//! (`parse`), unified across files (`unify`), and values given as JSON (datums and field
//! defaults) encoded as Avro (`json`).

mod json;
mod model;
mod parse;
mod unify;

pub use json::{encode_default, encode_json, JsonMode};
pub use model::{
    field_path, AvroSchema, Field, Logical, LongTime, Name, Node, NodeId, MAX_TEXT_DIGITS, TIME_ZONE_ATTRIBUTE,
};
pub use parse::parse_schema;
pub use unify::unify_schemas;
