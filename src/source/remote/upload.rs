//! An object written to a store: bytes gathered into parts that are uploaded, a few at a
//! time, as one multipart upload, which becomes the object only when completed. An
//! object smaller than a part is one plain put at the end. Dropped or failed before
//! completion, the upload is aborted: no object appears, and an object already at that
//! path stays as it was.

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload};
use tokio::task::JoinHandle;

use super::range_reader::RemoteObject;
use super::store::{runtime, store_error, wait};
use crate::error::{AvroError, AvroResult};

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
    /// Completed or aborted: nothing left to clean up.
    finished: bool,
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
                let started = wait(runtime().spawn(async move { store.put_multipart(&path).await }))?;
                self.upload = Some(started.map_err(|e| self.failed(e))?);
            }
            // Copied out at its exact size: the buffer's spare capacity stays here, not in
            // every part in flight.
            let part = PutPayload::from(self.buffer[..self.part_size].to_vec());
            self.buffer.drain(..self.part_size);
            let upload = self.upload.as_mut().expect("started above");
            self.parts.push_back(runtime().spawn(upload.put_part(part)));
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
        let completed = wait(runtime().spawn(async move { upload.complete().await }))?;
        self.finished = true;
        completed.map(|_| ()).map_err(|e| self.failed(e))
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
