"""plan_splits and read_split: byte-range splits of fastavro-written files.

The union of every split's rows must be the file's rows, in order, whatever the split
boundaries: planned ones of any target size, and random tilings with ranges smaller than
a block, on every codec, and on damaged files under ``ignore_errors`` (compared with the
whole-file read). Values are compared with fastavro's.
"""

from __future__ import annotations

import dataclasses
import pickle
import random
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import (
    EVENT_SCHEMA,
    assert_frame_matches_records,
    events,
    fastavro_records,
    split_file_range,
    write_fastavro,
    zigzag,
)
from servers import S3Server
from test_ignore_errors import DAMAGES, _clean, blocks_of

import polars_avro

CODECS = ["null", "deflate", "snappy", "zstandard", "bzip2", "xz"]


def _read_all(splits: list[polars_avro.AvroSplit], **kw: Any) -> pl.DataFrame:
    return pl.concat([df for split in splits for df in polars_avro.read_split(split, **kw)])


def _tiled(split: polars_avro.AvroSplit, cuts: list[int]) -> list[polars_avro.AvroSplit]:
    """The one-file split cut at `cuts` into consecutive ranges covering the file."""
    (file,) = split.files
    bounds = [0, *sorted(set(cuts)), file.size]
    return [
        dataclasses.replace(split, index=i, files=(split_file_range(file, a, b),))
        for i, (a, b) in enumerate(zip(bounds, bounds[1:]))
        if b > a
    ]


@pytest.fixture(scope="module", params=CODECS)
def many_blocks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file of 5,000 records in blocks of about 1 KB."""
    path = tmp_path_factory.mktemp("splits") / f"events-{request.param}.avro"
    return write_fastavro(path, EVENT_SCHEMA, events(0, 5000), codec=request.param, sync_interval=1000)


@pytest.mark.parametrize("target", [97, 4096, 50_000, 10**9])
def test_planned_splits_read_every_record_once_in_order(many_blocks: Path, target: int) -> None:
    splits = polars_avro.plan_splits(many_blocks, target_bytes=target)
    size = many_blocks.stat().st_size
    assert len(splits) == -(-size // target) if target < size else len(splits) == 1
    # Each split reads into the same columns, and pickles (Ray and Dask ship them to workers).
    splits = [pickle.loads(pickle.dumps(s)) for s in splits]
    assert_frame_matches_records(_read_all(splits), fastavro_records(many_blocks), EVENT_SCHEMA)


def test_random_tilings_read_every_record_once_in_order(many_blocks: Path) -> None:
    (whole,) = polars_avro.plan_splits(many_blocks, target_bytes=10**9)
    expected = polars_avro.read_avro(many_blocks)
    assert_frame_matches_records(expected, fastavro_records(many_blocks), EVENT_SCHEMA)
    rng = random.Random(many_blocks.name)
    size = whole.files[0].size
    for _ in range(25):
        # Cuts anywhere: inside headers, markers and blocks, and ranges of a few bytes.
        cuts = [rng.randrange(1, size) for _ in range(rng.randrange(1, 40))]
        cuts += [c + rng.randrange(1, 20) for c in cuts[:5]]
        splits = _tiled(whole, [c for c in cuts if c < size])
        assert _read_all(splits).equals(expected), f"cuts {sorted(cuts)}"


def test_a_split_without_a_marker_reads_nothing(many_blocks: Path) -> None:
    (whole,) = polars_avro.plan_splits(many_blocks, target_bytes=10**9)
    header_len = whole.files[0].header_len
    # Ten bytes of a block's data: no marker begins there.
    inside = split_file_range(whole.files[0], header_len + 20, header_len + 30)
    frames = list(polars_avro.read_split(dataclasses.replace(whole, files=(inside,))))
    assert [f.height for f in frames] == [0]
    assert frames[0].schema == whole.schema


@pytest.mark.parametrize(
    ("damage", "codec"),
    [pytest.param(d, c, id=f"{d.name}-{c}") for d in DAMAGES for c in ("null", "deflate") if c in d.codecs],
)
def test_damaged_files_split_anywhere_give_the_whole_reads_rows(damage: Any, codec: str, tmp_path: Path) -> None:
    clean = _clean(tmp_path, codec)
    data = damage.corrupt(bytearray(clean.read_bytes()), blocks_of(clean.read_bytes()))
    path = tmp_path / "damaged.avro"
    path.write_bytes(bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", polars_avro.AvroDataSkippedWarning)
        expected = polars_avro.read_avro(path, ignore_errors=True)
        (whole,) = polars_avro.plan_splits(path, target_bytes=10**9, ignore_errors=True)
        rng = random.Random(f"{damage.name}-{codec}")
        for _ in range(30):
            cuts = [rng.randrange(1, len(data)) for _ in range(rng.randrange(1, 12))]
            assert _read_all(_tiled(whole, cuts)).rows() == expected.rows(), f"cuts {sorted(cuts)}"
        # Cuts right around the damaged block's framing and marker.
        block = blocks_of(clean.read_bytes())[3]
        for edge in (block.start, block.data_start, block.marker_start, block.marker_start + 16):
            for cut in (edge - 1, edge, edge + 1):
                assert _read_all(_tiled(whole, [cut])).rows() == expected.rows(), f"cut {cut}"
    assert expected.height < 2000


def test_a_damaged_split_raises_naming_file_split_block_and_offset(tmp_path: Path) -> None:
    clean = _clean(tmp_path, "null")
    data = bytearray(clean.read_bytes())
    blocks = blocks_of(bytes(data))
    data[blocks[5].data_start] = zigzag(9)[0]  # the note union's branch 9: no such branch
    path = tmp_path / "damaged.avro"
    path.write_bytes(bytes(data))
    (whole,) = polars_avro.plan_splits(path, target_bytes=10**9)
    cut = blocks[3].start + 3
    first, second = _tiled(whole, [cut])
    # The first split reads block 3 whole: its marker begins before the cut.
    assert sum(df.height for df in polars_avro.read_split(first)) == sum(b.count for b in blocks[:4])
    with pytest.raises(polars_avro.AvroDecodeError, match="union branch index") as info:
        list(polars_avro.read_split(second))
    err = info.value
    assert err.file == str(path)
    assert err.split_start == cut
    # Blocks 4, 5 of the file are blocks 0, 1 of the split that starts inside block 3.
    assert err.block == 1
    assert err.offset == blocks[5].start
    assert f"split from byte {cut}" in str(err)


def test_small_files_are_grouped_and_evolved_schemas_unified(tmp_path: Path) -> None:
    v2 = {**EVENT_SCHEMA, "fields": [*EVENT_SCHEMA["fields"], {"name": "country", "type": "string", "default": "NO"}]}
    paths = []
    for i in range(6):
        schema, records = (EVENT_SCHEMA, events(i * 100, 100)) if i < 3 else (v2, [])
        if i >= 3:
            records = [{**r, "country": f"c{i}"} for r in events(i * 100, 100)]
        folder = tmp_path / f"day={i // 2}"
        folder.mkdir(exist_ok=True)
        paths.append(write_fastavro(folder / f"part-{i}.avro", schema, records, codec="deflate"))
    size = paths[0].stat().st_size
    splits = polars_avro.plan_splits(tmp_path, target_bytes=2 * size, schema_from="all")
    assert [len(s.files) for s in splits] == [2, 2, 2]
    assert all(s.schema == splits[0].schema for s in splits)
    expected = pl.scan_avro(tmp_path, schema_from="all").collect()  # type: ignore[attr-defined]
    assert "country" in expected.columns and "day" in expected.columns
    assert _read_all(splits).equals(expected)
    # Values against fastavro, the defaults of the older files filled in.
    records = [{**r, "country": r.get("country", "NO")} for p in paths for r in fastavro_records(p)]
    assert_frame_matches_records(_read_all(splits).drop("day"), records, v2)
    # By the first file's rule, as the scan: the newer files' field raises where they are
    # read, or is left out; each split (pickled to its worker) carries the rule.
    first = [pickle.loads(pickle.dumps(s)) for s in polars_avro.plan_splits(tmp_path, target_bytes=2 * size)]
    with pytest.raises(polars_avro.AvroSchemaMismatchError, match="has column 'country'"):
        _read_all(first)
    ignored = polars_avro.plan_splits(tmp_path, target_bytes=2 * size, extra_columns="ignore")
    ignored = [pickle.loads(pickle.dumps(s)) for s in ignored]
    assert _read_all(ignored).equals(expected.drop("country"))


def test_read_split_pushes_down_columns_predicate_and_n_rows(tmp_path: Path) -> None:
    for day in range(3):
        (tmp_path / f"day={day}").mkdir()
        write_fastavro(tmp_path / f"day={day}" / "p.avro", EVENT_SCHEMA, events(day * 1000, 1000), sync_interval=2000)
    splits = polars_avro.plan_splits(tmp_path, target_bytes=5000, include_file_paths="path")
    lf = pl.scan_avro(tmp_path, include_file_paths="path")  # type: ignore[attr-defined]
    predicate = (pl.col("amount") > 700) & (pl.col("day") != 1)
    got = _read_all(splits, columns=["user", "day"], predicate=predicate)
    assert got.columns == ["user", "day"]
    assert got.equals(lf.filter(predicate).select("user", "day").collect())
    with polars_avro.read_stats() as stats:
        skipped_day = [
            df
            for s in splits
            if s.partition_values["day"][0] == 1
            for df in polars_avro.read_split(s, predicate=predicate)
        ]
    assert sum(df.height for df in skipped_day) == 0
    assert stats.blocks == 0  # a filter on the partition column opens none of its files
    assert pl.concat(polars_avro.read_split(splits[0], n_rows=7)).height == 7
    # In the order asked for, as read_avro and scan_avro give them.
    reordered = _read_all(splits, columns=["day", "user"], predicate=predicate)
    assert reordered.equals(lf.filter(predicate).select("day", "user").collect())
    # No column: frames of no width that still count the rows.
    assert [df.height for df in polars_avro.read_split(splits[0], columns=[])] == [
        df.height for df in polars_avro.read_split(splits[0])
    ]
    with pytest.raises(polars_avro.AvroArgumentError, match="columns not in the file"):
        list(polars_avro.read_split(splits[0], columns=["nope"]))


def test_arguments_are_checked(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "a.avro", EVENT_SCHEMA, events(0, 10))
    with pytest.raises(polars_avro.AvroArgumentError, match="paths or URLs"):
        polars_avro.plan_splits(path.read_bytes())
    with pytest.raises(polars_avro.AvroArgumentError, match="target_bytes"):
        polars_avro.plan_splits(path, target_bytes=0)
    with pytest.raises(polars_avro.AvroArgumentError, match="AvroSplit"):
        list(polars_avro.read_split(str(path)))  # type: ignore[arg-type]
    # A worker's own n_threads is checked as a scan's: "x" reached Rust unchecked once.
    (split,) = polars_avro.plan_splits(path)
    for n_threads, words in [("x", "whole number, found str 'x'"), (True, "found bool"), (0, "at least 1")]:
        with pytest.raises(polars_avro.AvroArgumentError, match=f"n_threads must be .*{words}"):
            list(polars_avro.read_split(split, n_threads=n_threads))  # type: ignore[arg-type]
    with pytest.raises(polars_avro.AvroFileNotFoundError):
        polars_avro.plan_splits(tmp_path / "missing.avro")


def test_a_split_file_is_checked_when_made_and_pickles(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "a.avro", EVENT_SCHEMA, events(0, 10), codec="deflate")
    (split,) = polars_avro.plan_splits(path)
    (file,) = split.files
    header = polars_avro.read_avro_header(path)
    assert (file.path, file.start, file.size) == (str(path), 0, path.stat().st_size)
    assert (file.schema, file.codec, file.sync) == (header.schema_json, "deflate", header.sync_marker)
    assert file.header_len < file.end == file.size
    again = pickle.loads(pickle.dumps(file))
    assert again == file and hash(again) == hash(file) and again is not file
    assert split_file_range(file, 1, 2) != file
    assert repr(file) == f"SplitFile('{path}', 0..{file.size} of {file.size} bytes)"
    with pytest.raises(polars_avro.AvroArgumentError, match="sync marker must be 16 bytes, found 3"):
        polars_avro.SplitFile(file.path, 0, 1, 1, file.schema, file.codec, b"abc", 0)
    with pytest.raises(polars_avro.AvroArgumentError, match="ends before it starts"):
        split_file_range(file, 9, 8)
    with pytest.raises(polars_avro.AvroCodecError, match="unknown codec 'lz4'"):
        polars_avro.SplitFile(file.path, 0, 1, 1, file.schema, "lz4", file.sync, 0)


def test_a_file_changed_after_planning_raises(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "a.avro", EVENT_SCHEMA, events(0, 3000), sync_interval=1000)
    splits = polars_avro.plan_splits(path, target_bytes=4000)
    write_fastavro(path, EVENT_SCHEMA, events(0, 10))
    with pytest.raises(polars_avro.AvroError, match="did the file change"):
        list(polars_avro.read_split(splits[-1]))


def test_damaged_headers_are_left_out_of_the_plan_and_reported(tmp_path: Path) -> None:
    good = write_fastavro(tmp_path / "a.avro", EVENT_SCHEMA, events(0, 50))
    (tmp_path / "b.avro").write_bytes(b"")
    with pytest.warns(polars_avro.AvroDataSkippedWarning, match="b.avro"):
        splits = polars_avro.plan_splits([good, tmp_path / "b.avro"], ignore_errors=True)
    assert [f.path for s in splits for f in s.files] == [str(good)]
    with pytest.raises(polars_avro.AvroFormatError, match="b.avro"):
        polars_avro.plan_splits([good, tmp_path / "b.avro"])


def test_s3_splits_carry_no_credentials_and_read_as_the_scan(s3: S3Server, tmp_path: Path) -> None:
    urls = []
    for i in range(3):
        path = write_fastavro(
            tmp_path / f"e{i}.avro", EVENT_SCHEMA, events(i * 4000, 4000), codec="zstandard", sync_interval=4000
        )
        urls.append(s3.put(f"splits/region={i}/e{i}.avro", path))
    options = s3.storage_options()
    splits = polars_avro.plan_splits(f"s3://{s3.BUCKET}/splits/", target_bytes=20_000, storage_options=options)
    assert len(splits) > 3
    shipped = pickle.dumps(splits)
    assert s3.secret_key.encode() not in shipped and s3.access_key.encode() not in shipped
    workers = pickle.loads(shipped)
    got = _read_all(workers, storage_options=options)
    expected = pl.scan_avro(f"s3://{s3.BUCKET}/splits/", storage_options=options).collect()  # type: ignore[attr-defined]
    assert got.equals(expected)
    records = [r for i in range(3) for r in events(i * 4000, 4000)]
    assert_frame_matches_records(got.drop("region"), records, EVENT_SCHEMA)
    # The worker's own credentials are the ones used.
    with pytest.raises(polars_avro.AvroPermissionError):
        list(polars_avro.read_split(workers[0], storage_options=s3.storage_options(aws_secret_access_key="wrong")))
