//! What a read with `ignore_errors` leaves out, and why.

use crate::error::AvroError;

/// A damaged block left out: the error (its kind, message, file, block index and byte
/// offset) and the records lost with it.
#[derive(Debug, Clone)]
pub struct SkippedData {
    /// Why the block was left out, and where it is.
    pub error: AvroError,
    /// The block's record count; None when its framing was broken, so that the count
    /// it claims cannot be trusted.
    pub records: Option<usize>,
}
