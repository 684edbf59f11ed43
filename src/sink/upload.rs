//! An object written to a store: bytes gathered into parts that are uploaded, a few at a
//! time, as one multipart upload, which becomes the object only when completed. An
//! object smaller than a part is one plain put at the end. Dropped or failed before
//! completion, the upload is aborted: no object appears, and an object already at that
//! path stays as it was. A completion whose answer is lost is checked against the object
//! the store then holds before it is called a failure.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use object_store::path::Path;
use object_store::{MultipartUpload, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use tokio::task::JoinHandle;

use crate::error::{AvroError, AvroResult};
use crate::source::remote::{runtime, store_error, wait, RemoteObject};

/// Bytes per part: above S3's 5 MiB minimum, and what a few parts in flight may hold.
pub const PART_SIZE: usize = 8 << 20;
/// Parts being uploaded at once; memory holds at most this many parts and the one filling.
const PARTS_IN_FLIGHT: usize = 4;

/// An object being written.
pub struct RemoteUpload {
    url: String,
    store: Arc<dyn ObjectStore>,
    path: Path,
    part_size: usize,
    /// Bytes not yet handed to a part.
    buffer: Vec<u8>,
    /// Started when the first part is full.
    upload: Option<Box<dyn MultipartUpload>>,
    parts: VecDeque<JoinHandle<object_store::Result<()>>>,
    parts_sent: usize,
    /// Bytes written so far: the size the object must have once completed.
    written: u64,
    /// What was at the path when the upload started, asked alongside its start.
    before: Option<JoinHandle<Before>>,
    /// Completed or aborted: nothing left to clean up.
    finished: bool,
}

/// The object at the path before the upload, to tell a completed upload from it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Before {
    /// The store did not say (no permission to read, say): a lost completion stays a failure.
    Unknown,
    Absent,
    Present {
        e_tag: Option<String>,
    },
}

impl Before {
    async fn of(store: Arc<dyn ObjectStore>, path: Path) -> Self {
        match store.head(&path).await {
            Ok(meta) => Before::Present { e_tag: meta.e_tag },
            Err(object_store::Error::NotFound { .. }) => Before::Absent,
            Err(_) => Before::Unknown,
        }
    }
}

/// Whether `now`, the object a store holds after a completion whose answer was lost, is
/// the upload's: its size is what was written, it is not the object that was there before
/// (another ETag), and where the ETag counts parts (S3's `"<md5>-<parts>"`), the count is
/// the upload's.
fn completed_as_written(before: &Before, now: &ObjectMeta, written: u64, parts: usize) -> bool {
    let replaced = match before {
        Before::Unknown => false,
        Before::Absent => true,
        Before::Present { e_tag } => e_tag.is_some() && now.e_tag != *e_tag,
    };
    let parts_counted =
        now.e_tag.as_deref().and_then(|t| t.trim_matches('"').rsplit_once('-')).map(|(_, n)| n.parse::<usize>());
    let parts_agree = !matches!(parts_counted, Some(Ok(n)) if n != parts);
    replaced && now.size == written && parts_agree
}

impl RemoteUpload {
    /// An upload to `object`'s URL, in parts of `part_size` bytes.
    pub fn new(object: &RemoteObject, part_size: usize) -> Self {
        Self {
            url: object.url.clone(),
            store: object.store.clone(),
            path: object.path.clone(),
            part_size: part_size.max(1),
            buffer: Vec::new(),
            upload: None,
            parts: VecDeque::new(),
            parts_sent: 0,
            written: 0,
            before: None,
            finished: false,
        }
    }

    fn failed(&self, err: object_store::Error) -> AvroError {
        store_error(err, &self.url, "could not write")
    }

    /// Hands the full parts of the buffer to the upload, waiting while too many are in flight.
    fn send_full_parts(&mut self) -> AvroResult<()> {
        while self.buffer.len() >= self.part_size {
            if self.upload.is_none() {
                let (store, path) = (self.store.clone(), self.path.clone());
                self.before = Some(runtime().spawn(Before::of(store.clone(), path.clone())));
                let started = wait(runtime().spawn(async move { store.put_multipart(&path).await }))?;
                self.upload = Some(started.map_err(|e| self.failed(e))?);
            }
            // Copied out at its exact size: the buffer's spare capacity stays here, not in
            // every part in flight.
            let part = PutPayload::from(self.buffer[..self.part_size].to_vec());
            self.buffer.drain(..self.part_size);
            let upload = self.upload.as_mut().expect("started above");
            self.parts.push_back(runtime().spawn(upload.put_part(part)));
            self.parts_sent += 1;
            while self.parts.len() >= PARTS_IN_FLIGHT {
                self.wait_for_oldest_part()?;
            }
        }
        Ok(())
    }

    fn wait_for_oldest_part(&mut self) -> AvroResult<()> {
        match self.parts.pop_front() {
            Some(part) => wait(part)?.map_err(|e| self.failed(e)),
            None => Ok(()),
        }
    }

    /// Uploads what is left and makes the object appear.
    pub fn complete(mut self) -> AvroResult<()> {
        let Some(mut upload) = self.upload.take() else {
            // Smaller than a part: one put.
            let (store, path) = (self.store.clone(), self.path.clone());
            let payload = PutPayload::from(std::mem::take(&mut self.buffer));
            let put = wait(runtime().spawn(async move { store.put(&path, payload).await }))?;
            self.finished = true;
            return put.map(|_| ()).map_err(|e| self.failed(e));
        };
        let sent: AvroResult<()> = (|| {
            if !self.buffer.is_empty() {
                let last = PutPayload::from(std::mem::take(&mut self.buffer));
                self.parts.push_back(runtime().spawn(upload.put_part(last)));
                self.parts_sent += 1;
            }
            while !self.parts.is_empty() {
                self.wait_for_oldest_part()?;
            }
            Ok(())
        })();
        if let Err(e) = sent {
            self.upload = Some(upload);
            return Err(e);
        }
        let (upload, completed) = wait(runtime().spawn(async move {
            let completed = upload.complete().await;
            (upload, completed)
        }))?;
        self.upload = Some(upload);
        match completed {
            // Dropped here, the upload is aborted: no parts are left pending.
            Err(e) if !self.stored_whole() => Err(self.failed(e)),
            _ => {
                self.finished = true;
                Ok(())
            },
        }
    }

    /// After a completion that failed: whether the store holds the object as written all
    /// the same (the answer was lost, or a retry found the upload already completed).
    fn stored_whole(&mut self) -> bool {
        let before = match self.before.take().map(wait) {
            Some(Ok(before)) => before,
            _ => return false,
        };
        let (store, path) = (self.store.clone(), self.path.clone());
        match wait(runtime().spawn(async move { store.head(&path).await })) {
            Ok(Ok(now)) => completed_as_written(&before, &now, self.written, self.parts_sent),
            _ => false,
        }
    }

    /// Abandons the upload: the parts sent are deleted, no object appears.
    pub fn abort(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        self.parts.iter().for_each(JoinHandle::abort);
        self.parts.clear();
        if let Some(mut upload) = self.upload.take() {
            // Best effort: a store that cannot abort leaves parts its lifecycle rules clean up.
            let _ = wait(runtime().spawn(async move { upload.abort().await }));
        }
    }
}

impl Write for RemoteUpload {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        self.written += buf.len() as u64;
        self.send_full_parts().map_err(std::io::Error::other)?;
        Ok(buf.len())
    }

    /// Parts go out as they fill; the rest waits for `complete`.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RemoteUpload {
    fn drop(&mut self) {
        self.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object_in_memory(data: &[u8]) -> RemoteObject {
        RemoteObject::in_memory("dir/file.avro", data)
    }

    fn stored(object: &RemoteObject) -> Option<Vec<u8>> {
        let (store, path) = (object.store.clone(), object.path.clone());
        let got = wait(runtime().spawn(async move { store.get(&path).await })).unwrap();
        got.ok().map(|r| wait(runtime().spawn(async move { r.bytes().await })).unwrap().unwrap().to_vec())
    }

    #[test]
    fn uploads_appear_whole_only_when_completed() {
        use std::io::Write;
        let object = object_in_memory(b"the old object");
        let data: Vec<u8> = (0..2_500_000u32).map(|i| (i % 253) as u8).collect();
        // Many parts, written in pieces that straddle them.
        let mut upload = RemoteUpload::new(&object, 100_000);
        for piece in data.chunks(77_777) {
            upload.write_all(piece).unwrap();
        }
        assert_eq!(stored(&object).unwrap(), b"the old object");
        upload.complete().unwrap();
        assert_eq!(stored(&object).unwrap(), data);
        // Smaller than a part: one put.
        let mut upload = RemoteUpload::new(&object, 100_000);
        upload.write_all(b"small").unwrap();
        upload.complete().unwrap();
        assert_eq!(stored(&object).unwrap(), b"small");
        // Dropped before completion: the object stays as it was.
        let mut upload = RemoteUpload::new(&object, 1000);
        upload.write_all(&data[..10_000]).unwrap();
        drop(upload);
        assert_eq!(stored(&object).unwrap(), b"small");
    }

    fn object(size: u64, e_tag: &str) -> ObjectMeta {
        ObjectMeta {
            location: Path::from("out.avro"),
            last_modified: Default::default(),
            size,
            e_tag: Some(e_tag.to_string()),
            version: None,
        }
    }

    #[test]
    fn a_lost_completion_counts_when_the_store_holds_a_new_object_of_the_size_written() {
        let old = Before::Present { e_tag: Some("\"aa-3\"".into()) };
        assert!(completed_as_written(&Before::Absent, &object(100, "\"bb-2\""), 100, 2));
        assert!(completed_as_written(&old, &object(100, "\"bb-2\""), 100, 2));
        // Stores whose ETag does not count parts.
        assert!(completed_as_written(&old, &object(100, "0x8D9"), 100, 2));
        // The old object, another size, another count of parts.
        assert!(!completed_as_written(&old, &object(100, "\"aa-3\""), 100, 3));
        assert!(!completed_as_written(&old, &object(99, "\"bb-2\""), 100, 2));
        assert!(!completed_as_written(&old, &object(100, "\"bb-3\""), 100, 2));
        // Nothing to tell the objects apart by.
        assert!(!completed_as_written(&Before::Unknown, &object(100, "\"bb-2\""), 100, 2));
        assert!(!completed_as_written(&Before::Present { e_tag: None }, &object(100, "\"bb-2\""), 100, 2));
    }
}
