"""The Avro-to-Polars type mapping: files written by fastavro and by Apache's ``avro``
package, read by polars-avro, checked for the exact Polars dtypes and, value by value,
against fastavro's reading of the same file."""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import (
    HAS_MAP,
    assert_frame_matches_records,
    avro_file_schema,
    big_decimal_bytes,
    big_decimal_text,
    fastavro_records,
    write_apache_avro,
    write_fastavro,
    zigzag,
)
from polars.testing import assert_frame_equal

import polars_avro

UTC = dt.timezone.utc
NAN, INF = float("nan"), float("inf")


def map_of(value: pl.DataType) -> pl.DataType:
    """The dtype an Avro map with these values reads as on this Polars."""
    if HAS_MAP:
        return pl.Map(pl.String, value)
    return pl.List(pl.Struct({"key": pl.String, "value": value}))


def check_file(path: Path, expected: dict[str, pl.DataType] | None = None, **read_kw: Any) -> pl.DataFrame:
    """Read ``path`` with polars-avro; check the dtypes (exactly, when ``expected`` is
    given), that read_avro_schema agrees, and every value against fastavro."""
    df = polars_avro.read_avro(path, **read_kw)
    if expected is not None:
        assert df.schema == pl.Schema(expected)
    assert polars_avro.read_avro_schema(path) == df.schema
    assert_frame_matches_records(df, fastavro_records(path), avro_file_schema(path))
    return df


def record(fields: list[dict[str, Any]], name: str = "Row") -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": fields}


# --------------------------------------------------------------------------- scalars

DURATION = {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}
SCALAR_CASES = [
    pytest.param("boolean", pl.Boolean(), [True, False, True], id="boolean"),
    pytest.param("int", pl.Int32(), [0, -1, 1, 2**31 - 1, -(2**31)], id="int"),
    pytest.param("long", pl.Int64(), [0, -1, 1, 2**63 - 1, -(2**63)], id="long"),
    pytest.param(
        "float",
        pl.Float32(),
        [0.0, -0.0, 1.5, NAN, INF, -INF, 3.4028234663852886e38, 1.401298464324817e-45],
        id="float",
    ),
    pytest.param("double", pl.Float64(), [0.0, -0.0, 0.1, NAN, INF, -INF, 1.7976931348623157e308, 5e-324], id="double"),
    pytest.param("bytes", pl.Binary(), [b"", b"\x00\xff\x80", b"abc" * 100], id="bytes"),
    pytest.param("string", pl.String(), ["", "abc", "héllo wörld ✓ 𝄞 日本", "x" * 1000, "a\x00b"], id="string"),
    pytest.param(
        {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "CLUBS"]},
        pl.Enum(["SPADES", "HEARTS", "CLUBS"]),
        ["HEARTS", "CLUBS", "SPADES", "HEARTS"],
        id="enum",
    ),
    pytest.param(
        {"type": "fixed", "name": "Four", "size": 4},
        pl.Binary(),
        [b"\x00\x00\x00\x00", b"\xff\xfe\xfd\xfc", b"abcd"],
        id="fixed",
    ),
    pytest.param(
        {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        pl.Decimal(10, 2),
        [Decimal("0.00"), Decimal("-123.45"), Decimal("99999999.99"), Decimal("-99999999.99"), Decimal("0.01")],
        id="decimal-bytes",
    ),
    pytest.param(
        {"type": "fixed", "name": "Dec8", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 4},
        pl.Decimal(18, 4),
        [Decimal("0.0000"), Decimal("-0.0001"), Decimal("99999999999999.9999"), Decimal("-12345.6789")],
        id="decimal-fixed",
    ),
    pytest.param(
        {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 0},
        pl.Decimal(38, 0),
        [Decimal("9" * 38), Decimal("-" + "9" * 38), Decimal("0"), Decimal("-1")],
        id="decimal-38",
    ),
    pytest.param(
        {"type": "bytes", "logicalType": "decimal", "precision": 50, "scale": 5},
        pl.String(),
        [Decimal("-123.45000"), Decimal("0.00001"), Decimal("0.00000"), Decimal("9" * 45 + ".99999")],
        id="decimal-wide-bytes",
    ),
    pytest.param(
        {"type": "fixed", "name": "Dec32", "size": 32, "logicalType": "decimal", "precision": 60, "scale": 10},
        pl.String(),
        [Decimal("-1.0000000000"), Decimal("0.0000000001"), Decimal("1" * 50 + ".0123456789")],
        id="decimal-wide-fixed",
    ),
    pytest.param(
        {"type": "bytes", "logicalType": "big-decimal"},
        pl.String(),
        [big_decimal_bytes(v) for v in ("-123.45", "0", "1.000", "0.0000001", "123456789012345678901234567890.5")],
        id="big-decimal",
    ),
    pytest.param(
        {"type": "string", "logicalType": "uuid"},
        pl.String(),
        [str(uuid.UUID(int=0)), "fe7bc30b-4ce8-4c5e-b67c-2234a2d38e66", str(uuid.UUID(int=2**128 - 1))],
        id="uuid-string",
    ),
    pytest.param(
        {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"},
        pl.String(),
        [bytes(16), uuid.UUID("FE7BC30B-4CE8-4C5E-B67C-2234A2D38E66").bytes, b"\xff" * 16],
        id="uuid-fixed",
    ),
    pytest.param(
        {"type": "int", "logicalType": "date"},
        pl.Date(),
        [dt.date(1970, 1, 1), dt.date(1969, 12, 31), dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(2024, 2, 29)],
        id="date",
    ),
    pytest.param(
        {"type": "int", "logicalType": "time-millis"},
        pl.Time(),
        [dt.time(0), dt.time(23, 59, 59, 999000), dt.time(12, 30, 0, 1000)],
        id="time-millis",
    ),
    pytest.param(
        {"type": "long", "logicalType": "time-micros"},
        pl.Time(),
        [dt.time(0), dt.time(23, 59, 59, 999999), dt.time(0, 0, 0, 1)],
        id="time-micros",
    ),
    pytest.param(
        {"type": "long", "logicalType": "timestamp-millis"},
        pl.Datetime("ms", "UTC"),
        [
            dt.datetime(1970, 1, 1, tzinfo=UTC),
            dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
            dt.datetime(2024, 2, 29, 12, 0, 0, 123000, tzinfo=UTC),
            dt.datetime(1, 1, 1, tzinfo=UTC),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        ],
        id="timestamp-millis",
    ),
    pytest.param(
        {"type": "long", "logicalType": "timestamp-micros"},
        pl.Datetime("us", "UTC"),
        [
            dt.datetime(1970, 1, 1, tzinfo=UTC),
            dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            dt.datetime(2024, 2, 29, 12, 0, 0, 123456, tzinfo=UTC),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        ],
        id="timestamp-micros",
    ),
    pytest.param(
        {"type": "long", "logicalType": "timestamp-nanos"},
        pl.Datetime("ns", "UTC"),
        [0, -1, 1_700_000_000_123_456_789, 2**63 - 1, -(2**63) + 1],
        id="timestamp-nanos",
    ),
    pytest.param(
        {"type": "long", "logicalType": "local-timestamp-millis"},
        pl.Datetime("ms"),
        [dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 999000), dt.datetime(2024, 2, 29, 12, 1)],
        id="local-timestamp-millis",
    ),
    pytest.param(
        {"type": "long", "logicalType": "local-timestamp-micros"},
        pl.Datetime("us"),
        [dt.datetime(1970, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 999999), dt.datetime(2024, 2, 29, 0, 0, 0, 1)],
        id="local-timestamp-micros",
    ),
    pytest.param(
        {"type": "long", "logicalType": "local-timestamp-nanos"},
        pl.Datetime("ns"),
        [0, -1, 1_700_000_000_123_456_789],
        id="local-timestamp-nanos",
    ),
    pytest.param(
        DURATION,
        pl.Struct({"months": pl.UInt32, "days": pl.UInt32, "milliseconds": pl.UInt32}),
        [struct.pack("<3I", 0, 0, 0), struct.pack("<3I", 1, 15, 500), struct.pack("<3I", 2**32 - 1, 2**31, 7)],
        id="duration",
    ),
    pytest.param({"type": "string", "logicalType": "my-own-type"}, pl.String(), ["a", ""], id="unknown-logical"),
    pytest.param({"type": "long", "logicalType": "date"}, pl.Int64(), [0, 2**40], id="logical-on-wrong-type"),
]


def _named_ref(schema: Any) -> Any:
    """A named type's second use must be a reference to its name."""
    return schema["name"] if isinstance(schema, dict) and "name" in schema else schema


@pytest.mark.parametrize(("avro_type", "dtype", "values"), SCALAR_CASES)
def test_scalar_type(tmp_path: Path, avro_type: Any, dtype: pl.DataType, values: list[Any]) -> None:
    """Each Avro type as a required column, as [null, T] and as [T, null]."""
    ref = _named_ref(avro_type)
    schema = record(
        [
            {"name": "v", "type": avro_type},
            {"name": "null_first", "type": ["null", ref]},
            {"name": "null_last", "type": [ref, "null"]},
        ]
    )
    rows = [
        {"v": v, "null_first": None if i % 2 == 0 else v, "null_last": v if i % 2 == 0 else None}
        for i, v in enumerate(values)
    ]
    path = write_fastavro(tmp_path / "t.avro", schema, rows)
    df = check_file(path, {"v": dtype, "null_first": dtype, "null_last": dtype})
    assert df["null_first"].null_count() == (len(values) + 1) // 2
    assert df["null_last"].null_count() == len(values) // 2


def test_null_type(tmp_path: Path) -> None:
    schema = record([{"name": "v", "type": "null"}, {"name": "u", "type": ["null"]}, {"name": "i", "type": "int"}])
    path = write_fastavro(tmp_path / "t.avro", schema, [{"v": None, "u": None, "i": i} for i in range(3)])
    df = check_file(path, {"v": pl.Null(), "u": pl.Null(), "i": pl.Int32()})
    assert df["v"].to_list() == [None, None, None]


def test_exact_values_of_text_logical_types(tmp_path: Path) -> None:
    """Values whose rendering the mapping fixes exactly, checked without the helper."""
    schema = record(
        [
            {"name": "wide", "type": {"type": "bytes", "logicalType": "decimal", "precision": 40, "scale": 2}},
            {"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}},
            {"name": "uuid_fixed", "type": {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}},
            {"name": "dur", "type": DURATION},
            {"name": "ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        ]
    )
    u = uuid.UUID("FE7BC30B-4CE8-4C5E-B67C-2234A2D38E66")
    rows = [
        {
            "wide": Decimal("-123.45"),
            "big": big_decimal_bytes("-123.45"),
            "uuid_fixed": u.bytes,
            "dur": struct.pack("<3I", 1, 15, 500),
            "ns": 1_700_000_000_123_456_789,
        },
        {
            "wide": Decimal("0.05"),
            "big": big_decimal_bytes("0.0000001"),
            "uuid_fixed": bytes(16),
            "dur": struct.pack("<3I", 2**32 - 1, 0, 1),
            "ns": -1,
        },
    ]
    df = polars_avro.read_avro(write_fastavro(tmp_path / "t.avro", schema, rows))
    assert df["wide"].to_list() == ["-123.45", "0.05"]
    assert df["big"].to_list() == ["-123.45", "0.0000001"]
    assert df["uuid_fixed"].to_list() == [
        "fe7bc30b-4ce8-4c5e-b67c-2234a2d38e66",
        "00000000-0000-0000-0000-000000000000",
    ]
    assert df["dur"].to_list() == [
        {"months": 1, "days": 15, "milliseconds": 500},
        {"months": 2**32 - 1, "days": 0, "milliseconds": 1},
    ]
    assert df["ns"].cast(pl.Int64).to_list() == [1_700_000_000_123_456_789, -1]


def test_big_decimals_of_negative_scale_read_as_plain_text(tmp_path: Path) -> None:
    """A big-decimal's scale may be negative (Java writes 1E+10 as unscaled 1, scale -10):
    read as the plain text, which writes back as the same number; a scale beyond the
    bound is a decode error naming it, not gigabytes of zeros."""
    schema = record([{"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}}])
    payloads = [big_decimal_bytes(v) for v in ("1E+10", "-25E+2", "0E+5", "-1.5E+1", "-9.9E+40")]
    assert payloads[0] == b"\x02\x01\x13"  # unscaled 1 (one byte), then scale -10 as a zigzag int
    path = write_fastavro(tmp_path / "t.avro", schema, [{"big": p} for p in payloads])
    df = check_file(path, {"big": pl.String()})  # value by value against fastavro's bytes
    assert df["big"].to_list() == ["10000000000", "-2500", "0", "-15", "-99" + "0" * 39]
    target = tmp_path / "back.avro"
    polars_avro.write_avro(df, target, schema=schema)
    assert_frame_equal(polars_avro.read_avro(target), df)
    back = [Decimal(big_decimal_text(r["big"])) for r in fastavro.reader(open(target, "rb"))]
    # The same numbers, as Java would write their plain text (scale 0), not the same bytes.
    assert back == [Decimal(v) for v in ("1E+10", "-25E+2", "0", "-15", "-9.9E+40")]

    for scale in (-(2**31), 2**31 - 1, -10_001):
        absurd = b"\x02\x01" + zigzag(scale)
        bad = write_fastavro(tmp_path / f"bad{scale}.avro", schema, [{"big": absurd}])
        with pytest.raises(
            polars_avro.AvroDecodeError, match=rf"scale is between -10000 and 10000 .*found scale {scale}"
        ):
            polars_avro.read_avro(bad)
    edge = write_fastavro(tmp_path / "edge.avro", schema, [{"big": b"\x02\x01" + zigzag(-10_000)}])
    assert polars_avro.read_avro(edge)["big"].to_list() == ["1" + "0" * 10_000]


# --------------------------------------------------------------------------- unions


def test_union_of_primitives(tmp_path: Path) -> None:
    schema = record([{"name": "u", "type": ["null", "int", "string"]}, {"name": "w", "type": ["string", "long"]}])
    rows = [
        {"u": None, "w": "a"},
        {"u": 5, "w": 2**40},
        {"u": "x", "w": ""},
        {"u": -(2**31), "w": -1},
        {"u": "", "w": "é"},
    ]
    df = check_file(
        write_fastavro(tmp_path / "t.avro", schema, rows),
        {
            "u": pl.Struct({"int": pl.Int32, "string": pl.String}),
            "w": pl.Struct({"string": pl.String, "long": pl.Int64}),
        },
    )
    assert df["u"].to_list() == [
        None,
        {"int": 5, "string": None},
        {"int": None, "string": "x"},
        {"int": -(2**31), "string": None},
        {"int": None, "string": ""},
    ]
    assert df["w"].to_list()[1] == {"string": None, "long": 2**40}


def test_union_of_many_branches(tmp_path: Path) -> None:
    branches = [
        "null",
        "boolean",
        "int",
        "long",
        "double",
        "bytes",
        "string",
        {"type": "array", "items": "int"},
        {"type": "map", "values": "string"},
        {"type": "record", "name": "ns.Point", "fields": [{"name": "x", "type": "int"}]},
        {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]},
    ]
    schema = record([{"name": "u", "type": branches}])
    values = [None, True, 7, 2**40, 2.5, b"\x00\x01", "txt", [1, 2], {"k": "v"}, {"x": 3}, "GREEN", [], {}]
    df = check_file(write_fastavro(tmp_path / "t.avro", schema, [{"u": v} for v in values]))
    assert df.schema["u"] == pl.Struct(
        {
            "boolean": pl.Boolean,
            "int": pl.Int32,
            "long": pl.Int64,
            "double": pl.Float64,
            "bytes": pl.Binary,
            "string": pl.String,
            "array": pl.List(pl.Int32),
            "map": map_of(pl.String()),
            "Point": pl.Struct({"x": pl.Int32}),
            "Color": pl.Enum(["RED", "GREEN"]),
        }
    )
    rows = df["u"].to_list()
    assert rows[0] is None
    for row in rows[1:]:
        assert sum(v is not None for v in row.values()) == 1, row
    assert rows[9]["Point"] == {"x": 3}


def test_union_float_branch_and_duplicate_names(tmp_path: Path) -> None:
    """A duplicate branch name gets ``_<branch index>`` appended."""
    a = {"type": "record", "name": "a.X", "fields": [{"name": "i", "type": "int"}]}
    b = {"type": "record", "name": "b.X", "fields": [{"name": "s", "type": "string"}]}
    schema = record([{"name": "u", "type": ["null", a, b]}, {"name": "f", "type": ["float", "string"]}])
    rows = [{"u": {"i": 1}, "f": 1.5}, {"u": {"s": "q"}, "f": "no"}, {"u": None, "f": NAN}]
    df = check_file(
        write_fastavro(tmp_path / "t.avro", schema, rows),
        {
            "u": pl.Struct({"X": pl.Struct({"i": pl.Int32}), "X_2": pl.Struct({"s": pl.String})}),
            "f": pl.Struct({"float": pl.Float32, "string": pl.String}),
        },
    )
    assert df["u"].to_list() == [{"X": {"i": 1}, "X_2": None}, {"X": None, "X_2": {"s": "q"}}, None]


# --------------------------------------------------------------------------- nested


def test_nested_types(tmp_path: Path) -> None:
    item = record([{"name": "id", "type": "long"}, {"name": "tag", "type": ["null", "string"]}], name="Item")
    inner = record([{"name": "d", "type": "double"}, {"name": "e", "type": ["null", "int"]}], name="Inner")
    outer = record([{"name": "s", "type": "string"}, {"name": "inner", "type": inner}], name="Outer")
    schema = record(
        [
            {"name": "items", "type": {"type": "array", "items": item}},
            {"name": "map_of_arrays", "type": {"type": "map", "values": {"type": "array", "items": "int"}}},
            {"name": "outer", "type": outer},
            {"name": "maybe_outer", "type": ["null", "Outer"]},
            {"name": "union_items", "type": {"type": "array", "items": ["null", "int", "string"]}},
            {"name": "nullable_items", "type": {"type": "array", "items": ["null", "double"]}},
            {"name": "map_of_records", "type": ["null", {"type": "map", "values": "Item"}]},
            {"name": "matrix", "type": {"type": "array", "items": {"type": "array", "items": "long"}}},
            {
                "name": "array_of_maps",
                "type": {"type": "array", "items": {"type": "map", "values": ["null", "boolean"]}},
            },
        ]
    )
    rows = [
        {
            "items": [{"id": 1, "tag": "a"}, {"id": -(2**63), "tag": None}],
            "map_of_arrays": {"k": [1, 2], "empty": [], "ü": [-(2**31)]},
            "outer": {"s": "x", "inner": {"d": NAN, "e": None}},
            "maybe_outer": {"s": "", "inner": {"d": -INF, "e": 3}},
            "union_items": [1, None, "two", ""],
            "nullable_items": [None, 1.5, None],
            "map_of_records": {"r": {"id": 2, "tag": None}},
            "matrix": [[1, 2], [], [3]],
            "array_of_maps": [{"t": True, "n": None}, {}],
        },
        {
            "items": [],
            "map_of_arrays": {},
            "outer": {"s": "日本", "inner": {"d": 0.0, "e": 2**31 - 1}},
            "maybe_outer": None,
            "union_items": [],
            "nullable_items": [],
            "map_of_records": None,
            "matrix": [],
            "array_of_maps": [],
        },
        {
            "items": [{"id": 0, "tag": ""}],
            "map_of_arrays": {"a": [0]},
            "outer": {"s": "z", "inner": {"d": 1e300, "e": None}},
            "maybe_outer": {"s": "q", "inner": {"d": 2.0, "e": None}},
            "union_items": [None],
            "nullable_items": [None],
            "map_of_records": {},
            "matrix": [[]],
            "array_of_maps": [{}],
        },
    ]
    item_dtype = pl.Struct({"id": pl.Int64, "tag": pl.String})
    outer_dtype = pl.Struct({"s": pl.String, "inner": pl.Struct({"d": pl.Float64, "e": pl.Int32})})
    check_file(
        write_fastavro(tmp_path / "t.avro", schema, rows),
        {
            "items": pl.List(item_dtype),
            "map_of_arrays": map_of(pl.List(pl.Int32)),
            "outer": outer_dtype,
            "maybe_outer": outer_dtype,
            "union_items": pl.List(pl.Struct({"int": pl.Int32, "string": pl.String})),
            "nullable_items": pl.List(pl.Float64),
            "map_of_records": map_of(item_dtype),
            "matrix": pl.List(pl.List(pl.Int64)),
            "array_of_maps": pl.List(map_of(pl.Boolean())),
        },
    )


def test_map_values(tmp_path: Path) -> None:
    schema = record([{"name": "m", "type": {"type": "map", "values": ["null", "long"]}}])
    rows = [{"m": {"a": 1, "b": None, "": 2**63 - 1}}, {"m": {}}, {"m": {"é": -1}}]
    df = check_file(write_fastavro(tmp_path / "t.avro", schema, rows), {"m": map_of(pl.Int64())})
    if HAS_MAP:
        assert df["m"].to_list() == [{"a": 1, "b": None, "": 2**63 - 1}, {}, {"é": -1}]


# --------------------------------------------------------------------------- Apache avro

MIXED_SCHEMA = """
{"type": "record", "name": "Mixed", "namespace": "org.example", "fields": [
  {"name": "i", "type": "int"},
  {"name": "l", "type": "long"},
  {"name": "f", "type": "float"},
  {"name": "d", "type": "double"},
  {"name": "b", "type": "boolean"},
  {"name": "s", "type": "string"},
  {"name": "raw", "type": "bytes"},
  {"name": "opt", "type": ["null", "string"], "default": null},
  {"name": "e", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
  {"name": "fx", "type": {"type": "fixed", "name": "F3", "size": 3}},
  {"name": "arr", "type": {"type": "array", "items": "long"}},
  {"name": "m", "type": {"type": "map", "values": "string"}},
  {"name": "rec", "type": {"type": "record", "name": "Sub", "fields": [
     {"name": "x", "type": "int"}, {"name": "k", "type": ["null", "Kind"]}]}},
  {"name": "recs", "type": {"type": "array", "items": "Sub"}},
  {"name": "u", "type": ["null", "int", "string"]},
  {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}},
  {"name": "day", "type": {"type": "int", "logicalType": "date"}},
  {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
  {"name": "tus", "type": {"type": "long", "logicalType": "timestamp-micros"}},
  {"name": "id", "type": {"type": "string", "logicalType": "uuid"}}
]}
"""


def _mixed_rows(n: int) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        rows.append(
            {
                "i": [0, 2**31 - 1, -(2**31)][i % 3],
                "l": [0, 2**63 - 1, -(2**63)][i % 3] + (i if i % 3 == 0 else 0),
                "f": [0.5, -1.25, INF][i % 3],
                "d": [NAN, 1e-300, -0.0][i % 3],
                "b": i % 2 == 0,
                "s": ["", "plain", "ünïcødé ✓"][i % 3],
                "raw": bytes(range(i % 256)),
                "opt": None if i % 2 else f"v{i}",
                "e": "ABC"[i % 3],
                "fx": bytes([i % 256, 0, 255]),
                "arr": list(range(i % 4)),
                "m": {f"k{j}": str(j) for j in range(i % 3)},
                "rec": {"x": i, "k": None if i % 2 else "C"},
                "recs": [{"x": j, "k": "A"} for j in range(i % 2)],
                "u": [None, i, f"s{i}"][i % 3],
                "dec": Decimal(i * 1001 - 5000).scaleb(-3),
                "day": dt.date(1970, 1, 1) + dt.timedelta(days=i * 37 - 500),
                "ts": dt.datetime(2020, 1, 1, tzinfo=UTC) + dt.timedelta(milliseconds=i * 123456789),
                "tus": dt.datetime(1969, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=i * 987654321),
                "id": str(uuid.UUID(int=i * 2**100 + i)),
            }
        )
    return rows


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_apache_avro_mixed_schema(tmp_path: Path, codec: str) -> None:
    path = write_apache_avro(tmp_path / "apache.avro", MIXED_SCHEMA, _mixed_rows(50), codec=codec)
    sub = pl.Struct({"x": pl.Int32, "k": pl.Enum(["A", "B", "C"])})
    df = check_file(
        path,
        {
            "i": pl.Int32(),
            "l": pl.Int64(),
            "f": pl.Float32(),
            "d": pl.Float64(),
            "b": pl.Boolean(),
            "s": pl.String(),
            "raw": pl.Binary(),
            "opt": pl.String(),
            "e": pl.Enum(["A", "B", "C"]),
            "fx": pl.Binary(),
            "arr": pl.List(pl.Int64),
            "m": map_of(pl.String()),
            "rec": sub,
            "recs": pl.List(sub),
            "u": pl.Struct({"int": pl.Int32, "string": pl.String}),
            "dec": pl.Decimal(9, 3),
            "day": pl.Date(),
            "ts": pl.Datetime("ms", "UTC"),
            "tus": pl.Datetime("us", "UTC"),
            "id": pl.String(),
        },
    )
    assert df.height == 50
    assert polars_avro.read_avro_header(path).codec == codec


# --------------------------------------------------------------------------- container


def test_header_and_user_metadata(tmp_path: Path) -> None:
    schema = record([{"name": "a", "type": "int"}])
    path = write_fastavro(
        tmp_path / "t.avro", schema, [{"a": 1}], codec="deflate", metadata={"owner": "me", "note": "ünï ✓"}
    )
    header = polars_avro.read_avro_header(path)
    assert header.codec == "deflate"
    assert header.metadata["owner"] == b"me"
    assert header.metadata["note"] == "ünï ✓".encode()
    assert header.metadata["avro.codec"] == b"deflate"
    # What the writer added, less the format's own entries (fastavro's file, values compared).
    assert header.user_metadata == {"owner": b"me", "note": "ünï ✓".encode()}
    assert json.loads(header.metadata["avro.schema"]) == header.schema
    assert header.schema_json == header.metadata["avro.schema"].decode()
    assert header.schema == schema
    assert len(header.sync_marker) == 16
    assert path.read_bytes()[-16:] == header.sync_marker  # every block ends with it


def _codec_rows(n: int) -> list[dict[str, Any]]:
    return [
        {"i": i, "s": f"row {i} " * (i % 7), "x": None if i % 5 == 0 else i / 3, "a": list(range(i % 6))}
        for i in range(n)
    ]


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_codecs(tmp_path: Path, codec: str) -> None:
    schema = record(
        [
            {"name": "i", "type": "long"},
            {"name": "s", "type": "string"},
            {"name": "x", "type": ["null", "double"]},
            {"name": "a", "type": {"type": "array", "items": "int"}},
        ]
    )
    rows = _codec_rows(2000)
    reference = polars_avro.read_avro(write_fastavro(tmp_path / "plain.avro", schema, rows))
    path = write_fastavro(tmp_path / f"{codec}.avro", schema, rows, codec=codec, sync_interval=4000)
    assert polars_avro.read_avro_header(path).codec == codec
    df = check_file(path)
    assert_frame_equal(df, reference)


def test_many_blocks(tmp_path: Path) -> None:
    schema = record([{"name": "i", "type": "int"}, {"name": "s", "type": ["null", "string"]}])
    rows = [{"i": i, "s": None if i % 3 == 0 else "é" * (i % 11)} for i in range(3000)]
    path = write_fastavro(tmp_path / "t.avro", schema, rows, codec="deflate", sync_interval=200)
    with open(path, "rb") as f:
        n_blocks = sum(1 for _ in fastavro.block_reader(f))
    assert n_blocks > 20
    df = check_file(path)
    assert df["i"].to_list() == list(range(3000))
    assert_frame_equal(polars_avro.read_avro(path, batch_size=7), df)


# --------------------------------------------------------------------------- shapes


def test_recursive_linked_list(tmp_path: Path) -> None:
    schema = record(
        [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}],
        name="Node",
    )
    rows = [
        {"value": 1, "next": {"value": 2, "next": {"value": 3, "next": None}}},
        {"value": 4, "next": None},
        {"value": -(2**63), "next": {"value": 2**63 - 1, "next": None}},
    ]
    path = write_fastavro(tmp_path / "t.avro", schema, rows)
    df = check_file(path, {"value": pl.Int64(), "next": pl.String()})
    nexts = [None if s is None else json.loads(s) for s in df["next"].to_list()]
    assert nexts == [r["next"] for r in fastavro_records(path)]


def test_recursive_tree_json_rendering(tmp_path: Path) -> None:
    """Bytes as code points, NaN/infinities as strings, enums as symbols, unions as the
    branch value, maps as objects inside the JSON of a recursive type."""
    schema = record(
        [
            {"name": "name", "type": "string"},
            {"name": "data", "type": "bytes"},
            {"name": "score", "type": "double"},
            {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["LEAF", "NODE"]}},
            {"name": "extra", "type": ["null", "long", "string"]},
            {"name": "attrs", "type": {"type": "map", "values": "float"}},
            {"name": "children", "type": {"type": "array", "items": "Tree"}},
        ],
        name="Tree",
    )
    leaf = {
        "name": 'q"\n',
        "data": b"\x00\xff",
        "score": NAN,
        "kind": "LEAF",
        "extra": "s",
        "attrs": {"w": -INF},
        "children": [],
    }
    mid = {"name": "mid", "data": b"", "score": INF, "kind": "NODE", "extra": 7, "attrs": {}, "children": [leaf]}
    rows = [
        {
            "name": "root",
            "data": b"r",
            "score": 1.0,
            "kind": "NODE",
            "extra": None,
            "attrs": {"a": 0.5},
            "children": [mid, leaf],
        },
        {"name": "alone", "data": b"", "score": 0.0, "kind": "LEAF", "extra": None, "attrs": {}, "children": []},
    ]
    path = write_fastavro(tmp_path / "t.avro", schema, rows)
    df = check_file(path)
    assert df.schema["children"] == pl.List(pl.String)
    children = [json.loads(c) for c in df["children"][0]]
    assert children[1] == {
        "name": 'q"\n',
        "data": "\u0000\u00ff",
        "score": "NaN",
        "kind": "LEAF",
        "extra": "s",
        "attrs": {"w": "-Infinity"},
        "children": [],
    }
    assert children[0]["score"] == "Infinity"
    assert children[0]["extra"] == 7
    assert df["children"][1].to_list() == []


@pytest.mark.parametrize(
    ("schema", "values", "dtype"),
    [
        pytest.param("long", [0, -(2**63), 2**63 - 1], pl.Int64(), id="long"),
        pytest.param({"type": "array", "items": "string"}, [["a", ""], [], ["é"]], pl.List(pl.String), id="array"),
        pytest.param(["null", "string"], ["x", None, ""], pl.String(), id="nullable-string"),
        pytest.param({"type": "enum", "name": "E", "symbols": ["Z", "Y"]}, ["Y", "Z"], pl.Enum(["Z", "Y"]), id="enum"),
    ],
)
def test_top_level_not_a_record(tmp_path: Path, schema: Any, values: list[Any], dtype: pl.DataType) -> None:
    path = write_fastavro(tmp_path / "t.avro", schema, values)
    df = check_file(path, {"value": dtype})
    assert df.height == len(values)


@pytest.mark.parametrize("n", [0, 1, 5])
def test_record_without_fields(tmp_path: Path, n: int) -> None:
    path = write_fastavro(tmp_path / "t.avro", record([], name="Empty"), [{}] * n)
    df = polars_avro.read_avro(path)
    assert df.shape == (n, 0)
    assert polars_avro.read_avro_schema(path) == pl.Schema()


def test_apache_avro_and_fastavro_agree(tmp_path: Path) -> None:
    """The same records written by both writers read into equal frames."""
    rows = _mixed_rows(20)
    a = polars_avro.read_avro(write_apache_avro(tmp_path / "a.avro", MIXED_SCHEMA, rows))
    fa_rows = [{**r, "id": uuid.UUID(r["id"])} for r in rows]
    f = polars_avro.read_avro(write_fastavro(tmp_path / "f.avro", json.loads(MIXED_SCHEMA), fa_rows))
    assert_frame_equal(a, f)


def test_enum_over_many_blocks(tmp_path: Path) -> None:
    """Several blocks give several chunks; Polars 1.x needs an Enum handed over whole."""
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
            {"name": "l", "type": {"type": "array", "items": "E"}},
        ],
    }
    records = [{"e": "ABC"[i % 3], "l": ["C", "A"][: i % 3]} for i in range(2_000)]
    path = tmp_path / "enum.avro"
    with path.open("wb") as f:
        fastavro.writer(f, schema, records, sync_interval=500)
    df = polars_avro.read_avro(path, batch_size=1_000_000)
    assert df.schema == pl.Schema({"e": pl.Enum(["A", "B", "C"]), "l": pl.List(pl.Enum(["A", "B", "C"]))})
    assert df.to_dicts() == records
    filtered = pl.scan_avro(path).filter(pl.col("e") == "B").collect()
    assert filtered.to_dicts() == [r for r in records if r["e"] == "B"]


def test_scans_keep_enums_nested_or_not(tmp_path: Path) -> None:
    """Polars 1.x's IO sources hand Enum columns on as Categorical; the scan casts them back."""
    kind = {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}
    schema = record(
        [
            {"name": "k", "type": kind},
            {"name": "ks", "type": {"type": "array", "items": "Kind"}},
            {"name": "r", "type": record([{"name": "k", "type": "Kind"}], name="Inner")},
            {"name": "n", "type": "int"},
        ]
    )
    rows = [{"k": "B", "ks": ["A", "B"], "r": {"k": "A"}, "n": 1}, {"k": "A", "ks": [], "r": {"k": "B"}, "n": 2}]
    path = write_fastavro(tmp_path / "enums.avro", schema, rows)
    enum = pl.Enum(["A", "B"])
    expected = pl.Schema({"k": enum, "ks": pl.List(enum), "r": pl.Struct({"k": enum}), "n": pl.Int32})
    for engine in ("in-memory", "streaming"):
        df = pl.scan_avro(path).collect(engine=engine)
        assert df.schema == expected
        assert_frame_equal(df, polars_avro.read_avro(path))
    assert pl.scan_avro(path).filter(pl.col("k") == "A").collect()["n"].to_list() == [2]


def test_strings_and_bytes_over_64_kib_read_whole(tmp_path: Path) -> None:
    """Values longer than 64 KiB (a varint length of three bytes; a string of multi-byte
    characters; a block holding a few such records) read as fastavro reads them, by every
    route: eager, a filtered scan, batches, and a message column (issue 61, item 7)."""
    schema = {
        "type": "record",
        "name": "Blob",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "text", "type": "string"},
            {"name": "data", "type": ["null", "bytes"]},
        ],
    }
    records = [
        {
            "id": i,
            "text": ("é日x" * (30_000 + 7_000 * i))[: 70_000 + 50_000 * i],
            "data": None if i == 2 else bytes(range(256)) * (300 + 500 * i),
        }
        for i in range(5)
    ]
    path = write_fastavro(tmp_path / "big.avro", schema, records, codec="deflate", sync_interval=200_000)
    assert max(len(r["text"].encode()) for r in records) > 1 << 18
    assert_frame_matches_records(polars_avro.read_avro(path), fastavro_records(path), avro_file_schema(path))
    wanted = [r for r in records if r["id"] % 2]
    kept = pl.scan_avro(path).filter(pl.col("id") % 2 == 1).collect()  # type: ignore[attr-defined]
    assert kept.rows() == [(r["id"], r["text"], r["data"]) for r in wanted]
    batches = list(polars_avro.AvroReader(path, batch_size=2))
    assert pl.concat(batches).rows() == [(r["id"], r["text"], r["data"]) for r in records]
    parsed = fastavro.parse_schema(schema)
    messages = []
    for r in records:
        out = io.BytesIO()
        fastavro.schemaless_writer(out, parsed, r)
        messages.append(out.getvalue())
    decoded = pl.DataFrame({"m": messages}).select(pl.col("m").avro.decode(json.dumps(schema))).unnest("m")
    assert decoded.rows() == [(r["id"], r["text"], r["data"]) for r in records]
