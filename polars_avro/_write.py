"""write_avro and sink_avro: Polars frames to Avro object container files."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import IO, TYPE_CHECKING, Any

import polars as pl

from polars_avro import _fsspec, _internal
from polars_avro._arguments import AvroTarget, Codec
from polars_avro._callsite import warn_user
from polars_avro._header import AvroHeader
from polars_avro._keywords import DEFAULT_RECORD_NAME, FileWriteOptions, SinkKeywords, WriteKeywords, filled, takes
from polars_avro._options import check_threads
from polars_avro._origin import source_header
from polars_avro._partition import Partitioning, split
from polars_avro._polars.features import ARRAY_EXPLODE_DROPS_EMPTY, EXPLODE_DROPS_EMPTY, FLOAT16, HAS_MAP
from polars_avro._polars.keywords import (
    WRITE_ALIASES,
    WRITE_REFUSED,
    make_parent_folder,
    refusing,
    with_credentials,
)
from polars_avro._polars.release import for_each_batch
from polars_avro._sources import RemoteOptions
from polars_avro._types import contains, describe_dtype
from polars_avro.exceptions import (
    AvroArgumentError,
    AvroSchemaError,
    AvroSchemaWarning,
    check_counts,
    check_flag,
    check_text,
    check_whole_number,
    schema_json,
)

if TYPE_CHECKING:
    from polars._typing import PolarsDataType
    from typing_extensions import Unpack

#: Java's default block size, which most Avro files in the wild have.
DEFAULT_SYNC_INTERVAL: int = _internal.DEFAULT_SYNC_INTERVAL


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
    check_flag("mkdir", given["mkdir"])
    if given["mkdir"]:
        make_parent_folder(file)
    if Partitioning.of(file, *(given[k] for k in _PARTITIONING)) is not None:
        # Parts are streamed like a query's batches; Categorical columns become the Enums of
        # their values first, as a single file would have them.
        writable = _Prepared.of_frame(df).schema
        sink_avro(df.select(pl.col(n).cast(t) for n, t in writable.items()).lazy(), file, **given)
        return
    prepared = _Prepared.of_frame(df)
    write_options = _WriteOptions.of(given, file, _source_header(df, df.schema, given))
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
    check_flag("mkdir", given["mkdir"])
    if given["mkdir"]:
        make_parent_folder(file)
    if isinstance(lf, pl.DataFrame):
        lf = lf.lazy()
    if not isinstance(lf, pl.LazyFrame):
        msg = f"sink_avro takes a LazyFrame, found {type(lf).__name__}"
        raise AvroArgumentError(msg)
    chunk_size = given["chunk_size"]
    check_counts(chunk_size=chunk_size)
    partitioning = Partitioning.of(file, *(given[k] for k in _PARTITIONING))
    if partitioning is not None:
        _sink_partitioned(lf, partitioning, given, chunk_size)
        return
    lf_schema = lf.collect_schema()
    prepared = _Prepared.of_schema(lf_schema)
    write_options = _WriteOptions.of(given, file, _source_header(lf, lf_schema, given))
    with _writing(file, prepared.columns, write_options) as writer:
        for_each_batch(lf, chunk_size, lambda batch: writer.write(prepared.convert(batch), batch.height))


def _sink_partitioned(
    lf: pl.LazyFrame, partitioning: Partitioning, given: Mapping[str, Any], chunk_size: int | None
) -> None:
    """Streams the query's rows into the parts of a partitioned output (see polars_avro._partition)."""
    lf, columns = partitioning.prepare(lf)
    prepared = _Prepared.of_schema(lf.select(columns).collect_schema())
    options = _WriteOptions.of(given, partitioning.base)
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
    write_options = _WriteOptions.of(filled(FileWriteOptions, options), file)
    batches = (df for df in frames if df.height > 0)
    first = next(batches, None)
    if first is None:
        return 0
    strings = {n: pl.String for n, dtype in first.schema.items() if isinstance(dtype, pl.Categorical)}
    prepared = _Prepared.of_schema(first.cast(strings).schema)  # type: ignore[arg-type]
    rows = 0
    with _writing(file, prepared.columns, write_options) as writer:
        for df in itertools.chain([first], batches):
            df = df.cast(strings).cast(prepared.schema)  # type: ignore[arg-type]
            writer.write(prepared.convert(df), df.height)
            rows += df.height
    return rows


def _source_header(
    frame: pl.DataFrame | pl.LazyFrame, frame_schema: pl.Schema, given: Mapping[str, Any]
) -> AvroHeader | None:
    """The header of the file ``frame`` was read from unchanged, to write with; else None.

    scan_avro's or read_avro's very frame, of one file, where the user gave no schema,
    record name or namespace; None derives the schema.
    """
    if given["schema"] is not None or given["namespace"] is not None:
        return None
    if _record_name(given["name"]) != DEFAULT_RECORD_NAME:
        return None
    header: AvroHeader | None = source_header(frame, frame_schema)
    return header


@dataclass(frozen=True)
class _WriteOptions:
    """The options of write_avro and sink_avro, checked once.

    Every field comes from the entry point's arguments: the defaults are the signatures'.
    """

    compression: str
    compression_level: int | None
    name: str
    namespace: str | None
    schema: str | None
    #: The schema is the header of the file the frame was read from: where its names break
    #: the specification's rules, Rust derives one instead.
    schema_from_source: bool
    metadata: list[tuple[str, bytes]]
    sync_interval: int
    n_threads: int | None
    remote: RemoteOptions

    @classmethod
    def of(cls, arguments: Mapping[str, Any], target: object, source: AvroHeader | None = None) -> _WriteOptions:
        """The options among an entry point's arguments (its ``locals()``), checked.

        ``target``'s URL decides whether an AWS profile's keys are looked for. ``source``:
        the header of the file the frame was read from, written with where nothing was given.
        """
        compression = arguments["compression"]
        if compression is None:
            compression = "uncompressed"
        elif isinstance(compression, Codec):
            compression = compression.value
        elif not isinstance(compression, str):
            msg = f"compression must be a codec's name, found {type(compression).__name__}"
            raise AvroArgumentError(msg)
        check_whole_number("sync_interval", arguments["sync_interval"], 1)
        check_threads(arguments["n_threads"])
        if arguments["compression_level"] is not None:
            # The codec's own range is checked with its name; this keeps the number an int32.
            check_whole_number("compression_level", arguments["compression_level"], -(2**31), 2**31 - 1)
        schema = arguments["schema"] if source is None else source
        metadata: dict[str, Any] = {}
        if isinstance(schema, AvroHeader):
            # The header's schema, exactly as stored, and its user metadata (not the format's).
            metadata = dict(schema.user_metadata)
            schema = schema.schema_json
        elif schema is not None:
            schema = schema_json("schema", schema)
        given = {} if arguments["metadata"] is None else arguments["metadata"]
        if not isinstance(given, Mapping):
            msg = f"metadata must map str keys to str or bytes values (a dict), found {type(given).__name__}"
            raise AvroArgumentError(msg)
        if arguments["namespace"] is not None:
            check_text("namespace", arguments["namespace"], "the record's namespace")
        entries = []
        for key, value in {**metadata, **given}.items():
            if not isinstance(key, str) or not isinstance(value, (str, bytes, bytearray, memoryview)):
                msg = f"metadata maps str keys to str or bytes values, found {key!r}: {type(value).__name__}"
                raise AvroArgumentError(msg)
            entries.append((key, value.encode() if isinstance(value, str) else bytes(value)))
        provider = arguments.get("credential_provider")
        storage_options = with_credentials(arguments["storage_options"], provider)
        remote = RemoteOptions.of(storage_options, arguments["retries"], source=target, credential_provider=provider)
        plain = {f.name: arguments[f.name] for f in fields(cls) if f.name not in ("remote", "schema_from_source")}
        checked = {
            "compression": compression,
            "name": _record_name(arguments["name"]),
            "schema": schema,
            "schema_from_source": source is not None,
        }
        return cls(**{**plain, **checked, "metadata": entries, "remote": remote})


def _record_name(name: str) -> str:
    """The record name asked for: ``""``, Polars' ``write_avro`` default, asks for the default."""
    check_text("name", name, "the record's name")
    return DEFAULT_RECORD_NAME if name == "" else name


@contextmanager
def _writing(
    file: AvroTarget,
    columns: list[tuple[str, str]],
    options: _WriteOptions,
) -> Iterator[_internal.FileWriter]:
    """The file's writer: finished when the block succeeds, abandoned when it raises.

    Abandoned, an object store upload is aborted and a local file left as it was.
    """
    with options.remote.naming_profile(), _target(file, options.remote) as target:
        writer = _internal.FileWriter(target, columns, options, name=_target.name_of(file))
        for warning in writer.name_warnings():
            warn_user(AvroSchemaWarning(warning))
        with finishing(writer):
            yield writer


@contextmanager
def finishing(writer: Any) -> Iterator[Any]:
    """A writer (FileWriter, BlockWriter) finished when the block succeeds, abandoned when it raises."""
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise
    writer.finish()


class _Prepared:
    """How a frame crosses into Rust.

    Each column's type description, and the casts that make its buffers plain (Enum and Map
    columns go as their physical codes and entry lists, which every supported Polars version
    hands over alike).
    """

    def __init__(self, schema: pl.Schema) -> None:
        self.schema = schema
        self.columns = [(name, json.dumps(describe_dtype(dtype))) for name, dtype in schema.items()]
        self.physical = [name for name, dtype in schema.items() if contains(dtype, _needs_physical)]

    @classmethod
    def of_frame(cls, df: pl.DataFrame) -> _Prepared:
        """Categorical columns become Enums of the values they hold, in order of appearance."""
        dtypes = {
            name: _writable(dtype, lambda d, expr: _categories_of(df, expr), pl.col(name))
            for name, dtype in df.schema.items()
        }
        return cls(pl.Schema(dtypes))

    @classmethod
    def of_schema(cls, schema: pl.Schema) -> _Prepared:
        def refuse(dtype: pl.DataType, expr: pl.Expr) -> pl.DataType:
            msg = (
                f"the column '{expr.meta.output_name()}' holds Categorical values, whose Avro enum "
                "symbols a streaming write cannot know before its first row: cast it to pl.Enum "
                "or to pl.String"
            )
            raise AvroSchemaError(msg)

        return cls(pl.Schema({name: _writable(dtype, refuse, pl.col(name)) for name, dtype in schema.items()}))

    def convert(self, df: pl.DataFrame) -> pl.DataFrame:
        schema = df.schema
        changed = {name for name, dtype in self.schema.items() if schema[name] != dtype}
        if not changed and not self.physical:
            return df
        exprs = []
        for name, dtype in self.schema.items():
            expr = pl.col(name).cast(dtype) if name in changed else pl.col(name)
            exprs.append(expr.to_physical() if name in self.physical else expr)
        return df.select(exprs)


def _writable(
    dtype: PolarsDataType, categorical: Callable[[pl.DataType, pl.Expr], pl.DataType], expr: pl.Expr
) -> PolarsDataType:
    """`dtype` with what the writer cannot take replaced.

    Categorical by `categorical`'s choice, an Enum of no category by String (Avro C refuses
    an enum of no symbol, which the spec allows and Java takes) and Float16 by Float32, at
    any depth.
    """
    if isinstance(dtype, pl.Categorical):
        dtype = categorical(dtype, expr)
    if isinstance(dtype, pl.Enum) and dtype.categories.len() == 0:
        return pl.String()
    if FLOAT16 is not None and dtype == FLOAT16:
        return pl.Float32()
    if isinstance(dtype, pl.List):
        return pl.List(_writable(dtype.inner, categorical, expr.explode(**EXPLODE_DROPS_EMPTY)))
    if isinstance(dtype, pl.Array):
        return pl.Array(_writable(dtype.inner, categorical, expr.arr.explode(**ARRAY_EXPLODE_DROPS_EMPTY)), dtype.size)
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _writable(f.dtype, categorical, expr.struct.field(f.name)) for f in dtype.fields})
    if HAS_MAP and isinstance(dtype, pl.Map):
        entries = pl.List(pl.Struct({"key": dtype.key, "value": dtype.value}))
        value = _writable(
            dtype.value, categorical, expr.cast(entries).explode(**EXPLODE_DROPS_EMPTY).struct.field("value")
        )
        return pl.Map(dtype.key, value)
    return dtype


def _categories_of(df: pl.DataFrame, expr: pl.Expr) -> pl.DataType:
    """The Enum of the values a Categorical holds (none: only nulls, or no row)."""
    values = df.select(expr.drop_nulls().unique(maintain_order=True).cast(pl.String)).to_series()
    return pl.Enum(values.to_list())


def _needs_physical(dtype: PolarsDataType) -> bool:
    return isinstance(dtype, pl.Enum) or (HAS_MAP and isinstance(dtype, pl.Map))


class _target:
    """What a write's target is handed to the Rust writer as, which decides the rest (``sink::Target``).

    A path (``~`` expanded) goes as it is: the writer replaces a local file whole
    (a temporary file beside it, renamed into place on success and removed on failure),
    and writes a pipe or a device as it is. An object store URL becomes the object to
    upload (the upload itself makes the object appear only when it completes). A URL only
    fsspec reaches becomes its file system's file, closed on success and discarded on
    failure; a file object is written as it is.
    """

    def __init__(self, file: AvroTarget, remote: RemoteOptions) -> None:
        self.file = file
        self.remote = remote
        self.fsspec_file: _fsspec.Writing | None = None

    def __enter__(self) -> str | IO[bytes] | _internal.RemoteFile:
        if isinstance(self.file, str) and _internal.is_store_url(self.file):
            if _fsspec.reaches(self.file):
                self.fsspec_file = _fsspec.Writing(self.file, self.remote.given)
                return self.fsspec_file.file
            return self.remote.file(self.file)
        if isinstance(self.file, (str, os.PathLike)):
            return os.path.expanduser(os.fspath(self.file))
        # A file object; anything else the writer refuses, saying what it takes.
        return self.file

    @staticmethod
    def name_of(file: AvroTarget) -> str | None:
        """How errors name a path or URL: as the user gave it (None: the writer's choice)."""
        if isinstance(file, (str, os.PathLike)):
            return os.fsdecode(file)
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.fsspec_file is not None:
            if exc_type is None:
                self.fsspec_file.finish()
            else:
                self.fsspec_file.discard()
