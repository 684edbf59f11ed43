//! The crate's one error type: what went wrong, of which kind, and where in which file.

use std::fmt;
use std::sync::Arc;

/// Broad classes of failure; the Python layer maps each to its own exception class. More
/// may come: match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The operating system, or an object store, failed to read or open something.
    Io,
    /// The file or object does not exist (Python: FileNotFoundError).
    NotFound,
    /// The credentials were refused or lack the rights (Python: PermissionError).
    PermissionDenied,
    /// The bytes are not a well-formed Avro object container (magic, header, sync marker, block framing).
    Format,
    /// A codec is unknown, or a block failed to decompress or its checksum did not match.
    Codec,
    /// The Avro schema is invalid JSON or not a valid Avro schema.
    Schema,
    /// Record bytes do not match the schema.
    Decode,
    /// Several files map to different Polars schemas.
    SchemaMismatch,
    /// A caller passed an argument that cannot be honoured (a bad source, a bad option, ...).
    Argument,
    /// An argument names a column the data does not have (by name or by position).
    ColumnNotFound,
    /// An argument names a column twice, or names a new column as an existing one.
    Duplicate,
    /// A schema the caller gave lacks a field the data has (a partition key `hive_schema`
    /// does not name).
    SchemaFieldNotFound,
    /// Two options given together that cannot go together (a `hive_schema` beside
    /// `hive_partitioning=False`), which Polars' own scans refuse as a compute error.
    OptionConflict,
    /// A value cannot be written as its Avro type (out of range, null where Avro has none, ...).
    Encode,
    /// More records than Polars' index type can count (a row index past its maximum).
    Capacity,
    /// polars-avro itself failed (a Polars error building a column, a caught panic): a
    /// bug, never damage in the data, so `ignore_errors` does not skip it.
    Internal,
    /// The system refused memory (a map or an allocation that reports it: Python's
    /// MemoryError), rather than failing to read.
    OutOfMemory,
    /// The caller stopped the work (Ctrl-C): Python raises what its SIGINT handler raised.
    Interrupted,
}

/// An error with its location: the file, the block index and the byte offset in the file.
/// Boxed, so that the `Result`s of the hot decoding paths stay one pointer wide; the
/// details are reached through `Deref` (`err.message`, `err.file`, ...).
#[derive(Debug, Clone)]
pub struct AvroError(Box<ErrorDetails>);

/// What an [`AvroError`] says: its kind, message and place.
#[derive(Debug, Clone)]
pub struct ErrorDetails {
    /// What went wrong, broadly.
    pub kind: ErrorKind,
    /// What was expected and what was found.
    pub message: String,
    /// The file, URL or `<bytes>` the error is in.
    pub file: Option<String>,
    /// The index of the data block, from 0 (from the first block of a split that starts
    /// inside the file: see `split_start`).
    pub block: Option<usize>,
    /// Where the split whose blocks `block` counts begins in the file, when it does not
    /// begin with the file's first block.
    pub split_start: Option<u64>,
    /// The byte offset in the file.
    pub offset: Option<u64>,
    /// The row of a column of messages (see `crate::message`), counted in the batch
    /// Polars handed the expression.
    pub row: Option<u64>,
    /// How many rows that batch holds: the row is counted in it, which may be one part
    /// of the user's column (a chunk, or a streaming engine's batch).
    pub batch_rows: Option<u64>,
    /// The error of the operating system or the object store this one reports, for
    /// [`std::error::Error::source`] (shared, so that errors stay cloneable).
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// The crate's `Result`.
pub type AvroResult<T> = Result<T, AvroError>;

impl AvroError {
    /// An error of this kind, not yet located.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self(Box::new(ErrorDetails {
            kind,
            message: message.into(),
            file: None,
            block: None,
            split_start: None,
            offset: None,
            row: None,
            batch_rows: None,
            source: None,
        }))
    }

    /// Locates the error at `row` of a batch of `batch_rows` rows (of an expression's input).
    pub fn at_batch_row(mut self, row: usize, batch_rows: usize) -> Self {
        self.row = Some(row as u64);
        self.batch_rows = Some(batch_rows as u64);
        self
    }

    /// Keeps `source` as the cause of this error.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// [`ErrorKind::Format`]: the container's framing is broken.
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Format, message)
    }

    /// [`ErrorKind::Codec`]: an unknown codec or a block that does not decompress.
    pub fn codec(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Codec, message)
    }

    /// [`ErrorKind::Schema`]: an invalid schema, or schemas that cannot be resolved.
    pub fn schema(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Schema, message)
    }

    /// [`ErrorKind::Decode`]: record bytes that do not fit the schema.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// [`ErrorKind::SchemaMismatch`]: a file whose columns are not the ones the read expects.
    pub fn schema_mismatch(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SchemaMismatch, message)
    }

    /// [`ErrorKind::Interrupted`]: the caller stopped the work.
    pub fn interrupted() -> Self {
        Self::new(ErrorKind::Interrupted, "interrupted")
    }

    /// [`ErrorKind::Argument`]: an argument that cannot be honoured.
    pub fn argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Argument, message)
    }

    /// [`ErrorKind::ColumnNotFound`]: an argument names a column the data does not have.
    pub fn column_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::ColumnNotFound, message)
    }

    /// [`ErrorKind::Duplicate`]: an argument names a column twice, or a new column as an
    /// existing one.
    pub fn duplicate(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Duplicate, message)
    }

    /// [`ErrorKind::SchemaFieldNotFound`]: a schema the caller gave lacks a field the data has.
    pub fn schema_field_not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SchemaFieldNotFound, message)
    }

    /// [`ErrorKind::OptionConflict`]: two options that cannot go together.
    pub fn option_conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::OptionConflict, message)
    }

    /// [`ErrorKind::Encode`]: a value that cannot be written as its Avro type.
    pub fn encode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Encode, message)
    }

    /// [`ErrorKind::Capacity`]: more records than Polars' index type can count.
    pub fn capacity(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Capacity, message)
    }

    /// [`ErrorKind::Internal`]: a bug of this crate.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// An I/O failure, kept as its source; one that carries an `AvroError` (a remote
    /// read's) is that error.
    pub fn io(err: std::io::Error, what: impl fmt::Display) -> Self {
        if let Some(inner) = err.get_ref().and_then(|e| e.downcast_ref::<AvroError>()) {
            return inner.clone();
        }
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            // ENOMEM (a map refused: the address space or the memory ran out) among them.
            std::io::ErrorKind::OutOfMemory => ErrorKind::OutOfMemory,
            _ => ErrorKind::Io,
        };
        Self::new(kind, format!("{what}: {err}")).with_source(err)
    }

    /// Fills in the file name unless a more precise one is already set.
    pub fn in_file(mut self, file: &str) -> Self {
        self.file.get_or_insert_with(|| file.to_string());
        self
    }

    /// Whether the bytes of a block are at fault (its framing, compression or records),
    /// rather than the source, the schema or an argument: what `ignore_errors` skips.
    pub fn is_damage(&self) -> bool {
        matches!(self.kind, ErrorKind::Format | ErrorKind::Codec | ErrorKind::Decode)
    }

    /// What a user can do about the error, where the error alone does not say: a damaged
    /// block of a file (its place known) is left out by `ignore_errors=True`, and
    /// `polars-avro repair` rewrites the file without it.
    pub fn way_out(&self) -> Option<&'static str> {
        (self.is_damage() && self.file.is_some() && self.block.is_some()).then_some(
            "the file is damaged: pass ignore_errors=True to read its intact blocks (the damaged ones are \
            reported), or rewrite it without them with `polars-avro repair`",
        )
    }

    /// Fills in the block index unless one is already set.
    pub fn in_block(mut self, block: usize) -> Self {
        self.block.get_or_insert(block);
        self
    }

    /// Says that block indices count from the split beginning at `start` (None: from the
    /// file's first block), unless already said.
    pub fn in_split(mut self, start: Option<u64>) -> Self {
        if self.split_start.is_none() {
            self.split_start = start;
        }
        self
    }

    /// Fills in the byte offset in the file unless one is already set.
    pub fn at_offset(mut self, offset: u64) -> Self {
        self.offset.get_or_insert(offset);
        self
    }
}

impl std::ops::Deref for AvroError {
    type Target = ErrorDetails;

    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for AvroError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl fmt::Display for AvroError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        let mut place = Vec::new();
        if let Some(file) = &self.file {
            place.push(format!("file '{file}'"));
        }
        if let Some(start) = self.split_start {
            place.push(format!("split from byte {start}"));
        }
        if let Some(block) = self.block {
            place.push(format!("block {block}"));
        }
        if let Some(offset) = self.offset {
            place.push(format!("byte offset {offset}"));
        }
        match (self.row, self.batch_rows) {
            (Some(row), Some(rows)) => place.push(format!("row {row} of a batch of {rows}")),
            (Some(row), None) => place.push(format!("row {row}")),
            (None, _) => {},
        }
        if !place.is_empty() {
            write!(f, " ({})", place.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for AvroError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Polars refusing what this crate built is a bug of this crate, not of the data.
impl From<polars_core::prelude::PolarsError> for AvroError {
    fn from(err: polars_core::prelude::PolarsError) -> Self {
        Self::internal(format!("internal error, please report it: Polars refused a column polars-avro built: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use super::*;

    #[test]
    fn a_damaged_block_of_a_file_has_a_way_out_and_other_errors_none() {
        let damaged = AvroError::decode("expected a union branch").in_file("x.avro").in_block(3);
        assert!(damaged.way_out().unwrap().contains("ignore_errors=True"));
        assert!(damaged.way_out().unwrap().contains("polars-avro repair"));
        // A message's datum (no block), a damaged block's place unknown, a schema's fault: none.
        assert_eq!(AvroError::decode("x").in_file("x.avro").way_out(), None);
        assert_eq!(AvroError::decode("x").in_block(3).way_out(), None);
        assert_eq!(AvroError::new(ErrorKind::Schema, "x").in_file("x.avro").in_block(3).way_out(), None);
    }

    #[test]
    fn an_io_error_is_kept_as_the_source() {
        let err = AvroError::io(std::io::Error::new(std::io::ErrorKind::NotFound, "gone"), "could not open 'x'");
        assert_eq!(err.kind, ErrorKind::NotFound);
        for err in [err.clone(), err] {
            let source = err.source().and_then(|s| s.downcast_ref::<std::io::Error>()).expect("the io error");
            assert_eq!((source.kind(), source.to_string()), (std::io::ErrorKind::NotFound, "gone".to_string()));
        }
        assert!(AvroError::decode("bad record").source().is_none());
    }

    #[cfg(unix)]
    #[test]
    fn memory_the_system_refused_is_no_failure_to_read() {
        let refused = std::io::Error::from_raw_os_error(libc::ENOMEM);
        assert_eq!(AvroError::io(refused, "could not map the file").kind, ErrorKind::OutOfMemory);
        assert_eq!(AvroError::io(std::io::Error::other("reset"), "read").kind, ErrorKind::Io);
    }

    #[test]
    fn an_io_error_carrying_an_avro_error_is_that_error() {
        let err = AvroError::io(std::io::Error::other(AvroError::decode("bad record").at_offset(7)), "read");
        assert_eq!((err.kind, err.offset, err.message.as_str()), (ErrorKind::Decode, Some(7), "bad record"));
    }

    #[test]
    fn the_message_is_followed_by_every_place_known() {
        let base = || AvroError::decode("bad record");
        let mut row_only = base();
        row_only.row = Some(4);
        let cases = [
            (base(), "bad record"),
            (base().in_file("f.avro"), "bad record (file 'f.avro')"),
            (base().at_offset(12).in_block(3), "bad record (block 3, byte offset 12)"),
            (
                base().at_offset(12).in_block(3).in_split(Some(4096)).in_file("f.avro"),
                "bad record (file 'f.avro', split from byte 4096, block 3, byte offset 12)",
            ),
            (base().in_split(None).in_file("f"), "bad record (file 'f')"),
            (base().at_batch_row(2, 10), "bad record (row 2 of a batch of 10)"),
            (row_only, "bad record (row 4)"),
        ];
        for (error, shown) in cases {
            assert_eq!(error.to_string(), shown);
        }
    }

    #[test]
    fn the_innermost_place_given_first_is_kept() {
        let err = AvroError::format("x").in_file("inner").in_file("outer").in_block(1).in_block(2);
        let err = err.at_offset(5).at_offset(9).in_split(Some(100)).in_split(Some(200));
        assert_eq!(
            (err.file.as_deref(), err.block, err.offset, err.split_start),
            (Some("inner"), Some(1), Some(5), Some(100))
        );
        // No split said: a later call may still say one.
        assert_eq!(AvroError::format("x").in_split(None).in_split(Some(7)).split_start, Some(7));
    }

    #[test]
    fn each_constructor_gives_its_kind_and_only_bad_bytes_are_damage() {
        let cases = [
            (AvroError::format("m"), ErrorKind::Format, true),
            (AvroError::codec("m"), ErrorKind::Codec, true),
            (AvroError::decode("m"), ErrorKind::Decode, true),
            (AvroError::schema("m"), ErrorKind::Schema, false),
            (AvroError::schema_mismatch("m"), ErrorKind::SchemaMismatch, false),
            (AvroError::argument("m"), ErrorKind::Argument, false),
            (AvroError::column_not_found("m"), ErrorKind::ColumnNotFound, false),
            (AvroError::duplicate("m"), ErrorKind::Duplicate, false),
            (AvroError::schema_field_not_found("m"), ErrorKind::SchemaFieldNotFound, false),
            (AvroError::option_conflict("m"), ErrorKind::OptionConflict, false),
            (AvroError::encode("m"), ErrorKind::Encode, false),
            (AvroError::capacity("m"), ErrorKind::Capacity, false),
            (AvroError::internal("m"), ErrorKind::Internal, false),
            (AvroError::io(std::io::Error::other("reset"), "m"), ErrorKind::Io, false),
        ];
        for (error, kind, damage) in cases {
            assert_eq!((error.kind, error.is_damage()), (kind, damage), "{error}");
        }
        let stopped = AvroError::interrupted();
        assert_eq!(
            (stopped.kind, stopped.message.as_str(), stopped.is_damage()),
            (ErrorKind::Interrupted, "interrupted", false)
        );
    }

    #[test]
    fn an_io_error_says_what_failed_then_why() {
        let denied = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "no rights");
        let err = AvroError::io(denied, "could not open 'x'");
        assert_eq!((err.kind, err.message.as_str()), (ErrorKind::PermissionDenied, "could not open 'x': no rights"));
        let polars = polars_core::prelude::PolarsError::ComputeError("bad".into());
        let err = AvroError::from(polars);
        assert_eq!(err.kind, ErrorKind::Internal);
        assert!(err.message.starts_with("internal error, please report it: "), "{err}");
        assert!(err.message.ends_with("bad"), "{err}");
    }
}
