"""Resynchronisation after damage, swept over every byte of small files: a byte inserted
or deleted anywhere in the blocks, and every block's length one off, as a hostile probe
would damage a fastavro-written file. ``ignore_errors=True`` must keep every block but the
damaged one (values compared with fastavro's reading of the clean file), report it, number
the rows after it honestly, count what it reads, and give the same rows whichever way
``plan_splits`` tiles the file.
"""

from __future__ import annotations

import dataclasses
import random
import warnings
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import assert_frame_matches_records, split_file_range, write_fastavro, zigzag
from test_ignore_errors import Block, blocks_of

import polars_avro

SCHEMA = {
    "type": "record",
    "name": "Probe",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "score", "type": "double"},
    ],
}
RECORDS = [{"id": i, "name": None if i % 5 == 0 else f"user-{i}", "score": i / 4} for i in range(40)]


@pytest.fixture(scope="module", params=["null", "deflate"])
def probe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[Block]]:
    """The issue's probe file: 40 records in blocks of about 100 bytes."""
    path = write_fastavro(
        tmp_path_factory.mktemp("resync") / f"probe-{request.param}.avro",
        SCHEMA,
        RECORDS,
        codec=request.param,
        sync_interval=100,
    )
    data = path.read_bytes()
    blocks = blocks_of(data)
    assert len(blocks) >= 5
    return data, blocks


def _ids_per_block(data: bytes, blocks: list[Block]) -> list[list[int]]:
    ids = [r["id"] for r in RECORDS]
    out, first = [], 0
    for b in blocks:
        out.append(ids[first : first + b.count])
        first += b.count
    return out


def _damaged_block(blocks: list[Block], position: int) -> int:
    """The block whose bytes (framing, data, marker) hold `position`."""
    return next(i for i, b in enumerate(blocks) if b.start <= position < b.marker_start + 16)


def _damaged_blocks(blocks: list[Block], first: int, last: int) -> set[int]:
    """The blocks that could hold damage equally well made anywhere from `first` to `last`:
    deleting any byte of a run of equal bytes, or inserting a byte next to its equals, gives
    the same file, so the bytes cannot say which block was hit (the sync marker is random,
    and its last byte can equal the next block's count). Past the last marker, the damage is
    trailing bytes: a block of its own, after the last one."""
    end = blocks[-1].marker_start + 16
    return {
        _damaged_block(blocks, p) if p < end else len(blocks) for p in range(first, last + 1) if p >= blocks[0].start
    }


def _run(data: bytes, position: int, byte: int) -> tuple[int, int]:
    """The positions from `first` to `last` around `position` whose bytes equal `byte`."""
    first, last = position, position
    while first > 0 and data[first - 1] == byte:
        first -= 1
    while last + 1 < len(data) and data[last + 1] == byte:
        last += 1
    return first, last


def _read(data: bytes, **kw: Any) -> tuple[pl.DataFrame, list[polars_avro.SkippedBlock]]:
    with polars_avro.AvroReader(data, ignore_errors=True, **kw) as reader:
        frames = list(reader)
    return pl.concat(frames) if frames else pl.DataFrame(schema=reader.schema), reader.errors


def _check(data: bytes, blocks: list[Block], could_be_lost: set[int], what: str) -> None:
    df, errors = _read(data, row_index_name="nr")
    assert len(errors) == 1, what
    lost = errors[0].block
    assert lost in could_be_lost, what
    per_block = _ids_per_block(data, blocks)
    kept = [i for b, ids in enumerate(per_block) if b != lost for i in ids]
    assert df["id"].to_list() == kept, what
    assert_frame_matches_records(df.drop("nr"), [RECORDS[i] for i in kept], SCHEMA)
    assert [e.block for e in errors] == [lost], what
    (error,) = errors
    assert error.records in (None, blocks[lost].count if lost < len(blocks) else 0), what
    # Rows after the damage keep their places in the file when the count was sure.
    if error.records is not None:
        assert df["nr"].to_list() == kept, what
    else:
        assert df["nr"].to_list() == list(range(len(kept))), what
    # A count reads what the read reads, and reports the same.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counted = pl.scan_avro(data, ignore_errors=True).select(pl.len()).collect().item()
    assert counted == len(kept), what
    assert [w.message.block for w in caught if isinstance(w.message, polars_avro.AvroDataSkippedWarning)] == [lost]


def test_a_byte_inserted_anywhere_loses_only_its_block(probe: tuple[bytes, list[Block]]) -> None:
    data, blocks = probe
    for position in range(blocks[0].start, len(data)):
        for byte in (0x00, 0x55, 0xFF):
            damaged = data[:position] + bytes([byte]) + data[position:]
            # Inserting next to an equal byte is inserting anywhere in their run.
            first, last = _run(damaged, position, byte)
            could_be_lost = _damaged_blocks(blocks, first, last)
            _check(damaged, blocks, could_be_lost, f"0x{byte:02x} inserted at {position}")


def test_a_byte_deleted_anywhere_loses_only_its_block(probe: tuple[bytes, list[Block]]) -> None:
    data, blocks = probe
    for position in range(blocks[0].start, len(data)):
        damaged = data[:position] + data[position + 1 :]
        first, last = _run(data, position, data[position])
        _check(damaged, blocks, _damaged_blocks(blocks, first, last), f"byte deleted at {position}")


def test_a_length_one_off_loses_only_its_block(probe: tuple[bytes, list[Block]]) -> None:
    data, blocks = probe
    for i, block in enumerate(blocks):
        for delta in (-1, 1):
            size_at = block.start + len(zigzag(block.count))
            encoded = zigzag(block.size + delta)
            if len(encoded) != block.data_start - size_at:
                continue  # the varint would change width: that is an inserted or deleted byte
            damaged = data[:size_at] + encoded + data[block.data_start :]
            _check(damaged, blocks, {i}, f"block {i}'s length {delta:+}")
            with pytest.raises(polars_avro.AvroFormatError) as info:
                polars_avro.read_avro(damaged)
            assert info.value.block == i


def test_every_damaged_marker_keeps_the_blocks_between_them(probe: tuple[bytes, list[Block]]) -> None:
    data, blocks = probe
    damaged = bytearray(data)
    for b in blocks[1:3]:
        damaged[b.marker_start + 7] ^= 0xFF
    df, errors = _read(bytes(damaged), row_index_name="nr")
    per_block = _ids_per_block(data, blocks)
    kept = [i for b, ids in enumerate(per_block) if b not in (1, 2) for i in ids]
    assert df["id"].to_list() == df["nr"].to_list() == kept
    # Two blocks in a row, one stretch of damage: reported once, with both counts.
    assert [(e.block, e.records) for e in errors] == [(1, blocks[1].count + blocks[2].count)]


def _tilings(path: Path, rng: random.Random, size: int, n: int) -> list[list[polars_avro.AvroSplit]]:
    (whole,) = polars_avro.plan_splits(path, target_bytes=10**9, ignore_errors=True)
    (file,) = whole.files
    out = []
    for _ in range(n):
        cuts = sorted({rng.randrange(1, size) for _ in range(rng.randrange(1, 8))})
        bounds = [0, *cuts, size]
        out.append(
            [
                dataclasses.replace(whole, index=i, files=(split_file_range(file, a, b),))
                for i, (a, b) in enumerate(zip(bounds, bounds[1:]))
            ]
        )
    return out


def test_splits_of_damaged_files_read_what_the_whole_file_read_does(
    probe: tuple[bytes, list[Block]], tmp_path: Path
) -> None:
    data, blocks = probe
    rng = random.Random(len(data))
    path = tmp_path / "damaged.avro"
    for position in range(blocks[0].start, len(data), 3):
        for damaged in (data[:position] + b"\x55" + data[position:], data[:position] + data[position + 1 :]):
            path.write_bytes(damaged)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", polars_avro.AvroDataSkippedWarning)
                expected = polars_avro.read_avro(path, ignore_errors=True)
                for splits in _tilings(path, rng, len(damaged), 3):
                    got = pl.concat([df for s in splits for df in polars_avro.read_split(s)])
                    assert got.rows() == expected.rows(), f"damage at {position}, splits {splits}"


def test_fastavro_reads_the_probe_file(probe: tuple[bytes, list[Block]]) -> None:
    """The oracle: the clean file holds the records, block by block."""
    import io

    data, blocks = probe
    per_block = [[r["id"] for r in b] for b in fastavro.block_reader(io.BytesIO(data))]
    assert per_block == _ids_per_block(data, blocks)
