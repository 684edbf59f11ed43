//! A scan's options as Rust reads them: the attributes of polars_avro._options'
//! `ScanOptions` (checked and defaulted there, once), taken by name. A read option that
//! reaches the reader is a field here and in that class, and nowhere between.

use pyo3::prelude::*;

use super::to_py_err;
use crate::error::AvroError;
use crate::read::{ExtraColumns, MissingColumns, Sizes};

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
    /// The options checked: each choice one of those it takes. Every entry point that plans
    /// a scan checks them first.
    pub fn checked(self) -> PyResult<Self> {
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
            return Err(to_py_err(AvroError::argument(msg)));
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

/// `hidden_file_prefix`: None, one prefix, or a sequence of them (checked in Python).
fn prefixes(given: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if given.is_none() {
        return Ok(Vec::new());
    }
    match given.extract::<String>() {
        Ok(prefix) => Ok(vec![prefix]),
        Err(_) => given.extract(),
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
