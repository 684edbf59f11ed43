"""The benchmarks' timer: the median of several runs, with what a run returned, so that the
caller checks the values of what it timed."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def median_time(run: Callable[[], T], runs: int) -> tuple[float, T]:
    """Median seconds of `runs` calls of `run` (at least one), and what the last returned."""
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result
