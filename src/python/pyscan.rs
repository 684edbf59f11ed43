//! The scan reader: a planned scan (the handle Python holds) and a read's request (one
//! value, as polars_avro/_scan.py's `ReadRequest` gives it) become an [`AvroReader`] whose
//! batches Python takes one at a time, the GIL released while they decode.

use std::sync::Mutex;

use polars_arrow::bitmap::Bitmap;
use polars_core::prelude::{DataFrame, IdxSize, IntoSeries, PlSmallStr};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3_polars::PySeries;

use super::interrupt::{interruptible_since, Heard};
use super::pyplan::PlannedScan;
use super::{skipped_dict, to_py_err};
use crate::error::{AvroError, AvroResult};
use crate::read::{
    AvroReader, BatchedReader, ReadOptions, ReadStats, RowIndex, ScanFile, ScanFilter, SkippedData, StatValue,
};

/// What a read asks of a planned scan: the attributes of the Python `ReadRequest` of the
/// same names.
#[derive(FromPyObject)]
pub struct ReadRequest {
    /// The columns to read (None: every one of the scan).
    columns: Option<Vec<String>>,
    /// Whether the columns come in the order given (an eager read's), else in the scan's
    /// order (the one Polars expects of a source).
    as_given: bool,
    /// Records to read at most, counted before the predicate (a slice's end); the user's
    /// `n_rows` caps them too.
    records: Option<usize>,
    /// Rows to hand out at most, counted after the predicate.
    limit: Option<usize>,
    skip_rows: usize,
    /// The engine's rows per batch, where the user gave none.
    engine_batch_size: Option<usize>,
    /// Polars' filters, each as `Expr.meta.serialize(format="json")` gives it, all to hold:
    /// taken apart here (`read::ScanFilter`), once.
    filters: Vec<String>,
    /// The columns read by the filters that have no JSON form (a Python function in them),
    /// which the caller evaluates whole; None where there are none.
    unread_columns: Option<Vec<String>>,
    /// Whether Polars filters again what the reader gives (its file reader interface's
    /// "partial" filters): else, where the reader leaves a part of them
    /// (`ScanReader.filters_left`), it reads the filters' columns too, for the caller to
    /// evaluate the filters it gave, and leaves the limit of rows after them to it.
    filtered_again: bool,
    /// What evaluates, with the user's Polars, a filter the reader cannot on the files'
    /// values (one row per file): `(the filter's place, frame as a struct Series or None,
    /// height)` to a Boolean Series, or None where it cannot (`read::FilesKept`).
    files_kept: Option<Py<PyAny>>,
}

/// The files of a planned scan as a read takes them, each with its partition values.
fn scan_files(py: Python<'_>, scan: &PlannedScan) -> PyResult<Vec<ScanFile>> {
    let mut files = Vec::with_capacity(scan.files.len());
    for (i, file) in scan.files.iter().enumerate() {
        let partition_values = match &scan.partitions {
            Some(df) => df
                .columns()
                .iter()
                .map(|c| c.get(i).map(|v| v.into_static()))
                .collect::<Result<_, _>>()
                .map_err(|e| to_py_err(AvroError::from(e)))?,
            None => Vec::new(),
        };
        files.push(file.scan_file(py, partition_values)?);
    }
    Ok(files)
}

/// The files of a scan being read batch by batch.
#[pyclass(module = "polars_avro._internal")]
pub struct ScanReader {
    /// In a Mutex only to make the class Sync, as pyo3 requires (methods take `&mut self`,
    /// so it is never contended).
    inner: Option<Mutex<BatchedReader>>,
    /// The parts of the filters the reader leaves to Polars (`ReadStats::filters_left`):
    /// where there are any, the caller evaluates the filters it gave.
    #[pyo3(get)]
    filters_left: usize,
    /// The statistics of a finished read (the reader itself is gone by then).
    final_stats: Option<ReadStats>,
    /// A batch read while joining batches that did not join (its schema differed): the
    /// next call's first.
    pending: Option<DataFrame>,
    /// What `ignore_errors` left out and nobody has taken yet (the reader may be gone).
    skipped: Vec<SkippedData>,
    /// The Ctrl-Cs heard: one pressed while Python holds a batch stops the next call.
    heard: Heard,
}

#[pymethods]
impl ScanReader {
    #[new]
    fn new(py: Python<'_>, scan: &Bound<'_, PlannedScan>, request: ReadRequest) -> PyResult<Self> {
        let ReadRequest {
            columns,
            as_given,
            records,
            limit,
            skip_rows,
            engine_batch_size,
            filters,
            unread_columns,
            filtered_again,
            files_kept,
        } = request;
        let scan = scan.get();
        let (plan, options, index) = (&scan.plan.plan, &scan.options, scan.plan.index());
        let mut files = scan_files(py, scan)?;
        let partition_columns = scan
            .partitions
            .as_ref()
            .map_or_else(Vec::new, |df| df.columns().iter().map(|c| (c.name().clone(), c.dtype().clone())).collect());
        let kept_by_python = files_kept
            .map(|callable| move |filter: usize, values: DataFrame| files_kept_by(py, &callable, filter, values));
        let kept = kept_by_python.as_ref().map(|kept| kept as &dyn Fn(usize, DataFrame) -> Option<Bitmap>);
        let filter =
            ScanFilter::plan(&filters, plan, &partition_columns, index, &mut files, kept).map_err(to_py_err)?;
        // Where Polars does not filter again, the caller evaluates the filters that have no
        // JSON form, and every filter it gave where the reader leaves a part of them: the
        // reader reads their columns too and leaves the limit of rows after them to it.
        let filters_left = filter.left;
        let (columns, limit) = match (filtered_again, filters_left > 0, unread_columns) {
            (true, ..) | (false, false, None) => (columns, limit),
            (false, false, Some(unread)) => (with_columns_read_by(columns, Some(unread)), None),
            (false, true, unread) => {
                let read = filter.columns.map(|read| read.into_iter().chain(unread.into_iter().flatten()).collect());
                (with_columns_read_by(columns, read), None)
            },
        };
        let columns = if as_given { columns } else { Some(plan.in_order(columns.as_deref())) };
        let reader_schema = plan.schema.parsed_reader_schema().map_err(to_py_err)?;
        let predicate = filter.predicate;
        let sizes = options.sizes();
        let n_rows = [options.n_rows, records].into_iter().flatten().min();
        let read = ReadOptions {
            columns,
            n_rows,
            limit,
            skip_rows,
            batch_size: sizes.batch_size(engine_batch_size),
            row_index: plan.row_index.as_deref().map(|name| RowIndex {
                name: PlSmallStr::from(name),
                offset: options.row_index_offset,
                index,
            }),
            file_path_column: plan.file_path_column.as_deref().map(PlSmallStr::from),
            partition_columns,
            files_in_flight: sizes.files_in_flight(),
            n_threads: options.n_threads,
            read_ahead: None,
            reader_schema,
            ignore_errors: options.ignore_errors,
            planned: Some(plan.schema.clone()),
        };
        let reader = AvroReader::from_files(files).with_options(read).with_predicate(predicate);
        let mut heard = Heard::for_scan();
        let inner = interruptible_since(py, &mut heard, || reader.batched()).map_err(to_py_err)?;
        Ok(Self {
            inner: Some(Mutex::new(inner)),
            filters_left,
            final_stats: None,
            pending: None,
            skipped: Vec::new(),
            heard,
        })
    }

    /// What the read has done so far: counters, and times in seconds.
    fn stats<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let out = PyDict::new(py);
        let live = self.inner.as_mut().map(|r| r.get_mut().unwrap_or_else(|e| e.into_inner()).stats());
        let Some(mut stats) = live.or_else(|| self.final_stats.clone()) else {
            return Ok(out);
        };
        stats.filters_left = self.filters_left;
        for (name, value) in stats.entries() {
            match value {
                StatValue::Count(n) => out.set_item(name, n)?,
                StatValue::Seconds(s) => out.set_item(name, s)?,
            }
        }
        Ok(out)
    }

    /// At the end of a read (or when its consumer stops early): what it did (`stats`) and
    /// what `ignore_errors` left out that no batch carried (`take_skipped`), in one call.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<(Bound<'py, PyDict>, Vec<Bound<'py, PyDict>>)> {
        Ok((self.stats(py)?, self.take_skipped(py)?))
    }

    /// What `ignore_errors` left out since the last call: one dict per block, in file order.
    fn take_skipped<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        if let Some(reader) = self.inner.as_mut() {
            self.skipped.extend(reader.get_mut().unwrap_or_else(|e| e.into_inner()).take_skipped());
        }
        std::mem::take(&mut self.skipped).into_iter().map(|s| skipped_dict(py, s)).collect()
    }

    /// The next batch as (DataFrame, height, skipped), or None at the end; with `join`, up
    /// to that many batches as one frame, their chunks appended (an eager read crosses into
    /// Python once, not once per batch: each crossing costs a Series per column and a frame).
    /// The height travels separately because a frame with no columns loses it on the way
    /// to Python; `skipped` is what `ignore_errors` left out since the last call (as
    /// `take_skipped` gives it), so that a batch is one call.
    #[pyo3(signature = (join = 1))]
    fn next_batch<'py>(&mut self, py: Python<'py>, join: usize) -> PyResult<Option<Batch<'py>>> {
        // The reader is gone after the end or an error, when no batch is pending.
        let Some(reader) = self.inner.as_mut() else { return Ok(None) };
        let reader = reader.get_mut().unwrap_or_else(|e| e.into_inner());
        let pending = &mut self.pending;
        let result = interruptible_since(py, &mut self.heard, || joined_batches(reader, join, pending))
            .map_err(|e| reader.locate_here(e));
        self.skipped.extend(reader.take_skipped());
        if !matches!(result, Ok(Some(_))) {
            self.final_stats = Some(reader.stats());
        }
        match result {
            Ok(Some(df)) => {
                let height = df.height();
                Ok(Some((frame_as_struct(df), height, self.take_skipped(py)?)))
            },
            Ok(None) => {
                self.inner = None;
                self.heard.done();
                Ok(None)
            },
            Err(e) => {
                self.inner = None;
                self.heard.done();
                Err(to_py_err(e))
            },
        }
    }
}

/// A batch as Python takes it: the frame's columns as the fields of one struct Series (None
/// when it has none), its height and the blocks left out before it.
type Batch<'py> = (Option<PySeries>, usize, Vec<Bound<'py, PyDict>>);

/// A frame's columns as the fields of one struct Series: one crossing into Python, where a
/// frame crosses column by column (a Python Series made for each, then a DataFrame of
/// them), which costs more than decoding the records of a wide file.
fn frame_as_struct(df: DataFrame) -> Option<PySeries> {
    (df.width() > 0).then(|| PySeries(df.into_struct(PlSmallStr::EMPTY).into_series()))
}

/// Up to `most` batches as one frame, their chunks appended (not copied). A batch whose
/// schema differs from the first's, or that would take the frame past the rows a Polars
/// frame holds, is left in `pending`, to begin the next frame. Frames of no column (a
/// count) are only heights, and are not joined.
fn joined_batches(
    reader: &mut BatchedReader,
    most: usize,
    pending: &mut Option<DataFrame>,
) -> AvroResult<Option<DataFrame>> {
    let mut joined = match pending.take() {
        Some(df) => df,
        None => match reader.next_batch()? {
            Some(df) => df,
            None => return Ok(None),
        },
    };
    for _ in 1..most {
        if joined.width() == 0 {
            break;
        }
        let Some(next) = reader.next_batch()? else { break };
        let fits = joined.height() + next.height() <= IdxSize::MAX as usize;
        if !fits || joined.schema() != next.schema() {
            *pending = Some(next);
            break;
        }
        joined.vstack_mut_owned(next).map_err(AvroError::from)?;
    }
    Ok(Some(joined))
}

/// The files the filter at `filter` keeps, as the user's Polars evaluates it on their
/// `values` by `callable`; None where it cannot.
fn files_kept_by(py: Python<'_>, callable: &Py<PyAny>, filter: usize, values: DataFrame) -> Option<Bitmap> {
    let height = values.height();
    let kept = callable.call1(py, (filter, frame_as_struct(values), height)).ok()?;
    let kept = kept.extract::<Option<PySeries>>(py).ok()??.0;
    let kept = kept.bool().ok()?;
    Some(kept.iter().map(|kept| kept == Some(true)).collect())
}

/// The columns to read where the caller evaluates filters: those asked for and those the
/// filters read, each once (None: every column, also where the filters' are not known).
fn with_columns_read_by(columns: Option<Vec<String>>, filters: Option<Vec<String>>) -> Option<Vec<String>> {
    let (mut columns, filters) = (columns?, filters?);
    for name in filters {
        if !columns.contains(&name) {
            columns.push(name);
        }
    }
    Some(columns)
}
