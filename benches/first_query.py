"""What a process's first query costs (issues 43 and 60): scripts, the command line,
notebooks' first cell and serverless functions run one query per process, and pay what
repeated queries do not.

Each measurement is a fresh Python process (``-I``) that times ``import polars`` and then
``import polars_avro``, then one query twice over: its first run, and the median of the next
seven, each timed from the ``scan_*`` call to the collected frame. The queries are
``scan(path).head(1000).collect()`` and ``scan(path).collect()``, with ``pl.scan_avro`` on
the benchmark's 1M-record snappy file and ``pl.scan_ipc`` on the same frame written as Arrow
IPC: Polars' own reader shows what a first query costs there anyway. The first query's RSS
growth and the modules it imports are reported too, and what the kernel takes to hand the
process that much fresh memory (a first full scan's result is faulted in page by page).

It runs in two environments, as users have them: this Python's (the bench session's, with
pyarrow, numpy and pandas installed, as beside pandas, Ray or DataFusion; Polars' interfaces
import pyarrow wherever it is installed), and with ``--lean-python``, one with Polars and
polars-avro only. The goals: the first ``head(1000)`` within 1.5x of ``scan_ipc``'s and its
RSS growth at most 10 MB over ``scan_ipc``'s, a first full scan within 1.3x of a repeated
one, and ``import polars_avro`` within 20 ms on top of ``import polars``.

    python benches/first_query.py [--processes 5] [--lean-python PATH]

Prints medians over the processes; row counts are checked in each.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from workloads import DATA, DATASETS

#: What most users of Polars have installed beside it, and Polars' interfaces import if found.
USERS = ("pyarrow", "numpy", "pandas")

CHILD = r"""
import json, sys, time
start = time.perf_counter()
import polars as pl
imported_polars = time.perf_counter()
import polars_avro
imported_ours = time.perf_counter()
scan = {"avro": pl.scan_avro, "ipc": pl.scan_ipc}[sys.argv[1]]
path, query = sys.argv[2], sys.argv[3]

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6

def run():
    start = time.perf_counter()
    lf = scan(path).head(1000) if query == "head" else scan(path)
    df = lf.collect()
    return time.perf_counter() - start, df.height

modules, rss = set(sys.modules), rss_mb()
first, rows = run()
grown, imported = rss_mb() - rss, sorted(set(sys.modules) - modules)
repeated = sorted(run()[0] for _ in range(7))[3]

def first_touch(size):
    # What the kernel takes to hand a process `size` bytes of fresh memory, a page at a time:
    # a first query's result lives in such memory, a repeated one's reuses it.
    import mmap
    start = time.perf_counter()
    memory = mmap.mmap(-1, size)
    for at in range(0, size, mmap.PAGESIZE):
        memory[at] = 1
    return time.perf_counter() - start

faults = first_touch(max(int(grown * 1e6), 4096))
print(json.dumps({"polars": imported_polars - start, "ours": imported_ours - imported_polars,
                  "first": first, "repeated": repeated, "rows": rows, "rss": grown, "faults": faults,
                  "imported": len(imported), "pyarrow": "pyarrow" in imported}))
"""

#: Which of pyarrow, numpy and pandas a Python has installed.
INSTALLED = f"import importlib.util as u, json; print(json.dumps([bool(u.find_spec(m)) for m in {USERS!r}]))"


def measure(python: str, fmt: str, path: Path, query: str, processes: int, rows: int) -> dict[str, float]:
    """Medians over `processes` fresh processes of each of the child's figures."""
    reports = []
    for _ in range(processes):
        out = subprocess.run(
            [python, "-I", "-c", CHILD, fmt, str(path), query], check=True, capture_output=True, text=True
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert report["rows"] == (1000 if query == "head" else rows), report
        reports.append(report)
    keys = ("polars", "ours", "first", "repeated", "rss", "faults", "imported", "pyarrow")
    return {key: statistics.median(r[key] for r in reports) for key in keys}


def report(python: str, avro: Path, ipc: Path, processes: int, rows: int) -> None:
    """Prints one environment's table."""
    installed = json.loads(subprocess.run([python, "-I", "-c", INSTALLED], check=True, capture_output=True).stdout)
    has = ", ".join(name for name, there in zip(USERS, installed) if there) or "none of them"
    results = {
        (fmt, query): measure(python, fmt, path, query, processes, rows)
        for query in ("head", "full")
        for fmt, path in (("avro", avro), ("ipc", ipc))
    }
    ms = lambda seconds: f"{seconds * 1e3:.1f} ms"  # noqa: E731
    print(f"\n{python}: pyarrow, numpy, pandas installed: {has}")
    print(f"{processes} fresh processes each, medians; {rows:,} records, snappy / Arrow IPC")
    print(
        "| query | scan_avro: first | repeated | first / repeated | RSS growth | modules imported "
        "| scan_ipc: first | repeated | first / repeated | RSS growth | modules imported |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for query, name in (("head", "head(1000)"), ("full", "full scan")):
        cells = [
            f"{ms(r['first'])} | {ms(r['repeated'])} | {r['first'] / r['repeated']:.2f}x | {r['rss']:.0f} MB "
            f"| {r['imported']:.0f}{' (pyarrow)' if r['pyarrow'] else ''}"
            for r in (results["avro", query], results["ipc", query])
        ]
        print(f"| {name} | {' | '.join(cells)} |")
    ours, polars = results["avro", "head"], results["ipc", "head"]
    print(
        f"first head(1000): scan_avro / scan_ipc = {ours['first'] / polars['first']:.2f}x (goal: 1.5x), "
        f"RSS growth {ours['rss'] - polars['rss']:+.0f} MB over scan_ipc's (goal: 10 MB); first full scan "
        f"{results['avro', 'full']['first'] / results['avro', 'full']['repeated']:.2f}x a repeated one (goal: 1.3x)"
    )
    full = results["avro", "full"]
    print(
        f"the first full scan's {full['rss']:.0f} MB of fresh memory, first touched a page at a time "
        f"on one thread: {ms(full['faults'])}, what a first query pays that a repeated one does not"
    )
    imports = [r for key, r in results.items() if key[0] == "avro"]
    print(
        f"import polars: {ms(statistics.median(r['polars'] for r in imports))}; "
        f"import polars_avro after it: {ms(statistics.median(r['ours'] for r in imports))} (goal: 20 ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--lean-python", help="a Python with Polars and polars-avro only, measured too")
    args = parser.parse_args()
    import polars_avro

    avro = DATASETS["primitives-snappy"].write(args.rows)
    ipc = DATA / f"{avro.stem}.arrow"
    if not ipc.exists():
        polars_avro.read_avro(avro).write_ipc(ipc)
    for python in [sys.executable, *([args.lean_python] if args.lean_python else [])]:
        report(python, avro, ipc, args.processes, args.rows)


if __name__ == "__main__":
    main()
