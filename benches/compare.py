"""Side-by-side read benchmark: polars-avro (this package) against jetliner, polars-avro
from PyPI (its own venv: it has the same import name), Polars' own pl.read_avro and
fastavro.

Each run is a fresh process that reads the whole file and reports its time, the row
count and a checksum of the values; the runs of the readers are interleaved and the
medians compared. A reader whose rows or checksum differ from ours is reported as
wrong, not timed.

    python benches/compare.py [--rows 1000000] [--runs 5] [--codec snappy]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).parent
DATA = HERE / "data"
PYPI_VENV = DATA / "venv-pypi-polars-avro"

SCHEMA = {
    "type": "record",
    "name": "Row",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "value", "type": "double"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "int"]},
        {"name": "flag", "type": "boolean"},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
    ],
}

# Each reader: the statement that reads PATH into `df` (a Polars DataFrame) or `rows`.
READERS = {
    "polars-avro (this)": "import polars_avro; df = polars_avro.read_avro(PATH)",
    "jetliner": "import jetliner; df = jetliner.read_avro(PATH)",
    "polars-avro (PyPI)": "import polars_avro; df = polars_avro.read_avro(PATH)",
    "pl.read_avro": "import polars as pl; df = pl.read_avro(PATH)",
    "fastavro": "import fastavro; f = open(PATH, 'rb'); rows = list(fastavro.reader(f))",
}

CHILD = r"""
import json, sys, time
PATH = sys.argv[1]
start = time.perf_counter()
exec(sys.argv[2])
elapsed = time.perf_counter() - start
import polars as pl
if "df" not in dir():
    df = pl.DataFrame(rows, schema_overrides={"ts": pl.Datetime("us", "UTC")}, infer_schema_length=None)
checksum = [
    df.height,
    int(df["id"].sum()),
    round(float(df["value"].sum()), 3),
    int(df["name"].str.len_bytes().sum()),
    int(df["score"].null_count()),
    int(df["score"].sum()),
    int(df["flag"].sum()),
    int(df["ts"].cast(pl.Int64).sum()),
]
print(json.dumps({"seconds": elapsed, "checksum": checksum}))
"""


def write_workload(rows: int, codec: str) -> Path:
    path = DATA / f"primitives_{rows}_{codec}.avro"
    if path.exists():
        return path
    import fastavro

    DATA.mkdir(parents=True, exist_ok=True)

    def records():
        for i in range(rows):
            yield {
                "id": i,
                "value": i * 0.5,
                "name": f"name-{i % 1000}-{'x' * (i % 17)}",
                "score": None if i % 10 == 0 else i % 1000,
                "flag": i % 3 == 0,
                "ts": 1_700_000_000_000_000 + i,
            }

    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        fastavro.writer(f, SCHEMA, records(), codec=codec)
    tmp.rename(path)
    return path


def pypi_python() -> Path:
    python = PYPI_VENV / "bin" / "python"
    if not python.exists():
        venv.create(PYPI_VENV, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "polars-avro==0.13.0"], check=True)
    return python


def run_once(python: Path | str, statement: str, path: Path) -> dict:
    out = subprocess.run(
        [str(python), "-c", CHILD, str(path), statement],
        check=True, capture_output=True, text=True, cwd=HERE,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--codec", default="snappy")
    parser.add_argument("--skip", nargs="*", default=[], help="readers to leave out")
    args = parser.parse_args()

    path = write_workload(args.rows, args.codec)
    readers = {k: v for k, v in READERS.items() if k not in args.skip}
    pythons = {k: sys.executable for k in readers}
    if "polars-avro (PyPI)" in readers:
        pythons["polars-avro (PyPI)"] = pypi_python()

    times: dict[str, list[float]] = {k: [] for k in readers}
    checksums: dict[str, list] = {}
    failures: dict[str, str] = {}
    for _ in range(args.runs):
        for name, statement in readers.items():
            if name in failures:
                continue
            try:
                result = run_once(pythons[name], statement, path)
            except subprocess.CalledProcessError as e:
                failures[name] = (e.stderr or "").strip().splitlines()[-1:][0] if e.stderr else "failed"
                continue
            times[name].append(result["seconds"])
            checksums[name] = result["checksum"]

    reference = checksums.get("polars-avro (this)")
    ours = statistics.median(times["polars-avro (this)"]) if times.get("polars-avro (this)") else None
    print(f"\n{args.rows:,} rows x {len(SCHEMA['fields'])} columns, codec {args.codec}, "
          f"{os.cpu_count()} cores, median of {args.runs} runs (each a fresh process)\n")
    print("| reader | median | ratio to polars-avro (this) | rows and values |")
    print("|---|---|---|---|")
    for name in readers:
        if name in failures:
            print(f"| {name} | failed | | {failures[name]} |")
            continue
        median = statistics.median(times[name])
        same = "identical" if checksums[name] == reference else f"DIFFERENT: {checksums[name]} vs {reference}"
        ratio = f"{median / ours:.2f}x" if ours else ""
        print(f"| {name} | {median * 1000:.0f} ms | {ratio} | {same} |")


if __name__ == "__main__":
    main()
