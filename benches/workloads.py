"""The benchmark's workloads: Avro files written with fastavro, and the query run on each.

The files are deterministic (seeded) and cached in benches/data/ under their name and row
count, so reruns and the runs of the other readers read the very same bytes. Values are
written in their raw Avro form (ints for dates and timestamps, bytes for decimals), which
fastavro passes through untouched and which is much faster than building Python objects.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).parent / "data"

#: 2023-11-14T22:13:20Z in microseconds: a base for the timestamps.
EPOCH_2023_US = 1_700_000_000_000_000
US_PER_DAY = 86_400_000_000


def _names(rng: random.Random) -> list[str]:
    """A pool of strings of 1 to 40 bytes, some repeated, as in real text columns."""
    return [f"{rng.choice(['alpha', 'beta', 'gamma', 'delta'])}-{i}-" + "x" * rng.randrange(30) for i in range(5000)]


def _timestamp_micros() -> dict:
    return {"type": "long", "logicalType": "timestamp-micros"}


# --- primitives: the common case, one file per codec ------------------------------------

PRIMITIVES = {
    "type": "record",
    "name": "Primitives",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "value", "type": "double"},
        {"name": "name", "type": "string"},
        {"name": "count", "type": "int"},
        {"name": "flag", "type": "boolean"},
        {"name": "ratio", "type": "float"},
        {"name": "ts", "type": _timestamp_micros()},
    ],
}

#: The `predicate` workload's filter: `count` is uniform in [0, 100_000), so this keeps 1%.
PREDICATE = 'pl.col("count") < 1000'
#: The same filter for the SQL engines.
WHERE = '"count" < 1000'


def primitives(rows: int) -> Iterator[dict]:
    rng = random.Random(1)
    names = _names(rng)
    for i in range(rows):
        yield {
            "id": i,
            "value": rng.random() * 1e6,
            "name": rng.choice(names),
            "count": rng.randrange(100_000),
            "flag": rng.random() < 0.5,
            "ratio": rng.random(),
            "ts": EPOCH_2023_US + i * 1_000_003,
        }


# --- wide: 100 columns of ten kinds, every fifth kind nullable --------------------------

WIDE_KINDS = ["int", "long", "double", "string", "boolean"]
WIDE = {
    "type": "record",
    "name": "Wide",
    "fields": [
        {
            "name": f"c{i:02d}_{'opt_' if i % 10 >= 5 else ''}{WIDE_KINDS[i % 5]}",
            "type": ["null", WIDE_KINDS[i % 5]] if i % 10 >= 5 else WIDE_KINDS[i % 5],
        }
        for i in range(100)
    ],
}
#: The `project-5-of-100` workload's columns: one of each kind, spread over the row.
PROJECTED = [WIDE["fields"][i]["name"] for i in (3, 27, 51, 74, 98)]


def wide(rows: int) -> Iterator[dict]:
    rng = random.Random(2)
    names = _names(rng)
    makers: dict[str, Callable[[], object]] = {
        "int": lambda: rng.randrange(-(2**31), 2**31),
        "long": lambda: rng.randrange(-(2**62), 2**62),
        "double": rng.random,
        "string": lambda: rng.choice(names),
        "boolean": lambda: rng.random() < 0.5,
    }
    columns = [(f["name"], makers[WIDE_KINDS[i % 5]], i % 10 >= 5) for i, f in enumerate(WIDE["fields"])]
    for _ in range(rows):
        yield {name: None if nullable and rng.random() < 0.1 else make() for name, make, nullable in columns}


# --- nulls: ["null", T] unions with 30% nulls -------------------------------------------

NULLS_TYPES = ["int", "long", "double", "float", "string", "boolean", "bytes", _timestamp_micros()]
NULLS = {
    "type": "record",
    "name": "Nulls",
    "fields": [{"name": "id", "type": "long"}]
    + [{"name": f"opt_{t if isinstance(t, str) else 'ts'}", "type": ["null", t]} for t in NULLS_TYPES],
}


def nulls(rows: int) -> Iterator[dict]:
    rng = random.Random(3)
    names = _names(rng)
    for i in range(rows):
        values = {
            "opt_int": rng.randrange(-1000, 1000),
            "opt_long": rng.randrange(-(2**40), 2**40),
            "opt_double": rng.random(),
            "opt_float": rng.random(),
            "opt_string": rng.choice(names),
            "opt_boolean": rng.random() < 0.5,
            "opt_bytes": rng.randbytes(rng.randrange(16)),
            "opt_ts": EPOCH_2023_US + rng.randrange(10**12),
        }
        yield {"id": i} | {k: None if rng.random() < 0.3 else v for k, v in values.items()}


# --- nested: records in records, arrays, maps, arrays of records ------------------------

NESTED = {
    "type": "record",
    "name": "Nested",
    "fields": [
        {"name": "id", "type": "long"},
        {
            "name": "point",
            "type": {
                "type": "record",
                "name": "Point",
                "fields": [
                    {"name": "x", "type": "double"},
                    {"name": "y", "type": "double"},
                    {"name": "label", "type": "string"},
                ],
            },
        },
        {
            "name": "address",
            "type": {
                "type": "record",
                "name": "Address",
                "fields": [
                    {"name": "street", "type": "string"},
                    {"name": "zip", "type": "int"},
                    {
                        "name": "geo",
                        "type": {
                            "type": "record",
                            "name": "Geo",
                            "fields": [{"name": "lat", "type": "double"}, {"name": "lon", "type": "double"}],
                        },
                    },
                ],
            },
        },
        {"name": "scores", "type": {"type": "array", "items": "int"}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "attrs", "type": {"type": "map", "values": "long"}},
        {
            "name": "items",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Item",
                    "fields": [
                        {"name": "sku", "type": "string"},
                        {"name": "qty", "type": "int"},
                        {"name": "price", "type": "double"},
                    ],
                },
            },
        },
    ],
}


def nested(rows: int) -> Iterator[dict]:
    rng = random.Random(4)
    names = _names(rng)
    keys = [f"key{i}" for i in range(20)]
    for i in range(rows):
        yield {
            "id": i,
            "point": {"x": rng.random(), "y": rng.random(), "label": rng.choice(names)},
            "address": {
                "street": rng.choice(names),
                "zip": rng.randrange(10000, 99999),
                "geo": {"lat": rng.uniform(-90, 90), "lon": rng.uniform(-180, 180)},
            },
            "scores": [rng.randrange(100) for _ in range(rng.randrange(9))],
            "tags": [rng.choice(names) for _ in range(rng.randrange(5))],
            "attrs": {k: rng.randrange(10**9) for k in rng.sample(keys, rng.randrange(4))},
            "items": [
                {"sku": rng.choice(names), "qty": rng.randrange(1, 10), "price": rng.random() * 100}
                for _ in range(rng.randrange(4))
            ],
        }


# --- logical types ----------------------------------------------------------------------

LOGICAL = {
    "type": "record",
    "name": "Logical",
    "fields": [
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "time_ms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "time_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_us", "type": _timestamp_micros()},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {"name": "uuid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "local_ts_us", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
    ],
}


def logical(rows: int) -> Iterator[dict]:
    rng = random.Random(5)
    for _ in range(rows):
        ts_us = EPOCH_2023_US + rng.randrange(-(10**15), 10**15)
        unscaled = rng.randrange(-(10**10) + 1, 10**10)  # precision 10: up to 10 digits
        yield {
            "date": ts_us // US_PER_DAY,
            "time_ms": rng.randrange(US_PER_DAY // 1000),
            "time_us": rng.randrange(US_PER_DAY),
            "ts_ms": ts_us // 1000,
            "ts_us": ts_us,
            "amount": unscaled.to_bytes((unscaled.bit_length() + 8) // 8, "big", signed=True),
            "uuid": random_uuid(rng),
            "local_ts_us": ts_us,
        }


def random_uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


# --- the workloads ----------------------------------------------------------------------


@dataclass(frozen=True)
class Dataset:
    """One Avro file: schema, generator, codec, and its row count as a share of --rows."""

    name: str
    schema: dict
    records: Callable[[int], Iterator[dict]]
    codec: str = "snappy"
    rows_divisor: int = 1
    #: The decoder written for this schema in benches/floor.rs.
    shape: str = ""

    def rows(self, rows: int) -> int:
        return max(1, rows // self.rows_divisor)

    def path(self, rows: int) -> Path:
        return DATA / f"{self.name}-{self.rows(rows)}.avro"

    def write(self, rows: int) -> Path:
        """The file, written now unless a previous run left it (written to a temporary name first)."""
        path = self.path(rows)
        if not path.exists():
            import fastavro

            DATA.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as f:
                fastavro.writer(f, self.schema, self.records(self.rows(rows)), codec=self.codec)
            tmp.rename(path)
        return path


DATASETS = {
    d.name: d
    for d in [
        *(
            Dataset(f"primitives-{codec}", PRIMITIVES, primitives, codec, shape="primitives")
            for codec in ["null", "snappy", "deflate", "zstandard"]
        ),
        Dataset("wide-100", WIDE, wide, rows_divisor=5, shape="wide"),
        Dataset("nulls-30pct", NULLS, nulls, shape="nulls"),
        Dataset("nested", NESTED, nested, shape="nested"),
        Dataset("logical", LOGICAL, logical, shape="logical"),
    ]
}


@dataclass(frozen=True)
class Workload:
    """A query on a dataset. `query` names the statement each reader runs (see compare.READERS):
    read (the whole file), select (COLUMNS), filter (PREDICATE, or WHERE in SQL), head (a lazy
    head of N rows), first (an eager read of N rows), streaming or count (the number of rows).
    `params` gives COLUMNS, PREDICATE, WHERE or N as Python source, evaluated untimed in the
    child."""

    name: str
    dataset: Dataset
    query: str = "read"
    params: dict[str, str] = field(default_factory=dict)


WORKLOADS = {
    w.name: w
    for w in [
        *(Workload(name, dataset) for name, dataset in DATASETS.items()),
        Workload("project-5-of-100", DATASETS["wide-100"], "select", {"COLUMNS": repr(PROJECTED)}),
        Workload("predicate", DATASETS["primitives-snappy"], "filter", {"PREDICATE": PREDICATE, "WHERE": repr(WHERE)}),
        Workload("head-1000", DATASETS["primitives-snappy"], "head", {"N": "1000"}),
        Workload("first-1000", DATASETS["primitives-snappy"], "first", {"N": "1000"}),
        Workload("streaming", DATASETS["primitives-snappy"], "streaming"),
        Workload("count-deflate", DATASETS["primitives-deflate"], "count"),
    ]
}
