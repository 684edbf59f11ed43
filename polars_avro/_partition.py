"""Partitioned and rolled-over output: ``sink_avro(lf, pl.PartitionBy(...))``.

What the sink asks for (:class:`Partitioning`), and each batch split by the values of the key
expressions. Rust's ``PartitionedWriter`` does the rest: hive-style folders (``key=value/``,
values percent-encoded, nulls as ``__HIVE_DEFAULT_PARTITION__``, as Polars writes them), part
files numbered from ``00000000.avro``, a new one started when ``max_rows_per_file`` rows or
about ``approximate_bytes_per_file`` bytes (of the frame in memory, as Polars measures it) are
reached, local parts renamed into place together once the whole output is written, and a
failed write (a query error, a full disk, Ctrl-C) undone: every part it wrote and the folders
it made removed, files already there left as they were.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from polars_avro import _fsspec, _internal
from polars_avro.exceptions import AvroArgumentError, AvroColumnNotFoundError

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

    def __post_init__(self) -> None:
        if _internal.is_store_url(self.base) and _fsspec.reaches(self.base):
            msg = (
                f"partitioned output goes to a local folder or an object store (s3, gs, az, abfs, http), and "
                f"'{self.base}' is a file system only fsspec reaches: write each part with write_avro"
            )
            raise AvroArgumentError(msg)

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
        _internal.check_counts(
            max_rows_per_file=max_rows_per_file, approximate_bytes_per_file=approximate_bytes_per_file
        )
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


def split(
    batch: pl.DataFrame, partitioning: Partitioning, columns: list[str]
) -> Iterator[tuple[list[str | None], pl.DataFrame]]:
    """The batch's rows by key (values as text, as folder names show them), in order.

    Rust's ``PartitionedWriter`` puts each key's rows in its parts.
    """
    if not partitioning.keys:
        yield [], batch.select(columns)
        return
    texts = [_KEY_TEXT.format(i) for i in range(len(partitioning.keys))]
    keyed = batch.with_columns(pl.col(n).cast(pl.String).alias(t) for n, t in zip(partitioning.key_names, texts))
    for key, rows in keyed.partition_by(texts, as_dict=True, maintain_order=True).items():
        yield list(key), rows.select(columns)


def _partition_key(key: object) -> pl.Expr:
    """One key of ``partition_by``: a column name or an expression."""
    if isinstance(key, str):
        return pl.col(key)
    if isinstance(key, pl.Expr):
        return key
    msg = f"partition_by takes column names and expressions, found {type(key).__name__} {key!r}"
    raise AvroArgumentError(msg)
