"""Writing: write_avro, sink_avro and the .avro namespaces. Every file is read back by
this package and by fastavro (values compared); tests/test_other_readers.py has Apache's
Python ``avro`` and Java read what the writer writes too."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import uuid
import warnings
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import (
    EXPLICIT,
    apache_records,
    as_read_back,
    assert_file_matches_fastavro,
    assert_frame_matches_records,
    avro_file_schema,
    big_decimal_bytes,
    container,
    every_type_frame,
    explicit_frame,
    fastavro_records,
    write_fastavro,
    zigzag,
)
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro import (
    AvroArgumentError,
    AvroDecodeError,
    AvroEncodeError,
    AvroIOError,
    AvroSchemaError,
    AvroSchemaWarning,
)

CODECS = ["uncompressed", "deflate", "snappy", "zstandard", "bzip2", "xz"]


def write(df: pl.DataFrame, **options: Any) -> bytes:
    buffer = io.BytesIO()
    polars_avro.write_avro(df, buffer, **options)
    return buffer.getvalue()


# --------------------------------------------------------------------------- types


@pytest.mark.parametrize("compression", CODECS)
def test_every_type_round_trips_and_fastavro_agrees(tmp_path: Path, compression: str) -> None:
    df = every_type_frame()
    path = tmp_path / "every.avro"
    polars_avro.write_avro(df, path, compression=compression)
    back = polars_avro.read_avro(path)
    expected = as_read_back(df)
    assert back.schema == expected.schema
    assert back.equals(expected), (back, expected)
    # fastavro reads the same values (and the schema maps back to the same dtypes).
    assert_file_matches_fastavro(path, back)


def test_wide_frames_sliced_and_chunked_read_back_in_fastavro(tmp_path: Path) -> None:
    # Wider than the writer's limit for row-by-row reads (it reads each block's values
    # column by column first): strings and bytes of every length around the 12 bytes a
    # view holds and the 32 copied at once, nulls, booleans; sliced at an odd row so that
    # bitmaps start inside a byte, and in chunks so that blocks start anywhere.
    rows = 3_000
    text = [None if i % 7 == 3 else "é" * (i % 20) + "x" * (i % 41) for i in range(rows)]
    columns: dict[str, Any] = {}
    for c in range(8):
        columns[f"s{c}"] = pl.Series(text[c:] + text[:c], dtype=pl.String)
        columns[f"b{c}"] = pl.Series([None if t is None else t.encode()[::-1] for t in text], dtype=pl.Binary)
        columns[f"i{c}"] = pl.Series([None if i % 5 == c % 5 else i * 2**40 - c for i in range(rows)], dtype=pl.Int64)
        columns[f"f{c}"] = pl.Series([i / (c + 1) for i in range(rows)], dtype=pl.Float64)
        columns[f"t{c}"] = pl.Series([None if i % 3 == 0 else (i + c) % 2 == 0 for i in range(rows)])
    df = pl.DataFrame(columns).slice(3)
    df = pl.concat([df.slice(0, 1_001), df.slice(1_001, 5), df.slice(1_006)], rechunk=False)
    path = tmp_path / "wide.avro"
    polars_avro.write_avro(df, path, sync_interval=4_000)
    with open(path, "rb") as f:
        assert len(list(fastavro.block_reader(f))) > 10
    assert_frame_matches_records(df, fastavro_records(path), avro_file_schema(path))


def test_header_names_schema_and_metadata() -> None:
    data = write(
        pl.DataFrame({"a": [1]}),
        name="Reading",
        namespace="com.example.iot",
        metadata={"origin": "test", "raw": b"\x00\x01"},
    )
    header = polars_avro.read_avro_header(data)
    assert header.schema["name"] == "Reading" and header.schema["namespace"] == "com.example.iot"
    assert header.metadata["origin"] == b"test" and header.metadata["raw"] == b"\x00\x01"
    assert header.codec == "null"


def test_polars_own_writer_output_reads_identically(tmp_path: Path) -> None:
    df = every_type_frame().select(
        "bool", "i32", "i64", "f32", "f64", "str", "bin", "date", "dt_ms", "dt_us", "list", "struct", "dec"
    )
    path = tmp_path / "polars.avro"
    df.select("list").write_avro(path)
    if [r["list"] for r in fastavro.reader(open(path, "rb"))] != df["list"].to_list():
        # Polars 1.x and 2.0 write [None, 3] wrongly (fastavro reads that row as null): the
        # block has bytes left over (1.x) or a union branch of -1 (2.0). We raise, naming
        # the block, rather than drop the value.
        with pytest.raises(AvroDecodeError, match="bytes left over|union branch index"):
            polars_avro.read_avro(path)
        df = df.drop("list")
    df.write_avro(path)
    back = polars_avro.read_avro(path)
    assert back.schema == df.schema
    assert back.equals(df)
    assert_file_matches_fastavro(path, back)


def test_multi_block_files_with_many_chunks(tmp_path: Path) -> None:
    n = 50_000
    df = pl.DataFrame({"i": range(n), "s": [f"row {i}" for i in range(n)], "f": [i / 3 for i in range(n)]})
    chunked = pl.concat([df.slice(o, 7_777) for o in range(0, n, 7_777)], rechunk=False)
    path = tmp_path / "blocks.avro"
    polars_avro.write_avro(chunked, path, compression="deflate", sync_interval=4_000)
    with open(path, "rb") as f:
        blocks = list(fastavro.block_reader(f))
    assert len(blocks) > 50
    assert sum(b.num_records for b in blocks) == n
    assert polars_avro.read_avro(path).equals(df)
    assert_file_matches_fastavro(path, df)


def test_output_depends_on_neither_threads_nor_chunks() -> None:
    n = 40_000
    df = pl.DataFrame({"i": range(n), "s": [str(i) * (i % 7) for i in range(n)]})
    chunked = pl.concat([df.slice(o, 3_001) for o in range(0, n, 3_001)], rechunk=False)
    outputs = [write(d, sync_interval=2_000, n_threads=t, compression="snappy") for d in (df, chunked) for t in (1, 3)]
    unmarked = [o.replace(polars_avro.read_avro_header(o).sync_marker, b"S" * 16) for o in outputs]
    assert all(u == unmarked[0] for u in unmarked)
    assert polars_avro.read_avro(outputs[3]).equals(df)


@pytest.mark.parametrize(
    ("compression", "low", "high"), [("deflate", 1, 9), ("zstandard", 1, 19), ("bzip2", 1, 9), ("xz", 0, 9)]
)
def test_compression_levels(compression: str, low: int, high: int) -> None:
    df = pl.DataFrame({"s": [f"value {i % 1000} " * 5 for i in range(20_000)]})
    fast = write(df, compression=compression, compression_level=low)
    small = write(df, compression=compression, compression_level=high)
    assert len(small) <= len(fast)
    for data in (fast, small):
        assert polars_avro.read_avro(data).equals(df)
        assert [r["s"] for r in fastavro.reader(io.BytesIO(data))] == df["s"].to_list()


# --------------------------------------------------------------------------- explicit schemas


@pytest.mark.parametrize("as_text", [False, True])
def test_explicit_schema_is_written_exactly(tmp_path: Path, as_text: bool) -> None:
    df = explicit_frame()
    path = tmp_path / "explicit.avro"
    polars_avro.write_avro(df, path, schema=json.dumps(EXPLICIT) if as_text else EXPLICIT)
    header = polars_avro.read_avro_header(path)
    assert header.schema == EXPLICIT
    records = list(fastavro.reader(open(path, "rb")))
    assert records[0]["station"] == "LIMA" and records[1]["color"] is None and records[0]["color"] == "BLUE"
    assert records[0]["tag"] == b"abcd" and records[1]["price"] == decimal.Decimal("-0.01")
    assert records[0]["at"] == dt.datetime(2024, 5, 1, 12, 0, 0, 5000, tzinfo=dt.timezone.utc)
    # fastavro leaves uuid on fixed as its 16 bytes.
    assert records[0]["uid"] == uuid.UUID("00112233-4455-6677-8899-aabbccddeeff").bytes
    assert records[1]["note"] is None and records[0]["small"] == 7
    back = polars_avro.read_avro(path)
    assert_frame_matches_records(back, records, EXPLICIT)
    assert back["at"].to_list()[0] == dt.datetime(2024, 5, 1, 12, 0, 0, 5000, tzinfo=dt.timezone.utc)


def test_general_union_from_the_struct_the_reader_makes(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "u", "type": ["null", "long", "string", {"type": "array", "items": "int"}]}],
    }
    records = [{"u": 5}, {"u": "five"}, {"u": None}, {"u": [1, 2]}]
    original = tmp_path / "union.avro"
    with open(original, "wb") as f:
        fastavro.writer(f, schema, records)
    df = polars_avro.read_avro(original)
    rewritten = tmp_path / "again.avro"
    polars_avro.write_avro(df, rewritten, schema=schema)
    assert list(fastavro.reader(open(rewritten, "rb"))) == records


def test_top_level_non_record_schema() -> None:
    data = write(pl.DataFrame({"value": [1, 2, 3]}), schema='"long"')
    assert list(fastavro.reader(io.BytesIO(data))) == [1, 2, 3]
    assert polars_avro.read_avro(data)["value"].to_list() == [1, 2, 3]


@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (lambda df: df.drop("tag"), AvroSchemaError, "the schema's fields 'tag' are not in the frame"),
        (lambda df: df.with_columns(extra=1), AvroSchemaError, "the frame's columns 'extra' are not in the schema"),
        (
            lambda df: df.with_columns(pl.col("id").cast(pl.String)),
            AvroSchemaError,
            "'id' has type String, which cannot be written as Avro long",
        ),
        (lambda df: df.with_columns(pl.col("price").cast(pl.Decimal(10, 3))), AvroSchemaError, "scale 3"),
        (
            lambda df: df.with_columns(id=pl.Series([1, None])),
            AvroEncodeError,
            "row 1 at 'id': a null value, but the Avro type long is not nullable",
        ),
        (
            lambda df: df.with_columns(small=pl.Series([1, 2**40])),
            AvroEncodeError,
            "row 1 at 'small': 1099511627776 is beyond the range of an Avro int",
        ),
        (
            lambda df: df.with_columns(color=pl.Series(["RED", "PINK"])),
            AvroEncodeError,
            "'PINK' is not a symbol of the Avro enum",
        ),
        (
            lambda df: df.with_columns(tag=pl.Series([b"abc", b"abcd"])),
            AvroEncodeError,
            "row 0 at 'tag': expected 4 bytes",
        ),
        (
            lambda df: df.with_columns(pl.col("at") + pl.duration(microseconds=1)),
            AvroEncodeError,
            "not a whole number of the Avro unit",
        ),
        (lambda df: df.with_columns(uid=pl.Series(["nope", "nope"])), AvroEncodeError, "'nope' is not a UUID"),
        (
            lambda df: df.with_columns(price=pl.Series([decimal.Decimal("123456789.01")] * 2, dtype=pl.Decimal(12, 2))),
            AvroEncodeError,
            "more digits than the Avro decimal's precision",
        ),
    ],
)
def test_explicit_schema_mismatches_name_the_column(change: Any, error: type, words: str) -> None:
    with pytest.raises(error, match=None) as info:
        write(change(explicit_frame()), schema=EXPLICIT)
    assert words in str(info.value), str(info.value)


@pytest.mark.parametrize("avro", ["null", ["null"]])
def test_a_column_for_avro_null_may_hold_only_nulls_chunk_by_chunk(avro: Any) -> None:
    # Whether a column holds a value is known per chunk, not from its type: the plan made
    # for the writer lets nulls through and each chunk is checked as it is written.
    schema = {"type": "record", "name": "R", "fields": [{"name": "n", "type": avro}]}
    nulls = pl.DataFrame({"n": pl.Series([None, None], dtype=pl.Int64)})
    assert list(fastavro.reader(io.BytesIO(write(nulls, schema=schema)))) == [{"n": None}] * 2
    with_value = pl.concat([nulls, pl.DataFrame({"n": [None, 7]})], rechunk=False)
    with pytest.raises(AvroSchemaError, match="'n' has type Int64, which cannot be written as Avro"):
        write(with_value, schema=schema)


# --------------------------------------------------------------------------- names


def named(type_name: str, kind: str = "record") -> dict[str, Any]:
    """A schema whose field ``v`` is a ``kind`` (record or enum) named ``type_name``."""
    inner: dict[str, Any] = {"type": kind, "name": type_name}
    inner.update({"fields": [{"name": "x", "type": "long"}]} if kind == "record" else {"symbols": ["A"]})
    return {"type": "record", "name": "Row", "fields": [{"name": "v", "type": inner}]}


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"schema": named("long")}, "the record 'long' (at 'v') is named after the primitive type 'long'"),
        ({"schema": named("string", "enum")}, "the enum 'string' (at 'v') is named after the primitive type"),
        ({"schema": named("com.x.null")}, "the record 'com.x.null' (at 'v') is named after the primitive type"),
        ({"name": "int"}, "the record 'int' (at the top level) is named after the primitive type 'int'"),
        ({"name": "double", "namespace": "com.x"}, "the record 'com.x.double' (at the top level) is named after"),
        ({"schema": {**named("V"), "name": ""}}, "the record at the top level has no name"),
        ({"schema": {**named("V"), "namespace": "com..x"}}, "the namespace 'com..x' of the record 'com..x.Row'"),
        ({"namespace": "com.1x"}, "the namespace 'com.1x' is not a valid Avro name"),
    ],
)
def test_a_schema_or_name_the_specification_forbids_is_refused_before_anything_is_written(
    tmp_path: Path, options: dict[str, Any], words: str
) -> None:
    df = pl.DataFrame({"v": [{"x": 1}]}) if "schema" in options else pl.DataFrame({"x": [1]})
    if "enum" in json.dumps(options.get("schema", {})):
        df = pl.DataFrame({"v": pl.Series(["A"], dtype=pl.Enum(["A"]))})
    path = tmp_path / "refused.avro"
    for write_it in (polars_avro.write_avro, lambda df, path, **o: polars_avro.sink_avro(df.lazy(), path, **o)):
        with pytest.raises(AvroSchemaError) as info:
            write_it(df, path, **options)
        assert words in str(info.value), str(info.value)
        assert not path.exists()


def test_a_name_some_readers_misread_is_written_with_a_warning_at_the_users_line(tmp_path: Path) -> None:
    df = pl.DataFrame({"v": pl.Series(["A"], dtype=pl.Enum(["A"]))})
    path = tmp_path / "warned.avro"
    with pytest.warns(AvroSchemaWarning) as warned:
        df.avro.write(path, schema=named("enum", "enum"), name="ignored")
    assert [w.filename for w in warned] == [__file__]
    assert str(warned[0].message).startswith(
        "the enum 'enum' (at 'v') is named after the schema keyword 'enum': valid Avro, but goavro and cavro read "
        "wrong values from such a file and spavro refuses it"
    )
    assert polars_avro.read_avro_header(path).schema == named("enum", "enum")
    assert apache_records(path) == [{"v": "A"}]
    with pytest.warns(AvroSchemaWarning, match="the record 'array' .* schema keyword 'array'"):
        polars_avro.sink_avro(df.lazy(), path, name="array")
    # A derived schema needs no warning: the Enum column `map` is the enum type `map_2`.
    with warnings.catch_warnings():
        warnings.simplefilter("error", AvroSchemaWarning)
        polars_avro.write_avro(df.rename({"v": "map"}), path)
    assert polars_avro.read_avro_header(path).schema["fields"][0]["type"][1]["name"] == "map_2"
    assert polars_avro.read_avro(path).equals(df.rename({"v": "map"}))


def test_a_frame_of_a_file_whose_names_break_the_rules_is_written_with_the_derived_schema(tmp_path: Path) -> None:
    # As older writers wrote it: a record named `long`, which Java and Apache's avro refuse.
    schema = named("long")
    old = tmp_path / "old.avro"
    old.write_bytes(container(json.dumps(schema).encode(), [(1, zigzag(5))]))
    frame = polars_avro.read_avro(old)
    assert frame.to_dicts() == [{"v": {"x": 5}}]
    again = tmp_path / "again.avro"
    polars_avro.write_avro(frame, again)
    assert polars_avro.read_avro_header(again).schema["fields"][0]["type"][1]["name"] == "v"
    assert apache_records(again) == [{"v": {"x": 5}}]
    # A valid file's schema is kept as it is.
    schema["fields"][0]["type"]["name"] = "Point"
    old.write_bytes(container(json.dumps(schema).encode(), [(1, zigzag(5))]))
    polars_avro.write_avro(polars_avro.read_avro(old), again)
    assert polars_avro.read_avro_header(again).schema == schema


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("df", "words"),
    [
        (pl.DataFrame({"my col": [1]}), "the column 'my col' is not a valid Avro name"),
        (
            pl.DataFrame({"e": pl.Series(["New York"], dtype=pl.Enum(["New York"]))}),
            "the category 'New York' of the Enum column 'e'",
        ),
        (pl.DataFrame({"s": [{"bad-name": 1}]}), "the column 's.bad-name' is not a valid Avro name"),
    ],
)
def test_unwritable_frames_raise_schema_errors(df: pl.DataFrame, words: str) -> None:
    with pytest.raises(AvroSchemaError) as info:
        write(df)
    assert words in str(info.value), str(info.value)


def test_object_column_raises_what_polars_writers_raise() -> None:
    """Polars' write_parquet and write_ipc raise ComputeError for an Object column."""
    df = pl.DataFrame({"o": pl.Series([object()], dtype=pl.Object)})
    with pytest.raises(pl.exceptions.ComputeError):
        df.write_ipc(io.BytesIO())
    with pytest.raises(AvroEncodeError, match="the column 'o' has type Object, which Avro cannot hold"):
        write(df)


@pytest.mark.skipif(not hasattr(pl, "Int128"), reason="this Polars has no Int128")
def test_int128_names_the_column_and_the_way_out() -> None:
    with pytest.raises(
        AvroEncodeError, match="the column 'big' has type Int128, which Avro cannot hold: cast it to Int64"
    ):
        write(pl.DataFrame({"big": pl.Series([1], dtype=pl.Int128)}))  # type: ignore[attr-defined]


def test_uint64_beyond_long_is_an_encode_error() -> None:
    df = pl.DataFrame({"u": pl.Series([1, 2**63], dtype=pl.UInt64)})
    with pytest.raises(AvroEncodeError, match="row 1 at 'u': 9223372036854775808 is beyond the range of an Avro long"):
        write(df)


def test_codec_names_and_levels_come_from_the_rust_core() -> None:
    # The type checkers' Literal and the documented levels follow the one definition in Rust.
    from typing import get_args

    from polars_avro import _arguments, _internal

    # With "zstd", Polars' name for zstandard, and "null", the header's name for uncompressed.
    assert list(get_args(_arguments.CompressionName)) == [*_internal.COMPRESSIONS, "zstd", "null"]
    doc = " ".join(polars_avro.write_avro.__doc__.split())
    for name, (low, high, default) in _internal.COMPRESSION_LEVELS:
        assert f"{name} {low}-{high} (default {default})" in doc, name
    assert _internal.DEFAULT_SYNC_INTERVAL == 64_000  # Java's


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"compression": "lz4"}, "unknown compression 'lz4'"),
        (
            {"compression": "deflate", "compression_level": 12},
            "the deflate compression level must be from 0 to 9, found 12",
        ),
        ({"compression": "snappy", "compression_level": 1}, "the snappy codec takes no compression level"),
        ({"metadata": {"avro.codec": "x"}}, "reserved for the format, found 'avro.codec'"),
        ({"sync_interval": 0}, "sync_interval must be at least 1"),
        ({"n_threads": 0}, "n_threads must be at least 1"),
        ({"name": "bad name"}, "the record name is not a valid Avro name"),
        ({"metadata": {"n": 5}}, "metadata maps str keys to str or bytes values, found 'n': int"),
    ],
)
def test_bad_options(options: dict[str, Any], words: str) -> None:
    with pytest.raises((AvroArgumentError, AvroSchemaError)) as info:
        write(pl.DataFrame({"a": [1]}), **options)
    assert words in str(info.value), str(info.value)


def test_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path: Path) -> None:
    df = pl.DataFrame({"id": pl.Series(list(range(100_000)), dtype=pl.Int64)}).with_columns(
        id=pl.when(pl.col("id") == 90_000).then(None).otherwise(pl.col("id"))
    )
    schema = {"type": "record", "name": "r", "fields": [{"name": "id", "type": "long"}]}
    fresh = tmp_path / "fresh.avro"
    with pytest.raises(AvroEncodeError, match="row 90000"):
        polars_avro.write_avro(df, fresh, schema=schema, sync_interval=1_000)
    assert not fresh.exists()
    kept = tmp_path / "kept.avro"
    kept.write_bytes(b"old contents")
    with pytest.raises(AvroEncodeError):
        polars_avro.write_avro(df, kept, schema=schema)
    assert kept.read_bytes() == b"old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.avro"]


def test_frames_and_queries_go_to_their_own_function(tmp_path: Path) -> None:
    with pytest.raises(
        AvroArgumentError, match="write_avro takes a DataFrame, found LazyFrame; stream a LazyFrame with sink_avro"
    ):
        polars_avro.write_avro(pl.LazyFrame({"a": [1]}), tmp_path / "x.avro")  # type: ignore[arg-type]
    polars_avro.sink_avro(pl.DataFrame({"a": [1]}), tmp_path / "y.avro")  # type: ignore[arg-type]
    assert polars_avro.read_avro(tmp_path / "y.avro")["a"].to_list() == [1]


def test_sink_of_an_empty_query_writes_a_header_only_file(tmp_path: Path) -> None:
    lf = pl.LazyFrame({"a": [1, 2], "s": ["x", "y"]}).filter(pl.col("a") > 5)
    polars_avro.sink_avro(lf, tmp_path / "empty.avro")
    assert polars_avro.read_avro(tmp_path / "empty.avro").equals(lf.collect())


def test_closed_file_object_raises_io_error() -> None:
    buffer = io.BytesIO()
    buffer.close()
    with pytest.raises(AvroIOError, match="closed"):
        polars_avro.write_avro(pl.DataFrame({"a": [1]}), buffer)


def test_directory_and_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(AvroArgumentError, match="is a directory"):
        polars_avro.write_avro(pl.DataFrame({"a": [1]}), tmp_path)
    # A missing folder is named, with the keyword that makes it (as Polars' own writers
    # raise FileNotFoundError there).
    missing = tmp_path / "missing" / "deeper"
    expected = f"could not create the file: its folder '{missing}' does not exist \\(pass mkdir=True to create it\\)"
    for write in (
        lambda: polars_avro.write_avro(pl.DataFrame({"a": [1]}), missing / "x.avro"),
        lambda: polars_avro.sink_avro(pl.LazyFrame({"a": [1]}), missing / "x.avro"),
    ):
        with pytest.raises(AvroIOError, match=expected) as info:
            write()
        assert isinstance(info.value, FileNotFoundError)
    polars_avro.write_avro(pl.DataFrame({"a": [1]}), missing / "x.avro", mkdir=True)
    assert polars_avro.read_avro(missing / "x.avro")["a"].to_list() == [1]


@pytest.mark.parametrize("target", [42, object()])
def test_a_target_that_is_no_path_nor_file_object_is_refused_saying_what_is_taken(target: object) -> None:
    df = pl.DataFrame({"a": [1]})
    expected = f"^expected a path or a binary file object to write to, found {type(target).__name__}$"
    with pytest.raises(AvroArgumentError, match=expected):
        polars_avro.write_avro(df, target)  # type: ignore[arg-type]
    with pytest.raises(AvroArgumentError, match=expected):
        polars_avro.sink_avro(df.lazy(), target)  # type: ignore[arg-type]


def test_write_errors_name_the_path_given_not_the_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The temporary file a path is written through is the writer's business: errors name
    the path as the user gave it (relative stays relative)."""
    monkeypatch.chdir(tmp_path)
    df = pl.DataFrame({"a": [1]})
    with pytest.raises(AvroIOError) as info:
        df.avro.write("no/such/dir/o.avro")
    assert str(info.value).endswith("(file 'no/such/dir/o.avro')"), str(info.value)
    assert info.value.file == "no/such/dir/o.avro"
    with pytest.raises(AvroArgumentError) as info:
        df.avro.write("o.avro", compression="deflate", compression_level=42)
    assert str(info.value) == "the deflate compression level must be from 0 to 9, found 42 (file 'o.avro')"
    schema = {"type": "record", "name": "r", "fields": [{"name": "a", "type": "long"}]}
    with pytest.raises(AvroEncodeError) as info:
        pl.DataFrame({"a": [1, None]}).avro.write(tmp_path / "n.avro", schema=schema)
    assert info.value.file == str(tmp_path / "n.avro"), str(info.value)
    with pytest.raises(AvroArgumentError, match=r"^cannot write to '\.': it is a directory$"):
        df.avro.write(".")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "options",
    [
        {"compression": "deflate", "compression_level": 42},
        {"compression": "snappy", "compression_level": 1},
        {"metadata": {"avro.codec": "x"}},
        {"schema": {"type": "record", "name": "r", "fields": [{"name": "b", "type": "long"}]}},
    ],
)
def test_bad_options_are_refused_before_any_file_is_created(tmp_path: Path, options: dict[str, Any]) -> None:
    """Into a folder that does not exist: the option's error comes first, as no file is
    created (not even the temporary one) before every option has been checked."""
    target = tmp_path / "missing" / "o.avro"
    with pytest.raises((AvroArgumentError, AvroSchemaError)) as info:
        polars_avro.write_avro(pl.DataFrame({"a": [1]}), target, **options)
    assert "could not create" not in str(info.value), str(info.value)
    assert info.value.file == str(target)
    with pytest.raises((AvroArgumentError, AvroSchemaError)):
        polars_avro.sink_avro(pl.LazyFrame({"a": [1]}), tmp_path / "o.avro", **options)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_written_in_place(tmp_path: Path) -> None:
    """A path that is not a regular file (a pipe, /dev/stdout) is written as it is, never
    replaced by a renamed temporary file."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    df = pl.DataFrame({"a": range(1000)})
    polars_avro.write_avro(df, fifo, compression="snappy")
    reader.join(timeout=30)
    assert fifo.is_fifo()
    assert polars_avro.read_avro(received[0]).equals(df)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


@pytest.mark.skipif(not os.path.exists("/dev/stdout"), reason="no /dev/stdout here")
@pytest.mark.parametrize("how", ["write_avro", "sink_avro"])
def test_dev_stdout_read_by_a_pipe_is_written_in_place(tmp_path: Path, how: str) -> None:
    """/dev/stdout leads, through /proc/self/fd/1, to a name like 'pipe:[123]', which is
    no path: the write looked for a folder there to put a temporary file in ("could not
    create the file")."""
    script = (
        "import polars as pl, polars_avro\n"
        f"polars_avro.{how}(pl.DataFrame({{'a': range(1000)}}){'.lazy()' if how == 'sink_avro' else ''}, "
        "'/dev/stdout', compression='snappy')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert polars_avro.read_avro(done.stdout).equals(pl.DataFrame({"a": range(1000)}))
    assert list(tmp_path.iterdir()) == []


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    target = tmp_path / "real.avro"
    target.write_bytes(b"old")
    link = tmp_path / "link.avro"
    link.symlink_to(target)
    polars_avro.write_avro(pl.DataFrame({"a": [1, 2]}), link)
    assert link.is_symlink()
    assert polars_avro.read_avro(target)["a"].to_list() == [1, 2]


def test_empty_frame_writes_a_header_only_file(tmp_path: Path) -> None:
    df = pl.DataFrame(schema={"a": pl.Int64, "s": pl.String})
    path = tmp_path / "empty.avro"
    polars_avro.write_avro(df, path)
    assert polars_avro.read_avro(path).equals(df)
    assert list(fastavro.reader(open(path, "rb"))) == []


def test_frame_of_no_columns_writes_its_rows(tmp_path: Path) -> None:
    # Avro records of no fields take no bytes; each row is still a record.
    df = pl.DataFrame({"a": range(70_000)})
    df.drop_in_place("a")
    assert df.shape == (70_000, 0)
    path = tmp_path / "no-columns.avro"
    polars_avro.write_avro(df, path)
    with open(path, "rb") as f:
        records = list(fastavro.reader(f))
    assert len(records) == 70_000 and records[0] == {}
    assert polars_avro.read_avro(path).shape == (70_000, 0)


# --------------------------------------------------------------------------- namespaces and sinks


def test_namespaces(tmp_path: Path) -> None:
    df = every_type_frame()
    df.avro.write(tmp_path / "ns.avro", compression="zstandard")  # type: ignore[attr-defined]
    assert polars_avro.read_avro(tmp_path / "ns.avro").equals(as_read_back(df))
    # A streamed Categorical has no categories known up front (test_sink_refuses_categoricals).
    lf = df.drop("cat").lazy().filter(pl.col("bool").is_not_null()).with_columns(twice=pl.col("i64") // 2)
    lf.avro.sink(tmp_path / "sink.avro", compression="snappy")  # type: ignore[attr-defined]
    assert polars_avro.read_avro(tmp_path / "sink.avro").equals(as_read_back(lf.collect()))


def test_sink_streams_a_query_in_order(tmp_path: Path) -> None:
    n = 300_000
    source = tmp_path / "source.avro"
    polars_avro.write_avro(
        pl.DataFrame({"i": range(n), "s": [f"s{i}" for i in range(n)]}), source, compression="snappy"
    )
    lf = polars_avro.scan_avro(source).filter(pl.col("i") % 3 == 0).with_columns(j=pl.col("i") * 2)
    out = tmp_path / "out.avro"
    polars_avro.sink_avro(lf, out, compression="deflate", chunk_size=10_000)
    back = polars_avro.read_avro(out)
    assert back.equals(lf.collect())
    assert back.height == n // 3


def test_sink_takes_a_chunk_size_past_32_bits(tmp_path: Path) -> None:
    # Found by the argument fuzzer on Polars 1.30, whose slice lengths are 32-bit.
    lf = pl.LazyFrame({"i": range(1000)})
    polars_avro.sink_avro(lf, tmp_path / "out.avro", chunk_size=2**32)
    assert polars_avro.read_avro(tmp_path / "out.avro").equals(lf.collect())


def test_a_categorical_of_no_value_is_written_as_a_string(tmp_path: Path) -> None:
    """A Categorical holding no value (no row, or only nulls), or an Enum of no category,
    has no enum symbol to write: Avro C refuses an enum of none (issue 61, item 5), so the
    column is written as a string, which every implementation reads (fastavro here)."""
    frames = [
        pl.DataFrame({"c": pl.Series([], dtype=pl.Categorical)}),
        pl.DataFrame({"c": pl.Series([None, None], dtype=pl.Categorical)}),
        pl.DataFrame({"c": pl.Series([None], dtype=pl.Enum([]))}),
        pl.DataFrame({"c": pl.Series([[None], []], dtype=pl.List(pl.Categorical))}),
    ]
    for i, df in enumerate(frames):
        path = tmp_path / f"{i}.avro"
        polars_avro.write_avro(df, path)
        written = json.dumps(polars_avro.read_avro_header(path).schema)
        assert '"enum"' not in written and '"string"' in written, written
        with open(path, "rb") as f:
            assert list(fastavro.reader(f)) == df.cast(pl.List(pl.String) if i == 3 else pl.String).to_dicts()
    sink = tmp_path / "sink.avro"
    pl.LazyFrame({"c": pl.Series([None], dtype=pl.Enum([]))}).pipe(polars_avro.sink_avro, sink)
    assert '"enum"' not in json.dumps(polars_avro.read_avro_header(sink).schema)
    # A Categorical holding values is an enum of them, as before.
    polars_avro.write_avro(pl.DataFrame({"c": pl.Series(["a", None], dtype=pl.Categorical)}), sink)
    assert polars_avro.read_avro_header(sink).schema["fields"][0]["type"][1]["symbols"] == ["a"]


def test_sink_refuses_categoricals(tmp_path: Path) -> None:
    lf = pl.LazyFrame({"c": pl.Series(["a"], dtype=pl.Categorical)})
    with pytest.raises(AvroSchemaError, match="the column 'c' holds Categorical values"):
        lf.avro.sink(tmp_path / "c.avro")  # type: ignore[attr-defined]
    assert not (tmp_path / "c.avro").exists()


def test_sink_memory_stays_bounded(tmp_path: Path) -> None:
    """A sink of about 400 MB of data peaks far below it: a few batches are in flight."""
    source = tmp_path / "big.parquet"
    n = 4_000_000
    pl.DataFrame({"i": range(n)}).with_columns(
        f=pl.col("i") / 7, s=pl.format("row {} of the big frame", pl.col("i")), t=pl.col("i") * 3
    ).write_parquet(source, row_group_size=100_000)
    size = pl.scan_parquet(source).collect().estimated_size()
    script = textwrap.dedent(
        f"""
        import resource, polars as pl, polars_avro
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        pl.scan_parquet({str(source)!r}).avro.sink({str(tmp_path / "big.avro")!r}, compression="snappy")
        print(before * 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
        """
    )
    out = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert polars_avro.read_avro(tmp_path / "big.avro").height == n
    growth = after - before
    assert growth < size / 3, f"peak RSS grew {growth / 1e6:.0f} MB for {size / 1e6:.0f} MB of data"


def test_wide_and_big_decimals_read_as_text_write_back_exactly(tmp_path: Path) -> None:
    """Decimals wider than Polars holds, and big-decimals, read as their exact text; written
    back with the file's schema, they are the same numbers to fastavro."""
    schema = {
        "type": "record",
        "name": "Money",
        "fields": [
            {"name": "wide", "type": {"type": "bytes", "logicalType": "decimal", "precision": 50, "scale": 5}},
            {
                "name": "fixed",
                "type": {
                    "type": "fixed",
                    "name": "D32",
                    "size": 32,
                    "logicalType": "decimal",
                    "precision": 70,
                    "scale": 3,
                },
            },
            {"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}},
        ],
    }
    values = ["-123.45000", "0.00000", "99999999999999999999999999999999999999999999.99999", "-0.00001"]
    fixed = ["-123.450", "0.000", "1234567890123456789012345678901234567890123456789.123", "-0.001"]
    records = [
        {"wide": decimal.Decimal(v), "fixed": decimal.Decimal(f), "big": big_decimal_bytes(v)}
        for v, f in zip(values, fixed)
    ]
    source = tmp_path / "source.avro"
    with open(source, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), records)
    df = polars_avro.read_avro(source)
    assert df["wide"].to_list() == values == df["big"].to_list()
    assert df.schema == pl.Schema({"wide": pl.String, "fixed": pl.String, "big": pl.String})
    target = tmp_path / "target.avro"
    polars_avro.write_avro(df, target, schema=schema)
    back = list(fastavro.reader(open(target, "rb")))
    assert [r["wide"] for r in back] == [r["wide"] for r in records]
    assert [r["fixed"] for r in back] == [r["fixed"] for r in records]
    # fastavro leaves big-decimal as its bytes, which are Java's.
    assert [r["big"] for r in back] == [r["big"] for r in records]
    assert_frame_equal(polars_avro.read_avro(target), df)
    with pytest.raises(polars_avro.AvroEncodeError, match=r"'1.5' has more digits after the point than .* scale 0"):
        polars_avro.write_avro(
            pl.DataFrame({"v": ["1.5"]}),
            tmp_path / "x.avro",
            schema={
                "type": "record",
                "name": "R",
                "fields": [
                    {"name": "v", "type": {"type": "bytes", "logicalType": "decimal", "precision": 50, "scale": 0}}
                ],
            },
        )


def test_file_objects_that_cannot_seek() -> None:
    """A write-only object (no seek, tell or read) and a pipe take the file as it is written."""

    class WriteOnly:
        def __init__(self) -> None:
            self.chunks: list[bytes] = []

        def write(self, data: bytes) -> int:
            self.chunks.append(bytes(data))
            return len(data)

        def flush(self) -> None:
            pass

    df = pl.DataFrame({"id": range(1000), "name": [f"n{i}" for i in range(1000)]})
    sink = WriteOnly()
    polars_avro.write_avro(df, sink, compression="deflate")
    assert_frame_equal(polars_avro.read_avro(b"".join(sink.chunks)), df)

    read_end, write_end = os.pipe()
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(os.fdopen(read_end, "rb").read()))
    reader.start()
    with os.fdopen(write_end, "wb") as pipe:
        df.lazy().avro.sink(pipe, compression="snappy")
    reader.join(10)
    assert_frame_equal(polars_avro.read_avro(received[0]), df)


def test_a_datetime_keeps_its_time_zone_and_other_readers_see_the_instant(tmp_path: Path) -> None:
    oslo = pl.datetime(2024, 3, 31, 1, 30).dt.replace_time_zone("Europe/Oslo")
    df = pl.select(
        oslo.alias("oslo"),
        oslo.dt.convert_time_zone("America/New_York").dt.cast_time_unit("ms").alias("new_york"),
        oslo.dt.convert_time_zone("UTC").alias("utc"),
    )
    path = tmp_path / "zones.avro"
    polars_avro.write_avro(df, path)
    fields = {f["name"]: f["type"][1] for f in polars_avro.read_avro_header(path).schema["fields"]}
    assert fields["oslo"] == {"type": "long", "logicalType": "timestamp-micros", "polars.time_zone": "Europe/Oslo"}
    assert "polars.time_zone" not in fields["utc"]
    back = polars_avro.read_avro(path)
    assert back.schema == df.schema
    assert_frame_equal(back, df)
    # Other readers see the instant, in UTC.
    instant = dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.timezone.utc)
    assert fastavro_records_of(path)[0] == {"oslo": instant, "new_york": instant, "utc": instant}
    assert [r["oslo"] for r in apache_records(path)] == [instant]
    # A zone Polars does not know is refused when the file is described, naming it.
    schema = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "t", "type": {**fields["oslo"], "polars.time_zone": "Mars/Olympus"}}],
    }
    bad = tmp_path / "mars.avro"
    with open(bad, "wb") as out:
        fastavro.writer(out, fastavro.parse_schema(schema), [{"t": instant}])
    with pytest.raises(AvroSchemaError, match="'Mars/Olympus', which is not a time zone Polars knows"):
        polars_avro.read_avro(bad)


def fastavro_records_of(path: Path) -> list[Any]:
    with open(path, "rb") as f:
        return list(fastavro.reader(f))


# --------------------------------------------------------------------------- recoding a file


def _kept_schema_source(path: Path) -> dict[str, Any]:
    """An Avro file of fastavro's with what a derived schema would lose: names and
    namespaces, fields that are not nullable, enums, fixed, logical types, docs, aliases,
    defaults; and user metadata."""
    from test_types import MIXED_SCHEMA, _mixed_rows

    schema = json.loads(MIXED_SCHEMA)
    schema["doc"] = "mixed values"
    schema["fields"] += [
        {
            "name": "decfx",
            "type": {
                "type": "fixed",
                "name": "D8",
                "namespace": "org.money",
                "size": 8,
                "logicalType": "decimal",
                "precision": 18,
                "scale": 2,
            },
        },
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "tu", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "lts", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {
            "name": "other",
            "doc": "elsewhere",
            "aliases": ["old"],
            "type": {
                "type": "record",
                "name": "Other",
                "namespace": "com.other",
                "fields": [{"name": "e2", "type": "org.example.Kind"}],
            },
        },
    ]
    rows = _mixed_rows(40)
    for i, row in enumerate(rows):
        row.update(
            decfx=decimal.Decimal(i * 12345 - 99).scaleb(-2),
            tm=dt.time(1, 2, 3, 4000),
            tu=dt.time(23, 59, 59, 999999),
            lts=dt.datetime(2021, 5, 6, 7, 8, 9, 10000) + dt.timedelta(hours=i),
            other={"e2": "ABC"[i % 3]},
        )
    write_fastavro(path, schema, rows, codec="snappy", metadata={"origin": "kafka", "connect.version": "3"})
    return schema


def _fastavro_file(path: Path) -> tuple[Any, dict[str, Any], list[Any]]:
    """fastavro's reading: the writer schema, the user metadata, the records (NaN as text)."""
    with path.open("rb") as f:
        reader = fastavro.reader(f)
        records = json.loads(json.dumps(list(reader), default=str).replace("NaN", '"NaN"'))
        metadata = {k: v for k, v in reader.metadata.items() if not k.startswith("avro.")}
        return reader.writer_schema, metadata, records


def test_recoding_a_scan_keeps_the_files_schema_and_metadata(tmp_path: Path) -> None:
    """pl.scan_avro(f).avro.sink(out, compression=...) recodes the file: same schema (as
    fastavro reads it), same user metadata, same values; only the codec changes. As does
    read_avro(f).avro.write(...)."""
    source = tmp_path / "source.avro"
    _kept_schema_source(source)
    schema, metadata, records = _fastavro_file(source)
    assert metadata == {"origin": "kafka", "connect.version": "3"}
    header = polars_avro.read_avro_header(source)

    pl.scan_avro(source).avro.sink(tmp_path / "sunk.avro", compression="deflate")
    polars_avro.read_avro(source).avro.write(tmp_path / "written.avro", compression="zstandard")
    for name, codec in (("sunk.avro", "deflate"), ("written.avro", "zstandard")):
        out = tmp_path / name
        assert _fastavro_file(out) == (schema, metadata, records), name
        recoded = polars_avro.read_avro_header(out)
        assert (recoded.schema_json, recoded.codec) == (header.schema_json, codec)
        assert polars_avro.read_avro(out).equals(polars_avro.read_avro(source))

    # Any other frame with the same columns: the header, given as the schema, says so;
    # metadata= adds to the header's.
    filtered = pl.scan_avro(source).filter(pl.col("i") >= 0)
    filtered.avro.sink(tmp_path / "filtered.avro", schema=header, metadata={"origin": "recoded"})
    kept_schema, kept_metadata, kept_records = _fastavro_file(tmp_path / "filtered.avro")
    assert kept_schema == schema
    assert kept_metadata == {"origin": "recoded", "connect.version": "3"}
    assert kept_records == [r for r in records if r["i"] >= 0]


def test_only_the_unchanged_frame_of_one_file_keeps_its_schema(tmp_path: Path) -> None:
    source = tmp_path / "source.avro"
    write_fastavro(
        source,
        {"type": "record", "name": "Reading", "namespace": "lab", "fields": [{"name": "v", "type": "long"}]},
        [{"v": 1}, {"v": 2}],
        metadata={"origin": "x"},
    )
    other = tmp_path / "other.avro"
    other.write_bytes(source.read_bytes())

    def written(frame: pl.DataFrame | pl.LazyFrame, **options: Any) -> tuple[str, dict[str, bytes]]:
        out = tmp_path / "out.avro"
        if isinstance(frame, pl.LazyFrame):
            polars_avro.sink_avro(frame, out, **options)
        else:
            polars_avro.write_avro(frame, out, **options)
        header = polars_avro.read_avro_header(out)
        return header.schema["name"], {k: v for k, v in header.metadata.items() if not k.startswith("avro.")}

    kept = ("Reading", {"origin": b"x"})
    derived = ("topLevelRecord", {})
    assert written(pl.scan_avro(source)) == kept
    assert written(polars_avro.read_avro(source.read_bytes())) == kept
    assert written(pl.scan_avro(source).select(pl.all())) == derived  # a query step: another frame
    assert written(pl.scan_avro(source, row_index_name="n")) == derived  # a column the file lacks
    assert written(polars_avro.read_avro(source, columns=["v"]).with_columns(w=1)) == derived
    assert written(pl.scan_avro([source, other])) == derived  # which file's header?
    assert written(pl.scan_avro(source), name="Mine") == ("Mine", {})  # a name asks for a derived schema
    df = polars_avro.read_avro(source)
    df.columns = ["renamed"]  # in place: no longer the file's columns
    assert written(df) == derived
