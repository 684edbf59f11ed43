//! The objects a scan of an object store's URL names: a folder's, a pattern's, or the one
//! object, less hidden ones, by the rules local listings follow.

use super::range_reader::RemoteObject;
use super::store::{avro_objects_under, glob_objects, RemoteOptions};
use crate::error::AvroResult;
use crate::source::listing::{glob_base, has_glob, not_found, visible};

/// An object a scan names, and the prefix its hive partitions start below: the folder or
/// the pattern's base that listed it (None where the URL named the object itself).
pub struct ListedRemote {
    /// The object, with its size and ETag where a listing gave them.
    pub object: RemoteObject,
    /// The folder's URL or the pattern's base that listed it.
    pub base: Option<String>,
}

/// The objects a URL names, as a scan lists them: the `.avro` objects under a folder's URL
/// (ending in `/`), with `glob` what a pattern matches (a wildcard in the URL's path), else
/// the object itself; less those whose names begin with one of `hidden`. A folder or a
/// pattern that gives none is not found, and so is a listing whose every object is hidden.
pub fn list_url(url: &str, glob: bool, hidden: &[String], options: &RemoteOptions) -> AvroResult<Vec<ListedRemote>> {
    let given = [url.to_string()];
    let (listed, base, nothing) = if url.ends_with('/') {
        (avro_objects_under(url, options)?, url, "no .avro objects under")
    } else if glob && has_glob(path_of_url(url)) {
        (glob_objects(url, options)?, glob_base(url), "no objects match the pattern")
    } else {
        let object = ListedRemote { object: RemoteObject::new(url, options)?, base: None };
        return visible(vec![object], |o| Some(o.object.url.as_str()), &given, hidden);
    };
    if listed.is_empty() {
        return Err(not_found(format!("{nothing} '{url}'"), url));
    }
    let objects = listed
        .into_iter()
        .map(|(object_url, size, etag)| {
            let object = RemoteObject::new(&object_url, options)?.listed(Some(size), etag);
            Ok(ListedRemote { object, base: Some(base.to_string()) })
        })
        .collect::<AvroResult<Vec<_>>>()?;
    visible(objects, |o| Some(o.object.url.as_str()), &given, hidden)
}

/// A URL's path, as Python's `urlparse` splits it: after the scheme and the host, before
/// a query or a fragment (a `?` there is not a wildcard).
fn path_of_url(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
    path.split(['?', '#']).next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_path_is_after_its_host_and_before_its_query() {
        assert_eq!(path_of_url("s3://bucket/a/*.avro"), "/a/*.avro");
        assert_eq!(path_of_url("https://host:8080/d/x.avro?sig=a*b#frag"), "/d/x.avro");
        assert_eq!(path_of_url("s3://bucket"), "");
        // The host's own characters are no wildcard.
        assert!(!has_glob(path_of_url("http://[::1]:9000/b/x.avro")));
    }
}
