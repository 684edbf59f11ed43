"""Permissive message decoding when messages fail halfway (issue 43, item 5).

ROWS raw datums of a nested record (a struct, lists of strings and of records, a map, two
nullable fields), written by fastavro's schemaless_writer, are decoded by
``Expr.avro.decode``: all good in strict mode, all good in permissive mode, and with one
message in three cut at three quarters of its length (it fails in its last list, after its
other fields took their values) in permissive mode. The goal: within 2x of all good.

    python benches/permissive.py [--rows 300000] [--runs 7]

Values are checked: the cut rows are null, the others equal the all-good decode.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import time
import warnings
from collections.abc import Callable

import fastavro
import polars as pl

import polars_avro  # noqa: F401 - the .avro namespace

SCHEMA = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {
            "name": "point",
            "type": {
                "type": "record",
                "name": "Point",
                "fields": [{"name": "x", "type": "double"}, {"name": "y", "type": ["null", "double"]}],
            },
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {
            "name": "items",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Item",
                    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}],
                },
            },
        },
        {"name": "note", "type": ["null", "string"]},
    ],
}


def messages(rows: int) -> list[bytes]:
    rng = random.Random(1)
    parsed = fastavro.parse_schema(SCHEMA)
    out = []
    for i in range(rows):
        value = {
            "id": i,
            "name": f"name-{i}",
            "point": {"x": rng.random(), "y": None if i % 5 == 0 else 1.0},
            "tags": [f"tag-{j}" for j in range(i % 4)],
            "attrs": {f"key-{j}": j for j in range(i % 3)},
            "items": [{"sku": f"sku-{j}", "qty": j} for j in range(i % 3 + 1)],
            "note": None if i % 2 else "hello",
        }
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, value)
        out.append(buffer.getvalue())
    return out


def timed(run: Callable[[], pl.DataFrame], runs: int) -> tuple[float, pl.DataFrame]:
    samples, out = [], pl.DataFrame()
    for _ in range(runs):
        start = time.perf_counter()
        out = run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    good = messages(args.rows)
    cut = [m[: len(m) * 3 // 4] if i % 3 == 0 else m for i, m in enumerate(good)]
    schema = json.dumps(SCHEMA)

    def decode(values: list[bytes], mode: str) -> Callable[[], pl.DataFrame]:
        df = pl.DataFrame({"value": values}, schema={"value": pl.Binary})
        return lambda: df.select(pl.col("value").avro.decode(schema, mode=mode))  # type: ignore[attr-defined]

    strict_s, strict = timed(decode(good, "strict"), args.runs)
    permissive_s, permissive = timed(decode(good, "permissive"), args.runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failing_s, failing = timed(decode(cut, "permissive"), args.runs)
    assert permissive.equals(strict)
    failed = pl.Series([i % 3 == 0 for i in range(args.rows)])
    assert failing["value"].is_null().equals(failed, check_names=False)
    assert failing.filter(~failed).equals(strict.filter(~failed))

    print(f"\n{args.rows:,} nested messages, median of {args.runs} decodes; values checked")
    print("| decode | time | / all good, strict |\n|---|---|---|")
    for name, seconds in (
        ("all good, strict", strict_s),
        ("all good, permissive", permissive_s),
        ("one in three cut short, permissive", failing_s),
    ):
        print(f"| {name} | {seconds * 1e3:.1f} ms | {seconds / strict_s:.2f}x |")


if __name__ == "__main__":
    main()
