"""Type descriptions of Polars dtypes, which the Rust writer reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_avro import _internal
from polars_avro._polars.features import HAS_MAP

if TYPE_CHECKING:
    # A type or its class (Polars gives nested types as either).
    from polars._typing import PolarsDataType

#: The types without parameters, by the names the Rust core gives them: (description
#: name, Polars class name).
_PLAIN: dict[str, type[pl.DataType]] = {name: getattr(pl, polars_name) for name, polars_name in _internal.PLAIN_TYPES}


def describe_dtype(dtype: PolarsDataType) -> dict[str, Any]:
    """The description of a Polars type that the Rust writer reads.

    The vocabulary of Rust's ``FrameType::from_json``: every integer width, Duration, Array and
    the categories of Enums.
    """
    for name, plain in _PLAIN.items():
        if dtype == plain:
            return {"type": name}
    if isinstance(dtype, pl.Datetime):
        return {"type": "datetime", "unit": dtype.time_unit, "time_zone": dtype.time_zone}
    if isinstance(dtype, pl.Duration):
        return {"type": "duration", "unit": dtype.time_unit}
    if isinstance(dtype, pl.Decimal):
        return {"type": "decimal", "precision": dtype.precision, "scale": dtype.scale}
    if isinstance(dtype, pl.Enum):
        return {"type": "enum", "categories": dtype.categories.to_list()}
    if isinstance(dtype, pl.List):
        return {"type": "list", "inner": describe_dtype(dtype.inner)}
    if isinstance(dtype, pl.Array):
        return {"type": "array", "inner": describe_dtype(dtype.inner), "size": dtype.size}
    if isinstance(dtype, pl.Struct):
        return {"type": "struct", "fields": [[f.name, describe_dtype(f.dtype)] for f in dtype.fields]}
    if HAS_MAP and isinstance(dtype, pl.Map):
        return {"type": "map", "key": describe_dtype(dtype.key), "value": describe_dtype(dtype.value)}
    return {"type": "unsupported", "name": str(dtype)}


def contains(dtype: PolarsDataType, test: Callable[[PolarsDataType], bool]) -> bool:
    """Whether `dtype` or any type nested in it passes `test`."""
    if test(dtype):
        return True
    if isinstance(dtype, (pl.List, pl.Array)):
        return contains(dtype.inner, test)
    if isinstance(dtype, pl.Struct):
        return any(contains(f.dtype, test) for f in dtype.fields)
    if HAS_MAP and isinstance(dtype, pl.Map):
        return contains(dtype.value, test)
    return False
