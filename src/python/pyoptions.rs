//! A scan's options as Rust reads them: the attributes of polars_avro._options'
//! `ScanOptions` (defaulted there), checked here once, when a scan is planned, and taken by
//! name. A read option that reaches the reader is a field here and in that class, and
//! nowhere between.

use pyo3::prelude::*;

use super::pychecks::{check_count, check_flag, check_text, check_threads, check_whole_number, MOST_COUNT};
use super::pydtype::Polars;
use super::to_py_err;
use crate::error::AvroError;
use crate::read::{ExtraColumns, MissingColumns, Sizes};

/// The most files opened at once: each is opened on an I/O thread of its own, and a typo
/// (100_000 for 100) would start that many threads.
const MAX_FILES_IN_FLIGHT: i128 = 1024;

/// The options of a scan that the planner and the reader mind.
#[derive(FromPyObject)]
pub struct ScanOptions {
    /// Records to read at most, across files, counted before any filter.
    pub n_rows: Option<usize>,
    /// The user's rows per batch.
    pub batch_size: Option<usize>,
    /// Files opened and read ahead at once.
    pub files_in_flight: Option<usize>,
    /// Polars' `low_memory`: smaller batches, one file read ahead.
    pub low_memory: bool,
    /// The name of the row index column, if any.
    pub row_index_name: Option<String>,
    /// Where the row index starts.
    pub row_index_offset: u64,
    /// The name of the column of each row's source path, if any.
    pub include_file_paths: Option<String>,
    /// Threads decoding batches.
    pub n_threads: Option<usize>,
    /// Damaged blocks (and files of several whose header is damaged) left out.
    pub ignore_errors: bool,
    /// Whether a column some files lack reads as nulls there: "insert", or "raise" (unless
    /// `allow_missing_columns`, Polars' older name for "insert").
    #[pyo3(from_py_with = given)]
    pub missing_columns: Given,
    pub allow_missing_columns: bool,
    /// Whose headers decide the scan's schema: "first" (the first file's) or "all".
    #[pyo3(from_py_with = given)]
    pub schema_from: Given,
    /// A column the first file lacks: "raise" or "ignore" (Polars' `extra_columns`).
    #[pyo3(from_py_with = given)]
    pub extra_columns: Given,
    /// Files whose names begin with one of these are left out (`hidden_file_prefix`, one
    /// prefix or several).
    #[pyo3(attribute("hidden_file_prefix"), from_py_with = prefixes)]
    pub hidden: Vec<String>,
    /// Whether paths' wildcards are expanded.
    pub glob: bool,
    /// Whether the files' folders are hive partitions (None: for one folder).
    pub hive_partitioning: Option<bool>,
    /// The partition columns' types the user gave, by key (a mapping of Polars dtypes):
    /// the running Polars casts their values.
    pub hive_schema: Option<Py<PyAny>>,
    /// Whether partition values are dates or datetimes where the running Polars parses
    /// them as such.
    pub try_parse_hive_dates: bool,
}

impl ScanOptions {
    /// The options of the Python `ScanOptions` `given`, each checked as the package checks an
    /// option of its kind (`pychecks`) before it is taken. Every entry point that plans a
    /// scan takes them so.
    pub fn of(given: &Bound<'_, PyAny>) -> PyResult<Self> {
        let option = |name: &str| given.getattr(name);
        check_count("batch_size", &option("batch_size")?)?;
        let files_in_flight = option("files_in_flight")?;
        if !files_in_flight.is_none() {
            check_whole_number("files_in_flight", &files_in_flight, 1, MAX_FILES_IN_FLIGHT)?;
        }
        check_threads(&option("n_threads")?)?;
        let n_rows = option("n_rows")?;
        if !n_rows.is_none() {
            check_whole_number("n_rows", &n_rows, 0, MOST_COUNT)?;
        }
        // As Polars' with_row_index: an offset its index type holds.
        let most_index = Polars::import(given.py())?.index_type()?.max();
        check_whole_number("row_index_offset", &option("row_index_offset")?, 0, i128::from(most_index))?;
        for flag in ["glob", "allow_missing_columns", "try_parse_hive_dates", "ignore_errors", "low_memory"] {
            check_flag(flag, &option(flag)?)?;
        }
        let hive_partitioning = option("hive_partitioning")?;
        if !hive_partitioning.is_none() {
            check_flag("hive_partitioning", &hive_partitioning)?;
        }
        for name in ["row_index_name", "include_file_paths"] {
            let text = option(name)?;
            if !text.is_none() {
                check_text(name, &text, "a column name")?;
            }
        }
        prefixes(&option("hidden_file_prefix")?)?;
        given.extract::<Self>()?.checked()
    }

    /// The options' choices checked: each one of those it takes.
    fn checked(self) -> PyResult<Self> {
        for (name, given, choices) in [
            ("schema_from", &self.schema_from, ["first", "all"]),
            ("missing_columns", &self.missing_columns, ["raise", "insert"]),
            ("extra_columns", &self.extra_columns, ["raise", "ignore"]),
        ] {
            if !matches!(given, Given::Text(text) if choices.contains(&text.as_str())) {
                let (first, second) = (choices[0], choices[1]);
                let found = match given {
                    Given::Text(text) => format!("'{text}'"),
                    Given::Other(repr) => repr.clone(),
                };
                let msg = format!("{name} must be '{first}' or '{second}', found {found}");
                return Err(to_py_err(AvroError::argument(msg)));
            }
        }
        if self.hive_partitioning == Some(false) && self.hive_schema.is_some() {
            let msg = "hive_schema was given, and hive_partitioning=False reads no partition: leave \
                       hive_partitioning out (a hive_schema turns it on), or the hive_schema";
            return Err(to_py_err(AvroError::option_conflict(msg)));
        }
        Ok(self)
    }

    /// Whether the paths' partitions are read: as the user says, else where a `hive_schema`
    /// is given, as Polars' scans do; None: where the source is one folder.
    pub fn hive(&self) -> Option<bool> {
        self.hive_partitioning.or(self.hive_schema.as_ref().map(|_| true))
    }

    /// Whether every file's header is read to decide the scan's schema (else the first's).
    pub fn reads_every_header(&self) -> bool {
        self.schema_from.is("all")
    }

    /// What becomes of a column some files lack.
    pub fn missing(&self) -> MissingColumns {
        if self.allow_missing_columns || self.missing_columns.is("insert") {
            MissingColumns::Insert
        } else {
            MissingColumns::Raise
        }
    }

    /// What becomes of a column the first file lacks.
    pub fn extra(&self) -> ExtraColumns {
        if self.extra_columns.is("ignore") {
            ExtraColumns::Ignore
        } else {
            ExtraColumns::Raise
        }
    }

    /// The partition keys `hive_schema` names, and the dtype it gives each.
    pub fn hive_schema<'py>(&self, py: Python<'py>) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let Some(given) = &self.hive_schema else { return Ok(Vec::new()) };
        let given = given.bind(py);
        let pairs = || -> PyResult<Vec<_>> {
            given
                .try_iter()?
                .map(|key| {
                    let key = key?;
                    Ok((key.extract()?, given.get_item(&key)?))
                })
                .collect()
        };
        pairs().map_err(|e| {
            let msg = format!("hive_schema must map partition keys to Polars types, found {given:.200} ({e})");
            to_py_err(AvroError::argument(msg))
        })
    }

    /// The sizes the user asked for, which `read::Sizes` completes.
    pub fn sizes(&self) -> Sizes {
        Sizes { batch_size: self.batch_size, files_in_flight: self.files_in_flight, low_memory: self.low_memory }
    }
}

/// `hidden_file_prefix`: None, one prefix, or a sequence of them.
fn prefixes(given: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if given.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(prefix) = given.extract::<String>() {
        return Ok(vec![prefix]);
    }
    match given.extract::<Vec<String>>() {
        Ok(prefixes) => Ok(prefixes),
        Err(_) => {
            let msg = format!("hidden_file_prefix must be a str or a sequence of str, found {}", given.repr()?);
            Err(to_py_err(AvroError::argument(msg)))
        },
    }
}

/// A choice as given: text, or what Python shows of anything else (which the check refuses).
pub enum Given {
    Text(String),
    Other(String),
}

impl Given {
    fn is(&self, choice: &str) -> bool {
        matches!(self, Given::Text(text) if text == choice)
    }
}

fn given(value: &Bound<'_, PyAny>) -> PyResult<Given> {
    Ok(match value.extract::<String>() {
        Ok(text) => Given::Text(text),
        Err(_) => Given::Other(value.repr()?.to_string()),
    })
}
