//! Avro schemas: the model ([`AvroSchema`], an arena of nodes), parsed from JSON
//! (`parse`), unified across files (`unify`), and field defaults encoded as Avro
//! (`default`).

mod default;
mod model;
mod parse;
mod unify;

pub use default::encode_default;
pub use model::{
    field_path, AvroSchema, Field, Logical, LongTime, Name, Node, NodeId, MAX_TEXT_DIGITS, TIME_ZONE_ATTRIBUTE,
};
pub use parse::parse_schema;
pub use unify::unify_schemas;
