"""Many small files, the Kafka Connect sink pattern: a folder of FILES files of ROWS records
each (long, string, ["null", double], timestamp-millis; snappy), read whole and counted by
polars-avro and its peers in one run. Each statement is timed in rounds (the readers take
turns), after one untimed run; medians are reported, with every result's values checked
against ours (rows sorted by id, then the per-column checksums of child.py).

    python benches/many_files.py [--files 2000] [--rows 50] [--runs 5] [--s3]

Peers that are not installed are left out (pip install jetliner datafusion chdb rugo
duckdb duckdb-extension-avro). With --s3
the folder is uploaded to the test suite's S3 server (moto on loopback, tests/servers.py)
and read from there: ours by a glob URL, the loop by boto3 (list, then get each object),
DataFusion through its AmazonS3 store and chdb through ClickHouse's s3() function. The
S3 tables end with the server's floor: curl fetching every object once, 32 requests in
flight, nothing decoded. No reader can beat it, as each must fetch every object at least
once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import importlib.util
import io
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
from child import checksums
from compare import DUCKDB_CONNECTION, RUGO_SETUP
from workloads import DATA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from servers import S3Server  # noqa: E402

SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}


def write_folder(files: int, rows: int) -> Path:
    """The folder, written now unless a previous run left it."""
    import fastavro

    folder = DATA / f"many-{files}x{rows}"
    done = folder / "_DONE"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(1)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    parsed = fastavro.parse_schema(SCHEMA)
    for f in range(files):
        records = [
            {
                "id": f * rows + i,
                "name": f"user-{rng.randrange(10**6)}",
                "score": None if rng.random() < 0.2 else rng.random(),
                "ts": start + dt.timedelta(seconds=f * rows + i),
            }
            for i in range(rows)
        ]
        with (folder / f"part-{f:05d}.avro").open("wb") as out:
            fastavro.writer(out, parsed, records, codec="snappy")
    done.write_bytes(b"")
    return folder


def readers(folder: Path) -> dict[str, dict[str, Callable[[], pl.DataFrame]]]:
    """Per reader, its statement for a full read and for a count, as a user would write them."""
    pattern = str(folder / "*.avro")
    files = sorted(glob.glob(pattern))
    out: dict[str, dict[str, Callable[[], pl.DataFrame]]] = {}
    import polars_avro  # noqa: F401 - registers pl.scan_avro

    out["polars-avro (this)"] = {
        "read": lambda: pl.scan_avro(pattern).collect(),
        "count": lambda: pl.scan_avro(pattern).select(pl.len()).collect(),
    }
    out["pl.read_avro loop"] = {
        "read": lambda: pl.concat([pl.read_avro(f) for f in files]),
        "count": lambda: pl.DataFrame({"len": [sum(pl.read_avro(f, columns=[0]).height for f in files)]}),
    }
    if importlib.util.find_spec("jetliner"):
        import jetliner

        out["jetliner"] = {
            "read": lambda: jetliner.scan_avro(pattern).collect(),
            "count": lambda: jetliner.scan_avro(pattern).select(pl.len()).collect(),
        }
    if importlib.util.find_spec("datafusion"):
        import datafusion

        def datafusion_sql(sql: str) -> pl.DataFrame:
            ctx = datafusion.SessionContext()
            ctx.register_avro("t", str(folder) + "/")
            return pl.from_arrow(ctx.sql(sql).to_arrow_table())  # type: ignore[return-value]

        out["DataFusion"] = {
            "read": lambda: datafusion_sql("SELECT * FROM t"),
            "count": lambda: datafusion_sql("SELECT count(*) FROM t"),
        }
    if importlib.util.find_spec("rugo"):
        # rugo reads one file per call: a loop, as for pl.read_avro.
        rugo: dict = {"pl": pl}
        exec(RUGO_SETUP.replace("THREADS", "0"), rugo)
        out["rugo loop"] = {
            "read": lambda: pl.concat([rugo["rugo_frame"](f) for f in files]),
            "count": lambda: pl.DataFrame({"len": [sum(rugo["rugo_count"](f).item() for f in files)]}),
        }
    if importlib.util.find_spec("duckdb_extension_avro"):
        duckdb: dict = {}
        exec(DUCKDB_CONNECTION, duckdb)
        connection = duckdb["connection"]
        out["DuckDB"] = {
            "read": lambda: connection.sql(f"SELECT * FROM read_avro('{pattern}')").pl(),
            "count": lambda: connection.sql(f"SELECT count(*) FROM read_avro('{pattern}')").pl(),
        }
    if importlib.util.find_spec("chdb"):
        import chdb

        def chdb_sql(what: str) -> pl.DataFrame:
            table = chdb.query(f"SELECT {what} FROM file('{pattern}', Avro)", "ArrowTable")
            return pl.from_arrow(table)  # type: ignore[return-value]

        out["chdb"] = {"read": lambda: chdb_sql("*"), "count": lambda: chdb_sql("count()")}
    return out


def s3_readers(s3: S3Server, folder: Path) -> dict[str, dict[str, Callable[[], pl.DataFrame]]]:
    """`folder` uploaded to `s3` under topic/, and each reader's statements reading it there."""
    files = sorted(folder.glob("*.avro"))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda f: s3.client.upload_file(str(f), s3.BUCKET, f"topic/{f.name}"), files))
    pattern = f"s3://{s3.BUCKET}/topic/*.avro"
    out: dict[str, dict[str, Callable[[], pl.DataFrame]]] = {}
    import polars_avro  # noqa: F401 - registers pl.scan_avro

    out["polars-avro (this)"] = {
        "read": lambda: pl.scan_avro(pattern, storage_options=s3.storage_options()).collect(),
        "count": lambda: pl.scan_avro(pattern, storage_options=s3.storage_options()).select(pl.len()).collect(),
    }

    def boto3_frames() -> list[pl.DataFrame]:
        bodies = (s3.client.get_object(Bucket=s3.BUCKET, Key=k)["Body"].read() for k in topic_keys(s3))
        return [pl.read_avro(io.BytesIO(body)) for body in bodies]

    out["boto3 + pl.read_avro loop"] = {
        "read": lambda: pl.concat(boto3_frames()),
        "count": lambda: pl.DataFrame({"len": [sum(f.height for f in boto3_frames())]}),
    }
    if importlib.util.find_spec("datafusion"):
        import datafusion
        from datafusion.object_store import AmazonS3

        def datafusion_sql(sql: str) -> pl.DataFrame:
            ctx = datafusion.SessionContext()
            store = AmazonS3(
                bucket_name=s3.BUCKET,
                region="us-east-1",
                access_key_id=s3.access_key,
                secret_access_key=s3.secret_key,
                endpoint=s3.endpoint,
                allow_http=True,
            )
            ctx.register_object_store("s3://", store, s3.BUCKET)
            ctx.register_avro("t", f"s3://{s3.BUCKET}/topic/")
            return pl.from_arrow(ctx.sql(sql).to_arrow_table())  # type: ignore[return-value]

        out["DataFusion"] = {
            "read": lambda: datafusion_sql("SELECT * FROM t"),
            "count": lambda: datafusion_sql("SELECT count(*) FROM t"),
        }
    if importlib.util.find_spec("chdb"):
        import chdb

        source = f"s3('{s3.endpoint}/{s3.BUCKET}/topic/*.avro', '{s3.access_key}', '{s3.secret_key}', 'Avro')"

        def chdb_sql(what: str) -> pl.DataFrame:
            return pl.from_arrow(chdb.query(f"SELECT {what} FROM {source}", "ArrowTable"))  # type: ignore[return-value]

        out["chdb"] = {"read": lambda: chdb_sql("*"), "count": lambda: chdb_sql("count()")}
    return out


def topic_keys(s3: S3Server) -> list[str]:
    """The keys under topic/, listed page by page (as the boto3 loop lists them)."""
    pages = s3.client.get_paginator("list_objects_v2").paginate(Bucket=s3.BUCKET, Prefix="topic/")
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def server_floor(s3: S3Server) -> Callable[[], None]:
    """curl fetching every object under topic/ once, 32 at a time, into /dev/null."""
    urls = (f"{s3.endpoint}/{s3.BUCKET}/{key}" for key in topic_keys(s3))
    config = "".join(f'url = "{url}"\noutput = "/dev/null"\n' for url in urls)
    command = ["curl", "--silent", "--show-error", "--fail", "--parallel", "--parallel-max", "32"]
    command += ["--aws-sigv4", f"aws:amz:{s3.REGION}:s3", "--user", f"{s3.access_key}:{s3.secret_key}"]
    # S3 wants the payload's hash among the signed headers; curl 7 leaves it out.
    command += ["--header", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    # stderr kept apart: curl 7 draws its progress meter in parallel mode even when silent.
    return lambda: subprocess.run([*command, "--config", "-"], input=config, text=True, check=True, capture_output=True)


def canonical(df: pl.DataFrame, query: str) -> object:
    """What must agree: the count, or every value with rows in id order."""
    if query == "count":
        return int(df.item())
    df = df.sort("id")
    return df.height, checksums(df.select(pl.all().name.to_lowercase()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--s3", action="store_true", help="read the files from the S3 test server (moto)")
    args = parser.parse_args()
    folder = write_folder(args.files, args.rows)
    if not args.s3:
        report(readers(folder), args, "local")
        return
    s3 = S3Server(Path(tempfile.mkdtemp()))
    try:
        report(s3_readers(s3, folder), args, "S3 test server (moto)", server_floor(s3))
    finally:
        s3.close()


def report(
    table: dict[str, dict[str, Callable[[], pl.DataFrame]]],
    args: argparse.Namespace,
    where: str,
    floor: Callable[[], None] | None = None,
) -> None:
    for query in ("read", "count"):
        times: dict[str, list[float]] = {name: [] for name in table}
        results = {name: canonical(statements[query](), query) for name, statements in table.items()}
        for _ in range(args.runs):
            for name, statements in table.items():
                times[name].append(timed(statements[query]))
        ours = statistics.median(times["polars-avro (this)"])
        print(f"\n{query}: {args.files} files x {args.rows} records, {where}, median of {args.runs}")
        print("| reader | ms | vs ours | values |\n|---|---|---|---|")
        for name, samples in times.items():
            ms = statistics.median(samples)
            same = "same" if results[name] == results["polars-avro (this)"] else "DIFFERENT"
            print(f"| {name} | {ms * 1000:.1f} | {ms / ours:.2f}x | {same} |")
        if floor is not None:
            ms = statistics.median(timed(floor) for _ in range(args.runs))
            print(f"| server floor: curl, one GET per object, 32 in flight | {ms * 1000:.1f} | {ms / ours:.2f}x | - |")


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
