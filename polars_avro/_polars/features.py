"""What the running Polars' API offers, read from the API itself: no query runs.

Each is a feature some supported releases have and others lack; the rest of the package asks
here, never which release runs.
"""

from __future__ import annotations

import inspect
from typing import Any

import polars as pl

#: Whether Polars has a Map dtype. Without it an Avro map reads as
#: ``List(Struct({"key": String, "value": V}))``, as Rust hands every map over.
HAS_MAP = hasattr(pl, "Map")

#: Whether Polars takes a Series of several chunks from Rust as it is. Releases without Map
#: concatenate them on the way, and cannot for dictionary arrays (enums): an eager read then
#: brings its batches over one at a time.
IMPORTS_CHUNKS = HAS_MAP

#: Whether Polars has Float16 (which the writer widens to Float32).
FLOAT16 = getattr(pl, "Float16", None)

#: Whether a query hands its batches out (``LazyFrame.collect_batches``).
BATCHES_OUT = hasattr(pl.LazyFrame, "collect_batches")

#: Whether ``pl.DataFrame`` takes a ``height``: a count's frames of no column.
_FRAMES_TAKE_HEIGHT = "height" in inspect.signature(pl.DataFrame).parameters


def _drops_empty(explode: Any) -> dict[str, bool]:
    """``explode``'s keyword for an empty list's row, where Polars takes one.

    Where it takes one, it warns (a DeprecationWarning at the user's write) that its default
    changes. The package explodes lists only for their values, nulls dropped: an empty list
    gives none.
    """
    return {"empty_as_null": False} if "empty_as_null" in inspect.signature(explode).parameters else {}


EXPLODE_DROPS_EMPTY = _drops_empty(pl.Expr.explode)
ARRAY_EXPLODE_DROPS_EMPTY = _drops_empty(pl.col("").arr.explode)


def without_columns(height: int) -> pl.DataFrame:
    """A frame of this height and no columns (an Avro record with no fields, a count)."""
    if _FRAMES_TAKE_HEIGHT:
        return pl.DataFrame(height=height)
    # A column made and dropped (a query of its own, about 0.15 ms).
    df = pl.DataFrame({"_": pl.repeat(None, height, eager=True)})
    df.drop_in_place("_")
    return df


def max_index() -> int:
    """The largest value of Polars' index type: the most rows a frame can hold.

    Its index type is UInt32 unless it is built for 64 bits (``polars[rt64]``, ``polars-u64-idx``).
    """
    get = getattr(pl, "get_index_type", None)
    return (1 << 64) - 1 if get is not None and get() == pl.UInt64 else (1 << 32) - 1
