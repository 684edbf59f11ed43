"""Dask: Avro files read as a ``dask.dataframe.DataFrame`` in splits, and written back.

``pip install 'polars-avro[dask]'``, then::

    import polars_avro.dask

    ddf = polars_avro.dask.read_avro("s3://bucket/events/")
    ddf[["id", "amount"]].sum().compute()  # only these two columns are decoded
    polars_avro.dask.to_avro(ddf, "s3://bucket/out/")

Each partition is one split (:func:`polars_avro.plan_splits`), read by
:func:`polars_avro.read_split` in Rust without the GIL, through ``dd.from_map``: Dask's
column pruning reaches the reader. Dask is imported here only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
import polars as pl
import pyarrow as pa

from polars_avro import _internal
from polars_avro._sources import AvroSource
from polars_avro._splits import AvroSplit, plan_splits, read_split
from polars_avro._write import write_frames
from polars_avro.exceptions import AvroArgumentError

__all__ = ["read_avro", "to_avro"]

#: Bytes per split, so per partition, when the caller does not say: Avro of this size
#: decodes to partitions of about 100 MB, Dask's advice.
DEFAULT_TARGET_BYTES = 32 << 20


def _pandas(df: pl.DataFrame) -> pd.DataFrame:
    """A partition as Dask keeps it: nested columns (lists, structs, maps) backed by Arrow.

    As Python objects, Dask would take them for strings and turn them into their text.
    """
    return df.to_arrow(compat_level=pl.CompatLevel.oldest()).to_pandas(types_mapper=_nested_as_arrow)


def _nested_as_arrow(dtype: pa.DataType) -> pd.ArrowDtype | None:
    return pd.ArrowDtype(dtype) if pa.types.is_nested(dtype) else None


class _ReadPartition:
    """Reads one split into a pandas frame: Dask calls it with the columns it needs."""

    def __init__(self, predicate: pl.Expr | None, storage_options: Mapping[str, Any] | None) -> None:
        self.predicate = predicate
        self.storage_options = storage_options

    def __call__(self, split: AvroSplit, columns: list[str] | None = None) -> pd.DataFrame:
        frames = read_split(split, columns=columns, predicate=self.predicate, storage_options=self.storage_options)
        return _pandas(pl.concat(list(frames), how="vertical"))


def read_avro(
    paths: AvroSource,
    *,
    columns: list[str] | None = None,
    filter: pl.Expr | None = None,  # noqa: A002 (the name Dask's readers use is filters, for tuples)
    storage_options: Mapping[str, Any] | None = None,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    **plan_options: Any,
) -> dd.DataFrame:
    """Read Avro files as a Dask DataFrame, one partition per split.

    Parameters
    ----------
    paths
        As for :func:`polars_avro.scan_avro`: paths, globs, directories (hive partitions
        become columns) or object store URLs.
    columns
        Only these columns. Later selections (``ddf[["a", "b"]]``) reach the reader too.
    filter
        A Polars expression: only the rows where it holds (its columns are decoded first).
    storage_options
        As for :func:`polars_avro.scan_avro`; they go to the workers with the tasks.
    target_bytes
        Bytes per split, so per partition (see :func:`polars_avro.plan_splits`).
    **plan_options
        The other keywords of :func:`polars_avro.plan_splits` (``reader_schema``,
        ``missing_columns``, ``hive_partitioning``, ``include_file_paths``, ...).

    Examples
    --------
    >>> import dask
    >>> import polars_avro.dask
    >>> ddf = polars_avro.dask.read_avro(polars_avro.sample_file(), target_bytes=4096)
    >>> ddf.npartitions
    5
    >>> with dask.config.set(scheduler="synchronous"):
    ...     ddf[ddf["temp"] > 30][["station", "temp"]].compute().shape
    (30, 2)
    """
    splits = plan_splits(paths, target_bytes=target_bytes, storage_options=storage_options, **plan_options)
    if not splits:
        msg = "no Avro file to read: a Dask DataFrame needs at least one partition"
        raise AvroArgumentError(msg)
    schema = splits[0].schema
    meta = _pandas(pl.DataFrame(schema=schema))
    options = dict(storage_options) if storage_options is not None else None
    ddf = dd.from_map(_ReadPartition(filter, options), splits, meta=meta, label="read-avro", enforce_metadata=False)
    return ddf[list(columns)] if columns is not None else ddf


def _write_partition(part: pd.DataFrame, target: str, storage_options: Any, options: dict[str, Any]) -> str | None:
    rows = write_frames([pl.from_pandas(part)], target, storage_options=storage_options, **options)
    return target if rows else None


def to_avro(
    ddf: dd.DataFrame,
    path: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    compute: bool = True,
    **write_options: Any,
) -> list[str] | list[Any]:
    """Write a Dask DataFrame as Avro files, one per partition, under ``path``.

    Parameters
    ----------
    ddf
        The frame.
    path
        A local folder (made if missing) or an object store prefix (``s3://bucket/out``).
        The parts are ``part.0.avro``, ``part.1.avro``, ... by partition, numbers
        zero-padded so that names sort in partition order; partitions without rows write
        no file. :func:`read_avro` and ``polars_avro.scan_avro(path)`` read them back in order.
    storage_options
        As for :func:`polars_avro.write_avro`; they go to the workers with the tasks.
    compute
        Write now and return the files written; else return the delayed writes.
    **write_options
        The options of :func:`polars_avro.write_avro` (``compression``, ``name``,
        ``schema``, ``metadata``, ``sync_interval``, ...).
    """
    base = str(path).rstrip("/")
    if not _internal.is_store_url(base):
        os.makedirs(base, exist_ok=True)
    options = dict(storage_options) if storage_options is not None else None
    width = len(str(max(ddf.npartitions - 1, 0)))
    writes = [
        dask.delayed(_write_partition)(part, f"{base}/part.{i:0{width}d}.avro", options, write_options)
        for i, part in enumerate(ddf.to_delayed())
    ]
    if not compute:
        return writes
    return [target for target in dask.compute(*writes) if target is not None]
