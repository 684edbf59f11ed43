"""Memory of reads: peak RSS of a full read against the result's size, and of streaming
queries as the file grows: a streaming aggregate over every column (it should stay flat:
only the read-ahead window and the engine's batches are in memory, never the file) and
``sink_parquet`` (which adds what Polars' Parquet writer keeps).

Then a full read of each of the benchmark's other files (benches/workloads.py), against the
memory its result holds: the growth of the process's own memory (RssAnon) that stays while
the result is alive, once the allocator has given back what the read freed (Polars'
jemalloc does so within about ten seconds). Polars' ``estimated_size()`` is shown beside it:
for strings it counts their bytes, not the 16-byte view each value has.

The bigger files repeat the data blocks of the 1M-row primitives file (an Avro container
may hold any number of blocks after its header), so they cost no time to write. Each
measurement is a fresh process reporting ru_maxrss before and after; the median of
--runs is shown.

    python benches/memory.py [--rows 1000000] [--copies 1 4 16] [--runs 3] [--over-http]

With --over-http the files are read from nginx on loopback (the test suite's server,
tests/servers.py), through the object store reader's range requests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from compare import scanner
from workloads import DATA, DATASETS, WORKLOADS, Workload

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import HttpServer  # noqa: E402

CHILD = r"""
import json, resource, sys
import polars as pl
import polars_avro
path, mode, out = sys.argv[1:]
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before = rss()
if mode == "read":
    df = polars_avro.read_avro(path)
    size, rows = df.estimated_size(), df.height
elif mode == "aggregate":
    # Every column decoded, almost nothing kept.
    df = pl.scan_avro(path).select(pl.len(), pl.all().max()).collect(engine="streaming")
    size, rows = 0, df.item(0, 0)
else:
    pl.scan_avro(path).sink_parquet(out)
    size, rows = 0, pl.scan_parquet(out).select(pl.len()).collect().item()
print(json.dumps({"peak_mb": (rss() - before) / 2**20, "size_mb": size / 2**20, "rows": rows}))
"""

HELD = r"""
import json, sys, time
PATH, WARM_PATH, statement, params, benches = sys.argv[1:6]
sys.path.insert(0, benches)
import polars as pl
import polars_avro
from child import status_mb
# The workload's parameters (COLUMNS, PREDICATE) as Python source, evaluated before the peak starts.
values = {k: eval(v) for k, v in json.loads(params).items()}
if WARM_PATH:
    # The same query on a small file first: the code it runs is then mapped already.
    eval(statement, {"pl": pl, "polars_avro": polars_avro, "PATH": WARM_PATH, **values})
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak (VmHWM) starts afresh, here
before, own_before = status_mb("VmRSS"), status_mb("RssAnon")
df = eval(statement, {"pl": pl, "polars_avro": polars_avro, "PATH": PATH, **values})
peak = status_mb("VmHWM") - before
# What stays once the allocator gives back what the read freed: wait until it stops falling.
held, steady = status_mb("RssAnon") - own_before, 0
for _ in range(60):
    time.sleep(0.5)
    now = status_mb("RssAnon") - own_before
    steady = steady + 1 if now >= held - 1 else 0
    held = min(held, now)
    if steady == 6:
        break
print(json.dumps({"peak_mb": peak, "held_mb": held, "estimated_mb": df.estimated_size() / 2**20, "rows": df.height}))
"""

#: The workloads (benches/workloads.py) whose peak is measured against what their result holds:
#: each file read whole, and the queries that keep part of one.
HELD_WORKLOADS = (
    "primitives-snappy",
    "primitives-null",
    "nulls-30pct",
    "logical",
    "wide-100",
    "nested",
    "project-5-of-100",
    "predicate",
    "streaming",
)


def repeated(source: Path, copies: int) -> Path:
    """`source` with its data blocks written `copies` times."""
    path = DATA / f"{source.stem}-x{copies}.avro"
    if path.exists():
        return path
    data = source.read_bytes()
    # The header ends with the sync marker, which also ends the file.
    header_end = data.index(data[-16:]) + 16
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        out.write(data[:header_end])
        for _ in range(copies):
            out.write(data[header_end:])
    tmp.rename(path)
    return path


def measure(path: Path | str, mode: str, runs: int) -> dict:
    """The median run of CHILD by peak RSS (the allocator makes single runs vary)."""
    with tempfile.TemporaryDirectory() as tmp:
        return median_run(runs, CHILD, str(path), mode, str(Path(tmp) / "out.parquet"), cwd=tmp)


def median_run(runs: int, child: str, *argv: str, cwd: str | None = None) -> dict[str, Any]:
    """`child` run `runs` times, each in a fresh process: its report of median peak."""
    reports = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-I", "-c", child, *argv], check=True, capture_output=True, text=True, cwd=cwd
        )
        reports.append(json.loads(out.stdout.strip().splitlines()[-1]))
    reports.sort(key=lambda r: r["peak_mb"])
    return reports[len(reports) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--over-http", action="store_true", help="read the files from nginx on loopback")
    parser.add_argument(
        "--held", nargs="*", default=list(HELD_WORKLOADS), help="benchmark workloads measured against their result"
    )
    args = parser.parse_args()
    source = DATASETS["primitives-snappy"].write(args.rows)
    with tempfile.TemporaryDirectory() as workdir:
        server = HttpServer(DATA, Path(workdir)) if args.over_http else None
        try:
            report(source, args, lambda path: f"{server.url}/{path.name}" if server else path)
        finally:
            if server:
                server.close()
    if args.held and not args.over_http:
        report_held(args)


def report_held(args: argparse.Namespace) -> None:
    """Each workload's peak against what its result holds (the goal: 1.3x that plus 32 MB).

    The first query of a process also maps the code it runs (Polars' and ours: 10 MB for
    ``read_avro``, about 30 MB for a lazy query through Polars' engine), the same for any
    file; the peak after the same query on 1,000 rows of the file is what the read itself adds.
    """
    print(
        "\n| workload | peak RSS growth, first query | peak RSS growth, after one on 1,000 rows "
        "| the result holds | Polars' estimated_size | 1.3x held + 32 MB |"
    )
    print("|---|---|---|---|---|---|")
    for name in args.held:
        workload = WORKLOADS[name]
        path = workload.dataset.write(args.rows)
        first = measure_held(path, None, workload, args.runs)
        warm = measure_held(path, workload.dataset.write(1000), workload, args.runs)
        if workload.query in ("read", "streaming"):
            assert first["rows"] == warm["rows"] == workload.dataset.rows(args.rows), (first, warm)
        bound = 1.3 * warm["held_mb"] + 32
        print(
            f"| {name} | {first['peak_mb']:.0f} MB | {warm['peak_mb']:.0f} MB | {warm['held_mb']:.0f} MB "
            f"| {warm['estimated_mb']:.0f} MB | {bound:.0f} MB{'' if warm['peak_mb'] <= bound else ' (over)'} |",
            flush=True,
        )


def measure_held(path: Path, warm_path: Path | None, workload: Workload, runs: int) -> dict[str, Any]:
    """`workload`'s statement for ours, as compare.py runs it, after the same on `warm_path`
    if given: the run of median peak."""
    statement = scanner("polars_avro")[workload.query]
    benches = str(Path(__file__).resolve().parent)
    return median_run(runs, HELD, str(path), str(warm_path or ""), statement, json.dumps(workload.params), benches)


def report(source: Path, args: argparse.Namespace, location) -> None:
    print(
        "| file | rows | full read: peak RSS growth / result size "
        "| streaming aggregate: peak RSS growth | sink_parquet: peak RSS growth |"
    )
    print("|---|---|---|---|---|")
    for copies in args.copies:
        path = repeated(source, copies)
        read = measure(location(path), "read", args.runs) if copies <= 4 else None
        aggregate = measure(location(path), "aggregate", args.runs)
        sink = measure(location(path), "sink", args.runs)
        assert aggregate["rows"] == sink["rows"] == copies * args.rows, (aggregate, sink)
        read_cell = (
            f"{read['peak_mb']:.0f} MB / {read['size_mb']:.0f} MB ({read['peak_mb'] / read['size_mb']:.2f}x)"
            if read
            else "(not run)"
        )
        mb = path.stat().st_size / 2**20
        print(
            f"| {mb:.0f} MB snappy | {sink['rows']:,} | {read_cell} "
            f"| {aggregate['peak_mb']:.0f} MB | {sink['peak_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
