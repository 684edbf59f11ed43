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

Then, for the benchmark's 1M-record files (benches/workloads.py), a read's parts as
`read_stats()` counts them: W, the work the threads share (decompressing and decoding every
batch); S, the reading thread's own (walking block headers, mapping the file, handing
batches on); F, the rest of the wall time (opening the file, assembling the result). With
`n` threads the pipeline takes about F + max(S, W / n): the speed-up over one thread
(F + S + W) is printed for 2, 16, 32 and 96 threads (the same for larger files, whose parts
all grow with the records). Run on two threads, the measured speed-up over a one-thread read
of the same run is printed beside the model's.
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
MODEL_FILES = ("primitives-null", "primitives-snappy", "primitives-zstandard", "wide-100", "nested")
MODEL_THREADS = (2, 16, 32, 96)


def parts_of_a_read(path: str, threads: int, runs: int = 7) -> tuple[float, float, float, float]:
    """Median wall time of `read_avro` on `threads` threads, and its F, S and W (seconds)."""
    samples = []
    for _ in range(runs):
        with polars_avro.read_stats() as stats:
            start = time.perf_counter()
            df = polars_avro.read_avro(path, n_threads=threads)
            wall = time.perf_counter() - start
        assert df.height == stats.rows, (df.height, stats.rows)
        work = stats.decompress_seconds + stats.decode_seconds
        serial = stats.io_seconds
        samples.append((wall, wall - serial - work, serial, work))
    return sorted(samples)[runs // 2]


def speed_up(fixed: float, serial: float, work: float, threads: int) -> float:
    """The model's speed-up of `threads` over one thread."""
    return (fixed + serial + work) / (fixed + max(serial, work / threads))


def model() -> None:
    threads = int(os.environ.get("POLARS_MAX_THREADS", "1"))
    print(f"\nA read's parts on one thread (ms) and the speed-up they allow; run on {threads} thread(s)")
    heads = [f"{n} threads" for n in MODEL_THREADS]
    print(f"| file | F | S | W | {' | '.join(heads)} | measured, 2 threads |")
    print("|---" * (5 + len(MODEL_THREADS)) + "|")
    for name in MODEL_FILES:
        path = str(DATASETS[name].write(1_000_000))
        wall, fixed, serial, work = parts_of_a_read(path, 1)
        ups = [speed_up(fixed, serial, work, n) for n in MODEL_THREADS]
        measured = "-"
        if threads >= 2:
            measured = f"{wall / parts_of_a_read(path, 2)[0]:.2f}x"
        parts = " | ".join(f"{seconds * 1e3:.1f}" for seconds in (fixed, serial, work))
        cells = " | ".join(f"{u:.1f}x" for u in ups)
        print(f"| {name} | {parts} | {cells} | {measured} |", flush=True)


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
