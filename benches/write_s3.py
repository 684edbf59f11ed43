"""Writing to an object store: a query of ROWS rows (id, user, amount, tags, ts) streamed
into an Avro object on the test suite's S3 server (moto on loopback), by ``sink_avro`` to
the ``s3://`` URL (a multipart upload), against writing a local file first and uploading
it with boto3 (by this package, and by polars-avro from PyPI, whose ``write_avro`` takes
local paths and file objects only), and against Polars' own ``sink_parquet`` to the same
server. Each writer runs
in a child process, whose peak RSS is read from VmHWM, at one and four times the rows: the
upload's memory stays flat. The objects are read back and checked row by row.

    python benches/write_s3.py [--rows 2000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from compare import pypi_python  # noqa: E402
from servers import S3Server  # noqa: E402

#: The query each child streams: ROWS rows made on the fly, nothing held in memory.
QUERY = """
pl.LazyFrame({{"id": range({rows})}}).with_columns(
    user=pl.format("user-{{}}", pl.col("id") % 100_003),
    amount=pl.when(pl.col("id") % 11 == 0).then(None).otherwise(pl.col("id") * 0.25),
    tags=pl.concat_list(pl.format("t{{}}", pl.col("id") % 7), pl.lit("x")),
    ts=pl.datetime(2024, 1, 1, time_zone="UTC") + pl.duration(seconds=pl.col("id")),
)
"""

#: How each writer puts the query's result at `url` (or `key` of the bucket).
WRITERS = {
    "polars-avro sink_avro to s3://": "lf.avro.sink(url, storage_options=options)",
    "sink_avro to a local file, then boto3 upload_file": (
        "local = tempfile.mktemp(suffix='.avro'); lf.avro.sink(local); "
        "client.upload_file(local, bucket, key); os.remove(local)"
    ),
    "polars-avro 0.13 (PyPI) write_avro(batches) to a local file, then boto3 upload_file": (
        "local = tempfile.mktemp(suffix='.avro'); polars_avro.write_avro(lf.collect_batches(), local); "
        "client.upload_file(local, bucket, key); os.remove(local)"
    ),
    "Polars sink_parquet to s3:// (Parquet, for scale)": "lf.sink_parquet(url + '.parquet', storage_options=options)",
}
#: Writers whose child runs in the PyPI package's venv (it shares our import name).
PYPI_WRITERS = {name for name in WRITERS if "(PyPI)" in name}

CHILD = """
import json, os, re, sys, tempfile, time, boto3, polars as pl, polars_avro
options = json.loads({options!r})
bucket, key = {bucket!r}, {key!r}
url = f"s3://{{bucket}}/{{key}}"
client = boto3.client(
    "s3",
    endpoint_url=options["aws_endpoint_url"],
    region_name=options["aws_region"],
    aws_access_key_id=options["aws_access_key_id"],
    aws_secret_access_key=options["aws_secret_access_key"],
)
lf = {query}
start = time.perf_counter()
{statement}
seconds = time.perf_counter() - start
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({{"seconds": seconds, "peak_mb": peak_kb / 1024}}))
"""


def run_child(s3: S3Server, statement: str, rows: int, key: str, python: str = sys.executable) -> dict[str, float]:
    code = CHILD.format(
        options=json.dumps(s3.storage_options()),
        bucket=s3.BUCKET,
        key=key,
        query=QUERY.format(rows=rows).strip(),
        statement=statement,
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def check(s3: S3Server, key: str, rows: int) -> tuple[str, float]:
    """Whether the object holds every row with its values, and its size in MB."""
    import polars as pl

    import polars_avro

    data = s3.client.get_object(Bucket=s3.BUCKET, Key=key)["Body"].read()
    df = polars_avro.read_avro(data) if key.endswith(".avro") else pl.read_parquet(data)
    expected = eval(QUERY.format(rows=rows).strip(), {"pl": pl}).collect()  # noqa: S307 (our own query text)
    return ("same" if df.equals(expected) else "DIFFERENT"), len(data) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    s3 = S3Server(Path(tempfile.mkdtemp()))
    try:
        print(f"\nWriting {args.rows:,} rows to the S3 test server (moto on loopback), median of {args.runs}")
        print("| writer | seconds | MB/s | object | peak RSS | values |\n|---|---|---|---|---|---|")
        for name, statement in WRITERS.items():
            key = f"bench/{abs(hash(name))}.avro"
            python = pypi_python("boto3") if name in PYPI_WRITERS else sys.executable
            samples = [run_child(s3, statement, args.rows, key, python) for _ in range(args.runs)]
            seconds = statistics.median(s["seconds"] for s in samples)
            peak = statistics.median(s["peak_mb"] for s in samples)
            stored = key + ".parquet" if "parquet" in statement else key
            same, size = check(s3, stored, args.rows)
            print(f"| {name} | {seconds:.2f} | {size / seconds:.1f} | {size:.0f} MB | {peak:.0f} MB | {same} |")
        big = args.rows * 4
        sample = run_child(s3, WRITERS["polars-avro sink_avro to s3://"], big, "bench/big.avro")
        same, size = check(s3, "bench/big.avro", big)
        print(
            f"| sink_avro to s3://, {big:,} rows | {sample['seconds']:.2f} | {size / sample['seconds']:.1f} "
            f"| {size:.0f} MB | {sample['peak_mb']:.0f} MB | {same} |"
        )
    finally:
        s3.close()


if __name__ == "__main__":
    main()
