//! Hive-style partition folders (`.../date=2024-01-01/country=NO/part-0.avro`): the
//! (key, value) pairs a local file's path holds below the folder a scan listed it from.
//! Their types are the scan's to decide (`read::partitions`).

use percent_encoding::percent_decode_str;

/// The folder value that stands for null, as Hive and Polars write it (and the
/// partitioned writer, polars_avro/_partition.py).
pub const HIVE_NULL: &str = "__HIVE_DEFAULT_PARTITION__";

/// The (key, value) pairs of the `key=value` folders of `path` below `base` (all its folders
/// where there is no base, or `path` is not below it), percent-decoded; Hive's null value is
/// None. A folder without `=`, or with nothing before it, is no partition. A URL (`encoded`)
/// spells an object's key percent-encoded: its folder names are decoded first.
pub fn partition_pairs(path: &str, base: Option<&str>, encoded: bool) -> Vec<(String, Option<String>)> {
    let relative = base.and_then(|base| path.strip_prefix(base)).unwrap_or(path).replace('\\', "/");
    let mut folders: Vec<&str> = relative.split('/').collect();
    folders.pop(); // the file's own name
    folders
        .into_iter()
        .filter_map(|folder| {
            let folder = if encoded { decoded(folder) } else { folder.to_string() };
            let (key, value) = folder.split_once('=')?;
            if key.is_empty() {
                return None;
            }
            let value = decoded(value);
            Some((decoded(key), (value != HIVE_NULL).then_some(value)))
        })
        .collect()
}

fn decoded(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::partition_pairs;

    #[test]
    fn the_pairs_are_the_key_value_folders_below_the_base_decoded() {
        let pairs = partition_pairs("/data/t/k=1/d=a%2Fb/x=/part.avro", Some("/data/t"), false);
        let want = [("k", Some("1")), ("d", Some("a/b")), ("x", Some(""))];
        assert_eq!(pairs, want.map(|(k, v)| (k.to_string(), v.map(str::to_string))));
    }

    #[test]
    fn folders_above_the_base_and_folders_without_a_key_are_no_partitions() {
        assert!(partition_pairs("/k=1/t/part.avro", Some("/k=1/t"), false).is_empty());
        assert!(partition_pairs("/t/=1/plain/part.avro", None, false).is_empty());
        // Without a base, every folder of the path counts.
        assert_eq!(partition_pairs("/k=1/a.avro", None, false), vec![("k".to_string(), Some("1".to_string()))]);
    }

    #[test]
    fn hives_null_is_none_and_backslashes_are_folders() {
        let pairs = partition_pairs("C:\\t\\k=__HIVE_DEFAULT_PARTITION__\\a.avro", Some("C:\\t"), false);
        assert_eq!(pairs, vec![("k".to_string(), None)]);
    }

    #[test]
    fn a_urls_folder_names_are_decoded_before_they_are_split() {
        // An object key `k=a%2Fb` spelled in a URL: `k%3Da%252Fb`.
        let pairs = partition_pairs("s3://b/t/k%3Da%252Fb/part.avro", Some("s3://b/t"), true);
        assert_eq!(pairs, vec![("k".to_string(), Some("a/b".to_string()))]);
        assert!(partition_pairs("s3://b/t/k%3Da/part.avro", Some("s3://b/t"), false).is_empty());
    }
}
