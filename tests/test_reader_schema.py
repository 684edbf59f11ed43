"""Reading with a reader schema (the specification's schema resolution), checked against
fastavro reading the same bytes with the same reader schema."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import assert_frame_matches_records

import polars_avro
from polars_avro import AvroDecodeError, AvroSchemaError, AvroSchemaMismatchError

WRITER = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "score", "type": "float"},
        {"name": "count", "type": ["null", "int"]},
        {"name": "old_name", "type": "string"},
        {"name": "dropped", "type": {"type": "array", "items": "long"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
        {"name": "payload", "type": "string"},
        {
            "name": "points",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "P",
                    "fields": [{"name": "x", "type": "int"}, {"name": "gone", "type": "string"}],
                },
            },
        },
        {"name": "tags", "type": {"type": "map", "values": "int"}},
        {"name": "u", "type": ["null", "int", "string"]},
    ],
}

#: Every kind of change the specification resolves.
READER = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},  # int promoted to long
        {"name": "new_field", "type": "string", "default": "none"},  # added, with a default
        {"name": "score", "type": "double"},  # float promoted to double
        {"name": "count", "type": ["null", "double"], "default": None},  # promoted inside a union
        {"name": "new_name", "aliases": ["old_name"], "type": "string"},  # renamed, by alias
        # "dropped" is gone: skipped
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["B", "A"], "default": "B"}},
        {"name": "payload", "type": "bytes"},  # string read as bytes
        {
            "name": "points",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "P",
                    "fields": [
                        {"name": "x", "type": "long"},
                        {"name": "y", "type": ["null", "float"], "default": None},
                    ],
                },
            },
        },
        {"name": "tags", "type": {"type": "map", "values": "double"}},
        {"name": "u", "type": ["null", "string", "long"]},  # branches reordered, int promoted
        {
            "name": "nested_default",
            "type": {
                "type": "record",
                "name": "D",
                "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": {"type": "array", "items": "string"}}],
            },
            "default": {"a": 7, "b": ["x", "y"]},
        },
    ],
}


def records(n: int, offset: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "score": i / 2,
            "count": None if i % 3 == 0 else i,
            "old_name": f"n{i}",
            "dropped": [i, i + 1],
            "kind": "ABC"[i % 3],
            "payload": f"p{i}",
            "points": [{"x": i, "gone": "g"}] * (i % 3),
            "tags": {"k": i, "j": -i},
            "u": [None, i, str(i)][i % 3],
        }
        for i in range(offset, offset + n)
    ]


def written(schema: Any, rows: list[dict[str, Any]], codec: str = "null", **kw: Any) -> bytes:
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, rows, codec=codec, **kw)
    return buffer.getvalue()


def resolved_by_fastavro(data: bytes, reader: Any) -> list[dict[str, Any]]:
    return list(fastavro.reader(io.BytesIO(data), reader_schema=reader))


@pytest.mark.parametrize("codec", ["null", "deflate", "snappy"])
@pytest.mark.parametrize("as_text", [False, True])
def test_every_resolution_rule_matches_fastavro(codec: str, as_text: bool) -> None:
    data = written(WRITER, records(300), codec, sync_interval=500)
    reader = json.dumps(READER) if as_text else READER
    df = polars_avro.read_avro(data, reader_schema=reader)
    assert df.columns == [f["name"] for f in READER["fields"]]
    assert_frame_matches_records(df, resolved_by_fastavro(data, READER), READER)
    assert df["kind"].dtype == pl.Enum(["B", "A"])  # C is not a reader symbol: the default
    assert df["kind"].to_list()[:3] == ["A", "B", "B"]


def test_files_with_different_writer_schemas_read_as_one_frame() -> None:
    """Version 2 added fields (with defaults) and promoted one; files of both versions are
    read together into version 2's shape."""
    v1 = record(field("id", "int"), field("score", "float"), name="Event")
    v2 = record(
        field("id", "long"),
        field("score", "double"),
        field("label", "string", default="unlabelled"),
        field("weights", {"type": "map", "values": "float"}, default={"w": 1.5}),
        name="Event",
    )
    old = written(v1, [{"id": i, "score": i / 4} for i in range(50)], "deflate")
    new = written(
        v2, [{"id": i, "score": i / 4, "label": f"l{i}", "weights": {"a": i}} for i in range(50, 90)], "snappy"
    )
    df = pl.scan_avro([old, new], reader_schema=v2, row_index_name="i").collect()
    assert df.height == 90 and df["i"].to_list() == list(range(90))
    expected = resolved_by_fastavro(old, v2) + resolved_by_fastavro(new, v2)
    assert_frame_matches_records(df.drop("i"), expected, v2)
    assert df["label"][0] == "unlabelled" and df["label"][89] == "l89"
    # Without a reader schema, with every header read, the files are unified by themselves:
    # the fields version 1 lacks are filled from the defaults version 2 declares, as the
    # reader schema does; and so with the newest file first, by the first file's rule.
    unified = pl.scan_avro([old, new], schema_from="all").collect()
    assert unified.equals(df.drop("i"))
    newest_first = pl.scan_avro([new, old]).collect()
    assert newest_first.equals(pl.concat([df.drop("i")[50:], df.drop("i")[:50]]))
    # A field declared without a default needs missing_columns='insert', and reads as
    # nulls where it is missing.
    v3 = record(field("id", "long"), field("score", "double"), field("label", "string"), name="Event")
    newest = written(v3, [{"id": 90, "score": 1.0, "label": "x"}])
    with pytest.raises(AvroSchemaMismatchError, match="has no column 'label'.* missing_columns='insert'"):
        pl.scan_avro([old, newest], schema_from="all")
    inserted = pl.scan_avro([old, newest], schema_from="all", missing_columns="insert").collect()
    assert inserted["label"][0] is None and inserted["label"][50] == "x"
    with pytest.raises(AvroSchemaMismatchError, match="has no column 'label'.* missing_columns='insert'"):
        polars_avro.read_avro([newest, old])
    inserted = pl.scan_avro([newest, old], missing_columns="insert").collect()
    assert inserted["label"][0] == "x" and inserted["label"][1] is None


def test_pushdown_with_a_reader_schema() -> None:
    data = written(WRITER, records(1000), "deflate", sync_interval=2000)
    lf = pl.scan_avro(data, reader_schema=READER)
    assert lf.collect_schema()["score"] == pl.Float64
    out = lf.filter(pl.col("score") > 400.0).select("new_name", "nested_default", "id").collect()
    assert out["id"].to_list() == list(range(801, 1000))
    assert out["new_name"].to_list()[0] == "n801"
    assert out["nested_default"].to_list()[0] == {"a": 7, "b": ["x", "y"]}
    assert lf.select("new_field").head(3).collect()["new_field"].to_list() == ["none"] * 3
    streamed = lf.select("id", "u").collect(engine="streaming")
    assert streamed.equals(lf.select("id", "u").collect())


def test_a_single_type_read_into_a_union_of_several() -> None:
    writer = record(field("a", "string"), field("b", "int"), name="Event")
    reader = record(field("a", ["null", "string", "long"]), field("b", ["string", "double"]), name="Event")
    data = written(writer, [{"a": "x", "b": 1}, {"a": "", "b": -2}])
    df = polars_avro.read_avro(data, reader_schema=reader)
    assert df.schema["a"] == pl.Struct({"string": pl.String, "long": pl.Int64})
    assert df["b"].to_list() == [{"string": None, "double": 1.0}, {"string": None, "double": -2.0}]
    assert_frame_matches_records(df, resolved_by_fastavro(data, reader), reader)


def test_top_level_non_records_resolve() -> None:
    data = written("int", [1, -2, 3])
    df = polars_avro.read_avro(data, reader_schema='"double"')
    assert df["value"].dtype == pl.Float64 and df["value"].to_list() == [1.0, -2.0, 3.0]


def test_identical_schemas_change_nothing() -> None:
    data = written(WRITER, records(100), "snappy")
    assert polars_avro.read_avro(data, reader_schema=WRITER).equals(polars_avro.read_avro(data))


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **extra}


def record(*fields: dict[str, Any], name: str = "R") -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": list(fields)}


@pytest.mark.parametrize(
    ("writer", "value", "reader", "words"),
    [
        (
            record(field("a", "int")),
            1,
            record(field("b", "int")),
            "the reader's field 'b' is not in the writer's schema and has no default",
        ),
        (
            record(field("a", "string")),
            "x",
            record(field("a", "int")),
            "at 'a': the writer's string cannot be read as the reader's int",
        ),
        (
            record(field("a", "long")),
            1,
            record(field("a", "int")),
            "at 'a': the writer's long cannot be read as the reader's int",
        ),
        (
            record(field("a", record(field("x", "int"), name="P"))),
            {"x": 1},
            record(field("a", record(field("x", "int"), name="Q"))),
            "at 'a': the writer's type is named 'P' and the reader's 'Q'",
        ),
        (
            record(field("a", {"type": "fixed", "name": "F", "size": 4})),
            b"abcd",
            record(field("a", {"type": "fixed", "name": "F", "size": 8})),
            "at 'a': the writer's fixed has 4 bytes, the reader's 8",
        ),
        (
            record(field("a", "int")),
            1,
            record(field("a", "int"), field("b", "int", default="x")),
            "the default of 'b': expected an int (a whole number from -2147483648 to 2147483647), found \"x\"",
        ),
        (
            record(field("a", ["int", "boolean"])),
            1,
            record(field("a", "string")),
            "at 'a': no branch of the writer's union [int, boolean] can be read as the reader's string",
        ),
        (record(field("a", "int")), 1, '"int"', "must both be records, or both not"),
    ],
)
def test_incompatible_schemas_name_the_field(writer: Any, value: Any, reader: Any, words: str) -> None:
    data = written(writer, [{"a": value}])
    with pytest.raises(AvroSchemaError) as info:
        polars_avro.read_avro(data, reader_schema=reader)
    assert words in str(info.value), str(info.value)


def test_values_the_reader_cannot_take_fail_where_they_are() -> None:
    enum = {"type": "enum", "name": "E", "symbols": ["A", "B"]}
    data = written(record(field("e", enum)), [{"e": "A"}, {"e": "B"}])
    narrower = record(field("e", {"type": "enum", "name": "E", "symbols": ["A"]}))
    with pytest.raises(
        AvroDecodeError,
        match="record 1 of the block: the writer's enum symbol 1 .* is not a symbol of the reader's enum",
    ) as info:
        polars_avro.read_avro(data, reader_schema=narrower)
    assert info.value.block == 0
    data = written(record(field("a", ["null", "int"])), [{"a": 1}, {"a": None}])
    with pytest.raises(
        AvroDecodeError, match="record 1 of the block: the writer's value is null, but the reader's schema has no null"
    ):
        polars_avro.read_avro(data, reader_schema=record(field("a", "long")))
    assert polars_avro.read_avro(data, reader_schema=record(field("a", "long")), n_rows=1)["a"].to_list() == [1]


def test_an_invalid_reader_schema_says_so() -> None:
    data = written(record(field("a", "int")), [{"a": 1}])
    with pytest.raises(AvroSchemaError, match="the reader schema: "):
        polars_avro.read_avro(data, reader_schema="{not json")


def test_named_types_resolve_by_the_readers_aliases() -> None:
    """Records, enums and fixed renamed in the reader, found by their aliases (full names,
    or relative to the reader type's namespace), wherever they are: a field, an array's
    items, a union's branch."""
    point = record(field("x", "int"), field("y", "string"), name="old.Point")
    color = {"type": "enum", "name": "Color", "namespace": "old", "symbols": ["RED", "GREEN"]}
    digest = {"type": "fixed", "name": "old.Digest", "size": 4}
    writer = record(
        field("p", point),
        field("c", color),
        field("d", digest),
        field("ps", {"type": "array", "items": "old.Point"}),
        field("u", ["null", "int", "old.Point"]),
        field("cs", ["null", "old.Color"]),
        name="Event",
    )
    new_point = {
        "type": "record",
        "name": "Point",
        "namespace": "new",
        "aliases": ["old.Point"],
        "fields": [field("y", "string"), field("x", "long")],
    }
    new_color = {"type": "enum", "name": "new.Hue", "aliases": ["old.Color"], "symbols": ["GREEN", "RED"]}
    # Relative to the reader type's namespace: "Digest" in namespace "old" is old.Digest.
    new_digest = {"type": "fixed", "name": "Hash", "namespace": "old", "aliases": ["Digest"], "size": 4}
    reader = record(
        field("p", new_point),
        field("c", new_color),
        field("d", new_digest),
        field("ps", {"type": "array", "items": "new.Point"}),
        field("u", ["null", "int", "new.Point"]),
        field("cs", ["null", "new.Hue"]),
        name="Event",
    )
    rows = [
        {
            "p": {"x": i, "y": f"y{i}"},
            "c": ["RED", "GREEN"][i % 2],
            "d": bytes([i, i + 1, i + 2, i + 3]),
            "ps": [{"x": -i, "y": "a"}] * (i % 3),
            "u": [None, i, {"x": i, "y": "u"}][i % 3],
            "cs": [None, "GREEN", "RED"][i % 3],
        }
        for i in range(20)
    ]
    data = written(writer, rows)
    df = polars_avro.read_avro(data, reader_schema=reader)
    assert_frame_matches_records(df, resolved_by_fastavro(data, reader), reader)
    assert df.schema["p"] == pl.Struct({"y": pl.String, "x": pl.Int64})
    assert df.schema["u"] == pl.Struct({"int": pl.Int32, "Point": pl.Struct({"y": pl.String, "x": pl.Int64})})
    assert df["c"].dtype == pl.Enum(["GREEN", "RED"]) and df["c"].to_list()[:2] == ["RED", "GREEN"]
    assert df["u"][2] == {"int": None, "Point": {"y": "u", "x": 2}}

    # An alias is a full name: "Point" in namespace "new" is new.Point, not old.Point.
    not_it = record(field("p", {**new_point, "name": "Spot", "aliases": ["Point"]}), name="Event")
    with pytest.raises(
        AvroSchemaError, match=r"at 'p': the writer's type is named 'old.Point' and the reader's 'new.Spot' \(with"
    ):
        polars_avro.read_avro(data, reader_schema=not_it)
    other = record(field("u", ["null", "int", {**new_point, "name": "Other", "aliases": []}]), name="Event")
    with pytest.raises(AvroDecodeError, match="matches no branch of the reader's union"):
        polars_avro.read_avro(data, reader_schema=other)


def test_a_union_of_several_types_read_as_one_type() -> None:
    """Each writer branch the reader's type matches is read as it (promoted as its own
    type promotes), into one column; a value of a branch it does not match is a decode
    error at that row."""
    a = record(field("x", "int"), name="A")
    b = record(field("y", "string"), name="B")
    writer = record(
        field("n", ["int", "long"]),
        field("f", ["int", "float", "null", "double"]),
        field("s", ["null", "string", "bytes"]),
        field("r", [a, b]),
        field("list", {"type": "array", "items": ["long", "int"]}),
        field("m", {"type": "map", "values": ["float", "int"]}),
        name="Event",
    )
    rows = [
        {
            "n": [i, 2**40 + i][i % 2],
            "f": [i, ("float", i + 0.5), None, ("double", -i / 3)][i % 4],
            "s": [None, f"s{i}", f"b{i}".encode()][i % 3],
            "r": {"x": i},
            "list": [("int", i), 2**35],
            "m": {"a": ("int", i), "b": 1.25},
        }
        for i in range(40)
    ]
    data = written(writer, rows)  # ("type", value): the branch fastavro writes
    reader = record(
        field("n", "long"),
        field("f", ["null", "double"]),
        field("s", ["null", "string"]),
        field("r", record(field("x", "long"), name="A")),
        field("list", {"type": "array", "items": "double"}),
        field("m", {"type": "map", "values": "double"}),
        name="Event",
    )
    df = polars_avro.read_avro(data, reader_schema=reader)
    assert_frame_matches_records(df, resolved_by_fastavro(data, reader), reader)
    assert df.schema["n"] == pl.Int64 and df["n"].to_list()[:2] == [0, 2**40 + 1]
    assert df.schema["f"] == pl.Float64 and df["f"].to_list()[:4] == [0.0, 1.5, None, -1.0]
    # Each branch was written (the file read as it is shows which one each value took).
    assert polars_avro.read_avro(data)["f"].to_list()[:4] == [
        {"int": 0, "float": None, "double": None},
        {"int": None, "float": 1.5, "double": None},
        None,
        {"int": None, "float": None, "double": -1.0},
    ]
    assert df["s"].to_list()[:3] == [None, "s1", "b2"]
    assert df["r"].to_list()[:2] == [{"x": 0}, {"x": 1}]
    # Small batches: the merge of the branch columns is right across batch boundaries.
    assert polars_avro.read_avro(data, reader_schema=reader, batch_size=3).equals(df)

    # Without a null in the reader's type a null is an error where it is.
    with pytest.raises(
        AvroDecodeError,
        match=r"record 2 of the block: the writer's union branch 2 holds a null, which the reader's double cannot take",
    ):
        polars_avro.read_avro(data, reader_schema=record(field("f", "double"), name="Event"))
    # A B among the A's: an error at that row, naming both.
    mixed = written(writer, [{**rows[0], "r": {"x": 1}}, {**rows[0], "r": {"y": "b"}}])
    with pytest.raises(
        AvroDecodeError, match="record 1 of the block: the writer's union branch 1 holds a B, which the reader's A"
    ):
        polars_avro.read_avro(mixed, reader_schema=record(field("r", record(field("x", "long"), name="A"))))
    only_a = polars_avro.read_avro(
        mixed, reader_schema=record(field("r", record(field("x", "long"), name="A"))), n_rows=1
    )
    assert only_a["r"].to_list() == [{"x": 1}]


def test_several_writer_branches_read_as_one_branch_of_the_readers_union() -> None:
    """Writer [null, int, long, string] into reader [null, long, string]: int and long both
    go to the reader's long."""
    writer = record(field("u", ["null", "int", "long", "string"]), name="Event")
    reader = record(field("u", ["null", "long", "string"]), name="Event")
    rows = [{"u": [None, i, 2**40 + i, f"s{i}"][i % 4]} for i in range(30)]
    data = written(writer, rows)
    df = polars_avro.read_avro(data, reader_schema=reader)
    assert df.schema["u"] == pl.Struct({"long": pl.Int64, "string": pl.String})
    assert_frame_matches_records(df, resolved_by_fastavro(data, reader), reader)
    assert df["u"].to_list()[:4] == [
        None,
        {"long": 1, "string": None},
        {"long": 2**40 + 2, "string": None},
        {"long": None, "string": "s3"},
    ]
    assert polars_avro.read_avro(data, reader_schema=reader, batch_size=5).equals(df)


def _same_json(mine: str | None, theirs: Any) -> bool:
    """Whether polars-avro's JSON text of a recursive value is fastavro's value."""
    return (None if mine is None else json.loads(mine)) == theirs


LIST_WRITER = record(
    field("value", "int"),
    field("label", "string"),
    field("old", ["null", "string"]),
    field("kind", {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}),
    field("score", "float"),
    field("next", ["null", "Node"]),
    name="Node",
)

#: The reader's default for a list's origin: every field given (fastavro does not fill the
#: defaults of a default's fields), its own origin too (else it would be the default of itself).
ORIGIN = {
    "value": 0,
    "tag": "o",
    "extra": 2.5,
    "note": None,
    "kind": "C",
    "score": 0.5,
    "next": None,
    "prev": None,
    "origin": None,
}

LIST_READER = record(
    field("value", "long"),  # promoted
    field("tag", "string", aliases=["label"]),  # renamed, found by alias
    field("extra", "double", default=1.5),  # added, with a default
    field("note", ["null", "string"], default=None),  # added, with a null default
    # "old" is gone: skipped
    field("kind", {"type": "enum", "name": "Kind", "symbols": ["C", "A"], "default": "A"}),
    field("score", "double"),  # promoted
    field("next", ["null", "Node"]),
    # Added, of the recursive type itself: defaults are rendered as JSON text too.
    field("prev", ["null", "Node"], default=None),
    field("origin", ["Node", "null"], default=ORIGIN),
    name="Node",
)


def _linked_list(i: int, length: int) -> dict[str, Any] | None:
    if length == 0:
        return None
    return {
        "value": i * 10 + length,
        "label": f'l"{i}\n{length}',
        "old": None if length % 2 else "o",
        "kind": "ABC"[(i + length) % 3],
        "score": (i + length) / 4,
        "next": _linked_list(i, length - 1),
    }


def test_a_recursive_record_read_with_a_reader_schema() -> None:
    """Values of a recursive type read with a reader schema are the JSON text of the
    reader's type: fields by name or alias in the reader's order, writer-only fields
    skipped, reader-only ones their defaults, promotions and enum symbols as resolved."""
    rows = [_linked_list(i, i % 4 + 1) for i in range(12)]
    data = written(LIST_WRITER, rows)
    df = polars_avro.read_avro(data, reader_schema=LIST_READER)
    expected = resolved_by_fastavro(data, LIST_READER)
    assert df.schema == pl.Schema(
        {
            "value": pl.Int64,
            "tag": pl.String,
            "extra": pl.Float64,
            "note": pl.String,
            "kind": pl.Enum(["C", "A"]),
            "score": pl.Float64,
            "next": pl.String,
            "prev": pl.String,
            "origin": pl.String,
        }
    )
    recursive = ["next", "prev", "origin"]
    assert df.drop(recursive).to_dicts() == [{k: v for k, v in r.items() if k not in recursive} for r in expected]
    for name in recursive:
        texts = df[name].to_list()
        assert all(_same_json(mine, r[name]) for mine, r in zip(texts, expected)), (name, texts[:3], expected[:3])
    nexts = df["next"].to_list()
    assert df["prev"].null_count() == len(rows)
    assert json.loads(df["origin"][0]) == ORIGIN
    assert json.loads(nexts[2], object_pairs_hook=lambda pairs: [k for k, _ in pairs])[:6] == [
        "value",
        "tag",
        "extra",
        "note",
        "kind",
        "score",
    ]
    # The very text that reading the reader schema's datum without a reader schema gives.
    as_reader = written(LIST_READER, expected)
    assert polars_avro.read_avro(as_reader).select(recursive).equals(df.select(recursive))


TREE_WRITER = record(
    field("name", "string"),
    field("weight", "int"),
    field("payload", "bytes"),
    field("children", {"type": "array", "items": "old.Tree"}),
    field("attrs", {"type": "map", "values": ["int", "string"]}),
    name="old.Tree",
)
TREE_READER = {
    "type": "record",
    "name": "Tree",
    "namespace": "new",
    "aliases": ["old.Tree"],
    "fields": [
        field("children", {"type": "array", "items": "new.Tree"}),
        field("weight", "double"),
        field("payload", "string"),  # bytes read as string
        field("attrs", {"type": "map", "values": ["null", "long", "string"]}),
        field("tags", {"type": "array", "items": "string"}, default=["t"]),
    ],
}


def test_a_recursive_tree_read_with_a_reader_schema() -> None:
    """A tree whose type is renamed (found by alias), with arrays of itself, maps of
    unions and a bytes field read as string."""
    leaf = {"name": "leaf", "weight": -3, "payload": b"ok", "children": [], "attrs": {"a": 1, "b": "x"}}
    mid = {"name": "mid", "weight": 2**31 - 1, "payload": b"", "children": [leaf, leaf], "attrs": {}}
    rows = [{**mid, "children": [mid, leaf]}, leaf]
    data = written(TREE_WRITER, rows)
    df = polars_avro.read_avro(data, reader_schema=TREE_READER)
    expected = resolved_by_fastavro(data, TREE_READER)
    assert df.columns == ["children", "weight", "payload", "attrs", "tags"]
    assert df.schema["children"] == pl.List(pl.String)
    for mine, theirs in zip(df["children"].to_list(), expected):
        assert [json.loads(c) for c in mine] == theirs["children"]
    assert df["tags"].to_list() == [["t"], ["t"]]
    as_reader = written(TREE_READER, expected)
    assert polars_avro.read_avro(as_reader)["children"].to_list() == df["children"].to_list()


def test_recursive_values_the_reader_cannot_take_fail_where_they_are() -> None:
    narrower = json.loads(json.dumps(LIST_READER))
    narrower["fields"] = [f for f in narrower["fields"] if f["name"] != "origin"]  # its default is a C
    narrower["fields"][4]["type"] = {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}
    # Row 1's own kind is A, the kind of the node after it C, which the narrower enum lacks.
    data = written(LIST_WRITER, [_linked_list(0, 1), _linked_list(1, 2)])
    with pytest.raises(AvroDecodeError, match="record 1 of the block: the writer's enum symbol 2 is not a symbol"):
        polars_avro.read_avro(data, reader_schema=narrower)
    missing = json.loads(json.dumps(LIST_READER))
    missing["fields"][2].pop("default")
    with pytest.raises(AvroSchemaError, match="the reader's field 'next.extra' is not in the writer's schema"):
        polars_avro.read_avro(data, reader_schema=missing)
