"""Python threads reading at once (issue 61, item 7): a web service or a thread pool over
files calls the reader from several Python threads. Each read releases the GIL while Rust
decodes, so two threads reading two files at once should take little more than the longer
read, not the sum of both.

    python benches/threads.py [--threads 2] [--runs 7]   # pin it: taskset -c 0,1 python ...

For each route (read_avro, a filtered scan, batches from AvroReader) it times reading the
benchmark's files (benches/workloads.py: primitives-snappy and primitives-deflate, 1M records)
in turn, then the same reads from `threads` Python threads at once, each read with
``n_threads=1`` so that the Python threads, not the reader's pool, share the cores; and the
same for `threads` threads reading one file. Prints the medians and the ratio at once / in
turn (1 / threads is the floor, 1.0 is no overlap at all). Values are checked before the
timed runs (a comparison of frames is no part of a read's time).

The same reads in `threads` worker processes at once (each returning the frame's height,
checked) give the machine's own floor for the ratio: processes share no GIL and no
allocator, so what keeps them above 1 / threads (cores shared with other work, memory
bandwidth, a turbo clock that drops when both cores are busy) bounds the threads too.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

import polars_avro

sys.path.insert(0, str(Path(__file__).parent))
from workloads import DATASETS  # noqa: E402

#: The benchmark's row count (benches/run.py's default).
ROWS = 1_000_000

ROUTES: dict[str, Callable[[Path], Any]] = {
    "read_avro": lambda p: polars_avro.read_avro(p, n_threads=1),
    "scan + filter": lambda p: pl.scan_avro(p, n_threads=1).filter(pl.col("count") < 1000).collect(),  # type: ignore[attr-defined]
    "AvroReader": lambda p: pl.concat(list(polars_avro.AvroReader(p, n_threads=1))),
}


def height_in_a_process(route: str, path: Path) -> int:
    """A route's read in a worker process: only its height crosses back."""
    return int(ROUTES[route](path).height)


def median_seconds(run: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    chosen = [DATASETS[name].write(ROWS) for name in ("primitives-snappy", "primitives-deflate")]
    print(f"{args.threads} Python threads, medians of {args.runs}; each read on one reader thread")
    print("| route | files | in turn | threads at once | at once / in turn | processes at once / in turn |")
    print("|---|---|---|---|---|---|")
    spawn = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=args.threads)
    processes = concurrent.futures.ProcessPoolExecutor(max_workers=args.threads, mp_context=spawn)
    with pool, processes:
        for name, read in ROUTES.items():
            for label, paths in (
                ("two files", [chosen[i % 2] for i in range(args.threads)]),
                ("one file", [chosen[0]] * args.threads),
            ):
                expected = [read(p) for p in paths]
                for df, want in zip(pool.map(read, paths), expected):
                    assert df.equals(want)
                heights = [df.height for df in expected]
                # Started and warmed (imports, first reads) before the timed runs.
                assert list(processes.map(height_in_a_process, [name] * len(paths), paths)) == heights

                def in_turn(paths: list[Path] = paths, read: Callable[[Path], Any] = read) -> None:
                    for path in paths:
                        read(path)

                def at_once(paths: list[Path] = paths, read: Callable[[Path], Any] = read) -> None:
                    list(pool.map(read, paths))

                def in_processes(paths: list[Path] = paths, name: str = name, heights: list[int] = heights) -> None:
                    assert list(processes.map(height_in_a_process, [name] * len(paths), paths)) == heights

                alone = median_seconds(in_turn, args.runs)
                together = median_seconds(at_once, args.runs)
                apart = median_seconds(in_processes, args.runs)
                print(
                    f"| {name} | {label} | {alone * 1e3:.0f} ms | {together * 1e3:.0f} ms | {together / alone:.2f} "
                    f"| {apart / alone:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
