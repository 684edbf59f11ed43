"""Partitioned and rolled-over output: ``sink_avro(lf, pl.PartitionBy(...))``.

Rows go to hive-style folders by the values of the key expressions (``key=value/``, values
percent-encoded, nulls as ``__HIVE_DEFAULT_PARTITION__``, as Polars writes them), and each
folder's rows into part files numbered from ``00000000.avro``, a new one started when
``max_rows_per_file`` rows or about ``approximate_bytes_per_file`` bytes (of the frame in
memory, as Polars measures it) are reached. Every part is written like any file (a
temporary local file, or a multipart upload completed at the end). Local parts are renamed
into place together once the whole output is written: a failed write (a query error, a
full disk, Ctrl-C) removes every part it wrote and the folders it made, and leaves files
already there as they were.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from polars_avro import _internal
from polars_avro._hive import HIVE_NULL
from polars_avro._sources import is_remote_url
from polars_avro.exceptions import AvroArgumentError, AvroColumnNotFoundError, check_counts

#: The columns holding each row's key values as text, while the rows are being split.
_KEY_TEXT = "__polars_avro_key_{}"


@dataclass(frozen=True)
class Partitioning:
    """Where partitioned output goes and how it is split."""

    base: str
    keys: list[pl.Expr]
    include_key: bool
    max_rows: int | None
    max_bytes: int | None

    @classmethod
    def of(
        cls,
        target: Any,
        partition_by: str | pl.Expr | Sequence[str | pl.Expr] | None,
        max_rows_per_file: int | None,
        approximate_bytes_per_file: int | None,
        include_key: bool,
    ) -> Partitioning | None:
        """The partitioning a sink asks for: a ``pl.PartitionBy`` target, or the keyword form."""
        inner = getattr(target, "_pl_partition_by", None)
        if inner is not None:
            if inner.file_path_provider is not None:
                msg = "PartitionBy(file_path_provider=...) is not supported by sink_avro: name parts by key and index"
                raise AvroArgumentError(msg)
            keys = [pl.Expr._from_pyexpr(k) for k in inner.key or []]
            max_bytes = inner.approximate_bytes_per_file
            return cls(
                str(inner.base_path),
                keys,
                True if inner.include_key is None else bool(inner.include_key),
                inner.max_rows_per_file,
                None if max_bytes >= (1 << 64) - 1 else max_bytes,
            )
        asked = {
            "partition_by": partition_by,
            "max_rows_per_file": max_rows_per_file,
            "approximate_bytes_per_file": approximate_bytes_per_file,
        }
        asked = {name: value for name, value in asked.items() if value is not None}
        if not asked:
            return None
        check_counts(max_rows_per_file=max_rows_per_file, approximate_bytes_per_file=approximate_bytes_per_file)
        by = " and ".join(asked)
        if not isinstance(target, (str, os.PathLike)):
            found = type(target).__name__
            msg = f"{by} asks for partitioned output, which goes to a folder (a path or URL), found {found}"
            raise AvroArgumentError(msg)
        if os.path.exists(target) and not os.path.isdir(target):
            msg = (
                f"{by} asks for partitioned output, which goes to a folder, and {os.fspath(target)!r} "
                "is a file: pass a folder's path"
            )
            raise AvroArgumentError(msg)
        if isinstance(partition_by, (str, pl.Expr)):
            partition_by = [partition_by]
        elif partition_by is not None and not isinstance(partition_by, (list, tuple)):
            found = type(partition_by).__name__
            msg = f"partition_by takes a column name, an expression or a list of them, found {found}"
            raise AvroArgumentError(msg)
        keys = [_partition_key(k) for k in partition_by or []]
        return cls(os.fspath(target), keys, include_key, max_rows_per_file, approximate_bytes_per_file)

    @property
    def key_names(self) -> list[str]:
        return [k.meta.output_name() for k in self.keys]

    def prepare(self, lf: pl.LazyFrame) -> tuple[pl.LazyFrame, list[str]]:
        """The query with the key columns computed, and the columns the files hold."""
        columns = list(lf.collect_schema().names())
        missing = [n for key in self.keys for n in key.meta.root_names() if n not in columns]
        if missing:
            msg = f"partition_by reads the column '{missing[0]}', which the data does not have; its columns: {columns}"
            raise AvroColumnNotFoundError(msg)
        names = self.key_names
        if self.include_key:
            columns += [n for n in names if n not in columns]
        else:
            columns = [c for c in columns if c not in names]
        return (lf.with_columns(self.keys) if self.keys else lf), columns

    def folder(self, values: tuple[str | None, ...], names: list[str]) -> str:
        """The hive folder of one key's values, under the base."""
        from urllib.parse import quote

        parts = [f"{quote(n, safe='')}={HIVE_NULL if v is None else quote(v, safe='')}" for n, v in zip(names, values)]
        if is_remote_url(self.base):
            # A URL's path is decoded once into the object's key: encoded again, the key
            # keeps the percent-encoded folder names, as Polars writes them.
            parts = [quote(p, safe="=") for p in parts]
        return "/".join([self.base.rstrip("/"), *parts])


#: Estimated bytes of the batches a partitioned write asks the engine for. Each batch is
#: split by key and each piece written on its own, at a fixed cost per piece: batches
#: larger than the engine's own (100,000 rows) spread it over more rows, and memory holds
#: only a few of them.
BATCH_BYTES = 32 << 20


def batch_rows(schema: pl.Schema) -> int:
    """Rows of about BATCH_BYTES for this schema, between 100,000 and 1,000,000."""
    width = sum(_estimated_width(dtype) for dtype in schema.values())
    return int(min(1_000_000, max(100_000, BATCH_BYTES // max(width, 1))))


def _estimated_width(dtype: pl.DataType) -> int:
    if dtype.is_nested():
        return 64
    if dtype in (pl.String, pl.Binary):
        return 32
    return 8


class _Part:
    """One part file being written."""

    def __init__(self, path: str, opener: Any, replacements: _internal.Replacements) -> None:
        self.path = path
        self.rows = 0
        self.bytes = 0
        self.context = opener(path, replacements)
        self.writer = self.context.__enter__()

    def finish(self) -> None:
        self.context.__exit__(None, None, None)

    def abandon(self, error: BaseException) -> None:
        self.context.__exit__(type(error), error, error.__traceback__)


class PartitionedWriter:
    """The parts of a partitioned output being written, batch by batch.

    ``opener(path, replacements)`` is a context manager giving a file's writer (finished on a
    clean exit, abandoned on an exception; a local file finished waits in ``replacements``
    to be put in place with the others); ``convert(df)`` brings a frame to what the writer takes.
    Batches are of the query ``Partitioning.prepare`` gave.
    """

    def __init__(self, partitioning: Partitioning, columns: list[str], opener: Any, convert: Any) -> None:
        self.partitioning = partitioning
        self.columns = columns
        self.opener = opener
        self.convert = convert
        self.open_parts: dict[tuple[str | None, ...], _Part] = {}
        self.next_index: dict[tuple[str | None, ...], int] = {}
        #: The local parts finished, put in place when all are.
        self.replacements = _internal.Replacements()
        #: The folders this output made, outermost first.
        self.made_folders: list[str] = []

    def write(self, batch: pl.DataFrame) -> None:
        for key, rows in _split(batch, self.partitioning, self.columns):
            while rows.height:
                part = self.open_parts.get(key) or self._open(key)
                take = _rows_that_fit(rows, part, self.partitioning)
                chunk = rows.slice(0, take)
                part.writer.write(self.convert(chunk), chunk.height)
                part.rows += chunk.height
                part.bytes += int(chunk.estimated_size())
                rows = rows.slice(take)
                if _is_full(part, self.partitioning):
                    self._close(key)

    def _open(self, key: tuple[str | None, ...]) -> _Part:
        index = self.next_index.get(key, 0)
        self.next_index[key] = index + 1
        path = f"{self.partitioning.folder(key, self.partitioning.key_names)}/{index:08d}.avro"
        if not is_remote_url(path):
            self._make_folders(os.path.dirname(path))
        part = self.open_parts[key] = _Part(path, self.opener, self.replacements)
        return part

    def _make_folders(self, folder: str) -> None:
        missing = []
        while folder and not os.path.isdir(folder):
            missing.append(folder)
            folder = os.path.dirname(folder)
        for made in reversed(missing):
            os.makedirs(made, exist_ok=True)
            self.made_folders.append(made)

    def _close(self, key: tuple[str | None, ...]) -> None:
        self.open_parts.pop(key).finish()

    def finish(self) -> None:
        """Finishes the parts still open, then puts every local part in place."""
        for key in list(self.open_parts):
            self._close(key)
        self.replacements.commit()

    def abandon(self, error: BaseException) -> None:
        """Abandons the parts still open, removes the local parts finished and the folders made.

        No partial file or object is left, and a local output is as it was (objects already
        completed stay).
        """
        for part in self.open_parts.values():
            part.abandon(error)
        self.open_parts.clear()
        self.replacements.discard()
        for folder in reversed(self.made_folders):
            with contextlib.suppress(OSError):  # not empty: someone else wrote there meanwhile
                os.rmdir(folder)


def _split(
    batch: pl.DataFrame, partitioning: Partitioning, columns: list[str]
) -> Iterator[tuple[tuple[str | None, ...], pl.DataFrame]]:
    """The batch's rows by key (values as text, as folder names show them), in order."""
    if not partitioning.keys:
        yield (), batch.select(columns)
        return
    texts = [_KEY_TEXT.format(i) for i in range(len(partitioning.keys))]
    keyed = batch.with_columns(pl.col(n).cast(pl.String).alias(t) for n, t in zip(partitioning.key_names, texts))
    for key, rows in keyed.partition_by(texts, as_dict=True, maintain_order=True).items():
        yield tuple(key), rows.select(columns)


def _rows_that_fit(rows: pl.DataFrame, part: _Part, partitioning: Partitioning) -> int:
    fit = rows.height
    if partitioning.max_rows is not None:
        fit = min(fit, partitioning.max_rows - part.rows)
    if partitioning.max_bytes is not None and rows.height:
        per_row = max(rows.estimated_size() / rows.height, 1e-9)
        fit = min(fit, max(1, math.ceil((partitioning.max_bytes - part.bytes) / per_row)))
    return max(fit, 1)


def _is_full(part: _Part, partitioning: Partitioning) -> bool:
    return (partitioning.max_rows is not None and part.rows >= partitioning.max_rows) or (
        partitioning.max_bytes is not None and part.bytes >= partitioning.max_bytes
    )


def _partition_key(key: object) -> pl.Expr:
    """One key of ``partition_by``: a column name or an expression."""
    if isinstance(key, str):
        return pl.col(key)
    if isinstance(key, pl.Expr):
        return key
    msg = f"partition_by takes column names and expressions, found {type(key).__name__} {key!r}"
    raise AvroArgumentError(msg)
