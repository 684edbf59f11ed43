"""The probes: the smallest queries that show what a Polars release does that its API does not tell.

Their answers for every tested release are the table ``releases.json`` (polars_avro._polars.facts),
which ``nox -s release_table`` writes by running ``python -m polars_avro._polars.probes`` on
each release and runtime, and which ``nox -s releases`` checks against them on each
(tests/test_polars_quirks.py). A user's process runs them only on a release the table lacks,
once and in memory.

A probe of a bug runs its query over :class:`FrameScan`, a frame in memory that Polars
reaches through the same interface as scan_avro (polars_avro._polars.interface): what Polars
gets wrong there, it gets wrong for scan_avro, and no bug of the reader can pass for one of
Polars'.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import polars as pl

from polars_avro._polars.facts import Facts
from polars_avro._polars.features import BATCHES_OUT, without_columns
from polars_avro._polars.interface import FILE_READERS, lazy_frame


class FrameScan:
    """A frame in memory as a scan, handed out in `frames` batches.

    It answers what polars_avro._polars.interface asks of a Scan as the Rust reader answers it.
    """

    def __init__(self, df: pl.DataFrame, frames: int = 3) -> None:
        self.df = df
        self.schema = df.schema
        self.label = "a frame in memory"
        self.step = max(-(-df.height // frames), 1)

    def batches(
        self,
        with_columns: list[str] | None,
        predicates: Sequence[pl.Expr],
        limit: int | None,
        batch_size: int | None,
        *,
        records: int | None = None,
        skip: int = 0,
        filtered_again: bool = False,
    ) -> Iterator[pl.DataFrame]:
        """The frame's batches, as ``Scan.batches`` gives a file's (its arguments).

        ``records`` are read, the first ``skip`` of them left out, the rest filtered (all
        of `predicates`, none dynamic, whether Polars filters again or not), `limit` rows at
        most, the columns in the frame's order; the batch size changes nothing.
        """
        df = (self.df if records is None else self.df.head(records)).slice(skip)
        for predicate in predicates:
            df = df.filter(predicate)
        if limit is not None:
            df = df.head(limit)
        columns = [c for c in self.df.columns if with_columns is None or c in with_columns]
        for start in range(0, df.height, self.step):
            part = df.slice(start, self.step)
            # A frame of no column is its height (a count), as the Rust reader gives it.
            yield part.select(columns) if columns else without_columns(part.height)


def frame_scan(df: pl.DataFrame, frames: int = 3) -> pl.LazyFrame:
    """A LazyFrame of `df` through scan_avro's interface to Polars.

    Adapted to no fact the probes find (they may be finding them now), but the one no probe can.
    """
    plain = Facts(False, False, sources_wait_on_the_pool(), False, ())
    return lazy_frame(FrameScan(df, frames), plain)


def _wrong(run: Callable[[], bool]) -> bool:
    """Whether a probe's query gives a wrong answer (`run` False) or fails (a panic too)."""
    try:
        return not run()
    except BaseException as e:  # a PanicException is a BaseException
        if isinstance(e, KeyboardInterrupt):
            raise
        return True


@functools.cache
def batches_raise() -> bool:
    """Whether ``collect_batches`` raises a failing query's error.

    Found false on 1.34 to 1.36, which print it (as an exception ignored in a destructor)
    and end the batches as if the query had finished: a writer taking them would complete a
    part-written file. Releases without ``collect_batches`` answer false too.
    """
    if not BATCHES_OUT:
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


def sources_wait_on_the_pool() -> bool:
    """Whether a file reader source must leave filters to Polars.

    Polars 2.0's in-memory engine runs a query's sources on the threads of its pool and
    waits for them there: a filter the reader evaluated (which needs that pool once it has
    several parts, ``drop_nulls`` of three columns) waited forever in a join of two filtered
    scans on two cores, and so did ruling files out by their partition values. No probe can
    answer it, as a probe of that wait waits forever itself (measured on 2.0: a join of two
    pure-Python readers whose filter ran on another thread), so this one is the release's
    number. tests/test_query_shapes.py runs such joins, in processes of their own, on every
    release.
    """
    return pl.__version__.startswith("2.0.")


#: A stand-in pyarrow that notes each import of it in the file its environment names.
_PYARROW_STAND_IN = """
import os
with open(os.environ["POLARS_AVRO_PYARROW_IMPORTS"], "a") as f:
    f.write("imported\\n")
"""

#: The reproduction: a plain file reader of one column, scanned and collected.
_PLAIN_FILE_READER = """
import polars as pl
from polars.io.external_reader import FileReader, FileReaderBuilder, scan_external_reader
class Reader(FileReader):
    def schema(self):
        return {"a": pl.Int64}
    def collect_batches(self, **_):
        yield pl.DataFrame({"a": [1]})
    def n_rows_in_file(self, limit=None):
        return 1
class Builder(FileReaderBuilder):
    def build_file_reader(self, source, context):
        return Reader()
scan_external_reader(Builder(), sources=["x"], schema={"a": pl.Int64}).filter(pl.col("a") > 0).collect()
"""


def file_readers_import_pyarrow() -> bool:
    """Whether Polars imports pyarrow for a plain file reader's scan (polars_avro._polars.pyarrow_import).

    Found on 2.0 and 2.1, after each ``schema()`` and as a query hands a reader filters.
    Run in a process of its own, with a stand-in pyarrow that notes its import: this
    process's pyarrow, if imported, cannot be imported again. The script is the
    reproduction for Polars (``_PLAIN_FILE_READER``).
    """
    if not FILE_READERS:
        return False
    with tempfile.TemporaryDirectory(prefix="polars-avro-probe-") as folder:
        os.mkdir(os.path.join(folder, "pyarrow"))
        with open(os.path.join(folder, "pyarrow", "__init__.py"), "w") as stand_in:
            stand_in.write(_PYARROW_STAND_IN)
        imports = os.path.join(folder, "imports.txt")
        path = os.pathsep.join([folder, *filter(None, [os.environ.get("PYTHONPATH")])])
        env = {**os.environ, "PYTHONPATH": path, "POLARS_AVRO_PYARROW_IMPORTS": imports}
        subprocess.run([sys.executable, "-c", _PLAIN_FILE_READER], env=env, check=True, capture_output=True)
        return os.path.exists(imports)


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


#: The probes of the bugs warned of (polars_avro._polars.facts.BUG_WARNINGS), each with whether
#: it was found with Polars' file reader interface (else with IO plugins): a bug is probed only
#: where scans use the interface it was found with.
BUG_PROBES: dict[str, tuple[Callable[[], bool], bool]] = {
    "tail_past_the_end_short": (tail_past_the_end_short, False),
    "negative_slice_after_filter_wrong": (negative_slice_after_filter_wrong, False),
    "cached_slice_sliced_wrong": (cached_slice_sliced_wrong, False),
    "list_filter_over_sliced_chunks_wrong": (list_filter_over_sliced_chunks_wrong, False),
    "slice_of_a_shared_scan_sees_a_later_filter": (slice_of_a_shared_scan_sees_a_later_filter, True),
}


def answers(*, in_memory: bool = False) -> dict[str, Any]:
    """The running release's row of the table: every probe's answer.

    `in_memory` leaves out the one probe that needs a process of its own
    (file_readers_import_pyarrow), answering it as the newest tested releases do: where
    Polars does not make that import, its refusal is never asked for.
    """
    return {
        "batches_raise": batches_raise(),
        "io_sources_lose_enums": io_sources_lose_enums(),
        "sources_wait_on_the_pool": sources_wait_on_the_pool(),
        "file_readers_import_pyarrow": FILE_READERS if in_memory else file_readers_import_pyarrow(),
        "bugs": [
            name for name, (probe, file_readers) in BUG_PROBES.items() if file_readers == FILE_READERS and probe()
        ],
    }


if __name__ == "__main__":
    # The row `nox -s release_table` gathers: one line of JSON.
    print(json.dumps({"version": pl.__version__, "facts": answers()}))
