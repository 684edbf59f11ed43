"""What crosses between the package's Python and its Rust core during a scan, counted with
sys.monitoring (Python 3.12 on): the calls into the compiled module, and the package's own
Python functions that run while the batches flow. Python only adapts: the scan is planned
and its filter taken apart in Rust, and a batch is handed to Polars as Rust gives it."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import CodeType
from typing import Any

import polars as pl
import pytest

import polars_avro
from polars_avro import _internal
from polars_avro._polars.release import running

pytestmark = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring came with Python 3.12")

#: The package's folder: code of the package is code whose file is under it.
PACKAGE = str(Path(polars_avro.__file__).parent)
ENGINES = ["in-memory", "streaming"]
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


@dataclass
class Crossings:
    """What a block of code did: its calls into the compiled module, by name, in order, the
    package's Python that ran (functions started, generators resumed), by name, and of those
    the functions the compiled module called (started while a call into it was under way)."""

    rust: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    from_rust: list[str] = field(default_factory=list)


def _rust_name(called: Any) -> str | None:
    """The name of a function, class or method of the compiled module; None for any other.

    A method called on an object is its class's (``__objclass__``), or bound to it
    (``__self__``), as the call was made.
    """
    kind = getattr(called, "__objclass__", None)
    owner = getattr(called, "__self__", None)
    if kind is None and owner is not None and not isinstance(owner, type) and not _is_module(owner):
        kind = type(owner)
    if kind is not None:
        return f"{kind.__name__}.{called.__name__}" if kind.__module__ == _internal.__name__ else None
    return called.__qualname__ if getattr(called, "__module__", None) == _internal.__name__ else None


def _is_module(value: Any) -> bool:
    return type(value).__name__ == "module"


@contextmanager
def crossings() -> Iterator[Crossings]:
    """Counts what crosses while the block runs, on every thread."""
    monitoring = sys.monitoring  # type: ignore[attr-defined,unused-ignore]
    tool = next(i for i in range(6) if monitoring.get_tool(i) is None)
    seen = Crossings()
    # Per thread: the calls into the compiled module under way.
    inside = threading.local()

    def call(code: CodeType, offset: int, called: Any, arg: Any) -> Any:
        name = _rust_name(called)
        if name is not None:
            seen.rust.append(name)
            inside.depth = getattr(inside, "depth", 0) + 1
        return None

    def returned(code: CodeType, offset: int, called: Any, arg: Any) -> Any:
        if _rust_name(called) is not None:
            inside.depth -= 1
        return None

    def start(code: CodeType, offset: int) -> Any:
        if code.co_filename.startswith(PACKAGE):
            seen.started.append(code.co_qualname)
            if getattr(inside, "depth", 0):
                seen.from_rust.append(code.co_qualname)
        return None

    def resume(code: CodeType, offset: int) -> Any:
        if code.co_filename.startswith(PACKAGE):
            seen.resumed.append(code.co_qualname)
        return None

    events = monitoring.events
    monitoring.use_tool_id(tool, "polars-avro crossings")
    monitoring.register_callback(tool, events.CALL, call)
    monitoring.register_callback(tool, events.PY_START, start)
    monitoring.register_callback(tool, events.PY_RESUME, resume)
    monitoring.register_callback(tool, events.C_RETURN, returned)
    monitoring.register_callback(tool, events.C_RAISE, returned)
    monitoring.set_events(tool, events.CALL | events.C_RETURN | events.C_RAISE | events.PY_START | events.PY_RESUME)
    try:
        yield seen
    finally:
        monitoring.set_events(tool, 0)
        monitoring.free_tool_id(tool)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A hive-partitioned folder: 3 days of 4 files of 2,000 records each."""
    for day in DAYS:
        (tmp_path / f"day={day}").mkdir()
        for n in range(4):
            frame = pl.DataFrame({"id": range(n * 2000, (n + 1) * 2000), "name": [f"n{i % 7}" for i in range(2000)]})
            polars_avro.write_avro(frame, tmp_path / f"day={day}" / f"part-{n}.avro")
    return tmp_path


def _scan(folder: Path, engine: str, batch_size: int, predicate: pl.Expr | None) -> tuple[pl.DataFrame, Crossings]:
    with crossings() as seen:
        lf = pl.scan_avro(folder, batch_size=batch_size)
        if predicate is not None:
            lf = lf.filter(predicate)
        df = lf.collect(engine=engine)  # type: ignore[call-overload]
    return df, seen


@pytest.mark.parametrize("engine", ENGINES)
def test_a_filtered_scan_of_a_folder_calls_rust_twice_then_once_a_batch(folder: Path, engine: str) -> None:
    """The scan's plan (listing, partition folders, headers, schema) is one call; the reader,
    with the filter taken apart (files ruled out by their partition, rows by the reader), the
    other; then one call a batch and one at the end."""
    pl.scan_avro(folder).collect()  # the process's first scan: what it does once is not counted
    predicate = (pl.col("day") != pl.date(2024, 1, 2)) & (pl.col("id") % 3 == 0) & pl.col("name").is_in(["n1", "n2"])
    df, seen = _scan(folder, engine, 500, predicate)
    every = pl.concat(
        [
            polars_avro.read_avro(folder / f"day={day}" / f"part-{n}.avro").with_columns(day=pl.lit(day).str.to_date())
            for day in DAYS
            for n in range(4)
        ]
    )
    assert df.sort("day", "id").equals(every.filter(predicate).sort("day", "id"))
    batches = seen.rust.count("ScanReader.next_batch")
    assert seen.rust == ["plan_sources", "ScanReader", *["ScanReader.next_batch"] * batches, "ScanReader.finish"]
    # 8 files of 2,000 records kept, in batches of 500 at most.
    assert batches >= 8 * 2000 // 500
    # Rust called no function of the package: the partitions' dates were parsed by the
    # running Polars, called from Rust, and the filter's every part was the reader's.
    assert seen.from_rust == []


@pytest.mark.parametrize("engine", ENGINES)
def test_rust_calls_python_only_for_a_partition_filter_it_cannot_evaluate(folder: Path, engine: str) -> None:
    """A filter on the partitions alone that the reader cannot evaluate is evaluated on the
    files' values by the user's Polars, called back once when the read starts; the files it
    rules out are still not read."""
    pl.scan_avro(folder).collect()
    predicate = pl.col("day").dt.weekday() != 2  # 2024-01-02 was a Tuesday
    with polars_avro.read_stats() as stats:
        df, seen = _scan(folder, engine, 2000, predicate)
    assert df.get_column("day").unique().sort().to_list() == [date(2024, 1, 1), date(2024, 1, 3)]
    if running().sources_wait_on_the_pool:
        # This release hands the reader no filter (see polars_avro._polars.probes): Polars
        # filters every file's rows.
        assert (seen.from_rust, stats.files) == ([], 12)
    else:
        assert (seen.from_rust, stats.files) == (["Scan.batches.<locals>.<lambda>", "_files_kept"], 8)


def _objects(value: Any) -> Iterator[Any]:
    """`value` and what it holds (items of tuples, lists and dicts, a dataclass's fields),
    less texts, numbers and None, which Python may share between unrelated values."""
    if value is None or isinstance(value, (str, bytes, int, float)):
        return
    yield value
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    elif hasattr(value, "__dataclass_fields__"):
        value = [getattr(value, name) for name in value.__dataclass_fields__]
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _objects(item)


def test_only_the_handle_goes_back_to_rust(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Of what Rust returned when the scan was planned, only the handle of the planned scan
    is handed back to it when the scan is read."""
    calls: list[tuple[str, list[Any], list[Any]]] = []

    def recorded(name: str) -> Any:
        real = getattr(_internal, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            calls.append((name, list(_objects((args, kwargs))), list(_objects(result))))
            return result

        return call

    for name in ("plan_sources", "ScanReader"):
        monkeypatch.setattr(_internal, name, recorded(name))
    predicate = (pl.col("day") != pl.date(2024, 1, 2)) & (pl.col("id") % 3 == 0)
    assert pl.scan_avro(folder).filter(predicate).collect().height > 0
    (planning, _, planned), (reader, handed, _) = calls
    assert (planning, reader) == ("plan_sources", "ScanReader")
    handle = planned[1]
    assert isinstance(handle, _internal.PlannedScan)
    assert [o for o in handed if any(o is p for p in planned)] == [handle]


def test_plan_splits_is_one_call_and_a_split_is_read_as_a_scan(folder: Path) -> None:
    """Listing, partition values, headers and sizes, the plan and the splits: one call; a
    worker's read of a split makes its scan in one call, then reads it as a scan does."""
    with crossings() as planning:
        splits = polars_avro.plan_splits(folder, target_bytes=1 << 20)
    assert planning.rust == ["plan_splits"]
    with crossings() as reading:
        frames = list(polars_avro.read_split(splits[0], predicate=pl.col("id") > 10))
    batches = reading.rust.count("ScanReader.next_batch")
    assert reading.rust == ["split_scan", "ScanReader", *["ScanReader.next_batch"] * batches, "ScanReader.finish"]
    assert reading.from_rust == []
    assert sum(f.height for f in frames) > 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("filtered", [False, True], ids=["unfiltered", "filtered by the reader"])
def test_no_function_of_the_package_runs_for_a_batch(folder: Path, engine: str, filtered: bool) -> None:
    """On the common path (an unfiltered scan, and one filtered by what the reader
    evaluates), a batch is handed to Polars by the scan's generator as Rust gives it: the
    same scan read in four times as many batches starts no more functions of the package,
    and resumes only that generator once more per batch."""
    pl.scan_avro(folder).collect()
    predicate = (pl.col("id") % 3 == 0) & (pl.col("day") != pl.date(2024, 1, 2)) if filtered else None
    big, few = _scan(folder, engine, 4000, predicate)
    small, many = _scan(folder, engine, 1000, predicate)
    assert big.equals(small)
    more = many.rust.count("ScanReader.next_batch") - few.rust.count("ScanReader.next_batch")
    assert more >= 12, (few.rust, many.rust)
    assert sorted(many.started) == sorted(few.started)
    extra = list(many.resumed)
    for name in few.resumed:
        extra.remove(name)
    assert extra == ["Scan.batches"] * more, extra
