"""What a process's first query costs (issue 43, item 2): scripts, the command line and
serverless functions run one query per process, and pay what repeated queries do not.

Each measurement is a fresh Python process (``-I``) that times ``import polars`` and then
``import polars_avro``, then one query twice over: its first run, and the median of the next
seven. The queries are ``scan(path).head(1000).collect()`` and ``scan(path).collect()``, with
``pl.scan_avro`` on the benchmark's 1M-record snappy file and ``pl.scan_ipc`` on the same
frame written as Arrow IPC: Polars' own reader shows what a first query costs there anyway.
The goals: the first ``head(1000)`` within 1.5x of ``scan_ipc``'s, a first full scan within
1.3x of a repeated one, and ``import polars_avro`` within 20 ms on top of ``import polars``.

    python benches/first_query.py [--processes 5]

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

CHILD = r"""
import json, sys, time
start = time.perf_counter()
import polars as pl
imported_polars = time.perf_counter()
import polars_avro
imported_ours = time.perf_counter()
scan = {"avro": pl.scan_avro, "ipc": pl.scan_ipc}[sys.argv[1]]
path, query = sys.argv[2], sys.argv[3]
def run():
    lf = scan(path).head(1000) if query == "head" else scan(path)
    start = time.perf_counter()
    df = lf.collect()
    return time.perf_counter() - start, df.height
first, rows = run()
repeated = sorted(run()[0] for _ in range(7))[3]
print(json.dumps({"polars": imported_polars - start, "ours": imported_ours - imported_polars,
                  "first": first, "repeated": repeated, "rows": rows}))
"""


def measure(fmt: str, path: Path, query: str, processes: int, rows: int) -> dict[str, float]:
    """Medians over `processes` fresh processes of each of the child's timings (seconds)."""
    reports = []
    for _ in range(processes):
        out = subprocess.run(
            [sys.executable, "-I", "-c", CHILD, fmt, str(path), query], check=True, capture_output=True, text=True
        )
        report = json.loads(out.stdout.strip().splitlines()[-1])
        assert report["rows"] == (1000 if query == "head" else rows), report
        reports.append(report)
    return {key: statistics.median(r[key] for r in reports) for key in ("polars", "ours", "first", "repeated")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=5)
    args = parser.parse_args()
    import polars_avro

    avro = DATASETS["primitives-snappy"].write(args.rows)
    ipc = DATA / f"{avro.stem}.arrow"
    if not ipc.exists():
        polars_avro.read_avro(avro).write_ipc(ipc)
    results = {
        (fmt, query): measure(fmt, path, query, args.processes, args.rows)
        for query in ("head", "full")
        for fmt, path in (("avro", avro), ("ipc", ipc))
    }
    ms = lambda seconds: f"{seconds * 1e3:.1f} ms"  # noqa: E731
    print(f"{args.processes} fresh processes each, medians; {args.rows:,} records, snappy / Arrow IPC")
    print("| query | scan_avro: first | repeated | first / repeated | scan_ipc: first | repeated | first / repeated |")
    print("|---|---|---|---|---|---|---|")
    for query, name in (("head", "head(1000)"), ("full", "full scan")):
        ours, polars = results["avro", query], results["ipc", query]
        cells = [f"{ms(r['first'])} | {ms(r['repeated'])} | {r['first'] / r['repeated']:.2f}x" for r in (ours, polars)]
        print(f"| {name} | {' | '.join(cells)} |")
    head = results["avro", "head"]["first"] / results["ipc", "head"]["first"]
    print(f"\nfirst head(1000): scan_avro / scan_ipc = {head:.2f}x (goal: 1.5x)")
    imports = [r for key, r in results.items() if key[0] == "avro"]
    print(
        f"import polars: {ms(statistics.median(r['polars'] for r in imports))}; "
        f"import polars_avro after it: {ms(statistics.median(r['ours'] for r in imports))} (goal: 20 ms)"
    )


if __name__ == "__main__":
    main()
