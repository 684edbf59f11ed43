//! Filters the reader evaluates itself, on decoded columns, on its own threads: the common
//! parts of a query's predicate (a column compared with a literal, null checks, string
//! prefixes, suffixes and substrings, `is_in` of a list, struct fields, a list's length,
//! element or `contains`, joined by `&`, `|` and `~`), read from
//! Polars' serialized expressions ([`parse`]); a query's filters taken apart into the parts
//! that rule files out, those the reader evaluates on rows and the rest ([`split`]), which
//! the user's Polars evaluates.
//!
//! Polars' semantics, exactly: a comparison with a null is null and `&`, `|`, `~` follow
//! Kleene's logic (a filter keeps the rows where the predicate is true, not null); floats
//! compare in Polars' total order (NaN equal to NaN and above every number); a literal is
//! compared in the type Polars casts it to ([`literal`] decides, refusing any pair of
//! types whose cast it does not know).

mod literal;
mod polars_json;
mod split;
mod tree;

pub use polars_json::{parse, parse_value};
pub use split::{split, Split};
pub use tree::{CmpOp, ColumnPath, Derived, Filter, TextTest};
