//! The files Python's sources name, listed in Rust whatever their kind
//! (`source::list_named`), each kept as every read opens it, and their hive partition
//! values typed once: by Polars' rules here where those need no parser of the running
//! release (`read::partitions`), else by the running Polars' own API (dates, a
//! `hive_schema`'s casts), which no function of the package stands between.

use polars_core::prelude::{DataFrame, Series};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use pyo3_polars::{PyDataFrame, PySeries};

use super::interrupt::interruptible;
use super::pydtype::Polars;
use super::pyoptions::ScanOptions;
use super::pyreader::FileObject;
use super::pyremote::RemoteFile;
use super::{source_from_py, to_py_err};
use crate::error::{AvroError, AvroResult};
use crate::frame_type::FrameType;
use crate::read::partitions::{as_text, booleans, inferred, key_values, partition_frame, partition_keys, Pairs};
use crate::read::{ScanFile, Source, SplitPart};
use crate::source::remote::{RemoteObject, RemoteOptions, RemoteReadAhead};
use crate::source::{self, Listed, Named};

/// What a read opens for one file.
pub enum Opens {
    Path(String),
    Remote(RemoteObject),
    /// A pipe's or a device's bytes, read once when the scan was planned.
    Kept {
        name: String,
        data: Vec<u8>,
    },
    /// Bytes, or a file object (`FileObject`) a read rewinds.
    Python(Py<PyAny>),
}

/// One file of a scan, as every read of it opens it.
pub struct ScanSource {
    pub opens: Opens,
    /// What errors and the scan's label call it.
    pub name: String,
    /// Its path or URL, None for bytes, file objects and streams.
    pub path: Option<String>,
    /// Its value in the path column (`include_file_paths`).
    pub path_value: String,
    /// The part of it a split reads.
    pub split: Option<SplitPart>,
}

impl ScanSource {
    /// A file a split names by its path or URL, `size` bytes when planned.
    pub fn named(path: String, size: u64, remote: &RemoteOptions, split: SplitPart) -> AvroResult<Self> {
        let opens = match source::is_store_url(&path) {
            true => Opens::Remote(RemoteObject::new(&path, remote)?.listed(Some(size), None)),
            false => Opens::Path(path.clone()),
        };
        Ok(Self { opens, name: path.clone(), path: Some(path.clone()), path_value: path, split: Some(split) })
    }

    /// Its size, where known without reading it: a local file's, an object's as listed.
    fn size(&self) -> Option<u64> {
        match &self.opens {
            Opens::Path(path) => std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len()),
            Opens::Remote(object) => object.size,
            Opens::Kept { .. } | Opens::Python(_) => None,
        }
    }

    /// A new source of its bytes, for one read.
    pub fn source(&self, py: Python<'_>) -> PyResult<Source> {
        Ok(match &self.opens {
            Opens::Path(path) => Source::from_path(path.clone()),
            Opens::Remote(object) => {
                Source::Remote { object: object.clone(), read_ahead: RemoteReadAhead::default(), requests: None }
            },
            Opens::Kept { name, data } => Source::Bytes { name: name.clone(), data: data.clone() },
            Opens::Python(item) => source_from_py(item.bind(py))?,
        })
    }

    /// The file as a read takes it, with its partition `values`.
    pub fn scan_file(
        &self,
        py: Python<'_>,
        partition_values: Vec<polars_core::prelude::AnyValue<'static>>,
    ) -> PyResult<ScanFile> {
        let file = ScanFile::from(self.source(py)?);
        Ok(ScanFile { path: self.path_value.clone(), partition_values, split: self.split.clone(), ..file })
    }

    /// The file as Python's listing functions hand it out (`list_avro_files`, one file's
    /// header): a path, a `RemoteFile`, a `FileObject`, or the caller's bytes or file object.
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
        Ok(match self.opens {
            Opens::Path(path) => path.into_pyobject(py)?.into_any(),
            Opens::Remote(object) => Bound::new(py, RemoteFile::of(object))?.into_any(),
            Opens::Kept { name, data } => Bound::new(py, FileObject::kept(name, data))?.into_any(),
            Opens::Python(item) => item.into_bound(py),
        })
    }
}

/// A scan's files as every planning call starts: its options checked, the files listed,
/// their names, and their partition values typed.
pub struct Found {
    pub options: ScanOptions,
    pub files: Vec<ScanSource>,
    pub names: Vec<String>,
    pub partitions: Partitions,
}

/// The files `sources` name, listed by `options` (checked first; objects reached with
/// `storage_options` and `retries`; see `listed`), and their partition values typed.
pub fn found(
    py: Python<'_>,
    sources: &Bound<'_, PyList>,
    options: &Bound<'_, PyAny>,
    storage_options: Vec<(String, String)>,
    retries: usize,
) -> PyResult<Found> {
    let options = ScanOptions::of(options)?;
    let remote = RemoteOptions { options: storage_options, retries };
    let (files, pairs) = listed(py, sources, options.glob, &options.hidden, options.hive(), &remote)?;
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let partitions = Partitions::typed(py, pairs.as_deref(), &names, &options)?;
    Ok(Found { options, files, names, partitions })
}

/// The files `sources` name (paths, `file://` and object store URLs as str; objects listed
/// already as `RemoteFile`; a URL only Python lists as `(url, base, [(file, file_url), ...])`;
/// anything else, bytes or a file object, as it is), by `source::list_named`'s rules, `hidden`
/// left out; with `hive` (None: on for one folder) each file's partition pairs.
fn listed(
    py: Python<'_>,
    sources: &Bound<'_, PyList>,
    glob: bool,
    hidden: &[String],
    hive: Option<bool>,
    remote: &RemoteOptions,
) -> PyResult<(Vec<ScanSource>, Option<Vec<Pairs>>)> {
    let named = sources.iter().map(|s| named_from_py(&s)).collect::<PyResult<Vec<_>>>()?;
    let hive = hive.unwrap_or_else(|| source::is_one_folder(&named));
    let listed = interruptible(py, || {
        source::list_named(named, glob, hidden, remote)?
            .into_iter()
            .map(|file| match file {
                Listed::Stream(path) => Ok((read_stream(&path)?, Listed::Stream(path))),
                file => Ok((Vec::new(), file)),
            })
            .collect::<AvroResult<Vec<_>>>()
    })
    .map_err(to_py_err)?;
    let pairs = match hive {
        true => Some(listed.iter().map(|(_, file)| file.partition_pairs()).collect::<Option<Vec<_>>>().ok_or_else(
            || {
                to_py_err(AvroError::argument(
                    "hive_partitioning needs paths or URLs: bytes and file objects have no folders",
                ))
            },
        )?),
        false => None,
    };
    let mut files = Vec::with_capacity(listed.len());
    for (data, file) in listed {
        let path = file.path().map(str::to_string);
        let (opens, name, path_value) = match file {
            Listed::Local(file) => (Opens::Path(file.path.clone()), file.path.clone(), file.path),
            Listed::Remote(listed) => {
                let url = listed.object.url.clone();
                (Opens::Remote(listed.object), url.clone(), url)
            },
            Listed::Stream(path) => (Opens::Kept { name: path.clone(), data }, path.clone(), path),
            Listed::Opened { item, .. } => {
                let bound = item.bind(py);
                // Bytes have no name of their own; a file object is named as errors name it.
                let (name, path_value) = match bound.cast::<FileObject>() {
                    Ok(object) => (object.get().name(), object.get().path().to_string()),
                    Err(_) => ("<bytes>".to_string(), "in-mem".to_string()),
                };
                (Opens::Python(item), name, path_value)
            },
        };
        files.push(ScanSource { opens, name, path, path_value, split: None });
    }
    Ok((files, pairs))
}

/// A scan's partition values, one row per file (None without a partition column), and the
/// partition columns' dtypes in the running Polars, in the keys' order.
pub struct Partitions {
    pub values: Option<DataFrame>,
    pub keys: Vec<String>,
    pub dtypes: Vec<Py<PyAny>>,
}

impl Partitions {
    pub fn none() -> Self {
        Self { values: None, keys: Vec::new(), dtypes: Vec::new() }
    }

    /// The values of `pairs` (each file's, the files named `names`) typed by Polars' rules:
    /// here where they need no parser of the running release (`read::partitions`), else by
    /// the running Polars: a `hive_schema`'s keys cast to its types, and with
    /// `try_parse_hive_dates` dates and datetimes as its parser reads them.
    pub fn typed(py: Python<'_>, pairs: Option<&[Pairs]>, names: &[String], options: &ScanOptions) -> PyResult<Self> {
        let Some(per_file) = pairs else { return Ok(Self::none()) };
        let given = options.hive_schema(py)?;
        let given_keys: Vec<String> = given.iter().map(|(key, _)| key.clone()).collect();
        let given_keys = options.hive_schema.is_some().then_some(given_keys.as_slice());
        let keys = partition_keys(per_file, names, given_keys).map_err(to_py_err)?;
        let polars = Polars::import(py)?;
        let (mut columns, mut dtypes) = (Vec::with_capacity(keys.len()), Vec::with_capacity(keys.len()));
        for (at, key) in keys.iter().enumerate() {
            let values = key_values(per_file, at);
            let dtype = given.iter().find(|(k, _)| k == key).map(|(_, dtype)| dtype);
            let dates = options.try_parse_hive_dates;
            // As Polars' scans type a hive_schema's types (with its CSV parser): dates and
            // datetimes only with try_parse_hive_dates (else text), booleans in any case.
            let typed = match dtype {
                Some(dtype) if !dates && polars.is_temporal(dtype)? => Typed::Ours(as_text(key, &values)),
                Some(dtype) if polars.is(dtype, "Boolean")? => match booleans(key, &values) {
                    Some(series) => Typed::Ours(series),
                    None => {
                        return Err(to_py_err(AvroError::argument(format!(
                        "the hive partition '{key}' cannot be read as Boolean: its values are not all true or false"
                    ))))
                    },
                },
                Some(dtype) => Typed::Theirs(polars.cast_partition(key, &values, dtype)?),
                None => match inferred(key, &values) {
                    Some(series) => Typed::Ours(series),
                    None if dates && values.iter().any(Option::is_some) => match polars.parse_dates(key, &values)? {
                        Some(series) => Typed::Theirs(series),
                        None => Typed::Ours(as_text(key, &values)),
                    },
                    None => Typed::Ours(as_text(key, &values)),
                },
            };
            let (series, dtype): (Series, _) = match typed {
                // The running Polars' dtype of what it typed, as it gave it (Rust's may differ).
                Typed::Theirs(series) => (series.extract::<PySeries>()?.0, series.getattr("dtype")?),
                Typed::Ours(series) => {
                    let dtype = polars.dtype(&FrameType::from_dtype(series.dtype()))?;
                    (series, dtype)
                },
            };
            dtypes.push(dtype.unbind());
            columns.push(series);
        }
        let values = match columns.is_empty() {
            true => None,
            false => Some(partition_frame(columns, per_file.len()).map_err(to_py_err)?),
        };
        Ok(Self { values, keys, dtypes })
    }
}

/// A partition column as Rust typed it, or as the running Polars did.
enum Typed<'py> {
    Ours(Series),
    Theirs(Bound<'py, PyAny>),
}

/// The files `sources` name as Python's listing functions take them: each file as it is
/// opened, its name, its size where known without reading it, and with
/// `options.hive_partitioning` (None: on for one folder) the partition values typed as a
/// scan types them, one row per file (None where there is no partition column).
#[pyfunction]
#[pyo3(signature = (sources, options, *, storage_options, retries))]
pub fn list_sources<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    options: &Bound<'py, PyAny>,
    storage_options: Vec<(String, String)>,
    #[pyo3(from_py_with = super::pychecks::retries)] retries: usize,
) -> PyResult<Listing<'py>> {
    let Found { files, names, partitions, .. } = found(py, sources, options, storage_options, retries)?;
    let (items, mut sizes) = (PyList::empty(py), Vec::with_capacity(names.len()));
    for file in files {
        sizes.push(file.size());
        items.append(file.into_py(py)?)?;
    }
    Ok((items, names, sizes, partitions.values.map(PyDataFrame)))
}

/// What `list_sources` gives: each file as it is opened, its name, its size, and the
/// partition values.
type Listing<'py> = (Bound<'py, PyList>, Vec<String>, Vec<Option<u64>>, Option<PyDataFrame>);

/// A source as Python names it (see `found`).
fn named_from_py(source: &Bound<'_, PyAny>) -> PyResult<Named<Py<PyAny>>> {
    if let Ok(text) = source.extract::<String>() {
        return Ok(Named::Text(text));
    }
    if let Ok(remote) = source.cast::<RemoteFile>() {
        return Ok(Named::Object(remote.get().object().clone()));
    }
    if let Ok((url, base, files)) = source.extract::<(String, Option<String>, Vec<(Bound<'_, PyAny>, String)>)>() {
        let files = files
            .into_iter()
            .map(|(file, file_url)| Ok((opened(&file, Some(file_url.clone()))?, file_url)))
            .collect::<PyResult<_>>()?;
        return Ok(Named::Listed { url, base, files });
    }
    Ok(Named::Opened(opened(source, None)?))
}

/// Bytes as they are, and a file object (found at `url`, if listed) as the `FileObject` that
/// rewinds it for each read.
fn opened(source: &Bound<'_, PyAny>, url: Option<String>) -> PyResult<Py<PyAny>> {
    if source.is_instance_of::<PyBytes>() || !source.hasattr("read")? {
        return Ok(source.clone().unbind());
    }
    Ok(Bound::new(source.py(), FileObject::of(source, url)?)?.into_any().unbind())
}

/// The bytes of a pipe or a device, read to their end in waits that Ctrl-C stops (where
/// there are no POSIX pipes, as a file is); refused after the first four when they cannot
/// begin an Avro file.
fn read_stream(path: &str) -> AvroResult<Vec<u8>> {
    #[cfg(unix)]
    return source::read_stream(std::path::Path::new(path), crate::container::check_magic);
    #[cfg(not(unix))]
    {
        let data =
            std::fs::read(path).map_err(|e| AvroError::io(e, format!("could not read '{path}'")).in_file(path))?;
        crate::container::check_magic(&data).map_err(|e| e.in_file(path))?;
        Ok(data)
    }
}
