//! What a read did and where its time went, for users tuning their reads and for us.

use std::fmt;
use std::time::Duration;

/// Counters of one read. Decompression and decoding times are
/// summed over the decoding threads; I/O and waiting are the reading thread's own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadStats {
    /// Files read (those whose header was damaged and left out included).
    pub files: usize,
    /// Of those, files only counted and not opened: an earlier read of this process walked
    /// the same version of them to its end and remembered its record count.
    pub files_known: usize,
    /// Files not opened at all: a filter on their partition values or path ruled out all
    /// their rows (see [`ScanFile::ruled_out`]).
    ///
    /// [`ScanFile::ruled_out`]: super::ScanFile::ruled_out
    pub files_skipped: usize,
    /// Headers read by the read itself: none of a file whose header planning the scan, or
    /// an earlier read of the same version of it, read (a scan reads each header once).
    pub headers_read: usize,
    /// Avro blocks read.
    pub blocks: usize,
    /// Of those, blocks whose framing the pool found ahead of the reading thread.
    pub blocks_framed_ahead: usize,
    /// Batches produced (each a run of blocks decoded together).
    pub batches: usize,
    /// Records read, before any predicate.
    pub rows: usize,
    /// Batches whose predicate (a part of it) Polars evaluated, called back in Python: none
    /// where the reader evaluates the whole predicate itself (see [`crate::filter`]).
    pub batches_filtered_in_python: usize,
    /// Parts of the query's filters (joined by `&`) that the reader left to Polars: none
    /// where it evaluates them all itself (see [`crate::filter::split`]).
    pub filters_left: usize,
    /// Compressed block bytes read from the source.
    pub bytes_read: u64,
    /// Requests made to object stores (objects of at most 256 KiB fetched whole when the
    /// scan was created make none).
    pub requests: u64,
    /// Time reading blocks from the source.
    pub io: Duration,
    /// Time decompressing blocks.
    pub decompress: Duration,
    /// Time decoding records into columns (the predicate included).
    pub decode: Duration,
    /// Time the reading thread waited for a decoded batch.
    pub wait: Duration,
    /// The most blocks read ahead and not yet handed out.
    pub peak_blocks_in_flight: usize,
    /// The most compressed bytes read ahead and not yet handed out.
    pub peak_bytes_in_flight: usize,
    /// Decoding threads used (1: everything on the reading thread).
    pub threads: usize,
}

/// One counter of [`ReadStats`], as it crosses to Python.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StatValue {
    /// A count.
    Count(u64),
    /// A time, in seconds.
    Seconds(f64),
}

impl ReadStats {
    /// Every counter by the name Python's `ReadStats` gives it: the one list of them.
    pub fn entries(&self) -> [(&'static str, StatValue); 19] {
        let count = |n: usize| StatValue::Count(n as u64);
        let seconds = |d: Duration| StatValue::Seconds(d.as_secs_f64());
        [
            ("files", count(self.files)),
            ("files_known", count(self.files_known)),
            ("files_skipped", count(self.files_skipped)),
            ("headers_read", count(self.headers_read)),
            ("blocks", count(self.blocks)),
            ("blocks_framed_ahead", count(self.blocks_framed_ahead)),
            ("batches", count(self.batches)),
            ("rows", count(self.rows)),
            ("batches_filtered_in_python", count(self.batches_filtered_in_python)),
            ("filters_left", count(self.filters_left)),
            ("bytes_read", StatValue::Count(self.bytes_read)),
            ("requests", StatValue::Count(self.requests)),
            ("io_seconds", seconds(self.io)),
            ("decompress_seconds", seconds(self.decompress)),
            ("decode_seconds", seconds(self.decode)),
            ("wait_seconds", seconds(self.wait)),
            ("peak_blocks_in_flight", count(self.peak_blocks_in_flight)),
            ("peak_bytes_in_flight", count(self.peak_bytes_in_flight)),
            ("threads", count(self.threads)),
        ]
    }
}

impl fmt::Display for ReadStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{} rows of {} files in {} blocks ({} batches, {} bytes, {} requests) on {} threads; io {:.1} ms, \
             decompress {:.1} ms, decode {:.1} ms, wait {:.1} ms; at most {} blocks ({} bytes) in flight",
            self.rows,
            self.files,
            self.blocks,
            self.batches,
            self.bytes_read,
            self.requests,
            self.threads,
            ms(self.io),
            ms(self.decompress),
            ms(self.decode),
            ms(self.wait),
            self.peak_blocks_in_flight,
            self.peak_bytes_in_flight,
        )
    }
}

/// Whether Polars' verbose logging is on (POLARS_VERBOSE=1).
pub fn verbose() -> bool {
    std::env::var("POLARS_VERBOSE").is_ok_and(|v| v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats() -> ReadStats {
        ReadStats {
            files: 1,
            files_known: 2,
            files_skipped: 13,
            headers_read: 12,
            blocks: 3,
            blocks_framed_ahead: 4,
            batches: 5,
            rows: 6,
            batches_filtered_in_python: 14,
            filters_left: 15,
            bytes_read: 7,
            requests: 8,
            io: Duration::from_millis(1500),
            decompress: Duration::from_millis(250),
            decode: Duration::from_micros(12_345),
            wait: Duration::ZERO,
            peak_blocks_in_flight: 9,
            peak_bytes_in_flight: 10,
            threads: 11,
        }
    }

    #[test]
    fn every_counter_is_its_own_entry_under_its_python_name() {
        use StatValue::{Count, Seconds};
        let expected = [
            ("files", Count(1)),
            ("files_known", Count(2)),
            ("files_skipped", Count(13)),
            ("headers_read", Count(12)),
            ("blocks", Count(3)),
            ("blocks_framed_ahead", Count(4)),
            ("batches", Count(5)),
            ("rows", Count(6)),
            ("batches_filtered_in_python", Count(14)),
            ("filters_left", Count(15)),
            ("bytes_read", Count(7)),
            ("requests", Count(8)),
            ("io_seconds", Seconds(1.5)),
            ("decompress_seconds", Seconds(0.25)),
            ("decode_seconds", Seconds(0.012345)),
            ("wait_seconds", Seconds(0.0)),
            ("peak_blocks_in_flight", Count(9)),
            ("peak_bytes_in_flight", Count(10)),
            ("threads", Count(11)),
        ];
        assert_eq!(stats().entries(), expected);
    }

    #[test]
    fn the_summary_gives_counts_and_milliseconds() {
        assert_eq!(
            stats().to_string(),
            "6 rows of 1 files in 3 blocks (5 batches, 7 bytes, 8 requests) on 11 threads; io 1500.0 ms, \
             decompress 250.0 ms, decode 12.3 ms, wait 0.0 ms; at most 9 blocks (10 bytes) in flight"
        );
    }
}
