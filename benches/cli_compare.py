"""The command line against Avro C's tools (Debian's avro-bin) and fastavro's, side by side.

Each command runs in a fresh process, as from a shell; the median wall time of `--runs` runs is
reported, with the ratio to ours. Every output is checked: JSON lines counted, Avro outputs'
records counted from their blocks and compared with the input's, Parquet outputs' rows.

    python benches/cli_compare.py [--runs 3] [--taskset 0] [FILE.avro ...]

Tools that are not installed are left out (Avro C: `apt-get install avro-bin`). fastavro has no
recodec, concat, count or convert command: those are done with its reader and writer in a
script, as a user of it would.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import fastavro
import polars as pl

HERE = Path(__file__).parent
DEFAULT_FILES = [HERE / "data" / "primitives-deflate-1000000.avro", HERE / "data" / "nested-1000000.avro"]
PY = sys.executable
OURS = [PY, "-m", "polars_avro"]

FASTAVRO_RECODEC = """
import sys, fastavro
with open(sys.argv[1], "rb") as f, open(sys.argv[2], "wb") as out:
    reader = fastavro.reader(f)
    fastavro.writer(out, reader.writer_schema, reader, codec=sys.argv[3])
"""
FASTAVRO_CONCAT = """
import sys, fastavro
with open(sys.argv[-1], "wb") as out:
    readers = [fastavro.reader(open(p, "rb")) for p in sys.argv[1:-1]]
    fastavro.writer(out, readers[0].writer_schema, (r for reader in readers for r in reader), codec=readers[0].codec)
"""
FASTAVRO_COUNT = """
import sys, fastavro
with open(sys.argv[1], "rb") as f:
    print(sum(block.num_records for block in fastavro.block_reader(f)))
"""
FASTAVRO_CONVERT = """
import sys, fastavro, polars as pl
with open(sys.argv[1], "rb") as f:
    pl.DataFrame(list(fastavro.reader(f))).write_parquet(sys.argv[2])
"""


def records(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(block.num_records for block in fastavro.block_reader(f))


def timed(command: list[str], taskset: str | None, stdout: Path, cwd: Path) -> float:
    if taskset is not None:
        command = ["taskset", "-c", taskset, *command]
    env = {**os.environ, **({"POLARS_MAX_THREADS": str(len(taskset.split(",")))} if taskset else {})}
    start = time.perf_counter()
    with open(stdout, "wb") as out:
        # Away from the repository, whose polars_avro folder has no compiled module.
        subprocess.run(command, stdout=out, stderr=subprocess.DEVNULL, check=True, env=env, cwd=cwd)
    return time.perf_counter() - start


def json_lines(expected: int) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        with open(out, "rb") as f:
            lines = sum(1 for _ in f)
        assert lines == expected, f"{lines} JSON lines, expected {expected}"

    return check


def avro_records(expected: int) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        got = records(out)
        assert got == expected, f"{got} records, expected {expected}"

    return check


def count_printed(expected: int) -> Callable[[Path], None]:
    def check(out: Path) -> None:
        assert int(out.read_text().split()[0]) == expected

    return check


def parquet_rows(expected: int, path: Path) -> Callable[[Path], None]:
    def check(_: Path) -> None:
        assert pl.scan_parquet(path).select(pl.len()).collect().item() == expected

    return check


def cases(file: Path, work: Path) -> list[tuple[str, str, list[str], Callable[[Path], None]]]:
    """(task, tool, command, check of what it wrote to standard output or its output file)."""
    n = records(file)
    out = work / "out.avro"
    parquet = work / "out.parquet"
    has_avro_c = shutil.which("avrocat") is not None
    rows: list[tuple[str, str, list[str], Callable[[Path], None]]] = [
        ("tojson", "polars-avro", [*OURS, "tojson", str(file)], json_lines(n)),
        ("tojson", "fastavro", ["fastavro", str(file)], json_lines(n)),
        ("recodec", "polars-avro", [*OURS, "recodec", str(file), str(out), "-c", "snappy"], avro_records(n)),
        ("recodec", "fastavro", [PY, "-c", FASTAVRO_RECODEC, str(file), str(out), "snappy"], avro_records(n)),
        ("concat", "polars-avro", [*OURS, "concat", str(file), str(file), str(out)], avro_records(2 * n)),
        ("concat", "fastavro", [PY, "-c", FASTAVRO_CONCAT, str(file), str(file), str(out)], avro_records(2 * n)),
        ("count", "polars-avro", [*OURS, "count", str(file)], count_printed(n)),
        ("count", "fastavro", [PY, "-c", FASTAVRO_COUNT, str(file)], count_printed(n)),
        ("convert", "polars-avro", [*OURS, "convert", str(file), str(parquet)], parquet_rows(n, parquet)),
        ("convert", "fastavro", [PY, "-c", FASTAVRO_CONVERT, str(file), str(parquet)], parquet_rows(n, parquet)),
    ]
    if has_avro_c:
        rows += [
            ("tojson", "avrocat", ["avrocat", str(file)], json_lines(n)),
            ("recodec", "avromod", ["avromod", "--codec=snappy", str(file), str(out)], avro_records(n)),
            # avroappend appends one file to another: concat is a copy of the first, then an append.
            ("concat", "avroappend", ["sh", "-c", f"cp {file} {out} && avroappend {file} {out}"], avro_records(2 * n)),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--taskset", help="CPUs to pin every command to, as taskset -c takes them (e.g. 0)")
    parser.add_argument("--only", nargs="*", help="tasks to run (tojson recodec concat count convert)")
    parser.add_argument("--tools", nargs="*", help="tools to run (polars-avro fastavro avrocat avromod avroappend)")
    args = parser.parse_args()
    print(f"# {os.cpu_count()} CPUs, taskset {args.taskset or 'none'}, median of {args.runs} runs, fresh processes")
    for file in (f.resolve() for f in args.files):
        print(f"\n## {file.name} ({file.stat().st_size / 1e6:.1f} MB, {records(file):,} records)\n")
        print("| task | tool | median | / ours |")
        print("|---|---|---|---|")
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            ours: dict[str, float] = {}
            for task, tool, command, check in cases(file, work):
                if (args.only and task not in args.only) or (args.tools and tool not in args.tools):
                    continue
                times = []
                try:
                    for _ in range(args.runs):
                        stdout = work / "stdout"
                        times.append(timed(command, args.taskset, stdout, work))
                        check(stdout if task in ("tojson", "count") else work / "out.avro")
                except subprocess.CalledProcessError as e:
                    print(f"| {task} | {tool} | fails (exit status {e.returncode}) | |", flush=True)
                    continue
                median = statistics.median(times)
                ours.setdefault(task, median)
                print(f"| {task} | {tool} | {median * 1000:,.0f} ms | {median / ours[task]:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
