//! Time zone names reach Polars only once checked against the time zone database, wherever
//! they come from: a file's `polars.time_zone` attribute (any writer may put any text
//! there) or a caller's frame types.

#[path = "common/avro_encoder.rs"]
mod avro_encoder;

use avro_encoder::{container, Ty, Val};
use polars_avro::read::{AvroReader, Source};
use polars_avro::write::{AvroWriter, WriteOptions};
use polars_avro::{ErrorKind, FrameType};
use polars_core::prelude::*;

/// One record of one timestamp-micros field whose `polars.time_zone` attribute is `zone`.
fn file_with_zone(zone: &str) -> Vec<u8> {
    let schema = serde_json::json!({
        "type": "record", "name": "R",
        "fields": [{"name": "t", "type": {"type": "long", "logicalType": "timestamp-micros", "polars.time_zone": zone}}],
    });
    let top = Ty::Record(vec![Ty::Long]);
    container(&schema.to_string(), &top, &[Val::Record(vec![Val::Long(1_700_000_000_000_000)])], 1, "null")
}

fn read(file: Vec<u8>) -> polars_avro::AvroResult<DataFrame> {
    AvroReader::new(Source::from_bytes(file)).finish()
}

#[test]
fn a_zone_from_the_database_or_an_offset_reads_as_polars_names_it() {
    for (zone, polars) in [("Europe/Oslo", "Europe/Oslo"), ("+01:00", "Etc/GMT-1"), ("UTC", "UTC")] {
        let df = read(file_with_zone(zone)).unwrap();
        let column = df.column("t").unwrap();
        match column.dtype() {
            DataType::Datetime(TimeUnit::Microseconds, Some(tz)) => assert_eq!(tz.as_str(), polars, "{zone}"),
            other => panic!("{zone}: read as {other:?}"),
        }
        assert_eq!(column.datetime().unwrap().physical().get(0), Some(1_700_000_000_000_000));
    }
}

#[test]
fn a_name_that_is_no_zone_is_a_schema_error_naming_it() {
    for zone in ["Mars/Olympus", "", "+15:00", "europe/oslo"] {
        let err = read(file_with_zone(zone)).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Schema, "{zone}: {err}");
        assert!(
            err.to_string().contains(&format!("names '{zone}', which is not a time zone Polars knows")),
            "{zone}: {err}"
        );
    }
}

fn written_with_zone(zone: &str) -> polars_avro::AvroResult<Vec<u8>> {
    let columns =
        vec![("t".to_string(), FrameType::Datetime { unit: TimeUnit::Microseconds, time_zone: Some(zone.into()) })];
    AvroWriter::new(Vec::new(), columns, WriteOptions::default())?.finish()
}

#[test]
fn a_writer_writes_a_zone_as_polars_names_it_and_refuses_what_is_no_zone() {
    let file = written_with_zone("-05:00").unwrap();
    let header = String::from_utf8_lossy(&file);
    assert!(header.contains(r#""polars.time_zone":"Etc/GMT+5""#), "{header}");
    let err = written_with_zone("Mars/Olympus").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Schema);
    assert!(err.to_string().contains("the column 't' has the time zone 'Mars/Olympus', which is not one"), "{err}");
}
