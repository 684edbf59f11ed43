"""Polars dtypes from the type descriptions the Rust core gives."""

from __future__ import annotations

import json
from typing import Any

import polars as pl

#: Whether this Polars has a Map dtype (Polars 2); older versions read Avro maps as
#: ``List(Struct({"key": String, "value": V}))``.
HAS_MAP = hasattr(pl, "Map")

_PLAIN: dict[str, Any] = {
    "null": pl.Null,
    "boolean": pl.Boolean,
    "int32": pl.Int32,
    "int64": pl.Int64,
    "uint32": pl.UInt32,
    "uint64": pl.UInt64,
    "float32": pl.Float32,
    "float64": pl.Float64,
    "string": pl.String,
    "binary": pl.Binary,
    "date": pl.Date,
    "time": pl.Time,
}


def dtype_from_description(desc: dict[str, Any]) -> pl.DataType:
    kind = desc["type"]
    if kind in _PLAIN:
        return _PLAIN[kind]()
    if kind == "datetime":
        return pl.Datetime(desc["unit"], desc["time_zone"])
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


def has_map(desc: dict[str, Any]) -> bool:
    kind = desc["type"]
    if kind == "map":
        return True
    if kind == "list":
        return has_map(desc["inner"])
    if kind == "struct":
        return any(has_map(d) for _, d in desc["fields"])
    return False


class FrameSchema:
    """The Polars schema of a file's columns, and which columns need a cast to Map."""

    def __init__(self, columns: list[tuple[str, str]]) -> None:
        self.descriptions = [(name, json.loads(desc)) for name, desc in columns]
        self.schema = pl.Schema(
            [(name, dtype_from_description(d)) for name, d in self.descriptions]
        )
        self.map_columns = (
            {name: self.schema[name] for name, d in self.descriptions if has_map(d)}
            if HAS_MAP
            else {}
        )

    def apply(self, df: pl.DataFrame) -> pl.DataFrame:
        """Casts the list-of-key/value columns that are Avro maps to Polars Map."""
        casts = {n: t for n, t in self.map_columns.items() if n in df.columns}
        return df.cast(casts) if casts else df  # type: ignore[arg-type]
