//! A scan's plan for Python: [`plan_scan`] reads the headers (or takes a reader schema),
//! decides the schema every file reads into and the columns the scan gives, in one call;
//! the [`ScanPlan`] it returns answers what a read needs to know of its columns and goes
//! back to the reader with each read's request.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::interrupt::interruptible;
use super::pyoptions::ScanOptions;
use super::pyreader::FileObject;
use super::pyremote::RemoteFile;
use super::{parse_columns, source_from_py, to_py_err};
use crate::error::{AvroError, AvroResult};
use crate::read::{self, ColumnSelection, ExtraColumns, FromFirst, ScanSchema, SchemasRead};
use crate::source::remote::RemoteOptions;
use crate::source::{self, Listed, Named, Source};

/// What a scan gives: the schema its files read into and its columns in order.
///
/// ``columns`` are (name, kind) pairs, kind one of "row_index", "file", "partition" and
/// "file_path"; ``file_columns`` the files' columns with their type descriptions.
/// Picklable: a split carries its scan's plan to the workers.
#[pyclass(module = "polars_avro._internal", frozen, from_py_object)]
#[derive(Clone)]
pub struct ScanPlan {
    /// Shared, not copied, by every read of the scan (a wide scan's plan is large).
    pub(super) plan: Arc<read::ScanPlan>,
}

#[pymethods]
impl ScanPlan {
    /// A plan made of its parts, as `plan_scan` decided them (a split's, on a worker);
    /// `from_first` the first file's rule as (first file, reader schema JSON, extra
    /// columns ignored).
    #[new]
    #[pyo3(signature = (reader_schema, file_columns, row_index=None, partitions=Vec::new(), file_path_column=None, from_first=None))]
    fn new(
        reader_schema: Option<String>,
        file_columns: Vec<(String, String)>,
        row_index: Option<String>,
        partitions: Vec<String>,
        file_path_column: Option<String>,
        from_first: Option<(Option<String>, String, bool)>,
    ) -> PyResult<Self> {
        let columns = parse_columns(&file_columns).map_err(to_py_err)?;
        let from_first = from_first.map(|(first, reader_json, ignore)| FromFirst {
            first,
            reader_json,
            extra: if ignore { ExtraColumns::Ignore } else { ExtraColumns::Raise },
        });
        let schema = ScanSchema::new(reader_schema, columns).with_from_first(from_first);
        let plan = read::ScanPlan::new(schema, row_index, partitions, file_path_column).map_err(to_py_err)?;
        Ok(Self { plan: Arc::new(plan) })
    }

    /// What Python needs of the plan, in one call: the reader schema (JSON) every file is
    /// resolved into (None: each file's own), the files' columns as (name, type description
    /// JSON), and every column of the scan in order as (name, kind).
    #[getter]
    fn described(&self) -> Described {
        describe(&self.plan)
    }

    /// The columns a read gives for a user's `columns` (names or positions of the files'
    /// and partitions' columns), the row index first and the path last.
    fn select(&self, columns: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let selection = if let Ok(names) = columns.extract::<Vec<String>>() {
            ColumnSelection::Names(names)
        } else if let Ok(indices) = columns.extract::<Vec<i64>>() {
            ColumnSelection::Indices(indices)
        } else {
            return Err(to_py_err(AvroError::argument("columns must be all names or all indices")));
        };
        self.plan.select(&selection).map_err(to_py_err)
    }

    /// The columns of a projection: any of the scan's, in the order given, each once.
    fn project(&self, names: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
        let Ok(names) = names.extract::<Vec<String>>() else {
            return Err(to_py_err(AvroError::argument(format!("columns must be column names, found {names}"))));
        };
        self.plan.project(&names).map_err(to_py_err)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let plan = &slf.get().plan;
        let from_first = plan
            .schema
            .from_first
            .as_ref()
            .map(|rule| (rule.first.clone(), rule.reader_json.clone(), rule.extra == ExtraColumns::Ignore));
        let args = (
            plan.schema.reader_schema.clone(),
            described(&plan.schema),
            plan.row_index.clone(),
            plan.partitions.clone(),
            plan.file_path_column.clone(),
            from_first,
        );
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }
}

/// What Python needs of a plan: its reader schema (JSON), the files' columns as (name, type
/// description JSON), and every column of the scan in order as (name, kind).
type Described = (Option<String>, Vec<(String, String)>, Vec<(String, &'static str)>);

fn describe(plan: &read::ScanPlan) -> Described {
    let columns = plan.columns().iter().map(|(name, kind)| (name.clone(), kind.name())).collect();
    (plan.schema.reader_schema.clone(), described(&plan.schema), columns)
}

fn described(schema: &ScanSchema) -> Vec<(String, String)> {
    schema.columns.iter().map(|(name, ft)| (name.clone(), ft.to_json().to_string())).collect()
}

/// The plan of a scan (see `read::ScanPlan`): the schema every file reads into and the
/// columns the scan gives with its row index, partition and path columns (`options`'
/// `row_index_name` and `include_file_paths`). `names` name the files, in order; their
/// writer schemas are `writer_schemas` (None where a header was damaged) when the caller
/// read them, else read here from `sources`. The plan comes with what
/// `ScanPlan.described` gives, to save Python a call, and what planning read.
#[pyfunction]
#[pyo3(signature = (names, options, *, sources=None, writer_schemas=None, reader_schema=None, partitions=Vec::new()))]
pub fn plan_scan(
    py: Python<'_>,
    names: Vec<String>,
    options: ScanOptions,
    sources: Option<&Bound<'_, PyList>>,
    writer_schemas: Option<Vec<Option<String>>>,
    reader_schema: Option<String>,
    partitions: Vec<String>,
) -> PyResult<(ScanPlan, Described, PlanningStats)> {
    let headers = match (writer_schemas, sources) {
        (Some(schemas), _) => Headers::Read(schemas),
        (None, Some(sources)) => Headers::Unread(sources.iter().map(|s| source_from_py(&s)).collect::<PyResult<_>>()?),
        (None, None) => Headers::Unread(Vec::new()),
    };
    if reader_schema.is_none() && matches!(&headers, Headers::Unread(s) if s.is_empty()) {
        return Err(to_py_err(AvroError::argument("plan_scan needs sources, writer schemas or a reader schema")));
    }
    let named = names.into_iter().map(|name| (name.clone(), Some(name))).collect();
    planned(py, named, &options, headers, reader_schema, partitions)
}

/// The files of a scan, listed in Rust whatever their kind: what `sources` names (paths,
/// `file://` and object store URLs as str; objects listed already as `RemoteFile`; a URL
/// only Python lists as `(url, base, [(file, file_url), ...])`; anything else, bytes or a
/// file object, as it is), by `source::list_named`'s rules, `hidden` left out. Each comes
/// as what a read opens (a local path, a `RemoteFile`, a stream's bytes read here, or the
/// caller's own), with its name and its path (None where it has none); with `hive` (None:
/// on for one folder) each file's partition (key, value) pairs.
#[pyfunction]
#[pyo3(signature = (sources, *, glob, hidden, hive, storage_options, retries))]
pub fn list_sources<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    glob: bool,
    hidden: Vec<String>,
    hive: Option<bool>,
    storage_options: Vec<(String, String)>,
    retries: usize,
) -> PyResult<Listing<'py>> {
    let remote = RemoteOptions { options: storage_options, retries };
    listing(py, sources, glob, &hidden, hive, &remote)
}

/// A scan planned in one call: its files as `list_sources` gives them (with `options`'
/// `glob`, `hidden` and `hive_partitioning`), and the plan as `plan_scan` makes it, from
/// headers read `files_in_flight` at a time (none with a `reader_schema`), and what
/// planning read.
#[pyfunction]
#[pyo3(signature = (sources, options, *, storage_options, retries, reader_schema=None))]
pub fn plan_sources<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    options: ScanOptions,
    storage_options: Vec<(String, String)>,
    retries: usize,
    reader_schema: Option<String>,
) -> PyResult<(Listing<'py>, ScanPlan, Described, PlanningStats)> {
    let remote = RemoteOptions { options: storage_options, retries };
    let hive = options.hive_partitioning;
    let listed = listing(py, sources, options.glob, &options.hidden, hive, &remote)?;
    let partitions = first_keys(listed.3.as_deref());
    let headers = match reader_schema {
        Some(_) => Vec::new(),
        None => listed.0.iter().map(|item| source_from_py(&item)).collect::<PyResult<_>>()?,
    };
    let named = listed.1.iter().cloned().zip(listed.2.iter().cloned()).collect();
    let (plan, described, stats) = planned(py, named, &options, Headers::Unread(headers), reader_schema, partitions)?;
    Ok((listed, plan, described, stats))
}

/// What `list_sources` gives: each file as a read opens it, its name, its path, and with
/// hive partitioning its partition pairs.
type Listing<'py> = (Bound<'py, PyList>, Vec<String>, Vec<Option<String>>, Option<Vec<Pairs>>);

/// The files `sources` name, as `list_sources` gives them.
fn listing<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    glob: bool,
    hidden: &[String],
    hive: Option<bool>,
    remote: &RemoteOptions,
) -> PyResult<Listing<'py>> {
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
    let pairs = if hive {
        let pairs = listed.iter().map(|(_, file)| file.partition_pairs()).collect::<Option<Vec<_>>>();
        Some(pairs.ok_or_else(|| {
            to_py_err(AvroError::argument(
                "hive_partitioning needs paths or URLs: bytes and file objects have no folders",
            ))
        })?)
    } else {
        None
    };
    let (items, mut names, mut paths) = (PyList::empty(py), Vec::new(), Vec::new());
    for (data, file) in listed {
        paths.push(file.path().map(str::to_string));
        let (item, name) = match file {
            Listed::Local(file) => (file.path.clone().into_pyobject(py)?.into_any(), file.path),
            Listed::Remote(listed) => {
                let url = listed.object.url.clone();
                (Bound::new(py, RemoteFile::of(listed.object))?.into_any(), url)
            },
            Listed::Stream(path) => (Bound::new(py, FileObject::kept(path.clone(), data))?.into_any(), path),
            Listed::Opened { item, .. } => {
                let item = item.into_bound(py);
                // Bytes have no name of their own; a file object is named as errors name it.
                let name = item.cast::<FileObject>().map_or_else(|_| "<bytes>".to_string(), |f| f.get().name());
                (item, name)
            },
        };
        items.append(item)?;
        names.push(name);
    }
    Ok((items, names, paths, pairs))
}

/// A source as Python names it (see `list_sources`).
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

/// A file's hive partitions: the (key, value) pairs of its folders, a null value None.
type Pairs = Vec<(String, Option<String>)>;

/// The partition columns of a scan: the keys of its first file's partition folders.
fn first_keys(pairs: Option<&[Pairs]>) -> Vec<String> {
    pairs.and_then(|p| p.first()).map_or_else(Vec::new, |first| first.iter().map(|(key, _)| key.clone()).collect())
}

/// Where a plan's writer schemas come from: read by the caller (None where a header was
/// damaged), or from these sources' headers, here.
enum Headers {
    Read(Vec<Option<String>>),
    Unread(Vec<Source>),
}

/// The plan of files `named` (each one's name and path, if it has one), their headers
/// `headers`, as `plan_scan` describes it. No header is read with a `reader_schema`; with
/// `options.schema_from` "first", the first file's alone (the first that is not damaged,
/// with `options.ignore_errors`), else every file's, `options.files_in_flight` at a time.
/// With `options.ignore_errors`, a file whose header is damaged is left out (the read
/// reports it); when every header read is, the first one's error raises.
fn planned(
    py: Python<'_>,
    named: Vec<(String, Option<String>)>,
    options: &ScanOptions,
    headers: Headers,
    reader_schema: Option<String>,
    partitions: Vec<String>,
) -> PyResult<(ScanPlan, Described, PlanningStats)> {
    let ScanOptions { ignore_errors, row_index_name, include_file_paths, .. } = options;
    let mut stats = SchemasRead::default();
    let (first_only, missing) = (!options.reads_every_header(), options.missing());
    // Each file's writer schema, None where its header is damaged and left out.
    let schemas: Vec<Option<String>> = match (&reader_schema, headers) {
        (Some(_), _) => Vec::new(),
        (None, Headers::Read(mut schemas)) => {
            if first_only {
                // The first header read, after those left out.
                schemas.truncate(schemas.iter().position(Option::is_some).map_or(0, |i| i + 1));
            }
            schemas
        },
        (None, Headers::Unread(sources)) => {
            stats = interruptible(py, || match first_only {
                true => first_schema(sources, *ignore_errors),
                false => {
                    let in_flight = options.sizes().files_in_flight();
                    let in_flight = in_flight.unwrap_or_else(|| read::default_files_in_flight(&sources));
                    read::read_schemas(sources, in_flight)
                },
            })
            .map_err(to_py_err)?;
            let mut first_damage = None;
            let schemas = std::mem::take(&mut stats.schemas)
                .into_iter()
                .map(|result| match result {
                    Ok(json) => Ok(Some(json)),
                    Err(e) if *ignore_errors && e.is_damage() => {
                        first_damage.get_or_insert(e);
                        Ok(None)
                    },
                    Err(e) => Err(e),
                })
                .collect::<AvroResult<Vec<_>>>()
                .map_err(to_py_err)?;
            match first_damage {
                Some(e) if schemas.iter().all(Option::is_none) => return Err(to_py_err(e)),
                _ => schemas,
            }
        },
    };
    let (files, paths): (Vec<(String, String)>, Vec<Option<String>>) =
        named.into_iter().zip(schemas).filter_map(|((name, path), schema)| Some(((name, schema?), path))).unzip();
    let schema = match (&reader_schema, files.as_slice()) {
        (None, [(name, json)]) if first_only => {
            ScanSchema::of_first(name, paths[0].as_deref(), json, missing, options.extra())
        },
        _ => ScanSchema::of(&files, reader_schema.as_deref(), missing),
    }
    .map_err(to_py_err)?;
    let plan = read::ScanPlan::new(schema, row_index_name.clone(), partitions, include_file_paths.clone())
        .map_err(to_py_err)?;
    let described = describe(&plan);
    let planning = vec![("headers_read", stats.headers_read as u64), ("requests", stats.requests)];
    Ok((ScanPlan { plan: Arc::new(plan) }, described, planning))
}

/// What planning a scan did, as counters of Python's `ReadStats` (by name): the headers it
/// read and the requests it made for them (listing an object store's folders is not counted).
type PlanningStats = Vec<(&'static str, u64)>;

/// The writer schemas of `sources` up to the first whose header reads, past damaged ones
/// where `skip_damage`: the first file's rule reads no other.
fn first_schema(sources: Vec<Source>, skip_damage: bool) -> AvroResult<SchemasRead> {
    let mut all = SchemasRead::default();
    for source in sources {
        let read = read::read_schemas(vec![source], 1)?;
        all.headers_read += read.headers_read;
        all.requests += read.requests;
        let result = read.schemas.into_iter().next().expect("one source, one schema");
        let go_on = result.as_ref().is_err_and(|e| skip_damage && e.is_damage());
        all.schemas.push(result);
        if !go_on {
            break;
        }
    }
    Ok(all)
}
