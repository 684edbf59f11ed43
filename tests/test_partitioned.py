"""Partitioned and rolled-over output: ``sink_avro`` into hive-style folders by key, part
files rolled over at a row or byte limit, locally and on the S3 test server; every file
read back with fastavro, the folder with ``scan_avro``, and the layout compared with what
Polars' own ``sink_parquet`` makes of the same ``PartitionBy``."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import fastavro
import polars as pl
import pytest
from helpers import STREAMS_BATCHES
from polars.testing import assert_frame_equal
from servers import S3Server

import polars_avro

HAS_PARTITION_BY = hasattr(pl, "PartitionBy")


def events(n: int = 1000) -> pl.LazyFrame:
    return pl.LazyFrame(
        {
            "id": range(n),
            "country": [["NO", "PE", "a/b c", None][i % 4] for i in range(n)],
            "year": [2024 + i % 2 for i in range(n)],
            "amount": [i * 0.5 for i in range(n)],
        }
    )


def files_under(base: Path) -> list[str]:
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def fastavro_rows(path: Path) -> list[dict]:
    with open(path, "rb") as f:
        return list(fastavro.reader(f))


def test_hive_folders_by_key_with_rolled_over_parts(tmp_path: Path) -> None:
    base = tmp_path / "out"
    polars_avro.sink_avro(events(), str(base), partition_by=["country", "year"], max_rows_per_file=100)
    files = files_under(base)
    assert "country=a%2Fb%20c/year=2024/00000000.avro" in files
    assert "country=__HIVE_DEFAULT_PARTITION__/year=2025/00000002.avro" in files
    # 1000 rows, 4 (country, year) keys of 250 rows each: three parts a key.
    assert len(files) == 12
    expected = events().collect()
    for name in files:
        rows = fastavro_rows(base / name)
        assert 1 <= len(rows) <= 100
        key = dict(part.split("=") for part in name.split("/")[:-1])
        assert {r["year"] for r in rows} == {int(key["year"])}
    back = pl.scan_avro(str(base)).collect().sort("id")
    assert_frame_equal(back.select(expected.columns), expected)


def test_keys_left_out_of_the_files_come_back_from_the_folders(tmp_path: Path) -> None:
    base = tmp_path / "out"
    lf = events().with_columns(pl.col("year").cast(pl.Int64))
    polars_avro.sink_avro(lf, str(base), partition_by=pl.col("year"), include_key=False)
    assert files_under(base) == ["year=2024/00000000.avro", "year=2025/00000000.avro"]
    assert set(fastavro_rows(base / "year=2024/00000000.avro")[0]) == {"id", "country", "amount"}
    back = pl.scan_avro(str(base)).collect().sort("id")
    assert_frame_equal(back.select(lf.collect_schema().names()), lf.collect())


def test_rolling_over_by_size_alone(tmp_path: Path) -> None:
    base = tmp_path / "out"
    size = events().collect().estimated_size()
    polars_avro.sink_avro(events(), str(base), approximate_bytes_per_file=size // 4 + 1)
    files = files_under(base)
    assert files == [f"{i:08d}.avro" for i in range(len(files))] and 4 <= len(files) <= 5
    back = pl.concat([polars_avro.read_avro(base / f) for f in files])
    assert_frame_equal(back, events().collect())


@pytest.mark.skipif(not HAS_PARTITION_BY, reason="pl.PartitionBy arrived in Polars 2 (the keyword form covers 1.x)")
def test_partition_by_lays_files_out_as_polars_sink_parquet_does(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PartitionBy is marked unstable
        ours = pl.PartitionBy(str(tmp_path / "avro"), key=["country", "year"], max_rows_per_file=100)
        theirs = pl.PartitionBy(str(tmp_path / "parquet"), key=["country", "year"], max_rows_per_file=100)
    events().avro.sink(ours)
    events().sink_parquet(theirs, mkdir=True)
    avro = [f.removesuffix(".avro") for f in files_under(tmp_path / "avro")]
    parquet = [f.removesuffix(".parquet") for f in files_under(tmp_path / "parquet")]
    assert avro == parquet
    back = pl.scan_avro(str(tmp_path / "avro")).collect().sort("id")
    assert_frame_equal(back, pl.scan_parquet(str(tmp_path / "parquet")).collect().sort("id").select(back.columns))


def test_a_failing_query_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    """Parts finished before the failure are removed with the ones open, and the folders
    made for them; files already there stay as they were (the parts it finished were left)."""

    def fail_late(batch: pl.DataFrame) -> pl.DataFrame:
        if batch["id"].max() >= 900:
            msg = "the query failed part-way"
            raise RuntimeError(msg)
        return batch

    base = tmp_path / "out"
    (base / "year=2024").mkdir(parents=True)
    (base / "year=2024" / "00000000.avro").write_bytes(b"an older part")
    (base / "notes.txt").write_text("kept")
    before = {name: (base / name).read_bytes() for name in files_under(base)}
    failing = events().map_batches(fail_late, streamable=True)
    with pytest.raises(Exception, match="the query failed part-way"):
        polars_avro.sink_avro(failing, str(base), partition_by="year", chunk_size=100, max_rows_per_file=100)
    assert {name: (base / name).read_bytes() for name in files_under(base)} == before
    assert sorted(p.name for p in base.iterdir()) == ["notes.txt", "year=2024"]


FULL_DISK_CHILD = r"""
import resource, signal, sys
import polars as pl
import polars_avro

# A file size limit stands in for a full disk: writes past it fail (EFBIG), as on ENOSPC.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
n = 600_000
# Rows grow along the query: the first parts fit under the limit, a later one does not.
years = [2024 + i % 2 for i in range(n)]
lf = pl.LazyFrame({"id": range(n), "year": years, "s": ["x" * (i // 2000) for i in range(n)]})
try:
    polars_avro.sink_avro(lf, sys.argv[1], partition_by="year", max_rows_per_file=5_000)
except polars_avro.AvroIOError as e:
    print("AvroIOError", e)
"""


@pytest.mark.skipif(os.name == "nt", reason="resource limits are POSIX")
@pytest.mark.skipif(
    not STREAMS_BATCHES,
    reason="before Polars 1.37 the query is staged in an IPC file first, which the limit refuses before any part",
)
def test_a_partitioned_sink_that_fills_the_disk_leaves_no_part(tmp_path: Path) -> None:
    """It left the parts it had finished (each under the limit) beside the failed one."""
    base = tmp_path / "out"
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK_CHILD, str(base)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert child.stdout.startswith("AvroIOError"), child.stdout + child.stderr
    assert "File too large" in child.stdout, child.stdout
    assert not base.exists() or files_under(base) == [], files_under(base)


def test_bad_partition_arguments() -> None:
    with pytest.raises(polars_avro.AvroArgumentError, match="max_rows_per_file must be at least 1, found 0"):
        polars_avro.sink_avro(events(), "out", max_rows_per_file=0)
    with pytest.raises(polars_avro.AvroArgumentError, match="goes to a folder"):
        polars_avro.sink_avro(events(), __import__("io").BytesIO(), partition_by="year")


def test_partitioned_output_to_s3(s3: S3Server) -> None:
    base = f"s3://{s3.BUCKET}/partitioned"
    options = s3.storage_options()
    polars_avro.sink_avro(events(), base, partition_by="country", max_rows_per_file=200, storage_options=options)
    keys = sorted(o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.BUCKET, Prefix="partitioned/")["Contents"])
    assert keys[0] == "partitioned/country=NO/00000000.avro" and len(keys) == 8
    back = pl.scan_avro(f"{base}/", storage_options=options).collect().sort("id")
    assert_frame_equal(back.select(events().collect_schema().names()), events().collect())


def test_write_avro_partitions_a_frame_too(tmp_path: Path) -> None:
    df = events(100).collect().with_columns(kind=pl.Series(["buy", "sell"] * 50).cast(pl.Categorical))
    base = tmp_path / "out"
    polars_avro.write_avro(df, str(base), partition_by="year", max_rows_per_file=30)
    assert files_under(base) == [f"year={y}/{i:08d}.avro" for y in (2024, 2025) for i in range(2)]
    # A Categorical becomes the Enum of its values, as in a single file.
    assert polars_avro.read_avro(base / "year=2024/00000000.avro")["kind"].dtype == pl.Enum(["buy", "sell"])
    assert pl.scan_avro(str(base)).collect_schema()["kind"] == pl.Enum(["buy", "sell"])
    back = pl.scan_avro(str(base)).collect().sort("id")
    assert_frame_equal(back.select(df.columns), df.with_columns(pl.col("kind").cast(pl.Enum(["buy", "sell"]))))
