"""Keeps Polars' file reader interface from importing pyarrow for a scan that has no use for it.

Polars 2's file reader interface imports pyarrow from its own native code, twice over for a
scan of ours: after each call of a reader's ``schema()``, to ask whether the schema returned
is a ``pyarrow.Schema`` (ours is a dict of Polars types), and as it plans a query that hands
a reader filters, to offer each as a ``pyarrow.compute`` expression too
(``FilterExpr.pyarrow_expr``, which our reader never reads). Where pyarrow is installed
(with pandas, Ray, DataFusion: most data engineers have it) that costs a process's first
scan 105-180 ms and 40-50 MB, ten times the scan itself. Polars reads a schema dict as it
does without pyarrow, and leaves a filter's pyarrow form unbuilt when the import fails: so
those two imports are told pyarrow is absent. docs/versions.md shows the reproduction.

Only those imports are refused: made by Polars' native code (past Python's import
machinery, no Python frame, or Polars' own query-running method: a user's or library's
``import pyarrow`` has a frame of its own), on the thread where Polars has just asked our
reader for its schema, or planned a query asking for its capabilities (measured: 0.01 to
0.15 ms before the import), within 50 ms, once per ask, while pyarrow is not imported.
Nothing is cached: a later ``import pyarrow`` anywhere imports it.
"""

from __future__ import annotations

import sys
import threading
import time
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import FrameType
from typing import Any

import polars as pl

#: The seconds after Polars asks the reader within which its import is refused (it follows
#: within microseconds, in the same hold of the GIL): an older ask refuses nothing.
_WINDOW_S = 0.05
#: Where Polars' methods that run a query live (``LazyFrame.collect`` and the like).
_POLARS_QUERIES = str(Path(pl.__file__).parent / "lazyframe")


class _PolarsImportOfPyarrow:
    """A finder, first on ``sys.meta_path``, refusing the imports described above."""

    def __init__(self) -> None:
        #: Per thread where Polars asked a reader of ours while pyarrow was not imported: when
        #: (taken by the import refused).
        self.asked: dict[int, float] = {}

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name != "pyarrow":
            return None
        if not _asked_by_polars(sys._getframe(1)):
            return None
        since = self.asked.pop(threading.get_ident(), None)
        if since is None or time.monotonic() - since > _WINDOW_S:
            return None
        msg = "polars-avro: a scan of Avro has no use for pyarrow (see polars_avro._polars.pyarrow_import)"
        raise ModuleNotFoundError(msg, name=name)


def _asked_by_polars(frame: FrameType | None) -> bool:
    """Whether Polars' native code made an import (no frame or a query-running method of Polars').

    The frames of Python's import machinery are passed over.
    """
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    return frame is None or _runs_a_query(frame)


def _runs_a_query(frame: FrameType | None) -> bool:
    """Whether a frame is one of Polars' query-running methods (``LazyFrame.collect``...)."""
    return frame is not None and frame.f_code.co_filename.startswith(_POLARS_QUERIES)


_FINDER = _PolarsImportOfPyarrow()


def polars_asks(*, planning: bool = False) -> None:
    """Says Polars asks a reader of ours for its schema (or, `planning`, its capabilities).

    Polars' next import of pyarrow on this thread is refused. Polars also asks for
    capabilities as it runs a query, on its own threads, where no import follows: only the
    ask of the thread planning the query (under Polars' query-running method) counts. The
    finder is installed at the first call (only scans of Polars' file reader interface make
    it), first on ``sys.meta_path``, where it sees an import before any other finder.
    """
    if "pyarrow" in sys.modules or (planning and not _runs_a_query(sys._getframe(1).f_back)):
        return
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    _FINDER.asked[threading.get_ident()] = time.monotonic()
