"""scan_avro, read_avro, read_avro_schema and read_avro_header."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
from polars.io.plugins import register_io_source

from polars_avro import _internal
from polars_avro._sources import AvroSource, Sources, expand_sources
from polars_avro._stats import record as record_stats
from polars_avro._types import FrameSchema
from polars_avro.exceptions import AvroArgumentError, AvroSchemaMismatchError, check_n_threads

_MASK = "__polars_avro_predicate_mask"


def _index_type() -> pl.DataType:
    get = getattr(pl, "get_index_type", None)
    return get() if get is not None else pl.UInt32()


class _AvroScan:
    """The sources and options of one scan, and the batches it reads."""

    def __init__(
        self,
        source: AvroSource,
        *,
        n_rows: int | None,
        row_index_name: str | None,
        row_index_offset: int,
        include_file_paths: str | None,
        glob: bool,
        batch_size: int | None,
        n_threads: int | None,
        reader_schema: str | Mapping[str, Any] | None = None,
        missing_columns: str = "raise",
        allow_missing_columns: bool = False,
    ) -> None:
        check_n_threads(n_threads)
        if n_rows is not None and n_rows < 0:
            msg = f"n_rows must not be negative, found {n_rows}"
            raise AvroArgumentError(msg)
        if row_index_offset < 0:
            msg = f"row_index_offset must not be negative, found {row_index_offset}"
            raise AvroArgumentError(msg)
        if missing_columns not in ("raise", "insert"):
            msg = f"missing_columns must be 'raise' or 'insert', found {missing_columns!r}"
            raise AvroArgumentError(msg)
        self.sources = expand_sources(source, glob=glob)
        if reader_schema is None:
            insert = allow_missing_columns or missing_columns == "insert"
            reader_schema, columns = self._file_columns(insert_missing=insert)
        else:
            if not isinstance(reader_schema, str):
                reader_schema = json.dumps(reader_schema)
            columns = _internal.describe_schema(reader_schema)
        self.reader_schema = reader_schema
        self.file_schema = FrameSchema(columns)
        self.n_rows = n_rows
        self.row_index_name = row_index_name
        self.row_index_offset = row_index_offset
        self.include_file_paths = include_file_paths
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.schema = self._output_schema()

    def _output_schema(self) -> pl.Schema:
        columns: list[tuple[str, pl.DataType]] = []
        if self.row_index_name is not None:
            columns.append((self.row_index_name, _index_type()))
        columns.extend(self.file_schema.schema.items())
        if self.include_file_paths is not None:
            columns.append((self.include_file_paths, pl.String()))
        names = [n for n, _ in columns]
        for extra in (self.row_index_name, self.include_file_paths):
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
    ) -> Iterator[pl.DataFrame]:
        """Batches with the columns of `with_columns` in schema order (the order Polars
        expects from a source), filtered by `predicate`, at most `limit` rows in all."""
        extras = {self.row_index_name, self.include_file_paths} - {None}
        file_columns = None
        if with_columns is not None:
            wanted = set(with_columns)
            file_columns = [c for c in self.file_schema.schema if c in wanted]
        predicate_spec = None if predicate is None else (predicate.meta.root_names(), self._mask_function(predicate))
        rows_left = self.n_rows  # records before the predicate, across files
        if predicate is None and limit is not None:
            # Without a filter the query's limit is a record limit: reading stops there.
            rows_left = limit if rows_left is None else min(rows_left, limit)
        out_left = limit  # rows after the predicate
        row_offset = self.row_index_offset
        for i, item in enumerate(self.sources.items):
            if rows_left == 0 or out_left == 0:
                return
            name = self.sources.name(item)
            reader = _internal.FileReader(
                Sources.opened(item),
                columns=file_columns,
                n_rows=rows_left,
                batch_size=self.batch_size or batch_size,
                row_index=(self.row_index_name, row_offset) if self.row_index_name is not None else None,
                file_path_column=(self.include_file_paths, name) if self.include_file_paths is not None else None,
                predicate=predicate_spec,
                n_threads=self.n_threads,
                reader_schema=self.reader_schema,
            )
            try:
                while (batch := reader.next_batch()) is not None:
                    df = self._to_schema(*batch)
                    if with_columns is not None and extras:
                        df = df.select([c for c in self.schema if c in with_columns])
                    if out_left is not None:
                        df = df.head(out_left)
                        out_left -= df.height
                    yield df
                    if out_left == 0:
                        return
            finally:
                # Also when the consumer stops early (a head, an error downstream).
                record_stats(reader.stats())
            row_offset += reader.rows_read
            if rows_left is not None:
                rows_left -= reader.rows_read

    def _to_schema(self, df: pl.DataFrame, height: int) -> pl.DataFrame:
        if df.width == 0:
            df = _without_columns(height)
        df = self.file_schema.apply(df)
        if self.row_index_name is not None and self.row_index_name in df.columns:
            df = df.with_columns(pl.col(self.row_index_name).cast(_index_type()))
        return df

    def _mask_function(self, predicate: pl.Expr) -> Any:
        mask_expr = predicate.alias(_MASK)

        def evaluate(df: pl.DataFrame) -> pl.Series:
            return self._to_schema(df, df.height).with_columns(mask_expr).get_column(_MASK)

        return evaluate

    def _file_columns(self, *, insert_missing: bool) -> tuple[str | None, list[tuple[str, str]]]:
        """The columns the files read into, from their headers, and the reader schema they
        need: none when every file maps to the first one's Polars schema; else one schema
        they all resolve into (fields of every file, types widened, fields some files lack
        nullable), or an error naming the files and the field."""
        items = self.sources.items
        first = _internal.read_header(Sources.opened(items[0]))
        if len(items) < 2:
            return None, first["columns"]
        headers = [(self.sources.name(items[0]), first)]
        headers += [(self.sources.name(item), _internal.read_header(Sources.opened(item))) for item in items[1:]]
        first_schema = FrameSchema(first["columns"]).schema
        if all(FrameSchema(h["columns"]).schema == first_schema for _, h in headers[1:]):
            return None, first["columns"]
        unified = _internal.unify_schemas([(name, h["schema_json"]) for name, h in headers])
        columns = _internal.describe_schema(unified)
        if not insert_missing:
            # A list, not a dict: bytes and file objects can share a name.
            present = [(name, {c for c, _ in h["columns"]}) for name, h in headers]
            for name, has in present:
                for column, _ in columns:
                    if column not in has:
                        holder = next(n for n, cols in present if column in cols)
                        msg = (f"the file '{name}' has no column '{column}', which '{holder}' has: "
                               "pass missing_columns='insert' to read it as nulls there")
                        err = AvroSchemaMismatchError(msg)
                        err.file = name
                        raise err
        return unified, columns


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
        it, recursively, in sorted order), a list of paths, ``bytes``, or a binary file
        object. Several files are read in order as one frame; they must map to the same
        Polars schema.
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
    scan = _AvroScan(
        source,
        n_rows=n_rows,
        row_index_name=row_index_name,
        row_index_offset=row_index_offset,
        include_file_paths=include_file_paths,
        glob=glob,
        batch_size=batch_size,
        n_threads=n_threads,
        reader_schema=reader_schema,
        missing_columns=missing_columns,
        allow_missing_columns=allow_missing_columns,
    )
    return register_io_source(scan.batches, schema=scan.schema)


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
    row_index_name, row_index_offset, include_file_paths, glob, batch_size, n_threads, reader_schema, missing_columns, allow_missing_columns
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
    scan = _AvroScan(
        source,
        n_rows=n_rows,
        row_index_name=row_index_name,
        row_index_offset=row_index_offset,
        include_file_paths=include_file_paths,
        glob=glob,
        batch_size=batch_size,
        n_threads=n_threads,
        reader_schema=reader_schema,
        missing_columns=missing_columns,
        allow_missing_columns=allow_missing_columns,
    )
    names = list(scan.schema)
    if columns is not None:
        names = _column_names(scan, list(columns))
    frames = list(scan.batches(names, None, None, None))
    if not names:
        return _without_columns(sum(f.height for f in frames))
    if not frames:
        return pl.DataFrame(schema=scan.schema).select(names)
    df = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical", rechunk=False)
    # A select is a query of its own (about 0.2 ms): only when the order differs.
    return df if df.columns == names else df.select(names)


def _without_columns(height: int) -> pl.DataFrame:
    """A frame of this height and no columns (an Avro record with no fields)."""
    df = pl.DataFrame({"_": pl.repeat(None, height, eager=True)})
    df.drop_in_place("_")
    return df


def _column_names(scan: _AvroScan, columns: list[Any]) -> list[str]:
    file_names = list(scan.file_schema.schema)
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
    first = [scan.row_index_name] if scan.row_index_name is not None else []
    last = [scan.include_file_paths] if scan.include_file_paths is not None else []
    return [*first, *columns, *last]


def read_avro_schema(
    source: AvroSource,
    *,
    glob: bool = True,
    reader_schema: str | Mapping[str, Any] | None = None,
    missing_columns: Literal["insert", "raise"] = "raise",
) -> pl.Schema:
    """The Polars schema the source reads into, from the headers alone: the schema
    :func:`scan_avro` gives with the same arguments (several files whose writer schemas
    differ unified, or the reader schema's columns).

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro_schema("examples/weather.avro")["temp"]
    Float64
    """
    scan = _AvroScan(
        source,
        n_rows=None,
        row_index_name=None,
        row_index_offset=0,
        include_file_paths=None,
        glob=glob,
        batch_size=None,
        n_threads=None,
        reader_schema=reader_schema,
        missing_columns=missing_columns,
    )
    return scan.file_schema.schema


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


def read_avro_header(source: AvroSource) -> AvroHeader:
    """The header of an Avro file: the raw writer schema, the codec and the user metadata.

    Examples
    --------
    >>> import polars_avro
    >>> header = polars_avro.read_avro_header("examples/weather.avro")
    >>> header.codec, header.metadata["example.source"]
    ('deflate', b'polars-avro sample')
    """
    sources = expand_sources(source)
    header = _internal.read_header(Sources.opened(sources.items[0]))
    return AvroHeader(
        schema=json.loads(header["schema_json"]),
        schema_json=header["schema_json"],
        codec=header["codec"],
        metadata=dict(header["metadata"]),
        sync_marker=header["sync_marker"],
    )
