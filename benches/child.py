"""One measurement, in a fresh interpreter: `python -I child.py SPEC_JSON`.

Run by compare.py with each reader's own Python (PyPI polars-avro has our import name, so it
lives in its own venv); it must therefore depend on nothing but Polars. The reader's imports
and the query's parameters are evaluated first, untimed, and the statement is run once
untimed: that first run pays one-time costs of the process (Polars starting its thread
pool and lazy engine, the reader's code being paged in) that a program reading many files
pays once. Then the statement alone is timed.
Peak RSS growth during the timed run (the warm-up's memory returned first), the memory
its result holds (RSS growth that stays), its estimated size and the value checksums are
taken afterwards. The last line of stdout is a JSON report.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import importlib.metadata
import json
import sys
import time

import polars as pl

#: Polars 2 has a Map type; Polars 1 readers return List(Struct{key, value}) instead.
MAP = getattr(pl, "Map", None)


def status_mb(field: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM), in MB."""
    with open("/proc/self/status") as f:
        return int(f.read().split(f"{field}:")[1].split()[0]) / 1024


def settle() -> float:
    """Returns freed memory to the system and starts the peak afresh: the resident MB.

    glibc keeps freed heap memory until trimmed; writing 5 to clear_refs resets VmHWM to
    the current RSS, so the peak that follows is the statement's alone, not the first
    run's one-time costs (imports, thread pools) or the warm-up's result.
    """
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_mb("VmRSS")


def canonical(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """`expr` with its values in a form independent of how a reader chose to type them.

    Readers agree on values but not always on types: Enum or String, Datetime in ms or us,
    Decimal or Float, Map or List(Struct{key, value}) and the names of its fields, a uuid as
    its text or as its 16 bytes. So: integers become Int64, floats and decimals Float64,
    binaries hex (uuid text when 16 bytes long), temporal values integers (days, nanoseconds
    of the day, microseconds since the epoch in UTC), and struct fields are named by
    position. Nested values keep their nulls.
    """
    if isinstance(dtype, (pl.Enum, pl.Categorical)):
        return expr.cast(pl.String)
    if dtype == pl.Binary:
        digits = expr.bin.encode("hex")
        groups = [digits.str.slice(start, length) for start, length in [(0, 8), (8, 4), (12, 4), (16, 4), (20, 12)]]
        return pl.when(expr.bin.size() == 16).then(pl.concat_str(groups, separator="-")).otherwise(digits)
    if dtype.is_integer():
        return expr.cast(pl.Int64)
    if dtype.is_float() or dtype.is_decimal():
        return expr.cast(pl.Float64)
    if dtype == pl.Date:
        return expr.cast(pl.Int32).cast(pl.Int64)
    if dtype == pl.Time:
        return expr.cast(pl.Int64)
    if isinstance(dtype, pl.Datetime):
        return expr.dt.epoch("us")
    if isinstance(dtype, pl.Duration):
        return expr.dt.total_microseconds()
    if MAP is not None and isinstance(dtype, MAP):
        entries = pl.List(pl.Struct({"key": dtype.key, "value": dtype.value}))
        return canonical(expr.cast(entries), entries)
    if isinstance(dtype, pl.Array):
        return canonical(expr.cast(pl.List(dtype.inner)), pl.List(dtype.inner))
    if isinstance(dtype, pl.List):
        return expr.list.eval(canonical(pl.element(), dtype.inner))
    if isinstance(dtype, pl.Struct):
        fields = [canonical(expr.struct.field(f.name), f.dtype).alias(f"f{i}") for i, f in enumerate(dtype.fields)]
        return pl.when(expr.is_null()).then(None).otherwise(pl.struct(fields))
    return expr  # Boolean, Null


def checksums(df: pl.DataFrame) -> dict[str, str]:
    """Per column: a hash of its canonical values, one line per row (JSON for nested ones).

    Under ``*rows``, a hash of the rows in sorted order: the same when a reader gives the
    same rows in another order (SQL engines need not keep the file's order).
    """
    texts = []
    for name, dtype in df.schema.items():
        value = canonical(pl.col(name), dtype)
        text = pl.struct(value).struct.json_encode() if dtype.is_nested() else value.cast(pl.String)
        texts.append(text.fill_null("<null>").alias(name))
    if not texts:
        return {}
    lines = df.select(texts)
    joined = lines.select(pl.all().str.join("\n")).row(0, named=True)
    rows = lines.select(pl.concat_str(pl.all(), separator="\t").sort().str.join("\n")).item()
    joined["*rows"] = rows
    return {name: hashlib.sha256(text.encode()).hexdigest()[:16] for name, text in joined.items()}


def fastavro_frame(path: str, n_rows: int | None = None) -> pl.DataFrame:
    """The file read by fastavro, as a DataFrame: an independent check of the values.

    uuids stay the strings they are written as (not uuid.UUID objects, which Polars would
    keep as Object), and maps become lists of {key, value} entries (a dict would be taken
    for a struct).
    """
    import itertools

    import fastavro
    import fastavro.read

    fastavro.read.LOGICAL_READERS["string-uuid"] = lambda data, *_: data
    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        fields = reader.writer_schema["fields"]
        rows = list(itertools.islice(reader, n_rows))
    columns = {}
    for f in fields:
        values = [row[f["name"]] for row in rows]
        if isinstance(f["type"], dict) and f["type"]["type"] == "map":
            values = [[{"key": k, "value": v} for k, v in m.items()] for m in values]
        columns[f["name"]] = pl.Series(f["name"], values, strict=False)
    return pl.DataFrame(columns, height=len(rows))


def main() -> None:
    spec = json.loads(sys.argv[1])
    namespace = {"pl": pl, "PATH": spec["path"], "fastavro_frame": fastavro_frame}
    exec(spec["setup"], namespace)
    for name, source in spec["params"].items():
        namespace[name] = eval(source, namespace)
    statement = compile(spec["statement"], "<statement>", "eval")
    warm_up = eval(statement, namespace)
    del warm_up
    baseline = settle()

    start = time.perf_counter()
    df = eval(statement, namespace)
    seconds = time.perf_counter() - start

    peak = status_mb("VmHWM")
    resident = settle()
    report = {
        "seconds": seconds,
        "rss_delta_mb": peak - baseline,
        # What the result really holds: estimated_size leaves out string views' 16 bytes.
        "resident_mb": resident - baseline,
        "size_mb": df.estimated_size() / 2**20,
        "rows": df.height,
        "checksums": checksums(df),
        "dtypes": {name: str(dtype) for name, dtype in df.schema.items()},
        "versions": {dist: importlib.metadata.version(dist) for dist in ["polars", *spec["dists"]]},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
