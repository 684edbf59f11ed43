"""A Kafka Connect topic on an object store, read as users read it (issue 71): OBJECTS
objects of ROWS records (``topics/orders/partition=P/orders+P+OFFSET.avro``, 8
partitions, snappy), the same rows as Parquet beside them, served by a fast S3-compatible
server on loopback (benches/store_server.py) that adds LATENCY ms to every request.

    python benches/remote_folder.py [--objects 1000 10000] [--latency 0 20] [--runs 3]

Three queries: the whole topic (its rows and the sum of ``amount``), a partition filter
keeping one partition in eight then a sum, and a count. Each run is a fresh process (no
header or count remembered from an earlier read), timed from the scan's creation to the
result; medians are reported with the requests the server answered, and every reader's
rows and sums are checked against ``pl.scan_parquet``'s. Each query ends with the server's
floor: curl fetching once each object the query needs, 64 at a time, nothing decoded. Readers: ours at the default
``files_in_flight`` and at 16 and 128, ``pl.scan_parquet`` over the same rows, and chdb
(ClickHouse's ``s3()``) where installed. DuckDB's avro extension reads no object store
without its httpfs extension, which cannot be fetched here.

    python benches/remote_folder.py --big-mb 22 70 [--latency 20 100]

One big object instead (issue 79): an Avro object of about that many MB (the topic's
records, snappy) and the same rows as one Parquet object, read whole: ours and
``pl.scan_parquet`` timed from the scan's creation to the result, beside the floor of one
GET of the whole Avro object; the requests by kind and the bytes the server sent, which
show whether a HEAD or a byte was asked for twice.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from servers import free_port, stop, wait_for_port  # noqa: E402

DATA = HERE / "data"
PARTITIONS = 8
SCHEMA = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "customer", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}

#: Each query: what a user writes on the LazyFrame ``lf``, giving (rows, sum of amount).
QUERIES = {
    "whole topic": "df = lf.collect(); answer = (df.height, df['amount'].sum())",
    "partition == 3, sum": (
        "df = lf.filter(pl.col('partition') == 3).select(pl.len(), pl.col('amount').sum()).collect();"
        " answer = (df.item(0, 0), df.item(0, 1))"
    ),
    "count": "answer = (lf.select(pl.len()).collect().item(), None)",
}
CHDB_QUERIES = {
    "whole topic": "SELECT count(), sum(amount) FROM (SELECT * FROM {table})",
    "partition == 3, sum": "SELECT count(), sum(amount) FROM {table} WHERE partition = 3",
    "count": "SELECT count(), NULL FROM {table}",
}


def write_topic(objects: int, rows: int) -> Path:
    """The topic as Avro and as Parquet, written now unless a previous run left it."""
    import polars as pl

    import polars_avro

    root = DATA / f"topic-{objects}x{rows}"
    done = root / "_DONE"
    if done.exists():
        return root
    rng = random.Random(71)
    per_partition = objects // PARTITIONS
    for partition in range(PARTITIONS):
        for n in range(per_partition):
            offset = n * rows
            first = (partition * per_partition + n) * rows
            df = pl.DataFrame(
                {
                    "id": range(first, first + rows),
                    "customer": [f"customer-{rng.randrange(10**5)}" for _ in range(rows)],
                    "amount": [round(rng.random() * 100, 2) for _ in range(rows)],
                    "at": [1_700_000_000_000 + first + i for i in range(rows)],
                }
            ).with_columns(pl.col("at").cast(pl.Datetime("ms", "UTC")))
            name = f"orders+{partition}+{offset:010d}"
            avro = root / "avro" / "orders" / f"partition={partition}" / f"{name}.avro"
            parquet = root / "parquet" / "orders" / f"partition={partition}" / f"{name}.parquet"
            avro.parent.mkdir(parents=True, exist_ok=True)
            parquet.parent.mkdir(parents=True, exist_ok=True)
            polars_avro.write_avro(df, avro, compression="snappy", schema=SCHEMA)
            df.write_parquet(parquet)
    done.write_bytes(b"")
    return root


def write_big(megabytes: int) -> Path:
    """One object of about `megabytes` MB of the topic's records, as Avro and as Parquet."""
    import polars as pl

    import polars_avro

    root = DATA / f"big-{megabytes}mb"
    if (root / "_DONE").exists():
        return root
    rows = megabytes * 52_000  # about 19 bytes a record with snappy
    rng = random.Random(79)
    df = pl.DataFrame(
        {
            "id": range(rows),
            "customer": [f"customer-{rng.randrange(10**5)}" for _ in range(rows)],
            "amount": [round(rng.random() * 100, 2) for _ in range(rows)],
            "at": [1_700_000_000_000 + i for i in range(rows)],
        }
    ).with_columns(pl.col("at").cast(pl.Datetime("ms", "UTC")))
    (root / "avro").mkdir(parents=True, exist_ok=True)
    (root / "parquet").mkdir(parents=True, exist_ok=True)
    polars_avro.write_avro(df, root / "avro" / "orders.avro", compression="snappy", schema=SCHEMA)
    df.write_parquet(root / "parquet" / "orders.parquet")
    (root / "_DONE").write_bytes(b"")
    return root


BIG_QUERY = "whole object"


def child(reader: str, query: str, port: int, files_in_flight: int | None) -> None:
    """One run, in a fresh process: prints its seconds and answer as JSON."""
    import polars as pl

    options = {
        "aws_endpoint_url": f"http://127.0.0.1:{port}",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
        "aws_region": "us-east-1",
    }
    # Imports before the clock starts: the query is timed, not the process's start.
    if reader == "chdb":
        import chdb
    elif reader == "ours":
        import polars_avro  # noqa: F401 - registers pl.scan_avro
    start, cpu_start = time.perf_counter(), time.process_time()
    if reader == "chdb":
        table = f"s3('http://127.0.0.1:{port}/bench/avro/orders/**/*.avro', 'bench', 'bench', 'Avro')"
        sql = CHDB_QUERIES[query].format(table=table) + " SETTINGS use_hive_partitioning = 1"
        row = chdb.query(sql, "CSV").data().strip().split(",")
        answer = (int(row[0]), None if row[1] in ("\\N", "NULL") else float(row[1]))
    else:
        if query == BIG_QUERY:
            kind = "parquet" if reader == "parquet" else "avro"
            scan = pl.scan_parquet if reader == "parquet" else pl.scan_avro
            lf = scan(f"s3://bench/{kind}/orders.{kind}", storage_options=options)
            created = time.perf_counter() - start
            df = lf.collect()
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            answer = (df.height, df["amount"].sum())
            print(json.dumps({"seconds": seconds, "created": created, "cpu": cpu, "answer": answer}))
            return
        if reader == "parquet":
            lf = pl.scan_parquet(
                "s3://bench/parquet/orders/**/*.parquet", storage_options=options, hive_partitioning=True
            )
        else:
            lf = pl.scan_avro("s3://bench/avro/orders/", storage_options=options, files_in_flight=files_in_flight)
        scope: dict = {"pl": pl, "lf": lf}
        exec(QUERIES[query], scope)
        answer = scope["answer"]
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "answer": answer}))


def run_child(reader: str, query: str, port: int, files_in_flight: int | None) -> dict:
    command = [sys.executable, __file__, "--child", reader, query, str(port), str(files_in_flight or 0)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def floor_seconds(root: Path, port: int, query: str) -> float:
    """The server's floor: curl fetching once each object the query needs (a partition's,
    or all), 64 in flight, nothing decoded. No reader can be faster."""
    prefix = "avro/orders/partition=3/" if "partition" in query else "avro/orders/"
    keys = sorted(p.relative_to(root).as_posix() for p in (root / prefix).rglob("*.avro"))
    config = root / "curl-urls.txt"
    config.write_text("".join(f'url = "http://127.0.0.1:{port}/bench/{k}"\noutput = "/dev/null"\n' for k in keys))
    start = time.perf_counter()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(["curl", "-s", "-Z", "--parallel-max", "64", "-K", str(config)], check=True, **quiet)
    return time.perf_counter() - start


def take_requests(port: int) -> dict[str, int]:
    """The requests the server answered since the last call, by kind, and the bytes it sent."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_requests") as answer:
        return json.loads(answer.read())


def request_count(port: int) -> int:
    return sum(n for kind, n in take_requests(port).items() if kind != "bytes")


def readers() -> dict[str, tuple[str, int | None]]:
    out = {
        "polars-avro (default)": ("ours", None),
        "polars-avro files_in_flight=16": ("ours", 16),
        "polars-avro files_in_flight=128": ("ours", 128),
        "pl.scan_parquet (same rows)": ("parquet", None),
    }
    if importlib.util.find_spec("chdb"):
        out["chdb"] = ("chdb", None)
    return out


def close(answer: object, expected: object) -> bool:
    if not isinstance(answer, list) or not isinstance(expected, list):
        return answer == expected
    rows_same = answer[0] == expected[0]
    sums_same = answer[1] is None or expected[1] is None or abs(answer[1] - expected[1]) <= 1e-6 * abs(expected[1])
    return rows_same and sums_same


def start_server(root: Path, latency: float) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = Path(root / "server.log")
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "store_server.py"),
                str(root),
                "--port",
                str(port),
                "--latency-ms",
                str(latency),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, server, log)
    take_requests(port)
    return server, port


def measure_big(root: Path, latency: float, runs: int) -> None:
    """One big object read whole: ours and scan_parquet, the requests each made by kind."""
    server, port = start_server(root, latency)
    try:
        size = (root / "avro" / "orders.avro").stat().st_size
        print(f"\n### one object of {size / 1e6:.0f} MB, {latency:g} ms a request (median of {runs} fresh processes)\n")
        print(
            "| reader | s | of which creation | vs scan_parquet | CPU s (the reader's process) | GET | HEAD "
            "| bytes sent / object | values |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        results: dict[str, list[tuple[float, dict[str, int], object]]] = {"ours": [], "parquet": []}
        creation: dict[str, list[float]] = {"ours": [], "parquet": []}
        cpu: dict[str, list[float]] = {"ours": [], "parquet": []}
        for _ in range(runs):
            for reader in results:
                got = run_child(reader, BIG_QUERY, port, None)
                counted = take_requests(port)
                if "error" in got:
                    raise SystemExit(f"{reader}: {got['error']}")
                results[reader].append((got["seconds"], counted, got["answer"]))
                creation[reader].append(got["created"])
                cpu[reader].append(got["cpu"])
        base = statistics.median(seconds for seconds, _, _ in results["parquet"])
        expected = results["parquet"][0][2]
        for reader, rows in results.items():
            seconds = statistics.median(s for s, _, _ in rows)
            counts = rows[-1][1]
            object_size = size if reader == "ours" else (root / "parquet" / "orders.parquet").stat().st_size
            same = "same" if close(rows[-1][2], expected) else f"DIFFERENT {rows[-1][2]}"
            print(
                f"| {reader} | {seconds:.2f} | {statistics.median(creation[reader]):.2f} | {seconds / base:.2f}x"
                f" | {statistics.median(cpu[reader]):.2f} | {counts.get('get', 0)} "
                f"| {counts.get('head', 0)} | {counts.get('bytes', 0) / object_size:.2f} | {same} |"
            )
        config = root / "curl-urls.txt"
        config.write_text(f'url = "http://127.0.0.1:{port}/bench/avro/orders.avro"\noutput = "/dev/null"\n')
        floor = []
        for _ in range(runs):
            begin = time.perf_counter()
            subprocess.run(["curl", "-s", "-K", str(config)], check=True, stdout=subprocess.DEVNULL)
            floor.append(time.perf_counter() - begin)
        floor_s = statistics.median(floor)
        print(f"| server floor: one GET of the Avro object | {floor_s:.2f} | - | - | - | 1 | 0 | 1.00 | - |")
    finally:
        stop(server)


def measure(root: Path, objects: int, rows: int, latency: float, runs: int) -> None:
    server, port = start_server(root, latency)
    try:
        where = f"{objects:,} objects x {rows:,} records, {latency:g} ms a request"
        print(f"\n### {where} (median of {runs} fresh processes)\n")
        print("| query | reader | s | vs scan_parquet | requests | values |")
        print("|---|---|---|---|---|---|")
        for query in QUERIES:
            results: dict[str, tuple[list[float], list[int], object]] = {}
            for _ in range(runs):
                for name, (reader, in_flight) in readers().items():
                    got = run_child(reader, query, port, in_flight)
                    counted = request_count(port)
                    times, requests, _ = results.setdefault(name, ([], [], None))
                    if "error" in got:
                        results[name] = (times, requests, got["error"])
                        continue
                    times.append(got["seconds"])
                    requests.append(counted)
                    results[name] = (times, requests, got["answer"])
            parquet = results["pl.scan_parquet (same rows)"]
            base = statistics.median(parquet[0]) if parquet[0] else float("nan")
            floor = statistics.median(floor_seconds(root, port, query) for _ in range(runs))
            floor_requests = request_count(port) // runs
            for name, (times, requests, answer) in results.items():
                if not times:
                    print(f"| {query} | {name} | - | - | - | failed: {answer} |")
                    continue
                seconds = statistics.median(times)
                same = "same" if close(answer, parquet[2]) else f"DIFFERENT {answer}"
                counted = statistics.median(requests)
                print(
                    f"| {query} | {name} | {seconds:.2f} | {seconds / base:.2f}x | {counted:,.0f} | {same} |",
                    flush=True,
                )
            floor_row = f"| {query} | server floor: curl, 64 in flight | {floor:.2f} | {floor / base:.2f}x"
            print(f"{floor_row} | {floor_requests:,} | - |", flush=True)
    finally:
        stop(server)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, reader, query, port, in_flight = sys.argv
        child(reader, query, int(port), int(in_flight) or None)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 20.0], help="ms added to each request")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--big-mb", type=int, nargs="+", help="one object of about this many MB instead")
    args = parser.parse_args()
    for megabytes in args.big_mb or []:
        root = write_big(megabytes)
        for latency in args.latency:
            measure_big(root, latency, args.runs)
    for objects in [] if args.big_mb else args.objects:
        root = write_topic(objects, args.rows)
        for latency in args.latency:
            measure(root, objects, args.rows, latency, args.runs)


if __name__ == "__main__":
    main()
