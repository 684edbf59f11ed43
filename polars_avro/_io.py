"""scan_avro, read_avro, read_avro_schema and read_avro_header."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from polars_avro import _internal
from polars_avro._sources import AvroSource, Sources, expand_sources
from polars_avro._types import FrameSchema
from polars_avro.exceptions import AvroArgumentError, AvroSchemaMismatchError

_MASK = "__polars_avro_predicate_mask"


def _index_type() -> pl.DataType:
    get = getattr(pl, "get_index_type", None)
    return get() if get is not None else pl.UInt32()


def scan_avro(
    source: AvroSource,
    *,
    n_rows: int | None = None,
    row_index_name: str | None = None,
    row_index_offset: int = 0,
    include_file_paths: str | None = None,
    glob: bool = True,
    batch_size: int | None = None,
) -> pl.LazyFrame:
    """Lazily read Avro object container files.

    The projection, the predicate and the row limit of the query are pushed into the
    reader: columns nobody asks for are skipped without being decoded, the predicate's
    columns are decoded first and the other columns only for the rows that pass, and
    reading stops as soon as enough rows are out.

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
        holds at least this many rows).

    Returns
    -------
    LazyFrame

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> lf = pl.scan_avro("tests/data/weather.avro")  # doctest: +SKIP
    >>> lf.filter(pl.col("temp") > 0).select("station", "temp").collect()  # doctest: +SKIP
    """
    if n_rows is not None and n_rows < 0:
        msg = f"n_rows must not be negative, found {n_rows}"
        raise AvroArgumentError(msg)
    if row_index_offset < 0:
        msg = f"row_index_offset must not be negative, found {row_index_offset}"
        raise AvroArgumentError(msg)
    sources = expand_sources(source, glob=glob)
    first = sources.items[0]
    header = _internal.read_header(Sources.opened(first))
    file_schema = FrameSchema(header["columns"])
    schema = _output_schema(file_schema.schema, row_index_name, include_file_paths)

    def io_source(
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        limit: int | None,
        polars_batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        return _read_batches(
            sources,
            file_schema,
            with_columns=with_columns,
            predicate=predicate,
            n_rows=n_rows,
            limit=limit,
            batch_size=batch_size or polars_batch_size,
            row_index_name=row_index_name,
            row_index_offset=row_index_offset,
            include_file_paths=include_file_paths,
        )

    return register_io_source(io_source, schema=schema)


def _output_schema(
    file_schema: pl.Schema, row_index_name: str | None, include_file_paths: str | None
) -> pl.Schema:
    columns: list[tuple[str, pl.DataType]] = []
    if row_index_name is not None:
        columns.append((row_index_name, _index_type()))
    columns.extend(file_schema.items())
    if include_file_paths is not None:
        columns.append((include_file_paths, pl.String()))
    names = [n for n, _ in columns]
    for extra in (row_index_name, include_file_paths):
        if extra is not None and names.count(extra) > 1:
            msg = f"the column name '{extra}' is already a column of the file"
            raise AvroArgumentError(msg)
    return pl.Schema(columns)


def _read_batches(
    sources: Sources,
    file_schema: FrameSchema,
    *,
    with_columns: list[str] | None,
    predicate: pl.Expr | None,
    n_rows: int | None,
    limit: int | None,
    batch_size: int | None,
    row_index_name: str | None,
    row_index_offset: int,
    include_file_paths: str | None,
) -> Iterator[pl.DataFrame]:
    extras = {row_index_name, include_file_paths} - {None}
    file_columns = None if with_columns is None else [c for c in with_columns if c not in extras]
    predicate_spec = None
    if predicate is not None:
        mask_expr = predicate.alias(_MASK)

        def evaluate(df: pl.DataFrame) -> pl.Series:
            df = file_schema.apply(df)
            if row_index_name is not None and row_index_name in df.columns:
                df = df.with_columns(pl.col(row_index_name).cast(_index_type()))
            return df.with_columns(mask_expr).get_column(_MASK)

        predicate_spec = (predicate.meta.root_names(), evaluate)

    rows_left = n_rows  # before the predicate, across files
    out_left = limit  # rows Polars asked for, after the predicate
    row_offset = row_index_offset
    first_name = sources.name(sources.items[0])
    for i, item in enumerate(sources.items):
        if rows_left == 0 or out_left == 0:
            return
        name = sources.name(item)
        opened = Sources.opened(item)
        if i > 0:
            _check_same_schema(file_schema, opened, name, first_name)
            opened = Sources.opened(item)
        reader = _internal.FileReader(
            opened,
            columns=file_columns,
            n_rows=rows_left,
            batch_size=batch_size,
            row_index=(row_index_name, row_offset) if row_index_name is not None else None,
            file_path_column=(include_file_paths, name) if include_file_paths is not None else None,
            predicate=predicate_spec,
        )
        while (batch := reader.next_batch()) is not None:
            df, height = batch
            if df.width == 0 and height > 0:
                df = pl.DataFrame({"_": pl.repeat(None, height, eager=True)}).drop("_")
            df = file_schema.apply(df)
            if row_index_name is not None and row_index_name in df.columns:
                df = df.with_columns(pl.col(row_index_name).cast(_index_type()))
            if out_left is not None:
                df = df.head(out_left)
                out_left -= df.height
            yield df
            if out_left == 0:
                return
        row_offset += reader.rows_read
        if rows_left is not None:
            rows_left -= reader.rows_read


def _check_same_schema(expected: FrameSchema, opened: Any, name: str, first_name: str) -> None:
    columns = FrameSchema(_internal.read_header(opened)["columns"]).schema
    if columns == expected.schema:
        return
    differences = []
    for col in dict.fromkeys([*expected.schema.names(), *columns.names()]):
        a, b = expected.schema.get(col), columns.get(col)
        if a != b:
            differences.append(f"'{col}': {a} in '{first_name}', {b} in '{name}'")
    msg = (
        f"the files '{first_name}' and '{name}' map to different Polars schemas: "
        + "; ".join(differences)
    )
    err = AvroSchemaMismatchError(msg)
    err.file = name
    raise err


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
) -> pl.DataFrame:
    """Read Avro object container files into a DataFrame.

    Parameters
    ----------
    source
        As for :func:`scan_avro`: a path, glob, directory, list of paths, ``bytes`` or a
        binary file object.
    columns
        Columns to read, by name or by index (into the file's columns).
    n_rows
        Stop after this many records.
    row_index_name, row_index_offset, include_file_paths, glob, batch_size
        As for :func:`scan_avro`.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro("tests/data/weather.avro", columns=["station"])  # doctest: +SKIP
    """
    lf = scan_avro(
        source,
        n_rows=n_rows,
        row_index_name=row_index_name,
        row_index_offset=row_index_offset,
        include_file_paths=include_file_paths,
        glob=glob,
        batch_size=batch_size,
    )
    if columns is not None:
        columns = list(columns)
        if all(isinstance(c, int) for c in columns):
            names = lf.collect_schema().names()
            file_names = [n for n in names if n not in (row_index_name, include_file_paths)]
            try:
                columns = [file_names[c] for c in columns]  # type: ignore[index]
            except IndexError:
                msg = f"column index out of range: the file has {len(file_names)} columns"
                raise AvroArgumentError(msg) from None
        elif not all(isinstance(c, str) for c in columns):
            msg = "columns must be all names or all indices"
            raise AvroArgumentError(msg)
        missing = [c for c in columns if c not in lf.collect_schema()]
        if missing:
            msg = f"columns not in the file: {missing}; the columns are: {lf.collect_schema().names()}"
            raise AvroArgumentError(msg)
        first = [row_index_name] if row_index_name is not None else []
        last = [include_file_paths] if include_file_paths is not None else []
        lf = lf.select([*first, *columns, *last])
    return lf.collect()


def read_avro_schema(source: AvroSource) -> pl.Schema:
    """The Polars schema an Avro file reads into, from its header alone (the first file
    for several sources).

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.read_avro_schema("tests/data/weather.avro")  # doctest: +SKIP
    """
    sources = expand_sources(source)
    header = _internal.read_header(Sources.opened(sources.items[0]))
    return FrameSchema(header["columns"]).schema


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
    >>> polars_avro.read_avro_header("tests/data/weather.avro").codec  # doctest: +SKIP
    'snappy'
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
