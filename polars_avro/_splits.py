"""plan_splits and read_split: files divided into byte ranges for a cluster engine's tasks.

A split names its files by path or URL and carries what reading them needs from their
headers (schema, codec, sync marker: a :class:`SplitFile` each, made in Rust), the reader
schema every split reads into and the hive partition values, so a worker reads no header
and needs no listing. It carries no credentials: each worker passes its own
``storage_options``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import polars as pl

from polars_avro import _internal
from polars_avro._internal import SplitFile
from polars_avro._options import ScanOptions, column_names
from polars_avro._scan import Scan
from polars_avro._skipped import SkippedBlock, warn
from polars_avro._sources import AvroSource, RemoteOptions, named
from polars_avro._stats import record_skipped_block
from polars_avro.exceptions import AvroArgumentError

#: Bytes per split when the caller does not say: Spark's default partition size.
DEFAULT_TARGET_BYTES = 128 << 20


@dataclass(frozen=True, eq=False)
class AvroSplit:
    """A unit of work for one task: parts of one large file, or several small files.

    Picklable and free of credentials. Read it with :func:`read_split`. ``schema`` is the
    Polars schema every split of the plan reads into.
    """

    #: Its position among the plan's splits: reading them in this order gives the files' rows in order.
    index: int
    files: tuple[SplitFile, ...]
    #: The hive partition values of its files, one row per file (None without partitions).
    partition_values: pl.DataFrame | None
    #: How the plan's splits are read (the scan options, without storage options).
    _options: ScanOptions
    #: The scan's plan: the schema every split reads into and the columns that gives.
    _plan: _internal.ScanPlan

    @property
    def bytes(self) -> int:
        """Bytes of the files' ranges: the split's share of the data."""
        return sum(f.end - f.start for f in self.files)

    @property
    def schema(self) -> pl.Schema:
        """The columns the split's frames have (before a ``columns`` selection)."""
        return self._plan.schema

    def _scan(self, storage_options: Mapping[str, Any] | None, **overrides: Any) -> Scan:
        options = replace(self._options, storage_options=storage_options, **overrides)
        remote = RemoteOptions.of(storage_options, options.retries)
        planned = _internal.split_scan(
            self._plan,
            list(self.files),
            self.partition_values,
            options,
            storage_options=remote.storage_options,
            retries=remote.retries,
        )
        return Scan.of_split(planned)

    def __repr__(self) -> str:
        first = self.files[0].path if self.files else "no file"
        more = f" and {len(self.files) - 1} more" if len(self.files) > 1 else ""
        return f"AvroSplit({self.index}: {first}{more}, {self.bytes:,} bytes)"


def plan_splits(
    source: AvroSource,
    *,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    glob: bool = True,
    hidden_file_prefix: str | Sequence[str] | None = None,
    reader_schema: str | Mapping[str, Any] | None = None,
    schema_from: Literal["first", "all"] = "first",
    missing_columns: Literal["insert", "raise"] = "raise",
    extra_columns: Literal["ignore", "raise"] = "raise",
    allow_missing_columns: bool = False,
    include_file_paths: str | None = None,
    hive_partitioning: bool | None = None,
    hive_schema: Mapping[str, Any] | None = None,
    try_parse_hive_dates: bool = True,
    ignore_errors: bool = False,
    files_in_flight: int | None = None,
) -> list[AvroSplit]:
    """Divide Avro files into splits of about ``target_bytes``, for a cluster's tasks.

    Every file's header is read once, here (several at once). A file larger than
    ``target_bytes`` becomes several splits, byte ranges of the file, each owning the
    blocks whose sync marker begins in its range (the rule of Hadoop's and Spark's Avro
    readers); smaller files are grouped, in order, into one split until it holds
    ``target_bytes``. Reading every split (:func:`read_split`) gives every record once,
    and in the order of the splits, the files' order. The schema every split reads into
    is decided here, as :func:`scan_avro` decides it (``schema_from``).

    Parameters
    ----------
    source
        As for :func:`scan_avro`, but paths and URLs only: a split names its files, so
        bytes and file objects cannot be split.
    target_bytes
        Bytes per split (default 128 MiB, Spark's partition size). Smaller splits give
        more tasks; a split smaller than a block holds that block or none.
    storage_options, retries
        How the files are reached here; they are not kept in the splits (each
        :func:`read_split` passes its own).
    glob, hidden_file_prefix, reader_schema, schema_from, missing_columns, extra_columns
        As for :func:`scan_avro`.
    allow_missing_columns, include_file_paths
        As for :func:`scan_avro`.
    hive_partitioning, hive_schema, try_parse_hive_dates, files_in_flight
        As for :func:`scan_avro`.
    ignore_errors
        Leave files whose header is damaged out of the plan (each reported as an
        :class:`AvroDataSkippedWarning`), and let :func:`read_split` skip damaged blocks.

    Returns
    -------
    list[AvroSplit]
        In file order; picklable, without credentials.

    Examples
    --------
    >>> import polars_avro
    >>> splits = polars_avro.plan_splits(polars_avro.sample_file(), target_bytes=4096)
    >>> len(splits)
    5
    >>> sum(df.height for split in splits for df in polars_avro.read_split(split))
    2000
    """
    options = ScanOptions.of(locals())
    remote = options.remote(source)
    # Listing, partition values, headers and sizes, the plan and the splits: one call into Rust.
    plan, planned, damaged = _internal.plan_splits(
        named(source, glob=glob, remote=remote),
        options,
        storage_options=remote.storage_options,
        retries=remote.retries,
        target_bytes=target_bytes,
        reader_schema=options.reader_schema_json,
    )
    for report in damaged:
        skipped = SkippedBlock.from_reader(report)
        record_skipped_block(skipped.records)
        warn(skipped)
    stored = replace(options, storage_options=None)
    return [AvroSplit(index, tuple(files), values, stored, plan) for index, (files, values) in enumerate(planned)]


def read_split(
    split: AvroSplit,
    *,
    columns: str | Sequence[str] | None = None,
    predicate: pl.Expr | None = None,
    n_rows: int | None = None,
    batch_size: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    n_threads: int | None = None,
) -> Iterator[pl.DataFrame]:
    """Read one split's records, batch by batch, with the pushdown of :func:`scan_avro`.

    Decoding runs in Rust with the GIL released, in parallel over the split's blocks.

    Parameters
    ----------
    split
        One of :func:`plan_splits`'s splits.
    columns
        Only these columns (names of ``split.schema``, or one name), in this order; others are not decoded.
    predicate
        Keep only the rows where this expression is true: its columns are decoded first,
        the others only for the rows that pass; a filter on partition columns skips
        whole files.
    n_rows
        At most this many rows (after the predicate).
    batch_size
        Rows per frame (whole blocks are grouped until a frame holds this many).
    storage_options
        As for :func:`scan_avro`: the worker's own credentials for object stores.
    n_threads
        Decoding threads (default: Polars' thread count).

    Yields
    ------
    DataFrame
        Batches of the columns of ``columns`` (by default ``split.schema``'s); at least
        one, empty when the split holds no row, so a task always has its columns.
    """
    if not isinstance(split, AvroSplit):
        msg = f"read_split takes an AvroSplit from plan_splits, found {type(split).__name__}"
        raise AvroArgumentError(msg)
    if n_rows is not None:
        _internal.check_whole_number("n_rows", n_rows, 0)
    if batch_size is not None:
        _internal.check_counts(batch_size=batch_size)
    overrides = {} if n_threads is None else {"n_threads": n_threads}
    scan = split._scan(storage_options, **overrides)
    names = list(scan.schema) if columns is None else scan.plan.project(column_names(columns))
    if n_rows == 0:
        yield pl.DataFrame(schema=scan.schema).select(names)
        return
    yield from scan.frames(names, predicate, n_rows, batch_size)
