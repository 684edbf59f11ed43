//! A scan's hive partition columns, typed once when the scan is planned: the keys every
//! file's folders must share, and the type Polars gives each key's values where it needs
//! no parser of the running release (whole numbers, floats, booleans). Dates, datetimes and
//! a `hive_schema`'s types are the caller's (the running Polars parses them).

use polars_core::prelude::{Column, DataFrame, NamedFrom, PlSmallStr, Series};

use crate::error::{AvroError, AvroResult};

/// A file's hive partitions: the (key, value) pairs of its folders, a null value None.
pub type Pairs = Vec<(String, Option<String>)>;

/// The partition keys of files whose folders hold `per_file`, named `names`: the first
/// file's, which every other file must have in the same order. Where a `hive_schema` is
/// given (`given`, its keys), it must name each of them, as Polars' scans require; keys it
/// names beyond them are not used, as there.
pub fn partition_keys(per_file: &[Pairs], names: &[String], given: Option<&[String]>) -> AvroResult<Vec<String>> {
    let keys_of = |pairs: &Pairs| pairs.iter().map(|(key, _)| key.clone()).collect::<Vec<_>>();
    let keys = per_file.first().map(keys_of).unwrap_or_default();
    for (i, pairs) in per_file.iter().enumerate().skip(1) {
        if keys_of(pairs) != keys {
            return Err(AvroError::argument(format!(
                "the hive partitions of '{}' are {}, where '{}' has {}: every file needs the same partition folders",
                names[i],
                listed(&keys_of(pairs)),
                names[0],
                listed(&keys),
            )));
        }
    }
    if let Some(given) = given {
        if let Some(lacking) = keys.iter().find(|key| !given.contains(key)) {
            return Err(AvroError::schema_field_not_found(format!(
                "hive_schema lacks the partition key '{lacking}' of '{}'; it names {}",
                names[0],
                listed(given)
            )));
        }
    }
    Ok(keys)
}

/// The values of the key at `position` in each file's pairs.
pub fn key_values(per_file: &[Pairs], position: usize) -> Vec<Option<String>> {
    per_file.iter().map(|pairs| pairs[position].1.clone()).collect()
}

/// `values` of the partition `key` as Polars types them without a `hive_schema`, where that
/// takes no parser of the running release: Int64 where each is a whole number (a minus its
/// only sign) that fits, else Float64 where each is a number as Polars spells floats (``inf``
/// and ``NaN`` only so), else Boolean where each is `true` or `false` in any case. None where
/// none is (then a String, or a date the caller parses); also where every value is null.
pub fn inferred(key: &str, values: &[Option<String>]) -> Option<Series> {
    let present: Vec<&str> = values.iter().flatten().map(String::as_str).collect();
    if present.is_empty() {
        return None;
    }
    let name = PlSmallStr::from(key);
    let each = |parse: &dyn Fn(&str) -> bool| present.iter().all(|value| parse(value));
    if each(&|v| is_integer(v) && v.parse::<i64>().is_ok()) {
        let parsed: Vec<Option<i64>> = values.iter().map(|v| v.as_deref().and_then(|v| v.parse().ok())).collect();
        return Some(Series::new(name, parsed));
    }
    if each(&|v| (is_integer(v) || is_float(v)) && v.parse::<f64>().is_ok()) {
        let parsed: Vec<Option<f64>> = values.iter().map(|v| v.as_deref().and_then(|v| v.parse().ok())).collect();
        return Some(Series::new(name, parsed));
    }
    booleans(key, values)
}

/// `values` as booleans where each is `true` or `false` in any case, as Polars reads them.
pub fn booleans(key: &str, values: &[Option<String>]) -> Option<Series> {
    let parsed = values
        .iter()
        .map(|v| match v.as_deref().map(str::to_lowercase).as_deref() {
            None => Some(None),
            Some("true") => Some(Some(true)),
            Some("false") => Some(Some(false)),
            Some(_) => None,
        })
        .collect::<Option<Vec<Option<bool>>>>()?;
    Some(Series::new(PlSmallStr::from(key), parsed))
}

/// The values as text, a String column.
pub fn as_text(key: &str, values: &[Option<String>]) -> Series {
    Series::new(PlSmallStr::from(key), values)
}

/// One row per file: the partition columns, in the keys' order (a frame of no column, its
/// height the files', where there is no key).
pub fn partition_frame(columns: Vec<Series>, files: usize) -> AvroResult<DataFrame> {
    DataFrame::new(files, columns.into_iter().map(Column::from).collect()).map_err(AvroError::from)
}

/// `-?\d+`: a whole number as Polars reads one in a partition (no plus sign).
fn is_integer(text: &str) -> bool {
    digits(text.strip_prefix('-').unwrap_or(text))
}

/// A float as Polars spells one in a partition: `[-+]?` then `\d*\.\d+` with an optional
/// exponent, `\d+` with an exponent, `\d+.`, `inf` or `NaN`.
fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    if body == "inf" || body == "NaN" {
        return true;
    }
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    match mantissa.split_once('.') {
        Some((whole, "")) => exponent.is_none() && digits(whole),
        Some((whole, fraction)) => (whole.is_empty() || digits(whole)) && digits(fraction) && exponent_ok,
        None => exponent.is_some() && exponent_ok && digits(mantissa),
    }
}

/// One ASCII digit or more.
fn digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Names as a Python list shows them: `['a', 'b']`.
fn listed(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("'{name}'")).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use polars_core::prelude::DataType;

    use super::*;

    fn values(texts: &[Option<&str>]) -> Vec<Option<String>> {
        texts.iter().map(|t| t.map(str::to_string)).collect()
    }

    fn dtype(texts: &[Option<&str>]) -> Option<DataType> {
        inferred("k", &values(texts)).map(|s| s.dtype().clone())
    }

    #[test]
    fn whole_numbers_are_int64_with_a_minus_their_only_sign() {
        assert_eq!(dtype(&[Some("1"), None, Some("-0012")]), Some(DataType::Int64));
        let series = inferred("k", &values(&[Some("-0012"), None])).unwrap();
        assert_eq!(series.i64().unwrap().get(0), Some(-12));
        assert_eq!(series.null_count(), 1);
        // A plus sign is no number's: the value stays text, as scan_parquet gives it.
        assert_eq!(dtype(&[Some("+5")]), None);
    }

    #[test]
    fn whole_numbers_past_int64_are_floats() {
        assert_eq!(dtype(&[Some("99999999999999999999")]), Some(DataType::Float64));
    }

    #[test]
    fn floats_are_spelled_as_polars_spells_them() {
        for spelled in ["1.5", ".5", "-.5e3", "+1.5", "1e5", "1E-5", "2.", "inf", "-inf", "NaN", "+NaN"] {
            assert_eq!(dtype(&[Some(spelled), Some("1")]), Some(DataType::Float64), "{spelled}");
        }
        for text in ["nan", "Inf", "infinity", "1.e5", "e5", ".", "1.5e", "1,5", "0x10", "1_000", "", " 1"] {
            assert_eq!(dtype(&[Some(text)]), None, "{text:?}");
        }
    }

    #[test]
    fn booleans_in_any_case() {
        let series = inferred("k", &values(&[Some("TRUE"), Some("false"), None])).unwrap();
        assert_eq!(series.bool().unwrap().iter().collect::<Vec<_>>(), [Some(true), Some(false), None]);
        assert_eq!(dtype(&[Some("true"), Some("yes")]), None);
    }

    #[test]
    fn all_null_or_mixed_values_are_no_inferred_type() {
        assert_eq!(dtype(&[None, None]), None);
        assert_eq!(dtype(&[Some("1"), Some("true")]), None);
        assert_eq!(dtype(&[Some("2024-01-01")]), None);
    }

    fn pairs(keys: &[&str]) -> Pairs {
        keys.iter().map(|k| (k.to_string(), Some("1".to_string()))).collect()
    }

    #[test]
    fn every_file_needs_the_first_files_keys_in_order() {
        let names = vec!["a".to_string(), "b".to_string()];
        let keys = partition_keys(&[pairs(&["y", "m"]), pairs(&["y", "m"])], &names, None).unwrap();
        assert_eq!(keys, ["y", "m"]);
        let error = partition_keys(&[pairs(&["y", "m"]), pairs(&["m", "y"])], &names, None).unwrap_err();
        assert_eq!(
            error.message,
            "the hive partitions of 'b' are ['m', 'y'], where 'a' has ['y', 'm']: every file needs the same partition folders"
        );
    }

    #[test]
    fn a_hive_schema_names_every_partition_key() {
        let names = vec!["a/y=1/m=2/f.avro".to_string()];
        let given = ["m".to_string(), "y".to_string(), "z".to_string()];
        let keys = partition_keys(&[pairs(&["y", "m"])], &names, Some(&given)).unwrap();
        assert_eq!(keys, ["y", "m"], "the paths' keys, in their order; a key beyond them is not used");
        let error = partition_keys(&[pairs(&["y", "m"])], &names, Some(&given[1..])).unwrap_err();
        assert_eq!(error.kind, crate::error::ErrorKind::SchemaFieldNotFound);
        assert_eq!(error.message, "hive_schema lacks the partition key 'm' of 'a/y=1/m=2/f.avro'; it names ['y', 'z']");
        assert!(partition_keys(&[pairs(&["y"])], &names, Some(&[])).is_err(), "an empty hive_schema names none");
    }

    #[test]
    fn a_frame_without_keys_keeps_the_files_count() {
        assert_eq!(partition_frame(Vec::new(), 3).unwrap().height(), 3);
        let frame = partition_frame(vec![as_text("k", &values(&[Some("x"), None]))], 2).unwrap();
        assert_eq!(frame.get_column_names(), ["k"]);
    }
}
