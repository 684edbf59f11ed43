"""Avro files block by block through the public tools (``AvroBlockReader``, ``AvroBlockWriter``,
``list_avro_files``, ``unify_schemas``, ``read_stats(progress=...)``), with fastavro as the oracle:
its ``block_reader`` frames the same files, and its reader reads what the writer wrote."""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import EVENT_SCHEMA, events, fastavro_records, write_fastavro

import polars_avro

CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]
#: Fixed seeds, and a fresh one printed on failure.
SEEDS = [0, 1, 2, random.randrange(2**32)]


def fastavro_blocks(data: bytes) -> list[Any]:
    return list(fastavro.block_reader(io.BytesIO(data)))


def written(seed: int, codec: str) -> tuple[bytes, list[dict[str, Any]]]:
    """A fastavro file of a seed's record count and block size, and its records."""
    rng = random.Random(seed)
    records = events(rng.randrange(1000), rng.randrange(1, 3000))
    out = io.BytesIO()
    fastavro.writer(
        out, EVENT_SCHEMA, records, codec=codec, sync_interval=rng.choice([500, 4000, 64000]), metadata={"k": "v"}
    )
    return out.getvalue(), records


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("codec", CODECS)
def test_blocks_are_the_blocks_fastavro_frames(seed: int, codec: str) -> None:
    data, _ = written(seed, codec)
    theirs = fastavro_blocks(data)
    for what in ("decompressed", "stored", "framing"):
        with polars_avro.AvroBlockReader(data, data=what) as reader:  # type: ignore[arg-type]
            ours = list(reader)
        assert len(ours) == len(theirs), (seed, what)
        for mine, block in zip(ours, theirs):
            assert (mine.records, mine.offset) == (block.num_records, block.offset), (seed, what)
            # fastavro's size counts the framing: two varints and the 16-byte sync marker.
            framing = block.size - mine.size
            assert 18 <= framing <= 16 + 20, (seed, what, framing)
            if what == "decompressed":
                assert mine.data == block.bytes_.getvalue(), (seed, mine.offset)
            elif what == "stored":
                assert len(mine.data) == mine.size
                start = block.offset + block.size - 16 - mine.size
                assert mine.data == data[start : start + mine.size]
            else:
                assert mine.data == b""
        assert reader.position == len(data)
        assert reader.header.codec == codec
        assert reader.header.user_metadata == {"k": b"v"}
        assert reader.header.schema == fastavro.reader(io.BytesIO(data)).writer_schema | {"type": "record"}


@pytest.mark.parametrize("seed", SEEDS)
def test_blocks_copied_and_recompressed_read_back_as_fastavro_wrote_them(seed: int, tmp_path: Path) -> None:
    rng = random.Random(seed)
    source, target = rng.choice(CODECS), rng.choice(CODECS)
    data, records = written(seed, source)
    out = tmp_path / "out.avro"
    with (
        polars_avro.AvroBlockReader(data, data="stored") as blocks,
        polars_avro.AvroBlockWriter(out, blocks.header, compression=target, metadata={"added": "1"}) as writer,  # type: ignore[arg-type]
    ):
        writer.write_blocks(blocks, blocks.header.codec, source="in.avro")
    assert fastavro_records(out) == records, (seed, source, target)
    with open(out, "rb") as f:
        reader = fastavro.reader(f)
        assert reader.metadata["avro.codec"] == target
        assert reader.metadata["k"] == "v" and reader.metadata["added"] == "1"
    # The same blocks, whatever the codec they were stored with.
    assert [b.num_records for b in fastavro_blocks(out.read_bytes())] == [b.num_records for b in fastavro_blocks(data)]
    if source == target:
        stored = [b.data for b in polars_avro.AvroBlockReader(data, data="stored")]
        assert [b.data for b in polars_avro.AvroBlockReader(out, data="stored")] == stored


def test_blocks_written_from_datums() -> None:
    """Datums compressed by the writer, and datums given already compressed, as fastavro reads them."""
    records = events(0, 300)
    datums = polars_avro.AvroDatums(EVENT_SCHEMA)
    lines = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    data, count = datums.from_json(lines)
    out = io.BytesIO()
    with polars_avro.AvroBlockWriter(out, EVENT_SCHEMA, compression="deflate") as writer:
        writer.write_block(count, data)
        assert writer.codec == "deflate"
    assert list(fastavro.reader(io.BytesIO(out.getvalue()))) == records
    first = polars_avro.AvroBlockReader(out.getvalue(), data="stored")
    again = io.BytesIO()
    with polars_avro.AvroBlockWriter(again, first.header, compression="deflate") as writer:
        for block in first:
            writer.write_block(block.records, block.data, compressed=True)
    assert list(fastavro.reader(io.BytesIO(again.getvalue()))) == records


def test_a_failed_block_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "a.avro", EVENT_SCHEMA, events(0, 10))
    before = path.read_bytes()
    datums = polars_avro.AvroDatums(EVENT_SCHEMA)
    with pytest.raises(RuntimeError, match="stop"), polars_avro.AvroBlockWriter(path, EVENT_SCHEMA) as writer:
        writer.write_block(5, datums.random(5))
        raise RuntimeError("stop")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["a.avro"]
    writer = polars_avro.AvroBlockWriter(path, EVENT_SCHEMA)
    writer.write_block(5, datums.random(5, seed=3))
    assert writer.close() == 5
    assert len(fastavro_records(path)) == 5
    with pytest.raises(polars_avro.AvroArgumentError, match="already closed"):
        writer.write_block(1, datums.random(1))


def test_a_block_that_does_not_decompress_is_refused_naming_its_file(tmp_path: Path) -> None:
    with (
        pytest.raises(polars_avro.AvroCodecError, match=r"deflate .*\(file 'in\.avro', byte offset 4321\)"),
        polars_avro.AvroBlockWriter(tmp_path / "out.avro", EVENT_SCHEMA) as writer,
    ):
        writer.write_blocks([polars_avro.AvroBlock(3, b"\x01\x02", 4321, 2)], "deflate", source="in.avro")
    assert not (tmp_path / "out.avro").exists()


def test_repair_leaves_out_a_damaged_block_and_reports_it() -> None:
    data = bytearray(written(7, "null")[0])
    blocks = fastavro_blocks(bytes(data))
    assert len(blocks) > 3
    damaged = blocks[2]
    data[damaged.offset + damaged.size // 2 - 20 : damaged.offset + damaged.size // 2 + 20] = b"\xff" * 40
    with polars_avro.AvroBlockReader(bytes(data), data="stored", check_records=True, repair=True) as reader:
        kept = list(reader)
    assert sum(b.records for b in kept) == sum(b.num_records for b in blocks) - damaged.num_records
    (skipped,) = reader.skipped
    assert skipped.block == 2 and skipped.records == damaged.num_records
    with pytest.raises(polars_avro.AvroDecodeError):
        list(polars_avro.AvroBlockReader(bytes(data), check_records=True))


def test_a_block_reader_reads_one_file(tmp_path: Path) -> None:
    for n in range(2):
        write_fastavro(tmp_path / f"part-{n}.avro", EVENT_SCHEMA, events(n, 5))
    several = "AvroBlockReader reads one file's header, .*: pass one of them, or list_avro_files to read each"
    with pytest.raises(polars_avro.AvroArgumentError, match=several):
        polars_avro.AvroBlockReader(tmp_path)
    with pytest.raises(polars_avro.AvroFileNotFoundError):
        polars_avro.AvroBlockReader(tmp_path / "part-*.avro")  # no glob: a name of its own
    with pytest.raises(polars_avro.AvroArgumentError, match="data"):
        polars_avro.AvroBlockReader(tmp_path / "part-0.avro", data="all")  # type: ignore[arg-type]


def test_list_avro_files_lists_what_scan_avro_reads(tmp_path: Path) -> None:
    for name in ("b/part-1.avro", "a/part-0.avro", "a/_SUCCESS.avro", "a/notes.txt"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        write_fastavro(tmp_path / name, EVENT_SCHEMA, events(0, 3))
    listed = polars_avro.list_avro_files(tmp_path)
    assert [Path(f.path).relative_to(tmp_path).as_posix() for f in listed] == [
        "a/_SUCCESS.avro",
        "a/part-0.avro",
        "b/part-1.avro",
    ]
    assert [f.size for f in listed] == [os.path.getsize(f.path) for f in listed]
    globbed = polars_avro.list_avro_files(str(tmp_path / "*" / "part-*.avro"))
    assert [f.path for f in globbed] == [listed[1].path, listed[2].path]
    # A listed file is read as listed.
    counts = [sum(b.records for b in polars_avro.AvroBlockReader(f, data="framing")) for f in listed]
    assert counts == [3, 3, 3]
    assert sum(counts) == polars_avro.scan_avro(tmp_path).select(pl.len()).collect().item()
    with polars_avro.AvroReader(listed[2], columns=["id"]) as batches:
        assert pl.concat(batches).equals(polars_avro.read_avro(listed[2].path, columns=["id"]))


def test_unify_schemas_is_the_schema_scan_avro_reads_with(tmp_path: Path) -> None:
    narrow = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "int"}]}
    wide = {
        "type": "record",
        "name": "r",
        "fields": [{"name": "x", "type": "long"}, {"name": "y", "type": "string"}],
    }
    write_fastavro(tmp_path / "a.avro", narrow, [{"x": 1}])
    write_fastavro(tmp_path / "b.avro", wide, [{"x": 2, "y": "two"}])
    reader = json.loads(polars_avro.unify_schemas([narrow, wide]))
    assert [(f["name"], f["type"]) for f in reader["fields"]] == [("x", "long"), ("y", ["null", "string"])]
    # fastavro reads both files with it as scan_avro reads them.
    records = [r for name in ("a", "b") for r in fastavro.reader(open(tmp_path / f"{name}.avro", "rb"), reader)]  # noqa: SIM115
    scanned = polars_avro.read_avro(tmp_path, schema_from="all", missing_columns="insert")
    assert pl.DataFrame(records).equals(scanned)
    assert pl.DataFrame(records).equals(polars_avro.read_avro(tmp_path, reader_schema=reader))
    conflict = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "string"}]}
    with pytest.raises(polars_avro.AvroSchemaError, match="odd.avsc"):
        polars_avro.unify_schemas({"a.avsc": narrow, "odd.avsc": conflict})


def test_read_stats_hears_a_read_as_it_goes(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "a.avro", EVENT_SCHEMA, events(0, 20_000), sync_interval=4000)
    heard: list[polars_avro.ReadStats] = []
    with polars_avro.read_stats(progress=heard.append) as stats:
        assert sum(df.height for df in polars_avro.AvroReader(path, batch_size=1000)) == 20_000
    assert len(heard) > 1
    assert [h.bytes_read for h in heard] == sorted(h.bytes_read for h in heard)
    assert heard[-1].bytes_read == stats.bytes_read and heard[-1].rows == stats.rows == 20_000
    polars_avro.read_avro(path)
    assert heard[-1].rows == 20_000  # heard no more after the block
