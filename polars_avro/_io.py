"""scan_avro, read_avro, read_avro_schema and read_avro_header: the read functions users call."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from polars_avro import _internal, _polars_bugs
from polars_avro._engine import lazy_frame
from polars_avro._options import ScanOptions, column_names
from polars_avro._origin import remember
from polars_avro._polars_args import (
    OTHER_READERS_REFUSED,
    READ_ALIASES,
    READ_HARMLESS,
    READ_REFUSED,
    CredentialProvider,
    refusing,
)
from polars_avro._scan import Scan
from polars_avro._sources import AvroSource, Item, RemoteOptions, Sources, expand_sources
from polars_avro._types import IMPORTS_CHUNKS, without_columns
from polars_avro.exceptions import AvroArgumentError, check_flag

#: An eager read refuses what a scan refuses, but for ``rechunk``, which it takes, and ``cache``,
#: which only a LazyFrame has a use for.
READ_EAGER_REFUSED = {
    **{k: v for k, v in READ_REFUSED.items() if k != "rechunk"},
    "cache": "read_avro reads once, at the call: caching is scan_avro's keyword",
}


@refusing(
    READ_REFUSED,
    "scan_avro",
    "scan_parquet",
    others=OTHER_READERS_REFUSED,
    harmless=READ_HARMLESS,
    aliases=READ_ALIASES,
)
def scan_avro(
    source: AvroSource,
    *,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    include_file_paths: str | None = None,
    glob: bool = True,
    hidden_file_prefix: str | Sequence[str] | None = None,
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
    credential_provider: CredentialProvider = "auto",
    low_memory: bool = False,
    cache: bool = True,
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
        Expand ``*``, ``?`` and ``[...]`` in paths. As in Polars, wildcards match names
        starting with ``.`` too, and a directory reads what ``dir/**/*.avro`` matches.
    hidden_file_prefix
        Leave out files whose names begin with this prefix (or any of these prefixes),
        whether a directory, a glob or a list named them, as Polars' ``scan_parquet``
        does: ``hidden_file_prefix=("_", ".")`` leaves out ``_x.avro`` and ``.y.avro``.
        Only file names count, not the folders above them. Default: none is left out.
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
    credential_provider
        As Polars' ``scan_parquet`` takes it: one of Polars' providers
        (``pl.CredentialProviderAWS(...)``, ``pl.CredentialProviderAzure(...)``) or any
        callable giving ``(credentials, expiry)``, the credentials a dict of
        ``storage_options`` keys (``aws_access_key_id``, ``aws_secret_access_key``,
        ``aws_session_token``; ``bearer_token`` for Azure). It is called once, when the
        scan is created, and its keys take the place of the same keys of
        ``storage_options``. ``"auto"`` (the default) and None: credentials from
        ``storage_options`` and the environment. Google Cloud takes no bearer token here:
        pass ``storage_options={"google_service_account_key": ...}`` instead.
    low_memory
        As Polars' ``low_memory``: less memory at some cost in speed. Batches of 8,192
        rows (unless ``batch_size`` is given) and one file read ahead at a time (unless
        ``files_in_flight`` is given).
    cache
        Polars' ``scan_parquet`` keyword, taken for its signature's sake: Polars itself
        decides whether a scan that appears several times in one query is read once
        (common-subplan elimination), and both values read the same.

    Polars' keywords that have no meaning for Avro (``parallel``, ``use_statistics``,
    ``schema``, ...) raise :class:`AvroArgumentError` saying why, and so do the other Avro
    readers' (see docs/migrating.md); ``sources=`` is another name for ``source``.

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
    scan = Scan(source, ScanOptions.of(locals()))
    lf = lazy_frame(scan)
    _remember_origin(lf, scan, lazily=True)
    _polars_bugs.warn_once()
    return lf


@refusing(
    READ_EAGER_REFUSED,
    "read_avro",
    "read_parquet",
    others=OTHER_READERS_REFUSED,
    harmless=READ_HARMLESS,
    aliases=READ_ALIASES,
)
def read_avro(
    source: AvroSource,
    *,
    columns: str | Sequence[str] | Sequence[int] | None = None,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    include_file_paths: str | None = None,
    glob: bool = True,
    hidden_file_prefix: str | Sequence[str] | None = None,
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
    credential_provider: CredentialProvider = "auto",
    low_memory: bool = False,
    rechunk: bool = False,
) -> pl.DataFrame:
    """Read Avro object container files into a DataFrame.

    Reads as :func:`scan_avro` does, without building a query: the batches are joined in
    Rust and come into Python once. ``columns`` and ``n_rows`` are the only pushdown an
    eager read has; for a filter, use ``scan_avro(...).filter(...).collect()``.

    Parameters
    ----------
    source
        A path, a glob pattern, a directory (every ``.avro`` file in it, recursively,
        sorted), an object store URL (``s3://``, ``gs://``, ``az://``, ``abfs(s)://``,
        ``http(s)://``, ``file://``; globs and a trailing ``/`` list a prefix), a list of
        these, ``bytes``, or a binary file object. Several files read as one frame.
    columns
        The columns to read, in this order: names, indices into the files' columns, or one
        name (``columns="id"`` is the column ``id``). Other columns are not decoded.
    n_rows
        Stop after this many records.
    row_index_name
        Add a first column with this name counting rows (continuous across files).
    row_index_offset
        Where the row index starts.
    include_file_paths
        Add a last column with this name holding each row's source path.
    glob
        Expand ``*``, ``?`` and ``[...]`` in paths.
    hidden_file_prefix
        Leave out files whose names start with this prefix (or one of these): see
        :func:`scan_avro`.
    batch_size
        Rows per batch decoded as one task (whole Avro blocks are grouped until a batch
        holds at least this many rows).
    n_threads
        Threads decoding batches in parallel (default: Polars' thread count).
    reader_schema
        An Avro schema (JSON text or a dict) to read every file into, by the
        specification's schema resolution (fields by name and alias, defaults,
        promotions, enum symbols by name). The columns are the reader schema's.
    missing_columns
        For files whose writer schemas differ, which are unified into one schema: a
        column some file lacks raises :class:`AvroSchemaMismatchError` with ``"raise"``
        (the default) and reads as nulls in that file with ``"insert"``.
    allow_missing_columns
        ``True`` is ``missing_columns="insert"``.
    storage_options
        Options of the object store, with the keys ``scan_parquet`` takes (credentials,
        region, endpoint, ...); what is not given comes from the environment. See
        :func:`scan_avro` for the keys.
    retries
        How often a failed request to an object store is retried, with exponential backoff.
    hive_partitioning
        Read ``key=value`` folder names as columns. ``None``: on for a single directory.
    hive_schema
        The types of partition columns (a dict); the others are inferred.
    try_parse_hive_dates
        Infer Date and Datetime partition columns.
    ignore_errors
        Leave damaged blocks (and files of several whose header is damaged) out instead of
        raising, each reported as an :class:`AvroDataSkippedWarning` pointing at the line
        that called ``read_avro``.
    files_in_flight
        Files opened and read ahead at once (default 16).
    credential_provider
        Polars' credential provider, or a callable giving ``(credentials, expiry)``: see
        :func:`scan_avro`.
    low_memory
        Less memory at some cost in speed: batches of 8,192 rows and one file read ahead
        (unless ``batch_size`` and ``files_in_flight`` say otherwise).
    rechunk
        Give each column as one contiguous chunk, as ``read_parquet(rechunk=True)`` did
        before Polars 2 (and polars-avro 0.13's ``read_avro`` does); by default the columns
        keep the chunks they were decoded in.

    Polars' keywords that have no meaning for Avro (``parallel``, ``use_statistics``,
    ``use_pyarrow``, ...) raise :class:`AvroArgumentError` saying why, and so do the other
    Avro readers' (see docs/migrating.md); ``sources=`` is another name for ``source``.

    Returns
    -------
    DataFrame

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
    scan = Scan(source, ScanOptions.of(locals()))
    names = list(scan.schema)
    if columns is not None:
        names = scan.names(column_names(columns))
    # Batches joined in Rust, their chunks kept: one crossing into Python, not one per batch.
    frames = list(scan.frames(names, join=_JOIN_ALL))
    if not names:
        return without_columns(sum(f.height for f in frames))
    df = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical", rechunk=False)
    check_flag("rechunk", rechunk)
    if rechunk:
        df = df.rechunk()
    # A path's header is read again only if the frame is written; bytes are not kept for it.
    _remember_origin(df, scan, lazily=isinstance(scan.sources.items[0], (str, _internal.RemoteFile)))
    return df


def _remember_origin(frame: pl.DataFrame | pl.LazyFrame, scan: Scan, *, lazily: bool) -> None:
    """A frame of one file's columns, as they are in it, remembers that file's header.

    Writing that very frame again (:func:`polars_avro.sink_avro`, :func:`polars_avro.write_avro`)
    then keeps the file's schema and user metadata. Not with a reader schema, a row index, a
    path or partition column, or several files.
    """
    items = scan.sources.items
    if len(items) != 1 or scan.plan.reader_schema is not None or scan.options.reader_schema is not None:
        return
    if scan.ranges is not None or scan.schema != scan.file_schema.schema:
        return
    item = items[0]
    if lazily:
        remember(frame, scan.schema, lambda: _read_header(item))
    else:
        try:
            header = _read_header(item)
        except Exception:  # noqa: BLE001  (the read succeeded; without its header, the frame is plain)
            return
        remember(frame, scan.schema, lambda: header)


#: Batches an eager read joins into one frame before it crosses into Python: all of them
#: where Polars takes the chunks as they are.
_JOIN_ALL = 1 << 30 if IMPORTS_CHUNKS else 1


def read_avro_schema(
    source: AvroSource,
    *,
    glob: bool = True,
    hidden_file_prefix: str | Sequence[str] | None = None,
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
    scan = Scan(source, ScanOptions.of(locals()))
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
    #: The entries the file's writer added: all but the format's own (``avro.*``), as
    #: ``write_avro(..., schema=header)`` carries them over.
    user_metadata: dict[str, bytes]
    #: The 16-byte sync marker.
    sync_marker: bytes


def read_avro_header(
    source: AvroSource,
    *,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
) -> AvroHeader:
    """The header of one Avro file.

    The raw writer schema, the codec and the user metadata. Of an object in an object store,
    only the first bytes are fetched. ``storage_options`` and ``retries`` are
    :func:`scan_avro`'s. A directory, glob or list must name exactly one file: for several,
    which header is meant is not clear, and an :class:`AvroArgumentError` says how many
    matched (:func:`read_avro_schema` gives the schema they read into together).

    Examples
    --------
    >>> import polars_avro
    >>> header = polars_avro.read_avro_header("examples/weather.avro")
    >>> header.codec, header.metadata["example.source"]
    ('deflate', b'polars-avro sample')
    """
    return _read_header(one_file(source, "read_avro_header", RemoteOptions.of(storage_options, retries)))


def _read_header(item: Item) -> AvroHeader:
    return header_of(_internal.read_header(Sources.opened(item)))


def one_file(
    source: AvroSource,
    what: str,
    remote: RemoteOptions,
    *,
    glob: bool = True,
    otherwise: str = "read_avro_schema for the schema they read into together",
) -> Item:
    """The one file `source` names, for `what`, which reads one file (`otherwise`: what reads several)."""
    sources = expand_sources(source, glob=glob, remote=remote)
    if len(sources.items) > 1:
        names = [sources.name(item) for item in sources.items]
        given = f"'{os.fsdecode(source)}'" if isinstance(source, (str, os.PathLike)) else "the list"
        msg = (
            f"{what} reads one file's header, but {given} names {len(names):,} files "
            f"('{names[0]}', '{names[1]}'{', ...' if len(names) > 2 else ''}): pass one of them, or {otherwise}"
        )
        raise AvroArgumentError(msg)
    return sources.items[0]


def header_of(header: dict[str, Any]) -> AvroHeader:
    """A header as the Rust core describes it (``_internal.read_header``)."""
    return AvroHeader(
        schema=json.loads(header["schema_json"]),
        schema_json=header["schema_json"],
        codec=header["codec"],
        metadata=dict(header["metadata"]),
        user_metadata=dict(header["user_metadata"]),
        sync_marker=header["sync_marker"],
    )
