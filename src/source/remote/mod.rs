//! Objects in object stores (s3, gs, az/abfs, http(s)) through the object_store crate:
//! stores built from a URL and the user's options, listing for globs ([`store`]), the
//! objects themselves, read by [`range_reader::RangeReader`]. Objects written are
//! `crate::sink`'s (`RemoteUpload`), on the same stores and runtime.

mod listing;
mod option_names;
mod range_reader;
mod store;

pub use listing::{list_url, ListedRemote};
pub use range_reader::{RemoteObject, RemoteReadAhead, RequestCount};
pub use store::{avro_objects_under, glob_objects, ListedObject, RemoteOptions};
pub(crate) use store::{runtime, store_error, wait};

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;

    use object_store::memory::InMemory;
    use object_store::path::Path;
    use object_store::{ObjectStore, ObjectStoreExt, ObjectStoreScheme};

    use super::store::{runtime, store_base, wait};
    use super::*;
    use crate::error::{AvroError, AvroResult, ErrorKind};

    fn object_in_memory(data: &[u8]) -> RemoteObject {
        RemoteObject::in_memory("dir/file.avro", data)
    }

    #[test]
    fn store_base_takes_the_object_path_off() {
        let base = |url: &str| {
            let (_, path) = ObjectStoreScheme::parse(&url::Url::parse(url).unwrap()).unwrap();
            store_base(url, &path)
        };
        assert_eq!(base("s3://bucket/a/b.avro"), "s3://bucket/");
        assert_eq!(base("s3://bucket/events/"), "s3://bucket/");
        assert_eq!(
            base("https://acct.blob.core.windows.net/container/x/y.avro"),
            "https://acct.blob.core.windows.net/container/"
        );
        assert_eq!(base("http://127.0.0.1:8080/data/file%20one.avro"), "http://127.0.0.1:8080/");
    }

    #[test]
    fn range_reader_streams_every_byte_in_order() {
        let data: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let read_ahead = RemoteReadAhead { first_request: 1000, max_request: 64 << 10, requests_in_flight: 3 };
        let (mut reader, size) = object_in_memory(&data).open(read_ahead, None).unwrap();
        assert_eq!(size, data.len() as u64);
        let mut out = Vec::new();
        // Small reads, so that requests are consumed across many calls.
        let mut buf = [0u8; 777];
        loop {
            let n = reader.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, data);
    }

    #[test]
    fn a_small_object_read_once_is_read_again_without_a_request() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let object = object_in_memory(&data);
        let read_all = |object: RemoteObject| -> AvroResult<Vec<u8>> {
            let (mut reader, _) = object.open(RemoteReadAhead::default(), None)?;
            let mut out = Vec::new();
            reader.read_to_end(&mut out).map_err(|e| AvroError::io(e, "read"))?;
            Ok(out)
        };
        assert_eq!(read_all(object.clone()).unwrap(), data);
        // Gone from the store: the second read can only come from the kept bytes.
        let (store, path) = (object.store.clone(), object.path.clone());
        wait(runtime().spawn(async move { store.delete(&path).await })).unwrap().unwrap();
        assert_eq!(read_all(object.clone()).unwrap(), data);
        // They were taken by that read: the next one asks the store again.
        assert_eq!(read_all(object).unwrap_err().kind, ErrorKind::NotFound);
    }

    #[test]
    fn a_missing_object_is_not_found() {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let object = RemoteObject::at("memory:///nope.avro".into(), store, Path::from("nope.avro"));
        let err = object.open(RemoteReadAhead::default(), None).err().unwrap();
        assert_eq!(err.kind, ErrorKind::NotFound);
        assert_eq!(err.file.as_deref(), Some("memory:///nope.avro"));
    }

    #[test]
    fn unknown_options_and_schemes_are_argument_errors() {
        let options = RemoteOptions { options: vec![("aws_no_such".into(), "1".into())], retries: 0 };
        let err = RemoteObject::new("s3://bucket/x.avro", &options).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Argument);
        assert!(err.message.contains("'aws_no_such' is not an option of the s3 store"), "{}", err.message);
        let err = RemoteObject::new("ftp://host/x.avro", &RemoteOptions::default()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Argument);
    }
}
