"""Memory of reads: peak RSS of a full read against the result's size, and of a streaming
``sink_parquet`` as the file grows (it should stay flat: only the read-ahead window and
the engine's batches are in memory, never the file).

The bigger files repeat the data blocks of the 1M-row primitives file (an Avro container
may hold any number of blocks after its header), so they cost no time to write. Each
measurement is a fresh process reporting ru_maxrss before and after.

    python benches/memory.py [--rows 1000000] [--copies 1 4 16]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from workloads import DATA, DATASETS

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
else:
    pl.scan_avro(path).sink_parquet(out)
    size, rows = 0, pl.scan_parquet(out).select(pl.len()).collect().item()
print(json.dumps({"peak_mb": (rss() - before) / 2**20, "size_mb": size / 2**20, "rows": rows}))
"""


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


def measure(path: Path, mode: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-I", "-c", CHILD, str(path), mode, str(Path(tmp) / "out.parquet")],
            check=True, capture_output=True, text=True, cwd=tmp,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    source = DATASETS["primitives-snappy"].write(args.rows)

    print("| file | rows | full read: peak RSS growth / result size | sink_parquet: peak RSS growth |")
    print("|---|---|---|---|")
    for copies in args.copies:
        path = repeated(source, copies)
        read = measure(path, "read") if copies <= 4 else None
        sink = measure(path, "sink")
        read_cell = f"{read['peak_mb']:.0f} MB / {read['size_mb']:.0f} MB ({read['peak_mb'] / read['size_mb']:.2f}x)" if read else "(not run)"
        mb = path.stat().st_size / 2**20
        print(f"| {mb:.0f} MB snappy | {sink['rows']:,} | {read_cell} | {sink['peak_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
