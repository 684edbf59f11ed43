"""The running Polars release: its facts, and the interface to Polars adapted to them.

The rest of the package reaches the wing through here. A tested release reads its row of
the table (polars_avro._polars.facts): no probe runs and nothing is written anywhere. A
release the table lacks is probed once, in memory, and warned of as untested
(:class:`~polars_avro.AvroPolarsVersionWarning`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import polars as pl

from polars_avro._callsite import warn_user
from polars_avro._polars import facts, interface
from polars_avro.exceptions import AvroPolarsBugWarning, AvroPolarsVersionWarning


@functools.cache
def running() -> facts.Facts:
    """The running release's facts: its row, else the probes' answers, warned of once."""
    found = facts.tested()
    if found is not None:
        return found
    from polars_avro._polars import probes  # only here: a tested release runs no probe

    answers = probes.answers(in_memory=True)
    msg = (
        f"polars-avro was not tested with Polars {pl.__version__}: what that release does was "
        f"probed now and the package adapts to it, but a bug of Polars that no probe looks for "
        f"may give wrong rows; the newest release tested is {facts.newest_tested()} (docs/versions.md)"
    )
    warn_user(AvroPolarsVersionWarning(msg))
    return facts.of(answers)


def lazy_frame(scan: interface.Scan) -> pl.LazyFrame:
    """A LazyFrame reading `scan` (polars_avro._polars.interface.lazy_frame)."""
    return interface.lazy_frame(scan, running())


def for_each_batch(lf: pl.LazyFrame, chunk_size: int | None, consume: Callable[[pl.DataFrame], Any]) -> None:
    """The query's batches handed to `consume` in order (polars_avro._polars.interface.for_each_batch)."""
    interface.for_each_batch(lf, chunk_size, consume, stream=running().batches_raise)


@functools.cache
def warn_of_bugs() -> None:
    """Warns of each of facts.BUG_WARNINGS the running release has, once a process (its first scan)."""
    for name in running().bugs:
        warn_user(AvroPolarsBugWarning(f"{facts.BUG_WARNINGS[name]}. See Polars' bugs in docs/versions.md."))
