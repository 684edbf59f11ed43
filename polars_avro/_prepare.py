"""How a frame crosses into Rust: each column's type description, and the casts the writer needs.

Categorical columns become Enums (of the values a frame holds) or are refused (a stream's),
an Enum of no category becomes String, Float16 becomes Float32, and Enum and Map columns go
as their physical codes and entry lists, which every supported Polars version hands over alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from polars_avro._polars.features import ARRAY_EXPLODE_DROPS_EMPTY, EXPLODE_DROPS_EMPTY, FLOAT16, HAS_MAP
from polars_avro._types import contains, describe_dtype
from polars_avro.exceptions import AvroSchemaError

if TYPE_CHECKING:
    from polars._typing import PolarsDataType


class Prepared:
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
    def of_frame(cls, df: pl.DataFrame) -> Prepared:
        """Categorical columns become Enums of the values they hold, in order of appearance."""
        dtypes = {
            name: _writable(dtype, lambda d, expr: _categories_of(df, expr), pl.col(name))
            for name, dtype in df.schema.items()
        }
        return cls(pl.Schema(dtypes))

    @classmethod
    def of_schema(cls, schema: pl.Schema) -> Prepared:
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
