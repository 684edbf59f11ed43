//! The running Polars' dtypes of the columns the reader gives, made here once per scan:
//! Python keeps the `pl.Schema` and never rebuilds it from a description.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyModule};

use super::to_py_err;
use crate::error::AvroError;
use crate::frame_type::FrameType;
use crate::read::{ColumnKind, IndexType, ScanPlan};

/// The Python Polars module and what the running release offers.
pub struct Polars<'py> {
    pl: Bound<'py, PyModule>,
    /// Whether it has a Map dtype: without one a map reads as a list of key/value structs,
    /// as Rust hands every map over.
    has_map: bool,
}

impl<'py> Polars<'py> {
    pub fn import(py: Python<'py>) -> PyResult<Self> {
        let pl = py.import("polars")?;
        let has_map = pl.hasattr("Map")?;
        Ok(Self { pl, has_map })
    }

    /// The dtype of a column of type `ft`.
    pub fn dtype(&self, ft: &FrameType) -> PyResult<Bound<'py, PyAny>> {
        use FrameType as F;
        let pl = &self.pl;
        let class = |name: &str| pl.getattr(name);
        match ft {
            F::Datetime { unit, time_zone } => {
                let dtype = class("Datetime")?.call1((unit.to_ascii(), time_zone.as_deref()))?;
                if let Some(zone) = time_zone.as_deref().filter(|zone| *zone != "UTC") {
                    self.check_time_zone(&dtype, zone)?;
                }
                Ok(dtype)
            },
            F::Duration(unit) => class("Duration")?.call1((unit.to_ascii(),)),
            F::Decimal { precision, scale } => class("Decimal")?.call1((*precision, *scale)),
            F::Enum(categories) => class("Enum")?.call1((categories.clone(),)),
            F::List(inner) => class("List")?.call1((self.dtype(inner)?,)),
            F::Array(inner, size) => class("Array")?.call1((self.dtype(inner)?, *size)),
            F::Struct(fields) => {
                let named = PyDict::new(pl.py());
                for (name, ft) in fields {
                    named.set_item(name, self.dtype(ft)?)?;
                }
                class("Struct")?.call1((named,))
            },
            F::Map { value, .. } if self.has_map => class("Map")?.call1((class("String")?, self.dtype(value)?)),
            F::Map { value, .. } => {
                let entry = PyDict::new(pl.py());
                entry.set_item("key", class("String")?)?;
                entry.set_item("value", self.dtype(value)?)?;
                class("List")?.call1((class("Struct")?.call1((entry,))?,))
            },
            F::Unsupported { name, .. } => {
                Err(PyTypeError::new_err(format!("polars-avro produced a type the reader does not give: {name}")))
            },
            plain => class(&plain.polars_name())?.call0(),
        }
    }

    /// A zone a timestamp was written from, once the running Polars has shown that it knows
    /// it: a file may name any zone in its `polars.time_zone` attribute, and one Polars does
    /// not know must fail here, naming it, not later inside a query.
    fn check_time_zone(&self, dtype: &Bound<'py, PyAny>, zone: &str) -> PyResult<()> {
        let int64 = self.pl.getattr("Int64")?;
        let series = self.pl.getattr("Series")?.call1(("", PyList::new(self.pl.py(), [0])?, int64))?;
        match series.call_method1("cast", (dtype,)) {
            Ok(_) => Ok(()),
            Err(_) => Err(to_py_err(AvroError::schema(format!(
                "a timestamp's polars.time_zone attribute names '{zone}', which is not a time zone Polars knows"
            )))),
        }
    }

    /// A partition's `values` (one per file, as text) as the running Polars casts them to
    /// the `dtype` a `hive_schema` gives the partition `key`: dates and datetimes parsed as its
    /// parser reads them (its casts from text to them are gone in Polars 2), the rest cast.
    pub fn cast_partition(
        &self,
        key: &str,
        values: &[Option<String>],
        dtype: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let strict = PyDict::new(self.pl.py());
        strict.set_item("strict", true)?;
        let text = self.text(key, values)?;
        let typed = if self.is(dtype, "Date")? {
            text.getattr("str")?.call_method("to_date", (), Some(&strict))
        } else if self.is(dtype, "Datetime")? {
            let parsed = text.getattr("str")?.call_method("to_datetime", (), Some(&strict));
            parsed.and_then(|parsed| parsed.call_method("cast", (dtype,), Some(&strict)))
        } else {
            text.call_method("cast", (dtype,), Some(&strict))
        };
        typed.map_err(|e| {
            let why = e.value(self.pl.py()).to_string();
            to_py_err(AvroError::argument(format!("the hive partition '{key}' cannot be read as {dtype}: {why}")))
        })
    }

    /// Whether `dtype` (a dtype or its class: `pl.Date`, `pl.Date()`) is Polars' `class`.
    pub fn is(&self, dtype: &Bound<'py, PyAny>, class: &str) -> PyResult<bool> {
        let class = self.pl.getattr(class)?;
        Ok(dtype.is(&class) || dtype.is_instance(&class)?)
    }

    /// Whether `dtype` is a date or a datetime.
    pub fn is_temporal(&self, dtype: &Bound<'py, PyAny>) -> PyResult<bool> {
        Ok(self.is(dtype, "Date")? || self.is(dtype, "Datetime")?)
    }

    /// A partition's `values` as the dates, else the datetimes, the running Polars' parser
    /// reads every one of them as; None where it reads them as neither.
    pub fn parse_dates(&self, key: &str, values: &[Option<String>]) -> PyResult<Option<Bound<'py, PyAny>>> {
        let text = self.text(key, values)?.getattr("str")?;
        let strict = PyDict::new(self.pl.py());
        strict.set_item("strict", true)?;
        for parser in ["to_date", "to_datetime"] {
            if let Ok(parsed) = text.call_method(parser, (), Some(&strict)) {
                return Ok(Some(parsed));
            }
        }
        Ok(None)
    }

    /// A String Series of `values`.
    fn text(&self, key: &str, values: &[Option<String>]) -> PyResult<Bound<'py, PyAny>> {
        let py = self.pl.py();
        self.pl.getattr("Series")?.call1((key, PyList::new(py, values)?, self.pl.getattr("String")?))
    }

    /// The index type of the running Polars: its row counts and row indices.
    pub fn index_type(&self) -> PyResult<IndexType> {
        let dtype = match self.pl.getattr("get_index_type") {
            Ok(get) => get.call0()?,
            Err(_) => return Ok(IndexType::U32),
        };
        let bits = if dtype.eq(self.pl.getattr("UInt64")?)? { 64 } else { 32 };
        Ok(IndexType::of_bits(bits).expect("32 or 64"))
    }

    /// The `pl.Schema` of a scan's columns: the files' columns from `plan`, the partitions'
    /// `partition_dtypes` (in the partitions' order), the row index's `index` type. Each
    /// distinct type is made once: wide files hold few distinct types, and a dtype made per
    /// column would cost more than the rest of planning.
    pub fn schema(
        &self,
        plan: &ScanPlan,
        partition_dtypes: &[Py<PyAny>],
        index: IndexType,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = self.pl.py();
        let (index_type, path_type) = (index_frame_type(index), FrameType::String);
        let mut made: HashMap<&FrameType, Bound<'py, PyAny>> = HashMap::new();
        let mut columns = Vec::with_capacity(plan.columns().len());
        for (at, (name, kind)) in plan.columns().iter().enumerate() {
            let ft = match kind {
                ColumnKind::Partition => {
                    let at = plan.partitions.iter().position(|p| p == name).expect("a partition column");
                    columns.push((name.as_str(), partition_dtypes[at].bind(py).clone()));
                    continue;
                },
                ColumnKind::RowIndex => &index_type,
                ColumnKind::File => plan.file_type_at(at).expect("a file column"),
                ColumnKind::FilePath => &path_type,
            };
            let dtype = match made.get(ft) {
                Some(dtype) => dtype.clone(),
                None => made.entry(ft).or_insert(self.dtype(ft)?).clone(),
            };
            columns.push((name.as_str(), dtype));
        }
        // Types made here, instances all: Polars need not check them (a cost per column).
        let kwargs = PyDict::new(py);
        kwargs.set_item("check_dtypes", false)?;
        self.pl.getattr("Schema")?.call((PyList::new(py, columns)?,), Some(&kwargs))
    }
}

fn index_frame_type(index: IndexType) -> FrameType {
    FrameType::Int { signed: false, bits: if index == IndexType::U64 { 64 } else { 32 } }
}

/// The file columns whose Polars type the crossing from Rust may change: those holding an
/// Enum (which may arrive as Categorical) or a map (a list of key/value structs, where
/// Polars has Map). Python casts them back on a read's first batch.
pub fn changing_columns(plan: &ScanPlan) -> Vec<String> {
    plan.schema
        .columns
        .iter()
        .filter(|(name, ft)| !plan.partitions.contains(name) && changes_on_crossing(ft))
        .map(|(name, _)| name.clone())
        .collect()
}

fn changes_on_crossing(ft: &FrameType) -> bool {
    match ft {
        FrameType::Enum(_) | FrameType::Map { .. } => true,
        FrameType::List(inner) | FrameType::Array(inner, _) => changes_on_crossing(inner),
        FrameType::Struct(fields) => fields.iter().any(|(_, ft)| changes_on_crossing(ft)),
        _ => false,
    }
}
