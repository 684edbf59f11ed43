"""Avro in columns: ROWS Confluent-framed Kafka message values of 10 fields (written by
fastavro's schemaless_writer), decoded into a frame by ``Expr.avro.decode``, by a
``fastavro.schemaless_reader`` loop building a frame, and by confluent-kafka's
``AvroDeserializer`` (against the test suite's schema registry on loopback). Then our
decode rate against our own file reader on the same records (all threads, and one thread
each in a child process with POLARS_MAX_THREADS=1), and the peak RSS of a streaming
``sink_parquet`` of a decoded Parquet dump of the topic, one and sixteen copies long, beside
the same pipeline without the decode and with a ``map_batches`` that takes as long as the
decode and decodes nothing (how far Polars lets the source run ahead of a slow step).

    python benches/messages.py [--rows 1000000] [--loop-rows 100000] [--runs 5]

The Python loops run on the first --loop-rows messages (they take seconds per 100,000) and
are compared per message. Every result's values are checked: ours against the file reader
(all rows) and against both loops (their rows).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
from timing import median_time
from workloads import DATA

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from registry import SchemaRegistry  # noqa: E402

import polars_avro  # noqa: E402

SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "customer", "type": "string"},
        {"name": "amount", "type": "double"},
        {"name": "quantity", "type": "int"},
        {"name": "paid", "type": "boolean"},
        {"name": "note", "type": ["null", "string"]},
        {"name": "placed", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
        {"name": "discount", "type": "float"},
        {"name": "store", "type": "long"},
    ],
}
SCHEMA_ID = 1
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def records(rows: int) -> list[dict]:
    rng = random.Random(7)
    return [
        {
            "id": i,
            "customer": f"customer-{rng.randrange(50_000)}",
            "amount": round(rng.random() * 500, 2),
            "quantity": rng.randrange(1, 20),
            "paid": rng.random() < 0.7,
            "note": None if rng.random() < 0.8 else "leave at the door",
            "placed": EPOCH + dt.timedelta(microseconds=i * 1_234_567),
            "status": rng.choice(["NEW", "PAID", "SHIPPED"]),
            "discount": rng.choice([0.0, 0.05, 0.1]),
            "store": rng.randrange(300),
        }
        for i in range(rows)
    ]


def topic_dump(rows: int) -> tuple[Path, Path]:
    """The messages as a Parquet dump of the topic (one `value` column), and the same
    records as an Avro file: written now unless a previous run left them."""
    import fastavro

    dump, file = DATA / f"messages-{rows}.parquet", DATA / f"messages-{rows}.avro"
    if dump.exists() and file.exists():
        return dump, file
    DATA.mkdir(exist_ok=True)
    parsed = fastavro.parse_schema(SCHEMA)
    values = records(rows)
    prefix = b"\x00" + struct.pack(">i", SCHEMA_ID)
    messages = []
    for value in values:
        out = io.BytesIO()
        out.write(prefix)
        fastavro.schemaless_writer(out, parsed, value)
        messages.append(out.getvalue())
    pl.DataFrame({"value": messages}, schema={"value": pl.Binary}).write_parquet(dump)
    with file.open("wb") as out:
        fastavro.writer(out, parsed, values)
    return dump, file


def decode_expr() -> pl.Expr:
    return pl.col("value").avro.decode(framing="confluent", writer_schemas={SCHEMA_ID: SCHEMA}).alias("value")


def fastavro_loop(messages: list[bytes]) -> pl.DataFrame:
    import fastavro

    parsed = fastavro.parse_schema(SCHEMA)
    rows = [fastavro.schemaless_reader(io.BytesIO(m[5:]), parsed, None) for m in messages]
    return pl.DataFrame(rows)


def deserializer_loop(registry: SchemaRegistry) -> Callable[[list[bytes]], pl.DataFrame]:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client = SchemaRegistryClient({"url": registry.url})
    assert client.register_schema("orders-value", Schema(json.dumps(SCHEMA), "AVRO")) == SCHEMA_ID
    deserializer = AvroDeserializer(client)
    context = SerializationContext("orders", MessageField.VALUE)
    return lambda messages: pl.DataFrame([deserializer(m, context) for m in messages])


def same_values(ours: pl.DataFrame, theirs: pl.DataFrame) -> str:
    """'same' when every value agrees (their enum is text, their timestamps Python datetimes)."""
    theirs = theirs.with_columns(pl.col("status").cast(ours.schema["status"]))
    theirs = theirs.with_columns(pl.col("placed").cast(ours.schema["placed"]))
    return "same" if ours.equals(theirs.select(ours.columns)) else "DIFFERENT"


def one_thread_rates(dump: Path, file: Path, runs: int) -> dict[str, float]:
    """Seconds per run of both readers in a child process limited to one thread."""
    code = f"""
import json, statistics, time, polars as pl, polars_avro, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from messages import decode_expr
from timing import median_time
df = pl.read_parquet({str(dump)!r})
data = open({str(file)!r}, "rb").read()
print(json.dumps({{
    "messages": median_time(lambda: df.select(decode_expr()), {runs})[0],
    "file": median_time(lambda: polars_avro.read_avro(data), {runs})[0],
}}))
"""
    env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def copied_dump(dump: Path, copies: int) -> Path:
    """The dump `copies` times over in one Parquet file of 100,000-row groups (cached)."""
    path = DATA / f"{dump.stem}-x{copies}.parquet"
    if not path.exists():
        pl.concat([pl.read_parquet(dump)] * copies).write_parquet(path, row_group_size=100_000)
    return path


#: What the streaming pipeline does to the messages: decode them; nothing; or wait in a
#: map_batches as long as decoding takes (`ns` per message) and decode nothing.
PIPELINES = {
    "decode": "pl.col('value').avro.decode(framing='confluent', writer_schemas={{1: SCHEMA}})",
    "none": "pl.col('value')",
    "wait": "pl.col('value').map_batches(lambda s: time.sleep(len(s) * {ns} / 1e9) or s, is_elementwise=True)",
}


def sink_peak_rss(dump: Path, pipeline: str, ns: float) -> float:
    """Peak RSS (MB) of a child streaming the dump through `pipeline` into Parquet."""
    select = PIPELINES[pipeline].format(ns=ns)
    code = f"""
import re, sys, tempfile, time, polars as pl, polars_avro
sys.path.insert(0, {str(Path(__file__).parent)!r})
from messages import SCHEMA
with tempfile.TemporaryDirectory() as d:
    pl.scan_parquet({str(dump)!r}).select({select}).sink_parquet(d + "/orders.parquet")
    # This process's own peak (ru_maxrss would carry the parent's across the exec).
    peak_kb = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
    n = pl.scan_parquet(d + "/orders.parquet").select(pl.len()).collect().item()
assert n == pl.scan_parquet({str(dump)!r}).select(pl.len()).collect().item(), n
print(peak_kb)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parent, capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--loop-rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    dump, file = topic_dump(args.rows)
    df = pl.read_parquet(dump)
    data = file.read_bytes()
    sample = df["value"][: args.loop_rows].to_list()

    ours = df.select(decode_expr()).unnest("value")
    from_file = polars_avro.read_avro(data)
    file_same = "same" if ours.equals(from_file) else "DIFFERENT"
    ours_s, _ = median_time(lambda: df.select(decode_expr()), args.runs)
    file_s, _ = median_time(lambda: polars_avro.read_avro(data), args.runs)

    registry = SchemaRegistry()
    try:
        loops = {
            "fastavro.schemaless_reader loop": fastavro_loop,
            "confluent-kafka AvroDeserializer": deserializer_loop(registry),
        }
        print(f"\n{args.rows:,} Confluent-framed messages of 10 fields; loops on the first {len(sample):,}")
        print("| decoder | messages/s | ns per message | ours is | values |\n|---|---|---|---|---|")
        rate, ns = args.rows / ours_s / 1e6, ours_s * 1e9 / args.rows
        print(f"| polars-avro `Expr.avro.decode` | {rate:.2f}M | {ns:.0f} | - | {file_same} (file reader) |")
        for name, loop in loops.items():
            same = same_values(ours.head(len(sample)), loop(sample))
            loop_s, _ = median_time(lambda loop=loop: loop(sample), max(1, args.runs // 3))
            per_message = loop_s / len(sample)
            ratio = per_message / (ours_s / args.rows)
            print(f"| {name} | {1 / per_message / 1e6:.3f}M | {per_message * 1e9:.0f} | {ratio:.0f}x faster | {same} |")
    finally:
        registry.stop()

    one = one_thread_rates(dump, file, args.runs)
    print("\nThe same records from an Avro file (null codec) by our file reader")
    print("| | messages | file | messages / file |\n|---|---|---|---|")
    print(f"| all threads | {ours_s * 1e3:.1f} ms | {file_s * 1e3:.1f} ms | {ours_s / file_s:.2f}x |")
    messages_ms, file_ms = one["messages"] * 1e3, one["file"] * 1e3
    print(f"| one thread | {messages_ms:.1f} ms | {file_ms:.1f} ms | {messages_ms / file_ms:.2f}x |")

    print("\nStreaming `scan_parquet(dump).select(decode).sink_parquet(...)`, peak RSS of the process")
    print("| dump (100,000-row groups) | size | decoded | not decoded | a map_batches as slow, decoding nothing |")
    print("|---|---|---|---|---|")
    ns = ours_s * 1e9 / args.rows
    for copies in (1, 16):
        path = copied_dump(dump, copies)
        size = path.stat().st_size / 2**20
        peaks = [f"{sink_peak_rss(path, pipeline, ns):.0f} MB" for pipeline in PIPELINES]
        print(f"| {copies * args.rows:,} messages | {size:.0f} MB | {' | '.join(peaks)} |")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
