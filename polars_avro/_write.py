"""The functions that write Polars frames to Avro object container files.

write_avro (a frame), sink_avro (a query's batches, or the parts of a partitioned output) and
write_frames (a cluster task's part file, for polars_avro.ray and polars_avro.dask).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_avro import _internal
from polars_avro._arguments import AvroTarget
from polars_avro._callsite import warn_user
from polars_avro._keywords import FileWriteOptions, SinkKeywords, WriteKeywords, filled, takes
from polars_avro._partition import Partitioning, split
from polars_avro._polars.keywords import WRITE_ALIASES, WRITE_REFUSED, make_parent_folder, refusing
from polars_avro._polars.release import for_each_batch
from polars_avro._prepare import Prepared
from polars_avro._target import Target
from polars_avro._write_options import WriteOptions, kept_header
from polars_avro.exceptions import AvroArgumentError, AvroSchemaWarning

if TYPE_CHECKING:
    from typing_extensions import Unpack


@refusing(WRITE_REFUSED, "write_avro", "write_parquet", aliases={**WRITE_ALIASES, "batches": "df"})
@takes(WriteKeywords)
def write_avro(df: pl.DataFrame | Iterable[pl.DataFrame], file: AvroTarget, **options: Unpack[WriteKeywords]) -> None:
    """Write a DataFrame to an Avro object container file.

    Parameters
    ----------
    df
        The frame to write, or frames of one schema (a list, or any iterable, such as
        polars-avro 0.13 takes), written as their ``pl.concat``. They are all held in memory:
        :func:`sink_avro` streams a query's result in bounded memory.
    file
        A path, an object store URL (``s3://``, ``gs://``, ``az://``, ``abfs(s)://``), or a
        binary file object open for writing. A path is written through a temporary file
        beside it and renamed at the end, and an object as a multipart upload completed at
        the end, so a failed write leaves no partial file or object behind (and an old one
        at that place stays as it was).
    **options
        WriteKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Polars' keywords that have no meaning for Avro (``row_group_size``, ``statistics``, ...)
    raise :class:`AvroArgumentError` saying why. polars-avro 0.13's names are taken too:
    ``batches=`` for ``df``, ``dest=`` for ``file``, ``codec=`` for ``compression`` (see
    docs/migrating.md).

    Examples
    --------
    >>> import io
    >>> import polars as pl
    >>> import polars_avro
    >>> df = pl.DataFrame({"station": ["OSLO", "LIMA"], "temp": [-4.0, 21.0]})
    >>> buffer = io.BytesIO()
    >>> polars_avro.write_avro(df, buffer, compression="zstandard")
    >>> polars_avro.read_avro(buffer.getvalue()).equals(df)
    True
    """
    given = filled(WriteKeywords, options)
    if isinstance(given["schema"], pl.Schema):
        df = [pl.DataFrame(schema=given["schema"]), *([df] if isinstance(df, pl.DataFrame) else _frames(df))]
        given["schema"] = None
    if not isinstance(df, pl.DataFrame):
        df = _concatenated(_frames(df))
    _internal.check_flag("mkdir", given["mkdir"])
    if given["mkdir"]:
        make_parent_folder(file)
    if Partitioning.of(file, *(given[k] for k in _PARTITIONING)) is not None:
        # Parts are streamed like a query's batches; Categorical columns become the Enums of
        # their values first, as a single file would have them.
        writable = Prepared.of_frame(df).schema
        sink_avro(df.select(pl.col(n).cast(t) for n, t in writable.items()).lazy(), file, **given)
        return
    prepared = Prepared.of_frame(df)
    write_options = WriteOptions.of(given, file, kept_header(df, df.schema, given))
    with _writing(file, prepared.columns, write_options) as writer:
        writer.write(prepared.convert(df), df.height)


#: The keywords of partitioned output, in Partitioning.of's order.
_PARTITIONING = ("partition_by", "max_rows_per_file", "approximate_bytes_per_file", "include_key")


@refusing(WRITE_REFUSED, "sink_avro", "sink_parquet", aliases=WRITE_ALIASES)
@takes(SinkKeywords)
def sink_avro(lf: pl.LazyFrame, file: AvroTarget | None = None, **options: Unpack[SinkKeywords]) -> None:
    """Stream a LazyFrame's result into an Avro file, batch by batch, with bounded memory.

    The query runs on Polars' streaming engine and each batch is written as it comes, in
    order.

    Parameters
    ----------
    lf
        The query whose result is written (a DataFrame is taken as its ``.lazy()``).
    file
        Where to write, as for :func:`write_avro`.
    **options
        SinkKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Categorical columns cannot be streamed (their Avro enum symbols must be known before
    the first row): cast them to ``pl.Enum`` or ``pl.String``.

    On Polars before 1.37 (before 1.34 a query's batches cannot be handed out; 1.34 to
    1.36 end them quietly when the query fails), the result is staged in a temporary Arrow
    IPC file (written by the streaming engine) and read back slice by slice: memory stays
    bounded, at the cost of that disk space.

    Examples
    --------
    >>> import io
    >>> import polars as pl
    >>> import polars_avro
    >>> lf = pl.LazyFrame({"n": range(5)}).filter(pl.col("n") % 2 == 0)
    >>> buffer = io.BytesIO()
    >>> polars_avro.sink_avro(lf, buffer)
    >>> polars_avro.read_avro(buffer.getvalue())["n"].to_list()
    [0, 2, 4]
    """
    given = filled(SinkKeywords, options)
    if given["path"] is not None:
        if file is not None:
            msg = "sink_avro takes its target once: as file or as path=, not both"
            raise AvroArgumentError(msg)
        file = given["path"]
    if file is None:
        msg = "sink_avro needs a target: file (or path=, as Polars' sinks name it)"
        raise AvroArgumentError(msg)
    _internal.check_flag("mkdir", given["mkdir"])
    if given["mkdir"]:
        make_parent_folder(file)
    if isinstance(lf, pl.DataFrame):
        lf = lf.lazy()
    if not isinstance(lf, pl.LazyFrame):
        msg = f"sink_avro takes a LazyFrame, found {type(lf).__name__}"
        raise AvroArgumentError(msg)
    chunk_size = given["chunk_size"]
    _internal.check_counts(chunk_size=chunk_size)
    partitioning = Partitioning.of(file, *(given[k] for k in _PARTITIONING))
    if partitioning is not None:
        _sink_partitioned(lf, partitioning, given, chunk_size)
        return
    lf_schema = lf.collect_schema()
    prepared = Prepared.of_schema(lf_schema)
    write_options = WriteOptions.of(given, file, kept_header(lf, lf_schema, given))
    with _writing(file, prepared.columns, write_options) as writer:
        for_each_batch(lf, chunk_size, lambda batch: writer.write(prepared.convert(batch), batch.height))


def _sink_partitioned(
    lf: pl.LazyFrame, partitioning: Partitioning, given: Mapping[str, Any], chunk_size: int | None
) -> None:
    """Streams the query's rows into the parts of a partitioned output (see polars_avro._partition)."""
    lf, columns = partitioning.prepare(lf)
    prepared = Prepared.of_schema(lf.select(columns).collect_schema())
    options = WriteOptions.of(given, partitioning.base)
    parts = _internal.PartitionedWriter(
        partitioning.base,
        partitioning.key_names,
        prepared.columns,
        options,
        max_rows=partitioning.max_rows,
        max_bytes=partitioning.max_bytes,
        storage_options=options.remote.storage_options,
        retries=options.remote.retries,
    )

    def write(batch: pl.DataFrame) -> None:
        for key, rows in split(batch, partitioning, columns):
            for warning in parts.write(key, prepared.convert(rows), rows.height, rows.estimated_size()):
                warn_user(AvroSchemaWarning(warning))

    try:
        with options.remote.naming_profile():
            for_each_batch(lf, chunk_size or parts.batch_rows, write)
            parts.finish()
    except BaseException:
        parts.abandon()
        raise


def _frames(frames: object) -> list[pl.DataFrame]:
    """What write_avro takes for ``df``, as a list of DataFrames, or the reason it cannot be."""
    if isinstance(frames, pl.DataFrame):
        return [frames]
    if isinstance(frames, pl.LazyFrame):
        msg = "write_avro takes a DataFrame, found LazyFrame; stream a LazyFrame with sink_avro"
        raise AvroArgumentError(msg)
    if not isinstance(frames, Iterable) or isinstance(frames, (str, bytes)):
        msg = f"write_avro takes a DataFrame or an iterable of DataFrames, found {type(frames).__name__}"
        raise AvroArgumentError(msg)
    listed = list(frames)
    for i, frame in enumerate(listed):
        if not isinstance(frame, pl.DataFrame):
            msg = f"write_avro takes an iterable of DataFrames, found {type(frame).__name__} at position {i}"
            raise AvroArgumentError(msg)
    return listed


def _concatenated(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """The frames as one (their chunks kept), as polars-avro 0.13 writes them one after another."""
    if not frames:
        msg = (
            "write_avro got no frames: pass at least one (an empty DataFrame, or schema=pl.Schema(...), "
            "writes a file of no rows)"
        )
        raise AvroArgumentError(msg)
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical", rechunk=False)


@takes(FileWriteOptions)
def write_frames(frames: Iterable[pl.DataFrame], file: AvroTarget, **options: Unpack[FileWriteOptions]) -> int:
    """Frames of one schema, one after another, into one file; the rows written.

    A cluster task's part file (``polars_avro.ray``, ``polars_avro.dask``): its batches
    arrive one at a time and leave memory once written. Frames without rows are left out,
    and without any row nothing is written. Categorical columns go as strings (a part
    cannot know the symbols the other parts hold).

    Parameters
    ----------
    frames
        The frames, of one schema.
    file
        Where to write, as for :func:`write_avro`.
    **options
        FileWriteOptions' (polars_avro._keywords), :func:`write_avro`'s for one file.
    """
    write_options = WriteOptions.of(filled(FileWriteOptions, options), file)
    batches = (df for df in frames if df.height > 0)
    first = next(batches, None)
    if first is None:
        return 0
    strings = {n: pl.String for n, dtype in first.schema.items() if isinstance(dtype, pl.Categorical)}
    prepared = Prepared.of_schema(first.cast(strings).schema)  # type: ignore[arg-type]
    rows = 0
    with _writing(file, prepared.columns, write_options) as writer:
        for df in itertools.chain([first], batches):
            df = df.cast(strings).cast(prepared.schema)  # type: ignore[arg-type]
            writer.write(prepared.convert(df), df.height)
            rows += df.height
    return rows


@contextmanager
def _writing(
    file: AvroTarget,
    columns: list[tuple[str, str]],
    options: WriteOptions,
) -> Iterator[_internal.FileWriter]:
    """The file's writer: finished when the block succeeds, abandoned when it raises.

    Abandoned, an object store upload is aborted and a local file left as it was.
    """
    with options.remote.naming_profile(), Target(file, options.remote) as target:
        writer = _internal.FileWriter(target, columns, options, name=Target.name_of(file))
        for warning in writer.name_warnings():
            warn_user(AvroSchemaWarning(warning))
        try:
            yield writer
        except BaseException:
            writer.abort()
            raise
        writer.finish()
