//! Columns of messages (Kafka values) decoded by `MessageDecoder`, as the Python package
//! drives it: every framing, a writer schema from a fixed list, with and without an evolved
//! reader schema, strict, permissive or reasons, writer schemas added as the decoder asks
//! for their keys (some never found), and 1 and 2 threads. Decoding must give values or an
//! error, never panic; the values must pass Polars' array invariants, and the modes, the
//! thread counts and a batch split across threads must agree with one another.
//!
//! The input, as fuzz/seed.py writes it:
//!
//! - byte 0: bits 0-1 the framing (raw, confluent, single_object, auto), bits 2-3 the mode
//!   (strict, permissive, reasons, or all three compared), bit 4 the reader schema (the
//!   writer's evolved version), bit 5 flips whether the raw datums' writer schema is given
//!   (given by default for raw and auto), bit 6 an id column beside the messages, bit 7 adds
//!   every known writer schema up front (else only as the decoder asks for their keys);
//! - byte 1: bits 0-3 the writer schema (index into SCHEMAS, modulo); bits 4-7 all set also
//!   decode the messages repeated into a batch of two parts on two threads (a slow run,
//!   so only for these inputs);
//! - then up to MAX_MESSAGES messages, each: with an id column, its id byte (0: null, else
//!   that id); a length byte, 0xFF for a null message, 0xFE for a 2-byte little-endian
//!   length that follows, else the length; then that many bytes (fewer at the end).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use polars::prelude::{IdxCa, IdxSize, PlSmallStr, Series};
use polars_avro::message::{schema_fingerprint, Decoded, Framing, MessageDecoder, Mode, Rows, SchemaKey};
use polars_avro::schema::{parse_schema, AvroSchema};
use polars_avro::{AvroError, ErrorKind};
use polars_avro_fuzz::check_series;

/// Writer schemas and their evolved versions (read as the reader schema): fields added with
/// defaults, dropped, promoted (int to long, float to double, ...), renamed via aliases, enums
/// with defaults, unions widened. The linked list cannot be read with a reader schema yet.
/// fuzz/seed.py reads this list from here.
const SCHEMAS: [(&str, &str); 12] = [
    // 0: primitives.
    (
        r#"{"type": "record", "name": "Prims", "namespace": "fuzz", "fields": [
            {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"}, {"name": "l", "type": "long"},
            {"name": "f", "type": "float"}, {"name": "d", "type": "double"}, {"name": "s", "type": "string"},
            {"name": "y", "type": "bytes"}, {"name": "z", "type": "null"}]}"#,
        r#"{"type": "record", "name": "Prims", "namespace": "fuzz", "fields": [
            {"name": "i", "type": "long"}, {"name": "f", "type": "double"}, {"name": "l", "type": "float"},
            {"name": "text", "aliases": ["s"], "type": "string"}, {"name": "y", "type": "string"},
            {"name": "d", "type": "double"}, {"name": "added", "type": "int", "default": 7},
            {"name": "note", "type": "string", "default": "none"}]}"#,
    ),
    // 1: nullable and general unions.
    (
        r#"{"type": "record", "name": "Unions", "fields": [
            {"name": "ns", "type": ["null", "string"]}, {"name": "nl", "type": ["long", "null"]},
            {"name": "nr", "type": ["null", {"type": "record", "name": "Point", "fields": [
                {"name": "x", "type": "int"}, {"name": "y", "type": "int"}]}]},
            {"name": "g", "type": ["int", "string", {"type": "array", "items": "long"}, "null"]},
            {"name": "g2", "type": ["boolean", "double", {"type": "map", "values": "string"}, "Point"]}]}"#,
        r#"{"type": "record", "name": "Unions", "fields": [
            {"name": "ns", "type": ["null", "string"], "default": null}, {"name": "nl", "type": ["null", "double"]},
            {"name": "g", "type": ["null", "long", "string", {"type": "array", "items": "double"}, "bytes"]},
            {"name": "g2", "type": ["boolean", "double", {"type": "map", "values": "string"},
                {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "long"},
                    {"name": "y", "type": "long"}, {"name": "z", "type": "long", "default": 0}]}]},
            {"name": "extra", "type": ["null", "int"], "default": null}]}"#,
    ),
    // 2: enums with defaults.
    (
        r#"{"type": "record", "name": "Enums", "fields": [
            {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"],
                "default": "RED"}},
            {"name": "colors", "type": {"type": "array", "items": "Color"}},
            {"name": "suit", "type": ["null", {"type": "enum", "name": "Suit",
                "symbols": ["SPADES", "HEARTS", "DIAMONDS", "CLUBS"]}]}]}"#,
        r#"{"type": "record", "name": "Enums", "fields": [
            {"name": "color", "type": {"type": "enum", "name": "Color", "symbols": ["GREEN", "RED", "PURPLE"],
                "default": "PURPLE"}},
            {"name": "colors", "type": {"type": "array", "items": "Color"}},
            {"name": "suit", "type": ["null", {"type": "enum", "name": "Suit",
                "symbols": ["HEARTS", "SPADES", "CLUBS", "DIAMONDS", "JOKER"]}]},
            {"name": "level", "type": {"type": "enum", "name": "Level", "symbols": ["LOW", "HIGH"]},
                "default": "HIGH"}]}"#,
    ),
    // 3: arrays and maps.
    (
        r#"{"type": "record", "name": "Collections", "fields": [
            {"name": "ints", "type": {"type": "array", "items": "int"}},
            {"name": "names", "type": {"type": "map", "values": "string"}},
            {"name": "nested", "type": {"type": "array", "items": {"type": "map",
                "values": {"type": "array", "items": "long"}}}},
            {"name": "points", "type": {"type": "map", "values": {"type": "record", "name": "Pt", "fields": [
                {"name": "x", "type": "float"}, {"name": "y", "type": "float"}]}}},
            {"name": "opt", "type": ["null", {"type": "array", "items": ["null", "string"]}]}]}"#,
        r#"{"type": "record", "name": "Collections", "fields": [
            {"name": "ints", "type": {"type": "array", "items": "long"}},
            {"name": "names", "type": {"type": "map", "values": "bytes"}},
            {"name": "nested", "type": {"type": "array", "items": {"type": "map",
                "values": {"type": "array", "items": "double"}}}},
            {"name": "points", "type": {"type": "map", "values": {"type": "record", "name": "Pt", "fields": [
                {"name": "x", "type": "double"}, {"name": "y", "type": "double"},
                {"name": "z", "type": "double", "default": 0.0}]}}},
            {"name": "tags", "type": {"type": "array", "items": "string"}, "default": ["a", "b"]}]}"#,
    ),
    // 4: fixed, and decimals on bytes and fixed (beyond 38 digits they read as text).
    (
        r#"{"type": "record", "name": "Money", "fields": [
            {"name": "id", "type": {"type": "fixed", "name": "Id4", "size": 4}},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
            {"name": "rate", "type": {"type": "fixed", "name": "Dec8", "size": 8, "logicalType": "decimal",
                "precision": 18, "scale": 4}},
            {"name": "huge", "type": {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 0}},
            {"name": "wide", "type": {"type": "fixed", "name": "Dec20", "size": 20, "logicalType": "decimal",
                "precision": 45, "scale": 3}},
            {"name": "maybe", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 5,
                "scale": 5}]}]}"#,
        r#"{"type": "record", "name": "Money", "fields": [
            {"name": "key", "aliases": ["id"], "type": {"type": "fixed", "name": "Id4", "size": 4}},
            {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
            {"name": "rate", "type": {"type": "fixed", "name": "Dec8", "size": 8, "logicalType": "decimal",
                "precision": 18, "scale": 4}},
            {"name": "wide", "type": {"type": "fixed", "name": "Dec20", "size": 20, "logicalType": "decimal",
                "precision": 45, "scale": 3}},
            {"name": "maybe", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 5,
                "scale": 5}]},
            {"name": "fee", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
                "default": "\u0000d"}]}"#,
    ),
    // 5: logical types.
    (
        r#"{"type": "record", "name": "Times", "fields": [
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
            {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
            {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
            {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "ts_ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
            {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
            {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "uid16", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}},
            {"name": "dur", "type": {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}},
            {"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}},
            {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]}]}"#,
        r#"{"type": "record", "name": "Times", "fields": [
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
            {"name": "dur", "type": {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}},
            {"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}},
            {"name": "when", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
            {"name": "created", "type": {"type": "long", "logicalType": "timestamp-millis"}, "default": 0}]}"#,
    ),
    // 6: a recursive linked list (read as JSON text below the top).
    (
        r#"{"type": "record", "name": "LinkedList", "fields": [
            {"name": "value", "type": "long"}, {"name": "next", "type": ["null", "LinkedList"]}]}"#,
        r#"{"type": "record", "name": "LinkedList", "fields": [
            {"name": "value", "type": "double"}, {"name": "next", "type": ["null", "LinkedList"]},
            {"name": "label", "type": "string", "default": ""}]}"#,
    ),
    // 7: a top-level union.
    (
        r#"["null", "int", "string", {"type": "array", "items": ["null", "float"]}]"#,
        r#"["null", "long", "string", {"type": "array", "items": ["null", "double"]}, "boolean"]"#,
    ),
    // 8: a top-level map.
    (r#"{"type": "map", "values": "int"}"#, r#"{"type": "map", "values": "double"}"#),
    // 9: a top-level enum with a default.
    (
        r#"{"type": "enum", "name": "Level", "symbols": ["A", "B", "C"], "default": "A"}"#,
        r#"{"type": "enum", "name": "Level", "symbols": ["C", "A", "Z"], "default": "Z"}"#,
    ),
    // 10: a top-level primitive.
    (r#""float""#, r#""double""#),
    // 11: a top-level array of records.
    (
        r#"{"type": "array", "items": {"type": "record", "name": "Item", "fields": [
            {"name": "k", "type": "string"}, {"name": "v", "type": ["null", "bytes"]}]}}"#,
        r#"{"type": "array", "items": {"type": "record", "name": "Item", "fields": [
            {"name": "key", "aliases": ["k"], "type": "string"}, {"name": "v", "type": ["null", "bytes"]},
            {"name": "n", "type": "int", "default": 1}]}}"#,
    ),
];

// The keys the registry knows (fuzz/seed.py reads these from here). Every other key has
// no writer schema: the decoder is told so when it asks.
/// The writer schema.
const ID_WRITER: i64 = 1;
/// The reader schema (the writer schema when there is none).
const ID_READER: i64 = 2;
/// The next schema of SCHEMAS: not readable as this one.
const ID_OTHER: i64 = 3;
/// A schema that does not parse.
const ID_INVALID: i64 = 4;
/// Known to have no schema (added missing before the first decode).
const ID_MISSING: i64 = 5;
const GUID_WRITER: [u8; 16] = *b"guid-writer-0001";
const GUID_READER: [u8; 16] = *b"guid-reader-0002";
const INVALID: &str = r#"{"type": "record", "name": "Broken", "fields": [{"name": "a", "type": "nosuchtype"}]}"#;

/// At most this many messages from one input.
const MAX_MESSAGES: usize = 64;
/// The decoder's rows per part (`ROWS_PER_PART` of src/message/decoder.rs): a batch of
/// twice as many splits into two parts on two threads.
const ROWS_PER_PART: usize = 16_384;
/// Messages repeated into a batch of two parts only when they are this small in all.
const MAX_REPEATED_BYTES: usize = 256;
/// How many rows of a repeated batch are compared, at its start, where its second part
/// starts, and at its end.
const COMPARED_ROWS: usize = 256;

const FRAMINGS: [Framing; 4] = [Framing::Raw, Framing::Confluent, Framing::SingleObject, Framing::Auto];

struct Parsed {
    writer: AvroSchema,
    reader: AvroSchema,
    writer_fingerprint: i64,
    reader_fingerprint: i64,
}

/// The schemas parsed once: they are fixed, so this keeps runs deterministic.
fn parsed() -> &'static [Parsed] {
    static PARSED: OnceLock<Vec<Parsed>> = OnceLock::new();
    PARSED.get_or_init(|| {
        SCHEMAS
            .iter()
            .map(|(writer, reader)| {
                let writer = parse_schema(writer).expect("the writer schemas parse");
                let reader = parse_schema(reader).expect("the reader schemas parse");
                let writer_fingerprint = schema_fingerprint(&writer) as i64;
                let reader_fingerprint = schema_fingerprint(&reader) as i64;
                Parsed { writer, reader, writer_fingerprint, reader_fingerprint }
            })
            .collect()
    })
}

/// What the registry holds for a key: a writer schema's JSON, or why there is none.
fn lookup(key: SchemaKey, which: usize, with_reader: bool) -> Result<&'static str, String> {
    let (writer, reader) = SCHEMAS[which];
    let reader = if with_reader { reader } else { writer };
    let p = &parsed()[which];
    let reader_fingerprint = if with_reader { p.reader_fingerprint } else { p.writer_fingerprint };
    match key {
        SchemaKey::Id(ID_WRITER) | SchemaKey::Guid(GUID_WRITER) => Ok(writer),
        SchemaKey::Id(ID_READER) | SchemaKey::Guid(GUID_READER) => Ok(reader),
        SchemaKey::Fingerprint(fp) if fp == p.writer_fingerprint => Ok(writer),
        SchemaKey::Fingerprint(fp) if fp == reader_fingerprint => Ok(reader),
        SchemaKey::Id(ID_OTHER) => Ok(SCHEMAS[(which + 1) % SCHEMAS.len()].0),
        SchemaKey::Id(ID_INVALID) => Ok(INVALID),
        other => Err(format!("no writer schema: {other} is not in the registry")),
    }
}

/// Adds what the registry says of `key` to the decoder, as the Python package does.
fn add(decoder: &MessageDecoder, key: SchemaKey, which: usize, with_reader: bool) {
    match lookup(key, which, with_reader) {
        Ok(json) => decoder.add_writer(key, json),
        Err(why) => decoder.add_missing(key, why),
    }
}

/// Splits the input into messages (and ids), as the module documentation says.
fn split(mut data: &[u8], with_ids: bool) -> (Vec<Option<&[u8]>>, Vec<Option<i64>>) {
    let (mut messages, mut ids) = (Vec::new(), Vec::new());
    while !data.is_empty() && messages.len() < MAX_MESSAGES {
        if with_ids {
            let (&id, rest) = data.split_first().expect("not empty");
            ids.push((id != 0).then_some(i64::from(id)));
            data = rest;
        }
        let Some((&len, rest)) = data.split_first() else {
            messages.push(None);
            break;
        };
        data = rest;
        let len = match len {
            0xFF => {
                messages.push(None);
                continue;
            },
            0xFE => {
                let n = data.get(..2).map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])));
                data = data.get(2..).unwrap_or(&[]);
                n
            },
            n => usize::from(n),
        };
        let (message, rest) = data.split_at(len.min(data.len()));
        messages.push(Some(message));
        data = rest;
    }
    ids.truncate(messages.len());
    ids.resize(messages.len(), None);
    (messages, ids)
}

/// What one decode gave, once every key it asked for was added: values (with the failed
/// count) or reasons, or an error.
#[derive(Debug)]
enum Outcome {
    Values(Series, usize),
    Reasons(Series),
    Error(AvroError),
}

struct Run<'a> {
    decoder: &'a MessageDecoder,
    which: usize,
    with_reader: bool,
    name: PlSmallStr,
}

impl Run<'_> {
    /// Decodes `rows` in `mode`, adding the writer schemas of the keys the decoder asks for
    /// (as the Python package does) until it gives values, reasons or an error.
    fn decode(&self, rows: Rows, mode: Mode, threads: usize) -> Outcome {
        let mut asked: Vec<SchemaKey> = Vec::new();
        loop {
            let result = match mode {
                Mode::Reasons => self.decoder.reasons(self.name.clone(), rows, threads).map(|d| match d {
                    Decoded::Done(reasons) => Decoded::Done(Outcome::Reasons(reasons)),
                    Decoded::Missing(keys) => Decoded::Missing(keys),
                }),
                _ => self.decoder.decode(self.name.clone(), rows, mode, threads).map(|d| match d {
                    Decoded::Done((values, failed)) => Decoded::Done(Outcome::Values(values, failed)),
                    Decoded::Missing(keys) => Decoded::Missing(keys),
                }),
            };
            match result {
                Ok(Decoded::Done(outcome)) => {
                    self.check(&outcome, rows.messages.len());
                    return outcome;
                },
                Ok(Decoded::Missing(keys)) => {
                    assert!(!keys.is_empty(), "Decoded::Missing without keys");
                    for key in keys {
                        // A key asked for again would make the Python package loop forever.
                        assert!(!asked.contains(&key), "the decoder asked again for the {key}, added before");
                        asked.push(key);
                        add(self.decoder, key, self.which, self.with_reader);
                    }
                },
                Err(e) => {
                    assert!(e.kind != ErrorKind::Internal, "an internal error: {}", e.message);
                    return Outcome::Error(e);
                },
            }
        }
    }

    fn check(&self, outcome: &Outcome, n: usize) {
        let (series, dtype) = match outcome {
            Outcome::Values(values, failed) => {
                assert!(*failed <= n, "{failed} of {n} messages failed");
                (values, self.decoder.dtype().clone())
            },
            Outcome::Reasons(reasons) => (reasons, polars::prelude::DataType::String),
            Outcome::Error(_) => return,
        };
        assert_eq!(series.len(), n, "a column of the wrong length");
        assert_eq!(series.dtype(), &dtype, "a column of the wrong dtype");
        assert_eq!(series.name(), &self.name, "a column of the wrong name");
        check_series(series);
    }
}

/// The same outcome: equal values (NaN equal to NaN, null to null), or the same error.
fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Outcome::Values(a, failed_a), Outcome::Values(b, failed_b)) => failed_a == failed_b && equal(a, b),
        (Outcome::Reasons(a), Outcome::Reasons(b)) => equal(a, b),
        (Outcome::Error(a), Outcome::Error(b)) => a.kind == b.kind && a.row == b.row && a.message == b.message,
        _ => false,
    }
}

fn equal(a: &Series, b: &Series) -> bool {
    a.dtype() == b.dtype() && a.equals_missing(b)
}

/// `got`, of the `n` messages repeated into `rows` rows, agrees with `base`, of the `n`
/// messages: the same error, or as many failures and nulls per repeat, and the same values
/// (compared in windows at the start, where the second part starts, and at the end).
fn check_repeated(got: &Outcome, base: &Outcome, n: usize, rows: usize) {
    let repeats = rows / n;
    let (got_series, base_series) = match (got, base) {
        (Outcome::Values(got, got_failed), Outcome::Values(base, base_failed)) => {
            assert_eq!(*got_failed, base_failed * repeats, "a batch split across threads counts other failures");
            (got, base)
        },
        (Outcome::Reasons(got), Outcome::Reasons(base)) => (got, base),
        (got, base) => {
            assert!(same(got, base), "a batch split across threads differs: {got:?}, expected {base:?}");
            return;
        },
    };
    assert_eq!(
        got_series.null_count(),
        base_series.null_count() * repeats,
        "a batch split across threads has other nulls"
    );
    for start in [0, rows / 2 - COMPARED_ROWS.min(rows / 2) / 2, rows - COMPARED_ROWS.min(rows)] {
        let len = COMPARED_ROWS.min(rows - start);
        let indices: IdxCa = (start..start + len).map(|i| Some((i % n) as IdxSize)).collect();
        let expected = base_series.take(&indices).expect("indices in range");
        let window = got_series.slice(start as i64, len);
        assert!(
            equal(&window, &expected),
            "rows {start}.. of a batch split across threads differ: {window:?}, expected {expected:?}"
        );
    }
}

fn first_reason(reasons: &Series) -> Option<usize> {
    let reasons = reasons.str().expect("reasons are strings");
    reasons.iter().position(|r| r.is_some())
}

/// Strict, permissive and reasons agree: strict fails at the first row with a reason,
/// permissive counts the rows with reasons and gives them null, and where nothing fails
/// strict and permissive give the same values.
fn compare_modes(strict: &Outcome, permissive: &Outcome, reasons: &Outcome) {
    let Outcome::Reasons(reasons) = reasons else { return };
    let first = first_reason(reasons);
    match (strict, first) {
        (Outcome::Error(e), Some(row)) => {
            assert_eq!(e.row, Some(row as u64), "strict failed at another row than the first reason: {}", e.message);
        },
        (Outcome::Error(e), None) => {
            assert!(e.row.is_none(), "strict failed at row {:?}, which has no reason: {}", e.row, e.message);
        },
        (Outcome::Values(..), Some(row)) => panic!("strict decoded row {row}, which has a reason"),
        _ => {},
    }
    if let Outcome::Values(values, failed) = permissive {
        assert_eq!(*failed, reasons.len() - reasons.null_count(), "permissive counts other failures than reasons");
        let reasons = reasons.str().expect("reasons are strings");
        for (row, reason) in reasons.iter().enumerate() {
            if reason.is_some() {
                assert!(values.get(row).expect("row in range").is_null(), "a failed row {row} is not null");
            }
        }
        if let Outcome::Values(strict, 0) = strict {
            assert!(equal(strict, values), "strict and permissive give other values");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [flags, choice, body @ ..] = data else { return };
    let framing = FRAMINGS[usize::from(flags & 3)];
    let modes: &[Mode] = match (flags >> 2) & 3 {
        0 => &[Mode::Strict],
        1 => &[Mode::Permissive],
        2 => &[Mode::Reasons],
        // Reasons first: it asks for every key, so the others decode with all added.
        _ => &[Mode::Reasons, Mode::Permissive, Mode::Strict],
    };
    let with_reader = flags & 0x10 != 0;
    let given_by_default = matches!(framing, Framing::Raw | Framing::Auto);
    let with_given = given_by_default != (flags & 0x20 != 0);
    let with_ids = flags & 0x40 != 0;
    let up_front = flags & 0x80 != 0;
    let which = usize::from(choice & 0x0F) % SCHEMAS.len();
    let repeat = choice >> 4 == 0x0F;

    let p = &parsed()[which];
    let reader = if with_reader { p.reader.clone() } else { p.writer.clone() };
    let given = with_given.then(|| p.writer.clone());
    // A writer schema not readable as the reader schema (the linked list's) is an error here.
    let Ok(decoder) = MessageDecoder::new(reader, framing, given) else { return };
    decoder.add_missing(SchemaKey::Id(ID_MISSING), "deleted from the registry".into());
    if up_front {
        let keys = [
            SchemaKey::Id(ID_WRITER),
            SchemaKey::Id(ID_READER),
            SchemaKey::Id(ID_OTHER),
            SchemaKey::Id(ID_INVALID),
            SchemaKey::Guid(GUID_WRITER),
            SchemaKey::Guid(GUID_READER),
            SchemaKey::Fingerprint(p.writer_fingerprint),
            SchemaKey::Fingerprint(if with_reader { p.reader_fingerprint } else { p.writer_fingerprint }),
        ];
        for key in keys {
            add(&decoder, key, which, with_reader);
        }
    }

    let (messages, ids) = split(body, with_ids);
    let rows = Rows { messages: &messages, ids: with_ids.then_some(ids.as_slice()) };
    let run = Run { decoder: &decoder, which, with_reader, name: PlSmallStr::from_static("messages") };
    let mut outcomes = Vec::new();
    for &mode in modes {
        let one = run.decode(rows, mode, 1);
        // Too few rows for two parts: the same path, which must give the same.
        let two = run.decode(rows, mode, 2);
        assert!(same(&one, &two), "1 and 2 threads differ: {one:?} and {two:?}");
        outcomes.push((mode, one));
    }
    if let [(_, reasons), (_, permissive), (_, strict)] = outcomes.as_slice() {
        compare_modes(strict, permissive, reasons);
    }

    // The messages repeated into a batch of two parts, decoded on two threads: the values
    // are the small batch's repeated, and strict fails at the same (first) row. (Permissive
    // failures once cost time quadratic in their number: fuzz/artifacts/decode_message/.)
    let bytes: usize = messages.iter().flatten().map(|m| m.len()).sum();
    let (mode, base) = &outcomes[0];
    if repeat && modes.len() == 1 && !messages.is_empty() && bytes <= MAX_REPEATED_BYTES {
        let n = messages.len();
        let total = (2 * ROWS_PER_PART).div_ceil(n) * n;
        let many: Vec<Option<&[u8]>> = (0..total).map(|i| messages[i % n]).collect();
        let many_ids: Vec<Option<i64>> = (0..total).map(|i| ids[i % n]).collect();
        let rows = Rows { messages: &many, ids: with_ids.then_some(many_ids.as_slice()) };
        let got = run.decode(rows, *mode, 2);
        check_repeated(&got, base, n, total);
    }
});
