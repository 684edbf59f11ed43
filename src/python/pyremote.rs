//! Objects in object stores as Python sees them: a handle the source list carries, and
//! the listing globs are matched against.

use pyo3::prelude::*;

use super::to_py_err;
use crate::read::Source;
use crate::source::remote::{RemoteObject, RemoteOptions, RemoteReadAhead};

/// One object to read: its URL, the store options, and its size and ETag when a listing
/// told them.
#[pyclass(module = "polars_avro._internal", frozen)]
pub struct RemoteFile {
    object: RemoteObject,
}

#[pymethods]
impl RemoteFile {
    #[new]
    #[pyo3(signature = (url, *, storage_options, retries, size=None, etag=None))]
    fn new(
        url: &str,
        storage_options: Vec<(String, String)>,
        #[pyo3(from_py_with = super::pychecks::retries)] retries: usize,
        size: Option<u64>,
        etag: Option<String>,
    ) -> PyResult<Self> {
        let options = RemoteOptions { options: storage_options, retries };
        let object = RemoteObject::new(url, &options).map_err(to_py_err)?.listed(size, etag);
        Ok(Self { object })
    }

    #[getter]
    fn url(&self) -> &str {
        &self.object.url
    }

    /// The object's size, when its listing gave it.
    #[getter]
    fn size(&self) -> Option<u64> {
        self.object.size
    }
}

impl RemoteFile {
    /// The handle of an object a listing in Rust found.
    pub fn of(object: RemoteObject) -> Self {
        Self { object }
    }

    pub fn object(&self) -> &RemoteObject {
        &self.object
    }

    pub fn source(&self) -> Source {
        Source::Remote { object: self.object.clone(), read_ahead: RemoteReadAhead::default(), requests: None }
    }
}
