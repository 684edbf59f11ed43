//! What earlier reads of this process learnt about files: each file's writer schema and,
//! once a read has walked it to its end, its record count. Keyed by the file's identity
//! (where it is and which version: see [`crate::source::Source::identity`]), so that
//! creating a scan of a folder again, or counting it again, reads no header and no block
//! of an unchanged file. Like the schema and count caches of ClickHouse's file and s3
//! functions.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};

use crate::container::{Codec, Header};
use crate::source::FileIdentity;

/// Files remembered at most; past it the memory starts over (a few hundred bytes each).
const MOST_FILES: usize = 100_000;

struct Facts {
    schema_json: Arc<str>,
    /// How its header frames the blocks, once a read has read the header.
    framing: Option<Framing>,
    records: Option<u64>,
}

/// What of a header besides its schema reading the blocks after it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Framing {
    codec: Codec,
    sync: [u8; 16],
    len: u64,
}

#[derive(Default)]
struct KnownFiles {
    files: HashMap<FileIdentity, Facts>,
    /// Each distinct schema text once: the files of a folder usually share one.
    schemas: HashSet<Arc<str>>,
}

impl KnownFiles {
    fn schema(&mut self, schema_json: &str) -> Arc<str> {
        if let Some(schema) = self.schemas.get(schema_json) {
            return schema.clone();
        }
        let schema: Arc<str> = schema_json.into();
        self.schemas.insert(schema.clone());
        schema
    }

    fn remember(&mut self, file: FileIdentity, schema_json: &str, framing: Option<Framing>, records: Option<u64>) {
        if self.files.len() >= MOST_FILES && !self.files.contains_key(&file) {
            *self = Self::default();
        }
        let schema_json = self.schema(schema_json);
        let unknown = Facts { schema_json: schema_json.clone(), framing: None, records: None };
        let facts = self.files.entry(file).or_insert(unknown);
        if *facts.schema_json != *schema_json || framing.is_some_and(|f| facts.framing.is_some_and(|was| was != f)) {
            // The same version of a file with another header cannot be: trust the newest read.
            *facts = Facts { schema_json, framing: None, records: None };
        }
        facts.framing = framing.or(facts.framing);
        facts.records = records.or(facts.records);
    }
}

fn known() -> MutexGuard<'static, KnownFiles> {
    static KNOWN: LazyLock<Mutex<KnownFiles>> = LazyLock::new(Mutex::default);
    KNOWN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer schema of this version of a file, if a read has seen it.
pub fn schema(file: &FileIdentity) -> Option<Arc<str>> {
    known().files.get(file).map(|facts| facts.schema_json.clone())
}

/// The writer schema and record count of this version of a file, if a read has walked
/// it to its end.
pub fn records(file: &FileIdentity) -> Option<(Arc<str>, u64)> {
    let known = known();
    let facts = known.files.get(file)?;
    Some((facts.schema_json.clone(), facts.records?))
}

/// The header of this version of a file (its metadata left out), if a read has read it:
/// a scan reads each header once, when it is planned, and no header an earlier read read.
pub fn header(file: &FileIdentity) -> Option<Header> {
    let known = known();
    let facts = known.files.get(file)?;
    let Framing { codec, sync, len } = facts.framing?;
    Some(Header::remembered(facts.schema_json.to_string(), codec, sync, len))
}

/// Remembers a header a read has read, of this version of a file.
pub fn remember_header(file: FileIdentity, header: &Header) {
    let framing = Framing { codec: header.codec, sync: header.sync, len: header.len };
    known().remember(file, &header.schema_json, Some(framing), None);
}

/// Remembers the record count of this version of a file, which a read walked to its end
/// without meeting damage (and its schema).
pub fn remember_count(file: FileIdentity, schema_json: &str, records: u64) {
    known().remember(file, schema_json, None, Some(records));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(n: u64) -> FileIdentity {
        FileIdentity::for_test(format!("s3://bucket/part-{n}.avro"), 100 + n, format!("etag-{n}"))
    }

    #[test]
    fn a_count_joins_the_schema_and_files_share_one_schema_text() {
        let mut known = KnownFiles::default();
        known.remember(file(1), r#""long""#, None, None);
        known.remember(file(2), r#""long""#, None, Some(7));
        // A later sighting without a count keeps the count.
        known.remember(file(2), r#""long""#, None, None);
        assert_eq!(known.files[&file(1)].records, None);
        assert_eq!(known.files[&file(2)].records, Some(7));
        assert!(Arc::ptr_eq(&known.files[&file(1)].schema_json, &known.files[&file(2)].schema_json));
        // Another schema for the same identity: the newest read is trusted, its count unknown.
        known.remember(file(2), r#""int""#, None, None);
        assert_eq!(&*known.files[&file(2)].schema_json, r#""int""#);
        assert_eq!(known.files[&file(2)].records, None);
    }

    #[test]
    fn past_the_most_files_the_memory_starts_over() {
        let mut known = KnownFiles::default();
        for n in 0..MOST_FILES as u64 {
            known.remember(file(n), r#""long""#, None, Some(n));
        }
        assert_eq!(known.files.len(), MOST_FILES);
        known.remember(file(0), r#""long""#, None, Some(0));
        assert_eq!(known.files.len(), MOST_FILES);
        known.remember(file(MOST_FILES as u64), r#""long""#, None, Some(1));
        assert_eq!(known.files.len(), 1);
        assert_eq!(known.files[&file(MOST_FILES as u64)].records, Some(1));
    }

    #[test]
    fn a_header_is_remembered_with_its_framing_and_forgotten_when_it_differs() {
        let mut known = KnownFiles::default();
        let framing = Framing { codec: Codec::Snappy, sync: [7; 16], len: 120 };
        // A count remembered first (no framing yet), then the header: both are kept.
        known.remember(file(1), r#""long""#, None, Some(3));
        known.remember(file(1), r#""long""#, Some(framing), None);
        assert_eq!(known.files[&file(1)].framing, Some(framing));
        assert_eq!(known.files[&file(1)].records, Some(3));
        // A count learnt later keeps the framing.
        known.remember(file(1), r#""long""#, None, Some(3));
        assert_eq!(known.files[&file(1)].framing, Some(framing));
        // Another framing for the same identity: the newest read is trusted, the rest forgotten.
        let other = Framing { sync: [8; 16], ..framing };
        known.remember(file(1), r#""long""#, Some(other), None);
        assert_eq!(known.files[&file(1)].framing, Some(other));
        assert_eq!(known.files[&file(1)].records, None);
    }
}
