"""scan_avro, read_avro, read_avro_schema and read_avro_header: the read functions users call."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_avro import _internal
from polars_avro._header import AvroHeader, header_of
from polars_avro._keywords import ReadKeywords, ReadOptions, ScanKeywords, filled, takes
from polars_avro._options import ScanOptions, column_names
from polars_avro._origin import remember
from polars_avro._polars.features import IMPORTS_CHUNKS, without_columns
from polars_avro._polars.keywords import (
    OTHER_READERS_REFUSED,
    READ_ALIASES,
    READ_HARMLESS,
    READ_REFUSED,
    refusing,
)
from polars_avro._polars.release import lazy_frame, warn_of_bugs
from polars_avro._scan import Scan
from polars_avro._sources import AvroSource, Item, RemoteOptions, named
from polars_avro.exceptions import AvroArgumentError

if TYPE_CHECKING:
    from typing_extensions import Unpack

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
@takes(ScanKeywords)
def scan_avro(source: AvroSource, **options: Unpack[ScanKeywords]) -> pl.LazyFrame:
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
    **options
        ScanKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

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
    ...     pl.scan_avro(polars_avro.sample_file())
    ...     .filter(pl.col("temp") > 30)
    ...     .select("station", "temp")
    ...     .collect()
    ...     .height
    ... )
    30
    """
    scan = Scan(source, ScanOptions.of(options))
    warn_of_bugs()
    lf = lazy_frame(scan)
    _remember_origin(lf, scan, lazily=True)
    return lf


@refusing(
    READ_EAGER_REFUSED,
    "read_avro",
    "read_parquet",
    others=OTHER_READERS_REFUSED,
    harmless=READ_HARMLESS,
    aliases=READ_ALIASES,
)
@takes(ReadKeywords)
def read_avro(source: AvroSource, **options: Unpack[ReadKeywords]) -> pl.DataFrame:
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
    **options
        ReadKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Polars' keywords that have no meaning for Avro (``parallel``, ``use_statistics``,
    ``use_pyarrow``, ...) raise :class:`AvroArgumentError` saying why, and so do the other
    Avro readers' (see docs/migrating.md); ``sources=`` is another name for ``source``.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro(polars_avro.sample_file(), columns=["station", "temp"], n_rows=2)
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
    scan = Scan(source, ScanOptions.of(options))
    names = list(scan.schema)
    given = filled(ReadKeywords, options)
    columns, rechunk = given["columns"], given["rechunk"]
    if columns is not None:
        names = scan.plan.select(column_names(columns))
    # Batches joined in Rust, their chunks kept: one crossing into Python, not one per batch.
    frames = list(scan.frames(names, join=_JOIN_ALL))
    if not names:
        return without_columns(sum(f.height for f in frames))
    df = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical", rechunk=False)
    _internal.check_flag("rechunk", rechunk)
    if rechunk:
        df = df.rechunk()
    # A path's header is read again only if the frame is written; bytes are not kept for it.
    _remember_origin(df, scan, lazily=scan.planned.origin == "lazy")
    return df


def _remember_origin(frame: pl.DataFrame | pl.LazyFrame, scan: Scan, *, lazily: bool) -> None:
    """A frame of one file's columns, as they are in it, remembers that file's header.

    Writing that very frame again (:func:`polars_avro.sink_avro`, :func:`polars_avro.write_avro`)
    then keeps the file's schema and user metadata. Not with a reader schema, a row index, a
    path or partition column, or several files (``PlannedScan.origin`` says).
    """
    planned = scan.planned
    if planned.origin is None:
        return
    if lazily:
        remember(frame, scan.schema, lambda: header_of(planned.header()))
        return
    try:
        header = header_of(planned.header())
    except Exception:  # noqa: BLE001  (the read succeeded; without its header, the frame is plain)
        return
    remember(frame, scan.schema, lambda: header)


#: Batches an eager read joins into one frame before it crosses into Python: all of them
#: where Polars takes the chunks as they are.
_JOIN_ALL = 1 << 30 if IMPORTS_CHUNKS else 1


@refusing(READ_REFUSED, "read_avro_schema", "read_parquet", others=OTHER_READERS_REFUSED, harmless=READ_HARMLESS)
@takes(ReadOptions)
def read_avro_schema(source: AvroSource, **options: Unpack[ReadOptions]) -> pl.Schema:
    """The Polars schema the source reads into, from the headers alone.

    The schema :func:`scan_avro` gives with the same arguments (the first file's, every
    file's unified with ``schema_from="all"``, or the reader schema's columns), partition
    columns included. The
    arguments are :func:`scan_avro`'s: with ``ignore_errors=True`` files whose header is
    damaged (an empty file, say) are left out, as the scan leaves them out.

    Parameters
    ----------
    source
        As for :func:`scan_avro`.
    **options
        ReadOptions' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Returns
    -------
    Schema

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro_schema(polars_avro.sample_file())["temp"]
    Float64
    """
    scan = Scan(source, ScanOptions.of(options))
    return scan.schema


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
    >>> header = polars_avro.read_avro_header(polars_avro.sample_file())
    >>> header.codec, header.metadata["example.source"]
    ('deflate', b'polars-avro sample')
    """
    return header_of(
        _internal.read_header(one_file(source, "read_avro_header", RemoteOptions.of(storage_options, retries)))
    )


def list_sources(
    source: AvroSource, options: ScanOptions, remote: RemoteOptions
) -> tuple[list[Item], list[str], list[int | None], pl.DataFrame | None]:
    """The files a source names, listed in Rust by one rule whatever their kind.

    Each as a read opens it, with its name, its size where known without reading it, and with
    ``options.hive_partitioning`` (None: on for one folder) the partition values, one row per
    file, typed as a scan types them.
    """
    return _internal.list_sources(
        named(source, glob=options.glob, remote=remote),
        options,
        storage_options=remote.storage_options,
        retries=remote.retries,
    )


def one_file(
    source: AvroSource,
    what: str,
    remote: RemoteOptions,
    *,
    glob: bool = True,
    otherwise: str = "read_avro_schema for the schema they read into together",
) -> Item:
    """The one file `source` names, for `what`, which reads one file (`otherwise`: what reads several)."""
    options = ScanOptions.of({"glob": glob, "hive_partitioning": False})
    items, names, _, _ = list_sources(source, options, remote)
    if len(items) > 1:
        given = f"'{os.fsdecode(source)}'" if isinstance(source, (str, os.PathLike)) else "the list"
        msg = (
            f"{what} reads one file's header, but {given} names {len(names):,} files "
            f"('{names[0]}', '{names[1]}'{', ...' if len(names) > 2 else ''}): pass one of them, or {otherwise}"
        )
        raise AvroArgumentError(msg)
    return items[0]
