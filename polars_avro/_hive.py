"""Hive-style partitions (``.../date=2024-01-01/country=NO/part-0.avro``).

The columns the folder names hold, and their types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from polars_avro._polars.features import without_columns
from polars_avro._sources import Pairs
from polars_avro.exceptions import AvroArgumentError

#: The folder value that stands for null, as Hive and Polars write it (the partitioned
#: writer's; Rust's reading rule, source/hive.rs, has its own).
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


class HivePartitions:
    """The partition columns of a scan, and a frame of their values with one row per file."""

    def __init__(self, schema: pl.Schema, values: pl.DataFrame) -> None:
        self.schema = schema
        self.values = values

    @classmethod
    def of_pairs(
        cls,
        per_file: Pairs | None,
        paths: list[str],
        *,
        hive_schema: Mapping[str, Any] | None,
        try_parse_dates: bool,
    ) -> HivePartitions | None:
        """The partitions of files whose (key, value) pairs are `per_file`, typed here.

        None without hive partitioning (no pairs). Rust parses the pairs
        (``source::partition_pairs``) where it lists the files.
        """
        if per_file is None:
            return None
        keys = [k for k, _ in per_file[0]]
        for i, pairs in enumerate(per_file):
            if [k for k, _ in pairs] != keys:
                msg = (
                    f"the hive partitions of '{paths[i]}' are {[k for k, _ in pairs]}, "
                    f"where '{paths[0]}' has {keys}: every file needs the same partition folders"
                )
                raise AvroArgumentError(msg)
        given = dict(hive_schema or {})
        unknown = [k for k in given if k not in keys]
        if unknown:
            msg = f"hive_schema names {unknown}, which are not partition keys of the paths; the keys are {keys}"
            raise AvroArgumentError(msg)
        columns = {}
        for j, key in enumerate(keys):
            raw = pl.Series(key, [pairs[j][1] for pairs in per_file], dtype=pl.String)
            columns[key] = _parse(raw, given.get(key), try_parse_dates=try_parse_dates)
        frame = pl.DataFrame(columns) if columns else without_columns(len(per_file))
        return cls(frame.schema, frame)


def _parse(raw: pl.Series, dtype: Any, *, try_parse_dates: bool) -> pl.Series:
    """The values as `dtype`, or, without one, as the narrowest type every value parses as.

    Int64, Float64, Boolean, Date and Datetime (with `try_parse_dates`), else String.
    """
    if dtype is not None:
        try:
            return raw.cast(dtype, strict=True)
        except Exception as e:  # noqa: BLE001 - Polars raises several kinds for a failed cast
            msg = f"the hive partition '{raw.name}' cannot be read as {dtype}: {e}"
            raise AvroArgumentError(msg) from None
    attempts: list[Callable[[pl.Series], pl.Series]] = [
        lambda s: _spelled(s, _INTEGER).cast(pl.Int64, strict=True),
        lambda s: _spelled(s, f"{_INTEGER}|{_FLOAT}").cast(pl.Float64, strict=True),
        _booleans,
    ]
    if try_parse_dates:
        attempts += [lambda s: s.str.to_date(strict=True), lambda s: s.str.to_datetime(strict=True)]
    if raw.null_count() < raw.len():
        for attempt in attempts:
            try:
                return attempt(raw)
            except Exception:  # noqa: BLE001, S112 - not this type: try the next
                continue
    return raw


#: How numbers are spelled where Polars reads a partition value as one (its CSV inference's
#: patterns): an integer has no sign but a minus, and a float's ``inf`` and ``NaN`` are spelled
#: so only ("+5", "nan", "Inf" and "infinity" are strings, as scan_parquet gives them).
_INTEGER = r"^-?\d+$"
_FLOAT = r"^[-+]?((\d*\.\d+)([eE][-+]?\d+)?|inf|NaN|(\d+)[eE][-+]?\d+|\d+\.)$"


def _spelled(raw: pl.Series, pattern: str) -> pl.Series:
    """`raw`, where each of its values matches `pattern`."""
    if not raw.drop_nulls().str.contains(pattern).all():
        msg = "not spelled so"
        raise ValueError(msg)
    return raw


def _booleans(raw: pl.Series) -> pl.Series:
    return _spelled(raw.str.to_lowercase(), "^(true|false)$") == "true"
