"""polars_avro.dask with the synchronous scheduler and a LocalCluster(processes=False):
fastavro-written files read one split per partition, values compared with fastavro and
with scan_avro, Dask's column pruning reaching the reader, objects on the S3 test server,
a damaged split's error, and to_avro's parts read back by fastavro."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import fastavro
import pandas as pd
import polars as pl
import pytest
from distributed import Client, LocalCluster
from helpers import EVENT_SCHEMA, assert_frame_matches_records, events, fastavro_records, write_fastavro, zigzag
from servers import S3Server
from test_entry_points import assert_scan_keywords
from test_ignore_errors import blocks_of

import polars_avro
import polars_avro.dask

SCHEMA = EVENT_SCHEMA
ROWS_PER_FILE = 3000


def _records(first: int) -> list[dict[str, Any]]:
    return events(first, ROWS_PER_FILE)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dask")
    for i in range(4):
        part = root / f"region=r{i % 2}"
        part.mkdir(exist_ok=True)
        records = _records(i * ROWS_PER_FILE)
        write_fastavro(part / f"part-{i}.avro", SCHEMA, records, codec="snappy", sync_interval=4000)
    return root


@pytest.fixture(params=["sync", "local-cluster"])
def scheduler(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.param == "sync":
        with dask.config.set(scheduler="synchronous"):
            yield
        return
    with LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        with Client(cluster):
            yield


def _polars(pdf: pd.DataFrame) -> pl.DataFrame:
    return pl.from_pandas(pdf.reset_index(drop=True))


def _expected(folder: Path) -> pl.DataFrame:
    return pl.scan_avro(folder).collect()  # type: ignore[attr-defined]


def test_read_gives_every_record_as_fastavro_and_scan_avro_do(folder: Path, scheduler: None) -> None:
    ddf = polars_avro.dask.read_avro(folder, target_bytes=20_000)
    assert ddf.npartitions == len(polars_avro.plan_splits(folder, target_bytes=20_000)) > 4
    got = _polars(ddf.compute())
    expected = _expected(folder)
    assert got.columns == expected.columns
    assert got.select(pl.exclude("region")).equals(expected.select(pl.exclude("region")))
    assert got["region"].cast(pl.String).equals(expected["region"])
    records = [r for p in sorted(folder.rglob("*.avro")) for r in fastavro_records(p)]
    assert_frame_matches_records(got.drop("region"), records, SCHEMA)


def test_the_scan_keywords_are_those_of_scan_options() -> None:
    assert_scan_keywords("dask.read_avro", polars_avro.dask.read_avro, {"storage_options"})


def test_column_pruning_reaches_the_reader(folder: Path, scheduler: None) -> None:
    ddf = polars_avro.dask.read_avro(folder, target_bytes=20_000)
    total = ddf["amount"].sum().compute()
    assert total == pytest.approx(_expected(folder)["amount"].sum())
    # The graph's reads ask for the one column: Dask passed it to the reader.
    graph = ddf[["amount"]].optimize(fuse=False).expr.walk()
    (read,) = [e for e in graph if type(e).__name__ == "FromMapProjectable"]
    assert read.kwargs["columns"] == ["amount"]
    filtered = polars_avro.dask.read_avro(folder, columns=["id", "user"], filter=pl.col("amount") > 2000)
    want = _expected(folder).filter(pl.col("amount") > 2000).select("id", "user")
    assert _polars(filtered.compute()).equals(want)
    # columns= in an order not the files': the partitions in the order asked.
    ordered = polars_avro.dask.read_avro(folder, columns=["user", "amount", "id"], target_bytes=20_000)
    assert list(ordered.columns) == ["user", "amount", "id"]
    assert _polars(ordered.compute()).equals(_expected(folder).select("user", "amount", "id"))


def test_a_damaged_split_raises_naming_file_block_and_offset(tmp_path: Path, scheduler: None) -> None:
    path = write_fastavro(tmp_path / "d.avro", SCHEMA, _records(0), sync_interval=4000)
    data = bytearray(path.read_bytes())
    blocks = blocks_of(bytes(data))
    # The amount union of block 4's first record, after its id and user: branch 7 is no branch.
    first = _records(0)[sum(b.count for b in blocks[:4])]
    user = first["user"].encode()
    data[blocks[4].data_start + len(zigzag(first["id"])) + len(zigzag(len(user))) + len(user)] = zigzag(7)[0]
    path.write_bytes(bytes(data))
    ddf = polars_avro.dask.read_avro(path, target_bytes=4_000)
    with pytest.raises(polars_avro.AvroDecodeError, match=r"union branch index") as info:
        ddf.compute()
    assert info.value.file == str(path)
    assert info.value.offset == blocks[4].start
    assert info.value.block is not None


def test_to_avro_writes_a_part_per_partition_read_back_by_fastavro(
    folder: Path, tmp_path: Path, scheduler: None
) -> None:
    ddf = polars_avro.dask.read_avro(folder, target_bytes=20_000).drop(columns=["region"])
    written = polars_avro.dask.to_avro(ddf, tmp_path / "out", compression="deflate")
    assert len(written) == ddf.npartitions
    assert [Path(p).name for p in written] == sorted(Path(p).name for p in written)
    records = [r for p in written for r in fastavro_records(p)]
    expected = [r for p in sorted(folder.rglob("*.avro")) for r in fastavro_records(p)]
    assert records == expected
    with open(written[0], "rb") as f:
        assert fastavro.reader(f).codec == "deflate"
    assert pl.scan_avro(tmp_path / "out").collect().equals(_expected(folder).drop("region"))  # type: ignore[attr-defined]


def test_s3_read_and_write(s3: S3Server, folder: Path) -> None:
    for path in sorted(folder.rglob("*.avro")):
        s3.put(f"dask/{path.relative_to(folder)}", path)
    options = s3.storage_options()
    with dask.config.set(scheduler="synchronous"):
        ddf = polars_avro.dask.read_avro(f"s3://{s3.BUCKET}/dask/", storage_options=options, target_bytes=20_000)
        got = _polars(ddf.compute())
        assert got.drop("region").equals(_expected(folder).drop("region"))
        written = polars_avro.dask.to_avro(
            ddf.drop(columns=["region"]), f"s3://{s3.BUCKET}/dask-out", storage_options=options
        )
    back = pl.scan_avro(f"s3://{s3.BUCKET}/dask-out/", storage_options=options).collect()  # type: ignore[attr-defined]
    assert len(written) == ddf.npartitions
    assert back.equals(_expected(folder).drop("region"))
