//! Where the bytes come from: a local file, bytes in memory, an object in an object
//! store ([`remote`]), or any reader (a Python file object, for instance).

mod guard;
mod hive;
mod listing;
mod mapped;
mod named;
#[cfg(unix)]
#[cfg_attr(not(feature = "python"), allow(dead_code))]
mod pipe;
pub mod remote;

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::PathBuf;

pub use crate::bufread::{ByteStream, WindowWalk};
use crate::error::{AvroError, AvroResult, ErrorKind};
pub(crate) use guard::check_intact;
pub use hive::{partition_pairs, HIVE_NULL};
pub use listing::{
    avro_files_under, glob_base, glob_files, glob_matches, has_glob, is_hidden, list_local, visible, ListedFile,
};
use mapped::MappedFile;
pub use named::{is_one_folder, is_store_url, list_named, Listed, Named};
#[cfg(all(unix, feature = "python"))]
pub use pipe::read_stream;
#[cfg(unix)]
pub use pipe::PipeWriter;
use remote::{RemoteObject, RemoteReadAhead, RequestCount};

/// The stream a source opens to.
pub type Stream = Box<dyn ByteStream>;

/// Where a read's bytes come from.
pub enum Source {
    /// A local file, or a pipe or device read to its end.
    Path(PathBuf),
    /// Bytes in memory; `name` is what errors call them.
    Bytes {
        /// What errors call the bytes.
        name: String,
        /// The whole file.
        data: Vec<u8>,
    },
    /// Any byte stream (a Python file object, for instance).
    Reader {
        /// What errors call the stream.
        name: String,
        /// The stream, read front to back.
        reader: Box<dyn Read + Send + Sync>,
        /// Its length, when known: lengths in the file are checked against it.
        len: Option<u64>,
    },
    /// An object in an object store, read by range requests.
    Remote {
        /// The object.
        object: RemoteObject,
        /// How far ahead of the reader requests go.
        read_ahead: RemoteReadAhead,
        /// Where its requests are counted (a read's statistics), if anywhere.
        requests: Option<RequestCount>,
    },
}

/// A file as it is now: where it is, and what tells its versions apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileIdentity {
    location: String,
    size: u64,
    version: String,
}

#[cfg(test)]
impl FileIdentity {
    /// An identity made up for a unit test.
    pub fn for_test(location: String, size: u64, version: String) -> Self {
        Self { location, size, version }
    }
}

/// How long ago a local file must have been modified for its time to tell its versions
/// apart (file times advance by clock ticks of up to a few milliseconds).
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

/// Read buffer for files and streams: large enough that system calls cost nothing next
/// to decoding, small enough that reading a header or the first rows reads little more.
const BUFFER_SIZE: usize = 128 << 10;

impl Source {
    /// Whether it is an object of a store, each request a network's latency away.
    pub fn is_remote(&self) -> bool {
        matches!(self, Source::Remote { .. })
    }

    /// A local path.
    pub fn from_path(path: impl Into<PathBuf>) -> Self {
        Source::Path(path.into())
    }

    /// Bytes in memory, called `<bytes>` in errors.
    pub fn from_bytes(data: Vec<u8>) -> Self {
        Source::Bytes { name: "<bytes>".to_string(), data }
    }

    /// Counts the requests this source makes (an object in a store) in `requests`.
    pub fn count_requests(&mut self, requests: &RequestCount) {
        if let Source::Remote { requests: counted, .. } = self {
            *counted = Some(requests.clone());
        }
    }

    /// Which file, and which version of it, this source is, when that can be told without
    /// reading it: a local file by its absolute path, size, modification time and inode;
    /// an object by its URL, and the size and ETag its listing gave. A file modified in the
    /// last two seconds has none: a change within the same clock tick would keep its time.
    pub fn identity(&self) -> Option<FileIdentity> {
        match self {
            Source::Path(path) => {
                let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
                let modified = meta.modified().ok()?;
                if modified.elapsed().ok()? < SETTLED {
                    return None;
                }
                let since_epoch = modified.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
                #[cfg(unix)]
                let version = {
                    use std::os::unix::fs::MetadataExt;
                    format!("{since_epoch}:{}:{}", meta.dev(), meta.ino())
                };
                #[cfg(not(unix))]
                let version = since_epoch.to_string();
                let location = std::path::absolute(path).ok()?.display().to_string();
                Some(FileIdentity { location, size: meta.len(), version })
            },
            Source::Remote { object, .. } => {
                Some(FileIdentity { location: object.url.clone(), size: object.size?, version: object.etag.clone()? })
            },
            Source::Bytes { .. } | Source::Reader { .. } => None,
        }
    }

    /// The name errors use for this source.
    pub fn name(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Bytes { name, .. } | Source::Reader { name, .. } => name.clone(),
            Source::Remote { object, .. } => object.url.clone(),
        }
    }

    /// A buffered stream from byte `start` to the end (a split's part of a file), and the
    /// total length when known.
    pub fn open_at(self, start: u64) -> AvroResult<(Stream, Option<u64>)> {
        let name = self.name();
        match self {
            Source::Remote { object, read_ahead, requests } => {
                let (reader, len) = object.open_at(start, read_ahead, requests)?;
                Ok((Box::new(reader), Some(len)))
            },
            source => {
                let (mut stream, len) = source.open()?;
                // A local file seeks; bytes move their cursor; a stream reads up to `start`.
                let past_end = len.is_some_and(|len| start > len);
                if past_end || stream.skip(start).is_err() {
                    return Err(AvroError::format(format!(
                        "a split begins at byte {start}, past the end of the file ({} bytes): did the file change \
                        after the split was planned?",
                        len.map_or_else(|| "fewer".to_string(), |len| len.to_string())
                    ))
                    .in_file(&name));
                }
                Ok((stream, len))
            },
        }
    }

    /// A buffered stream over the bytes, and their total length when known.
    pub fn open(self) -> AvroResult<(Stream, Option<u64>)> {
        match self {
            Source::Path(path) => {
                let name = path.display().to_string();
                let file = File::open(&path).map_err(|e| {
                    let mut err = AvroError::io(e, format!("could not open '{name}'"));
                    if err.kind == ErrorKind::NotFound {
                        err.message = format!("no such file: '{name}'");
                    }
                    err.in_file(&name)
                })?;
                // A pipe, a device or a /proc file reports no size (or 0): read it to its
                // end instead of trusting the metadata.
                let len = file.metadata().ok().filter(|m| m.is_file() && m.len() > 0).map(|m| m.len());
                // A file larger than one read is mapped (see `mapped`); a file system that
                // cannot map it is read.
                let file = match len {
                    Some(len) if len > BUFFER_SIZE as u64 => match MappedFile::new(file, len) {
                        Ok(mapped) => return Ok((Box::new(mapped), Some(len))),
                        Err(file) => file,
                    },
                    // A file of one read is read whole, now, by one system call: a folder of
                    // many small files pays no seek past a header and no read that finds
                    // the end. A file cut since it was measured ends where its bytes do.
                    Some(len) => {
                        let mut data = Vec::with_capacity(len as usize);
                        file.take(len)
                            .read_to_end(&mut data)
                            .map_err(|e| AvroError::io(e, format!("could not read '{name}'")).in_file(&name))?;
                        return Ok((Box::new(Cursor::new(data)), Some(len)));
                    },
                    None => file,
                };
                Ok((Box::new(BufReader::with_capacity(BUFFER_SIZE, file)), len))
            },
            Source::Bytes { data, .. } => {
                let len = data.len() as u64;
                Ok((Box::new(Cursor::new(data)), Some(len)))
            },
            Source::Reader { reader, len, .. } => Ok((Box::new(BufReader::with_capacity(BUFFER_SIZE, reader)), len)),
            Source::Remote { object, read_ahead, requests } => {
                let (reader, len) = object.open(read_ahead, requests)?;
                Ok((Box::new(reader), Some(len)))
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, Write};
    use std::time::{Duration, SystemTime};

    use super::*;

    fn temp_path(test: &str) -> PathBuf {
        std::env::temp_dir().join(format!("polars-avro-source-{test}-{}", std::process::id()))
    }

    fn reader(name: &str, data: Vec<u8>, len: Option<u64>) -> Source {
        Source::Reader { name: name.into(), reader: Box::new(Cursor::new(data)), len }
    }

    #[test]
    fn each_source_is_named_as_errors_name_it() {
        let object = RemoteObject::in_memory("dir/x.avro", b"");
        let remote = Source::Remote { object, read_ahead: RemoteReadAhead::default(), requests: None };
        for (source, name) in [
            (Source::from_path("dir/x.avro"), "dir/x.avro"),
            (Source::from_bytes(vec![1]), "<bytes>"),
            (reader("stdin", vec![], None), "stdin"),
            (remote, "memory:///dir/x.avro"),
        ] {
            assert_eq!(source.name(), name);
        }
    }

    #[test]
    fn an_object_has_an_identity_only_when_its_listing_gave_size_and_etag() {
        let remote = |size: Option<u64>, etag: Option<&str>| Source::Remote {
            object: RemoteObject::in_memory("p.avro", b"0123456789").listed(size, etag.map(str::to_string)),
            read_ahead: RemoteReadAhead::default(),
            requests: None,
        };
        let expected = FileIdentity::for_test("memory:///p.avro".into(), 10, "e1".into());
        assert_eq!(remote(Some(10), Some("e1")).identity(), Some(expected));
        assert_ne!(remote(Some(10), Some("e2")).identity(), remote(Some(10), Some("e1")).identity());
        assert_eq!(remote(Some(10), None).identity(), None);
        assert_eq!(remote(None, Some("e1")).identity(), None);
        assert_eq!(Source::from_bytes(vec![1]).identity(), None);
        assert_eq!(reader("r", vec![1], Some(1)).identity(), None);
    }

    #[test]
    fn a_local_file_has_an_identity_once_settled_and_another_when_it_changes() {
        let path = temp_path("identity");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(Source::from_path(&path).identity(), None, "modified within the last two seconds");
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
        let settle =
            |path: &PathBuf| File::options().write(true).open(path).unwrap().set_modified(an_hour_ago).unwrap();
        settle(&path);
        let first = Source::from_path(&path).identity().expect("a settled file");
        assert_eq!((first.location.as_str(), first.size), (path.to_str().unwrap(), 3));
        assert_eq!(Source::from_path(&path).identity(), Some(first.clone()), "the same version");
        File::options().append(true).open(&path).unwrap().write_all(b"d").unwrap();
        settle(&path);
        let second = Source::from_path(&path).identity().unwrap();
        assert_eq!(second.size, 4);
        assert_ne!(second, first);
        std::fs::remove_file(&path).unwrap();
        // Neither a folder nor a missing file has one.
        assert_eq!(Source::from_path(std::env::temp_dir()).identity(), None);
        assert_eq!(Source::from_path(&path).identity(), None);
    }

    #[test]
    fn a_missing_file_is_not_found_by_its_name() {
        let path = temp_path("missing");
        let error = Source::from_path(&path).open().err().expect("no such file");
        let name = path.display().to_string();
        assert_eq!(error.kind, ErrorKind::NotFound);
        assert_eq!(error.message, format!("no such file: '{name}'"));
        assert_eq!(error.file.as_deref(), Some(name.as_str()));
    }

    #[test]
    fn an_empty_local_file_is_read_to_its_end_its_length_unknown() {
        let path = temp_path("empty");
        std::fs::write(&path, b"").unwrap();
        let (mut stream, len) = Source::from_path(&path).open().unwrap();
        assert_eq!(len, None);
        assert!(stream.fill_buf().unwrap().is_empty());
        std::fs::write(&path, b"xyz").unwrap();
        let (mut stream, len) = Source::from_path(&path).open_at(1).unwrap();
        assert_eq!((len, stream.fill_buf().unwrap()), (Some(3), &b"yz"[..]));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_split_starts_at_its_byte_or_is_refused_past_the_end() {
        let data: Vec<u8> = (0..10).collect();
        let (mut stream, len) = Source::from_bytes(data.clone()).open_at(3).unwrap();
        assert_eq!((len, stream.fill_buf().unwrap()[0]), (Some(10), 3));
        let (mut stream, _) = Source::from_bytes(data.clone()).open_at(10).unwrap();
        assert!(stream.fill_buf().unwrap().is_empty(), "the end itself is no error");
        let (mut stream, len) = reader("r", data.clone(), None).open_at(9).unwrap();
        assert_eq!((len, stream.fill_buf().unwrap()), (None, &[9u8][..]));
        for (source, size) in [(Source::from_bytes(data.clone()), "10 bytes"), (reader("r", data, None), "fewer bytes")]
        {
            let name = source.name();
            let error = source.open_at(11).err().expect("past the end");
            assert_eq!((error.kind, error.file.as_deref()), (ErrorKind::Format, Some(name.as_str())));
            assert_eq!(
                error.message,
                format!("a split begins at byte 11, past the end of the file ({size}): did the file change after the split was planned?")
            );
        }
    }
}
