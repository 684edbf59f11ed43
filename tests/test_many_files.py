"""Many small files, as Kafka Connect sinks, Event Hubs Capture and Spark jobs leave them:
read as one frame with their partition values, paths and row index, with empty and
damaged members among them, and with schemas that evolved (defaults filling the fields
older files lack). Values are checked against fastavro reading each file."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import assert_frame_matches_records, count_rust_calls, fastavro_records, write_fastavro
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro import AvroDataSkippedWarning, AvroFormatError, _internal
from polars_avro._options import ScanOptions
from polars_avro._scan import ReadRequest, Scan

SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "user", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
FILES_PER_DAY = 60
DAYS = ["2024-05-01", "2024-05-02", "2024-05-03"]
ROWS = 7  # per file


def _records(first: int) -> list[dict[str, Any]]:
    start = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    return [
        {
            "id": first + i,
            "user": f"u{(first + i) % 13}",
            "score": None if (first + i) % 5 == 0 else (first + i) / 8,
            "at": start + dt.timedelta(seconds=first + i),
        }
        for i in range(ROWS)
    ]


@pytest.fixture(scope="module")
def sink(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A Kafka-Connect-like folder: topic/date=.../part-N.avro, 180 small snappy files."""
    root = tmp_path_factory.mktemp("sink") / "topic"
    paths = []
    for d, day in enumerate(DAYS):
        for n in range(FILES_PER_DAY):
            path = root / f"date={day}" / f"part-{n:04d}.avro"
            path.parent.mkdir(parents=True, exist_ok=True)
            paths.append(write_fastavro(path, SCHEMA, _records((d * FILES_PER_DAY + n) * ROWS), codec="snappy"))
    # What a writer leaves beside the data: not .avro files, so not read from a directory.
    (root / "_SUCCESS").write_bytes(b"")
    (root / f"date={DAYS[0]}" / ".part-0000.avro.crc").write_bytes(b"crc")
    return {"root": root, "paths": paths}


def _expected(paths: list[Path]) -> pl.DataFrame:
    rows = []
    for path in paths:
        day = path.parent.name.split("=")[1]
        for i, record in enumerate(fastavro_records(path)):
            rows.append({**record, "date": dt.date.fromisoformat(day), "path": str(path), "n": i})
    return pl.DataFrame(rows)


def test_a_folder_of_small_files_reads_as_fastavro_does(sink: dict[str, Any]) -> None:
    with polars_avro.read_stats() as stats:
        df = pl.scan_avro(sink["root"], include_file_paths="path").collect()
    assert df.columns == ["id", "user", "score", "at", "date", "path"]
    assert df.height == len(sink["paths"]) * ROWS
    records = [r for p in sink["paths"] for r in fastavro_records(p)]
    assert_frame_matches_records(df.select("id", "user", "score", "at"), records, SCHEMA)
    expected = _expected(sink["paths"])
    assert df["date"].to_list() == expected["date"].to_list()
    assert df["path"].to_list() == expected["path"].to_list()
    # Files sharing a schema share batches: far fewer batches than files.
    assert stats.files == len(sink["paths"]) and stats.batches < 5


def test_partition_filters_row_index_and_paths_across_files(sink: dict[str, Any]) -> None:
    lf = pl.scan_avro(sink["root"], row_index_name="i", include_file_paths="path", batch_size=50, files_in_flight=4)
    out = lf.filter((pl.col("date") == dt.date(2024, 5, 2)) & (pl.col("score") > 100)).collect()
    expected = _expected(sink["paths"]).with_row_index("i")
    expected = expected.filter((pl.col("date") == dt.date(2024, 5, 2)) & (pl.col("score") > 100))
    assert out.height == expected.height > 0
    assert out["i"].to_list() == expected["i"].to_list()
    assert out["id"].to_list() == expected["id"].to_list()
    assert out["path"].to_list() == expected["path"].to_list()
    # A filter on the path column, and a predicate mixing it with file columns.
    one = str(sink["paths"][61])
    by_path = lf.filter((pl.col("path") == one) & (pl.col("id") % 2 == 0)).collect()
    assert by_path["id"].to_list() == [r["id"] for r in fastavro_records(one) if r["id"] % 2 == 0]
    assert set(by_path["i"].to_list()) <= set(range(61 * ROWS, 62 * ROWS))
    # Without hive partitions too, a filter on the path column alone opens only that file.
    glob = pl.scan_avro(str(sink["root"] / "date=*" / "*.avro"), include_file_paths="path")
    with polars_avro.read_stats() as stats:
        only = glob.filter(pl.col("path") == one).select("id", "path").collect()
    assert only["id"].to_list() == [r["id"] for r in fastavro_records(one)]
    assert stats.files == 1


def test_schema_of_a_folder_with_headers_read_at_once(sink: dict[str, Any]) -> None:
    expected = pl.scan_avro(sink["root"]).collect_schema()
    for files_in_flight in (1, 8):
        assert polars_avro.read_avro_schema(sink["root"], files_in_flight=files_in_flight) == expected
    assert list(expected) == ["id", "user", "score", "at", "date"]
    with pytest.raises(polars_avro.AvroArgumentError, match="files_in_flight"):
        polars_avro.read_avro_schema(sink["root"], files_in_flight=0)


def test_n_rows_and_head_across_small_files(sink: dict[str, Any]) -> None:
    with polars_avro.read_stats() as stats:
        df = polars_avro.read_avro(sink["root"], n_rows=3 * ROWS + 2)
    assert df["id"].to_list() == list(range(3 * ROWS + 2))
    assert stats.files == 4  # no file opened past the one where the rows ran out
    assert pl.scan_avro(sink["root"]).head(10).collect()["id"].to_list() == list(range(10))


def test_counts_walk_block_headers(tmp_path: Path, sink: dict[str, Any]) -> None:
    path = write_fastavro(tmp_path / "big.avro", SCHEMA, _records(0) * 3000, codec="deflate", sync_interval=2000)
    blocks = sum(1 for _ in fastavro.block_reader(path.open("rb")))
    with polars_avro.read_stats() as stats:
        df = polars_avro.read_avro(path, columns=[])
    assert df.height == 3000 * ROWS and df.width == 0
    # Every block's framing was read and no block was decompressed or decoded.
    assert stats.blocks == blocks > 10
    assert stats.decompress_seconds == 0
    assert pl.scan_avro(path).select(pl.len()).collect().item() == 3000 * ROWS
    assert pl.scan_avro(sink["root"]).select(pl.len()).collect().item() == len(sink["paths"]) * ROWS


@pytest.mark.skipif(
    not hasattr(pl.io, "external_reader"),
    reason="Polars 1 hands an IO plugin one column for a count: there the column is decoded",
)
def test_select_len_walks_block_headers(tmp_path: Path, sink: dict[str, Any]) -> None:
    path = write_fastavro(tmp_path / "big.avro", SCHEMA, _records(0) * 3000, codec="deflate", sync_interval=2000)
    for lf, expected in [(pl.scan_avro(path), 3000 * ROWS), (pl.scan_avro(sink["root"]), len(sink["paths"]) * ROWS)]:
        for engine in ("auto", "streaming"):
            with polars_avro.read_stats() as stats:
                assert lf.select(pl.len()).collect(engine=engine).item() == expected
            assert stats.rows == expected and stats.decompress_seconds == 0
    # A count behind a partition filter reads only the kept files' block headers.
    with polars_avro.read_stats() as stats:
        kept = pl.scan_avro(sink["root"]).filter(pl.col("date") == dt.date(2024, 5, 3)).select(pl.len()).collect()
    assert kept.item() == FILES_PER_DAY * ROWS
    assert stats.files == FILES_PER_DAY and stats.decompress_seconds == 0


def test_slices_offsets_and_tails_across_files(sink: dict[str, Any]) -> None:
    lf = pl.scan_avro(sink["root"], include_file_paths="path")
    expected = _expected(sink["paths"]).select("id", "user", "score", "at", "date", "path")
    expected = expected.with_columns(pl.col("at").dt.cast_time_unit("ms").dt.replace_time_zone("UTC"))
    queries = [
        lambda f: f.slice(30, 12),
        lambda f: f.slice(1200, 500),  # past the end
        lambda f: f.tail(9),
        lambda f: f.slice(40, 300).filter(pl.col("score") > 20).select("id", "path"),
        lambda f: f.filter(pl.col("score") > 20).slice(5, 8),
        lambda f: f.slice(100, 50).select(pl.len()),
        lambda f: f.filter(pl.col("user") == "u3").head(4),
    ]
    for query in queries:
        for engine in ("auto", "streaming"):
            assert_frame_equal(query(lf).collect(engine=engine), query(expected.lazy()).collect())


def test_an_offset_leaves_the_blocks_before_it_undecoded(tmp_path: Path, sink: dict[str, Any]) -> None:
    path = write_fastavro(tmp_path / "big.avro", SCHEMA, _records(0) * 3000, codec="deflate", sync_interval=2000)
    counts = [b.num_records for b in fastavro.block_reader(path.open("rb"))]
    ids = [r["id"] for r in fastavro_records(path)]
    offset = sum(counts[:4]) + 3  # inside the fifth block
    options = ScanOptions.of({"row_index_name": "i", "batch_size": 10})
    planned = Scan(str(path), options).planned
    request = ReadRequest(columns=["i", "id"], skip_rows=offset, records=offset + 50)
    reader = _internal.ScanReader(planned, request)
    frames = []
    while (batch := reader.next_batch()) is not None:
        frames.append(batch[0].struct.unnest())  # a batch crosses as a struct of its columns
    df = pl.concat(frames)
    assert df["id"].to_list() == ids[offset : offset + 50]
    assert df["i"].to_list() == list(range(offset, offset + 50))
    # The four blocks before the offset were counted, not decoded: from the fifth on, 50
    # records in batches of 10 (the block read in parts).
    assert reader.stats()["batches"] == len(frames) == 5
    assert reader.stats()["blocks"] == 5
    # Across files, with their partition values and paths.
    lf = pl.scan_avro(sink["root"], include_file_paths="path", row_index_name="i")
    expected = lf.collect().slice(400, 30)
    assert (
        pl.scan_avro(sink["root"], include_file_paths="path", row_index_name="i")
        .slice(400, 30)
        .collect()
        .equals(expected)
    )
    with pytest.raises(polars_avro.AvroArgumentError, match="skip_rows"):
        filters = [(pl.col("id") > 0).meta.serialize(format="json")]
        _internal.ScanReader(planned, ReadRequest(skip_rows=1, filters=filters))


@pytest.mark.skipif(not hasattr(pl.io, "external_reader"), reason="Polars 1 hands an IO plugin no slice offset")
def test_slices_decode_only_the_blocks_they_need(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "big.avro", SCHEMA, _records(0) * 3000, codec="deflate", sync_interval=2000)
    ids = [r["id"] for r in fastavro_records(path)]
    lf = pl.scan_avro(path, batch_size=100)
    with polars_avro.read_stats() as stats:
        sliced = lf.slice(20_000, 5).collect()
    assert sliced["id"].to_list() == ids[20_000:20_005]
    # The blocks before the offset were counted, not decoded: one batch, not 200.
    assert stats.batches == 1
    # A tail counts the records from the block headers first, then reads the same way.
    assert lf.tail(5).collect()["id"].to_list() == ids[-5:]


def test_header_only_file_reads_as_no_rows(tmp_path: Path) -> None:
    empty = write_fastavro(tmp_path / "a-empty.avro", SCHEMA, [])
    full = write_fastavro(tmp_path / "b-full.avro", SCHEMA, _records(0))
    df = polars_avro.read_avro(tmp_path / "*.avro")
    assert_frame_matches_records(df, fastavro_records(full), SCHEMA)
    assert polars_avro.read_avro(empty).height == 0


@pytest.mark.parametrize("damage", ["zero bytes", "bad magic", "truncated header"])
def test_broken_member_raises_naming_it_or_is_skipped_and_reported(tmp_path: Path, damage: str) -> None:
    good = [write_fastavro(tmp_path / f"part-{n}.avro", SCHEMA, _records(n * ROWS), codec="snappy") for n in range(3)]
    broken = tmp_path / "part-1b.avro"
    data = good[0].read_bytes()
    broken.write_bytes({"zero bytes": b"", "bad magic": b"XXXX" + data[4:], "truncated header": data[:40]}[damage])
    with pytest.raises(AvroFormatError) as err:
        polars_avro.read_avro(tmp_path / "*.avro")
    assert err.value.file == str(broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with polars_avro.read_stats() as stats:
            df = polars_avro.read_avro(tmp_path / "*.avro", ignore_errors=True)
    assert_frame_matches_records(df, [r for p in good for r in fastavro_records(p)], SCHEMA)
    reports = [w.message for w in caught if issubclass(w.category, AvroDataSkippedWarning)]
    assert [r.file for r in reports] == [str(broken)]
    assert stats.blocks_skipped == 1
    with polars_avro.AvroReader(tmp_path / "*.avro", ignore_errors=True) as reader:
        assert sum(b.height for b in reader) == 3 * ROWS
    assert [e.file for e in reader.errors] == [str(broken)] and reader.errors[0].records is None


def test_every_member_broken_still_raises(tmp_path: Path) -> None:
    (tmp_path / "a.avro").write_bytes(b"")
    (tmp_path / "b.avro").write_bytes(b"")
    with pytest.raises(AvroFormatError) as err:
        polars_avro.read_avro(tmp_path / "*.avro", ignore_errors=True)
    assert err.value.file == str(tmp_path / "a.avro")


def test_fields_older_files_lack_take_the_declared_default(tmp_path: Path) -> None:
    # An old file (x: int), a newer one (x: long, z: string with a default): as the
    # specification's resolution reads the old file into the new schema.
    old = {"type": "record", "name": "R", "fields": [{"name": "x", "type": "int"}]}
    new = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "x", "type": "long"}, {"name": "z", "type": "string", "default": "dflt"}],
    }
    write_fastavro(tmp_path / "1.avro", old, [{"x": 1}, {"x": 2}])
    write_fastavro(tmp_path / "2.avro", new, [{"x": 3, "z": "c"}])
    df = polars_avro.read_avro(tmp_path / "*.avro", schema_from="all")
    assert df.schema == pl.Schema({"x": pl.Int64, "z": pl.String})
    assert df.rows() == [(1, "dflt"), (2, "dflt"), (3, "c")]
    expected = [r for p in ("1.avro", "2.avro") for r in fastavro.reader((tmp_path / p).open("rb"), reader_schema=new)]
    assert df.to_dicts() == expected
    # Newest first, the first file's rule reads the older into its schema as well.
    assert polars_avro.read_avro([tmp_path / "2.avro", tmp_path / "1.avro"]).to_dicts() == expected[2:] + expected[:2]
    # The newest declaration wins; a nullable field declared with a null default fills nulls.
    newest = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "x", "type": "long"},
            {"name": "z", "type": ["null", "string"], "default": None},
            {"name": "w", "type": ["null", "long"], "default": None},
        ],
    }
    write_fastavro(tmp_path / "3.avro", newest, [{"x": 4, "z": None, "w": 7}])
    df = polars_avro.read_avro(tmp_path / "*.avro", schema_from="all")
    assert df.rows() == [(1, None, None), (2, None, None), (3, "c", None), (4, None, 7)]


def _settle(paths: list[Path]) -> None:
    """Dates the files a minute back: a file modified in the last two seconds is not
    remembered, as a change within the same clock tick would keep its time."""
    for path in paths:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 60 * 10**9))


def test_counts_and_schemas_of_unchanged_files_are_remembered(tmp_path: Path) -> None:
    paths = [write_fastavro(tmp_path / f"part-{n}.avro", SCHEMA, _records(n * ROWS) * (n + 1)) for n in range(20)]
    _settle(paths)
    expected = sum(len(fastavro_records(p)) for p in paths)
    pattern = tmp_path / "*.avro"
    with polars_avro.read_stats() as first:
        assert polars_avro.read_avro(pattern, columns=[]).height == expected
    assert first.files == 20 and first.files_known == 0
    # Counted again: no file is opened, whichever way the count is asked for (Polars 1 hands
    # its IO plugins a column to decode for select(pl.len())).
    counts = [lambda: polars_avro.read_avro(pattern, columns=[]).height]
    if hasattr(pl.io, "external_reader"):
        counts.append(lambda: pl.scan_avro(pattern).select(pl.len()).collect().item())
        counts.append(lambda: pl.scan_avro(pattern).select(pl.len()).collect(engine="streaming").item())
    for count in counts:
        with polars_avro.read_stats() as again:
            assert count() == expected
        assert again.files_known == 20 and again.bytes_read == 0
    # With the path of each row, and behind a filter on it, the rows are still there.
    df = polars_avro.read_avro(pattern, columns=[], include_file_paths="path")
    per_file = sorted((str(p), len(fastavro_records(p))) for p in paths)
    assert df["path"].value_counts().sort("path").rows() == per_file
    one = pl.scan_avro(pattern, include_file_paths="path").filter(pl.col("path") == str(paths[7]))
    assert one.select(pl.len()).collect().item() == 8 * ROWS
    # Reading values opens every file, and gives fastavro's values.
    with polars_avro.read_stats() as read:
        df = polars_avro.read_avro(pattern)
    assert read.files_known == 0
    assert_frame_matches_records(df, [r for p in sorted(paths) for r in fastavro_records(p)], SCHEMA)

    # A file written again is another file: counted from its blocks, and remembered anew.
    rewritten = write_fastavro(paths[3], SCHEMA, _records(0) * 9)
    expected += len(fastavro_records(rewritten)) - 4 * ROWS
    with polars_avro.read_stats() as changed:
        assert polars_avro.read_avro(pattern, columns=[]).height == expected
    assert changed.files_known == 19
    # Replaced (by a copy of the same size and time, a new inode): opened again.
    twin = tmp_path / "twin.tmp"
    twin.write_bytes(paths[1].read_bytes())
    stat = paths[1].stat()
    os.utime(twin, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(twin, paths[1])
    with polars_avro.read_stats() as replaced:
        assert polars_avro.read_avro(pattern, columns=[]).height == expected
    assert replaced.files_known == 18


def test_a_scan_reads_each_header_once(tmp_path: Path) -> None:
    paths = [write_fastavro(tmp_path / f"part-{n}.avro", SCHEMA, _records(n * ROWS) * 2) for n in range(12)]
    _settle(paths)
    expected = [r for p in sorted(paths) for r in fastavro_records(p)]
    # Created in a process that has read none of them: planning reads the first header,
    # collecting it reads the 11 others, and collecting it again (the other engine) none.
    code = (
        "import polars as pl, polars_avro, sys\n"
        "lf = pl.scan_avro(sys.argv[1])\n"
        "for engine in ('in-memory', 'streaming'):\n"
        "    with polars_avro.read_stats() as stats:\n"
        "        df = lf.collect(engine=engine)\n"
        "    print(df.height, stats.files, stats.headers_read)\n"
    )
    # From the folder of the files: the source tree's polars_avro (no Rust core) is not found.
    command = [sys.executable, "-c", code, str(tmp_path / "*.avro")]
    shown = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == [str(len(expected)), "12", "11", str(len(expected)), "12", "0"]
    # A file written again since every header was read when planning is read from its own
    # header, and its values are the new ones; the others' headers are not read again.
    lf = pl.scan_avro(tmp_path / "*.avro", schema_from="all")
    rewritten = write_fastavro(paths[5], SCHEMA, _records(0) * 3)
    _settle([rewritten])
    with polars_avro.read_stats() as stats:
        df = lf.collect()
    assert stats.headers_read == 1
    expected = [r for p in sorted(paths) for r in fastavro_records(p)]
    assert_frame_matches_records(df, expected, SCHEMA)


def test_files_modified_just_now_or_read_with_damage_are_not_remembered(tmp_path: Path) -> None:
    fresh = write_fastavro(tmp_path / "fresh.avro", SCHEMA, _records(0))
    for _ in range(2):
        with polars_avro.read_stats() as stats:
            assert polars_avro.read_avro(fresh, columns=[]).height == ROWS
        assert stats.files_known == 0
    # A damaged block makes the count the walk gives (under ignore_errors) a partial one.
    good = write_fastavro(tmp_path / "good.avro", SCHEMA, _records(0) * 50, sync_interval=100)
    data = bytearray(good.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 40] = b"\xff" * 40
    damaged = tmp_path / "damaged.avro"
    damaged.write_bytes(bytes(data))
    _settle([damaged])
    for _ in range(2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AvroDataSkippedWarning)
            with polars_avro.read_stats() as stats:
                polars_avro.read_avro(damaged, columns=[], ignore_errors=True)
        assert stats.files_known == 0 and stats.blocks_skipped >= 1


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
@pytest.mark.parametrize("shape", ["folder", "glob", "glob less hidden files"])
def test_a_scan_of_many_files_calls_rust_twice_before_its_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str, shape: str
) -> None:
    """Listing, partition folders, headers and the plan are one call; the reader the
    other; each batch one more (issue 59)."""
    for day in DAYS:
        (tmp_path / "t" / f"day={day}").mkdir(parents=True)
    paths = [
        write_fastavro(tmp_path / "t" / f"day={day}" / f"part-{n}.avro", SCHEMA, _records(n))
        for day in DAYS
        for n in range(5)
    ]
    pl.scan_avro(paths[0]).collect()  # the process's first scan, which probes Polars, before
    calls = count_rust_calls(monkeypatch)
    source = tmp_path / "t" if shape == "folder" else str(tmp_path / "t" / "*" / "*.avro")
    hidden = "part-4" if shape == "glob less hidden files" else None
    lf = pl.scan_avro(source, hive_partitioning=True, batch_size=ROWS, hidden_file_prefix=hidden)
    df = lf.collect(engine=engine)
    files = len(paths) - (len(DAYS) if hidden else 0)
    assert df.height == files * ROWS and df["day"].n_unique() == len(DAYS)
    first_batch = calls.index("ScanReader.next_batch")
    assert calls[:first_batch] == ["plan_sources", "ScanReader"]
    # Then batches, and what a finished read reports, once.
    assert set(calls[first_batch:-1]) == {"ScanReader.next_batch"} and calls[-1] == "ScanReader.finish"
