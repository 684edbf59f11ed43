"""Read statistics.

What the reads inside a ``with polars_avro.read_stats()`` block did and where their time went.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class ReadStats:
    """Counters added up over every file read while the collector was active.

    Decompression and decoding times are summed over the decoding threads, so with
    several threads they can exceed the wall time; I/O and waiting are the reading
    thread's own.
    """

    #: Files read.
    files: int = 0
    #: Of those, files counted without being opened: an earlier read in this process walked
    #: the same version of them (same path, size and modification time, or the same ETag)
    #: and remembered how many records they hold.
    files_known: int = 0
    #: Headers read, by scans being created (the first file's, or every file's with
    #: ``schema_from="all"``) and by reads. A scan reads each file's header once: its reads
    #: read none that its creation read, unless the file changed since (nor one an earlier
    #: read of this process read, of the same version of the file).
    headers_read: int = 0
    #: Files not opened at all: a filter on their partition values or path ruled out all their rows.
    files_skipped: int = 0
    #: Damaged blocks left out by ``ignore_errors=True``.
    blocks_skipped: int = 0
    #: Records lost with them, where their framing told (see ``SkippedBlock.records``).
    records_skipped: int = 0
    #: Avro blocks read.
    blocks: int = 0
    #: Of those, blocks whose framing (record count, size, sync marker) the decoding
    #: threads found ahead of the reading thread, in local files they map ahead.
    blocks_framed_ahead: int = 0
    #: Batches decoded (runs of blocks decoded together, one task each).
    batches: int = 0
    #: Records read, counted before any filter.
    rows: int = 0
    #: Batches whose filter (a part of it) Polars evaluated, in Python: none where the
    #: reader evaluates the whole filter itself, on its own threads (docs/reading.md says
    #: which filters it takes).
    batches_filtered_in_python: int = 0
    #: Parts of the queries' filters (joined by ``&``) the reader left to Polars: none where
    #: it evaluates a query's whole filter itself (docs/reading.md says which it takes).
    filters_left: int = 0
    #: Compressed block bytes read.
    bytes_read: int = 0
    #: Requests made to object stores for files' headers and blocks, by scans being created
    #: and by reads (an object of at most 256 KiB fetched whole when the scan was created is
    #: not asked for again); listing a folder's objects is not counted.
    requests: int = 0
    #: Seconds spent reading blocks from the source.
    io_seconds: float = 0.0
    #: Seconds spent decompressing blocks.
    decompress_seconds: float = 0.0
    #: Seconds spent decoding records into columns (and evaluating pushed-down filters).
    decode_seconds: float = 0.0
    #: Seconds the reading thread waited for decoded batches.
    wait_seconds: float = 0.0
    #: The most blocks read ahead and not yet handed out, in any one read.
    peak_blocks_in_flight: int = 0
    #: The most compressed bytes read ahead and not yet handed out, in any one read.
    peak_bytes_in_flight: int = 0
    #: The most decoding threads a read used.
    threads: int = 0

    def add_skipped_block(self, records: int | None) -> None:
        self.blocks_skipped += 1
        self.records_skipped += records or 0

    def _add(self, read_stats: dict[str, Any]) -> None:
        # The counters of one read, named by the Rust core (_internal.READ_STATS_FIELDS).
        for name, value in read_stats.items():
            current = getattr(self, name)
            peak = name.startswith("peak_") or name == "threads"
            setattr(self, name, max(current, value) if peak else current + value)


_lock = threading.Lock()
_collectors: list[ReadStats] = []
#: Who hears how far running reads have got (``read_stats(progress=...)``).
progress_listeners: list[Callable[[dict[str, Any]], None]] = []


@contextmanager
def read_stats(progress: Callable[[ReadStats], None] | None = None) -> Iterator[ReadStats]:
    """Collect the statistics of every Avro read made while the block runs.

    Reads run on Polars' threads (a lazy query, the streaming engine) count too, as do
    reads from other threads of the program while the block is active.

    Parameters
    ----------
    progress
        Called after each batch of a running read with that read's counters so far (a
        progress bar's: ``bytes_read``, ``files``, ``rows``), on the thread that reads.

    Examples
    --------
    >>> import polars_avro
    >>> with polars_avro.read_stats() as stats:
    ...     df = polars_avro.read_avro(polars_avro.sample_file())
    >>> stats.rows == df.height, stats.files
    (True, 1)
    """
    stats = ReadStats()
    listener = None if progress is None else _progress_listener(progress)
    with _lock:
        _collectors.append(stats)
        if listener is not None:
            progress_listeners.append(listener)
    try:
        yield stats
    finally:
        with _lock:
            _collectors.remove(stats)
            if listener is not None:
                progress_listeners.remove(listener)


def _progress_listener(progress: Callable[[ReadStats], None]) -> Callable[[dict[str, Any]], None]:
    def heard(counters: dict[str, Any]) -> None:
        running = ReadStats()
        running._add(counters)
        progress(running)

    return heard


def record_skipped_block(records: int | None) -> None:
    """Counts a damaged block left out."""
    with _lock:
        for collector in _collectors:
            collector.add_skipped_block(records)


def record(read_stats: dict[str, Any]) -> None:
    """Adds one finished read to every active collector."""
    with _lock:
        for collector in _collectors:
            collector._add(read_stats)


def report_progress(read_stats: Callable[[], dict[str, Any]]) -> None:
    """Tells the progress listeners, if any, how far a read has got (`read_stats` is only asked then)."""
    if not progress_listeners:
        return
    counters = read_stats()
    with _lock:
        listeners = list(progress_listeners)
    for listener in listeners:
        listener(counters)
