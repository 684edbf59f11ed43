"""Damaged files, each kind of damage in both modes: strict reads raise the exact error
(kind, block, offset), ``ignore_errors=True`` reads give the rows of every intact block
(compared with fastavro's reading of a clean copy) and report what they left out."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import fastavro
import polars as pl
import pytest
from helpers import _read_zigzag, assert_frame_matches_records, write_fastavro, zigzag

import polars_avro

SCHEMA = {
    "type": "record",
    "name": "R",
    "fields": [
        {"name": "note", "type": ["null", "string"]},
        {"name": "id", "type": "long"},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}
ROWS = 2000


def _records() -> list[dict[str, Any]]:
    return [{"note": None if i % 7 == 0 else f"n{i}", "id": i, "tags": [f"t{i % 3}"] * (i % 3)} for i in range(ROWS)]


@dataclass
class Block:
    start: int  # offset of the record count
    count: int
    data_start: int
    size: int

    @property
    def marker_start(self) -> int:
        return self.data_start + self.size


def blocks_of(data: bytes) -> list[Block]:
    """The framing of a container, read independently of the reader under test."""
    pos = 4
    while True:
        count, pos = _read_zigzag(data, pos)
        if count == 0:
            break
        if count < 0:
            _, pos = _read_zigzag(data, pos)
            count = -count
        for _ in range(2 * count):
            n, pos = _read_zigzag(data, pos)
            pos += n
    pos += 16
    out = []
    while pos < len(data):
        start = pos
        count, pos = _read_zigzag(data, pos)
        size, pos = _read_zigzag(data, pos)
        out.append(Block(start, count, pos, size))
        pos += size + 16
    return out


def _clean(tmp_path: Path, codec: str) -> Path:
    return write_fastavro(tmp_path / f"clean-{codec}.avro", SCHEMA, _records(), codec=codec, sync_interval=2000)


@pytest.fixture(params=["null", "deflate"])
def clean(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return _clean(tmp_path, request.param)


def _block_records(path: Path) -> list[list[dict[str, Any]]]:
    with path.open("rb") as f:
        return [list(block) for block in fastavro.block_reader(f)]


def _read_skipping(data: bytes, **kw: Any) -> tuple[pl.DataFrame, list[polars_avro.SkippedBlock], list[Any]]:
    with warnings.catch_warnings(record=True) as caught, polars_avro.read_stats() as stats:
        warnings.simplefilter("always")
        df = polars_avro.read_avro(data, ignore_errors=True, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", polars_avro.AvroDataSkippedWarning)
        lazy = pl.scan_avro(data, ignore_errors=True).collect(engine="streaming")
    with (
        polars_avro.read_stats() as reader_stats,
        polars_avro.AvroReader(data, ignore_errors=True, batch_size=300) as reader,
    ):
        batches = list(reader)
    # What the reader counts for itself, read_stats() counts too.
    assert reader_stats == reader.stats
    # The iterator, the eager read and the lazy scan agree.
    assert_frame_equal_rows(pl.concat(batches) if batches else df.clear(), df)
    assert_frame_equal_rows(lazy, df)
    warned = [w.message for w in caught if isinstance(w.message, polars_avro.AvroDataSkippedWarning)]
    # read_stats() and the reader's own stats count the same blocks.
    assert stats.blocks_skipped == reader.stats.blocks_skipped == len(reader.errors)
    assert stats.records_skipped == reader.stats.records_skipped == sum(e.records or 0 for e in reader.errors)
    return df, reader.errors, warned


def assert_frame_equal_rows(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.rows() == b.rows()


@dataclass
class Damage:
    name: str
    corrupt: Callable[[bytearray, list[Block]], bytearray]
    #: The block lost, and what a strict read raises.
    block: int
    error: type[polars_avro.AvroError]
    message: str
    #: Whether the block's framing was broken (then its record count is reported only
    #: when the block found after it confirms it: `count_sure`).
    framing: bool
    codecs: tuple[str, ...] = ("null", "deflate")
    count_sure: bool = False


def _flip_marker(data: bytearray, blocks: list[Block]) -> bytearray:
    data[blocks[3].marker_start + 5] ^= 0xFF
    return data


def _longer_size(data: bytearray, blocks: list[Block]) -> bytearray:
    return _resize(data, blocks[3], blocks[3].size + 40)


def _shorter_size(data: bytearray, blocks: list[Block]) -> bytearray:
    return _resize(data, blocks[3], blocks[3].size - 40)


def _resize(data: bytearray, block: Block, size: int) -> bytearray:
    encoded = zigzag(size)
    old_len = block.data_start - block.start - len(zigzag(block.count))
    assert len(encoded) == old_len, "the test keeps the varint's width"
    data[block.data_start - old_len : block.data_start] = encoded
    return data


def _length_one_long(data: bytearray, blocks: list[Block]) -> bytearray:
    return _resize(data, blocks[3], blocks[3].size + 1)


def _length_one_short(data: bytearray, blocks: list[Block]) -> bytearray:
    return _resize(data, blocks[3], blocks[3].size - 1)


def _inserted_in_data(data: bytearray, blocks: list[Block]) -> bytearray:
    at = blocks[3].data_start + blocks[3].size // 2
    return data[:at] + b"\x55" + data[at:]


def _deleted_from_data(data: bytearray, blocks: list[Block]) -> bytearray:
    at = blocks[3].data_start + blocks[3].size // 2
    return data[:at] + data[at + 1 :]


def _inserted_in_marker(data: bytearray, blocks: list[Block]) -> bytearray:
    at = blocks[3].marker_start + 9
    return data[:at] + b"\xaa" + data[at:]


def _deleted_from_marker(data: bytearray, blocks: list[Block]) -> bytearray:
    at = blocks[3].marker_start + 4
    return data[:at] + data[at + 1 :]


def _negative_count(data: bytearray, blocks: list[Block]) -> bytearray:
    block = blocks[3]
    count_len = len(zigzag(block.count))
    encoded = zigzag(-block.count)
    assert len(encoded) == count_len
    data[block.start : block.start + count_len] = encoded
    return data


def _bad_union_index(data: bytearray, blocks: list[Block]) -> bytearray:
    # The first record's first field is the ["null", "string"] union: branch 9 is no branch.
    data[blocks[3].data_start] = zigzag(9)[0]
    return data


def _bad_deflate(data: bytearray, blocks: list[Block]) -> bytearray:
    # A deflate stream whose first byte announces a reserved block type.
    data[blocks[3].data_start] = 0xFF
    return data


def _truncated(data: bytearray, blocks: list[Block]) -> bytearray:
    return data[: blocks[-1].data_start + blocks[-1].size // 2]


DAMAGES = [
    Damage(
        "sync marker", _flip_marker, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True, count_sure=True
    ),
    Damage("length too long", _longer_size, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True),
    Damage("length too short", _shorter_size, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True),
    Damage("length one too long", _length_one_long, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True),
    Damage("length one too short", _length_one_short, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True),
    Damage("byte inserted in data", _inserted_in_data, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True),
    Damage(
        "byte deleted from data", _deleted_from_data, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True
    ),
    Damage(
        "byte inserted in marker", _inserted_in_marker, 3, polars_avro.AvroFormatError, "bad sync marker", framing=True
    ),
    Damage(
        "byte deleted from marker",
        _deleted_from_marker,
        3,
        polars_avro.AvroFormatError,
        "bad sync marker",
        framing=True,
    ),
    Damage(
        "negative count",
        _negative_count,
        3,
        polars_avro.AvroFormatError,
        "non-negative block record count",
        framing=True,
    ),
    Damage(
        "record",
        _bad_union_index,
        3,
        polars_avro.AvroDecodeError,
        "union branch index",
        framing=False,
        codecs=("null",),
    ),
    Damage("decompression", _bad_deflate, 3, polars_avro.AvroCodecError, "deflate", framing=False, codecs=("deflate",)),
    Damage(
        "truncated tail",
        _truncated,
        -1,
        polars_avro.AvroFormatError,
        r"only \d+ bytes remain in the file",
        framing=True,
    ),
]


@pytest.mark.parametrize(
    ("damage", "codec"), [(d, c) for d in DAMAGES for c in d.codecs], ids=lambda x: getattr(x, "name", x)
)
def test_damage_in_both_modes(damage: Damage, codec: str, tmp_path: Path) -> None:
    clean = _clean(tmp_path, codec)
    data = bytearray(clean.read_bytes())
    blocks = blocks_of(bytes(data))
    assert len(blocks) > 6
    lost = damage.block % len(blocks)
    damaged = bytes(damage.corrupt(data, blocks))

    with pytest.raises(damage.error, match=damage.message) as info:
        polars_avro.read_avro(damaged)
    assert info.value.block == lost
    assert info.value.file == "<bytes>"
    # Where the damage shows: within the block, or where its corrupted length says it ends.
    assert blocks[lost].start <= info.value.offset <= blocks[lost].marker_start + 40

    df, errors, warned = _read_skipping(damaged)
    per_block = _block_records(clean)
    kept = [r for i, block in enumerate(per_block) if i != lost for r in block]
    assert_frame_matches_records(df, kept, SCHEMA)
    assert len(errors) == 1
    (skipped,) = errors
    assert skipped.block == lost
    assert skipped.kind == damage.error.__name__
    assert skipped.records == (blocks[lost].count if damage.count_sure or not damage.framing else None)
    # The report says what the error said, less the way out the error names.
    assert str(info.value) == skipped.to_dict()["message"] + (
        "; the file is damaged: pass ignore_errors=True to read its intact blocks (the damaged ones are "
        "reported), or rewrite it without them with `polars-avro repair`"
    )
    assert [w.block for w in warned] == [lost]
    assert df.height == ROWS - blocks[lost].count


def test_two_damaged_blocks_are_both_reported(clean: Path) -> None:
    data = bytearray(clean.read_bytes())
    blocks = blocks_of(bytes(data))
    data[blocks[1].marker_start] ^= 0xFF
    data[blocks[5].marker_start + 15] ^= 0xFF
    df, errors, _ = _read_skipping(bytes(data))
    assert [e.block for e in errors] == [1, 5]
    # Only their markers were damaged: the blocks found after them confirm their counts.
    assert [e.records for e in errors] == [blocks[1].count, blocks[5].count]
    per_block = _block_records(clean)
    assert_frame_matches_records(df, [r for i, b in enumerate(per_block) if i not in (1, 5) for r in b], SCHEMA)


def test_the_row_index_keeps_the_positions_of_records_in_the_file(tmp_path: Path) -> None:
    data = bytearray(_clean(tmp_path, "null").read_bytes())  # the record damage needs plain blocks
    blocks = blocks_of(bytes(data))
    damaged = bytes(_bad_union_index(data, blocks))
    with pytest.warns(polars_avro.AvroDataSkippedWarning, match="block 3"):
        df = polars_avro.read_avro(damaged, ignore_errors=True, row_index_name="nr", n_threads=1)
    first_lost = sum(b.count for b in blocks[:3])
    expected = [i for i in range(ROWS) if not first_lost <= i < first_lost + blocks[3].count]
    assert df["nr"].to_list() == expected
    assert df["id"].to_list() == expected


def test_the_row_index_keeps_the_places_of_a_block_lost_with_its_marker(clean: Path) -> None:
    data = bytearray(clean.read_bytes())
    blocks = blocks_of(bytes(data))
    data[blocks[1].marker_start + 2] ^= 0xFF
    with pytest.warns(polars_avro.AvroDataSkippedWarning, match="block 1"):
        df = polars_avro.read_avro(bytes(data), ignore_errors=True, row_index_name="nr")
    lost = range(blocks[0].count, blocks[0].count + blocks[1].count)
    assert df["nr"].to_list() == df["id"].to_list() == [i for i in range(ROWS) if i not in lost]


def test_a_count_reads_what_a_read_reads_and_warns_alike(clean: Path) -> None:
    data = bytearray(clean.read_bytes())
    blocks = blocks_of(bytes(data))
    _flip_marker(data, blocks)
    data[blocks[5].data_start] ^= 0xFF  # block 5's records (or its deflate stream) broken
    for engine in ("in-memory", "streaming"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read = pl.scan_avro(bytes(data), ignore_errors=True).collect(engine=engine)
            counted = pl.scan_avro(bytes(data), ignore_errors=True).select(pl.len()).collect(engine=engine).item()
        assert counted == read.height == ROWS - blocks[3].count - blocks[5].count
        skipped = [(w.message.block, w.message.records) for w in caught]
        assert skipped == [(3, blocks[3].count), (5, blocks[5].count)] * 2


def test_a_filter_with_skipped_blocks(clean: Path) -> None:
    data = bytearray(clean.read_bytes())
    damaged = bytes(_flip_marker(data, blocks_of(bytes(data))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", polars_avro.AvroDataSkippedWarning)
        got = pl.scan_avro(damaged, ignore_errors=True).filter(pl.col("id") % 5 == 0).select("id").collect()
        full = polars_avro.read_avro(damaged, ignore_errors=True)
    assert got["id"].to_list() == full.filter(pl.col("id") % 5 == 0)["id"].to_list()


def test_a_clean_file_reports_nothing(clean: Path) -> None:
    with polars_avro.AvroReader(clean, ignore_errors=True) as reader:
        df = pl.concat(list(reader))
    assert reader.errors == []
    assert reader.stats.rows == ROWS == df.height
    assert reader.stats.files == 1


def test_errors_that_are_not_damage_still_raise(tmp_path: Path) -> None:
    with pytest.raises(polars_avro.AvroFileNotFoundError):
        polars_avro.read_avro(tmp_path / "missing.avro", ignore_errors=True)
    with pytest.raises(polars_avro.AvroFormatError, match="not an Avro object container file"):
        polars_avro.read_avro(b"not avro at all", ignore_errors=True)


def test_avro_reader_iterates_batches_and_stops_early(clean: Path) -> None:
    reader = polars_avro.AvroReader(clean, columns=["id"], batch_size=100, n_rows=1500)
    assert reader.schema == pl.Schema({"id": pl.Int64})
    first = next(iter(reader))
    assert first.columns == ["id"]
    rest = list(reader)
    assert sum(df.height for df in [first, *rest]) == 1500
    with polars_avro.AvroReader(io.BytesIO(clean.read_bytes()), batch_size=100) as early:
        next(iter(early))
    assert list(early) == []
