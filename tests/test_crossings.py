"""What crosses between the package's Python and its Rust core during a scan, counted with
sys.monitoring (Python 3.12 on): the calls into the compiled module, and the package's own
Python functions that run while the batches flow. Python only adapts: the scan is planned
and its filter taken apart in Rust, and a batch is handed to Polars as Rust gives it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

import polars as pl
import pytest

import polars_avro
from polars_avro import _internal

pytestmark = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring came with Python 3.12")

#: The package's folder: code of the package is code whose file is under it.
PACKAGE = str(Path(polars_avro.__file__).parent)
ENGINES = ["in-memory", "streaming"]
DAYS = ["2024-01-01", "2024-01-02", "2024-01-03"]


@dataclass
class Crossings:
    """What a block of code did: its calls into the compiled module, by name, in order, and
    the package's Python that ran (functions started, generators resumed), by name."""

    rust: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)


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

    def call(code: CodeType, offset: int, called: Any, arg: Any) -> Any:
        name = _rust_name(called)
        if name is not None:
            seen.rust.append(name)
        return None

    def start(code: CodeType, offset: int) -> Any:
        if code.co_filename.startswith(PACKAGE):
            seen.started.append(code.co_qualname)
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
    monitoring.set_events(tool, events.CALL | events.PY_START | events.PY_RESUME)
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
