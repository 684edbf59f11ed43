"""Corrupt and hostile inputs: each gives the package's own exception, naming the file,
the block and the byte offset, never a crash, a hang or a PanicException."""

from __future__ import annotations

import datetime as dt
import importlib
import io
import json
import random
import sys
from pathlib import Path

import fastavro
import polars as pl
import pytest
from helpers import container, zigzag

import polars_avro
from polars_avro import exceptions as exc

SCHEMA = {
    "type": "record",
    "name": "R",
    "fields": [{"name": "a", "type": "long"}, {"name": "s", "type": "string"}],
}
RECORDS = [{"a": i, "s": f"value {i}"} for i in range(300)]


def good_file(codec: str = "null") -> bytes:
    buf = io.BytesIO()
    fastavro.writer(buf, SCHEMA, RECORDS, codec=codec, sync_interval=1_000)
    return buf.getvalue()


def read_error(data: bytes, tmp_path: Path, expected: type[exc.AvroError] = exc.AvroError) -> exc.AvroError:
    path = tmp_path / "bad.avro"
    path.write_bytes(data)
    with pytest.raises(expected) as info:
        polars_avro.read_avro(path)
    err = info.value
    assert err.file == str(path), err
    assert str(path) in str(err)
    return err


def first_block_offset(data: bytes) -> int:
    return data.index(data[-16:]) + 16  # the header ends with the first sync marker


def test_bad_magic(tmp_path: Path) -> None:
    err = read_error(b"XYZ\x01" + good_file()[4:], tmp_path, exc.AvroFormatError)
    assert err.offset == 0
    assert "magic" in str(err) and "58 59 5a 01" in str(err)


def test_truncated_header(tmp_path: Path) -> None:
    err = read_error(good_file()[:40], tmp_path, exc.AvroFormatError)
    assert "ended" in str(err)


def test_truncated_block(tmp_path: Path) -> None:
    data = good_file()
    err = read_error(data[: len(data) - 30], tmp_path, exc.AvroFormatError)
    assert err.block is not None and err.block > 0
    assert err.offset is not None and err.offset > first_block_offset(data)


def test_bad_sync_marker(tmp_path: Path) -> None:
    data = bytearray(container(json.dumps(SCHEMA).encode(), [(1, zigzag(5) + zigzag(1) + b"x")] * 3))
    data[-1] ^= 0xFF  # the marker after the last block
    err = read_error(bytes(data), tmp_path, exc.AvroFormatError)
    assert err.block == 2
    assert err.offset == len(data) - 16
    assert "sync marker" in str(err)


def test_unknown_codec(tmp_path: Path) -> None:
    err = read_error(container(json.dumps(SCHEMA).encode(), [], codec=b"lzma9"), tmp_path, exc.AvroCodecError)
    assert "lzma9" in str(err)


@pytest.mark.parametrize("codec", ["deflate", "snappy", "zstandard", "bzip2", "xz"])
def test_corrupted_compressed_data(tmp_path: Path, codec: str) -> None:
    buf = io.BytesIO()
    fastavro.writer(buf, SCHEMA, RECORDS, codec=codec)
    data = bytearray(buf.getvalue())
    start = first_block_offset(bytes(data))
    # Overwrite the middle of the first block's compressed bytes.
    for i in range(start + 8, start + 24):
        data[i] ^= 0x5A
    err = read_error(bytes(data), tmp_path, exc.AvroFormatError)
    assert err.block == 0
    assert err.offset == start


def test_lying_block_length_does_not_allocate(tmp_path: Path) -> None:
    data = container(json.dumps(SCHEMA).encode(), [])
    data += zigzag(1) + zigzag(1 << 60) + b"\x00" * 20
    err = read_error(data, tmp_path, exc.AvroFormatError)
    assert err.block == 0
    assert "claims" in str(err)


def test_lying_record_count(tmp_path: Path) -> None:
    block = zigzag(1) + zigzag(1) + b"x"
    err = read_error(container(json.dumps(SCHEMA).encode(), [(1 << 40, block)]), tmp_path, exc.AvroFormatError)
    assert "claims" in str(err) and err.block == 0


def test_record_bytes_not_matching_schema(tmp_path: Path) -> None:
    # A string length pointing past the end of the block.
    block = zigzag(1) + zigzag(100) + b"short"
    err = read_error(container(json.dumps(SCHEMA).encode(), [(1, block)]), tmp_path, exc.AvroDecodeError)
    assert err.block == 0 and "record 0" in str(err)


def test_leftover_bytes_in_block(tmp_path: Path) -> None:
    block = zigzag(1) + zigzag(1) + b"x" + b"junk"
    err = read_error(container(json.dumps(SCHEMA).encode(), [(1, block)]), tmp_path, exc.AvroDecodeError)
    assert "left over" in str(err)


def test_schema_not_json(tmp_path: Path) -> None:
    err = read_error(container(b"{not json", []), tmp_path, exc.AvroSchemaError)
    assert "JSON" in str(err)
    assert isinstance(err, pl.exceptions.SchemaError)


def test_invalid_schema(tmp_path: Path) -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "Missing"}]}
    err = read_error(container(json.dumps(schema).encode(), []), tmp_path, exc.AvroSchemaError)
    assert "Missing" in str(err)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as info:
        polars_avro.read_avro(tmp_path / "nope.avro")
    assert isinstance(info.value, exc.AvroFileNotFoundError)
    with pytest.raises(exc.AvroFileNotFoundError):
        polars_avro.read_avro(str(tmp_path / "*.avro"))


def test_invalid_utf8_string(tmp_path: Path) -> None:
    block = zigzag(1) + zigzag(2) + b"\xff\xfe"
    err = read_error(container(json.dumps(SCHEMA).encode(), [(1, block)]), tmp_path, exc.AvroDecodeError)
    assert "UTF-8" in str(err) and err.block == 0


def test_random_corruption_never_panics(tmp_path: Path) -> None:
    """Byte flips anywhere: the read either succeeds or raises an AvroError."""
    rng = random.Random(1234)
    original = good_file("deflate")
    path = tmp_path / "fuzz.avro"
    outcomes = {"ok": 0, "error": 0}
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        truncated = rng.random() < 0.2
        if truncated:
            data = data[: rng.randrange(len(data))]
        path.write_bytes(bytes(data))
        try:
            df = polars_avro.read_avro(path)
        except exc.AvroError:
            outcomes["error"] += 1
        else:
            # A flip that happened to keep the file valid must not lose or invent rows
            # (a cut exactly at a block boundary leaves a valid, shorter file).
            assert df.height == len(RECORDS) or (truncated and df.height < len(RECORDS))
            outcomes["ok"] += 1
    assert outcomes["error"] > 200


@pytest.mark.parametrize("items", ["null", "long"])
def test_lying_array_count_fails_fast(tmp_path: Path, items: str) -> None:
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "array", "items": items}}]}
    block = zigzag(1 << 50) + b"\x00" * 8
    err = read_error(container(json.dumps(schema).encode(), [(1, block)]), tmp_path, exc.AvroDecodeError)
    assert "block count of the array" in str(err) and err.block == 0


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "record", "name": "R", "fields": [{"name": "n", "type": "null"}]},
        {"type": "record", "name": "R", "fields": []},
        "null",
    ],
)
def test_lying_count_of_records_that_take_no_bytes_fails_fast(tmp_path: Path, schema: object) -> None:
    # Nothing bounds such a count by the bytes: 10**13 records would be a loop of hours.
    data = container(json.dumps(schema).encode(), [(10**13, b"")])
    err = read_error(data, tmp_path, exc.AvroFormatError)
    assert "can take no bytes" in str(err) and err.block == 0
    # A plausible count of them still reads.
    df = polars_avro.read_avro(container(json.dumps(schema).encode(), [(1000, b"")]))
    assert df.height == 1000


@pytest.mark.parametrize("depth", [300, 100_000])
def test_deeply_nested_schema_is_refused(tmp_path: Path, depth: int) -> None:
    # Deeper than the schema parser's bound, then deeper than the JSON parser's: neither
    # may exhaust the stack.
    nested = '{"type": "array", "items": ' * depth + '"long"' + "}" * depth
    schema = '{"type": "record", "name": "R", "fields": [{"name": "a", "type": ' + nested + "}]}"
    err = read_error(container(schema.encode(), []), tmp_path, exc.AvroSchemaError)
    assert "nests deeper" in str(err) or "recursion limit" in str(err)


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    # About 100 kB of zstandard that expand to more than the 2**30 bytes a block may hold.
    zstd = importlib.import_module("backports.zstd" if sys.version_info < (3, 14) else "compression.zstd")
    compressor = zstd.ZstdCompressor()
    chunk = bytes(1 << 20)
    bomb = b"".join(compressor.compress(chunk) for _ in range(1025)) + compressor.flush()
    assert len(bomb) < 1 << 20
    data = container(json.dumps(SCHEMA).encode(), [(1, bomb)], codec=b"zstandard")
    err = read_error(data, tmp_path, exc.AvroCodecError)
    assert "decompresses to more than 1073741824 bytes" in str(err) and err.block == 0


@pytest.mark.parametrize(
    ("items", "record"),
    [
        # 2000 arrays of 2**20 nulls each.
        ({"type": "array", "items": "null"}, zigzag(2000) + (zigzag(1 << 20) + zigzag(0)) * 2000 + zigzag(0)),
        # One array of 2000 blocks of 2**20 empty fixed values each.
        ({"type": "fixed", "name": "F", "size": 0}, zigzag(1 << 20) * 2000 + zigzag(0)),
    ],
)
def test_many_items_that_take_no_bytes_fail_fast(tmp_path: Path, items: object, record: bytes) -> None:
    # About 8 kB claiming 2 * 10**9 items: before the block's item budget, half a minute
    # of decoding (and, for fixed(0), gigabytes of views).
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "array", "items": items}}]}
    err = read_error(container(json.dumps(schema).encode(), [(1, record)]), tmp_path, exc.AvroDecodeError)
    assert "claim more items than its bytes can hold" in str(err) and err.block == 0


@pytest.mark.parametrize(
    ("logical", "avro_type", "values", "bad"),
    [
        ("time-millis", "int", [5, -1, 86_400_000], [-1, 86_400_000]),
        ("time-micros", "long", [5, -1, 86_400_000_000], [-1, 86_400_000_000]),
    ],
)
def test_time_outside_a_day_raises(
    tmp_path: Path, logical: str, avro_type: str, values: list[int], bad: list[int]
) -> None:
    # fastavro writes the raw numbers (and raises reading them back); they are no time of
    # day, so they raise here too instead of reading as nulls.
    schema = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "t", "type": {"type": avro_type, "logicalType": logical}},
        ],
    }
    records = [{"t": v} for v in values]
    buf = io.BytesIO()
    fastavro.writer(buf, schema, records, sync_interval=1)  # a block per record
    data = buf.getvalue()
    err = read_error(data, tmp_path, exc.AvroDecodeError)
    assert f"expected a {logical} value between 0 and" in str(err)
    assert f"found {bad[0]}" in str(err)
    assert (err.block, err.offset) == (1, block_offsets(data)[1])
    # ignore_errors leaves both blocks out and says so; the good record is read.
    path = tmp_path / "bad.avro"
    with pytest.warns(exc.AvroDataSkippedWarning) as warned:
        df = polars_avro.read_avro(path, ignore_errors=True)
    assert df.get_column("t").to_list() == [dt.time(0, 0, 0, 5_000 if logical == "time-millis" else 5)]
    assert [w.message.block for w in warned] == [1, 2]
    assert all(f"found {b}" in str(w.message) for w, b in zip(warned, bad))


def block_offsets(data: bytes) -> list[int]:
    """Where each block of a container starts (its record count)."""
    offsets, pos = [], first_block_offset(data)
    while pos < len(data):
        offsets.append(pos)
        _, pos = _read_varint(data, pos)
        size, pos = _read_varint(data, pos)
        pos += size + 16
    return offsets


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return (value >> 1) ^ -(value & 1), pos


class _Overlong(io.BytesIO):
    """A file object whose read(n) gives more than n bytes."""

    def read(self, n: int | None = -1) -> bytes:
        return super().read() if n is None or n < 0 else super().read(n + 10)


def test_file_object_reading_more_than_asked_raises() -> None:
    # Bytes past the n asked for would be dropped silently: the read fails instead.
    buf = io.BytesIO()
    fastavro.writer(buf, SCHEMA, [{"a": i, "s": f"value {i}"} for i in range(50_000)])
    assert len(buf.getvalue()) > 4 * 128 * 1024  # several reads of the reader's buffer
    with pytest.raises(exc.AvroIOError, match=r"read\(\d+\) returned \d+ bytes, more than asked for"):
        polars_avro.read_avro(_Overlong(buf.getvalue()))


@pytest.mark.parametrize(
    "node",
    [
        {"type": "fixed", "name": "F", "size": 2**61},
        {"type": "fixed", "name": "F", "size": 2**64 - 1},
        {"type": "fixed", "name": "F", "size": 2**40, "logicalType": "decimal", "precision": 10},
    ],
)
def test_sizes_beyond_reason_are_schema_errors(tmp_path: Path, node: dict) -> None:
    # Before the bound, such sizes overflowed the sums and products made of them (two
    # neighbouring fields skipped as one, the digits a decimal can hold).
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": node}, {"name": "b", "type": "F"}]}
    err = read_error(container(json.dumps(schema).encode(), [(1, b"")]), tmp_path, exc.AvroSchemaError)
    assert f"fixed 'F' has size {node['size']}: expected at most 2147483647 bytes" in str(err)


def test_a_zero_byte_file_is_said_to_be_empty(tmp_path: Path) -> None:
    """Not "a damaged block", nor the magic bytes the file ended before: it is empty."""
    empty = tmp_path / "empty.avro"
    empty.write_bytes(b"")
    for read in (polars_avro.read_avro, polars_avro.read_avro_schema, lambda p: polars_avro.read_avro(p.read_bytes())):
        with pytest.raises(exc.AvroFormatError) as info:
            read(empty)
        assert str(info.value).startswith("not an Avro object container file: the file is empty (0 bytes)")
    good = tmp_path / "good.avro"
    polars_avro.write_avro(pl.DataFrame({"a": [1]}), good)
    with pytest.warns(exc.AvroDataSkippedWarning) as caught:
        df = pl.scan_avro([empty, good], ignore_errors=True).collect()
    assert df["a"].to_list() == [1]
    [warning] = caught
    assert str(warning.message) == (
        f"skipped a file: not an Avro object container file: the file is empty (0 bytes) "
        f"(file '{empty}', byte offset 0)"
    )
    assert (warning.message.file, warning.message.block, warning.message.records) == (str(empty), None, None)
