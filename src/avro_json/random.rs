//! Random datums of a schema (`random`, and records for tests): every type, logical types
//! with valid values, the same datums for the same seed.
//!
//! Datum `i` of a seed depends only on the seed and `i`: datums `first..first + count`
//! are the same whether made in one call or in several.
//!
//! The values: ints and longs mixing small numbers, extremes and any value; floats and
//! doubles finite (no NaN or infinity), small decimals or any bit pattern; strings and
//! map keys of up to 8 characters, some needing JSON escapes or several UTF-8 bytes;
//! bytes of up to 8; union branches chosen evenly; arrays and maps of up to 3 items,
//! fewer the deeper they are. Logical types: dates and timestamps between 1900 and 2100,
//! times of day within the day, decimals within their precision (and fixed size), UUIDs
//! as valid version-4 UUIDs (text or 16 bytes), durations of up to 100 years.
//!
//! Recursive types end: past [`MAX_DEPTH`] levels of records, arrays and maps, arrays
//! and maps are empty and a union takes the branch that ends soonest.

use crate::decode::write_uuid_text;
use crate::error::{AvroError, AvroResult};
use crate::schema::{AvroSchema, Logical, Node, NodeId};
use crate::varint::{put_bytes, put_long};

/// Levels of records, arrays and maps below which values are made freely.
const MAX_DEPTH: usize = 6;

/// Not a level a value can end in: the type has no finite value this way.
const ENDLESS: usize = usize::MAX;

/// Milliseconds from 1970 to 1900-01-01 and to 2100-12-31 (UTC).
const MILLIS_1900: i64 = -2_208_988_800_000;
const MILLIS_2100: i64 = 4_133_980_799_999;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// Characters strings are made of: letters and digits mostly, and some that JSON escapes
/// or that take several bytes.
const CHARS: &[char] = &[
    'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w',
    'x', 'y', 'z', 'A', 'B', 'C', 'X', 'Y', 'Z', '0', '1', '2', '7', '8', '9', ' ', '_', '-', '.', '"', '\\', '\n',
    '\t', '/', 'é', 'ß', 'ø', 'Ω', '中', '€', '😀',
];

/// `count` random datums of `schema`, concatenated: datums `first..first + count` of
/// `seed`.
pub fn random_datums(schema: &AvroSchema, count: usize, seed: u64, first: u64) -> AvroResult<Vec<u8>> {
    let heights = end_heights(schema);
    if heights[schema.root] == ENDLESS {
        return Err(AvroError::schema(
            "the schema has no finite value: a record holds itself through fields that are not a union or an \
            array or map",
        ));
    }
    let maker = Maker { schema, heights };
    let mut out = Vec::new();
    for i in 0..count as u64 {
        let mut rng = Rng(mix(seed ^ mix(first.wrapping_add(i))));
        maker.value(schema.root, &mut rng, &mut out, 0);
    }
    Ok(out)
}

/// For each node, the fewest levels of records its smallest value nests (arrays and maps
/// can be empty), [`ENDLESS`] for a type that cannot end: a fixed point over the schema.
fn end_heights(schema: &AvroSchema) -> Vec<usize> {
    let mut heights = vec![ENDLESS; schema.nodes.len()];
    loop {
        let mut changed = false;
        for id in 0..schema.nodes.len() {
            let h = match schema.node(id) {
                Node::Record { fields, .. } => {
                    let deepest = fields.iter().map(|f| heights[f.schema]).max().unwrap_or(0);
                    deepest.checked_add(1).unwrap_or(ENDLESS)
                },
                Node::Union(branches) => branches.iter().map(|b| heights[*b]).min().unwrap_or(ENDLESS),
                _ => 0,
            };
            if h < heights[id] {
                heights[id] = h;
                changed = true;
            }
        }
        if !changed {
            return heights;
        }
    }
}

/// splitmix64's finalizer: a well-mixed u64 of any u64.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        let span = hi.wrapping_sub(lo) as u64;
        match span.checked_add(1) {
            Some(n) => lo.wrapping_add(self.below(n) as i64),
            None => self.next() as i64,
        }
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

struct Maker<'a> {
    schema: &'a AvroSchema,
    heights: Vec<usize>,
}

impl Maker<'_> {
    fn value(&self, id: NodeId, rng: &mut Rng, out: &mut Vec<u8>, depth: usize) {
        let schema = self.schema;
        let logical = schema.logical(id);
        match schema.node(id) {
            Node::Null => {},
            Node::Boolean => out.push(rng.below(2) as u8),
            Node::Int => {
                let v = match logical {
                    Some(Logical::Date) => rng.between(MILLIS_1900 / MILLIS_PER_DAY, MILLIS_2100 / MILLIS_PER_DAY),
                    Some(Logical::TimeMillis) => rng.between(0, MILLIS_PER_DAY - 1),
                    _ => any_int(rng, i64::from(i32::MIN), i64::from(i32::MAX)),
                };
                put_long(out, v);
            },
            Node::Long => {
                let v = match logical.and_then(|l| l.long_time()) {
                    Some(time) => {
                        let per_milli = match time.unit() {
                            polars_core::prelude::TimeUnit::Milliseconds => 1,
                            polars_core::prelude::TimeUnit::Microseconds => 1_000,
                            polars_core::prelude::TimeUnit::Nanoseconds => 1_000_000,
                        };
                        let millis = match time {
                            crate::schema::LongTime::Duration(_) => {
                                rng.between(-100 * 365 * MILLIS_PER_DAY, 100 * 365 * MILLIS_PER_DAY)
                            },
                            _ => rng.between(MILLIS_1900, MILLIS_2100),
                        };
                        millis * per_milli + rng.between(0, per_milli - 1)
                    },
                    None if logical == Some(Logical::TimeMicros) => rng.between(0, MILLIS_PER_DAY * 1000 - 1),
                    None => any_int(rng, i64::MIN, i64::MAX),
                };
                put_long(out, v);
            },
            Node::Float => {
                let v = if rng.one_in(4) {
                    loop {
                        let v = f32::from_bits(rng.next() as u32);
                        if v.is_finite() {
                            break v;
                        }
                    }
                } else {
                    small_decimal(rng) as f32
                };
                out.extend_from_slice(&v.to_le_bytes());
            },
            Node::Double => {
                let v = if rng.one_in(4) {
                    loop {
                        let v = f64::from_bits(rng.next());
                        if v.is_finite() {
                            break v;
                        }
                    }
                } else {
                    small_decimal(rng)
                };
                out.extend_from_slice(&v.to_le_bytes());
            },
            Node::String => match logical {
                Some(Logical::Uuid) => put_bytes(out, uuid_text(&uuid_bytes(rng)).as_bytes()),
                _ => put_bytes(out, random_text(rng).as_bytes()),
            },
            Node::Bytes => match logical {
                Some(Logical::Decimal { precision, .. }) => put_bytes(out, &decimal_bytes(rng, precision, None)),
                Some(Logical::BigDecimal) => {
                    let mut payload = Vec::new();
                    put_bytes(&mut payload, &decimal_bytes(rng, 20, None));
                    put_long(&mut payload, rng.between(-10, 20));
                    put_bytes(out, &payload);
                },
                _ => {
                    let n = rng.below(9) as usize;
                    let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                    put_bytes(out, &bytes);
                },
            },
            Node::Fixed { size, .. } => match logical {
                Some(Logical::Decimal { precision, .. }) => {
                    out.extend_from_slice(&decimal_bytes(rng, precision, Some(*size)))
                },
                Some(Logical::Uuid) if *size == 16 => out.extend_from_slice(&uuid_bytes(rng)),
                Some(Logical::Duration) if *size == 12 => {
                    for max in [1200, 3660, MILLIS_PER_DAY as u64] {
                        out.extend_from_slice(&(rng.below(max) as u32).to_le_bytes());
                    }
                },
                _ => out.extend((0..*size).map(|_| rng.next() as u8)),
            },
            Node::Enum { symbols, .. } => put_long(out, rng.below(symbols.len() as u64) as i64),
            Node::Record { fields, .. } => {
                for f in fields {
                    self.value(f.schema, rng, out, depth + 1);
                }
            },
            Node::Array(item) => {
                let n = self.items(*item, rng, depth);
                if n > 0 {
                    put_long(out, n as i64);
                    for _ in 0..n {
                        self.value(*item, rng, out, depth + 1);
                    }
                }
                put_long(out, 0);
            },
            Node::Map(value) => {
                let n = self.items(*value, rng, depth);
                if n > 0 {
                    put_long(out, n as i64);
                    let mut keys: Vec<String> = Vec::with_capacity(n);
                    while keys.len() < n {
                        // Keys differ: a reader keeps one value per key.
                        let key = random_text(rng);
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                    for key in keys {
                        put_bytes(out, key.as_bytes());
                        self.value(*value, rng, out, depth + 1);
                    }
                }
                put_long(out, 0);
            },
            Node::Union(branches) => {
                let ends: Vec<usize> = (0..branches.len()).filter(|i| self.heights[branches[*i]] != ENDLESS).collect();
                let index = if depth < MAX_DEPTH {
                    *rng.pick(&ends)
                } else {
                    let soonest = ends.iter().map(|i| self.heights[branches[*i]]).min().expect("a branch that ends");
                    let soonest: Vec<usize> =
                        ends.into_iter().filter(|i| self.heights[branches[*i]] == soonest).collect();
                    *rng.pick(&soonest)
                };
                put_long(out, index as i64);
                self.value(branches[index], rng, out, depth);
            },
        }
    }

    /// How many items an array or map of `item`s at `depth` holds: fewer the deeper, none
    /// past [`MAX_DEPTH`] or when an item cannot end.
    fn items(&self, item: NodeId, rng: &mut Rng, depth: usize) -> usize {
        if self.heights[item] == ENDLESS || depth >= MAX_DEPTH {
            return 0;
        }
        let most = 3 - depth / 2;
        rng.below(most as u64 + 1) as usize
    }
}

/// An int or long in `lo..=hi`: small numbers mostly, sometimes an extreme, else any.
fn any_int(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    match rng.below(8) {
        0 => *rng.pick(&[lo, hi, 0, -1, 1]),
        1..=4 => rng.between(-1000, 1000),
        _ => rng.between(lo, hi),
    }
}

/// A number with up to three decimals, below a million in magnitude.
fn small_decimal(rng: &mut Rng) -> f64 {
    rng.between(-1_000_000_000, 1_000_000_000) as f64 / 1000.0
}

fn random_text(rng: &mut Rng) -> String {
    let n = rng.below(9);
    (0..n).map(|_| if rng.one_in(4) { *rng.pick(CHARS) } else { *rng.pick(&CHARS[..26]) }).collect()
}

/// 16 random bytes with the version (4) and variant (RFC 4122) bits of a random UUID.
fn uuid_bytes(rng: &mut Rng) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

fn uuid_text(bytes: &[u8; 16]) -> String {
    let mut text = String::with_capacity(36);
    write_uuid_text(&mut text, bytes);
    text
}

/// The most decimal digits a two's-complement number of `size` bytes holds.
fn digits_in_bytes(size: usize) -> usize {
    if size == 0 {
        return 0;
    }
    ((8 * size as u64 - 1) as f64 * std::f64::consts::LOG10_2).floor() as usize
}

/// A decimal's unscaled value of at most `precision` digits (and 38, an i128's), as
/// big-endian two's complement: the fewest bytes, or `size` bytes for a fixed.
fn decimal_bytes(rng: &mut Rng, precision: usize, size: Option<usize>) -> Vec<u8> {
    let most = precision.min(38).min(size.map_or(usize::MAX, digits_in_bytes));
    let digits = rng.below(most as u64 + 1) as u32;
    let mut unscaled: i128 = 0;
    for _ in 0..digits {
        unscaled = unscaled * 10 + i128::from(rng.below(10) as u8);
    }
    if rng.one_in(2) {
        unscaled = -unscaled;
    }
    let full = unscaled.to_be_bytes();
    let fill = if unscaled < 0 { 0xff } else { 0x00 };
    match size {
        Some(size) if size >= 16 => {
            let mut out = vec![fill; size - 16];
            out.extend_from_slice(&full);
            out
        },
        Some(size) => full[16 - size..].to_vec(),
        None => {
            // Drop leading bytes that only repeat the sign.
            let mut start = 0;
            while start < 15 && full[start] == fill && (full[start + 1] & 0x80 == fill & 0x80) {
                start += 1;
            }
            full[start..].to_vec()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{write_json, Cursor};
    use crate::schema::parse_schema;
    use crate::schema::JsonMode;

    fn rendered(schema: &AvroSchema, data: &[u8]) -> Vec<String> {
        let mut cur = Cursor::new(data);
        let mut lines = Vec::new();
        while !cur.is_empty() {
            let mut out = String::new();
            write_json(schema, schema.root, &mut cur, &mut out, 0, JsonMode::AvroJson).unwrap();
            lines.push(out);
        }
        lines
    }

    #[test]
    fn recursive_types_end_and_datums_depend_on_seed_and_index_only() {
        let schema = parse_schema(
            r#"{"type": "record", "name": "T", "fields": [
                {"name": "v", "type": "int"},
                {"name": "kids", "type": {"type": "array", "items": "T"}},
                {"name": "next", "type": ["null", "T"]},
                {"name": "m", "type": {"type": "map", "values": "T"}}]}"#,
        )
        .unwrap();
        let all = random_datums(&schema, 20, 7, 0).unwrap();
        let lines = rendered(&schema, &all);
        assert_eq!(lines.len(), 20);
        let tail = random_datums(&schema, 5, 7, 15).unwrap();
        assert_eq!(rendered(&schema, &tail), lines[15..]);
        assert_ne!(random_datums(&schema, 20, 8, 0).unwrap(), all);
    }

    #[test]
    fn a_type_without_finite_values_is_refused() {
        let schema =
            parse_schema(r#"{"type": "record", "name": "T", "fields": [{"name": "t", "type": "T"}]}"#).unwrap();
        assert!(random_datums(&schema, 1, 0, 0).is_err());
    }

    #[test]
    fn decimals_fit_their_bytes() {
        let mut rng = Rng(1);
        for _ in 0..1000 {
            let bytes = decimal_bytes(&mut rng, 38, None);
            assert!(!bytes.is_empty() && bytes.len() <= 16);
            let mut full = [if bytes[0] & 0x80 != 0 { 0xff } else { 0 }; 16];
            full[16 - bytes.len()..].copy_from_slice(&bytes);
            assert!(i128::from_be_bytes(full).unsigned_abs() < 10u128.pow(38));
            assert_eq!(decimal_bytes(&mut rng, 9, Some(4)).len(), 4);
            assert_eq!(decimal_bytes(&mut rng, 4, Some(20)).len(), 20);
        }
    }
}
