//! A scan's options as Rust reads them: the attributes of polars_avro._options'
//! `ScanOptions` (checked and defaulted there, once), taken by name. A read option that
//! reaches the reader is a field here and in that class, and nowhere between.

use pyo3::prelude::*;

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
    /// A column some files lack reads as nulls there (`missing_columns="insert"`).
    pub insert_missing: bool,
    /// Whose headers decide the scan's schema: "first" (the first file's) or "all".
    pub schema_from: String,
    /// A column the first file lacks: "raise" or "ignore" (Polars' `extra_columns`).
    pub extra_columns: String,
    /// Files whose names begin with one of these are left out (`hidden_file_prefix`).
    pub hidden: Vec<String>,
    /// Whether paths' wildcards are expanded.
    pub glob: bool,
    /// Whether the files' folders are hive partitions (None: for one folder).
    pub hive_partitioning: Option<bool>,
}

impl ScanOptions {
    /// Whether every file's header is read to decide the scan's schema (else the first's).
    pub fn reads_every_header(&self) -> bool {
        self.schema_from == "all"
    }

    /// What becomes of a column some files lack.
    pub fn missing(&self) -> MissingColumns {
        if self.insert_missing {
            MissingColumns::Insert
        } else {
            MissingColumns::Raise
        }
    }

    /// What becomes of a column the first file lacks.
    pub fn extra(&self) -> ExtraColumns {
        if self.extra_columns == "ignore" {
            ExtraColumns::Ignore
        } else {
            ExtraColumns::Raise
        }
    }

    /// The sizes the user asked for, which `read::Sizes` completes.
    pub fn sizes(&self) -> Sizes {
        Sizes { batch_size: self.batch_size, files_in_flight: self.files_in_flight, low_memory: self.low_memory }
    }
}
