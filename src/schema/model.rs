//! The Avro schema model: an arena of nodes, so that named types (including recursive
//! ones) are plain indices.

use polars_core::prelude::TimeUnit;

/// The path of field `name` inside the value at `path` (`a.b`), for messages.
pub fn field_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Index of a node in [`AvroSchema::nodes`].
pub type NodeId = usize;

/// A full Avro name: `namespace.name`, and the named type's aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub name: String,
    pub namespace: Option<String>,
    /// Full names: an alias without a dot is in the type's namespace.
    pub aliases: Vec<String>,
}

impl Name {
    pub fn fullname(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}.{}", self.name),
            _ => self.name.clone(),
        }
    }

    /// Whether a reader's type of this name reads a writer's named `writer`: the same
    /// unqualified name (as the specification compares records), or the writer's full
    /// name is one of this type's aliases.
    pub fn reads(&self, writer: &Name) -> bool {
        self.name == writer.name || (!self.aliases.is_empty() && self.aliases.contains(&writer.fullname()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub schema: NodeId,
    pub aliases: Vec<String>,
    pub default: Option<serde_json::Value>,
}

/// Logical types that change how a value is presented; an unknown or invalid logical
/// type is dropped during parsing, so the node is read as its underlying type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Logical {
    Decimal {
        precision: usize,
        scale: usize,
    },
    BigDecimal,
    Uuid,
    Date,
    TimeMillis,
    TimeMicros,
    TimestampMillis,
    TimestampMicros,
    TimestampNanos,
    LocalTimestampMillis,
    LocalTimestampMicros,
    LocalTimestampNanos,
    Duration,
    /// polars-avro's own `duration-millis`, `-micros` and `-nanos` on long: an exact span
    /// (Polars Duration). Other readers see the long.
    DurationMillis,
    DurationMicros,
    DurationNanos,
}

impl Logical {
    /// The logicalType attribute that names it.
    pub fn name(&self) -> &'static str {
        match self {
            Logical::Decimal { .. } => "decimal",
            Logical::BigDecimal => "big-decimal",
            Logical::Uuid => "uuid",
            Logical::Date => "date",
            Logical::TimeMillis => "time-millis",
            Logical::TimeMicros => "time-micros",
            Logical::TimestampMillis => "timestamp-millis",
            Logical::TimestampMicros => "timestamp-micros",
            Logical::TimestampNanos => "timestamp-nanos",
            Logical::LocalTimestampMillis => "local-timestamp-millis",
            Logical::LocalTimestampMicros => "local-timestamp-micros",
            Logical::LocalTimestampNanos => "local-timestamp-nanos",
            Logical::Duration => "duration",
            Logical::DurationMillis => "duration-millis",
            Logical::DurationMicros => "duration-micros",
            Logical::DurationNanos => "duration-nanos",
        }
    }
}

/// What a long with a time logical type holds: an instant, a local (zone-less) date and
/// time, or an exact span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongTime {
    Timestamp(TimeUnit),
    LocalTimestamp(TimeUnit),
    Duration(TimeUnit),
}

/// The logical types of a long that count time, each with what it holds: the one mapping
/// between Avro's names and Polars' units, which the reader and the writer both use.
const LONG_TIMES: [(Logical, LongTime); 9] = [
    (Logical::TimestampMillis, LongTime::Timestamp(TimeUnit::Milliseconds)),
    (Logical::TimestampMicros, LongTime::Timestamp(TimeUnit::Microseconds)),
    (Logical::TimestampNanos, LongTime::Timestamp(TimeUnit::Nanoseconds)),
    (Logical::LocalTimestampMillis, LongTime::LocalTimestamp(TimeUnit::Milliseconds)),
    (Logical::LocalTimestampMicros, LongTime::LocalTimestamp(TimeUnit::Microseconds)),
    (Logical::LocalTimestampNanos, LongTime::LocalTimestamp(TimeUnit::Nanoseconds)),
    (Logical::DurationMillis, LongTime::Duration(TimeUnit::Milliseconds)),
    (Logical::DurationMicros, LongTime::Duration(TimeUnit::Microseconds)),
    (Logical::DurationNanos, LongTime::Duration(TimeUnit::Nanoseconds)),
];

impl LongTime {
    pub fn unit(self) -> TimeUnit {
        match self {
            LongTime::Timestamp(unit) | LongTime::LocalTimestamp(unit) | LongTime::Duration(unit) => unit,
        }
    }
}

impl Logical {
    /// What a long of this logical type holds, when it counts time.
    pub fn long_time(&self) -> Option<LongTime> {
        LONG_TIMES.iter().find(|(logical, _)| logical == self).map(|(_, time)| *time)
    }

    /// The logical type of a long that holds `time`.
    pub fn of_long_time(time: LongTime) -> Logical {
        LONG_TIMES.iter().find(|(_, t)| *t == time).map(|(logical, _)| *logical).expect("every LongTime is listed")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Record { name: Name, fields: Vec<Field> },
    Enum { name: Name, symbols: Vec<String>, default: Option<String> },
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    Fixed { name: Name, size: usize },
}

/// The most digits a decimal's text may have after its point (a decimal's precision, a
/// big-decimal's scale), and the most zeros a big-decimal's negative scale may add: the
/// text of a value holds about that many characters, and a scale can be any int.
pub const MAX_TEXT_DIGITS: usize = 10_000;

/// The attribute of a timestamp in which polars-avro keeps the time zone of the Datetime
/// column it was written from (other readers see the instant, and ignore it).
pub const TIME_ZONE_ATTRIBUTE: &str = "polars.time_zone";

#[derive(Debug, Clone, PartialEq)]
pub struct SchemaNode {
    pub node: Node,
    pub logical: Option<Logical>,
    /// A timestamp's [`TIME_ZONE_ATTRIBUTE`].
    pub time_zone: Option<String>,
}

/// A union's branches, split as the type mapping sees them: the null branch, if any,
/// and the others as (branch index, node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionBranches {
    pub null: Option<usize>,
    pub values: Vec<(usize, NodeId)>,
}

/// A parsed Avro schema. `root` is the top-level type.
#[derive(Debug, Clone, PartialEq)]
pub struct AvroSchema {
    /// Every type of the schema; named types appear once and are referred to by index.
    pub(crate) nodes: Vec<SchemaNode>,
    /// The top-level type.
    pub(crate) root: NodeId,
}

impl AvroSchema {
    /// The type at `id`.
    pub(crate) fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id].node
    }

    /// The logical type at `id`, if any (unknown ones are dropped while parsing).
    pub(crate) fn logical(&self, id: NodeId) -> Option<Logical> {
        self.nodes[id].logical
    }

    /// The time zone a timestamp at `id` was written from, if it says.
    pub(crate) fn time_zone(&self, id: NodeId) -> Option<&str> {
        self.nodes[id].time_zone.as_deref()
    }

    /// The name a union branch or error message uses for a node: the type name for
    /// primitives and containers, the simple name for named types.
    pub(crate) fn type_name(&self, id: NodeId) -> String {
        match self.node(id) {
            Node::Null => "null".into(),
            Node::Boolean => "boolean".into(),
            Node::Int => "int".into(),
            Node::Long => "long".into(),
            Node::Float => "float".into(),
            Node::Double => "double".into(),
            Node::Bytes => "bytes".into(),
            Node::String => "string".into(),
            Node::Array(_) => "array".into(),
            Node::Map(_) => "map".into(),
            Node::Union(_) => "union".into(),
            Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => name.name.clone(),
        }
    }

    /// The name Avro's JSON encoding gives a union branch: the full name of a named type,
    /// otherwise the type's own name.
    pub(crate) fn branch_label(&self, id: NodeId) -> String {
        match self.node(id) {
            Node::Record { name, .. } | Node::Enum { name, .. } | Node::Fixed { name, .. } => name.fullname(),
            _ => self.type_name(id),
        }
    }

    /// A union's branches apart: where its null branch is, and the others.
    pub(crate) fn split_union(&self, branches: &[NodeId]) -> UnionBranches {
        let null = branches.iter().position(|b| matches!(self.node(*b), Node::Null));
        let values =
            branches.iter().copied().enumerate().filter(|(_, b)| !matches!(self.node(*b), Node::Null)).collect();
        UnionBranches { null, values }
    }

    /// The field names of the Struct a union of several non-null branches reads into
    /// (and the writer takes back): the branch's type name, or `<name>_<branch index>`
    /// when an earlier branch has that name.
    pub(crate) fn union_field_names(&self, values: &[(usize, NodeId)]) -> Vec<String> {
        let mut names: Vec<String> = Vec::with_capacity(values.len());
        for (branch, node) in values {
            let name = self.type_name(*node);
            let name = if names.contains(&name) { format!("{name}_{branch}") } else { name };
            names.push(name);
        }
        names
    }

    /// The fewest bytes one value of this node can take; used to reject blocks that
    /// claim more records than their bytes could hold.
    pub(crate) fn min_encoded_size(&self, id: NodeId) -> usize {
        let mut visiting = vec![false; self.nodes.len()];
        self.min_size_inner(id, &mut visiting)
    }

    fn min_size_inner(&self, id: NodeId, visiting: &mut [bool]) -> usize {
        if visiting[id] {
            // A recursive type always has a non-recursive way out (a union branch or an
            // empty array); this path is not it.
            return usize::MAX / 4;
        }
        visiting[id] = true;
        let size = match self.node(id) {
            Node::Null => 0,
            Node::Boolean | Node::Int | Node::Long | Node::Bytes | Node::String => 1,
            Node::Enum { .. } | Node::Array(_) | Node::Map(_) => 1,
            Node::Float => 4,
            Node::Double => 8,
            Node::Fixed { size, .. } => *size,
            Node::Record { fields, .. } => {
                fields.iter().map(|f| self.min_size_inner(f.schema, visiting)).fold(0usize, |a, b| a.saturating_add(b))
            },
            Node::Union(branches) => 1 + branches.iter().map(|b| self.min_size_inner(*b, visiting)).min().unwrap_or(0),
        };
        visiting[id] = false;
        size.min(usize::MAX / 4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_times_map_both_ways_with_the_names_avro_gives_them() {
        for (logical, time) in LONG_TIMES {
            assert_eq!(logical.long_time(), Some(time));
            assert_eq!(Logical::of_long_time(time), logical);
            let suffix = match time.unit() {
                TimeUnit::Milliseconds => "millis",
                TimeUnit::Microseconds => "micros",
                TimeUnit::Nanoseconds => "nanos",
            };
            let kind = match time {
                LongTime::Timestamp(_) => "timestamp",
                LongTime::LocalTimestamp(_) => "local-timestamp",
                LongTime::Duration(_) => "duration",
            };
            assert_eq!(logical.name(), format!("{kind}-{suffix}"));
        }
        for other in [Logical::Date, Logical::TimeMillis, Logical::TimeMicros, Logical::Uuid, Logical::Duration] {
            assert_eq!(other.long_time(), None);
        }
    }
}
