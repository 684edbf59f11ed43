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

from workloads import DATA, DATASETS

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
import json, resource, sys, time
import polars_avro
path = sys.argv[1]
def own():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("RssAnon"))
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
before, own_before = rss(), own()
df = polars_avro.read_avro(path)
peak = rss() - before
# What stays once the allocator gives back what the read freed: wait until it stops falling.
held, steady = own() - own_before, 0
for _ in range(60):
    time.sleep(0.5)
    now = own() - own_before
    steady = steady + 1 if now >= held - (1 << 20) else 0
    held = min(held, now)
    if steady == 6:
        break
print(json.dumps({"peak_mb": peak / 2**20, "held_mb": held / 2**20, "estimated_mb": df.estimated_size() / 2**20,
                  "rows": df.height}))
"""

#: The files whose full read is measured against what its result holds.
HELD_FILES = ("primitives-snappy", "primitives-null", "nulls-30pct", "logical", "wide-100", "nested")


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


def measure(path: Path | str, mode: str, runs: int, child: str = CHILD) -> dict:
    """The median run by peak RSS (the allocator makes single runs vary)."""
    reports = sorted((measure_once(path, mode, child) for _ in range(runs)), key=lambda r: r["peak_mb"])
    return reports[len(reports) // 2]


def measure_once(path: Path | str, mode: str, child: str = CHILD) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-I", "-c", child, str(path), mode, str(Path(tmp) / "out.parquet")],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--over-http", action="store_true", help="read the files from nginx on loopback")
    parser.add_argument("--held-files", nargs="*", default=list(HELD_FILES), help="benchmark files to read whole")
    args = parser.parse_args()
    source = DATASETS["primitives-snappy"].write(args.rows)
    with tempfile.TemporaryDirectory() as workdir:
        server = HttpServer(DATA, Path(workdir)) if args.over_http else None
        try:
            report(source, args, lambda path: f"{server.url}/{path.name}" if server else path)
        finally:
            if server:
                server.close()
    if args.held_files and not args.over_http:
        report_held(args)


def report_held(args: argparse.Namespace) -> None:
    """Each file's full read: its peak against what its result holds (the goal: 1.3x that plus 32 MB)."""
    print("\n| file | peak RSS growth | the result holds | Polars' estimated_size | 1.3x held + 32 MB |")
    print("|---|---|---|---|---|")
    for name in args.held_files:
        dataset = DATASETS[name]
        path = dataset.write(args.rows)
        r = measure(path, "read", args.runs, HELD)
        assert r["rows"] == dataset.rows(args.rows), r
        bound = 1.3 * r["held_mb"] + 32
        print(
            f"| {name} | {r['peak_mb']:.0f} MB | {r['held_mb']:.0f} MB | {r['estimated_mb']:.0f} MB "
            f"| {bound:.0f} MB{'' if r['peak_mb'] <= bound else ' (over)'} |",
            flush=True,
        )


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
