"""Datums as JSON lines and back (``polars_avro.AvroDatums``, behind the command line's
``tojson``, ``fromjson`` and ``random``): blocks written by fastavro rendered in Avro's
JSON encoding and compared with fastavro's ``json_writer``, rendered as plain JSON and
compared with the records fastavro reads, encoded back and read by fastavro, and random
datums read by fastavro and by polars-avro."""

from __future__ import annotations

import copy
import io
import json
import math
import struct
import uuid
from pathlib import Path
from typing import Any, cast

import fastavro
import pytest
from helpers import container, json_lines, plain, read_datums, strip_logical

import polars_avro
from polars_avro import AvroDatums
from polars_avro import exceptions as exc

NS = "test.ns"

POINT = {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": "double"}]}
COLOR = {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN", "BLUE"]}
QUAD = {"type": "fixed", "name": "Quad", "size": 4}
#: Recursive through a union, nested one level in the records compared with fastavro's
#: json_writer: it recurses without end on a record that holds itself through an array or
#: map, and fails on two levels of a union (TREE, tested without it).
NODE = {
    "type": "record",
    "name": "Node",
    "fields": [{"name": "label", "type": "string"}, {"name": "next", "type": ["null", "Node"]}],
}
TREE = {
    "type": "record",
    "name": "Tree",
    "namespace": "t",
    "fields": [
        {"name": "label", "type": "string"},
        {"name": "next", "type": ["null", "Tree"]},
        {"name": "kids", "type": {"type": "array", "items": "Tree"}},
        {"name": "index", "type": {"type": "map", "values": ["Tree", "int"]}},
    ],
}

#: Every Avro type: primitives, logical types, named types, containers, unions (each of
#: whose plain values fit one branch only, so that plain JSON reads back into the same
#: branch), a recursive record.
WIDE: dict[str, Any] = {
    "type": "record",
    "name": "Wide",
    "namespace": NS,
    "fields": [
        {"name": "n", "type": "null"},
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "by", "type": "bytes"},
        {"name": "s", "type": "string"},
        {"name": "date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tus", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "ts_ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        {"name": "lts_ms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "lts_us", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "uuid_s", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "uuid_f", "type": {"type": "fixed", "name": "U16", "size": 16, "logicalType": "uuid"}},
        {"name": "dec_b", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}},
        {
            "name": "dec_f",
            "type": {"type": "fixed", "name": "D8", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 2},
        },
        {"name": "dur", "type": {"type": "fixed", "name": "Dur", "size": 12, "logicalType": "duration"}},
        {"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}},
        {"name": "color", "type": COLOR},
        {"name": "quad", "type": QUAD},
        {"name": "point", "type": POINT},
        {"name": "points", "type": {"type": "array", "items": f"{NS}.Point"}},
        {"name": "tags", "type": {"type": "map", "values": ["null", "long"]}},
        {"name": "u1", "type": ["null", "int", "string", f"{NS}.Point", {"type": "array", "items": "long"}]},
        {
            "name": "u2",
            "type": ["null", f"{NS}.Color", f"{NS}.Quad", "double", {"type": "map", "values": "boolean"}],
        },
        {"name": "u3", "type": ["bytes", "null", {"type": "long", "logicalType": "timestamp-millis"}]},
        {"name": "tree", "type": {**NODE, "namespace": "other"}},
        {"name": "nested", "type": ["null", {"type": "array", "items": {"type": "map", "values": "other.Node"}}]},
    ],
}


def leaf(label: str) -> dict[str, Any]:
    return {"label": label, "next": None}


def wide_record(k: int) -> dict[str, Any]:
    """Raw values (logical types as their underlying values) of WIDE, varied by k."""
    u1: list[Any] = [None, -(2**31), 's"\\\n€', (f"{NS}.Point", {"x": 1, "y": -0.5}), [2**63 - 1, -(2**63)]]
    u2: list[Any] = [None, (f"{NS}.Color", "GREEN"), (f"{NS}.Quad", b"\x00\x01\xfe\xff"), 1e300, {"t": True}]
    u3: list[Any] = [b"", None, 1_700_000_000_000, b"\x80"]
    return {
        "n": None,
        "b": k % 2 == 0,
        "i": [0, 1, -1, 2**31 - 1, -(2**31)][k % 5],
        "l": [0, 2**63 - 1, -(2**63), 123456789012][k % 4],
        "f": [0.0, 0.1, -3.4e38, 1e-45][k % 4],
        "d": [0.0, 0.1, -1.7976931348623157e308, 5e-324, -0.0][k % 5],
        "by": [b"", b"\x00\xff\x7f\x80", bytes(range(256))][k % 3],
        "s": ["", "plain", 'quo"te\\ \n\t\x01 é 中 😀'][k % 3],
        "date": [0, -25567, 47482][k % 3],
        "tms": [0, 86_399_999][k % 2],
        "tus": [0, 86_399_999_999][k % 2],
        "ts_ms": [0, -2_208_988_800_000, 4_133_980_799_999][k % 3],
        "ts_us": [0, -1, 1_700_000_000_123_456][k % 3],
        "ts_ns": [0, 1_700_000_000_123_456_789][k % 2],
        "lts_ms": [0, 1_700_000_000_000][k % 2],
        "lts_us": [0, -62_135_596_800_000_000][k % 2],
        "uuid_s": "123e4567-e89b-42d3-a456-426614174000",
        "uuid_f": bytes(range(16)),
        "dec_b": [b"\x00", b"\xff", b"\x01\xe2\x40", b"\xe8\xd4\xa5\x10\x00"][k % 4],
        "dec_f": [bytes(8), b"\xff" * 8, b"\x00\x00\x00\x00\x00\x01\xe2\x40"][k % 3],
        "dur": [bytes(12), struct.pack("<III", 14, 3, 86_399_999)][k % 2],
        "big": [b"\x02\x01\x00", b"\x04\xff\x38\x04"][k % 2],
        "color": COLOR["symbols"][k % 3],
        "quad": b"\x00\x00\x00\x00" if k % 2 else b"\xff\x00\x7fA",
        "point": {"x": k, "y": k / 4},
        "points": [{"x": j, "y": -j / 8} for j in range(k % 3)],
        "tags": [{}, {"a": 1, "b": None}, {"": -(2**63), "é": 2**63 - 1}][k % 3],
        "u1": u1[k % len(u1)],
        "u2": u2[k % len(u2)],
        "u3": u3[k % len(u3)],
        "tree": {"label": "root", "next": [None, leaf("n1")][k % 2]},
        "nested": [None, [], [{}, {"k": leaf("x"), "l": leaf("z")}]][k % 3],
    }


RAW = fastavro.parse_schema(strip_logical(copy.deepcopy(WIDE)))
RECORDS = [wide_record(k) for k in range(30)]


def blocks_of(schema: Any, records: list[Any], tmp_path: Path) -> list[tuple[bytes, int]]:
    """The decompressed bytes and record count of each block of a file fastavro writes."""
    path = tmp_path / "data.avro"
    with path.open("wb") as fo:
        fastavro.writer(fo, schema, records, codec="null", sync_interval=2000)
    with path.open("rb") as fo:
        # Block.bytes_ (the decompressed bytes) is missing from fastavro's type stubs.
        return [(cast(Any, block).bytes_.getvalue(), block.num_records) for block in fastavro.block_reader(fo)]


def datums(schema: Any, records: list[Any]) -> bytes:
    fo = io.BytesIO()
    for r in records:
        fastavro.schemaless_writer(fo, schema, r)
    return fo.getvalue()


def fastavro_avro_json(schema: Any, records: list[Any]) -> list[Any]:
    out = io.StringIO()
    fastavro.json_writer(out, schema, records)
    return [json.loads(line) for line in out.getvalue().split("\n")]


@pytest.fixture(scope="module")
def wide() -> AvroDatums:
    return AvroDatums(WIDE)


def test_avro_json_rendering_is_what_fastavro_json_writer_writes(wide: AvroDatums, tmp_path: Path) -> None:
    blocks = blocks_of(RAW, RECORDS, tmp_path)
    assert len(blocks) > 1
    rendered = [line for data, count in blocks for line in json_lines(wide.to_json(data, count, avro_json=True))]
    # The records as fastavro reads them back (floats widened), named union branches as
    # (name, value), so that json_writer picks the branch they were written as.
    data = b"".join(data for data, _ in blocks)
    records = read_datums(RAW, data, return_named_type=True)
    assert rendered == fastavro_avro_json(RAW, records)
    # The union wrappers name full names, primitive types and logical types' underlying types.
    assert {next(iter(r["u2"])) for r in rendered if r["u2"]} == {f"{NS}.Color", f"{NS}.Quad", "double", "map"}
    assert {next(iter(r["u3"])) for r in rendered if r["u3"]} == {"bytes", "long"}
    assert rendered[1]["tree"]["next"] == {"other.Node": {"label": "n1", "next": None}}


def test_plain_rendering_is_the_records_fastavro_reads(wide: AvroDatums, tmp_path: Path) -> None:
    blocks = blocks_of(RAW, RECORDS, tmp_path)
    rendered = [line for data, count in blocks for line in json_lines(wide.to_json(data, count, avro_json=False))]
    data = b"".join(data for data, _ in blocks)
    assert rendered == plain(read_datums(RAW, data))
    assert rendered[2]["by"] == bytes(range(256)).decode("latin-1")
    assert rendered[3]["u1"] == {"x": 1, "y": -0.5}


@pytest.mark.parametrize("avro_json", [True, False], ids=["avro-json", "plain"])
def test_encoding_reads_back_byte_for_byte(wide: AvroDatums, avro_json: bool) -> None:
    data = datums(RAW, RECORDS)
    text = wide.to_json(data, len(RECORDS), avro_json=avro_json)
    # Blank lines are skipped; a line may end in \r\n.
    lines = text.replace(b"\n", b"\r\n\n  \n", 3)
    assert wide.from_json(lines, avro_json=avro_json) == (data, len(RECORDS))
    assert read_datums(RAW, wide.from_json(text, avro_json=avro_json)[0]) == read_datums(RAW, data)


def test_fastavro_json_writer_output_encodes_to_the_same_records(wide: AvroDatums) -> None:
    records = read_datums(RAW, datums(RAW, RECORDS), return_named_type=True)
    out = io.StringIO()
    fastavro.json_writer(out, RAW, records)
    encoded, count = wide.from_json(out.getvalue().encode(), avro_json=True)
    assert count == len(RECORDS)
    assert encoded == datums(RAW, RECORDS)
    # And fastavro's json_reader reads what we render.
    rendered = wide.to_json(encoded, count, avro_json=True).decode()
    assert list(fastavro.json_reader(io.StringIO(rendered), RAW)) == read_datums(RAW, encoded)


def test_plain_json_of_other_tools_encodes_with_defaults() -> None:
    """Plain JSON as another tool writes it: union values bare, fields with defaults left out."""
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "v", "type": ["null", "int", "double", "string"], "default": None},
            {"name": "e", "type": COLOR, "default": "BLUE"},
            {"name": "q", "type": ["null", QUAD, "bytes"]},
            {"name": "m", "type": {"type": "map", "values": "string"}, "default": {"k": "v"}},
        ],
    }
    text = b'{"id": 1, "q": null}\n{"id": 2, "v": 7, "e": "RED", "q": "abcd"}\n{"id": 3, "v": 7.5, "q": "abc"}\n'
    text += (
        b'{"id": 4, "v": "x", "q": "\\u00ff\\u0000\\u0001\\u0002", "m": {}}\n{"id": 5, "v": 3000000000, "q": null}\n'
    )
    encoded, count = AvroDatums(schema).from_json(text, avro_json=False, first_line=10)
    assert count == 5
    records = read_datums(fastavro.parse_schema(schema), encoded, return_named_type=True)
    assert records == [
        {"id": 1, "v": None, "e": "BLUE", "q": None, "m": {"k": "v"}},
        {"id": 2, "v": 7, "e": "RED", "q": ("Quad", b"abcd"), "m": {"k": "v"}},
        {"id": 3, "v": 7.5, "e": "BLUE", "q": b"abc", "m": {"k": "v"}},
        {"id": 4, "v": "x", "e": "BLUE", "q": ("Quad", b"\xff\x00\x01\x02"), "m": {}},
        {"id": 5, "v": 3000000000.0, "e": "BLUE", "q": None, "m": {"k": "v"}},
    ]


def test_non_finite_floats_are_strings_both_ways() -> None:
    schema = {"type": "array", "items": ["float", "double"]}
    values = [[("float", math.inf)], [("double", -math.inf)], [("double", math.nan), ("float", 1.5)]]
    fo = io.BytesIO()
    for v in values:
        fastavro.schemaless_writer(fo, fastavro.parse_schema(schema), v)
    codec = AvroDatums(schema)
    text = codec.to_json(fo.getvalue(), 3, avro_json=True)
    assert json_lines(text) == [[{"float": "Infinity"}], [{"double": "-Infinity"}], [{"double": "NaN"}, {"float": 1.5}]]
    assert json_lines(codec.to_json(fo.getvalue(), 3, avro_json=False)) == [["Infinity"], ["-Infinity"], ["NaN", 1.5]]
    assert codec.from_json(text, avro_json=True) == (fo.getvalue(), 3)


def test_random_datums_are_valid_deterministic_and_cover_every_branch(wide: AvroDatums) -> None:
    count = 400
    data = wide.random(count, seed=42)
    assert wide.random(count, seed=42) == data
    assert wide.random(count, seed=43) != data
    # Made in parts, the same datums.
    first = wide.random(150, seed=42)
    assert first + wide.random(count - 150, seed=42, first=150) == data
    # fastavro reads them, logical types included (dates, UUIDs, decimals, timestamps).
    logical = read_datums(fastavro.parse_schema(copy.deepcopy(WIDE)), data)
    assert len(logical) == count
    assert all(isinstance(r["uuid_s"], uuid.UUID) for r in logical)
    raw = read_datums(RAW, data)
    assert json_lines(wide.to_json(data, count, avro_json=False)) == plain(raw)
    rendered = json_lines(wide.to_json(data, count, avro_json=True))
    for field, branches in [
        ("u1", {None, "int", "string", f"{NS}.Point", "array"}),
        ("u2", {None, f"{NS}.Color", f"{NS}.Quad", "double", "map"}),
        ("u3", {None, "bytes", "long"}),
    ]:
        assert {None if r[field] is None else next(iter(r[field])) for r in rendered} == branches
    assert {r["color"] for r in rendered} == set(COLOR["symbols"])
    assert any(r["tree"]["next"] is not None for r in rendered)
    assert wide.from_json(wide.to_json(data, count, avro_json=True), avro_json=True) == (data, count)


def test_random_datums_are_read_by_polars_avro(wide: AvroDatums) -> None:
    count = 300
    data = wide.random(count, seed=7)
    df = polars_avro.read_avro(container(json.dumps(WIDE).encode(), [(count, data)]))
    assert df.height == count
    logical = read_datums(fastavro.parse_schema(copy.deepcopy(WIDE)), data)
    assert df["i"].to_list() == [r["i"] for r in logical]
    assert df["date"].to_list() == [r["date"] for r in logical]
    assert df["uuid_s"].to_list() == [str(r["uuid_s"]) for r in logical]
    assert [str(v) for v in df["dec_b"].to_list()] == [str(r["dec_b"]) for r in logical]


def test_a_recursive_schema_ends_and_a_bottomless_one_is_refused() -> None:
    """A record holding itself through a union, an array and a map: random datums end,
    nest, and read back as fastavro reads them."""
    codec = AvroDatums(TREE)
    data = codec.random(300, seed=1)
    records = read_datums(fastavro.parse_schema(copy.deepcopy(TREE)), data)
    assert len(records) == 300

    def depth(node: Any) -> int:
        below = ([node["next"]] if node["next"] else []) + node["kids"]
        below += [v for v in node["index"].values() if isinstance(v, dict)]
        return 1 + max((depth(n) for n in below), default=0)

    assert max(depth(r) for r in records) > 4
    assert json_lines(codec.to_json(data, 300, avro_json=False)) == records
    for avro_json in (True, False):
        assert codec.from_json(codec.to_json(data, 300, avro_json=avro_json), avro_json=avro_json) == (data, 300)
    bottomless = {"type": "record", "name": "B", "fields": [{"name": "b", "type": "B"}]}
    with pytest.raises(exc.AvroSchemaError, match="no finite value"):
        AvroDatums(bottomless).random(1, seed=0)


SMALL = {
    "type": "record",
    "name": "S",
    "namespace": "n",
    "fields": [
        {"name": "i", "type": "int"},
        {
            "name": "u",
            "type": ["null", "string", {"type": "record", "name": "In", "fields": [{"name": "k", "type": "long"}]}],
        },
        {"name": "e", "type": COLOR},
        {"name": "a", "type": {"type": "array", "items": "In"}},
    ],
}
GOOD = '{"i": 1, "u": null, "e": "RED", "a": []}'


@pytest.mark.parametrize(
    ("line", "avro_json", "expected"),
    [
        ('{"i": 1, "u": nul', True, r"line 12, column \d+: expected a JSON value, found invalid JSON"),
        ('{"i": 1, "u": "x", "e": "RED", "a": []}', True, r"line 12, field 'u': expected a union value .* found \"x\""),
        (
            '{"i": 1, "u": {"In": {"k": 1}}, "e": "RED", "a": []}',
            True,
            r"line 12, field 'u': .*naming one branch of null, string, n.In\), found the branch name \"In\"",
        ),
        (
            '{"i": 2147483648, "u": null, "e": "RED", "a": []}',
            True,
            r"line 12, field 'i': expected an int .*found 2147483648",
        ),
        (
            '{"u": null, "e": "RED", "a": []}',
            False,
            r"line 12, field 'i': expected the field .* missing \(it has no default\)",
        ),
        (
            '{"i": 1, "u": null, "e": "PINK", "a": []}',
            False,
            r"field 'e': expected a symbol of enum 'n.Color' \(RED, GREEN, BLUE\), found \"PINK\"",
        ),
        ('{"i": 1, "u": null, "e": "RED", "a": [{"k": 1}, {"k": "2"}]}', False, r"field 'a\[1\]\.k': expected a long"),
        ('{"i": 1, "u": 5, "e": "RED", "a": []}', False, r"field 'u': expected a value of one of the union's branches"),
    ],
    ids=[
        "bad-json",
        "unwrapped-union",
        "short-branch-name",
        "int-range",
        "missing-field",
        "enum-symbol",
        "path",
        "no-branch",
    ],
)
def test_json_errors_name_the_line_the_field_and_what_was_found(line: str, avro_json: bool, expected: str) -> None:
    text = f"{GOOD}\n\n{line}\n{GOOD}\n".encode()
    with pytest.raises(exc.AvroEncodeError, match=expected):
        AvroDatums(SMALL).from_json(text, avro_json=avro_json, first_line=10)


def test_binary_errors_name_the_record_and_the_byte() -> None:
    codec = AvroDatums(SMALL)
    longer = '{"i": 1, "u": {"string": "abcdef"}, "e": "RED", "a": []}'
    data, count = codec.from_json(f"{GOOD}\n{longer}\n".encode(), avro_json=True)
    with pytest.raises(exc.AvroDecodeError, match=r"record 1 of the block \(from byte 4\): the block data ended"):
        codec.to_json(data[:-1], count, avro_json=True)
    # A count the bytes cannot hold is refused before anything is rendered.
    with pytest.raises(exc.AvroFormatError, match=r"block claims 5 records but its 14 decompressed bytes"):
        codec.to_json(data[:-1], 5, avro_json=True)
    with pytest.raises(exc.AvroDecodeError, match=r"1 bytes left over"):
        codec.to_json(data + b"\x00", count, avro_json=False)
    bad_branch = data[:1] + b"\x08" + data[2:]
    with pytest.raises(exc.AvroDecodeError, match=r"record 0 .*union branch index between 0 and 2 .* found 4"):
        codec.to_json(bad_branch, count, avro_json=True)
    bad_symbol = data[:2] + b"\x06" + data[3:]
    with pytest.raises(exc.AvroDecodeError, match=r"record 0 .*enum index between 0 and 2 .* found 3"):
        codec.to_json(bad_symbol, count, avro_json=False)
    with pytest.raises(exc.AvroSchemaError):
        AvroDatums('{"type": "record"}')
