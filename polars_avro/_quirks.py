"""What the running Polars does that the package must mind, found by asking it.

Users have whichever Polars release their project pinned, and its runtime. A behaviour
that changed between releases is found by probing what the running Polars does (once, at
first use, then kept) or by what its interface offers, never by ``pl.__version__``: a
release nobody tested then takes the branch its behaviour calls for. docs/reading.md lists
what each release does and what the package does about it.
"""

from __future__ import annotations

import functools
import inspect
import sys
from typing import Any

import polars as pl


@functools.cache
def batches_raise() -> bool:
    """Whether ``collect_batches`` raises a failing query's error.

    Polars 1.34 to 1.36 print it (as an exception ignored in a destructor) and end the
    batches as if the query had finished: a writer taking them would complete a part-written
    file. Polars before 1.34 has no ``collect_batches``.
    """
    if not hasattr(pl.LazyFrame, "collect_batches"):
        return False
    failing = pl.LazyFrame({"a": ["x"]}).select(pl.col("a").str.to_integer())
    swallowed: list[Any] = []
    hook = sys.unraisablehook
    # Where the error is swallowed, it is printed as it is dropped: not for the probe's.
    sys.unraisablehook = swallowed.append
    try:
        batches = failing.collect_batches()
        for _ in batches:
            pass
        del batches
    except pl.exceptions.PolarsError:
        return True
    finally:
        sys.unraisablehook = hook
        for unraisable in swallowed:
            if not isinstance(unraisable.exc_value, pl.exceptions.PolarsError):
                hook(unraisable)  # not the probe's: printed as it would have been
    return False


@functools.cache
def io_sources_lose_enums() -> bool:
    """Whether an IO plugin's Enum columns come out of a query as Categorical.

    The source gives Enums (top-level or nested) and its schema says so. Found on 1.30 and 1.31.
    """
    from polars.io.plugins import register_io_source

    enum = pl.Enum(["a"])
    df = pl.DataFrame(
        [
            pl.Series("e", ["a"], enum),
            pl.Series("l", [["a"]], pl.List(enum)),
            pl.Series("s", [{"x": "a"}], pl.Struct({"x": enum})),
        ]
    )
    return register_io_source(lambda *_: iter([df]), schema=df.schema).collect().schema != df.schema


def _drops_empty(explode: Any) -> dict[str, bool]:
    """``explode``'s keyword for an empty list's row, where Polars takes one.

    Polars 1.42 to 1.44 warn (a DeprecationWarning at the user's write) that its default
    changes in 2.0. The package explodes lists only for their values, nulls dropped: an
    empty list gives none.
    """
    return {"empty_as_null": False} if "empty_as_null" in inspect.signature(explode).parameters else {}


EXPLODE_DROPS_EMPTY = _drops_empty(pl.Expr.explode)
ARRAY_EXPLODE_DROPS_EMPTY = _drops_empty(pl.col("").arr.explode)


#: Whether a file reader source must leave filters to Polars: on Polars 2.0, whose
#: in-memory engine runs a query's sources on the threads of its pool and waits for them
#: there, a filter the reader evaluated (which needs that pool once it has several parts,
#: ``drop_nulls`` of three columns) waited forever in a join of two filtered scans on two
#: cores, and so did ruling files out by their partition values. This is the one release
#: check left: no probe can answer it, as a probe of that wait waits forever itself
#: (measured on 2.0: a join of two pure-Python readers whose filter ran on another thread).
#: tests/test_query_shapes.py runs such joins, in processes of their own, on every release.
SOURCES_WAIT_ON_THE_POOL = pl.__version__.startswith("2.0.")
