"""The reader's serial parts per batch, with decoding made nearly free (issue 43, item 4).

A file of one boolean column, 4M records in blocks of about 1,000 (4,000 blocks), is read at
several batch sizes by each route a query takes: `read_avro` (batches joined in Rust),
`AvroReader` (each batch crossing into Python), a scan with a filter (the predicate called
back in Python once per batch) and a streaming aggregate (Polars' engine pulling batches).
Time per batch at small batches is the route's fixed cost on the reading thread, which bounds
the speed-up on many cores: with `d` ms of decoding per batch on one thread and `s` ms serial,
`n` threads reach at most min(n, (d + s) / s) times one.

    python benches/serial.py          # pin it: POLARS_MAX_THREADS=1 taskset -c 0 python ...

Prints one line per route and batch size: median time of 7 reads, batches, time per batch.
Values are checked on every read.

Then, for the benchmark's files (benches/workloads.py; 1M records, wide-100 200,000), the
part of a read that more threads do not share: the CPU time of the calling thread in a read on
two threads, C (it walks the block headers and hands batches to the pool, decodes the last
batch, and assembles the result; with fewer cores than threads it also takes page faults the
busy pool would take ahead of it, so C is an upper bound). With T, a one-thread read's time, `n`
threads reach at most min(n, T / C) times one thread: printed for 16, 32 and 96 threads, with
the calling thread's page faults and the speed-up measured on two threads.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
from workloads import DATASETS

import polars_avro

DATA = Path(__file__).parent / "data"
RECORDS = 4_000_000
BATCH_SIZES = (1_000, 4_000, 16_000, 65_536)


def tiny_blocks() -> Path:
    """The file, written once and cached: a boolean is one byte, so 1,000-byte blocks hold ~1,000."""
    path = DATA / f"serial-bool-{RECORDS}.avro"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        schema = {"type": "record", "name": "r", "fields": [{"name": "b", "type": "boolean"}]}
        with open(path, "wb") as f:
            fastavro.writer(f, schema, ({"b": i % 2 == 0} for i in range(RECORDS)), codec="null", sync_interval=1_000)
    return path


def timed(read: Callable[[], Any], check: Callable[[Any], bool], runs: int = 7) -> tuple[float, int]:
    """Median seconds of `runs` reads, each checked, and the batches one read made."""
    times = []
    for _ in range(runs):
        with polars_avro.read_stats() as stats:
            start = time.perf_counter()
            out = read()
            times.append(time.perf_counter() - start)
        assert check(out), out
    return statistics.median(times), stats.batches


def routes(path: str, batch_size: int) -> dict[str, tuple[Callable[[], Any], Callable[[Any], bool]]]:
    """Each route a query takes, at one batch size: (the read, its check)."""
    half = RECORDS // 2
    scan: Any = pl.scan_avro  # type: ignore[attr-defined]
    return {
        "read_avro": (
            lambda: polars_avro.read_avro(path, batch_size=batch_size),
            lambda df: df.height == RECORDS and df["b"].sum() == half,
        ),
        "AvroReader": (
            lambda: sum(df.height for df in polars_avro.AvroReader(path, batch_size=batch_size)),
            lambda n: n == RECORDS,
        ),
        "scan + filter": (
            lambda: scan(path, batch_size=batch_size).filter(pl.col("b")).collect(),
            lambda df: df.height == half,
        ),
        "streaming sum": (
            lambda: scan(path, batch_size=batch_size).select(pl.col("b").sum()).collect(engine="streaming"),
            lambda df: df.item() == half,
        ),
    }


#: The files of the model, 1M records each (wide-100: 200,000).
MODEL_FILES = (
    "primitives-null",
    "primitives-snappy",
    "primitives-deflate",
    "primitives-zstandard",
    "wide-100",
    "nulls-30pct",
    "nested",
    "logical",
)
MODEL_THREADS = (16, 32, 96)


def page_faults() -> int:
    """Minor page faults of the calling thread so far (Linux)."""
    with open("/proc/thread-self/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def calling_thread(path: str, rows: int, threads: int, runs: int = 9) -> tuple[float, float, int]:
    """Median wall time of `read_avro` on `threads` threads, the calling thread's CPU time
    (seconds) and its page faults, each the median of `runs` reads of `rows` records."""
    samples = []
    for _ in range(runs):
        faults, cpu, start = page_faults(), time.thread_time(), time.perf_counter()
        with polars_avro.read_stats() as stats:
            df = polars_avro.read_avro(path, n_threads=threads)
        samples.append((time.perf_counter() - start, time.thread_time() - cpu, page_faults() - faults))
        assert df.height == stats.rows == rows, (df.height, stats.rows)
    return tuple(statistics.median(sample[i] for sample in samples) for i in range(3))  # type: ignore[return-value]


def model() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        print("\n(The model of many threads reads on two threads: run it on two cores or more.)")
        return
    print("\nThe calling thread's part of a read (C, on two threads) and the speed-up it allows")
    heads = " | ".join(f"{n} threads" for n in MODEL_THREADS)
    print(f"| file | T, one thread | C | its page faults | {heads} | measured, 2 threads |")
    print("|---" * (5 + len(MODEL_THREADS)) + "|")
    for name in MODEL_FILES:
        dataset = DATASETS[name]
        path, rows = str(dataset.write(1_000_000)), dataset.rows(1_000_000)
        one, _, _ = calling_thread(path, rows, 1)
        two, serial, faults = calling_thread(path, rows, 2)
        cells = " | ".join(f"{min(n, one / serial):.1f}x" for n in MODEL_THREADS)
        print(
            f"| {name} | {one * 1e3:.1f} ms | {serial * 1e3:.1f} ms | {faults:.0f} | {cells} | {one / two:.2f}x |",
            flush=True,
        )


def main() -> None:
    path = str(tiny_blocks())
    for batch_size in BATCH_SIZES:
        for name, (read, check) in routes(path, batch_size).items():
            seconds, batches = timed(read, check)
            print(
                f"{name:14} | batch_size {batch_size:>6} | {seconds * 1000:7.1f} ms | {batches:>5} batches | "
                f"{seconds / batches * 1e6:6.1f} us per batch",
                flush=True,
            )
    model()


if __name__ == "__main__":
    main()
