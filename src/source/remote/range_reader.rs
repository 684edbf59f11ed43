//! One object of a store, and reading it front to back as a stream, by range requests
//! kept several in flight ahead of the reader, so that the network and the decoder work
//! at once.

use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::task::JoinHandle;

use super::store::{runtime, store_error, store_for, wait, RemoteOptions};
use crate::bufread::{skip_by_reading, ByteStream};
use crate::error::{AvroError, AvroResult};

/// One object: its store, its path in the store, and its size when a listing told it.
#[derive(Clone, Debug)]
pub struct RemoteObject {
    /// The object's URL, as errors name it.
    pub url: String,
    pub(crate) store: Arc<dyn ObjectStore>,
    pub(crate) path: Path,
    /// Its size, when a listing told it (else asked of the store when opened).
    pub size: Option<u64>,
    /// Its ETag, when a listing told it: which version of the object this is.
    pub etag: Option<String>,
    /// Its size as the first request of an open learned it, where no listing told it
    /// (shared by clones): a later open, such as a collect's after the scan's creation read
    /// the header, asks the store for it no more.
    pub(super) learned_size: Arc<OnceLock<u64>>,
    /// The bytes of the first request from the object's start, its header's and more, or
    /// all of a small object, kept (shared by clones): reading the header when a scan is
    /// created and the data when it is collected then asks for no byte twice. Taken by the
    /// next open.
    pub(super) kept: Arc<Mutex<Option<KeptBytes>>>,
}

/// Requests made to stores, counted for one read (shared by the sources it reads).
pub type RequestCount = Arc<AtomicU64>;

/// First requests at most this large are kept for the next open.
const KEEP_AT_MOST: u64 = 256 << 10;
/// Bytes kept across every object of the process at most (many small objects of a scan
/// that is never collected hold no more than this).
const KEPT_BUDGET: usize = 64 << 20;
static KEPT: AtomicUsize = AtomicUsize::new(0);

/// Bytes counted against [`KEPT_BUDGET`] while they live.
#[derive(Debug)]
pub(super) struct KeptBytes(Bytes);

impl KeptBytes {
    fn new(bytes: Bytes) -> Option<Self> {
        let len = bytes.len();
        KEPT.fetch_update(Ordering::AcqRel, Ordering::Acquire, |kept| (kept + len <= KEPT_BUDGET).then_some(kept + len))
            .ok()
            .map(|_| Self(bytes))
    }
}

impl Drop for KeptBytes {
    fn drop(&mut self) {
        KEPT.fetch_sub(self.0.len(), Ordering::AcqRel);
    }
}

impl RemoteObject {
    /// An object holding `data` in a store of its own in memory, for tests of what reads
    /// and writes objects.
    #[cfg(test)]
    pub(crate) fn in_memory(path: &str, data: &[u8]) -> Self {
        let store: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let path = Path::from(path);
        let (s, p, payload) = (store.clone(), path.clone(), object_store::PutPayload::from(data.to_vec()));
        wait(runtime().spawn(async move { s.put(&p, payload).await })).unwrap().unwrap();
        Self::at(format!("memory:///{path}"), store, path)
    }

    /// The object at `url`, in the store its scheme and `options` name.
    pub fn new(url: &str, options: &RemoteOptions) -> AvroResult<Self> {
        let (store, path) = store_for(url, options)?;
        Ok(Self::at(url.to_string(), store, path))
    }

    /// The object at `path` of `store`, named `url`, nothing known of it yet.
    pub(crate) fn at(url: String, store: Arc<dyn ObjectStore>, path: Path) -> Self {
        Self { url, store, path, size: None, etag: None, learned_size: Arc::default(), kept: Arc::default() }
    }

    /// Its size, where a listing told it or an earlier open learned it.
    pub fn known_size(&self) -> Option<u64> {
        self.size.or_else(|| self.learned_size.get().copied())
    }

    /// The bytes from the object's start an earlier open kept.
    fn take_kept(&self) -> Option<Bytes> {
        let kept = self.kept.lock().ok()?.take()?;
        Some(kept.0.clone())
    }

    /// Keeps `bytes`, from the object's start, for the next open, if small and within the budget.
    fn keep(&self, bytes: &Bytes) {
        if bytes.len() as u64 > KEEP_AT_MOST {
            return;
        }
        if let (Ok(mut slot), Some(kept)) = (self.kept.lock(), KeptBytes::new(bytes.clone())) {
            *slot = Some(kept);
        }
    }

    /// The same object, its size and ETag known (from a listing).
    pub fn listed(mut self, size: Option<u64>, etag: Option<String>) -> Self {
        self.size = size;
        self.etag = etag;
        self
    }

    /// A reader over the whole object. Each request it makes is counted in `requests`.
    pub fn open(self, read_ahead: RemoteReadAhead, requests: Option<RequestCount>) -> AvroResult<(RangeReader, u64)> {
        self.open_at(0, read_ahead, requests)
    }

    /// A reader from byte `start` of the object to its end (a split's part of it, or the
    /// blocks after a header already read). Where neither a listing nor an earlier open
    /// told the object's size, its first request tells it (a ranged GET answers with the
    /// size), not a request of its own.
    pub fn open_at(
        self,
        start: u64,
        read_ahead: RemoteReadAhead,
        requests: Option<RequestCount>,
    ) -> AvroResult<(RangeReader, u64)> {
        if let (Some(bytes), Some(size)) = (self.take_kept(), self.known_size()) {
            if start < bytes.len() as u64 || bytes.len() as u64 == size {
                let reader = RangeReader::after_prefix(self, bytes, size, start, read_ahead, requests);
                return Ok((reader, size));
            }
        }
        if let Some(size) = self.known_size() {
            return Ok((RangeReader::new(self, start.min(size), size, read_ahead, requests), size));
        }
        let first = RangeReader::first_request_len(start, &read_ahead);
        count_request(&requests);
        let (store, path) = (self.store.clone(), self.path.clone());
        let options = GetOptions { range: Some(GetRange::Bounded(start..start + first)), ..GetOptions::default() };
        let answer = wait(runtime().spawn(async move {
            let result = store.get_opts(&path, options).await?;
            let size = result.meta.size;
            Ok::<_, object_store::Error>((result.bytes().await?, size))
        }));
        let (bytes, size) = match answer.and_then(|r| r.map_err(|e| store_error(e, &self.url, "could not open"))) {
            Ok(answer) => answer,
            // An empty object has no range to give: its size tells the read it is empty.
            Err(e) if range_refused(&e) => {
                count_request(&requests);
                let (store, path) = (self.store.clone(), self.path.clone());
                let meta = wait(runtime().spawn(async move { store.head(&path).await }))
                    .and_then(|r| r.map_err(|e| store_error(e, &self.url, "could not open")))?;
                let _ = self.learned_size.set(meta.size);
                // Its size known now: opened as an object whose size a listing told.
                return self.open_at(start, read_ahead, requests);
            },
            Err(e) => return Err(e),
        };
        let _ = self.learned_size.set(size);
        if start == 0 {
            self.keep(&bytes);
        }
        Ok((RangeReader::new_idle(self, size, start, read_ahead, requests).with_first(bytes), size))
    }
}

/// Whether a store refused a range for what the object holds (S3's 416 for an empty object,
/// object_store's own refusal where an HTTP server or its memory store has no range to
/// give), not for a fault: a fault is not asked again otherwise (the store retried it).
fn range_refused(error: &AvroError) -> bool {
    let text = error.to_string();
    ["416 Range Not Satisfiable", "InvalidRange", "Invalid range", "Range request not supported"]
        .iter()
        .any(|t| text.contains(t))
}

fn count_request(requests: &Option<RequestCount>) {
    if let Some(requests) = requests {
        requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// Bytes requested ahead of every reader of the process together, beyond the one request
/// each has in flight: what lets one big object be asked for in one round trip (70 MB behind
/// 100 ms a request read in 0.40 s with 8 requests of 8 MiB in flight, 0.48 s with 4),
/// while a folder's objects opened ahead together hold no more.
static AHEAD: AheadBudget = AheadBudget::new(64 << 20);

/// A bound on bytes requested and not yet read, shared by readers.
pub(super) struct AheadBudget {
    limit: usize,
    used: AtomicUsize,
}

impl AheadBudget {
    const fn new(limit: usize) -> Self {
        Self { limit, used: AtomicUsize::new(0) }
    }

    /// `len` bytes counted against the budget; `always` counts them even beyond it (a
    /// reader's one request in flight, which its progress needs).
    fn hold(&'static self, len: u64, always: bool) -> Option<Held> {
        let len = len as usize;
        let within = |used: usize| (always || used + len <= self.limit).then_some(used + len);
        self.used.fetch_update(Ordering::AcqRel, Ordering::Acquire, within).ok()?;
        Some(Held { budget: self, len })
    }
}

/// Bytes counted against an [`AheadBudget`] while they are in flight or unread.
struct Held {
    budget: &'static AheadBudget,
    len: usize,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.len, Ordering::AcqRel);
    }
}

/// How far ahead of the reader requests go. The first request is small, so that reading
/// a header costs little; later ones double up to `max_request`.
#[derive(Clone, Copy, Debug)]
pub struct RemoteReadAhead {
    /// Bytes of the first request.
    pub first_request: u64,
    /// Bytes of a request at most.
    pub max_request: u64,
    /// Requests in flight at once once the reader is past the first, those beyond one
    /// within the process's budget of bytes requested ahead.
    pub requests_in_flight: usize,
}

impl Default for RemoteReadAhead {
    fn default() -> Self {
        Self { first_request: 256 << 10, max_request: 8 << 20, requests_in_flight: 8 }
    }
}

/// An object as a byte stream (`BufRead`): ranges requested ahead of the reader, in order,
/// each retried by the store and resumed where a dropped connection stopped.
pub struct RangeReader {
    object: RemoteObject,
    size: u64,
    read_ahead: RemoteReadAhead,
    /// Where the next request starts, and how long it is.
    next_offset: u64,
    next_len: u64,
    /// Requests in file order, each with its bytes counted against `budget`.
    in_flight: VecDeque<(JoinHandle<AvroResult<Bytes>>, Held)>,
    current: Bytes,
    /// `current`'s count against the budget, released once it is read.
    current_held: Option<Held>,
    budget: &'static AheadBudget,
    /// Offset in the object of `current`'s first byte.
    current_start: u64,
    position: usize,
    past_first: bool,
    requests: Option<RequestCount>,
}

/// A skip this long, past everything requested, drops the requests in flight and starts
/// again where it lands: a count walking large blocks makes one request per block header.
const JUMP_AT: u64 = 1 << 20;
/// The first request after a jump: a block header and the next marker, with room to spare.
const JUMP_REQUEST: u64 = 64 << 10;

impl RangeReader {
    fn new(
        object: RemoteObject,
        start: u64,
        size: u64,
        read_ahead: RemoteReadAhead,
        requests: Option<RequestCount>,
    ) -> Self {
        let mut reader = Self::new_idle(object, size, start, read_ahead, requests);
        reader.next_len = Self::first_request_len(start, &read_ahead);
        // A read of blocks from a header already read keeps its requests in flight together.
        reader.past_first = start > 0;
        reader.request_ahead(if start > 0 { read_ahead.requests_in_flight.max(1) } else { 1 });
        reader
    }

    /// A reader from `start` that has asked for nothing yet.
    fn new_idle(
        object: RemoteObject,
        size: u64,
        start: u64,
        read_ahead: RemoteReadAhead,
        requests: Option<RequestCount>,
    ) -> Self {
        Self {
            object,
            size,
            read_ahead,
            next_offset: start,
            next_len: read_ahead.first_request.max(1),
            in_flight: VecDeque::new(),
            current: Bytes::new(),
            current_held: None,
            budget: &AHEAD,
            current_start: start,
            position: 0,
            past_first: false,
            requests,
        }
    }

    /// Bytes of the first request from `start`: a header's where the read starts at the
    /// object's start (a planner may want no more), else a read of blocks, a quarter of the
    /// largest request, so that the first requests in flight together cover a large part.
    fn first_request_len(start: u64, read_ahead: &RemoteReadAhead) -> u64 {
        match start {
            0 => read_ahead.first_request.max(1),
            _ => read_ahead.first_request.max(read_ahead.max_request / 4).max(1),
        }
    }

    /// This idle reader, with the bytes its first request from its start (`first`) brought:
    /// the requests after them go out together.
    fn with_first(mut self, first: Bytes) -> Self {
        let max_request = self.read_ahead.max_request;
        self.next_offset = self.current_start + first.len() as u64;
        self.next_len = (first.len() as u64 * 2).max(max_request / 4).min(max_request).max(1);
        self.current = first;
        self.past_first = self.current_start > 0;
        self
    }

    /// A reader from `start` over an object whose first bytes (`prefix`) an earlier open
    /// kept: no request for them; the reader reads on past them.
    fn after_prefix(
        object: RemoteObject,
        prefix: Bytes,
        size: u64,
        start: u64,
        read_ahead: RemoteReadAhead,
        requests: Option<RequestCount>,
    ) -> Self {
        let start = start.min(prefix.len() as u64);
        let mut reader = Self::new_idle(object, size, 0, read_ahead, requests).with_first(prefix);
        reader.position = start as usize;
        reader.past_first = true;
        reader
    }

    fn request_ahead(&mut self, count: usize) {
        while self.in_flight.len() < count && self.next_offset < self.size {
            let start = self.next_offset;
            let end = (start + self.next_len).min(self.size);
            let Some(held) = self.budget.hold(end - start, self.in_flight.is_empty()) else { return };
            let (store, path, url) = (self.object.store.clone(), self.object.path.clone(), self.object.url.clone());
            count_request(&self.requests);
            let task = runtime().spawn(async move {
                let bytes = store.get_range(&path, start..end).await.map_err(|e| {
                    store_error(e, &url, &format!("could not read bytes {start}..{end} of")).at_offset(start)
                })?;
                if bytes.len() as u64 != end - start {
                    let message = format!(
                        "the store returned {} bytes for bytes {start}..{end} of '{url}': did the object change \
                        while it was read?",
                        bytes.len()
                    );
                    return Err(AvroError::new(crate::error::ErrorKind::Io, message).in_file(&url).at_offset(start));
                }
                Ok(bytes)
            });
            self.in_flight.push_back((task, held));
            self.next_offset = end;
            self.next_len = (self.next_len * 2).min(self.read_ahead.max_request.max(1));
        }
    }
}

impl BufRead for RangeReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.position == self.current.len() {
            // Wanting more than the first request means reading the file, not just its
            // header: from then on, several requests stay in flight.
            let reading_on = self.past_first;
            self.past_first = true;
            let window = if reading_on { self.read_ahead.requests_in_flight.max(1) } else { 1 };
            self.request_ahead(window);
            let Some((task, held)) = self.in_flight.pop_front() else { return Ok(&[]) };
            self.current_start += self.current.len() as u64;
            self.current_held = Some(held);
            self.current = wait(task).and_then(|r| r).map_err(std::io::Error::other)?;
            self.position = 0;
            if self.current_start == 0 {
                self.object.keep(&self.current);
            }
            if reading_on {
                self.request_ahead(window);
            }
        }
        Ok(&self.current[self.position..])
    }

    fn consume(&mut self, amount: usize) {
        self.position = (self.position + amount).min(self.current.len());
    }
}

impl ByteStream for RangeReader {
    fn skip(&mut self, n: u64) -> std::io::Result<()> {
        let target = self.current_start + (self.position as u64).saturating_add(n);
        if n < JUMP_AT || target < self.next_offset {
            return skip_by_reading(self, n);
        }
        for (task, _) in self.in_flight.drain(..) {
            task.abort();
        }
        self.current = Bytes::new();
        self.current_held = None;
        self.current_start = target;
        self.position = 0;
        self.next_offset = target;
        self.next_len = JUMP_REQUEST;
        self.past_first = false;
        Ok(())
    }

    /// A block within the range being read is a slice of the bytes the store returned, not
    /// a copy. One that begins at a range's end or crosses into the next is read (and
    /// copied), where a failed request is reported with its place.
    fn take_shared(&mut self, n: u64) -> Option<Bytes> {
        let end = self.position.checked_add(usize::try_from(n).ok()?)?;
        if end > self.current.len() {
            return None;
        }
        let taken = self.current.slice(self.position..end);
        self.position = end;
        Some(taken)
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        crate::bufread::read_from_buffer(self, buf)
    }
}

impl Drop for RangeReader {
    fn drop(&mut self) {
        // Requests nobody will read (a head(), an error): stop them.
        for (task, _) in &self.in_flight {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    fn read_ahead(first_request: u64, max_request: u64) -> RemoteReadAhead {
        RemoteReadAhead { first_request, max_request, requests_in_flight: 3 }
    }

    #[test]
    fn requests_double_from_the_first_up_to_the_largest() {
        let bytes = data(1000);
        let requests = RequestCount::default();
        let object = RemoteObject::in_memory("a.avro", &bytes);
        let (mut reader, size) = object.open(read_ahead(7, 50), Some(requests.clone())).unwrap();
        assert_eq!(size, 1000);
        let mut read = Vec::new();
        reader.read_to_end(&mut read).unwrap();
        assert_eq!(read, bytes);
        // The first range of 7 bytes, which tells the size (no head()), then ranges of 14 and
        // 28 bytes, then 20 of at most 50.
        assert_eq!(requests.load(Ordering::Relaxed), 1 + 2 + 20);
    }

    #[test]
    fn a_listed_object_is_read_from_its_start_without_asking_its_size() {
        let bytes = data(300);
        let requests = RequestCount::default();
        let object = RemoteObject::in_memory("a.avro", &bytes).listed(Some(300), None);
        let (mut reader, size) = object.open_at(120, read_ahead(100, 100), Some(requests.clone())).unwrap();
        let mut read = Vec::new();
        reader.read_to_end(&mut read).unwrap();
        assert_eq!((size, read.as_slice()), (300, &bytes[120..]));
        assert_eq!(requests.load(Ordering::Relaxed), 2, "bytes 120..220 and 220..300");
        // A start past the end reads nothing.
        let object = RemoteObject::in_memory("a.avro", &bytes).listed(Some(300), None);
        let (mut reader, _) = object.open_at(500, read_ahead(100, 100), None).unwrap();
        assert!(reader.fill_buf().unwrap().is_empty());
    }

    #[test]
    fn a_small_object_read_whole_is_kept_for_the_next_open_only() {
        let bytes = data(5000);
        let requests = RequestCount::default();
        let object = RemoteObject::in_memory("small.avro", &bytes);
        let (mut reader, _) = object.clone().open(RemoteReadAhead::default(), Some(requests.clone())).unwrap();
        let mut read = Vec::new();
        reader.read_to_end(&mut read).unwrap();
        assert_eq!(requests.load(Ordering::Relaxed), 1, "one range, which told the size too");
        // A clone shares what was kept: no request, from any start.
        let (mut reader, size) =
            object.clone().open_at(4000, RemoteReadAhead::default(), Some(requests.clone())).unwrap();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).unwrap();
        assert_eq!((size, rest.as_slice()), (5000, &bytes[4000..]));
        assert_eq!(requests.load(Ordering::Relaxed), 1);
        // Taken by that open: the next one asks again, for the bytes alone.
        let (mut reader, _) = object.open(RemoteReadAhead::default(), Some(requests.clone())).unwrap();
        let mut again = Vec::new();
        reader.read_to_end(&mut again).unwrap();
        assert_eq!((again, requests.load(Ordering::Relaxed)), (bytes, 2));
    }

    #[test]
    fn an_object_opened_again_is_asked_neither_its_size_nor_its_first_bytes_again() {
        // As a scan's creation reads a header and its collect the blocks after it.
        let bytes = data(1000);
        let requests = RequestCount::default();
        let object = RemoteObject::in_memory("big.avro", &bytes);
        let (mut header, size) = object.clone().open(read_ahead(100, 400), Some(requests.clone())).unwrap();
        let mut first = [0u8; 50];
        header.read_exact(&mut first).unwrap();
        drop(header);
        assert_eq!((size, requests.load(Ordering::Relaxed)), (1000, 1), "one range, no head()");
        // From the header's end: bytes 50..100 kept, then 100..300, 300..700 and 700..1000
        // asked for together.
        let (mut blocks, _) = object.clone().open_at(50, read_ahead(100, 400), Some(requests.clone())).unwrap();
        let mut rest = Vec::new();
        blocks.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, &bytes[50..]);
        assert_eq!(requests.load(Ordering::Relaxed), 1 + 3);
        // Opened from its start again (a header not remembered), the size is still known.
        let (mut again, _) = object.open(read_ahead(100, 400), Some(requests.clone())).unwrap();
        let mut all = Vec::new();
        again.read_to_end(&mut all).unwrap();
        assert_eq!((all, requests.load(Ordering::Relaxed)), (bytes, 4 + 4));
    }

    #[test]
    fn bytes_within_a_range_are_shared_and_bytes_across_ranges_are_not() {
        let bytes = data(300);
        let object = RemoteObject::in_memory("a.avro", &bytes).listed(Some(300), None);
        let (mut reader, _) = object.open_at(0, read_ahead(100, 100), None).unwrap();
        assert!(reader.take_shared(10).is_none(), "nothing read yet: read instead");
        reader.fill_buf().unwrap();
        let first = reader.take_shared(60).unwrap();
        let second = reader.take_shared(40).unwrap();
        assert_eq!((&first[..], &second[..]), (&bytes[..60], &bytes[60..100]));
        assert_eq!(first.as_ptr().wrapping_add(60), second.as_ptr(), "slices of one range");
        assert!(reader.take_shared(1).is_none(), "at the range's end: read on instead");
        let mut across = [0u8; 150];
        reader.read_exact(&mut across[..50]).unwrap();
        assert!(reader.take_shared(100).is_none(), "bytes 150..250 cross into the third range");
        reader.read_exact(&mut across[50..]).unwrap();
        assert_eq!(&across[..], &bytes[100..250]);
        assert_eq!(&reader.take_shared(50).unwrap()[..], &bytes[250..]);
        assert!(reader.fill_buf().unwrap().is_empty());
    }

    #[test]
    fn a_range_is_refused_for_what_the_object_holds_not_for_a_fault() {
        let refused = |text: &str| range_refused(&AvroError::new(ErrorKind::Io, text));
        assert!(refused("could not open 's3://b/k': Server returned non-2xx status code: 416 Range Not Satisfiable"));
        assert!(refused("could not open 'http://h/k': Operation not supported: Range request not supported by k"));
        assert!(!refused("could not open 's3://b/k': Server returned non-2xx status code: 503 Service Unavailable"));
    }

    #[test]
    fn an_empty_object_reads_as_empty() {
        let requests = RequestCount::default();
        let (mut reader, size) =
            RemoteObject::in_memory("empty.avro", b"").open(read_ahead(100, 400), Some(requests.clone())).unwrap();
        assert_eq!(size, 0);
        assert!(reader.fill_buf().unwrap().is_empty());
    }

    #[test]
    fn a_read_of_blocks_asks_for_its_ranges_together() {
        let bytes = data(4000);
        let requests = RequestCount::default();
        let object = RemoteObject::in_memory("big.avro", &bytes).listed(Some(4000), None);
        let reader = RangeReader::new(object, 100, 4000, read_ahead(10, 400), Some(requests.clone()));
        // From a header already read: a quarter of the largest request, then doubling, three
        // in flight before a byte is read.
        assert_eq!(reader.in_flight.len(), 3);
        assert_eq!(reader.next_offset, 100 + 100 + 200 + 400);
        assert_eq!(requests.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn requests_beyond_the_first_in_flight_stay_within_the_budget() {
        static SMALL: AheadBudget = AheadBudget::new(500);
        let bytes = data(4000);
        let object = RemoteObject::in_memory("big.avro", &bytes).listed(Some(4000), None);
        let mut reader = RangeReader::new_idle(object, 4000, 100, read_ahead(10, 400), None);
        reader.budget = &SMALL;
        reader.next_len = 300;
        reader.request_ahead(3);
        // 300 bytes, then 400 more would pass the 500: one request in flight.
        assert_eq!((reader.in_flight.len(), SMALL.used.load(Ordering::Relaxed)), (1, 300));
        // Another reader's first request goes out beyond it: its progress needs one.
        let held = SMALL.hold(400, true).expect("always");
        assert_eq!(SMALL.hold(1, false).map(|_| ()), None);
        drop(held);
        // Read, the bytes are released as the reader moves past them, and it reads to the end.
        let mut read = Vec::new();
        reader.read_to_end(&mut read).unwrap();
        assert_eq!(read, &bytes[100..]);
        drop(reader);
        assert_eq!(SMALL.used.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn a_long_skip_drops_the_requests_ahead_and_starts_again_where_it_lands() {
        let bytes = data(3 << 20);
        let requests = RequestCount::default();
        let object = RemoteObject::in_memory("big.avro", &bytes).listed(Some(bytes.len() as u64), None);
        let (mut reader, _) = object.open(read_ahead(1024, 8 << 20), Some(requests.clone())).unwrap();
        let mut byte = [0u8; 1];
        reader.read_exact(&mut byte).unwrap();
        reader.skip(2 << 20).unwrap();
        reader.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], bytes[(2 << 20) + 1]);
        assert_eq!(requests.load(Ordering::Relaxed), 2, "the first range, then one where the skip landed");
        // A short skip reads on.
        reader.skip(10).unwrap();
        reader.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], bytes[(2 << 20) + 12]);
    }

    #[test]
    fn a_missing_object_is_not_found_by_its_url() {
        let object = RemoteObject { path: Path::from("missing.avro"), ..RemoteObject::in_memory("a.avro", b"x") };
        let error = object.open(RemoteReadAhead::default(), None).err().expect("no such object");
        assert_eq!(error.kind, ErrorKind::NotFound);
        assert_eq!(error.file.as_deref(), Some("memory:///a.avro"));
    }

    #[test]
    fn an_object_shorter_than_its_listing_fails_where_the_bytes_ran_out() {
        let object = RemoteObject::in_memory("a.avro", &data(10)).listed(Some(20), None);
        let (mut reader, _) = object.open(read_ahead(5, 5), None).unwrap();
        let mut read = Vec::new();
        let error = AvroError::io(reader.read_to_end(&mut read).unwrap_err(), "read");
        assert_eq!((error.offset, error.file.as_deref()), (Some(10), Some("memory:///a.avro")), "{error}");
        assert!(error.message.contains("10..15"), "{error}");
        assert_eq!(read, data(10), "the bytes before the end are read");
    }
}
