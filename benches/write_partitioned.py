"""Partitioned local writes: a query of ROWS rows split by a key of KEYS values into hive
folders of parts of at most MAX_ROWS rows, by ``sink_avro`` and by Polars' own
``sink_parquet`` with the same ``pl.PartitionBy`` (Polars 2) or keywords. Medians of RUNS,
each writer in turn; every output is read back (``scan_avro`` / ``scan_parquet`` of the
folder) and compared row by row.

    python benches/write_partitioned.py [--rows 2000000] [--keys 50] [--max-rows 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import polars as pl

import polars_avro


def query(rows: int, keys: int) -> pl.LazyFrame:
    return pl.LazyFrame({"id": range(rows)}).with_columns(
        region=pl.format("region-{}", pl.col("id") % keys),
        user=pl.format("user-{}", pl.col("id") % 100_003),
        amount=pl.when(pl.col("id") % 11 == 0).then(None).otherwise(pl.col("id") * 0.25),
        ts=pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(seconds=pl.col("id")),
    )


def writers(lf: pl.LazyFrame, max_rows: int) -> dict[str, Callable[[Path], None]]:
    def partition_by(base: Path) -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PartitionBy is marked unstable
            return pl.PartitionBy(str(base), key="region", max_rows_per_file=max_rows)  # type: ignore[attr-defined]

    if hasattr(pl, "PartitionBy"):
        return {
            "polars-avro sink_avro(PartitionBy)": lambda base: lf.avro.sink(partition_by(base)),
            "Polars sink_parquet(PartitionBy)": lambda base: lf.sink_parquet(partition_by(base), mkdir=True),
        }
    return {
        "polars-avro sink_avro(partition_by=)": lambda base: polars_avro.sink_avro(
            lf, str(base), partition_by="region", max_rows_per_file=max_rows
        ),
        "Polars sink_parquet(PartitionByKey)": lambda base: lf.sink_parquet(
            pl.PartitionByKey(str(base), by="region"),  # type: ignore[attr-defined]
            mkdir=True,
        ),
    }


def read_back(base: Path, name: str) -> pl.DataFrame:
    if "avro" in name:
        return pl.scan_avro(str(base)).collect()  # type: ignore[attr-defined]
    return pl.scan_parquet(str(base), hive_partitioning=True).collect()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--max-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lf = query(args.rows, args.keys)
    expected = lf.collect().sort("id")
    table = writers(lf, args.max_rows)
    times: dict[str, list[float]] = {name: [] for name in table}
    outcome: dict[str, tuple[int, float, str]] = {}
    with tempfile.TemporaryDirectory(prefix="polars-avro-bench-") as tmp:
        for run in range(args.runs + 1):
            for name, write in table.items():
                base = Path(tmp) / f"{abs(hash(name))}"
                shutil.rmtree(base, ignore_errors=True)
                start = time.perf_counter()
                write(base)
                elapsed = time.perf_counter() - start
                if run == 0:  # untimed: check the output once
                    files = [p for p in base.rglob("*") if p.is_file()]
                    size = sum(p.stat().st_size for p in files) / 2**20
                    back = read_back(base, name).sort("id").select(expected.columns)
                    outcome[name] = (len(files), size, "same" if back.equals(expected) else "DIFFERENT")
                else:
                    times[name].append(elapsed)
    print(f"\n{args.rows:,} rows by {args.keys} keys, parts of at most {args.max_rows:,} rows, median of {args.runs}")
    print("| writer | seconds | files | MB | MB/s | files/s | values |\n|---|---|---|---|---|---|---|")
    for name, samples in times.items():
        seconds = statistics.median(samples)
        files, size, same = outcome[name]
        print(
            f"| {name} | {seconds:.2f} | {files} | {size:.0f} | {size / seconds:.0f} | {files / seconds:.0f} | {same} |"
        )


if __name__ == "__main__":
    main()
