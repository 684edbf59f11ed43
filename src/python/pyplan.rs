//! A scan planned in one call ([`plan_sources`]): its files listed and kept as each read
//! opens them, their partition values typed, the headers read (or a reader schema taken)
//! and the plan made. Python keeps the [`PlannedScan`] it returns, and the `pl.Schema` the
//! [`ScanPlan`] made once; each read hands back the handle only.

use std::sync::Arc;

use polars_core::prelude::DataFrame;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

use super::interrupt::interruptible;
use super::pydtype::{changing_columns, Polars};
use super::pylisting::{found, Found, Opens, ScanSource};
use super::pyoptions::ScanOptions;
use super::{header_dict, parse_columns, to_py_err};
use crate::error::{AvroError, AvroResult};
use crate::read::{self, ColumnSelection, ExtraColumns, FromFirst, IndexType, ScanSchema, SchemasRead, Source};

/// What a scan gives: the schema its files read into, its columns in order, and their
/// types in the running Polars (`schema`), made once. Picklable: a split carries its scan's
/// plan to the workers, where the types are made again by the Polars that runs there.
#[pyclass(module = "polars_avro._internal", frozen, from_py_object)]
#[derive(Clone)]
pub struct ScanPlan {
    /// Shared, not copied, by every read of the scan (a wide scan's plan is large).
    pub(super) plan: Arc<read::ScanPlan>,
    types: Arc<PolarsTypes>,
}

/// A plan's columns as the running Polars types them.
struct PolarsTypes {
    /// The partition columns' dtypes, in the partitions' order.
    partition_dtypes: Vec<Py<PyAny>>,
    /// The scan's `pl.Schema`.
    schema: Py<PyAny>,
    /// The file columns a batch's crossing into Python may retype (see `changing_columns`).
    changing: Vec<String>,
    /// The running Polars' index type: the row index's type.
    index: IndexType,
}

impl ScanPlan {
    /// The plan `plan` with its partitions' `partition_dtypes`, typed by the running Polars.
    pub(super) fn of(py: Python<'_>, plan: read::ScanPlan, partition_dtypes: Vec<Py<PyAny>>) -> PyResult<Self> {
        let polars = Polars::import(py)?;
        let index = polars.index_type()?;
        let schema = polars.schema(&plan, &partition_dtypes, index)?.unbind();
        let changing = changing_columns(&plan);
        let types = PolarsTypes { partition_dtypes, schema, changing, index };
        Ok(Self { plan: Arc::new(plan), types: Arc::new(types) })
    }

    pub(super) fn index(&self) -> IndexType {
        self.types.index
    }
}

#[pymethods]
impl ScanPlan {
    /// A plan made of its parts, as planning decided them (a split's, on a worker);
    /// `from_first` the first file's rule as (first file, reader schema JSON, extra
    /// columns ignored).
    #[new]
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (reader_schema, file_columns, row_index=None, partitions=Vec::new(), partition_dtypes=Vec::new(), file_path_column=None, from_first=None))]
    fn new(
        py: Python<'_>,
        reader_schema: Option<String>,
        file_columns: Vec<(String, String)>,
        row_index: Option<String>,
        partitions: Vec<String>,
        partition_dtypes: Vec<Py<PyAny>>,
        file_path_column: Option<String>,
        from_first: Option<(Option<String>, String, bool)>,
    ) -> PyResult<Self> {
        if partition_dtypes.len() != partitions.len() {
            return Err(to_py_err(AvroError::argument("a plan needs one dtype per partition column")));
        }
        let columns = parse_columns(&file_columns).map_err(to_py_err)?;
        let from_first = from_first.map(|(first, reader_json, ignore)| FromFirst {
            first,
            reader_json,
            extra: if ignore { ExtraColumns::Ignore } else { ExtraColumns::Raise },
        });
        let schema = ScanSchema::new(reader_schema, columns).with_from_first(from_first);
        let plan = read::ScanPlan::new(schema, row_index, partitions, file_path_column).map_err(to_py_err)?;
        Self::of(py, plan, partition_dtypes)
    }

    /// The scan's columns and their types in the running Polars.
    #[getter]
    fn schema(&self, py: Python<'_>) -> Py<PyAny> {
        self.types.schema.clone_ref(py)
    }

    /// The file columns whose type a batch's crossing into Python may change (an Enum
    /// arriving as Categorical, a map as a list of structs where Polars has Map): Python
    /// casts them back to `schema`'s types.
    #[getter]
    fn changing(&self) -> Vec<String> {
        self.types.changing.clone()
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
        let this = slf.get();
        let plan = &this.plan;
        let from_first = plan
            .schema
            .from_first
            .as_ref()
            .map(|rule| (rule.first.clone(), rule.reader_json.clone(), rule.extra == ExtraColumns::Ignore));
        let file_columns: Vec<(String, String)> =
            plan.schema.columns.iter().map(|(name, ft)| (name.clone(), ft.to_json().to_string())).collect();
        let dtypes: Vec<Py<PyAny>> = this.types.partition_dtypes.iter().map(|d| d.clone_ref(py)).collect();
        let args = (
            plan.schema.reader_schema.clone(),
            file_columns,
            plan.row_index.clone(),
            plan.partitions.clone(),
            dtypes,
            plan.file_path_column.clone(),
            from_first,
        );
        Ok((slf.get_type().into_any(), args.into_pyobject(py)?))
    }
}

/// A planned scan, which Python holds and hands to each read: its files as every read
/// opens them, their partition values, its plan, and the options its reads share.
#[pyclass(module = "polars_avro._internal", frozen)]
pub struct PlannedScan {
    pub(super) files: Vec<ScanSource>,
    /// One row per file (None: no partition column).
    pub(super) partitions: Option<DataFrame>,
    /// The plan, with the scan's `pl.Schema`.
    #[pyo3(get)]
    pub(super) plan: ScanPlan,
    pub(super) options: ScanOptions,
    /// The scan's name in a query plan: its first file, and how many others follow.
    #[pyo3(get)]
    label: String,
    /// How a frame of this scan that a user writes again can keep its file's header:
    /// "lazy" (a path or URL, whose header is read when the frame is written), "eager" (bytes
    /// or a stream, read now), or None where the frame is not one file's columns as they are
    /// in it (several files, a reader schema, a row index, partition or path column, a split).
    #[pyo3(get)]
    origin: Option<&'static str>,
}

impl PlannedScan {
    pub(super) fn new(
        files: Vec<ScanSource>,
        partitions: Option<DataFrame>,
        plan: ScanPlan,
        options: ScanOptions,
        reader_schema_given: bool,
    ) -> Self {
        let label = match files.as_slice() {
            [] => String::new(),
            [one] => one.name.clone(),
            [first, rest @ ..] => format!("{} and {} more", first.name, rest.len()),
        };
        let own_columns = plan.plan.columns().len() == plan.plan.schema.columns.len();
        let origin = match files.as_slice() {
            [one] if own_columns && !reader_schema_given && plan.plan.schema.reader_schema.is_none() => {
                match (&one.split, &one.opens) {
                    (Some(_), _) => None,
                    (None, Opens::Path(_) | Opens::Remote(_)) => Some("lazy"),
                    (None, _) => Some("eager"),
                }
            },
            _ => None,
        };
        Self { files, partitions, plan, options, label, origin }
    }
}

#[pymethods]
impl PlannedScan {
    /// The header of the scan's first file, as `read_header` gives it.
    fn header<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let Some(file) = self.files.first() else {
            return Err(to_py_err(AvroError::argument("the scan has no file")));
        };
        let source = file.source(py)?;
        let (header, _) = py.detach(|| read::read_header(source)).map_err(to_py_err)?;
        header_dict(py, &header)
    }
}

/// A scan planned in one call: its files as `found` lists them (with `options`' `glob`,
/// `hidden` and `hive_partitioning`), their partition values typed (see
/// `Partitions::typed`), and the plan made from the headers read `files_in_flight` at a time
/// (none with a `reader_schema`); with what planning read.
#[pyfunction]
#[pyo3(signature = (sources, options, *, storage_options, retries, reader_schema=None))]
pub fn plan_sources<'py>(
    py: Python<'py>,
    sources: &Bound<'py, PyList>,
    options: &Bound<'py, PyAny>,
    storage_options: Vec<(String, String)>,
    #[pyo3(from_py_with = super::pychecks::retries)] retries: usize,
    reader_schema: Option<String>,
) -> PyResult<(PlannedScan, PlanningStats)> {
    let Found { options, files, names, partitions } = found(py, sources, options, storage_options, retries)?;
    let headers = match reader_schema {
        Some(_) => Vec::new(),
        None => files.iter().map(|f| f.source(py)).collect::<PyResult<_>>()?,
    };
    let named = names.into_iter().zip(files.iter().map(|f| f.path.clone())).collect();
    let given = reader_schema.is_some();
    let (keys, dtypes) = (partitions.keys, partitions.dtypes);
    let (plan, stats) = planned(py, named, &options, Headers::Unread(headers), reader_schema, keys, dtypes)?;
    Ok((PlannedScan::new(files, partitions.values, plan, options, given), stats))
}

/// Where a plan's writer schemas come from: read by the caller (None where a header was
/// damaged), or from these sources' headers, here.
pub(super) enum Headers {
    Read(Vec<Option<String>>),
    Unread(Vec<Source>),
}

/// The plan of files `named` (each one's name and path, if it has one), their headers
/// `headers`, with the partition columns `partitions` of the running Polars' types
/// `partition_dtypes`. No header is read with a `reader_schema`; with `options.schema_from`
/// "first", the first file's alone (the first that is not damaged, with
/// `options.ignore_errors`), else every file's, `options.files_in_flight` at a time. With
/// `options.ignore_errors`, a file whose header is damaged is left out (the read reports
/// it); when every header read is, the first one's error raises.
pub(super) fn planned(
    py: Python<'_>,
    named: Vec<(String, Option<String>)>,
    options: &ScanOptions,
    headers: Headers,
    reader_schema: Option<String>,
    partitions: Vec<String>,
    partition_dtypes: Vec<Py<PyAny>>,
) -> PyResult<(ScanPlan, PlanningStats)> {
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
    let planning = vec![("headers_read", stats.headers_read as u64), ("requests", stats.requests)];
    Ok((ScanPlan::of(py, plan, partition_dtypes)?, planning))
}

/// What planning a scan did, as counters of Python's `ReadStats` (by name): the headers it
/// read and the requests it made for them (listing an object store's folders is not counted).
pub(super) type PlanningStats = Vec<(&'static str, u64)>;

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
