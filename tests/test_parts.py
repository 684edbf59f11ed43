"""Blocks of more records than a batch are read in parts of a batch each: values,
row index, offsets, limits and predicates as for a block read whole, with every codec;
damage inside such a block; and the memory a decompression bomb of one block costs (a
streaming aggregate over 256 MiB of zeros, which once took gigabytes)."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import assert_frame_matches_records, write_fastavro, zigzag
from test_hostile import _deflated_zeros, _with_blocks
from test_ignore_errors import blocks_of

import polars_avro

SCHEMA = {
    "type": "record",
    "name": "Wide",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "score", "type": "double"},
    ],
}
RECORDS = [
    {
        "id": i,
        "name": None if i % 7 == 0 else f"n{i}" * (i % 5),
        "tags": [f"t{j}" for j in range(i % 4)],
        "score": i / 8,
    }
    for i in range(5000)
]
CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]


@pytest.fixture(scope="module", params=CODECS)
def one_block(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5,000 records in one block, written by fastavro."""
    path = tmp_path_factory.mktemp("parts") / f"one-block-{request.param}.avro"
    write_fastavro(path, SCHEMA, RECORDS, codec=request.param, sync_interval=1 << 30)
    assert [b.count for b in blocks_of(path.read_bytes())] == [5000]
    return path


def _batches(source: Any, **kw: Any) -> list[pl.DataFrame]:
    with polars_avro.AvroReader(source, **kw) as reader:
        return list(reader)


def test_a_block_larger_than_a_batch_comes_in_batches(one_block: Path) -> None:
    frames = _batches(one_block, batch_size=700, row_index_name="nr")
    assert [len(f) for f in frames] == [700] * 7 + [100]
    df = pl.concat(frames)
    assert df["nr"].to_list() == list(range(5000))
    assert_frame_matches_records(df.drop("nr"), RECORDS, SCHEMA)
    # The same values as a read of the block whole.
    assert df.drop("nr").equals(polars_avro.read_avro(one_block))


def test_offsets_limits_and_predicates_inside_a_block_read_in_parts(one_block: Path) -> None:
    lf = pl.scan_avro(one_block, batch_size=300).with_row_index("nr")
    got = lf.slice(1234, 2000).collect()
    assert got["nr"].to_list() == list(range(1234, 3234))
    assert_frame_matches_records(got.drop("nr"), RECORDS[1234:3234], SCHEMA)
    head = pl.scan_avro(one_block, batch_size=300).head(450).collect(engine="streaming")
    assert_frame_matches_records(head, RECORDS[:450], SCHEMA)
    wanted = [r for r in RECORDS if r["id"] % 9 == 0 and r["name"] is not None]
    filtered = (
        pl.scan_avro(one_block, batch_size=256)
        .filter((pl.col("id") % 9 == 0) & pl.col("name").is_not_null())
        .collect(engine="streaming")
    )
    assert_frame_matches_records(filtered, wanted, SCHEMA)
    counted = pl.scan_avro(one_block, batch_size=256, ignore_errors=True).select(pl.len()).collect().item()
    assert counted == 5000


def _one_block_file(tmp_path: Path, codec: str = "null") -> tuple[bytes, Any]:
    path = write_fastavro(tmp_path / f"b-{codec}.avro", SCHEMA, RECORDS, codec=codec, sync_interval=1 << 30)
    data = path.read_bytes()
    (block,) = blocks_of(data)
    return data, block


def test_a_damaged_record_in_a_later_part_keeps_the_parts_before_it(tmp_path: Path) -> None:
    data, block = _one_block_file(tmp_path)
    # Record 2,500's union index (the name) becomes 5: the data are the records as fastavro
    # wrote them, one after another.
    out = io.BytesIO()
    for r in RECORDS[:2500]:
        fastavro.schemaless_writer(out, fastavro.parse_schema(SCHEMA), r)
    at = block.data_start + len(out.getvalue()) + len(zigzag(2500))
    damaged = bytearray(data)
    assert damaged[at] == 2  # the name's branch: string
    damaged[at] = 10
    with pytest.raises(polars_avro.AvroDecodeError, match="record 2500 of the block") as info:
        _batches(bytes(damaged), batch_size=1000)
    assert (info.value.block, info.value.offset) == (0, block.start)
    assert "union branch index" in str(info.value)
    with polars_avro.AvroReader(bytes(damaged), batch_size=1000, ignore_errors=True, row_index_name="nr") as reader:
        frames = list(reader)
    df = pl.concat(frames)
    # The parts before the damaged one are kept; the records from its start on are reported.
    assert df["nr"].to_list() == list(range(2000))
    assert_frame_matches_records(df.drop("nr"), RECORDS[:2000], SCHEMA)
    (skipped,) = reader.errors
    assert (skipped.block, skipped.records) == (0, 3000)
    assert "record 2500 of the block" in skipped.message


def test_a_block_read_in_parts_checks_its_count_and_its_end(tmp_path: Path) -> None:
    data, block = _one_block_file(tmp_path)
    count_at = block.start
    # One record fewer than its bytes hold: bytes left over after the last record.
    fewer = data[:count_at] + zigzag(4999) + data[count_at + len(zigzag(5000)) :]
    with pytest.raises(polars_avro.AvroDecodeError, match="found bytes left over"):
        _batches(fewer, batch_size=1000)
    # Far more records than its bytes hold: refused before any is decoded, as a whole block is.
    more = data[:count_at] + zigzag(10**7) + data[count_at + len(zigzag(5000)) :]
    with pytest.raises(polars_avro.AvroFormatError, match="block claims 10000000 records"):
        _batches(more, batch_size=1000)
    # A few more than it holds, deflated: found when its bytes end.
    deflated, block = _one_block_file(tmp_path, "deflate")
    more = deflated[: block.start] + zigzag(5001) + deflated[block.start + len(zigzag(5000)) :]
    with pytest.raises(polars_avro.AvroDecodeError, match="record 5000 of the block .*ended"):
        _batches(more, batch_size=1000)


# The peak memory of a streaming aggregate over the file, in a process of its own.
BOMB = """
import sys
import polars as pl, polars_avro

def peak_mb():
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) // 1024

def query(path):
    lf = pl.scan_avro(path, n_threads=1)
    if sys.argv[3] == "head":
        return lf.head(10).collect(engine="streaming")["v"].to_list()
    return lf.select(pl.len(), pl.col("v").max()).collect(engine="streaming").row(0)

# A tiny file first: what a first query imports and sets up is not counted.
query(sys.argv[2])
before = peak_mb()
print(query(sys.argv[1]), peak_mb() - before)
"""


@pytest.mark.parametrize("query", ["aggregate", "head"])
@pytest.mark.parametrize("kind", ["string", "long"])
def test_a_decompression_bomb_of_one_block_costs_a_few_batches(kind: str, query: str, tmp_path: Path) -> None:
    """A 254 KB file of one deflate block of 256 MiB of zeros: a streaming aggregate's
    peak memory grows by a few batches plus 64 MB (4.4 GB of strings, 2.3 GB of longs,
    when a block was decoded whole), and its first 10 rows by 64 MB at most (281 MB when
    the block was inflated whole for them)."""
    schema = {"type": "record", "name": "R", "fields": [{"name": "v", "type": kind}]}
    # 268,435,456 records of "" (or 0), one zero byte each.
    path = tmp_path / "bomb.avro"
    path.write_bytes(_with_blocks(schema, [(256 << 20, _deflated_zeros(256 << 20))], codec="deflate"))
    tiny = write_fastavro(tmp_path / "tiny.avro", schema, [{"v": "" if kind == "string" else 0}] * 3)
    run = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BOMB), str(path), str(tiny), query],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # the installed package, not the source tree
    )
    assert run.returncode == 0, run.stderr
    result, growth_mb = run.stdout.rsplit(maxsplit=1)
    value = "" if kind == "string" else 0
    assert result == str([value] * 10 if query == "head" else (256 << 20, value))
    # A batch of 65,536 records of these is under a megabyte.
    assert int(growth_mb) < 64, run.stdout


def test_records_that_take_no_bytes_are_read_whole(tmp_path: Path) -> None:
    """Only nulls: a block of them makes next to no memory, and its count can only be
    checked against its bytes when it is read whole."""
    schema = {"type": "record", "name": "Nothing", "fields": [{"name": "n", "type": "null"}]}
    path = write_fastavro(tmp_path / "nulls.avro", schema, [{"n": None}] * 3000, sync_interval=1 << 30)
    assert [len(f) for f in _batches(path, batch_size=500)] == [3000]
    (block,) = blocks_of(path.read_bytes())
    data = path.read_bytes()
    claimed = data[: block.start] + zigzag(2_000_000) + data[block.start + len(zigzag(3000)) :]
    with pytest.raises(polars_avro.AvroFormatError, match="records of a schema whose records can take no bytes"):
        _batches(claimed, batch_size=500)
