//! The files of a read: each opened (its header read and its plan found, one plan per
//! writer schema) and its first blocks read, several at once ahead of the reader on an
//! I/O pool, and handed to the reader in order.

use std::collections::{HashMap, VecDeque};
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

use polars::prelude::AnyValue;
use rayon::iter::{IntoParallelIterator, ParallelIterator};
use rayon::ThreadPool;

use super::batch::{BatchPlan, FileInfo};
use super::options::ReadOptions;
use super::predicate::Predicate;
use crate::container::{ContainerReader, RawBlock};
use crate::error::{AvroError, AvroResult};
use crate::schema::parse_schema;
use crate::source::{Source, Stream};
use crate::threads::io_pool;

/// Files opened at once ahead of the reader when the options do not say.
pub const DEFAULT_FILES_IN_FLIGHT: usize = 16;

/// Bytes of blocks a file reads ahead when it is opened: small files are read whole
/// there, large ones start reading while the file before them decodes.
const READ_AHEAD_BYTES: usize = 1 << 20;

/// One file of a read, and the values its records share.
pub struct ScanFile {
    /// Where its bytes come from.
    pub source: Source,
    /// Its values of [`ReadOptions::partition_columns`], in that order.
    pub partition_values: Vec<AnyValue<'static>>,
    /// Read only to count its records: its rows are counted towards `n_rows` and the row
    /// index, and none is output (a filter on its partition values rules them all out).
    pub count_only: bool,
}

impl From<Source> for ScanFile {
    fn from(source: Source) -> Self {
        Self { source, partition_values: Vec::new(), count_only: false }
    }
}

/// A file whose header has been read, with the blocks read ahead of the reader.
pub(super) struct OpenedFile {
    pub info: Arc<FileInfo>,
    pub plan: Arc<BatchPlan>,
    pub count_only: bool,
    container: ContainerReader<Stream>,
    read_ahead: VecDeque<RawBlock>,
    /// An error met while reading ahead, due after the blocks before it.
    error: Option<AvroError>,
    /// Whether the container has nothing more to give (read ahead to its end).
    exhausted: bool,
}

impl OpenedFile {
    /// The next block (only its framing when no column needs the data, or when it holds
    /// no more than `skip_within` records, which the reader leaves out), or None at the end.
    pub fn next_block(&mut self, skip_within: usize) -> AvroResult<Option<RawBlock>> {
        if let Some(block) = self.read_ahead.pop_front() {
            return Ok(Some(block));
        }
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        if self.exhausted {
            return Ok(None);
        }
        let block = self.read_block(skip_within);
        self.exhausted = matches!(block, Ok(None));
        block
    }

    fn read_block(&mut self, skip_within: usize) -> AvroResult<Option<RawBlock>> {
        let block = if self.plan.needs_data && !self.count_only {
            self.container.next_block_unless(|count| skip_within > 0 && count <= skip_within as u64)
        } else {
            self.container.skip_block()
        };
        block.map_err(|e| e.in_file(&self.info.name))
    }

    /// Reads blocks until `bytes` are held, the file ends or an error (kept for its turn).
    fn read_ahead(&mut self, bytes: usize) {
        let mut held = 0;
        while held < bytes {
            match self.read_block(0) {
                Ok(Some(block)) => {
                    held += block.data.len().max(1);
                    self.read_ahead.push_back(block);
                },
                Ok(None) => {
                    self.exhausted = true;
                    return;
                },
                Err(e) => {
                    self.error = Some(e);
                    return;
                },
            }
        }
    }

    /// After a framing error: where reading resumes (see [`ContainerReader::resync`]).
    pub fn resync(&mut self) -> AvroResult<Option<u64>> {
        self.container.resync().map_err(|e| e.in_file(&self.info.name))
    }

    /// Whether the last framing error belongs to damage already reported.
    pub fn error_continues_damage(&self) -> bool {
        self.container.error_continues_damage()
    }
}

/// One plan per writer schema: the files sharing a schema (usually all of them) share a
/// plan, parsed and built once, whoever opens them.
pub(super) struct Plans {
    options: ReadOptions,
    predicate: Option<Predicate>,
    by_schema: Mutex<HashMap<String, Arc<BatchPlan>>>,
}

impl Plans {
    pub fn new(options: ReadOptions, predicate: Option<Predicate>) -> Self {
        Self { options, predicate, by_schema: Mutex::new(HashMap::new()) }
    }

    /// The plan of a writer schema, built the first time (`file` names it in errors).
    fn of(&self, schema_json: &str, file: &str) -> AvroResult<Arc<BatchPlan>> {
        if let Some(plan) = self.by_schema.lock().unwrap_or_else(|e| e.into_inner()).get(schema_json) {
            return Ok(plan.clone());
        }
        let schema = Arc::new(parse_schema(schema_json).map_err(|e| e.in_file(file))?);
        let plan =
            Arc::new(BatchPlan::new(schema, &self.options, self.predicate.clone()).map_err(|e| e.in_file(file))?);
        let mut plans = self.by_schema.lock().unwrap_or_else(|e| e.into_inner());
        Ok(plans.entry(schema_json.to_string()).or_insert(plan).clone())
    }

    /// A plan for reporting the columns of a read that opened no file.
    pub fn any(&self) -> Option<Arc<BatchPlan>> {
        self.by_schema.lock().unwrap_or_else(|e| e.into_inner()).values().next().cloned()
    }
}

/// Opens a source and reads its header (errors name the source); also its name.
pub(super) fn open_container(source: Source) -> AvroResult<(ContainerReader<Stream>, String)> {
    let name = source.name();
    let (stream, total_len) = source.open()?;
    let container = ContainerReader::new(stream, total_len).map_err(|e| e.in_file(&name))?;
    Ok((container, name))
}

/// Opens a file: its header, its plan, and `read_ahead` bytes of its first blocks.
fn open(index: usize, file: ScanFile, plans: &Plans, read_ahead: usize) -> AvroResult<OpenedFile> {
    let ScanFile { source, partition_values, count_only } = file;
    let (container, name) = open_container(source)?;
    let plan = plans.of(&container.header.schema_json, &name)?;
    let info = Arc::new(FileInfo { index, name, codec: container.header.codec, partition_values });
    let mut opened =
        OpenedFile { info, plan, count_only, container, read_ahead: VecDeque::new(), error: None, exhausted: false };
    opened.read_ahead(read_ahead);
    Ok(opened)
}

/// Hands out the files of a read in order, opened up to `window` files ahead on an I/O
/// pool. With a window of 0 each is opened on the caller's thread when asked for, and no
/// file is opened before it is needed.
pub(super) struct Opener {
    pending: VecDeque<(usize, ScanFile)>,
    in_flight: VecDeque<(usize, Receiver<AvroResult<OpenedFile>>)>,
    window: usize,
    pool: Option<Arc<ThreadPool>>,
    pub plans: Arc<Plans>,
}

impl Opener {
    pub fn new(files: Vec<ScanFile>, plans: Plans, window: usize) -> AvroResult<Self> {
        // One file needs no pool: it is opened where it is read.
        let window = if files.len() < 2 { 0 } else { window };
        let pool = if window > 0 { Some(io_pool(window)?) } else { None };
        Ok(Self {
            pending: files.into_iter().enumerate().collect(),
            in_flight: VecDeque::new(),
            window,
            pool,
            plans: Arc::new(plans),
        })
    }

    /// The next file (its index in the read, and the file opened), or None when every
    /// file has been handed out.
    pub fn next_file(&mut self) -> Option<(usize, AvroResult<OpenedFile>)> {
        let Some(pool) = &self.pool else {
            // Opened where it is read: reading blocks ahead would only read them earlier (and
            // a head() needs the first block alone).
            return self.pending.pop_front().map(|(index, file)| (index, open(index, file, &self.plans, 0)));
        };
        while self.in_flight.len() <= self.window {
            let Some((index, file)) = self.pending.pop_front() else { break };
            let (sender, receiver) = sync_channel(1);
            let plans = self.plans.clone();
            pool.spawn(move || {
                // The reader may have stopped; then nobody needs the file.
                let _ = sender.send(open(index, file, &plans, READ_AHEAD_BYTES));
            });
            self.in_flight.push_back((index, receiver));
        }
        let (index, receiver) = self.in_flight.pop_front()?;
        let opened = receiver.recv().unwrap_or_else(|_| Err(AvroError::internal("a thread opening a file stopped")));
        Some((index, opened))
    }
}

/// The writer schema (its JSON text) of each source, from their headers, read up to
/// `files_in_flight` at a time; in the sources' order, an error for each that failed.
pub fn read_schemas(sources: Vec<Source>, files_in_flight: usize) -> AvroResult<Vec<AvroResult<String>>> {
    let read_schema = |source: Source| open_container(source).map(|(container, _)| container.header.schema_json);
    if sources.len() < 2 || files_in_flight < 2 {
        return Ok(sources.into_iter().map(read_schema).collect());
    }
    Ok(io_pool(files_in_flight)?.install(|| sources.into_par_iter().map(read_schema).collect()))
}
