"""Query shapes that once gave a wrong answer, an error or a panic, each as a plain test
against Polars' own reader (scan_ipc of the same data), in both engines.

They came from issue 39 and from the differential suite (tests/test_differential.py); each
failed before its fix on the Polars version named.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import fastavro
import polars as pl
import pytest
from helpers import max_index
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro._options import ScanOptions
from polars_avro._polars.interface import FileReaderBuilder
from polars_avro._polars.release import running
from polars_avro._scan import Scan, _Rest
from polars_avro.exceptions import AvroArgumentError, AvroCapacityError, AvroInternalError

SOURCES_WAIT_ON_THE_POOL = running().sources_wait_on_the_pool

SCHEMA = {
    "type": "record",
    "name": "Row",
    "fields": [
        {"name": "t", "type": "long"},
        {"name": "k", "type": ["null", "int"]},
        {"name": "s", "type": "string"},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["red", "green", "blue"]}},
    ],
}
ROWS = 300
ENGINES = ["in-memory", "streaming"]


def _record(i: int) -> dict[str, object]:
    return {
        "t": (i * 7919) % ROWS,
        "k": None if i % 31 == 0 else i % 10,
        "s": f"s{i % 13}",
        "e": ["red", "green", "blue"][i % 3],
    }


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The same records as Avro (fastavro, blocks of a few records) and as IPC."""
    root = tmp_path_factory.mktemp("shapes")
    avro, ipc = root / "rows.avro", root / "rows.arrow"
    with avro.open("wb") as f:
        fastavro.writer(f, SCHEMA, [_record(i) for i in range(ROWS)], sync_interval=200)
    polars_avro.read_avro(avro).write_ipc(ipc)
    return str(avro), str(ipc)


def _same_as_ipc(files: tuple[str, str], query: Callable[[pl.LazyFrame], pl.LazyFrame], engine: str) -> None:
    avro, ipc = files
    expected = query(pl.scan_ipc(ipc)).collect(engine=engine)  # type: ignore[call-overload]
    assert_frame_equal(query(polars_avro.scan_avro(avro)).collect(engine=engine), expected)  # type: ignore[call-overload]


TOP_K: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {
    "sort-head": lambda lf: lf.sort("t").head(2),
    "sort-desc-head-select": lambda lf: lf.sort("t", descending=True).head(5).select("s", "t"),
    "top_k": lambda lf: lf.top_k(3, by="t").sort("t"),
    "bottom_k": lambda lf: lf.bottom_k(3, by="t").sort("t"),
    "filter-sort-head": lambda lf: lf.filter(pl.col("s") != "s1").sort("t").head(4),
    "sort-slice": lambda lf: lf.sort(["k", "t"], nulls_last=True).slice(10, 5),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", TOP_K)
def test_sort_then_head(files: tuple[str, str], shape: str, engine: str) -> None:
    """Polars 2 (to file readers) and 1.39 to 1.43 (to IO plugins) hand these queries'
    scans a dynamic predicate, which panicked when the reader evaluated it (``entered
    unreachable code`` on 2.x; on 1.39 to 1.43 every one of these shapes failed)."""
    _same_as_ipc(files, TOP_K[shape], engine)


OPEN_SLICES: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {
    "slice-count": lambda lf: lf.slice(3).select(pl.len()),
    "slice": lambda lf: lf.slice(7).select("t", "s"),
    "slice-filter": lambda lf: lf.slice(250).filter(pl.col("k") > 3),
    "filter-slice": lambda lf: lf.filter(pl.col("k") > 3).slice(5),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", OPEN_SLICES)
def test_slice_without_end(files: tuple[str, str], shape: str, engine: str) -> None:
    """A slice with no end reaches the scan with the largest length of Polars' index type:
    with 64-bit indices (``polars[rt64]``, ``polars-runtime-compat``) 18446744073709551615,
    past what the reader took (``TypeError: failed to extract field ReadRequest.n_rows``)."""
    _same_as_ipc(files, OPEN_SLICES[shape], engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_slices_of_a_concat_of_slices(files: tuple[str, str], engine: str) -> None:
    """Polars 1.35 to 1.43 gave twice the rows (80 for 40) for a scan that an IO plugin
    gives, a pure-Python one too: they push the outer slices into the inner concat's inputs
    and drop them from above. Where the scan is pure, as Polars' own scans are, it is read
    once and the slices stay where they are."""

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        x = pl.concat([lf.head(20), lf.tail(20)])
        return pl.concat([x.head(20), x.tail(20)])

    _same_as_ipc(files, query, engine)


def test_sort_then_head_of_bytes() -> None:
    """The issue's own example: a file in memory, sorted, its first two rows."""
    data = io.BytesIO()
    polars_avro.write_avro(pl.DataFrame({"t": [3, 1, 2, 5, 4]}), data)
    lf = polars_avro.scan_avro(data.getvalue())
    assert lf.sort("t").head(2).collect()["t"].to_list() == [1, 2]
    assert lf.top_k(2, by="t").collect()["t"].sort().to_list() == [4, 5]
    assert lf.bottom_k(2, by="t").collect(engine="streaming")["t"].sort().to_list() == [1, 2]


SLICE_THEN_FILTER: dict[str, Callable[[pl.LazyFrame], pl.LazyFrame]] = {
    "head-filter": lambda lf: lf.head(100).filter(pl.col("k") == 3),
    "slice-filter": lambda lf: lf.slice(20, 100).filter(pl.col("k") == 3),
    "head-filter-head": lambda lf: lf.head(150).filter(pl.col("s").str.ends_with("2")).head(3),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", SLICE_THEN_FILTER)
def test_slice_before_filter(files: tuple[str, str], shape: str, engine: str) -> None:
    """Polars 1.44 hands the source both the slice and the filter; the slice comes first
    in the query, and the reader filtered first (30 rows where Polars gives 10)."""
    _same_as_ipc(files, SLICE_THEN_FILTER[shape], engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_semi_self_join_of_sorted_slice(files: tuple[str, str], engine: str) -> None:
    """Polars 1.30 gave this semi self-join 0 rows (scan_parquet: 5)."""

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        right = lf.sort("t").filter(pl.col("k") > 2).head(50).select("k")
        return lf.filter(pl.col("t") < 60).join(right, on="k", how="semi").sort("t")

    _same_as_ipc(files, query, engine)


def _thread_name() -> str:
    """The OS name of this thread (the reader's are "polars-avro-N")."""
    return Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="thread names are read from /proc")
@pytest.mark.parametrize("engine", ENGINES)
def test_no_python_runs_on_the_readers_threads(
    files: tuple[str, str], engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader evaluates the parts of a filter it takes (crate::filter, Rust) on its own
    threads, with every release, and calls no Python for them. The rest is Polars': Polars
    2 filters what the reader gives again, and Polars 1, which filters nothing an IO plugin
    gives, has it evaluated by the scan on Polars' own thread, which runs the source (an
    expression evaluated on the reader's threads needs Polars' pool, whose threads may all
    be waiting on reads: a join of two filtered scans on two cores waited forever)."""
    threads: list[str] = []
    applied = _Rest.applied

    def recording(self: _Rest, df: pl.DataFrame) -> pl.DataFrame | None:
        threads.append(_thread_name())
        return applied(self, df)

    monkeypatch.setattr(_Rest, "applied", recording)
    avro, ipc = files
    # Batches of 20 records on two threads: the reader's pool decodes them.
    scan = polars_avro.scan_avro(avro, batch_size=20, n_threads=2)
    for predicate, in_rust in ((pl.col("k") > 4, True), (pl.col("k") * 2 > 8, False)):
        threads.clear()
        expected = pl.scan_ipc(ipc).filter(predicate).collect(engine=engine)  # type: ignore[call-overload]
        with polars_avro.read_stats() as stats:
            assert_frame_equal(scan.filter(predicate).collect(engine=engine), expected)  # type: ignore[call-overload]
        assert not any(name.startswith("polars-avro") for name in threads), threads
        if in_rust or FileReaderBuilder is not None:
            assert threads == [], predicate
        else:
            assert threads, "the scan evaluated no part of the filter"
        # (Polars 2.0 hands scans no filter: polars_avro._polars.probes says why.)
        left = 0 if in_rust or SOURCES_WAIT_ON_THE_POOL else 1
        assert (stats.filters_left, stats.batches_filtered_in_python) == (left, len(threads)), (predicate, stats)


JOIN_OF_PARTITIONED_SCANS = """
import os, polars as pl, polars_avro, sys
base = sys.argv[1]
for p in "abc":
    os.makedirs(f"{base}/part={p}")
    polars_avro.write_avro(pl.DataFrame({"x": range(10), "y": [p] * 10}), f"{base}/part={p}/f.avro")
scan = lambda: pl.scan_avro(base, hive_partitioning=True)
for keep in (pl.col("x") > 0, pl.col("part") != "a"):
    left = scan().filter(keep).sort("x").select("x", "y", "part")
    ours = left.join(scan().select("x", "part"), on="x").collect(engine="in-memory")
    every = pl.concat([pl.DataFrame({"x": range(10), "y": [p] * 10, "part": [p] * 10}) for p in "abc"])
    theirs = every.filter(keep).sort("x").join(every.select("x", "part"), on="x")
    assert ours.sort(pl.all()).equals(theirs.sort(pl.all())), (ours, theirs)
print("ok")
"""


def test_a_join_of_partitioned_scans_in_memory_on_two_threads(tmp_path: Path) -> None:
    """A fresh seed of the differential suite waited forever on Polars 2.0 (two cores): its
    in-memory engine ran both sides of a join as streaming queries on the two threads of its
    pool, both waiting for the sources, and each source picked its files' partition values
    (and evaluated a partition filter on them) with that pool. It runs in a process of its own,
    with two threads, so that a wait fails the test instead of hanging it."""
    _runs_on_two_threads(JOIN_OF_PARTITIONED_SCANS, tmp_path)


JOIN_OF_FILTERED_SCANS = """
import datetime as dt, polars as pl, polars_avro, sys
path, n = sys.argv[1] + "/f.avro", 3000
df = pl.DataFrame({
    "id": range(n),
    "k": [i % 10 for i in range(n)],
    "f": [None if i % 13 == 0 else i / 3 for i in range(n)],
    "dec": [None if i % 29 == 0 else i for i in range(n)],
    "lts": [None if i % 23 == 0 else dt.datetime(2020, 1, 1) + dt.timedelta(seconds=i) for i in range(n)],
}).with_columns(pl.col("dec").cast(pl.Decimal(10, 2)))
polars_avro.write_avro(df, path, compression="deflate")
def query(lf):
    right = lf.filter(pl.col("id") % 3 == 0).select("k", "f")
    return lf.drop_nulls(["f", "dec", "lts"]).with_row_index("r").join(right, on="k").sort("r", "f_right")
ours = query(pl.scan_avro(path, batch_size=1000)).collect(engine="in-memory")
assert ours.equals(query(df.lazy()).collect()), ours
print("ok")
"""


def test_a_join_of_filtered_scans_in_memory_on_two_threads(tmp_path: Path) -> None:
    """The differential suite's seed 1 waited forever on Polars 2.0 (two cores) once filters
    were handed to the reader there: a filter of several parts (``drop_nulls`` of three
    columns) needs Polars' pool, whose threads all waited for the scans of the join. Polars
    2.0 now filters itself (``polars_avro._polars.probes.sources_wait_on_the_pool``)."""
    _runs_on_two_threads(JOIN_OF_FILTERED_SCANS, tmp_path)


def _runs_on_two_threads(script: str, tmp_path: Path) -> None:
    """Runs a script that prints "ok" in a process of its own, with two threads."""
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=tmp_path,  # the installed package, not the sources beside the tests
        env={**os.environ, "POLARS_MAX_THREADS": "2"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_a_polars_panic_in_a_filter_the_scan_evaluates_names_the_filter(files: tuple[str, str]) -> None:
    """A panic of Polars evaluating the part of a filter the reader hands back is an
    AvroInternalError naming the filter, where it was a PanicException (a BaseException)
    with a Rust backtrace. A function raising PanicException stands in for Polars' bugs:
    Polars resumes it as a panic of its own."""

    def panics(s: pl.Series) -> pl.Series:
        raise pl.exceptions.PanicException("boom")

    predicate = pl.col("t").map_batches(panics, return_dtype=pl.Boolean)
    scan = Scan(files[0], ScanOptions.of({"n_threads": 2}))
    with pytest.raises(AvroInternalError, match=r"Polars panicked evaluating the filter .*a part of the query.*boom"):
        list(scan.batches(None, [predicate], None, 20))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("literal", [pl.lit(True), pl.lit(False), pl.lit(None, dtype=pl.Boolean)])
def test_filter_of_a_literal(files: tuple[str, str], literal: pl.Expr, engine: str) -> None:
    _same_as_ipc(files, lambda lf: lf.filter(literal).select("t", "s"), engine)


def test_predicate_of_no_column_is_broadcast(files: tuple[str, str]) -> None:
    """A predicate that reads no column (the streaming engine pushes ``true`` into scans)
    holds for every record or none; it failed with 'the predicate returned 0 values'."""
    (split,) = polars_avro.plan_splits(files[0])
    kept = pl.concat(polars_avro.read_split(split, predicate=pl.lit(True), columns=["t"]))
    assert kept.height == ROWS
    assert pl.concat(polars_avro.read_split(split, predicate=pl.lit(False), columns=["t"])).height == 0
    assert pl.concat(polars_avro.read_split(split, predicate=pl.lit(1) > 0, columns=["t"])).height == ROWS


@pytest.mark.parametrize("engine", ENGINES)
def test_enum_is_in(files: tuple[str, str], engine: str) -> None:
    """Polars 2.0 panicked building the scan's filter of an Enum ``is_in``."""
    _same_as_ipc(files, lambda lf: lf.filter(pl.col("e").is_in(["blue"])).select("t", "e"), engine)


# ----------------------------------------------------------------------------- row index

_MAX = max_index()


def _five() -> bytes:
    data = io.BytesIO()
    fastavro.writer(
        data, {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}, [{"a": i} for i in range(5)]
    )
    return data.getvalue()


def test_row_index_up_to_the_index_maximum() -> None:
    """The largest offset Polars allows (offset + rows fits the index type) reads."""
    df = polars_avro.read_avro(_five(), row_index_name="i", row_index_offset=_MAX - 5)
    assert df["i"].to_list() == [_MAX - 5 + i for i in range(5)]
    assert pl.DataFrame({"a": range(5)}).with_row_index("i", offset=_MAX - 5)["i"].to_list() == df["i"].to_list()


@pytest.mark.parametrize("read", ["read_avro", "scan_avro", "AvroReader"])
def test_row_index_that_would_wrap_raises(read: str) -> None:
    """It wrapped around to 0 (`[4294967294, 4294967295, 0, 1, 2]`); Polars' with_row_index
    raises a ComputeError for the same offset and height."""
    data = _five()
    with pytest.raises(pl.exceptions.ComputeError):
        pl.DataFrame({"a": range(5)}).with_row_index("i", offset=_MAX - 2)
    with pytest.raises(pl.exceptions.ComputeError, match="row index overflows") as raised:
        if read == "read_avro":
            polars_avro.read_avro(data, row_index_name="i", row_index_offset=_MAX - 2)
        elif read == "scan_avro":
            polars_avro.scan_avro(data, row_index_name="i", row_index_offset=_MAX - 2).collect()
        else:
            with polars_avro.AvroReader(data, row_index_name="i", row_index_offset=_MAX - 2) as reader:
                list(reader)
    # Polars 1.x raises a source's error again as a ComputeError of the same message.
    assert isinstance(raised.value, AvroCapacityError) or read == "scan_avro"


@pytest.mark.parametrize("offset", [_MAX + 1, 2**64, -1])
def test_row_index_offset_the_index_cannot_hold(offset: int) -> None:
    """Refused up front, naming the maximum, as Polars' with_row_index refuses it (it was a
    TypeError from the compiled module)."""
    with pytest.raises(AvroArgumentError, match="row_index_offset must be") as raised:
        polars_avro.scan_avro(_five(), row_index_name="i", row_index_offset=offset)
    assert isinstance(raised.value, ValueError)
    if offset > 0:
        assert f"{_MAX:,}" in str(raised.value)
