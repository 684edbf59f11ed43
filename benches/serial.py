"""The reader's serial parts per batch, with decoding made nearly free (issue 43, item 4).

A file of one boolean column, 4M records in blocks of about 1,000 (4,000 blocks), is read at
several batch sizes by each route a query takes: `read_avro` (batches joined in Rust),
`AvroReader` (each batch crossing into Python), a scan with a filter (the predicate called
back in Python once per batch) and a streaming aggregate (Polars' engine pulling batches).
Time per batch at small batches is the route's fixed cost on the reading thread, which bounds
the speed-up on many cores: with `d` ms of decoding per batch on one thread and `s` ms serial,
`n` threads reach at most min(n, (d + s) / s) times one.

    python benches/serial.py          # pin it: POLARS_MAX_THREADS=1 taskset -c 0 python ...
    python benches/serial.py --projected FILE RECORDS 16   # the model below for one file

Prints one line per route and batch size: median time of 7 reads, batches, time per batch.
Values are checked on every read.

Then, for the benchmark's files (benches/workloads.py; 1M records, wide-100 200,000), the
part of a read that more threads do not share: the CPU time of the calling thread in a read on
two threads, C (it walks the block headers and hands batches to the pool, decodes the last
batch, and assembles the result; with fewer cores than threads it also takes page faults the
busy pool would take ahead of it, so C is an upper bound). With T, a one-thread read's time,
and B batches of T / B each, `n` threads take at least max(C, T / n) + T / B: the calling
thread reads batch after batch, and the last one read still has to be decoded. Printed as a
speed-up over one thread for 16, 32 and 96 threads, each with B of a read asking for that many
threads (a read makes four batches a thread where its size allows; B in brackets) and C of a
read of as many batches on two threads, and for 16 threads on a file of ten times the records
(ten times T, C and B of the two-thread read; the issue's many-core measurement reads such
files), with the calling thread's page faults and the speed-up measured on two threads.

Beside the measured two-thread speed-up, what the machine allows any busy work: the median
ratio of two threads' time to one's on a loop that keeps a core busy (benches/two_cores.rs,
built with cargo), and 2 / that. A virtual machine's two vCPUs run on the two hardware threads
of one core part of the time on some hosts, where two threads each run slower.

Last, C when decoding costs nothing: a file with the null-codec file's block layout (3,300
blocks of 16 KB), each block one record of a long and 16,000 random bytes, read for the long
alone (the decoder steps over the bytes without reading them). The pool is then idle, as it
is on many cores when the reading thread is what bounds a read, and walks the blocks ahead of the
reading thread in time: this C is the reading thread's own cost for such a file.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
from compare import floor_binary
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


FRAMING_BLOCKS = 3_300


def framing_only() -> Path:
    """The file of C when decoding costs nothing (see above), written once and cached."""
    path = DATA / f"serial-framing-{FRAMING_BLOCKS}.avro"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        fields = [{"name": "i", "type": "long"}, {"name": "big", "type": "bytes"}]
        schema = {"type": "record", "name": "r", "fields": fields}
        records = ({"i": i, "big": os.urandom(16_000)} for i in range(FRAMING_BLOCKS))
        with open(path, "wb") as f:
            fastavro.writer(f, schema, records, codec="null", sync_interval=16_000)
    return path


def calling_thread(
    path: str,
    rows: int,
    threads: int,
    runs: int = 9,
    columns: list[str] | None = None,
    batch_size: int | None = None,
) -> tuple[float, float, int, int]:
    """Median wall time of `read_avro` on `threads` threads, the calling thread's CPU time
    (seconds) and its page faults, each the median of `runs` reads of `rows` records, and the
    batches of a read."""
    samples = []
    for _ in range(runs):
        faults, cpu, start = page_faults(), time.thread_time(), time.perf_counter()
        with polars_avro.read_stats() as stats:
            df = polars_avro.read_avro(path, n_threads=threads, columns=columns, batch_size=batch_size)
        samples.append((time.perf_counter() - start, time.thread_time() - cpu, page_faults() - faults))
        assert df.height == stats.rows == rows, (df.height, stats.rows)
    wall, cpu, faults = (statistics.median(sample[i] for sample in samples) for i in range(3))
    return wall, cpu, int(faults), stats.batches


def batches_on(path: str, rows: int, threads: int) -> int:
    """The batches a read on `threads` threads makes, more than the 4 a core a read allows
    by default: in a process whose POLARS_MAX_THREADS allows them."""
    env = {**os.environ, "POLARS_MAX_THREADS": str(threads)}
    command = [sys.executable, __file__, "--batches", path, str(rows), str(threads)]
    return int(subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout.split()[-1])


def serial_part_on(path: str, rows: int, threads: int) -> tuple[float, int]:
    """C and B of a read on `threads` threads: a read makes more batches on more threads, so
    B as a read asking for that many makes them, and C of a read of as many batches on two
    threads (on more threads than cores, the calling thread would wait for cores and take the
    others' page faults)."""
    batches = batches_on(path, rows, threads)
    return calling_thread(path, rows, 2, batch_size=-(-rows // batches))[1], batches


def projected(path: str, rows: int, threads: int = 16) -> float:
    """The most `threads` threads can give over one on this file, by the model above."""
    one = calling_thread(path, rows, 1)[0]
    return speed_up(threads, one, *serial_part_on(path, rows, threads))


def speed_up(threads: int, one: float, serial: float, batches: int, scale: int = 1) -> float:
    """The most `threads` threads can give over one, by the model above, for a file of
    `scale` times the records."""
    return scale * one / (max(scale * serial, scale * one / threads) + one / batches)


def model() -> None:
    if len(os.sched_getaffinity(0)) < 2:
        print("\n(The model of many threads reads on two threads: run it on two cores or more.)")
        return
    print("\nThe calling thread's part of a read (C, on two threads) and the speed-up it allows")
    heads = " | ".join(f"{n} threads" for n in MODEL_THREADS)
    print(f"| file | T, one thread | C | its page faults | batches | {heads} | 16 threads, 10x | measured, 2 threads |")
    print("|---" * (7 + len(MODEL_THREADS)) + "|")
    for name in MODEL_FILES:
        dataset = DATASETS[name]
        path, rows = str(dataset.write(1_000_000)), dataset.rows(1_000_000)
        one, _, _, _ = calling_thread(path, rows, 1)
        two, serial, faults, batches = calling_thread(path, rows, 2)
        many = {n: serial_part_on(path, rows, n) for n in MODEL_THREADS}
        cells = " | ".join(f"{speed_up(n, one, *many[n]):.1f}x ({many[n][1]})" for n in MODEL_THREADS)
        # Ten times the records on 16 threads: batches of 4 MiB or the row target again, ten
        # times the two-thread read's, so ten times its C.
        larger = speed_up(16, one, serial, batches, scale=10)
        print(
            f"| {name} | {one * 1e3:.1f} ms | {serial * 1e3:.1f} ms | {faults} | {batches} | {cells} | "
            f"{larger:.1f}x | {one / two:.2f}x |",
            flush=True,
        )
    two_cores()
    path = str(framing_only())
    assert polars_avro.read_avro(path, columns=["i"])["i"].to_list() == list(range(FRAMING_BLOCKS))
    two, serial, faults, _ = calling_thread(path, FRAMING_BLOCKS, 2, runs=21, columns=["i"])
    print(
        f"\nDecoding made free ({FRAMING_BLOCKS:,} blocks of 16 KB, read for one long each): C {serial * 1e3:.2f} ms, "
        f"{faults:.0f} page faults, {two * 1e3:.2f} ms on two threads",
        flush=True,
    )


def two_cores() -> None:
    """What two threads of busy work get out of this machine's two cores (see above)."""
    binary = floor_binary("two_cores")
    if binary is None:
        return
    out = json.loads(subprocess.run([binary], capture_output=True, text=True, check=True).stdout.splitlines()[-1])
    ratio = out["two_over_one"]
    print(
        f"\nTwo threads of busy work (benches/two_cores.rs): {ratio['median']:.2f}x the time of one "
        f"(median of {out['rounds']} rounds, {ratio['min']:.2f}-{ratio['max']:.2f}x): "
        f"a two-thread speed-up of at most {out['speed_up_ceiling']:.2f}x here",
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
    if sys.argv[1:2] == ["--batches"]:
        path, rows, threads = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(calling_thread(path, rows, threads, runs=1)[3])
    elif sys.argv[1:2] == ["--projected"]:
        print(json.dumps(projected(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()
