//! Logical values as a person reads them, for `polars-avro head` and `cat`: a decimal as
//! its exact number, dates, times and timestamps in ISO 8601 (as Polars prints them, UTC
//! ones with `Z`), a uuid on fixed as its text, a duration as its three parts. `tojson`
//! and the JSON of recursive columns keep the values as they are stored.

use std::fmt::Write;

use super::cursor::Cursor;
use super::decimal::{decimal_text, read_big_decimal_text};
use crate::error::AvroResult;
use crate::schema::{Logical, Node};

/// Writes the value at the cursor of a `node` of type `logical` as a person reads it, and
/// says true; says false, reading nothing, for a logical type shown as it is stored (a
/// uuid on string, polars-avro's own exact durations, a value of an unexpected type).
pub(super) fn write_readable(logical: Logical, node: &Node, cur: &mut Cursor, out: &mut String) -> AvroResult<bool> {
    match (logical, node) {
        (Logical::Decimal { scale, .. }, Node::Bytes) => {
            out.push_str(&decimal_text(cur.read_bytes("a decimal")?, scale))
        },
        (Logical::Decimal { scale, .. }, Node::Fixed { size, .. }) => {
            out.push_str(&decimal_text(cur.read_fixed(*size)?, scale))
        },
        (Logical::BigDecimal, Node::Bytes) => out.push_str(&read_big_decimal_text(cur)?),
        (Logical::Date, Node::Int) => {
            let days = cur.read_int()?;
            quoted(out, |out| write_date(out, i64::from(days)))
        },
        (Logical::TimeMillis, Node::Int) => {
            let millis = cur.read_int()?;
            quoted(out, |out| write_time(out, i64::from(millis), 3))
        },
        (Logical::TimeMicros, Node::Long) => {
            let micros = cur.read_long()?;
            quoted(out, |out| write_time(out, micros, 6))
        },
        (
            Logical::TimestampMillis
            | Logical::TimestampMicros
            | Logical::TimestampNanos
            | Logical::LocalTimestampMillis
            | Logical::LocalTimestampMicros
            | Logical::LocalTimestampNanos,
            Node::Long,
        ) => {
            let ticks = cur.read_long()?;
            let digits = match logical {
                Logical::TimestampMillis | Logical::LocalTimestampMillis => 3,
                Logical::TimestampMicros | Logical::LocalTimestampMicros => 6,
                _ => 9,
            };
            let local = matches!(
                logical,
                Logical::LocalTimestampMillis | Logical::LocalTimestampMicros | Logical::LocalTimestampNanos
            );
            quoted(out, |out| write_timestamp(out, ticks, digits, if local { "" } else { "Z" }))
        },
        (Logical::Uuid, Node::Fixed { size: 16, .. }) => {
            let bytes = cur.read_fixed(16)?;
            quoted(out, |out| write_uuid_text(out, bytes))
        },
        (Logical::Duration, Node::Fixed { size: 12, .. }) => {
            let bytes = cur.read_fixed(12)?;
            let part = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes"));
            write!(out, "{{\"months\":{},\"days\":{},\"milliseconds\":{}}}", part(0), part(4), part(8)).unwrap();
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// A uuid's 16 bytes in the canonical 8-4-4-4-12 hex form.
pub(crate) fn write_uuid_text(out: &mut String, bytes: &[u8]) {
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        write!(out, "{byte:02x}").unwrap();
    }
}

fn quoted(out: &mut String, write: impl FnOnce(&mut String)) {
    out.push('"');
    write(out);
    out.push('"');
}

const SECONDS_PER_DAY: i64 = 86_400;

/// `days` since 1970-01-01 as `YYYY-MM-DD` (a year beyond 9999 or before 0 with its sign).
fn write_date(out: &mut String, days: i64) {
    let (year, month, day) = civil_from_days(days);
    if (0..=9999).contains(&year) {
        write!(out, "{year:04}-{month:02}-{day:02}").unwrap();
    } else {
        write!(out, "{year:+05}-{month:02}-{day:02}").unwrap();
    }
}

/// A time of day, `ticks` of 10^-`digits` seconds after midnight, as `HH:MM:SS.fff`.
fn write_time(out: &mut String, ticks: i64, digits: u32) {
    let per_second = 10_i64.pow(digits);
    let (seconds, fraction) = (ticks.div_euclid(per_second), ticks.rem_euclid(per_second));
    let (hours, minutes, seconds) = (seconds.div_euclid(3600), seconds.rem_euclid(3600) / 60, seconds.rem_euclid(60));
    write!(out, "{hours:02}:{minutes:02}:{seconds:02}.{fraction:0width$}", width = digits as usize).unwrap();
}

/// An instant, `ticks` of 10^-`digits` seconds since the epoch, as
/// `YYYY-MM-DDTHH:MM:SS.fff` and `zone` (`Z` for UTC, nothing for a local timestamp).
fn write_timestamp(out: &mut String, ticks: i64, digits: u32, zone: &str) {
    let per_day = i128::from(SECONDS_PER_DAY) * i128::from(10_i64.pow(digits));
    // i128: a day of nanoseconds times the days an i64 of seconds spans does not fit in i64.
    let (days, within) = (i128::from(ticks).div_euclid(per_day), i128::from(ticks).rem_euclid(per_day));
    write_date(out, days as i64);
    out.push('T');
    write_time(out, within as i64, digits);
    out.push_str(zone);
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01: Howard Hinnant's
/// `civil_from_days`, in 400-year eras.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::parse_schema;
    use crate::varint::{put_bytes, put_long};

    fn shown(schema: &str, data: &[u8]) -> Option<String> {
        let schema = parse_schema(schema).unwrap();
        let mut out = String::new();
        let mut cur = Cursor::new(data);
        let logical = schema.logical(schema.root)?;
        let written = write_readable(logical, schema.node(schema.root), &mut cur, &mut out).unwrap();
        assert!(cur.is_empty() || !written, "the value is read whole");
        written.then_some(out)
    }

    fn long(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        put_long(&mut out, v);
        out
    }

    #[test]
    fn dates_are_the_proleptic_gregorian_calendars() {
        for (days, text) in [
            (0, "1970-01-01"),
            (-1, "1969-12-31"),
            (59, "1970-03-01"),
            (11_016, "2000-02-29"),
            (20_784, "2026-11-27"),
            (-719_528, "0000-01-01"),
            (2_932_896, "9999-12-31"),
            (2_932_897, "+10000-01-01"),
            (-719_529, "-0001-12-31"),
        ] {
            let mut out = String::new();
            write_date(&mut out, days);
            assert_eq!(out, text, "{days}");
        }
    }

    #[test]
    fn times_and_timestamps_show_their_units_digits() {
        let date = r#"{"type": "int", "logicalType": "date"}"#;
        assert_eq!(shown(date, &long(20_784)).unwrap(), "\"2026-11-27\"");
        let millis = r#"{"type": "int", "logicalType": "time-millis"}"#;
        assert_eq!(shown(millis, &long(45_296_789)).unwrap(), "\"12:34:56.789\"");
        let micros = r#"{"type": "long", "logicalType": "time-micros"}"#;
        assert_eq!(shown(micros, &long(45_296_789_012)).unwrap(), "\"12:34:56.789012\"");
        let ts = r#"{"type": "long", "logicalType": "timestamp-millis"}"#;
        assert_eq!(shown(ts, &long(1_764_201_600_123)).unwrap(), "\"2025-11-27T00:00:00.123Z\"");
        assert_eq!(shown(ts, &long(-1)).unwrap(), "\"1969-12-31T23:59:59.999Z\"");
        let ns = r#"{"type": "long", "logicalType": "timestamp-nanos"}"#;
        assert_eq!(shown(ns, &long(i64::MAX)).unwrap(), "\"2262-04-11T23:47:16.854775807Z\"");
        let local = r#"{"type": "long", "logicalType": "local-timestamp-micros"}"#;
        assert_eq!(shown(local, &long(1_000_001)).unwrap(), "\"1970-01-01T00:00:01.000001\"");
        let far = r#"{"type": "long", "logicalType": "timestamp-millis"}"#;
        assert!(shown(far, &long(i64::MIN)).unwrap().starts_with("\"-"));
    }

    #[test]
    fn decimals_are_exact_numbers() {
        let mut data = Vec::new();
        put_bytes(&mut data, &[0x04, 0xD2]);
        let decimal = r#"{"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}"#;
        assert_eq!(shown(decimal, &data).unwrap(), "12.34");
        let fixed =
            r#"{"type": "fixed", "name": "F", "size": 2, "logicalType": "decimal", "precision": 4, "scale": 3}"#;
        assert_eq!(shown(fixed, &[0xFB, 0x2E]).unwrap(), "-1.234");
        let mut inner = Vec::new();
        put_bytes(&mut inner, &[0x01]);
        put_long(&mut inner, -2);
        let mut data = Vec::new();
        put_bytes(&mut data, &inner);
        assert_eq!(shown(r#"{"type": "bytes", "logicalType": "big-decimal"}"#, &data).unwrap(), "100");
    }

    #[test]
    fn a_uuid_on_fixed_and_a_duration_show_their_parts() {
        let uuid = r#"{"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}"#;
        let bytes: Vec<u8> = (0..16).collect();
        assert_eq!(shown(uuid, &bytes).unwrap(), "\"00010203-0405-0607-0809-0a0b0c0d0e0f\"");
        let duration = r#"{"type": "fixed", "name": "D", "size": 12, "logicalType": "duration"}"#;
        let bytes = [1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 0, 0];
        assert_eq!(shown(duration, &bytes).unwrap(), r#"{"months":1,"days":2,"milliseconds":259}"#);
        // A uuid on string is shown as the string it is.
        assert_eq!(shown(r#"{"type": "string", "logicalType": "uuid"}"#, &[]), None);
    }
}
