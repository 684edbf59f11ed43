//! Time zone names, from a file's `polars.time_zone` attribute or from a caller's frame
//! types, checked against the time zone database before Polars or a file sees them. A leaf:
//! it knows no other module of the crate.

use polars_core::prelude::TimeZone;

/// The name Polars gives the time zone `name` stands for: a name from the time zone
/// database as it is, an offset (`+01:00`, `-0500`) as its `Etc/GMT` zone. None when the
/// name is neither: the caller says where it came from.
pub fn canonical_time_zone(name: &str) -> Option<String> {
    if name == "UTC" || name.parse::<chrono_tz::Tz>().is_ok() {
        return Some(name.to_string());
    }
    offset_zone(name)
}

/// The Polars time zone of a checked name.
pub fn polars_time_zone(name: &str) -> Option<TimeZone> {
    let canonical = canonical_time_zone(name)?;
    // Without Polars' "timezones" feature this only canonicalizes: the name is checked above.
    TimeZone::opt_try_new(Some(canonical.as_str())).ok().flatten()
}

/// `[+-]HH[:]00` for HH from 00 to 14 as the database's `Etc/GMT` zone, whose sign is the
/// other way round (POSIX): `+01:00` is `Etc/GMT-1`.
fn offset_zone(name: &str) -> Option<String> {
    let (sign, rest) = match name.as_bytes().first()? {
        b'+' => ('-', &name[1..]),
        b'-' => ('+', &name[1..]),
        _ => ('-', name),
    };
    let hours = rest.strip_suffix("00")?;
    let hours = hours.strip_suffix(':').unwrap_or(hours);
    if hours.len() != 2 || !hours.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match hours.parse::<u8>().ok()? {
        0 => Some("UTC".to_string()),
        h @ 1..=14 => Some(format!("Etc/GMT{sign}{h}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_the_database_and_offsets_are_time_zones() {
        for (name, polars) in [
            ("UTC", "UTC"),
            ("Europe/Oslo", "Europe/Oslo"),
            ("America/New_York", "America/New_York"),
            ("Etc/GMT-1", "Etc/GMT-1"),
            ("+01:00", "Etc/GMT-1"),
            ("-0500", "Etc/GMT+5"),
            ("14:00", "Etc/GMT-14"),
            ("+00:00", "UTC"),
        ] {
            assert_eq!(canonical_time_zone(name).as_deref(), Some(polars), "{name}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for name in ["", "Mars/Olympus", "europe/oslo", "+15:00", "+01:30", "+1:00", "01", "+", "é", "UTC+1"] {
            assert!(canonical_time_zone(name).is_none(), "{name}");
        }
    }

    #[test]
    fn an_offsets_sign_is_turned_round_in_its_etc_zone() {
        for (name, zone) in [
            ("-14:00", "Etc/GMT+14"),
            ("+1400", "Etc/GMT-14"),
            ("-01:00", "Etc/GMT+1"),
            ("0500", "Etc/GMT-5"),
            ("-00:00", "UTC"),
            ("0000", "UTC"),
        ] {
            assert_eq!(canonical_time_zone(name).as_deref(), Some(zone), "{name}");
        }
        for name in ["+01:000", "+0100x", "+-01:00", "+ 1:00", "+010:00"] {
            assert_eq!(canonical_time_zone(name), None, "{name}");
        }
    }

    #[test]
    fn polars_gets_the_canonical_zone_or_nothing() {
        let tz = polars_time_zone("+02:00").expect("an offset is a time zone");
        assert_eq!(tz.as_str(), "Etc/GMT-2");
        assert_eq!(polars_time_zone("Asia/Tokyo").unwrap().as_str(), "Asia/Tokyo");
        assert!(polars_time_zone("Nowhere/City").is_none());
        assert!(polars_time_zone("+15:00").is_none());
    }
}
