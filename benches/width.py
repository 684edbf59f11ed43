"""Cost against the width of a schema: files of 3 records and 10,000 to 100,000 long fields,
written by this package, read whole, their schema read, counted and written again, each
timed in this process (median of --runs) with the values checked. The cost should grow
linearly: 100,000 fields about 10x 10,000 (before issue 26 it grew with the square).

    python benches/width.py [--runs 3] [--widths 10000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import polars as pl
from timing import median_time

import polars_avro


def measure(n: int, path: Path, runs: int) -> tuple[int, float, float, float, float]:
    """(fields, read, schema, count, write seconds) of a file of `n` fields."""
    df = pl.DataFrame({f"c{i}": [i, i + 1, i + 2] for i in range(n)})
    write, _ = median_time(lambda: polars_avro.write_avro(df, path), runs)
    read, out = median_time(lambda: polars_avro.read_avro(path), runs)
    assert out.equals(df), "values differ"
    schema, got = median_time(lambda: polars_avro.read_avro_schema(path), runs)
    assert got == df.schema
    count, counted = median_time(lambda: pl.scan_avro(path).select(pl.len()).collect().item(), runs)
    assert counted == 3
    return n, read, schema, count, write


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--widths", type=int, nargs="+", default=[10_000, 20_000, 40_000, 100_000])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.widths:
            rows.append(measure(n, Path(tmp) / f"w{n}.avro", args.runs))
    base = rows[0]
    print("| fields | read (s) | schema (s) | count (s) | write (s) | read / first |")
    print("|---|---|---|---|---|---|")
    for n, read, schema, count, write in rows:
        print(f"| {n:,} | {read:.3f} | {schema:.3f} | {count:.3f} | {write:.3f} | {read / base[1]:.1f}x |")


if __name__ == "__main__":
    main()
