"""Polars dtypes from the type descriptions the Rust core gives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from polars_avro import _internal
from polars_avro._polars.features import HAS_MAP
from polars_avro.exceptions import AvroSchemaError

if TYPE_CHECKING:
    # A type or its class (Polars gives nested types as either).
    from polars._typing import PolarsDataType

#: The types without parameters, both ways (the reader uses some, the writer all), by
#: the names the Rust core gives them: (description name, Polars class name).
_PLAIN: dict[str, type[pl.DataType]] = {name: getattr(pl, polars_name) for name, polars_name in _internal.PLAIN_TYPES}


def dtype_from_description(desc: dict[str, Any]) -> pl.DataType:
    kind = desc["type"]
    if kind in _PLAIN:
        return _PLAIN[kind]()
    if kind == "datetime":
        return pl.Datetime(desc["unit"], _known_time_zone(desc["time_zone"]))
    if kind == "duration":
        return pl.Duration(desc["unit"])
    if kind == "decimal":
        return pl.Decimal(desc["precision"], desc["scale"])
    if kind == "enum":
        return pl.Enum(desc["categories"])
    if kind == "list":
        return pl.List(dtype_from_description(desc["inner"]))
    if kind == "struct":
        return pl.Struct({name: dtype_from_description(d) for name, d in desc["fields"]})
    if kind == "map":
        value = dtype_from_description(desc["value"])
        if HAS_MAP:
            return pl.Map(pl.String, value)
        return pl.List(pl.Struct({"key": pl.String, "value": value}))
    msg = f"polars-avro produced a type this module does not know: {desc}"
    raise TypeError(msg)


def _known_time_zone(name: str | None) -> str | None:
    """The zone a timestamp was written from, once Polars has shown that it knows it.

    A file may name any zone in its ``polars.time_zone`` attribute; one Polars does not know
    must fail here, with the file's description, not later inside a query.
    """
    if name is None or name == "UTC":
        return name
    try:
        pl.Series([0], dtype=pl.Int64).cast(pl.Datetime("us", name))
    except pl.exceptions.ComputeError:
        msg = f"a timestamp's polars.time_zone attribute names '{name}', which is not a time zone Polars knows"
        raise AvroSchemaError(msg) from None
    return name


class FrameSchema:
    """The Polars schema of a file's columns, and how to bring frames to it."""

    def __init__(self, columns: list[tuple[str, str]]) -> None:
        # Each distinct description parsed once, in one parse of them all (wide files hold
        # few distinct types: a parse per column costs more than the rest of the scan).
        distinct = list(dict.fromkeys(desc for _, desc in columns))
        parsed = json.loads("[" + ",".join(distinct) + "]")
        dtypes = {desc: dtype_from_description(d) for desc, d in zip(distinct, parsed)}
        # Types made here, instances all: Polars need not check them (a cost per column).
        self.schema = pl.Schema([(name, dtypes[desc]) for name, desc in columns], check_dtypes=False)
        #: The columns whose type may change on the way from Rust: those holding an Enum or
        #: a Map (a name so spelled inside a description only adds a column to look at).
        changing = {desc for desc in distinct if any(kind in desc for kind in _CHANGE_ON_CROSSING)}
        self._may_change = [name for name, desc in columns if desc in changing] if changing else []

    def casts(self, df: pl.DataFrame, keep: Iterable[str] = ()) -> dict[Any, pl.DataType]:
        """The casts that bring a frame of these columns from Rust to their types, but those in `keep`.

        Avro maps arrive as lists of key/value structs (where Polars has Map), and Enum
        columns may arrive as Categorical (where Polars cannot take them over as they are).
        Every frame of the same columns crosses alike: a read finds them on its first.
        """
        present, keep = set(df.columns), set(keep)
        return {
            name: self.schema[name]
            for name in self._may_change
            if name in present and name not in keep and df.get_column(name).dtype != self.schema[name]
        }


#: The kinds of type descriptions whose Polars types the crossing from Rust may change.
_CHANGE_ON_CROSSING = ('"enum"', '"map"')


def describe_dtype(dtype: PolarsDataType) -> dict[str, Any]:
    """The description of a Polars type that the Rust writer reads.

    The vocabulary of :func:`dtype_from_description`, with every integer width, Duration, Array
    and the categories of Enums.
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
