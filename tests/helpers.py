"""Shared test helpers: write Avro files with fastavro or Apache's ``avro`` package, read
them back with fastavro, and compare a Polars frame from polars-avro with fastavro's
records, normalizing both sides with the Avro schema.

The comparison follows the reader's Avro-to-Polars mapping: a multi-branch union is a
struct with exactly one field set, decimals compare as exact text, ``uuid`` as its
canonical string, ``duration`` as its three little-endian u32s, a recursive record as the
JSON text of its value, and so on.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
import struct
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import fastavro
import polars as pl

import polars_avro
from polars_avro._polars.release import running

#: Whether this Polars has a Map dtype (Polars 2); older ones read maps as lists of
#: key/value structs.
HAS_MAP = hasattr(pl, "Map")
#: Whether sink_avro streams the query's batches (`collect_batches`, Polars 1.37 and later)
#: instead of staging the result in an IPC file.
STREAMS_BATCHES = running().batches_raise

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
NAMED = {"record", "error", "enum", "fixed"}
MAX_DECIMAL_PRECISION = 38
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


# --------------------------------------------------------------------------- writing

#: Event records as a Kafka Connect sink writes them: what the object store, split and
#: cluster tests read.
EVENT_SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "user", "type": "string"},
        {"name": "amount", "type": ["null", "double"]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}


def events(first_id: int, n: int) -> list[dict[str, Any]]:
    """`n` records of EVENT_SCHEMA with ids from `first_id`, a null amount every 11th."""
    return [
        {
            "id": first_id + i,
            "user": f"user-{(first_id + i) % 97}",
            "amount": None if i % 11 == 0 else (first_id + i) * 0.25,
            "tags": [f"t{j}" for j in range(i % 4)],
        }
        for i in range(n)
    ]


def every_type_frame() -> pl.DataFrame:
    """One column per writable Polars type, each with a null and edge values."""
    oslo = pl.Series(
        [dt.datetime(2024, 3, 31, 1, 30), None, dt.datetime(1969, 7, 20, 20, 17), dt.datetime(2024, 10, 27, 2, 30)]
    )
    columns: dict[str, pl.Series] = {
        "bool": pl.Series([True, None, False, True]),
        "i8": pl.Series([-128, None, 0, 127], dtype=pl.Int8),
        "i16": pl.Series([-32768, None, 0, 32767], dtype=pl.Int16),
        "i32": pl.Series([-(2**31), None, 0, 2**31 - 1], dtype=pl.Int32),
        "i64": pl.Series([-(2**63), None, 0, 2**63 - 1], dtype=pl.Int64),
        "u8": pl.Series([0, None, 1, 255], dtype=pl.UInt8),
        "u16": pl.Series([0, None, 1, 65535], dtype=pl.UInt16),
        "u32": pl.Series([0, None, 1, 2**32 - 1], dtype=pl.UInt32),
        "u64": pl.Series([0, None, 1, 2**63 - 1], dtype=pl.UInt64),
        "f32": pl.Series([1.5, None, -0.0, float("inf")], dtype=pl.Float32),
        "f64": pl.Series([1e300, None, -2.5, float("-inf")], dtype=pl.Float64),
        "dec": pl.Series(
            [decimal.Decimal("-12345678.901"), None, decimal.Decimal("0.001"), decimal.Decimal("999999999.999")],
            dtype=pl.Decimal(12, 3),
        ),
        "str": pl.Series(["a", None, "", "ünïcödé ✓" * 20]),
        "bin": pl.Series([b"\x00\xff", None, b"", b"z" * 300]),
        "date": pl.Series([dt.date(1970, 1, 1), None, dt.date(1900, 2, 28), dt.date(9999, 12, 31)]),
        "time": pl.Series([dt.time(0, 0), None, dt.time(23, 59, 59, 999999), dt.time(12, 0, 0, 1)]),
        "dt_ms": pl.Series(
            [dt.datetime(2020, 1, 1, 12, 0, 0, 123000), None, dt.datetime(1960, 5, 5), dt.datetime(2262, 1, 1)],
            dtype=pl.Datetime("ms"),
        ),
        "dt_us": pl.Series(
            [dt.datetime(2020, 1, 1, 12, 0, 0, 123456), None, dt.datetime(1960, 5, 5), dt.datetime(2100, 1, 1)],
            dtype=pl.Datetime("us"),
        ),
        "dt_ns": pl.Series([1, None, -1_000_000_000_123, 1_700_000_000_123_456_789], dtype=pl.Int64).cast(
            pl.Datetime("ns")
        ),
        "dt_utc": pl.Series(
            [dt.datetime(2020, 1, 1, 12, 0, 0, 123456), None, dt.datetime(1960, 5, 5), dt.datetime(2100, 1, 1)]
        ).dt.replace_time_zone("UTC"),
        "dt_oslo": oslo.cast(pl.Datetime("ns")).dt.replace_time_zone("Europe/Oslo", ambiguous="earliest"),
        "dur_ms": pl.Series(
            [dt.timedelta(days=-3), None, dt.timedelta(0), dt.timedelta(milliseconds=1)], dtype=pl.Duration("ms")
        ),
        "dur_us": pl.Series(
            [dt.timedelta(days=10_000), None, dt.timedelta(0), dt.timedelta(microseconds=-1)], dtype=pl.Duration("us")
        ),
        "dur_ns": pl.Series([1, None, -1, 2**62], dtype=pl.Int64).cast(pl.Duration("ns")),
        "enum": pl.Series(["RED", None, "BLUE", "RED"], dtype=pl.Enum(["RED", "GREEN", "BLUE"])),
        "cat": pl.Series(["b", None, "a", "b"], dtype=pl.Categorical),
        "list": pl.Series([[1, 2], None, [], [None, 3]], dtype=pl.List(pl.Int64)),
        "arr": pl.Series([[1, 2], None, [3, None], [-4, 5]], dtype=pl.Array(pl.Int16, 2)),
        "struct": pl.Series(
            [{"a": 1, "b": "x", "c": [1.0]}, None, {"a": None, "b": None, "c": None}, {"a": 4, "b": "", "c": []}]
        ),
        "list_struct": pl.Series([[{"x": 1.0}], None, [None, {"x": None}], []]),
        "list_enum": pl.Series([["A"], None, [None, "B"], []], dtype=pl.List(pl.Enum(["A", "B"]))),
        "null": pl.Series([None, None, None, None], dtype=pl.Null),
    }
    if hasattr(pl, "Float16"):
        columns["f16"] = pl.Series([1.5, None, -0.0, 65504.0], dtype=pl.Float16)
    if HAS_MAP:
        columns["map"] = pl.Series(
            [[{"key": "k", "value": 1}], None, [], [{"key": "a", "value": None}, {"key": "b", "value": 2}]]
        ).cast(pl.Map(pl.String, pl.Int64))
    return pl.DataFrame(columns)


def as_read_back(df: pl.DataFrame) -> pl.DataFrame:
    """The frame as it reads back: the type table's widening rules (see docs/writing.md)."""
    casts: dict[str, pl.DataType] = {}
    for name, dtype in df.schema.items():
        if dtype in (pl.Int8, pl.Int16, pl.UInt8, pl.UInt16):
            casts[name] = pl.Int32()
        elif dtype in (pl.UInt32, pl.UInt64):
            casts[name] = pl.Int64()
        elif hasattr(pl, "Float16") and dtype == pl.Float16:
            casts[name] = pl.Float32()
        elif isinstance(dtype, pl.Array):
            casts[name] = pl.List(pl.Int32() if dtype.inner == pl.Int16 else dtype.inner)
        elif dtype == pl.Categorical:
            values = df[name].drop_nulls().unique(maintain_order=True).cast(pl.String).to_list()
            casts[name] = pl.Enum(values)
    return df.cast(casts)  # type: ignore[arg-type]


#: A schema of the types only an explicit schema gives (fixed, enums, non-null fields, a
#: namespace), and a frame of two rows for it.
EXPLICIT = {
    "type": "record",
    "name": "Reading",
    "namespace": "iot",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "small", "type": "int"},
        {"name": "station", "type": {"type": "enum", "name": "Station", "symbols": ["OSLO", "LIMA", "PUNE"]}},
        {"name": "color", "type": ["null", {"type": "enum", "name": "Color", "symbols": ["RED", "BLUE"]}]},
        {"name": "tag", "type": {"type": "fixed", "name": "Tag", "size": 4}},
        {
            "name": "price",
            "type": {
                "type": "fixed",
                "name": "Price",
                "size": 8,
                "logicalType": "decimal",
                "precision": 10,
                "scale": 2,
            },
        },
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "uid", "type": {"type": "fixed", "name": "Uid", "size": 16, "logicalType": "uuid"}},
        {"name": "ratio", "type": "double"},
        {"name": "note", "type": ["string", "null"]},
    ],
}


def explicit_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "note": ["hello", None],
            "id": [1, 2],
            "small": pl.Series([7, -7], dtype=pl.Int64),
            "station": pl.Series(["LIMA", "OSLO"], dtype=pl.Enum(["OSLO", "LIMA", "PUNE"])),
            "color": ["BLUE", None],
            "tag": [b"abcd", b"\x00\x01\x02\x03"],
            "price": pl.Series([decimal.Decimal("12.34"), decimal.Decimal("-0.01")], dtype=pl.Decimal(10, 2)),
            "at": pl.Series(
                [dt.datetime(2024, 5, 1, 12, 0, 0, 5000), dt.datetime(1999, 12, 31)], dtype=pl.Datetime("us")
            ),
            "uid": ["00112233-4455-6677-8899-aabbccddeeff", "ffffffff-0000-0000-0000-000000000001"],
            "ratio": pl.Series([0.5, 2.0], dtype=pl.Float32),
        }
    )


def apache_records(path: Path) -> list[Any]:
    """Apache's Python ``avro`` package's records of a file."""
    import avro.datafile
    import avro.io

    with open(path, "rb") as f:
        return list(avro.datafile.DataFileReader(f, avro.io.DatumReader()))


def write_fastavro(path: str | Path, schema: Any, records: Iterable[Any], codec: str = "null", **kw: Any) -> Path:
    """Write ``records`` to ``path`` with fastavro; ``kw`` goes to ``fastavro.writer``
    (``metadata``, ``sync_interval``, ``codec_compression_level``, ...)."""
    with open(path, "wb") as f:
        fastavro.writer(f, schema, records, codec=codec, **kw)
    return Path(path)


def write_apache_avro(path: str | Path, schema_json: str, records: Iterable[Any], codec: str = "null") -> Path:
    """Write ``records`` to ``path`` with Apache's ``avro`` package (the reference Python
    implementation) from the schema's JSON text."""
    import avro.datafile
    import avro.io
    import avro.schema

    schema = avro.schema.parse(schema_json)
    with open(path, "wb") as f:
        writer = avro.datafile.DataFileWriter(f, avro.io.DatumWriter(), schema, codec=codec)
        for record in records:
            writer.append(record)
        writer.flush()
        writer.close()
    return Path(path)


def fastavro_records(path: str | Path) -> list[Any]:
    """Every record of an Avro file as fastavro reads it."""
    with open(path, "rb") as f:
        return list(fastavro.reader(f))


def avro_file_schema(path: str | Path) -> Any:
    """The writer schema stored in an Avro file's header, as parsed JSON."""
    with open(path, "rb") as f:
        return json.loads(fastavro.reader(f).metadata["avro.schema"])


def big_decimal_bytes(value: decimal.Decimal | str) -> bytes:
    """The ``big-decimal`` payload of a value as Java's BigDecimalConversion writes it:
    the unscaled two's-complement big-endian integer as Avro bytes, then the scale as an
    Avro int. The scale is negative for a positive exponent, as Java's BigDecimal.scale()
    is (``Decimal("1E+10")`` is unscaled 1, scale -10)."""
    sign, digits, exponent = decimal.Decimal(value).as_tuple()
    unscaled = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    raw = unscaled.to_bytes(max(1, (unscaled.bit_length() + 8) // 8), "big", signed=True)
    return zigzag(len(raw)) + raw + zigzag(-int(exponent))


def zigzag(n: int) -> bytes:
    """An Avro int/long: zigzag then little-endian base-128 varint."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def container(
    schema: bytes, blocks: list[tuple[int, bytes]], codec: bytes = b"null", sync: bytes = bytes(range(16))
) -> bytes:
    """An object container file built by hand, for headers and blocks no writer would
    produce: `blocks` are (record count, bytes as stored)."""
    meta = [(b"avro.schema", schema), (b"avro.codec", codec)]
    out = bytearray(b"Obj\x01")
    out += zigzag(len(meta))
    for k, v in meta:
        out += zigzag(len(k)) + k + zigzag(len(v)) + v
    out += zigzag(0) + sync
    for count, data in blocks:
        out += zigzag(count) + zigzag(len(data)) + data + sync
    return bytes(out)


def _read_zigzag(data: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return (result >> 1) ^ -(result & 1), pos


def big_decimal_text(payload: bytes) -> str:
    """The exact plain decimal text of a ``big-decimal`` payload."""
    length, pos = _read_zigzag(payload, 0)
    unscaled = int.from_bytes(payload[pos : pos + length], "big", signed=True)
    scale, _ = _read_zigzag(payload, pos + length)
    return format(decimal.Decimal(f"{unscaled}e{-scale}"), "f")


# --------------------------------------------------------------------------- schemas


class _Names:
    """The named types of an Avro schema by full name, and reference resolution."""

    def __init__(self, schema: Any) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self._collect(schema, "")

    def _collect(self, s: Any, ns: str) -> None:
        if isinstance(s, list):
            for branch in s:
                self._collect(branch, ns)
        elif isinstance(s, dict):
            t = s.get("type")
            if t in NAMED:
                full = _fullname(s, ns)
                self.types[full] = s
                for f in s.get("fields", []):
                    self._collect(f["type"], _namespace(full))
            elif t == "array":
                self._collect(s["items"], ns)
            elif t == "map":
                self._collect(s["values"], ns)
            elif isinstance(t, (dict, list)):
                self._collect(t, ns)

    def resolve(self, s: Any, ns: str) -> tuple[Any, str, str | None]:
        """(node, namespace for its children, full name or None). ``node`` is a list for
        a union, otherwise a dict whose ``type`` is a primitive or complex kind."""
        while True:
            if isinstance(s, list):
                return s, ns, None
            if isinstance(s, str):
                if s in PRIMITIVES:
                    return {"type": s}, ns, None
                full = f"{ns}.{s}" if "." not in s and ns and f"{ns}.{s}" in self.types else s
                return self.types[full], _namespace(full), full
            t = s["type"]
            if t in NAMED:
                full = _fullname(s, ns)
                return s, _namespace(full), full
            if isinstance(t, str) and (t in PRIMITIVES or t in ("array", "map")):
                return s, ns, None
            s = t  # {"type": <union | schema | name>}

    def is_null(self, s: Any, ns: str) -> bool:
        node, _, _ = self.resolve(s, ns)
        return isinstance(node, dict) and node["type"] == "null"


def _fullname(s: dict[str, Any], ns: str) -> str:
    name = s["name"]
    if "." in name:
        return name
    space = s.get("namespace", ns)
    return f"{space}.{name}" if space else name


def _namespace(fullname: str) -> str:
    return fullname.rpartition(".")[0]


def _max_decimal_digits(size: int) -> int:
    return len(str(2 ** (8 * size - 1) - 1)) - 1


def _logical(node: dict[str, Any]) -> str | None:
    """The node's logical type when it is known and fits the underlying type, else None."""
    lt, t = node.get("logicalType"), node["type"]
    if lt == "decimal" and t in ("bytes", "fixed"):
        precision, scale = node.get("precision"), node.get("scale", 0)
        if not isinstance(precision, int) or not isinstance(scale, int):
            return None
        if precision < 1 or scale < 0 or scale > precision:
            return None
        if t == "fixed" and precision > _max_decimal_digits(node["size"]):
            return None
        return lt
    valid = {
        "big-decimal": ("bytes",),
        "uuid": ("string", "fixed"),
        "date": ("int",),
        "time-millis": ("int",),
        "time-micros": ("long",),
        "timestamp-millis": ("long",),
        "timestamp-micros": ("long",),
        "timestamp-nanos": ("long",),
        "local-timestamp-millis": ("long",),
        "local-timestamp-micros": ("long",),
        "local-timestamp-nanos": ("long",),
        "duration": ("fixed",),
        # polars-avro's own: an exact span in a unit (Polars Duration); others see the long.
        "duration-millis": ("long",),
        "duration-micros": ("long",),
        "duration-nanos": ("long",),
    }
    if lt not in valid or t not in valid[lt]:
        return None
    if (lt == "uuid" and t == "fixed" and node["size"] != 16) or (lt == "duration" and node["size"] != 12):
        return None
    return lt


_PLAIN_DTYPES = {
    "null": pl.Null,
    "boolean": pl.Boolean,
    "int": pl.Int32,
    "long": pl.Int64,
    "float": pl.Float32,
    "double": pl.Float64,
    "bytes": pl.Binary,
    "string": pl.String,
    "fixed": pl.Binary,
}
_TIMESTAMPS = {
    "timestamp-millis": ("ms", "UTC"),
    "timestamp-micros": ("us", "UTC"),
    "timestamp-nanos": ("ns", "UTC"),
    "local-timestamp-millis": ("ms", None),
    "local-timestamp-micros": ("us", None),
    "local-timestamp-nanos": ("ns", None),
}


_DURATIONS = {"duration-millis": "ms", "duration-micros": "us", "duration-nanos": "ns"}


def _type_name(node: Any, full: str | None) -> str:
    if full is not None:
        return full.rpartition(".")[2]
    return node["type"]


def polars_dtype(schema: Any, names: _Names | None = None, ns: str = "", stack: tuple[str, ...] = ()) -> pl.DataType:
    """The Polars dtype the reader's mapping gives an Avro schema (an independent
    re-statement of the mapping, used to check every column's dtype)."""
    names = names or _Names(schema)
    node, ns, full = names.resolve(schema, ns)
    if isinstance(node, list):
        values = [(i, b) for i, b in enumerate(node) if not names.is_null(b, ns)]
        if not values:
            return pl.Null()
        if len(values) == 1:
            return polars_dtype(values[0][1], names, ns, stack)
        fields: dict[str, pl.DataType] = {}
        for i, branch in values:
            b_node, _, b_full = names.resolve(branch, ns)
            name = _type_name(b_node, b_full)
            if name in fields:
                name = f"{name}_{i}"
            fields[name] = polars_dtype(branch, names, ns, stack)
        return pl.Struct(fields)
    t, lt = node["type"], _logical(node)
    if t in ("record", "error"):
        if full in stack:
            return pl.String()
        inner = (*stack, full)
        return pl.Struct({f["name"]: polars_dtype(f["type"], names, ns, inner) for f in node["fields"]})
    if t == "enum":
        return pl.Enum(node["symbols"])
    if t == "array":
        return pl.List(polars_dtype(node["items"], names, ns, stack))
    if t == "map":
        value = polars_dtype(node["values"], names, ns, stack)
        if HAS_MAP:
            return pl.Map(pl.String, value)
        return pl.List(pl.Struct({"key": pl.String, "value": value}))
    if lt == "decimal":
        if node["precision"] <= MAX_DECIMAL_PRECISION:
            return pl.Decimal(node["precision"], node.get("scale", 0))
        return pl.String()
    if lt in ("big-decimal", "uuid"):
        return pl.String()
    if lt == "date":
        return pl.Date()
    if lt in ("time-millis", "time-micros"):
        return pl.Time()
    if lt in _TIMESTAMPS:
        unit, zone = _TIMESTAMPS[lt]
        # polars-avro keeps the zone a Datetime was written from in this attribute.
        return pl.Datetime(unit, node.get("polars.time_zone", zone) if zone else None)
    if lt == "duration":
        return pl.Struct({"months": pl.UInt32, "days": pl.UInt32, "milliseconds": pl.UInt32})
    if lt in _DURATIONS:
        return pl.Duration(_DURATIONS[lt])
    return _PLAIN_DTYPES[t]()


def top_level_columns(schema: Any) -> list[tuple[str, Any]]:
    """The frame's columns for a file schema: (name, Avro schema) per column."""
    names = _Names(schema)
    node, _, _ = names.resolve(schema, "")
    if isinstance(node, dict) and node["type"] in ("record", "error"):
        return [(f["name"], f["type"]) for f in node["fields"]]
    return [("value", schema)]


# --------------------------------------------------------------------------- comparing


def _physical(dtype: pl.DataType) -> pl.DataType:
    """``dtype`` with nanosecond datetimes as Int64 (Python datetimes drop nanoseconds)."""
    if isinstance(dtype, (pl.Datetime, pl.Duration)) and dtype.time_unit == "ns":
        return pl.Int64()
    if isinstance(dtype, pl.List):
        return pl.List(_physical(dtype.inner))
    if isinstance(dtype, pl.Array):
        return pl.Array(_physical(dtype.inner), dtype.shape)
    if isinstance(dtype, pl.Struct):
        return pl.Struct({f.name: _physical(f.dtype) for f in dtype.fields})
    if HAS_MAP and isinstance(dtype, pl.Map):
        return pl.Map(dtype.key, _physical(dtype.value))
    return dtype


def _decimal_text(value: Any) -> Any:
    return format(value, "f") if isinstance(value, decimal.Decimal) else value


def _to_ns(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        epoch = _EPOCH_UTC if value.tzinfo is not None else _EPOCH
        return (value - epoch) // dt.timedelta(microseconds=1) * 1000
    return value


def _scalar_pair(p: Any, a: Any, node: dict[str, Any]) -> tuple[Any, Any]:
    """Canonical forms of a non-null scalar: ``p`` from Polars, ``a`` from fastavro."""
    lt = _logical(node)
    if lt == "decimal":
        if isinstance(a, bytes):  # fastavro left it raw: unscaled two's complement
            a = decimal.Decimal(f"{int.from_bytes(a, 'big', signed=True)}e{-node.get('scale', 0)}")
        return _decimal_text(p), _decimal_text(a)
    if lt == "big-decimal":
        return p, big_decimal_text(a) if isinstance(a, bytes) else _decimal_text(a)
    if lt == "uuid":
        if isinstance(a, uuid.UUID):
            a = str(a)
        elif isinstance(a, bytes):
            a = str(uuid.UUID(bytes=a))
        return p, a
    if lt == "duration":
        if isinstance(a, bytes):
            a = dict(zip(("months", "days", "milliseconds"), struct.unpack("<3I", a)))
        return p, a
    if lt in ("timestamp-nanos", "local-timestamp-nanos"):
        return p, _to_ns(a)
    if lt in ("local-timestamp-millis", "local-timestamp-micros") and isinstance(a, int):
        # Apache's avro package does not know local timestamps: it gives the long.
        unit = dt.timedelta(milliseconds=1) if lt == "local-timestamp-millis" else dt.timedelta(microseconds=1)
        return p, _EPOCH + a * unit
    if lt in ("duration-millis", "duration-micros"):
        # fastavro reads the long; Polars gives a timedelta (nanoseconds arrive as Int64).
        unit = dt.timedelta(milliseconds=1) if lt == "duration-millis" else dt.timedelta(microseconds=1)
        return p // unit, a
    return p, a


def _pair(p: Any, a: Any, schema: Any, names: _Names, ns: str, stack: tuple[str, ...]) -> tuple[Any, Any]:
    """Canonical forms of one value read by Polars (``p``) and by fastavro (``a``)."""
    node, ns, full = names.resolve(schema, ns)
    if p is None or a is None:
        return p, a
    if isinstance(node, list):
        values = [b for b in node if not names.is_null(b, ns)]
        if len(values) == 1:
            return _pair(p, a, values[0], names, ns, stack)
        if not isinstance(p, dict) or len(p) != len(values):
            return (f"<not a union struct: {p!r}>", a)
        set_fields = [i for i, v in enumerate(p.values()) if v is not None]
        if len(set_fields) != 1:
            return (f"<union struct with {len(set_fields)} fields set: {p!r}>", a)
        i = set_fields[0]
        return _pair(list(p.values())[i], a, values[i], names, ns, stack)
    t = node["type"]
    if t in ("record", "error"):
        if full in stack:
            return (json.loads(p) if isinstance(p, str) else p), _jsonify(a, node, names, ns, stack)
        if not isinstance(p, dict) or not isinstance(a, dict):
            return p, a
        inner = (*stack, full)
        cp, ca = {}, {}
        for f in node["fields"]:
            name = f["name"]
            cp[name], ca[name] = _pair(p.get(name, "<missing>"), a.get(name, "<missing>"), f["type"], names, ns, inner)
        return cp, ca
    if t == "array":
        if not isinstance(p, list) or not isinstance(a, list) or len(p) != len(a):
            return p, a
        pairs = [_pair(x, y, node["items"], names, ns, stack) for x, y in zip(p, a)]
        return [x for x, _ in pairs], [y for _, y in pairs]
    if t == "map":
        if isinstance(p, list):  # Polars without Map: list of {key, value}
            p = {e["key"]: e["value"] for e in p}
        if not isinstance(p, dict) or not isinstance(a, dict) or p.keys() != a.keys():
            return p, a
        pairs = {k: _pair(p[k], a[k], node["values"], names, ns, stack) for k in p}
        return {k: x for k, (x, _) in pairs.items()}, {k: y for k, (_, y) in pairs.items()}
    return _scalar_pair(p, a, node)


def _json_float(x: float) -> Any:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _jsonify(a: Any, schema: Any, names: _Names, ns: str, stack: tuple[str, ...]) -> Any:
    """fastavro's value of a recursive type as the JSON the reader writes for it
    (records and maps as objects, union as the branch value, enum as its symbol,
    bytes/fixed as strings of code points U+0000..U+00FF, NaN/inf as strings). Logical
    types are rendered as their underlying values (a decimal as the minimal
    two's-complement bytes fastavro writes)."""
    if a is None:
        return None
    node, ns, _ = names.resolve(schema, ns)
    if isinstance(node, list):
        values = [b for b in node if not names.is_null(b, ns)]
        if len(values) == 1:
            return _jsonify(a, values[0], names, ns, stack)
        return _jsonify_untyped(a)
    t = node["type"]
    if t in ("record", "error"):
        return {f["name"]: _jsonify(a[f["name"]], f["type"], names, ns, stack) for f in node["fields"]}
    if t == "array":
        return [_jsonify(x, node["items"], names, ns, stack) for x in a]
    if t == "map":
        return {k: _jsonify(v, node["values"], names, ns, stack) for k, v in a.items()}
    lt = _logical(node)
    if lt == "date" and isinstance(a, dt.date):
        return (a - _EPOCH.date()).days
    if lt in ("time-millis", "time-micros") and isinstance(a, dt.time):
        us = ((a.hour * 60 + a.minute) * 60 + a.second) * 1_000_000 + a.microsecond
        return us // 1000 if lt == "time-millis" else us
    if lt in _TIMESTAMPS and isinstance(a, dt.datetime):
        ns_value = _to_ns(a)
        return ns_value // {"ms": 1_000_000, "us": 1000, "ns": 1}[_TIMESTAMPS[lt][0]]
    if lt == "uuid" and isinstance(a, uuid.UUID):
        return str(a) if t == "string" else a.bytes.decode("latin-1")
    if lt == "decimal" and isinstance(a, decimal.Decimal):
        unscaled = int(a.scaleb(node.get("scale", 0), decimal.Context(prec=node["precision"] + 1)))
        size = node["size"] if t == "fixed" else (unscaled.bit_length() + 8) // 8
        return unscaled.to_bytes(size, "big", signed=True).decode("latin-1")
    return _jsonify_untyped(a)


def _jsonify_untyped(a: Any) -> Any:
    if isinstance(a, float):
        return _json_float(a)
    if isinstance(a, (bytes, bytearray)):
        return bytes(a).decode("latin-1")
    if isinstance(a, dict):
        return {k: _jsonify_untyped(v) for k, v in a.items()}
    if isinstance(a, list):
        return [_jsonify_untyped(v) for v in a]
    if isinstance(a, uuid.UUID):
        return str(a)
    return a


def values_equal(x: Any, y: Any) -> bool:
    """Deep equality where NaN equals NaN and a bool never equals an int."""
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(values_equal(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple)) and isinstance(y, (list, tuple)):
        return len(x) == len(y) and all(values_equal(u, v) for u, v in zip(x, y))
    if isinstance(x, bool) or isinstance(y, bool):
        return type(x) is type(y) and x == y
    if isinstance(x, (dict, list, tuple)) or isinstance(y, (dict, list, tuple)):
        return False
    return bool(x == y)


def frame_mismatches(
    df: pl.DataFrame, records: Sequence[Any], avro_schema: Any, *, check_dtypes: bool = True, limit: int = 10
) -> list[str]:
    """Every difference (up to ``limit`` value differences) between ``df`` and fastavro's
    ``records`` of a file with ``avro_schema``: columns, dtypes, height, then values."""
    names = _Names(avro_schema)
    top, _, top_full = names.resolve(avro_schema, "")
    is_record = isinstance(top, dict) and top["type"] in ("record", "error")
    columns = top_level_columns(avro_schema)
    ns = _namespace(top_full) if is_record and top_full else ""
    stack = (top_full,) if is_record else ()
    problems: list[str] = []
    if df.columns != [n for n, _ in columns]:
        return [f"columns: polars {df.columns} != avro {[n for n, _ in columns]}"]
    if check_dtypes:
        for name, s in columns:
            expected = polars_dtype(s, names, ns, stack)
            if df.schema[name] != expected:
                problems.append(f"column {name!r}: dtype {df.schema[name]!r} != expected {expected!r}")
    if df.height != len(records):
        problems.append(f"height: polars {df.height} != fastavro {len(records)}")
        return problems
    df = df.cast({c: _physical(d) for c, d in df.schema.items()})
    n_value_problems = 0
    for name, s in columns:
        polars_values = df.get_column(name).to_list()
        for row, (p, record) in enumerate(zip(polars_values, records)):
            a = record[name] if is_record else record
            cp, ca = _pair(p, a, s, names, ns, stack)
            if not values_equal(cp, ca):
                n_value_problems += 1
                if n_value_problems <= limit:
                    problems.append(f"row {row}, column {name!r}: polars {cp!r} != fastavro {ca!r}")
    if n_value_problems > limit:
        problems.append(f"... {n_value_problems - limit} more value differences")
    return problems


def assert_frame_matches_records(
    df: pl.DataFrame, records: Sequence[Any], avro_schema: Any, *, check_dtypes: bool = True
) -> None:
    """Assert that ``df`` holds fastavro's ``records`` of a file with ``avro_schema``,
    value by value (and, by default, that every column has the mapping's dtype)."""
    problems = frame_mismatches(df, records, avro_schema, check_dtypes=check_dtypes)
    assert not problems, "frame differs from fastavro:\n  " + "\n  ".join(problems)


def assert_file_matches_fastavro(path: str | Path, df: pl.DataFrame, *, check_dtypes: bool = True) -> None:
    """Assert that ``df`` (read from ``path``) matches what fastavro reads from it."""
    assert_frame_matches_records(df, fastavro_records(path), avro_file_schema(path), check_dtypes=check_dtypes)


def split_file_range(file: polars_avro.SplitFile, start: int, end: int) -> polars_avro.SplitFile:
    """The same file's part of a split from `start` to `end`."""
    return polars_avro.SplitFile(
        file.path, start, end, file.size, file.schema, file.codec, file.sync, header_len=file.header_len
    )


def strip_logical(schema: Any) -> Any:
    """The schema without logical types: the same binary encoding, read as raw values."""
    if isinstance(schema, list):
        return [strip_logical(s) for s in schema]
    if isinstance(schema, dict):
        out = {k: strip_logical(v) for k, v in schema.items() if k not in ("logicalType", "precision", "scale")}
        if "fields" in schema:
            out["fields"] = [{**f, "type": strip_logical(f["type"])} for f in schema["fields"]]
        return out
    return schema


def read_datums(schema: Any, data: bytes, **options: Any) -> list[Any]:
    """Every datum in data, as fastavro's schemaless_reader reads them one after another."""
    fo = io.BytesIO(data)
    out = []
    while fo.tell() < len(data):
        out.append(fastavro.schemaless_reader(fo, schema, None, **options))
    return out


def json_lines(text: bytes | str) -> list[Any]:
    """One JSON value per line (split at newlines only: str.splitlines also splits at
    U+0085 and U+2028, which JSON strings hold unescaped)."""
    text = text.encode() if isinstance(text, str) else text
    assert text.endswith(b"\n") or not text
    return [json.loads(line) for line in text.split(b"\n")[:-1]]


def plain(value: Any) -> Any:
    """A raw value as plain JSON: bytes as strings of code points U+0000..U+00FF."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def stored_values(path: str | Path) -> list[Any]:
    """fastavro's records of a file as stored (logical types as their underlying values), as
    plain JSON gives them (bytes as strings of code points U+0000..U+00FF)."""
    with open(path, "rb") as fo:
        schema = strip_logical(fastavro.reader(fo).writer_schema)
    with open(path, "rb") as fo:
        blocks = [block.bytes_.getvalue() for block in fastavro.block_reader(fo)]
    return [plain(r) for data in blocks for r in read_datums(fastavro.parse_schema(schema), data)]


def from_json_encoding(value: Any, schema: Any, names: _Names | None = None, ns: str = "") -> Any:
    """A datum in the specification's JSON encoding (avro-tools' and Java's ``JsonEncoder``'s:
    a union's value as ``{"branch": value}``, NaN and infinities as strings) as the plain raw
    value :func:`stored_values` gives: the union unwrapped, a float rounded to 32 bits."""
    names = names or _Names(schema)
    node, ns, _ = names.resolve(schema, ns)
    if isinstance(node, list):
        if value is None:
            return None
        ((label, inner),) = value.items()
        for branch in node:
            branch_node, _, full = names.resolve(branch, ns)
            if label in (full, branch_node["type"]):
                return from_json_encoding(inner, branch, names, ns)
        raise AssertionError(f"no branch {label!r} in the union {node}")
    t = node["type"]
    if t in ("record", "error"):
        return {f["name"]: from_json_encoding(value[f["name"]], f["type"], names, ns) for f in node["fields"]}
    if t == "array":
        return [from_json_encoding(v, node["items"], names, ns) for v in value]
    if t == "map":
        return {k: from_json_encoding(v, node["values"], names, ns) for k, v in value.items()}
    if t in ("float", "double"):
        number = float(value)  # "NaN", "Infinity" and "-Infinity" too
        return struct.unpack("<f", struct.pack("<f", number))[0] if t == "float" else number
    return value


def max_index() -> int:
    """The largest value of Polars' index type: the largest row index it allows."""
    return 2**32 - 1 if pl.get_index_type() == pl.UInt32 else 2**64 - 1


# --------------------------------------------------------------------------- calls into Rust


def count_rust_calls(monkeypatch: Any) -> list[str]:
    """The calls into the compiled module from now on, by name, as they happen (methods of
    the readers made as ``ScanReader.next_batch``); ``monkeypatch`` undoes the counting."""
    from polars_avro import _internal

    calls: list[str] = []
    for name, value in vars(_internal).items():
        if not name.startswith("_") and callable(value) and (not isinstance(value, type) or name == "ScanReader"):
            monkeypatch.setattr(_internal, name, _Counted(name, value, calls))
    return calls


class _Counted:
    """A compiled function, or the reader class, counting each call into Rust by name."""

    def __init__(self, name: str, target: Any, calls: list[str]) -> None:
        self.name, self.target, self.calls = name, target, calls

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(self.name)
        made = self.target(*args, **kwargs)
        return _CountedObject(self.name, made, self.calls) if isinstance(self.target, type) else made


class _CountedObject:
    """An object of the compiled module, counting each method called on it (an attribute
    read is none)."""

    def __init__(self, name: str, target: Any, calls: list[str]) -> None:
        self._name, self._target, self._calls = name, target, calls

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._target, attribute)
        if not callable(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(f"{self._name}.{attribute}")
            return value(*args, **kwargs)

        return counted
