"""Permissive message decoding when messages fail halfway (issue 43, item 5).

ROWS raw datums of the benchmark's nested records (structs in structs, a map, lists of
strings and of records; benches/workloads.py), written by fastavro's schemaless_writer, are
decoded by
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
import warnings
from collections.abc import Callable

import fastavro
import polars as pl
from timing import median_time
from workloads import NESTED, nested

import polars_avro  # noqa: F401 - the .avro namespace


def messages(rows: int) -> list[bytes]:
    """The benchmark's nested records (benches/workloads.py), one raw datum each."""
    parsed = fastavro.parse_schema(NESTED)
    out = []
    for value in nested(rows):
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, value)
        out.append(buffer.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    good = messages(args.rows)
    cut = [m[: len(m) * 3 // 4] if i % 3 == 0 else m for i, m in enumerate(good)]
    schema = json.dumps(NESTED)

    def decode(values: list[bytes], mode: str) -> Callable[[], pl.DataFrame]:
        df = pl.DataFrame({"value": values}, schema={"value": pl.Binary})
        return lambda: df.select(pl.col("value").avro.decode(schema, mode=mode))  # type: ignore[attr-defined]

    strict_s, strict = median_time(decode(good, "strict"), args.runs)
    permissive_s, permissive = median_time(decode(good, "permissive"), args.runs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        failing_s, failing = median_time(decode(cut, "permissive"), args.runs)
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
