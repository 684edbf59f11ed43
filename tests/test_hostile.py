"""Inputs a hostile probe used: values beyond their declared types, recursion at the
documented depth, more records than a frame can hold, and the edges of the API (a
header-only file, a folder with an empty file, schema conflicts). Each is written by
fastavro (headers and records) or by a few lines of Python after the specification,
and read back as a user would."""

from __future__ import annotations

import io
import json
import sys
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import write_fastavro, zigzag
from test_ignore_errors import blocks_of

import polars_avro


def _with_blocks(schema: Any, blocks: list[tuple[int, bytes]], codec: str = "null") -> bytes:
    """A file whose header fastavro writes, followed by blocks of hand-encoded records
    (count, bytes as the codec stores them), each closed by the header's sync marker."""
    out = io.BytesIO()
    fastavro.writer(out, fastavro.parse_schema(schema), [], codec=codec)
    data = out.getvalue()
    sync = data[-16:]
    body = b"".join(zigzag(count) + zigzag(len(raw)) + raw + sync for count, raw in blocks)
    return data + body


def _deflated_zeros(n_bytes: int) -> bytes:
    """`n_bytes` zero bytes (a multiple of 1 MiB) as raw deflate, Avro's deflate codec: a
    kilobyte per megabyte, a decompression bomb."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return b"".join(compressor.compress(bytes(1 << 20)) for _ in range(n_bytes >> 20)) + compressor.flush()


# --------------------------------------------------------------------------- decimals

DECIMAL_4_2 = {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}


def _decimal_file(tmp_path: Path, precision: int, values: list[str]) -> bytes:
    """Decimals written by fastavro as decimal(`precision`, 2), declared decimal(4, 2)."""
    schema = {"type": "record", "name": "R", "fields": [{"name": "d", "type": {**DECIMAL_4_2, "precision": precision}}]}
    path = write_fastavro(tmp_path / "d.avro", schema, [{"d": Decimal(v)} for v in values], sync_interval=1)
    # The same length of text: only the declared precision changes.
    return path.read_bytes().replace(f'"precision": {precision}'.encode(), b'"precision": 4', 1)


def test_a_decimal_wider_than_its_precision_is_refused_naming_where(tmp_path: Path) -> None:
    data = _decimal_file(tmp_path, 6, ["12.34", "1234.56", "-99.99"])
    with pytest.raises(polars_avro.AvroDecodeError, match=r"decimal\(4, 2\) value of at most 4 digits") as info:
        polars_avro.read_avro(data)
    assert "found 1234.56 (6 digits)" in str(info.value)
    assert "at byte 0 of the block data" in str(info.value)
    assert (info.value.block, info.value.offset) == (1, blocks_of(data)[1].start)
    with pytest.warns(polars_avro.AvroDataSkippedWarning, match="at most 4 digits"):
        df = polars_avro.read_avro(data, ignore_errors=True)
    assert df["d"].to_list() == [Decimal("12.34"), Decimal("-99.99")]
    assert df.schema["d"] == pl.Decimal(4, 2)


def test_the_widest_values_of_a_precision_are_read(tmp_path: Path) -> None:
    data = _decimal_file(tmp_path, 4, ["99.99", "-99.99", "0.01"])
    assert polars_avro.read_avro(data)["d"].to_list() == [Decimal("99.99"), Decimal("-99.99"), Decimal("0.01")]


def test_a_wide_decimal_read_as_text_is_checked_too(tmp_path: Path) -> None:
    wide = {"type": "bytes", "logicalType": "decimal", "precision": 40, "scale": 0}
    schema = {"type": "record", "name": "R", "fields": [{"name": "d", "type": {**wide, "precision": 42}}]}
    values = [Decimal(10**39), Decimal(10**41)]
    data = write_fastavro(tmp_path / "w.avro", schema, [{"d": v} for v in values]).read_bytes()
    data = data.replace(b'"precision": 42', b'"precision": 40', 1)
    with pytest.raises(polars_avro.AvroDecodeError, match=r"decimal\(40, 0\).*found 1" + "0" * 41 + " "):
        polars_avro.read_avro(data)


def test_a_decimal_whose_text_would_take_gigabytes_is_refused_reading_and_writing(tmp_path: Path) -> None:
    # A scale of a billion makes every value's text a billion digits long.
    huge = {"type": "bytes", "logicalType": "decimal", "precision": 10**9, "scale": 10**9 - 1}
    schema = {"type": "record", "name": "R", "fields": [{"name": "d", "type": huge}]}
    # fastavro writes the bytes it is given as they are.
    data = write_fastavro(tmp_path / "h.avro", schema, [{"d": b"\x01"}]).read_bytes()
    words = "a decimal of precision 1000000000: polars-avro reads and writes decimals of up to 10000 digits"
    with pytest.raises(polars_avro.AvroSchemaError, match=words):
        polars_avro.read_avro(data)
    with pytest.raises(polars_avro.AvroSchemaError, match=words):
        polars_avro.write_avro(pl.DataFrame({"d": ["1"]}), tmp_path / "out.avro", schema=schema)


def test_a_message_decimal_wider_than_its_precision_fails_or_is_null_with_a_reason() -> None:
    wider = {"type": "record", "name": "R", "fields": [{"name": "d", "type": {**DECIMAL_4_2, "precision": 6}}]}
    declared = {"type": "record", "name": "R", "fields": [{"name": "d", "type": DECIMAL_4_2}]}
    messages = []
    for value in ("12.34", "1234.56"):
        out = io.BytesIO()
        fastavro.schemaless_writer(out, fastavro.parse_schema(wider), {"d": Decimal(value)})
        messages.append(out.getvalue())
    df = pl.DataFrame({"value": messages})
    with pytest.raises(polars_avro.AvroDecodeError, match=r"at most 4 digits at byte 0 of the message.*row 1"):
        df.select(pl.col("value").avro.decode(declared))
    with pytest.warns(polars_avro.AvroDecodeWarning, match="1 of 2"):
        out = df.select(pl.col("value").avro.decode(declared, mode="permissive"))
    assert out["value"].to_list() == [{"d": Decimal("12.34")}, None]
    reasons = df.select(pl.col("value").avro.decode_error(declared))["value"].to_list()
    assert reasons[0] is None and "found 1234.56 (6 digits)" in reasons[1]


# --------------------------------------------------------------------------- recursion

NODE = {
    "type": "record",
    "name": "Node",
    "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}],
}


def _linked_list(nodes: int) -> bytes:
    """One record: a list of `nodes` nodes, each a record and a union branch."""
    raw = b"".join(zigzag(i) + zigzag(1) for i in range(nodes - 1)) + zigzag(nodes - 1) + zigzag(0)
    return _with_blocks(NODE, [(1, raw)])


def test_a_linked_list_as_deep_as_documented_decodes() -> None:
    # The top-level record is the first node; its `next` holds the other 4,096.
    df = polars_avro.read_avro(_linked_list(4097))
    assert df["value"].to_list() == [0]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # Python's json parser recurses too
    try:
        node, depth = json.loads(df["next"][0]), 0
    finally:
        sys.setrecursionlimit(limit)
    while node is not None:
        depth += 1
        assert node["value"] == depth
        node = node["next"]
    assert depth == 4096
    # fastavro reads the same file (Python's recursion limit allowing).
    assert next(fastavro.reader(io.BytesIO(_linked_list(200))))["next"]["value"] == 1


@pytest.mark.parametrize("n_threads", [1, 2])
def test_a_deeper_value_is_refused(n_threads: int) -> None:
    with pytest.raises(polars_avro.AvroDecodeError, match="values nest deeper than 4096 levels"):
        polars_avro.read_avro(_linked_list(20_000), n_threads=n_threads)


# --------------------------------------------------------------------------- limits


def test_more_records_than_a_frame_can_hold_is_an_avro_error(tmp_path: Path) -> None:
    # 8 deflate blocks of 943,718,400 records of one zero byte each (a long 0): 7.5 billion.
    records = 943_718_400
    raw = _deflated_zeros(records)
    path = tmp_path / "many.avro"
    path.write_bytes(_with_blocks("long", [(records, raw)] * 8, codec="deflate"))
    assert path.stat().st_size < 10_000_000
    if pl.get_index_type() != pl.UInt32:
        pytest.skip("this Polars holds 2**64 rows")
    with pytest.raises(polars_avro.AvroCapacityError, match="holds more than 4,294,967,295 records"):
        polars_avro.read_avro(path, columns=[])
    if hasattr(pl.io, "external_reader"):  # Polars 2 counts through the block headers
        with pytest.raises(pl.exceptions.ComputeError, match="holds more than 4,294,967,295 records"):
            pl.scan_avro(path).select(pl.len()).collect()


# --------------------------------------------------------------------------- dates out of Python's range


def test_dates_and_timestamps_far_out_are_kept_as_written(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "day", "type": {"type": "int", "logicalType": "date"}},
            {"name": "ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        ],
    }
    raw = {"type": "record", "name": "R", "fields": [{"name": "day", "type": "int"}, {"name": "ms", "type": "long"}]}
    values = [{"day": 2**31 - 1, "ms": 2**63 - 1}, {"day": -(2**31), "ms": -(2**63)}, {"day": 0, "ms": 0}]
    # fastavro writes the raw numbers; the header that declares them dates is ours.
    path = write_fastavro(tmp_path / "far.avro", raw, values)
    blocks = []
    with path.open("rb") as f:
        for block in fastavro.block_reader(f):
            records = io.BytesIO()
            for record in block:
                fastavro.schemaless_writer(records, fastavro.parse_schema(raw), record)
            blocks.append((block.num_records, records.getvalue()))
    df = polars_avro.read_avro(_with_blocks(schema, blocks))
    assert df.schema == pl.Schema({"day": pl.Date, "ms": pl.Datetime("ms", "UTC")})
    # Kept exactly as the file holds them (Polars itself cannot print these days).
    assert df.select(pl.all().to_physical()).rows(named=True) == values


# --------------------------------------------------------------------------- the edges of the API


def test_read_avro_schema_leaves_out_damaged_headers_with_ignore_errors(tmp_path: Path) -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]}
    write_fastavro(tmp_path / "a.avro", schema, [{"id": 1}])
    (tmp_path / "b.avro").write_bytes(b"")
    with pytest.raises(polars_avro.AvroFormatError, match="b.avro"):
        polars_avro.read_avro_schema(tmp_path, schema_from="all")
    # The first file's header alone gives the schema; the damaged one raises when read.
    assert polars_avro.read_avro_schema(tmp_path) == pl.Schema({"id": pl.Int64})
    with pytest.raises(polars_avro.AvroFormatError, match="b.avro"):
        polars_avro.read_avro(tmp_path)
    for schema_from in ("first", "all"):
        schema = polars_avro.read_avro_schema(tmp_path, ignore_errors=True, schema_from=schema_from)
        assert schema == pl.Schema({"id": pl.Int64})
    assert pl.scan_avro(tmp_path, ignore_errors=True).collect_schema() == pl.Schema({"id": pl.Int64})
    # A damaged first file is left out, and the next one gives the schema.
    (tmp_path / "0.avro").write_bytes(b"")
    assert polars_avro.read_avro_schema(tmp_path, ignore_errors=True) == pl.Schema({"id": pl.Int64})


def test_a_schema_conflict_names_its_file(tmp_path: Path) -> None:
    for name, avro_type in (("a", "long"), ("b", "string")):
        schema = {"type": "record", "name": "R", "fields": [{"name": "x", "type": avro_type}]}
        write_fastavro(tmp_path / f"{name}.avro", schema, [])
    with pytest.raises(polars_avro.AvroSchemaMismatchError) as info:
        polars_avro.read_avro_schema(tmp_path, schema_from="all")
    assert info.value.file == str(tmp_path / "b.avro")
    with pytest.raises(polars_avro.AvroSchemaMismatchError) as info:
        polars_avro.read_avro(tmp_path)
    assert info.value.file == str(tmp_path / "b.avro")


def test_a_map_block_count_past_the_data_says_so_in_plain_words() -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "m", "type": {"type": "map", "values": "long"}}]}
    with pytest.raises(polars_avro.AvroDecodeError, match="expected a block count of the map that fits"):
        polars_avro.read_avro(_with_blocks(schema, [(1, zigzag(10**7))]))


# --------------------------------------------------------------------------- width


def test_twenty_thousand_fields_read_projected_and_resolved(tmp_path: Path) -> None:
    """Wide records as fastavro writes them (benches/width.py times 10,000 to 100,000)."""
    n = 20_000
    schema = {"type": "record", "name": "Wide", "fields": [{"name": f"c{i}", "type": "long"} for i in range(n)]}
    records = [{f"c{i}": i * row for i in range(n)} for row in range(3)]
    path = write_fastavro(tmp_path / "wide.avro", schema, records)
    df = polars_avro.read_avro(path)
    assert df.width == n
    assert df.rows(named=True) == list(fastavro.reader(path.open("rb")))
    assert polars_avro.read_avro(path, columns=[f"c{n - 1}", "c0"]).rows() == [
        (r[f"c{n - 1}"], r["c0"]) for r in records
    ]
    # Through a reader schema: every field found by name among 20,000, one new with a default.
    reader = {**schema, "fields": [*reversed(schema["fields"]), {"name": "extra", "type": "long", "default": 7}]}
    resolved = polars_avro.read_avro(path, reader_schema=reader)
    assert resolved.columns == [f["name"] for f in reader["fields"]]
    assert resolved["c5"].to_list() == [0, 5, 10] and resolved["extra"].to_list() == [7, 7, 7]
    assert pl.scan_avro(path).select(pl.len()).collect().item() == 3
