"""Several files whose writer schemas evolved, read as one frame without a reader schema.
With ``schema_from="all"`` the package unifies the schemas itself (fields of every file,
types widened as the specification allows) and resolves each file into the result while
decoding; by default (the first file's rule) the others are resolved into the first file's
schema. Values are checked against fastavro resolving each file into the schema stated here
by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import assert_frame_matches_records
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro import AvroSchemaMismatchError

POINT_V1 = {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "int"}]}
POINT_V2 = {
    "type": "record",
    "name": "Point",
    "fields": [{"name": "x", "type": "long"}, {"name": "y", "type": "float"}],
}
KIND_V1 = {"type": "enum", "name": "Kind", "symbols": ["BUY", "VIEW"]}
KIND_V2 = {"type": "enum", "name": "Kind", "symbols": ["BUY", "VIEW", "RETURN"]}

V1 = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "int"},
        {"name": "kind", "type": KIND_V1},
        {"name": "at", "type": POINT_V1},
        {"name": "price", "type": "float"},
    ],
}
V2 = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": KIND_V2},
        {"name": "at", "type": POINT_V2},
        {"name": "price", "type": ["null", "double"]},
        {"name": "note", "type": "string"},
    ],
}
V3 = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": KIND_V2},
        {"name": "at", "type": POINT_V2},
        {"name": "price", "type": ["null", "double"]},
        {"name": "note", "type": "bytes"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}

#: What the three unify into: fields in order of first appearance, widened types, and the
#: fields some files lack nullable with a null default.
UNIFIED = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["BUY", "VIEW", "RETURN"]}},
        {
            "name": "at",
            "type": {
                "type": "record",
                "name": "Point",
                "fields": [
                    {"name": "x", "type": "long"},
                    {"name": "y", "type": ["null", "float"], "default": None},
                ],
            },
        },
        {"name": "price", "type": ["null", "double"]},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": ["null", {"type": "array", "items": "string"}], "default": None},
    ],
}


def write(path: Path, schema: Any, rows: list[dict[str, Any]], codec: str = "null") -> Path:
    with path.open("wb") as f:
        fastavro.writer(f, schema, rows, codec=codec)
    return path


@pytest.fixture
def evolved(tmp_path: Path) -> list[Path]:
    one = write(
        tmp_path / "part-1.avro",
        V1,
        [{"id": i, "kind": ["BUY", "VIEW"][i % 2], "at": {"x": i}, "price": i / 4} for i in range(40)],
    )
    two = write(
        tmp_path / "part-2.avro",
        V2,
        [
            {
                "id": i,
                "kind": ["BUY", "VIEW", "RETURN"][i % 3],
                "at": {"x": i, "y": i / 2},
                "price": None if i % 5 == 0 else i / 4,
                "note": f"n{i}",
            }
            for i in range(40, 70)
        ],
        "deflate",
    )
    three = write(
        tmp_path / "part-3.avro",
        V3,
        [
            {
                "id": i,
                "kind": "RETURN",
                "at": {"x": -i, "y": 0.5},
                "price": 1.0,
                "note": b"raw",
                "tags": [str(i)] * (i % 3),
            }
            for i in range(70, 100)
        ],
        "snappy",
    )
    return [one, two, three]


def expected_records(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        with path.open("rb") as f:
            out += list(fastavro.reader(f, reader_schema=UNIFIED))
    return out


def test_evolved_files_read_as_one_frame(evolved: list[Path], tmp_path: Path) -> None:
    df = polars_avro.read_avro(
        tmp_path / "part-*.avro", schema_from="all", missing_columns="insert", row_index_name="row"
    )
    assert df.columns == ["row", "id", "kind", "at", "price", "note", "tags"]
    assert df.schema["kind"] == pl.Enum(["BUY", "VIEW", "RETURN"])
    assert df.schema["at"] == pl.Struct({"x": pl.Int64, "y": pl.Float32})
    assert df["row"].to_list() == list(range(100))
    assert_frame_matches_records(df.drop("row"), expected_records(evolved), UNIFIED)
    assert df["note"][0] is None and df["note"][40] == "n40" and df["note"][99] == "raw"


def test_the_schema_alone(evolved: list[Path]) -> None:
    schema = polars_avro.read_avro_schema(evolved, schema_from="all", missing_columns="insert")
    assert schema == polars_avro.read_avro(evolved, schema_from="all", missing_columns="insert").schema
    assert list(schema) == ["id", "kind", "at", "price", "note", "tags"]
    assert polars_avro.read_avro_schema(evolved[0], reader_schema=UNIFIED) == schema


def test_pushdown_across_evolved_files(evolved: list[Path]) -> None:
    lf = pl.scan_avro(evolved, schema_from="all", allow_missing_columns=True)
    picked = lf.filter(pl.col("kind") == "RETURN").select("id", "note").collect()
    assert picked["id"].to_list() == [i for i in range(40, 70) if i % 3 == 2] + list(range(70, 100))
    assert lf.head(45).collect()["id"].to_list() == list(range(45))
    assert lf.select("tags").collect(engine="streaming")["tags"].null_count() == 70


def test_avro_reader_reads_evolved_files(evolved: list[Path]) -> None:
    expected = polars_avro.read_avro(evolved, schema_from="all", missing_columns="insert")
    with polars_avro.AvroReader(evolved, schema_from="all", allow_missing_columns=True, batch_size=30) as reader:
        assert reader.schema == expected.schema
        assert_frame_equal(pl.concat(list(reader)), expected)


def test_missing_columns_raise_by_default(evolved: list[Path]) -> None:
    with pytest.raises(AvroSchemaMismatchError) as info:
        polars_avro.read_avro(evolved, schema_from="all")
    message = str(info.value)
    # Every column the file lacks, and the first file that has them.
    assert "part-1.avro' has no columns 'note', 'tags', which '" in message and "part-2.avro" in message
    assert "missing_columns='insert'" in message
    assert info.value.file is not None and info.value.file.endswith("part-1.avro")


def test_types_that_cannot_widen_name_the_files_and_field(evolved: list[Path], tmp_path: Path) -> None:
    clash = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "at", "type": {"type": "record", "name": "Point", "fields": [{"name": "x", "type": "string"}]}},
        ],
    }
    bad = write(tmp_path / "part-4.avro", clash, [{"id": 1, "at": {"x": "one"}}])
    with pytest.raises(AvroSchemaMismatchError) as info:
        pl.scan_avro([*evolved, bad], schema_from="all", missing_columns="insert")
    message = str(info.value)
    assert "part-4.avro' cannot be read with the others: at 'at.x' it has \"string\"" in message
    assert "part-1.avro" in message and '"long"' in message


def test_files_that_map_to_the_same_frame_need_no_unification(tmp_path: Path) -> None:
    renamed = {**V1, "name": "Other", "doc": "same fields"}
    a = write(tmp_path / "a.avro", V1, [{"id": 1, "kind": "BUY", "at": {"x": 1}, "price": 1.0}])
    b = write(tmp_path / "b.avro", renamed, [{"id": 2, "kind": "VIEW", "at": {"x": 2}, "price": 2.0}])
    df = polars_avro.read_avro([a, b])
    assert df["id"].to_list() == [1, 2] and df.schema["id"] == pl.Int32


def test_by_default_the_first_files_header_alone_gives_the_schema(evolved: list[Path]) -> None:
    """As Polars' scans: the scan's columns are the first file's, no other header is read
    before the query, and a file with a column the first lacks raises naming both."""
    lf = pl.scan_avro(list(reversed(evolved)))
    assert list(lf.collect_schema()) == ["id", "kind", "at", "price", "note", "tags"]
    assert polars_avro.read_avro_schema(evolved) == pl.Schema(
        {"id": pl.Int32, "kind": pl.Enum(["BUY", "VIEW"]), "at": pl.Struct({"x": pl.Int32}), "price": pl.Float32}
    )
    with pytest.raises(AvroSchemaMismatchError) as info:
        polars_avro.read_avro(evolved)
    message = str(info.value)
    assert message.startswith(f"the file '{evolved[1]}' has column 'note', which the scan's schema (the first")
    assert f"'{evolved[0]}'" in message and info.value.file == str(evolved[1])


def test_a_newer_file_s_added_columns_are_all_named_with_the_ways_out(tmp_path: Path) -> None:
    """A topic whose producers added two fields: the error names both, and the three
    keywords that read the folder; each of them does."""
    (tmp_path / "topic").mkdir()
    old = pl.DataFrame({"order_id": [1, 2], "amount": [1.5, 2.5]})
    new = pl.DataFrame({"order_id": [3], "amount": [3.5], "coupon": ["X"], "channel": ["web"]})
    polars_avro.write_avro(old, tmp_path / "topic" / "a.avro")
    polars_avro.write_avro(new, tmp_path / "topic" / "b.avro")
    with pytest.raises(AvroSchemaMismatchError) as info:
        polars_avro.read_avro(tmp_path / "topic")
    message = str(info.value)
    assert "b.avro' has columns 'coupon', 'channel', which the scan's schema (the first file's" in message
    for way_out in ("schema_from='all'", "reader_schema=", "extra_columns='ignore'"):
        assert way_out in message
    everything = pl.scan_avro(tmp_path / "topic", schema_from="all", missing_columns="insert").collect()
    assert everything.columns == ["order_id", "amount", "coupon", "channel"]
    assert everything["channel"].to_list() == [None, None, "web"]
    assert pl.scan_avro(tmp_path / "topic", extra_columns="ignore").collect().columns == ["order_id", "amount"]


def test_the_first_files_rule_reads_the_others_into_its_schema(tmp_path: Path) -> None:
    """The newest file first: the older ones are resolved into its schema, a field they lack
    read from its default, or as nulls with missing_columns="insert"; values as fastavro's
    resolution gives them."""
    newest = {
        "type": "record",
        "name": "Event",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "price", "type": "double", "default": -1.0},
            {"name": "note", "type": "string"},
        ],
    }
    older = {"type": "record", "name": "Event", "fields": [{"name": "id", "type": "int"}]}
    new = write(tmp_path / "a.avro", newest, [{"id": 1, "price": 2.5, "note": "n"}])
    old = write(tmp_path / "b.avro", older, [{"id": 2}, {"id": 3}])
    with pytest.raises(AvroSchemaMismatchError, match="has no column 'note', which the scan's schema") as info:
        polars_avro.read_avro([new, old])
    assert info.value.file == str(old) and "missing_columns='insert'" in str(info.value)
    df = polars_avro.read_avro([new, old], missing_columns="insert")
    assert df.schema == pl.Schema({"id": pl.Int64, "price": pl.Float64, "note": pl.String})
    assert df.rows() == [(1, 2.5, "n"), (2, -1.0, None), (3, -1.0, None)]
    inserted = {
        **newest,
        "fields": [*newest["fields"][:2], {"name": "note", "type": ["null", "string"], "default": None}],
    }
    with old.open("rb") as f:
        assert df.rows()[1:] == [tuple(r.values()) for r in fastavro.reader(f, reader_schema=inserted)]


def test_a_nested_field_an_older_file_lacks_without_a_default_raises_naming_file_and_field(
    evolved: list[Path],
) -> None:
    # The newest file first: the oldest one's Point lacks y, which has no default.
    with pytest.raises(AvroSchemaMismatchError) as info:
        polars_avro.read_avro([evolved[2], evolved[0]], missing_columns="insert")
    assert "'at.y' is not in the writer's schema and has no default" in str(info.value)
    assert info.value.file == str(evolved[0])


@pytest.mark.parametrize("value", ["every", None, 1])
def test_schema_from_and_extra_columns_take_their_values_only(evolved: list[Path], value: Any) -> None:
    for name in ("schema_from", "extra_columns"):
        with pytest.raises(polars_avro.AvroArgumentError, match=f"{name} must be "):
            pl.scan_avro(evolved, **{name: value})
