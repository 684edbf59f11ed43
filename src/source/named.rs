//! What a scan names, listed by one rule whatever its kind. Local paths (directories,
//! patterns, files, pipes and devices), `file://` URLs and object stores' URLs are listed
//! here; what only the caller can open or list (bytes, file objects, the file systems only
//! fsspec reaches) comes opened or listed, and passes through with the URL it has. The
//! names `hidden_file_prefix` hides are left out of them all at once, and each file knows
//! the folder its hive partitions start below.

use std::fs;

use super::hive::partition_pairs;
use super::listing::{list_local, not_found, visible, ListedFile};
use super::remote::{list_url, ListedRemote, RemoteObject, RemoteOptions};
use crate::error::{AvroError, AvroResult};

/// One source as the user named it, `T` being what only the caller opens.
pub enum Named<T> {
    /// A local path, a `file://` URL or an object store's URL, as written.
    Text(String),
    /// An object a listing found already, its size and ETag known.
    Object(RemoteObject),
    /// Bytes or a file object: no path, no folder.
    Opened(T),
    /// A URL only the caller lists: its files with their URLs, and the folder or pattern
    /// base they were listed from (None where the URL named the file).
    Listed {
        /// The URL as written.
        url: String,
        /// Where its files' hive partitions start.
        base: Option<String>,
        /// The files, each with its URL.
        files: Vec<(T, String)>,
    },
}

/// One file of a scan, listed.
pub enum Listed<T> {
    /// A local file, with the folder that listed it.
    Local(ListedFile),
    /// An object in a store, with the prefix that listed it.
    Remote(ListedRemote),
    /// A pipe or a device, whose bytes are read once, at its path.
    Stream(String),
    /// What only the caller opens, with the URL it was found at and the folder that listed it.
    Opened {
        /// The caller's handle.
        item: T,
        /// Its URL, where a listing gave one.
        url: Option<String>,
        /// Where its hive partitions start.
        base: Option<String>,
    },
}

impl<T> Listed<T> {
    /// The path or URL naming the file: what hides it, and what its partitions and path
    /// column read. None for bytes, file objects and streams.
    pub fn path(&self) -> Option<&str> {
        match self {
            Listed::Local(file) => Some(&file.path),
            Listed::Remote(listed) => Some(&listed.object.url),
            Listed::Stream(_) => None,
            Listed::Opened { url, .. } => url.as_deref(),
        }
    }

    /// The hive partition (key, value) pairs of its folders below the one that listed it;
    /// None for a file of no path, which has no folders.
    pub fn partition_pairs(&self) -> Option<Vec<(String, Option<String>)>> {
        let (path, base, url) = match self {
            Listed::Local(file) => (file.path.as_str(), file.base.as_deref(), false),
            Listed::Remote(listed) => (listed.object.url.as_str(), listed.base.as_deref(), true),
            Listed::Opened { url: Some(url), base, .. } => (url.as_str(), base.as_deref(), true),
            Listed::Stream(_) | Listed::Opened { url: None, .. } => return None,
        };
        Some(partition_pairs(path, base, url))
    }
}

/// The files `named` names, in order: a local directory's `.avro` files, a pattern's
/// matches (with `glob`), a path's own file or stream, an object store URL's objects (by
/// the same rules), and the caller's files as given; less those whose names begin with one
/// of `hidden`. An empty list is refused; so is a listing whose every file is hidden.
pub fn list_named<T>(
    named: Vec<Named<T>>,
    glob: bool,
    hidden: &[String],
    remote: &RemoteOptions,
) -> AvroResult<Vec<Listed<T>>> {
    if named.is_empty() {
        return Err(AvroError::argument("no sources given: the list is empty"));
    }
    let given: Vec<String> = named.iter().filter_map(Named::text).map(str::to_string).collect();
    let mut out = Vec::with_capacity(named.len());
    for source in named {
        match source {
            Named::Text(text) => match text_kind(&text) {
                TextKind::Store => out.extend(list_url(&text, glob, &[], remote)?.into_iter().map(Listed::Remote)),
                TextKind::Local(path) if is_stream(&path) => out.push(Listed::Stream(path)),
                TextKind::Local(path) => out.extend(list_local(&[path], glob, &[])?.into_iter().map(Listed::Local)),
            },
            Named::Object(object) => out.push(Listed::Remote(ListedRemote { object, base: None })),
            Named::Opened(item) => out.push(Listed::Opened { item, url: None, base: None }),
            Named::Listed { url, base, files } => {
                if files.is_empty() {
                    return Err(not_found(format!("no files to read at '{url}'"), &url));
                }
                out.extend(files.into_iter().map(|(item, url)| Listed::Opened {
                    item,
                    url: Some(url),
                    base: base.clone(),
                }));
            },
        }
    }
    visible(out, Listed::path, &given, hidden)
}

/// Whether `named` is one folder, where Polars turns hive partitioning on by default: one
/// local directory, or one URL ending in `/`.
pub fn is_one_folder<T>(named: &[Named<T>]) -> bool {
    match named {
        [Named::Text(text)] => match text_kind(text) {
            TextKind::Store => text.ends_with('/'),
            TextKind::Local(path) => fs::metadata(path).is_ok_and(|m| m.is_dir()),
        },
        [Named::Listed { url, .. }] => url.ends_with('/'),
        _ => false,
    }
}

impl<T> Named<T> {
    /// The path or URL as the user wrote it, where there is one.
    fn text(&self) -> Option<&str> {
        match self {
            Named::Text(text) | Named::Listed { url: text, .. } => Some(text),
            Named::Object(object) => Some(&object.url),
            Named::Opened(_) => None,
        }
    }
}

/// What a path or URL names.
/// Whether a text is an object store's URL (a `file://` URL is a local path).
pub fn is_store_url(text: &str) -> bool {
    matches!(text_kind(text), TextKind::Store)
}

enum TextKind {
    /// A local path (a `file://` URL's decoded).
    Local(String),
    /// An object store's URL.
    Store,
}

/// A local path, or an object store's URL: a text beginning `scheme://`, less the `file`
/// scheme, whose path (percent-decoded, the host left out) is a local one.
fn text_kind(text: &str) -> TextKind {
    let Some((scheme, _)) = text.split_once("://") else { return TextKind::Local(text.to_string()) };
    let is_scheme = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    if !is_scheme {
        return TextKind::Local(text.to_string());
    }
    if !scheme.eq_ignore_ascii_case("file") {
        return TextKind::Store;
    }
    match url::Url::parse(text) {
        Ok(url) => TextKind::Local(percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy().into_owned()),
        Err(_) => TextKind::Local(text[scheme.len() + 3..].to_string()),
    }
}

/// Whether a path names something other than a regular file or a directory (a pipe, a
/// device); a missing path is none (the reader says it is missing, naming it).
fn is_stream(path: &str) -> bool {
    fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("polars-avro-named-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("k=1")).unwrap();
        for file in ["k=1/a.avro", "k=1/_b.avro"] {
            fs::write(dir.join(file), b"Obj\x01").unwrap();
        }
        dir
    }

    fn paths(listed: &[Listed<u8>]) -> Vec<Option<&str>> {
        listed.iter().map(Listed::path).collect()
    }

    #[test]
    fn a_file_url_is_its_decoded_local_path_and_any_other_scheme_a_store() {
        assert!(matches!(text_kind("file:///tmp/a%20b.avro"), TextKind::Local(p) if p == "/tmp/a b.avro"));
        assert!(matches!(text_kind("FILE://host/x.avro"), TextKind::Local(p) if p == "/x.avro"));
        assert!(matches!(text_kind("s3://b/x.avro"), TextKind::Store));
        assert!(matches!(text_kind("C:\\data\\x.avro"), TextKind::Local(_)));
        assert!(matches!(text_kind("./a://b"), TextKind::Local(p) if p == "./a://b"));
    }

    #[test]
    fn every_kind_is_listed_in_order_and_hidden_names_left_out_of_all() {
        let dir = folder("kinds");
        let text = dir.display().to_string();
        let named = vec![
            Named::Opened(1u8),
            Named::Text(text.clone()),
            Named::Listed {
                url: "m://t/".into(),
                base: Some("m://t/".into()),
                files: vec![(2, "m://t/_c.avro".into())],
            },
        ];
        let listed = list_named(named, true, &["_".to_string()], &RemoteOptions::default()).unwrap();
        let a = format!("{text}/k=1/a.avro");
        assert_eq!(paths(&listed), vec![None, Some(a.as_str())]);
        assert_eq!(listed[1].partition_pairs(), Some(vec![("k".to_string(), Some("1".to_string()))]));
        assert_eq!(listed[0].partition_pairs(), None);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_callers_listing_keeps_its_urls_and_folder_for_partitions() {
        let named = vec![Named::Listed {
            url: "m://t/".to_string(),
            base: Some("m://t/".to_string()),
            files: vec![(0u8, "m://t/d=x%2Fy/a.avro".to_string())],
        }];
        assert!(is_one_folder(&named));
        let listed = list_named(named, true, &[], &RemoteOptions::default()).unwrap();
        assert_eq!(listed[0].partition_pairs(), Some(vec![("d".to_string(), Some("x/y".to_string()))]));
    }

    #[test]
    fn one_folder_is_one_directory_or_one_url_ending_in_a_slash() {
        let dir = folder("one");
        let text = dir.display().to_string();
        assert!(is_one_folder::<u8>(&[Named::Text(text.clone())]));
        assert!(is_one_folder::<u8>(&[Named::Text(format!("file://{text}"))]));
        assert!(!is_one_folder::<u8>(&[Named::Text(text.clone()), Named::Text(text.clone())]));
        assert!(is_one_folder::<u8>(&[Named::Text("s3://b/t/".into())]));
        assert!(!is_one_folder::<u8>(&[Named::Text("s3://b/t".into())]));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn no_source_and_an_empty_listing_are_refused() {
        let none: Vec<Named<u8>> = Vec::new();
        let Err(refused) = list_named(none, true, &[], &RemoteOptions::default()) else { panic!("no source listed") };
        assert!(refused.to_string().contains("empty"));
        let empty = vec![Named::<u8>::Listed { url: "m://t/".into(), base: None, files: Vec::new() }];
        assert!(list_named(empty, true, &[], &RemoteOptions::default()).is_err());
    }
}
