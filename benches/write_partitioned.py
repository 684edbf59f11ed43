"""Partitioned local writes: a query of ROWS rows split by a key of KEYS values into hive
folders of parts of at most MAX_ROWS rows, by ``sink_avro`` and by Polars' own
``sink_parquet`` with the same ``pl.PartitionBy`` (Polars 2) or keywords, and by
polars-avro from PyPI, which has no partitioned output: its user splits the collected frame
with ``partition_by`` and writes each key's slices (a child process in that package's
venv, timed there). Medians of RUNS, each writer in turn; every output is read back
(``scan_avro`` / ``scan_parquet`` of the folder) and compared row by row.

    python benches/write_partitioned.py [--rows 2000000] [--keys 50] [--max-rows 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import polars as pl
from compare import pypi_python

import polars_avro

#: What a user of polars-avro from PyPI writes for the same layout, timed in its venv.
PYPI_CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {benches!r})
import polars_avro
from write_partitioned import query
lf, base = query({rows}, {keys}), Path({base!r})
start = time.perf_counter()
parts = lf.collect().partition_by("region", as_dict=True)
for (key,), part in parts.items():
    folder = base / f"region={{key}}"
    folder.mkdir(parents=True)
    for number, chunk in enumerate(part.iter_slices({max_rows})):
        polars_avro.write_avro(chunk, folder / f"{{number:08d}}.avro")
print(time.perf_counter() - start)
"""


def query(rows: int, keys: int) -> pl.LazyFrame:
    return pl.LazyFrame({"id": range(rows)}).with_columns(
        region=pl.format("region-{}", pl.col("id") % keys),
        user=pl.format("user-{}", pl.col("id") % 100_003),
        amount=pl.when(pl.col("id") % 11 == 0).then(None).otherwise(pl.col("id") * 0.25),
        ts=pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(seconds=pl.col("id")),
    )


def pypi_writer(rows: int, keys: int, max_rows: int) -> Callable[[Path], float]:
    """polars-avro from PyPI writing the same parts; returns the seconds its child timed."""
    python = pypi_python()

    def write(base: Path) -> float:
        code = PYPI_CHILD.format(
            benches=str(Path(__file__).parent), rows=rows, keys=keys, base=str(base), max_rows=max_rows
        )
        # Out of the repository, whose polars_avro folder would shadow the venv's package.
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, check=False, cwd=tempfile.gettempdir()
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        return float(out.stdout.split()[-1])

    return write


def writers(lf: pl.LazyFrame, max_rows: int) -> dict[str, Callable[[Path], object]]:
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
    table["polars-avro 0.13 (PyPI): partition_by, then write_avro per slice"] = pypi_writer(
        args.rows, args.keys, args.max_rows
    )
    times: dict[str, list[float]] = {name: [] for name in table}
    outcome: dict[str, tuple[int, float, str]] = {}
    with tempfile.TemporaryDirectory(prefix="polars-avro-bench-") as tmp:
        for run in range(args.runs + 1):
            for name, write in table.items():
                base = Path(tmp) / f"{abs(hash(name))}"
                shutil.rmtree(base, ignore_errors=True)
                start = time.perf_counter()
                timed = write(base)
                # A child process reports the seconds of its write alone.
                elapsed = timed if isinstance(timed, float) else time.perf_counter() - start
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
