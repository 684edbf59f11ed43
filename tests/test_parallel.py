"""The read-ahead pipeline: parallel decoding gives the same frame as one thread, stops
promptly for n_rows, reports errors in file order, and tells what it did (read_stats,
POLARS_VERBOSE)."""

from __future__ import annotations

import concurrent.futures
import io
import os
import subprocess
import sys
from pathlib import Path

import fastavro
import polars as pl
import pytest
from helpers import assert_file_matches_fastavro, write_fastavro

import polars_avro
from polars_avro import _internal
from polars_avro import exceptions as exc
from polars_avro._options import ScanOptions
from polars_avro._scan import ReadRequest, Scan

SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B", "C"]}},
    ],
}
ROWS = 20_000


def records(n: int = ROWS) -> list[dict]:
    return [
        {
            "id": i,
            "name": f"event-{i}-" + "x" * (i % 23),
            "score": None if i % 7 == 0 else i / 3,
            "tags": [f"t{j}" for j in range(i % 4)],
            "kind": "ABC"[i % 3],
        }
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def many_blocks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 200 small blocks, snappy: many batches for the pipeline."""
    path = tmp_path_factory.mktemp("parallel") / "events.avro"
    return write_fastavro(path, SCHEMA, records(), codec="snappy", sync_interval=4_000)


@pytest.mark.parametrize("n_threads", [1, 2, 3, 8])
@pytest.mark.parametrize("batch_size", [1, 500, 65_536])
def test_every_thread_count_reads_the_same_values(many_blocks: Path, n_threads: int, batch_size: int) -> None:
    df = polars_avro.read_avro(many_blocks, n_threads=n_threads, batch_size=batch_size)
    assert_file_matches_fastavro(many_blocks, df)


def test_lazy_and_streaming_queries_with_threads(many_blocks: Path) -> None:
    lf = polars_avro.scan_avro(many_blocks, n_threads=3, batch_size=700)
    query = lf.filter(pl.col("score") > 100).select("id", "tags")
    expected = polars_avro.read_avro(many_blocks, n_threads=1).filter(pl.col("score") > 100).select("id", "tags")
    assert query.collect().equals(expected)
    assert query.collect(engine="streaming").equals(expected)


def test_n_threads_must_be_positive(many_blocks: Path) -> None:
    with pytest.raises(exc.AvroArgumentError, match="n_threads"):
        polars_avro.read_avro(many_blocks, n_threads=0)


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Runs code in a fresh interpreter (-I: the installed package, not the source tree)."""
    return subprocess.run(
        [sys.executable, "-I", "-c", code], env={**os.environ, **env}, capture_output=True, text=True, check=True
    )


def test_default_threads_follow_polars() -> None:
    out = run_python("import polars_avro._internal as m; print(m.default_threads())", {"POLARS_MAX_THREADS": "3"})
    assert out.stdout.strip() == "3"


def test_read_stats_count_the_whole_file(many_blocks: Path) -> None:
    n_blocks = sum(1 for _ in fastavro.block_reader(many_blocks.open("rb")))
    with polars_avro.read_stats() as stats:
        df = polars_avro.read_avro(many_blocks, n_threads=2, batch_size=1_000)
    assert (stats.files, stats.rows, stats.blocks) == (1, df.height, n_blocks)
    assert stats.batches >= ROWS // 1_000
    assert 0 < stats.bytes_read < many_blocks.stat().st_size
    assert stats.threads == 2
    assert stats.decode_seconds > 0 and stats.decompress_seconds > 0
    assert 0 < stats.peak_blocks_in_flight <= n_blocks


def test_the_pool_finds_the_framing_of_a_large_local_file_ahead_of_the_reading_thread(tmp_path: Path) -> None:
    """In a local file the pool maps ahead, the decoding threads walk the blocks' framing
    (count, size, sync marker) and the reading thread takes it from them: the values are
    those of a one-thread read, which walks every block itself, and of fastavro."""
    schema = {"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}, {"name": "b", "type": "bytes"}]}
    records = [{"id": i, "b": bytes([i % 251]) * (500 + i % 700)} for i in range(30_000)]
    path = write_fastavro(tmp_path / "large.avro", schema, records, sync_interval=16_000)
    assert path.stat().st_size > 3 * 8 << 20  # more than three 8 MiB windows
    with polars_avro.read_stats() as one:
        alone = polars_avro.read_avro(path, n_threads=1)
    with polars_avro.read_stats() as two:
        pooled = polars_avro.read_avro(path, n_threads=2)
    assert_file_matches_fastavro(path, pooled)
    assert pooled.equals(alone)
    assert one.blocks_framed_ahead == 0 and one.blocks == two.blocks
    # How many depends on how busy the machine is: the reading thread frames the blocks it
    # reaches before the pool has walked them (30-90% were framed ahead on two busy cores).
    assert 0 < two.blocks_framed_ahead <= two.blocks, (two.blocks_framed_ahead, two.blocks)


def test_read_stats_has_every_counter_the_core_keeps() -> None:
    # The counters of a read are named once, in Rust; the Python dataclass adds the ones
    # of the blocks left out, which the reports of them give.
    from dataclasses import fields

    from polars_avro import _internal

    names = [f.name for f in fields(polars_avro.ReadStats)]
    assert set(_internal.READ_STATS_FIELDS) <= set(names)
    assert set(names) - set(_internal.READ_STATS_FIELDS) == {
        "blocks_skipped",
        "records_skipped",
    }


def test_read_stats_outside_the_block_see_nothing(many_blocks: Path) -> None:
    with polars_avro.read_stats() as stats:
        pass
    polars_avro.read_avro(many_blocks)
    assert stats.rows == 0 and stats.files == 0


def test_head_stops_reading_promptly(many_blocks: Path) -> None:
    with polars_avro.read_stats() as stats:
        df = polars_avro.scan_avro(many_blocks, n_threads=4).head(150).collect()
    assert df["id"].to_list() == list(range(150))
    # Only the blocks holding those rows are read: no decoding far past the limit.
    first_block_rows = next(iter(fastavro.block_reader(many_blocks.open("rb")))).num_records
    assert stats.rows == 150
    assert stats.blocks <= 150 // first_block_rows + 1


def blocks_read_for_first_batch(path: Path, n_threads: int) -> tuple[int, int]:
    """Blocks read from the file when the first batch is handed out, and rows in that batch."""
    planned = Scan(str(path), ScanOptions.of({"batch_size": 1_000, "n_threads": n_threads})).planned
    reader = _internal.ScanReader(planned, ReadRequest())
    batch = reader.next_batch()
    assert batch is not None
    return reader.stats()["blocks"], batch[1]


def test_read_ahead_is_bounded(many_blocks: Path) -> None:
    rows_per_block = next(iter(fastavro.block_reader(many_blocks.open("rb")))).num_records
    blocks_per_batch = -(-1_000 // rows_per_block)
    # One thread: no read-ahead, only the batch handed out was read.
    blocks, rows = blocks_read_for_first_batch(many_blocks, 1)
    assert rows >= 1_000 and blocks == blocks_per_batch
    # Four threads read ahead, by at most 2 x 4 batches.
    blocks, _ = blocks_read_for_first_batch(many_blocks, 4)
    assert blocks_per_batch < blocks <= 8 * blocks_per_batch


def test_batches_of_wide_records_are_bounded_by_bytes(tmp_path: Path) -> None:
    # 400 records of 100 KB: far more bytes than rows. Batches stop at 4 MiB of blocks, and
    # two threads read ahead at most 8 MiB each (plus the batch that crosses the line).
    fields = [{"name": "id", "type": "int"}, {"name": "blob", "type": "bytes"}]
    records = [{"id": i, "blob": bytes([i % 251]) * 100_000} for i in range(400)]
    path = write_fastavro(tmp_path / "wide.avro", {"type": "record", "name": "Wide", "fields": fields}, records)
    with polars_avro.read_stats() as stats:
        ids = pl.scan_avro(path, n_threads=2, batch_size=1_000_000).select("id").collect()["id"]
    assert ids.to_list() == list(range(400))
    assert stats.batches >= 400 * 100_000 // (4 << 20)
    assert stats.peak_bytes_in_flight <= (2 * 8 + 4) * 2**20 + 100_100


def corrupt_block(data: bytes, index: int) -> bytes:
    """The file with the compressed bytes of block `index` scrambled."""
    sync = data[-16:]
    starts = []
    pos = data.index(sync) + 16
    while pos < len(data):
        starts.append(pos)
        pos = data.index(sync, pos) + 16
    out = bytearray(data)
    start = starts[index]
    for i in range(start + 6, start + 30):
        out[i] ^= 0x5A
    return bytes(out)


@pytest.mark.parametrize("n_threads", [1, 4])
def test_errors_come_in_file_order(tmp_path: Path, n_threads: int) -> None:
    buf = io.BytesIO()
    fastavro.writer(buf, SCHEMA, records(5_000), codec="deflate", sync_interval=2_000)
    # Two bad blocks: the first one in the file is the one reported, however the
    # threads finish.
    data = corrupt_block(corrupt_block(buf.getvalue(), 40), 12)
    path = tmp_path / "bad.avro"
    path.write_bytes(data)
    with pytest.raises(exc.AvroError) as info:
        polars_avro.read_avro(path, n_threads=n_threads, batch_size=100)
    assert info.value.block == 12
    assert info.value.file == str(path)


def test_verbose_logs_one_line_per_file(many_blocks: Path) -> None:
    code = f"import polars_avro; polars_avro.read_avro({str(many_blocks)!r}, n_threads=2)"
    out = run_python(code, {"POLARS_VERBOSE": "1"})
    lines = [line for line in out.stderr.splitlines() if line.startswith("[polars-avro]")]
    assert len(lines) == 1, out.stderr
    assert f"{ROWS} rows" in lines[0] and "decompress" in lines[0] and "in flight" in lines[0]


def test_python_threads_reading_at_once_read_what_each_reads_alone(many_blocks: Path, tmp_path: Path) -> None:
    """Reads release the GIL and share nothing a thread of another read can disturb: Python
    threads each reading its own file, and threads reading one file, at once (a thread pool
    over files, a web service's requests) give the values each read gives alone, by every
    route (issue 61, item 7; benches/threads.py measures the time)."""
    others = [
        write_fastavro(tmp_path / f"other-{k}.avro", SCHEMA, records(3_000 * (k + 1)), codec=codec)
        for k, codec in enumerate(["deflate", "null", "zstandard"])
    ]
    reads = {
        "read_avro": lambda p: polars_avro.read_avro(p, batch_size=700),
        "scan": lambda p: pl.scan_avro(p).filter(pl.col("id") % 3 == 0).select("id", "tags").collect(),  # type: ignore[attr-defined]
        "streaming": lambda p: pl.scan_avro(p).group_by("kind").agg(pl.len()).sort("kind").collect(engine="streaming"),  # type: ignore[attr-defined]
        "batches": lambda p: pl.concat(list(polars_avro.AvroReader(p, batch_size=1_000))),
    }
    jobs = [(name, path) for name in reads for path in [many_blocks, *others, many_blocks, many_blocks]]
    alone = {(name, path): reads[name](path) for name, path in set(jobs)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(3):
            together = list(pool.map(lambda job: reads[job[0]](job[1]), jobs))
            for job, df in zip(jobs, together):
                assert df.equals(alone[job]), job
