"""Faults besides damaged bytes: files that change between a scan's plan and its read."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_avro


def from_scan(error: type[Exception]) -> type[Exception]:
    """What `error` is raised as from a lazy query: Polars 1.x raises a source's error
    again as a ComputeError of the same message."""
    return pl.exceptions.ComputeError if pl.__version__.startswith("1.") else error


def write(path: Path, avro_type: Any, values: list[Any], name: str = "a") -> Path:
    """Writes records of one field, then replaces `path` with them, as writers do."""
    schema = {"type": "record", "name": "R", "fields": [{"name": name, "type": avro_type}]}
    new = path.with_name(path.name + ".new")
    with new.open("wb") as f:
        fastavro.writer(f, schema, [{name: v} for v in values])
    os.replace(new, path)
    return path


@pytest.mark.parametrize(
    ("avro_type", "values", "was_now"),
    [
        ("double", [2.5, -0.9], "was Int64 and is now Float64"),
        ("string", ["7"], "was Int64 and is now String"),
        ("boolean", [True], "was Int64 and is now Boolean"),
        ("double", [1e30], "was Int64 and is now Float64"),
        ("string", ["x"], "was Int64 and is now String"),
        ("int", [1], "was Int64 and is now Int32"),
    ],
)
@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_a_file_replaced_by_one_of_other_types_is_refused_naming_it(
    tmp_path: Path, avro_type: str, values: list[Any], was_now: str, engine: Any
) -> None:
    """Its values were cast to the planned type: 2.5 read as 2, "7" as 7, True as 1."""
    path = write(tmp_path / "a.avro", "long", [1, 2])
    lf = pl.scan_avro(path)
    assert lf.collect_schema() == pl.Schema({"a": pl.Int64})
    write(path, avro_type, values)
    with pytest.raises(
        from_scan(polars_avro.AvroSchemaMismatchError),
        match=rf"changed after the scan was planned: its column 'a' {was_now}.*{path}",
    ) as caught:
        lf.collect(engine=engine)
    assert getattr(caught.value, "file", str(path)) == str(path)
    assert pl.scan_avro(path).collect(engine=engine)["a"].to_list() == values  # a new scan reads it


@pytest.mark.parametrize(
    ("field", "avro_type", "change"),
    [
        ("b", "long", "it has new columns: 'b'"),
        ("b", None, "its column 'a' is gone"),
    ],
)
def test_a_file_whose_columns_changed_is_refused(
    tmp_path: Path, field: str, avro_type: str | None, change: str
) -> None:
    path = write(tmp_path / "a.avro", "long", [1])
    lf = pl.scan_avro(path)
    schema = {"type": "record", "name": "R", "fields": [{"name": field, "type": "long"}]}
    if avro_type is not None:
        schema["fields"].insert(0, {"name": "a", "type": avro_type})
    with path.open("wb") as f:
        fastavro.writer(f, schema, [{"a": 1, "b": 2}])
    with pytest.raises(from_scan(polars_avro.AvroSchemaMismatchError), match=change):
        lf.collect()


def test_a_file_replaced_by_one_of_the_same_schema_is_read_as_it_is_now(tmp_path: Path) -> None:
    path = write(tmp_path / "a.avro", "long", [1, 2])
    lf = pl.scan_avro(path)
    write(path, "long", [5, 6, 7])
    assert_frame_equal(lf.collect(), pl.DataFrame({"a": [5, 6, 7]}))


def test_one_changed_file_of_a_folder_is_named(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"part-{i}.avro", "long", [i]) for i in range(3)]
    lf = pl.scan_avro(tmp_path)
    write(paths[1], "string", ["1"])
    with pytest.raises(
        from_scan(polars_avro.AvroSchemaMismatchError), match=rf"was Int64 and is now String.*{paths[1]}"
    ):
        lf.collect()
    with pytest.raises(from_scan(polars_avro.AvroSchemaMismatchError), match=str(paths[1])):
        lf.head(5).collect()


def test_a_file_changed_against_a_reader_schema_is_resolved_or_refused(tmp_path: Path) -> None:
    """With a reader schema every file is resolved into it: a promotion reads, a type
    that does not resolve is refused naming the file."""
    path = write(tmp_path / "a.avro", "double", [1.5])
    reader = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "double"}]}
    lf = pl.scan_avro(path, reader_schema=reader)
    write(path, "long", [3])
    assert lf.collect()["a"].to_list() == [3.0]
    write(path, "string", ["x"])
    with pytest.raises(from_scan(polars_avro.AvroSchemaError), match=str(path)):
        lf.collect()
