"""scan_avro, read_avro, read_avro_schema and read_avro_header."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

import polars as pl

from polars_avro import _internal
from polars_avro._engine import lazy_frame
from polars_avro._hive import HivePartitions, conjuncts, reads_only, ruled_out
from polars_avro._skipped import SkippedBlock, warn
from polars_avro._sources import AvroSource, RemoteOptions, Sources, expand_sources, is_directory
from polars_avro._stats import record as record_stats
from polars_avro._stats import record_skipped, record_skipped_block
from polars_avro._types import IMPORTS_CHUNKS, FrameSchema, without_columns
from polars_avro.exceptions import AvroArgumentError, AvroCapacityError, AvroSchemaMismatchError, check_n_threads

_MASK = "__polars_avro_predicate_mask"


def _index_type() -> pl.DataType:
    get = getattr(pl, "get_index_type", None)
    return get() if get is not None else pl.UInt32()


@dataclass(frozen=True)
class ScanOptions:
    """Everything a scan is told besides its source: the keyword arguments of scan_avro.

    Each entry point builds one from its own arguments (:meth:`of`), checked here once.
    """

    n_rows: int | None = None
    row_index_name: str | None = None
    row_index_offset: int = 0
    include_file_paths: str | None = None
    glob: bool = True
    batch_size: int | None = None
    n_threads: int | None = None
    reader_schema: str | Mapping[str, Any] | None = None
    missing_columns: str = "raise"
    allow_missing_columns: bool = False
    storage_options: Mapping[str, Any] | None = None
    retries: int = 2
    hive_partitioning: bool | None = None
    hive_schema: Mapping[str, Any] | None = None
    try_parse_hive_dates: bool = True
    ignore_errors: bool = False
    files_in_flight: int | None = None

    @classmethod
    def of(cls, arguments: Mapping[str, Any]) -> ScanOptions:
        """The options among an entry point's arguments (its ``locals()``)."""
        return cls(**{f.name: arguments[f.name] for f in fields(cls) if f.name in arguments})

    def __post_init__(self) -> None:
        check_n_threads(self.n_threads)
        if self.n_rows is not None and self.n_rows < 0:
            msg = f"n_rows must not be negative, found {self.n_rows}"
            raise AvroArgumentError(msg)
        if self.row_index_offset < 0:
            msg = f"row_index_offset must not be negative, found {self.row_index_offset}"
            raise AvroArgumentError(msg)
        if self.files_in_flight is not None and (isinstance(self.files_in_flight, bool) or self.files_in_flight < 1):
            msg = f"files_in_flight must be at least 1, found {self.files_in_flight!r}"
            raise AvroArgumentError(msg)
        if self.missing_columns not in ("raise", "insert"):
            msg = f"missing_columns must be 'raise' or 'insert', found {self.missing_columns!r}"
            raise AvroArgumentError(msg)

    @property
    def insert_missing(self) -> bool:
        """Whether a column some files lack reads as nulls there."""
        return self.allow_missing_columns or self.missing_columns == "insert"


def _ignore_stats(read_stats: dict[str, Any]) -> None:
    """Hears of a finished read and does nothing (read_stats() counts it anyway)."""


@dataclass(frozen=True)
class ScanPlan:
    """What a scan learns of its files before reading them.

    The hive partitions, the schema every file is read into (the user's, the files'
    unified one, or None: every file's own) and the columns that gives.
    """

    hive: HivePartitions | None
    reader_schema: str | None
    columns: list[tuple[str, str]]


class _AvroScan:
    """The sources and options of one scan, and the batches it reads.

    ``on_stats`` hears of every finished read (besides the ``read_stats()``
    collectors) and ``on_skipped`` of every block ``ignore_errors`` left out: by default
    nobody, and a warning; AvroReader keeps both itself. A caller that expanded the
    sources or read the writer schemas already passes them (``expanded``,
    ``writer_schemas``). A split's scan comes with its files and plan made
    (:meth:`planned`), and reads the parts ``ranges`` names.
    """

    def __init__(
        self,
        source: AvroSource,
        options: ScanOptions,
        *,
        on_stats: Callable[[dict[str, Any]], None] = _ignore_stats,
        on_skipped: Callable[[SkippedBlock], None] = warn,
        expanded: Sources | None = None,
        writer_schemas: list[str | None] | None = None,
    ) -> None:
        self.options = options
        self.on_stats = on_stats
        self.on_skipped = on_skipped
        self.ranges: list[tuple[Any, ...]] | None = None
        if expanded is None:
            remote = RemoteOptions.of(options.storage_options, options.retries)
            expanded = expand_sources(source, glob=options.glob, remote=remote)
        self.sources = expanded
        hive_partitioning = options.hive_partitioning
        if hive_partitioning is None:
            # As scan_parquet: on by default for a directory.
            hive_partitioning = is_directory(source)
        hive = None
        if hive_partitioning:
            hive = HivePartitions.of(
                self.sources, hive_schema=options.hive_schema, try_parse_dates=options.try_parse_hive_dates
            )
        reader_schema = options.reader_schema
        if reader_schema is None:
            reader_schema, columns = self._file_columns(insert_missing=options.insert_missing, schemas=writer_schemas)
        else:
            if not isinstance(reader_schema, str):
                reader_schema = json.dumps(reader_schema)
            columns = _internal.describe_schema(reader_schema)
        self._apply(ScanPlan(hive, reader_schema, columns))

    @classmethod
    def planned(
        cls, sources: Sources, options: ScanOptions, plan: ScanPlan, ranges: list[tuple[Any, ...]]
    ) -> _AvroScan:
        """The scan of a split, its files and plan made when splits were planned.

        ``ranges`` names the part of each file to read (``_internal.ScanReader``'s ``splits``).
        """
        scan = cls.__new__(cls)
        scan.options, scan.on_stats, scan.on_skipped = options, _ignore_stats, warn
        scan.sources, scan.ranges = sources, ranges
        scan._apply(plan)
        return scan

    def _apply(self, plan: ScanPlan) -> None:
        self.plan = plan
        self.hive = plan.hive
        self.reader_schema = plan.reader_schema
        self.file_schema = FrameSchema(plan.columns)
        self.schema = self._output_schema()

    @property
    def label(self) -> str:
        """The scan's name in a query plan: its first source, and how many others follow."""
        items = self.sources.items
        first = self.sources.name(items[0])
        return first if len(items) == 1 else f"{first} and {len(items) - 1} more"

    def _output_schema(self) -> pl.Schema:
        columns: list[tuple[str, pl.DataType]] = []
        if self.options.row_index_name is not None:
            columns.append((self.options.row_index_name, _index_type()))
        # A partition column the files also hold keeps its place and takes the path's values.
        hive = self.hive.schema if self.hive is not None else pl.Schema()
        file_schema = self.file_schema.schema
        columns.extend((name, hive.get(name, dtype)) for name, dtype in file_schema.items())
        columns.extend((name, dtype) for name, dtype in hive.items() if name not in file_schema)
        if self.options.include_file_paths is not None:
            columns.append((self.options.include_file_paths, pl.String()))
        names = [n for n, _ in columns]
        for extra in (self.options.row_index_name, self.options.include_file_paths):
            if extra is not None and names.count(extra) > 1:
                msg = f"the column name '{extra}' is already a column of the file"
                raise AvroArgumentError(msg)
        return pl.Schema(columns)

    def batches(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        limit: int | None,
        batch_size: int | None,
        *,
        records: int | None = None,
        skip: int = 0,
        join: int = 1,
    ) -> Iterator[pl.DataFrame]:
        """Batches of the columns `with_columns`, filtered by `predicate`, `limit` rows at most.

        `records` caps the records read before the predicate (as ``n_rows`` does), of which
        the first `skip` are left out (a slice's offset; only without a predicate). The
        columns come in schema order, the order Polars expects from a source. The Rust
        reader reads every file: their partition values and paths come with the batches.
        Up to `join` batches come as one frame (an eager read wants them all at once).
        """
        wanted = set(self.schema) if with_columns is None else set(with_columns)
        order = [c for c in self.schema if c in wanted]
        # Predicate parts that read only partition columns rule out whole files. With an
        # n_rows or a row index (both count records before the filter) such files are
        # still read, without decoding, to count their records.
        if predicate is None and limit is not None:
            # Without a filter the query's limit is a record limit: reading stops there.
            records = limit if records is None else min(records, limit)
        # Records before the predicate, across files.
        n_rows = min((n for n in (self.options.n_rows, records) if n is not None), default=None)
        by_file = self.hive is not None or self.options.include_file_paths is not None
        parts = conjuncts(predicate) if predicate is not None and by_file else []
        values = self._file_values() if parts else None
        out = ruled_out(parts, values) if values is not None else [False] * len(self.sources.items)
        if values is not None and all(reads_only(p, values.columns) for p in parts):
            # Every part reads only what a file's rows share: the files kept pass it whole,
            # so a count behind a partition filter still needs no block decoded.
            predicate = None
        counted = n_rows is not None or self.options.row_index_name is not None
        kept = [i for i, is_out in enumerate(out) if counted or not is_out]
        for _ in range(len(out) - len(kept)):
            record_skipped()
        if not kept:
            return
        reader = _internal.ScanReader(
            [Sources.opened(self.sources.items[i]) for i in kept],
            columns=order,
            n_rows=n_rows,
            skip_rows=skip,
            batch_size=self.options.batch_size or batch_size,
            row_index=(self.options.row_index_name, self.options.row_index_offset)
            if self.options.row_index_name is not None
            else None,
            file_path_column=self.options.include_file_paths,
            partitions=self.hive.values[kept] if self.hive is not None and self.hive.values.width else None,
            count_only=[out[i] for i in kept] if any(out) else None,
            predicate=(predicate.meta.root_names(), self._mask_function(predicate)) if predicate is not None else None,
            n_threads=self.options.n_threads,
            reader_schema=self.reader_schema,
            ignore_errors=self.options.ignore_errors,
            files_in_flight=self.options.files_in_flight,
            splits=[self.ranges[i] for i in kept] if self.ranges is not None else None,
        )
        out_left = limit  # rows after the predicate
        # Frames of no column (counts) are only heights, added up by the caller: their sum
        # must fit in one Polars frame.
        height, most = 0, _most_rows() if not order else None
        try:
            while (batch := reader.next_batch(join)) is not None:
                self._report_skipped(reader)
                df = self._to_schema(*batch)
                if most is not None:
                    height += df.height
                    if height > most:
                        msg = f"'{self.label}' holds more than {most:,} records, the most rows a Polars frame can hold"
                        raise AvroCapacityError(msg)
                if out_left is not None:
                    df = df.head(out_left)
                    out_left -= df.height
                yield df
                if out_left == 0:
                    return
        finally:
            # Also when the consumer stops early (a head, an error downstream).
            stats = reader.stats()
            record_stats(stats)
            self.on_stats(stats)
            self._report_skipped(reader)

    def frames(
        self,
        names: list[str],
        predicate: pl.Expr | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
        *,
        join: int = 1,
    ) -> Iterator[pl.DataFrame]:
        """Batches of the columns `names` in that order, as users ask for them.

        `batches` keeps the schema's order, which the Polars engine expects. There is at
        least one: a read of no row gives one empty frame of those columns.
        """
        empty = True
        batches = self.batches(names, predicate, limit, batch_size, join=join)
        try:
            for df in batches:
                empty = False
                # A select is a query of its own (about 0.2 ms): only when the order differs.
                yield df if df.columns == names else df.select(names)
        finally:
            batches.close()  # type: ignore[attr-defined]
        if empty:
            yield pl.DataFrame(schema=self.schema).select(names)

    def _report_skipped(self, reader: _internal.ScanReader) -> None:
        for report in reader.take_skipped():
            skipped = SkippedBlock.from_reader(report)
            record_skipped_block(skipped.records)
            self.on_skipped(skipped)

    def _file_values(self) -> pl.DataFrame:
        """The values every row of a file shares, one row per file.

        Its partition values and its path (when asked for), for ruling files out.
        """
        values = self.hive.values if self.hive is not None else without_columns(len(self.sources.items))
        if self.options.include_file_paths is not None:
            names = [self.sources.name(item) for item in self.sources.items]
            values = values.with_columns(pl.Series(self.options.include_file_paths, names, pl.String))
        return values

    def _to_schema(self, df: pl.DataFrame, height: int) -> pl.DataFrame:
        if df.width == 0:
            return without_columns(height)
        df = self.file_schema.apply(df, keep=self.hive.schema if self.hive is not None else ())
        if self.options.row_index_name is not None and self.options.row_index_name in df.columns:
            df = df.with_columns(pl.col(self.options.row_index_name).cast(_index_type()))
        return df

    def _mask_function(self, predicate: pl.Expr) -> Any:
        mask_expr = predicate.alias(_MASK)

        def evaluate(df: pl.DataFrame) -> pl.Series:
            return self._to_schema(df, df.height).with_columns(mask_expr).get_column(_MASK)

        return evaluate

    def _file_columns(
        self, *, insert_missing: bool, schemas: list[str | None] | None = None
    ) -> tuple[str | None, list[tuple[str, str]]]:
        """The columns the files read into, from their headers, and the reader schema they need.

        None when every file maps to the same Polars schema; else one schema they all
        resolve into (fields of every file, types widened, defaults kept, fields some files
        lack nullable), or an error naming the files and the field. Every header is read, several
        at once, unless the caller read them (`schemas`); each distinct schema is described once.
        """
        items = self.sources.items
        if schemas is None:
            schemas, _ = _internal.read_schemas(
                [Sources.opened(item) for item in items],
                ignore_errors=self.options.ignore_errors,
                files_in_flight=self.options.files_in_flight,
            )
        # Each distinct writer schema in order of first appearance, named by its first file.
        # Files whose header is damaged (ignore_errors) are left out here and reported by the read.
        distinct: dict[str, str] = {}
        for item, schema in zip(items, schemas):
            if schema is not None:
                distinct.setdefault(schema, self.sources.name(item))
        if not distinct:
            # Every header is damaged: no schema to read them into.
            _internal.read_schemas([Sources.opened(items[0])])
        columns = {schema: _internal.describe_schema(schema, file=name) for schema, name in distinct.items()}
        first = next(iter(columns.values()))
        # The same descriptions read into the same schema: only differing ones are compared.
        others = [c for c in columns.values() if c != first]
        if not others or all(FrameSchema(c).schema == FrameSchema(first).schema for c in others):
            return None, first
        unified = _internal.unify_schemas([(name, schema) for schema, name in distinct.items()])
        unified_columns = _internal.describe_schema(unified)
        if not insert_missing:
            _check_missing(distinct, columns, unified_columns)
        return unified, unified_columns


def _check_missing(
    distinct: dict[str, str], columns: dict[str, list[tuple[str, str]]], unified: list[tuple[str, str]]
) -> None:
    """Raises for a column some files lack when no file declares a default for it.

    A default declared by the files that have a field fills it in the others, as the
    specification's schema resolution does; only fields without one need
    missing_columns='insert'. A list, not a dict: bytes and file objects can share a name.
    """
    has = [(name, {c for c, _ in columns[schema]}) for schema, name in distinct.items()]
    with_default = {f["name"] for schema in distinct for f in _top_fields(schema) if "default" in f}
    for name, present in has:
        for column, _ in unified:
            if column not in present and column not in with_default:
                holder = next(n for n, cols in has if column in cols)
                msg = (
                    f"the file '{name}' has no column '{column}', which '{holder}' has: "
                    "pass missing_columns='insert' to read it as nulls there"
                )
                err = AvroSchemaMismatchError(msg)
                err.file = name
                raise err


def _top_fields(schema_json: str) -> list[dict[str, Any]]:
    """The fields of a record schema (none for any other)."""
    schema = json.loads(schema_json)
    return schema.get("fields", []) if isinstance(schema, dict) else []


def scan_avro(
    source: AvroSource,
    *,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    include_file_paths: str | None = None,
    glob: bool = True,
    batch_size: int | None = None,
    n_threads: int | None = None,
    reader_schema: str | Mapping[str, Any] | None = None,
    missing_columns: Literal["insert", "raise"] = "raise",
    allow_missing_columns: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    hive_partitioning: bool | None = None,
    hive_schema: Mapping[str, Any] | None = None,
    try_parse_hive_dates: bool = True,
    ignore_errors: bool = False,
    files_in_flight: int | None = None,
) -> pl.LazyFrame:
    """Lazily read Avro object container files.

    The projection, the predicate and the row limit of the query are pushed into the
    reader: columns nobody asks for are skipped without being decoded, the predicate's
    columns are decoded first and the other columns only for the rows that pass, and
    reading stops as soon as enough rows are out. Works with the streaming engine
    (``collect(engine="streaming")``, ``sink_parquet``).

    Parameters
    ----------
    source
        A path, a glob pattern (``"data/*.avro"``), a directory (every ``.avro`` file in
        it, recursively, in sorted order), a URL of an object store (``s3://``,
        ``gs://``, ``az://``, ``abfs(s)://``, ``http(s)://``, ``file://``; globs and a
        trailing ``/`` for every ``.avro`` object under a prefix work there too, except
        over plain HTTP), a list of these, ``bytes``, or a binary file object. Several
        files are read in order as one frame (see ``missing_columns`` for files whose
        schemas differ).
    n_rows
        Stop after this many records (counted before any filter).
    row_index_name
        Add a first column with this name counting rows (continuous across files).
    row_index_offset
        Where the row index starts.
    include_file_paths
        Add a last column with this name holding each row's source path.
    glob
        Expand ``*``, ``?`` and ``[...]`` in paths.
    batch_size
        Rows per batch handed to Polars (whole Avro blocks are grouped until a batch
        holds at least this many rows). Each batch is decoded as one task.
    n_threads
        Threads decoding batches in parallel. Defaults to Polars' thread count
        (``POLARS_MAX_THREADS``, else one per core); reads asking for the same count
        share one pool, so several scans in one query do not multiply the threads.
        With ``1`` everything happens on the reading thread, with no read-ahead.
    reader_schema
        An Avro schema (JSON text or a dict) to read every file into, by the
        specification's schema resolution: fields matched by name and the reader's
        aliases, fields the writer lacks filled from their defaults, writer fields the
        reader lacks skipped, numbers promoted (int to long, float or double; long to
        float or double; float to double), string and bytes read as each other, enum
        symbols matched by name (else the reader's default). The columns are the reader
        schema's. Files with different writer schemas can then be read together.
    missing_columns
        Files whose writer schemas differ are read into one schema by themselves: every
        field of every file, types widened as the specification allows (int to long to
        double, float to double, string and bytes as string, enum symbols merged), and
        fields some files lack nullable. A top-level column that some file lacks raises
        ``AvroSchemaMismatchError`` with ``"raise"`` (the default, as ``scan_parquet``) and
        reads as nulls in that file with ``"insert"``. Types that cannot be widened raise,
        naming the file and the field. All headers are read when the scan is created.
    allow_missing_columns
        ``True`` is ``missing_columns="insert"``.
    storage_options
        Options of the object store, with the keys ``scan_parquet`` accepts: for S3
        ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``,
        ``aws_region``, ``aws_endpoint_url`` (a plain ``http://`` endpoint is allowed as
        given); for Google Cloud ``google_service_account``,
        ``google_service_account_key``, ``google_application_credentials``; for Azure
        ``azure_storage_account_name``, ``azure_storage_account_key``,
        ``azure_storage_sas_token`` and the other ``azure_`` keys; and client keys such
        as ``timeout`` and ``allow_http``. What is not given comes from the environment
        (``AWS_*``, ``GOOGLE_*``, ``AZURE_*`` variables, instance credentials). An
        unknown key raises ``AvroArgumentError``.
    retries
        How often a failed request to an object store is retried, with exponential
        backoff (a dropped connection resumes where it stopped).
    hive_partitioning
        Read ``key=value`` folder names below the directory or the pattern's first
        wildcard as columns, after the file's columns (a column the files also hold
        takes its values from the path). ``None`` (the default) turns it on when the
        source is a single directory, as ``scan_parquet`` does. A filter on partition
        columns skips whole files without opening them.
    hive_schema
        The types of partition columns (a dict); the others are inferred: Int64,
        Float64, Boolean, then Date and Datetime, else String.
    try_parse_hive_dates
        Infer Date and Datetime partition columns.
    ignore_errors
        Leave damaged blocks out instead of raising: a block whose framing is broken (a
        bad sync marker, a corrupted length or count, a truncated tail; reading goes on
        after the next sync marker), or that fails to decompress or to decode, is left
        out whole, the records before the damage in it included. Each one left out is
        reported as an :class:`AvroDataSkippedWarning` carrying the file, block, byte
        offset, records lost and message (:class:`polars_avro.AvroReader` gives the same
        reports as ``.errors``). A file of several whose header is damaged (a zero-byte
        file, say, as Kafka Connect and Event Hubs Capture leave) is left out whole and
        reported the same way. Errors of the source (I/O, permissions) and of the schema
        still raise.
    files_in_flight
        Files opened and read ahead at once while earlier ones decode (default 16): their
        headers and first blocks arrive together, so many small files, and objects in a
        store (one request each), are read concurrently. At most this many files are open.
        With ``n_rows`` no file is opened before the ones before it are read.

    Returns
    -------
    LazyFrame

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> (
    ...     pl.scan_avro("examples/weather.avro")
    ...     .filter(pl.col("temp") > 30)
    ...     .select("station", "temp")
    ...     .collect()
    ...     .height
    ... )
    30
    """
    return lazy_frame(_AvroScan(source, ScanOptions.of(locals())))


def read_avro(
    source: AvroSource,
    *,
    columns: Sequence[str] | Sequence[int] | None = None,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    include_file_paths: str | None = None,
    glob: bool = True,
    batch_size: int | None = None,
    n_threads: int | None = None,
    reader_schema: str | Mapping[str, Any] | None = None,
    missing_columns: Literal["insert", "raise"] = "raise",
    allow_missing_columns: bool = False,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    hive_partitioning: bool | None = None,
    hive_schema: Mapping[str, Any] | None = None,
    try_parse_hive_dates: bool = True,
    ignore_errors: bool = False,
    files_in_flight: int | None = None,
) -> pl.DataFrame:
    """Read Avro object container files into a DataFrame.

    Parameters
    ----------
    source
        As for :func:`scan_avro`: a path, glob, directory, list of paths, ``bytes`` or a
        binary file object.
    columns
        Columns to read, by name or by index (into the file's columns), in this order.
    n_rows
        Stop after this many records.
    row_index_name, row_index_offset, include_file_paths, glob, batch_size, n_threads
        As for :func:`scan_avro`.
    reader_schema, missing_columns, allow_missing_columns, storage_options, retries
        As for :func:`scan_avro`.
    hive_partitioning, hive_schema, try_parse_hive_dates, ignore_errors, files_in_flight
        As for :func:`scan_avro`.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro("examples/weather.avro", columns=["station", "temp"], n_rows=2)
    shape: (2, 2)
    ┌─────────┬──────┐
    │ station ┆ temp │
    │ ---     ┆ ---  │
    │ enum    ┆ f64  │
    ╞═════════╪══════╡
    │ OSLO    ┆ -4.0 │
    │ LIMA    ┆ 21.0 │
    └─────────┴──────┘
    """
    scan = _AvroScan(source, ScanOptions.of(locals()))
    names = list(scan.schema)
    if columns is not None:
        names = _column_names(scan, list(columns))
    # Batches joined in Rust, their chunks kept: one crossing into Python, not one per batch.
    frames = list(scan.frames(names, join=_JOIN_ALL))
    if not names:
        return without_columns(sum(f.height for f in frames))
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical", rechunk=False)


#: Batches an eager read joins into one frame before it crosses into Python: all of them
#: where Polars takes the chunks as they are.
_JOIN_ALL = 1 << 30 if IMPORTS_CHUNKS else 1


def _most_rows() -> int:
    """The most rows a Polars frame can hold: the largest value of its index type."""
    return 2**32 - 1 if pl.get_index_type() == pl.UInt32 else 2**64 - 1


def _column_names(scan: _AvroScan, columns: list[Any]) -> list[str]:
    extras = (scan.options.row_index_name, scan.options.include_file_paths)
    file_names = [c for c in scan.schema if c not in extras]  # the files' and the partitions'
    if all(isinstance(c, int) for c in columns):
        try:
            columns = [file_names[c] for c in columns]
        except IndexError:
            msg = f"column index out of range: the file has {len(file_names)} columns"
            raise AvroArgumentError(msg) from None
    elif not all(isinstance(c, str) for c in columns):
        msg = "columns must be all names or all indices"
        raise AvroArgumentError(msg)
    missing = [c for c in columns if c not in file_names]
    if missing:
        msg = f"columns not in the file: {missing}; the columns are: {file_names}"
        raise AvroArgumentError(msg)
    first = [scan.options.row_index_name] if scan.options.row_index_name is not None else []
    last = [scan.options.include_file_paths] if scan.options.include_file_paths is not None else []
    return [*first, *columns, *last]


def read_avro_schema(
    source: AvroSource,
    *,
    glob: bool = True,
    reader_schema: str | Mapping[str, Any] | None = None,
    missing_columns: Literal["insert", "raise"] = "raise",
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    hive_partitioning: bool | None = None,
    hive_schema: Mapping[str, Any] | None = None,
    try_parse_hive_dates: bool = True,
    files_in_flight: int | None = None,
    ignore_errors: bool = False,
) -> pl.Schema:
    """The Polars schema the source reads into, from the headers alone.

    The schema :func:`scan_avro` gives with the same arguments (several files whose writer
    schemas differ unified, or the reader schema's columns), partition columns included. The
    arguments are :func:`scan_avro`'s: with ``ignore_errors=True`` files whose header is
    damaged (an empty file, say) are left out, as the scan leaves them out.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro_schema("examples/weather.avro")["temp"]
    Float64
    """
    scan = _AvroScan(source, ScanOptions.of(locals()))
    return scan.schema


@dataclass(frozen=True)
class AvroHeader:
    """What an Avro file's header says."""

    #: The writer schema as parsed JSON.
    schema: Any
    #: The writer schema exactly as stored in the file.
    schema_json: str
    #: The block codec: null, deflate, snappy, zstandard, bzip2 or xz.
    codec: str
    #: Every metadata entry, ``avro.schema`` and ``avro.codec`` included.
    metadata: dict[str, bytes]
    #: The 16-byte sync marker.
    sync_marker: bytes


def read_avro_header(
    source: AvroSource,
    *,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
) -> AvroHeader:
    """The header of an Avro file (the first, for several).

    The raw writer schema, the codec and the user metadata. Of an object in an object store,
    only the first bytes are fetched. ``storage_options`` and ``retries`` are
    :func:`scan_avro`'s.

    Examples
    --------
    >>> import polars_avro
    >>> header = polars_avro.read_avro_header("examples/weather.avro")
    >>> header.codec, header.metadata["example.source"]
    ('deflate', b'polars-avro sample')
    """
    sources = expand_sources(source, remote=RemoteOptions.of(storage_options, retries))
    header = _internal.read_header(Sources.opened(sources.items[0]))
    return AvroHeader(
        schema=json.loads(header["schema_json"]),
        schema_json=header["schema_json"],
        codec=header["codec"],
        metadata=dict(header["metadata"]),
        sync_marker=header["sync_marker"],
    )
