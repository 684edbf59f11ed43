//! Partitioned output for Python's `sink_avro(..., partition_by=...)`: the parts of each key
//! opened, rolled over and finished here (`sink::PartLayout`), each written as any file is
//! (`AvroWriter` over the `Sink` its path or URL opens), local parts put in place together
//! at the end, and a failed output undone. Python splits each batch by key and hands the
//! pieces over.

use std::collections::HashMap;
use std::sync::Mutex;

use polars_core::prelude::DataFrame;
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use super::interrupt::interruptible;
use super::parse_columns;
use super::pywriter::WriteRequest;
use super::to_py_err;
use crate::frame_type::FrameType;
use crate::sink::{batch_rows, Held, MadeFolders, PartLayout, RemoteUpload, Replacements, Sink, Target, PART_SIZE};
use crate::source::remote::{RemoteObject, RemoteOptions};
use crate::write::{AvroWriter, WriteOptions};

/// A part being written.
struct OpenPart {
    /// In a Mutex only to make the class Sync, as pyo3 requires (methods take `&mut self`,
    /// so it is never contended).
    writer: Mutex<AvroWriter<Sink>>,
    /// Its path or URL, which errors name.
    path: String,
    held: Held,
    /// Its place among the output's parts, in the order they were opened.
    opened: usize,
}

/// The parts of a partitioned output being written. Its keys' values come as text (None for
/// null), as the folder names show them.
#[pyclass(module = "polars_avro._internal")]
pub struct PartitionedWriter {
    layout: PartLayout,
    columns: Vec<(String, FrameType)>,
    options: WriteOptions,
    remote: RemoteOptions,
    /// The parts open, by key.
    open: HashMap<Vec<Option<String>>, OpenPart>,
    /// The number of each key's next part.
    next_index: HashMap<Vec<Option<String>>, u64>,
    /// The parts opened so far.
    parts_opened: usize,
    /// The local parts finished, put in place when all are.
    replacements: Replacements,
    made: MadeFolders,
    /// Whether the schema's name warnings were handed out (once: every part has the schema).
    warned: bool,
}

#[pymethods]
impl PartitionedWriter {
    /// Parts of the `columns` (name, type description) under `base` (a folder's path or an
    /// object store's URL), in folders by the partition `keys`, each of `max_rows` rows and
    /// about `max_bytes` bytes at most, written as `request` says, objects reached with
    /// `storage_options` and `retries`.
    #[new]
    #[pyo3(signature = (base, keys, columns, request, *, max_rows, max_bytes, storage_options, retries))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        base: String,
        keys: Vec<String>,
        columns: Vec<(String, String)>,
        request: WriteRequest,
        max_rows: Option<u64>,
        max_bytes: Option<u64>,
        storage_options: Vec<(String, String)>,
        #[pyo3(from_py_with = super::pychecks::retries)] retries: usize,
    ) -> PyResult<Self> {
        let remote = crate::source::is_store_url(&base);
        Ok(Self {
            layout: PartLayout { base, remote, keys, max_rows, max_bytes },
            columns: parse_columns(&columns).map_err(to_py_err)?,
            options: request.options()?,
            remote: RemoteOptions { options: storage_options, retries },
            open: HashMap::new(),
            next_index: HashMap::new(),
            parts_opened: 0,
            replacements: Replacements::default(),
            made: MadeFolders::default(),
            warned: false,
        })
    }

    /// Writes `df`, the rows of the key `key` (`height` rows, a frame of no column losing its
    /// height on the way, of about `bytes` bytes in memory), into that key's parts, opening
    /// and finishing them as they fill. Returns the schema's name warnings the first time a
    /// part is opened (see `schema::check_written_names`).
    fn write(
        &mut self,
        py: Python<'_>,
        key: Vec<Option<String>>,
        df: PyDataFrame,
        height: usize,
        bytes: f64,
    ) -> PyResult<Vec<String>> {
        let df = match df.0.width() {
            0 => DataFrame::new(height, Vec::new()).map_err(|e| to_py_err(e.into()))?,
            _ => df.0,
        };
        let per_row = bytes / height.max(1) as f64;
        let mut warnings = Vec::new();
        let mut offset = 0;
        while offset < height {
            if !self.open.contains_key(&key) {
                let part = self.open_part(py, &key)?;
                if !self.warned {
                    warnings = lock(&part.writer).name_warnings().to_vec();
                    self.warned = true;
                }
                self.open.insert(key.clone(), part);
            }
            let part = self.open.get_mut(&key).expect("opened above");
            let take = self.layout.rows_that_fit(part.held, (height - offset) as u64, per_row) as usize;
            let chunk = df.slice(offset as i64, take);
            let (writer, path) = (part.writer.get_mut().unwrap_or_else(|e| e.into_inner()), &part.path);
            interruptible(py, || writer.write(&chunk)).map_err(|e| to_py_err(e.in_file(path)))?;
            part.held.rows += take as u64;
            part.held.bytes += per_row * take as f64;
            offset += take;
            if self.layout.is_full(part.held) {
                let part = self.open.remove(&key).expect("open");
                self.finish_part(py, part)?;
            }
        }
        Ok(warnings)
    }

    /// Rows of the batches to ask the engine for (see `sink::batch_rows`).
    #[getter]
    fn batch_rows(&self) -> usize {
        batch_rows(self.columns.iter().map(|(_, ft)| ft.estimated_width()))
    }

    /// Finishes the parts still open, then puts every local part in place.
    fn finish(&mut self, py: Python<'_>) -> PyResult<()> {
        // In the order they were opened: a failure names the same part every time.
        let mut open: Vec<OpenPart> = std::mem::take(&mut self.open).into_values().collect();
        open.sort_by_key(|part| part.opened);
        for part in open {
            self.finish_part(py, part)?;
        }
        let replacements = &self.replacements;
        py.detach(|| replacements.commit()).map_err(to_py_err)
    }

    /// Abandons the parts still open (an upload aborted, a temporary file removed), removes
    /// the local parts finished and the folders made: no partial file or object is left,
    /// and a local output is as it was (objects already completed stay).
    fn abandon(&mut self, py: Python<'_>) {
        let open = std::mem::take(&mut self.open);
        let (replacements, made) = (&self.replacements, &mut self.made);
        py.detach(|| {
            for part in open.into_values() {
                part.writer.into_inner().unwrap_or_else(|e| e.into_inner()).abandon().abandon();
            }
            replacements.discard();
            made.remove();
        });
    }
}

impl PartitionedWriter {
    /// The next part of `key`, its folders made (a local one).
    fn open_part(&mut self, py: Python<'_>, key: &[Option<String>]) -> PyResult<OpenPart> {
        let index = self.next_index.entry(key.to_vec()).or_insert(0);
        let path = self.layout.part_path(key, *index);
        *index += 1;
        let target = if self.layout.remote {
            let object = RemoteObject::new(&path, &self.remote).map_err(|e| to_py_err(e.in_file(&path)))?;
            Target::Remote(RemoteUpload::new(&object, PART_SIZE))
        } else {
            let folder = std::path::Path::new(&path).parent().unwrap_or(std::path::Path::new(""));
            self.made.make(folder).map_err(|e| to_py_err(e.in_file(&path)))?;
            Target::path(&path).map_err(to_py_err)?
        };
        let (columns, options) = (self.columns.clone(), self.options.clone());
        let writer = interruptible(py, || AvroWriter::open(|| target.open(), columns, options))
            .map_err(|e| to_py_err(e.in_file(&path)))?;
        self.parts_opened += 1;
        Ok(OpenPart { writer: Mutex::new(writer), path, held: Held::default(), opened: self.parts_opened })
    }

    /// Writes a part's last block; a local one waits to be put in place with the others.
    fn finish_part(&self, py: Python<'_>, part: OpenPart) -> PyResult<()> {
        let OpenPart { writer, path, .. } = part;
        let writer = writer.into_inner().unwrap_or_else(|e| e.into_inner());
        let replacements = Some(&self.replacements);
        interruptible(py, || writer.finish().and_then(|sink| sink.complete(replacements)))
            .map_err(|e| to_py_err(e.in_file(&path)))
    }
}

fn lock(writer: &Mutex<AvroWriter<Sink>>) -> std::sync::MutexGuard<'_, AvroWriter<Sink>> {
    writer.lock().unwrap_or_else(|e| e.into_inner())
}
