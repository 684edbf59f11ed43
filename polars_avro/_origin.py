"""Which Avro file a frame came from, unchanged: so that writing it again keeps that file's schema.

``scan_avro`` and ``read_avro`` of one file remember, for the very LazyFrame or DataFrame they
return, how to read that file's header (its writer schema and user metadata) again. A frame
derived from it (any query step, ``with_columns``, ...) is another object, and remembers
nothing: its columns may not be the file's any more. Entries go when their frame does.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Union

import polars as pl

Frame = Union[pl.DataFrame, pl.LazyFrame]

#: id(frame) -> (a weak reference to the frame, its Polars schema when read, how to read the header).
_ORIGINS: dict[int, tuple[weakref.ref[Any], pl.Schema, Callable[[], Any]]] = {}


def remember(frame: Frame, schema: pl.Schema, header: Callable[[], Any]) -> None:
    """``frame`` holds the columns ``schema`` of the file whose header ``header()`` reads."""
    key = id(frame)
    _ORIGINS[key] = (weakref.ref(frame, lambda _: _ORIGINS.pop(key, None)), schema, header)


def source_header(frame: Frame, schema: pl.Schema) -> Any | None:
    """The header of the file ``frame`` was read from unchanged, if its columns are still ``schema``."""
    entry = _ORIGINS.get(id(frame))
    if entry is None or entry[0]() is not frame or entry[1] != schema:
        return None
    return entry[2]()
