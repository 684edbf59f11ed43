"""Polars' bugs that give scan_avro's users wrong rows silently, and the warnings naming them.

Each bug here gives wrong rows where Polars' own scans are right, and the package cannot
work around it: each is found by probing the running Polars at the first scan of a process
(whose answers later processes of the same installed build read back), and named once in an
AvroPolarsBugWarning.

A probe runs the smallest query that shows its bug over :class:`FrameScan`, a frame in
memory that Polars reaches through the same interface as scan_avro (polars_avro._engine):
what Polars gets wrong there, it gets wrong for scan_avro. The bugs a query engine can
loudly refuse (a panic) are not warned of; docs/reading.md lists every bug by release.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import polars as pl

from polars_avro import _engine, _probe_answers
from polars_avro._callsite import warn_user
from polars_avro._engine import FILE_READERS, lazy_frame
from polars_avro._types import without_columns
from polars_avro.exceptions import AvroPolarsBugWarning


class FrameScan:
    """A frame in memory as a scan, handed out in `frames` batches.

    It answers what polars_avro._engine asks of a Scan as the Rust reader answers it.
    """

    def __init__(self, df: pl.DataFrame, frames: int = 3) -> None:
        self.df = df
        self.schema = df.schema
        self.label = "a frame in memory"
        self.step = max(-(-df.height // frames), 1)

    def batches(
        self, with_columns: list[str] | None, predicate: pl.Expr | None, limit: int | None, *_: Any, **asked: Any
    ) -> Iterator[pl.DataFrame]:
        """The frame's batches, as ``Scan.batches`` gives a file's (its arguments).

        ``records`` are read, the first ``skip`` of them left out, the rest filtered,
        `limit` rows at most, the columns in the frame's order; the batch size and the
        other keywords change nothing here.
        """
        records, skip = asked.get("records"), asked.get("skip", 0)
        df = (self.df if records is None else self.df.head(records)).slice(skip)
        if predicate is not None:
            df = df.filter(predicate)
        if limit is not None:
            df = df.head(limit)
        columns = [c for c in self.df.columns if with_columns is None or c in with_columns]
        for start in range(0, df.height, self.step):
            part = df.slice(start, self.step)
            # A frame of no column is its height (a count), as the Rust reader gives it.
            yield part.select(columns) if columns else without_columns(part.height)


def frame_scan(df: pl.DataFrame, frames: int = 3) -> pl.LazyFrame:
    """A LazyFrame of `df` through scan_avro's interface to Polars."""
    return lazy_frame(FrameScan(df, frames))  # type: ignore[arg-type]


def _wrong(run: Callable[[], bool]) -> bool:
    """Whether a probe's query gives a wrong answer (`run` False) or fails (a panic too)."""
    try:
        return not run()
    except BaseException as e:  # a PanicException is a BaseException
        if isinstance(e, KeyboardInterrupt):
            raise
        return True


@functools.cache
def tail_past_the_end_short() -> bool:
    """Whether a streaming tail longer than an IO source's data gives too few rows.

    3 batches of 3 rows, ``tail(10)``: 3 rows for 9. Found on 1.30 to 1.32.
    """
    lf = frame_scan(pl.DataFrame({"a": range(9)}))
    return _wrong(lambda: lf.tail(10).collect(engine="streaming").height == 9)


@functools.cache
def negative_slice_after_filter_wrong() -> bool:
    """Whether a slice from a negative offset after a filter of an IO source is wrong.

    3 batches of 1,000 rows, every tenth kept, ``slice(-1760, 1550)``. Found on 1.30 to 1.32.
    """
    df = pl.DataFrame({"a": range(3000)})

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.filter(pl.col("a") % 10 == 0).slice(-1760, 1550)

    expected = query(df.lazy()).collect()
    lf = frame_scan(df)

    def right(engine: Any) -> Callable[[], bool]:
        return lambda: query(lf).collect(engine=engine).equals(expected)

    return any(_wrong(right(engine)) for engine in ("in-memory", "streaming"))


@functools.cache
def cached_slice_sliced_wrong() -> bool:
    """Whether a cached slice sliced again hands the source the later slice.

    ``head(3).cache().head(10)`` of an IO source gives 10 rows for 3. Found on 1.41 to 1.44.
    """
    lf = frame_scan(pl.DataFrame({"a": range(20)}))
    return _wrong(lambda: lf.head(3).cache().head(10).collect().height == 3)


@functools.cache
def slice_of_a_shared_scan_sees_a_later_filter() -> bool:
    """Whether a scan read for two inputs at once is handed a filter that a slice then sees.

    Polars reads a scan that a query uses twice once, through a cache; 2.0 also hands that
    read a filter over both inputs, so that a slice taken on one side takes the filtered
    rows: ``pl.concat([lf.slice(2, 10), lf]).filter(...)`` or
    ``lf.join(lf.slice(...), ...).filter(...)``. Found on 2.0.
    """
    keys = [i * 7 % 10 for i in range(30)]
    lf = frame_scan(pl.DataFrame({"id": range(30), "k": keys}))
    query = pl.concat([lf.slice(2, 10), lf]).filter(pl.col("k") > 4)
    # The answer worked out in Python: a second Polars query would add to the probe's cost,
    # which every process's first scan pays (a join's would double it).
    expected = sorted((i, k) for i, k in [*enumerate(keys)][2:12] + [*enumerate(keys)] if k > 4)
    return _wrong(lambda: sorted(query.collect().rows()) == expected)


@functools.cache
def list_filter_over_sliced_chunks_wrong() -> bool:
    """Whether a list filter keeps wrong rows of a frame of several chunks, one sliced.

    A streaming ``tail(n)`` of a scan of several batches makes such a frame: 3 batches of
    10 rows, ``tail(11).filter(pl.col("l").list.contains(3))``: 3 rows for 2
    (Polars' own ``scan_ipc`` reads the tail whole, one chunk). A ``with_row_index``
    beside a scan's batches, or a streaming ``unique``'s lists, meet it too. Found on 1.30
    to 1.44.
    """
    df = pl.DataFrame({"l": [[3] if i % 5 == 0 else [1] for i in range(30)]})

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.tail(11).filter(pl.col("l").list.contains(3))

    expected = query(df.lazy()).collect()
    return _wrong(lambda: query(frame_scan(df)).collect(engine="streaming").equals(expected))


#: Each bug warned of: its probe, whether it was found with Polars' file reader interface (else
#: with IO plugins: each is probed only where scans use that interface, which keeps the first
#: scan's probes to a few milliseconds), and what the warning says of it.
BUGS: list[tuple[Callable[[], bool], bool, str]] = [
    (
        tail_past_the_end_short,
        False,
        "Polars 1.30 to 1.32's streaming engine gives too few rows for a tail(n) longer than a "
        "scan_avro's rows, `lf.tail(n).collect(engine='streaming')`; Polars 1.33 fixed it",
    ),
    (
        negative_slice_after_filter_wrong,
        False,
        "Polars 1.30 to 1.32 give the wrong rows for a slice from a negative offset after a "
        "filter of a scan_avro, `lf.filter(...).slice(-n, ...)`; Polars 1.33 fixed it",
    ),
    (
        cached_slice_sliced_wrong,
        False,
        "Polars 1.41 to 1.44 hand a scan_avro the later slice of a cached slice, "
        "`lf.head(3).cache().head(10)` gives 10 rows; Polars 2.0 fixed it",
    ),
    (
        list_filter_over_sliced_chunks_wrong,
        False,
        "Polars 1.30 to 1.44 keep the wrong rows in a filter on a list column of a frame of "
        "several chunks, one of them sliced, as a scan_avro's batches are where Polars filters "
        "them joined: `lf.tail(n).filter(pl.col(...).list.contains(...))` in the streaming "
        "engine, or a filter before a `cache()`; Polars 2.0 fixed it",
    ),
    (
        slice_of_a_shared_scan_sees_a_later_filter,
        True,
        "Polars 2.0 gives a scan_avro combined with a slice of itself, then filtered, the slice "
        "of the filtered rows, `lf.join(lf.slice(...), ...).filter(...)` or "
        "`pl.concat([lf.slice(...), lf]).filter(...)`; Polars 2.1 fixed it",
    ),
]


def found() -> list[str]:
    """The names of the probes of BUGS (those of the interface scans use) that find their bug."""
    return [probe.__name__ for probe, file_readers, _ in BUGS if file_readers == FILE_READERS and probe()]


@functools.cache
def warn_once() -> None:
    """Warns of each of BUGS the running Polars has, once a process (the first scan).

    The probes' answers are kept per installed build (polars_avro._probe_answers): only the
    first process of a build runs them.
    """
    bugs = _probe_answers.remembered(_probe_answers.build_key(__file__, _engine.__file__), found)
    for probe, _, text in BUGS:
        if probe.__name__ in bugs:
            warn_user(AvroPolarsBugWarning(f"{text}. See docs/reading.md's Polars versions."))
