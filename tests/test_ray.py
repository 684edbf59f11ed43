"""polars_avro.ray on a local Ray cluster (2 CPUs): fastavro-written files read in splits,
values compared with fastavro and with scan_avro, Ray's projections and filters reaching
the reader, objects on the S3 test server, and a damaged split's error."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import ray
from helpers import assert_frame_matches_records, fastavro_records, write_fastavro, zigzag
from ray.data.expressions import col
from servers import S3Server
from test_entry_points import assert_scan_keywords
from test_ignore_errors import blocks_of

import polars_avro
import polars_avro.ray

SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "user", "type": ["null", "string"]},
        {"name": "amount", "type": "double"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CLICK", "VIEW", "BUY"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}
ROWS_PER_FILE = 3000


def _records(first: int) -> list[dict[str, Any]]:
    return [
        {
            "id": first + i,
            "user": None if i % 13 == 0 else f"user-{(first + i) % 41}",
            "amount": (first + i) * 0.25,
            "kind": ["CLICK", "VIEW", "BUY"][i % 3],
            "tags": [f"t{j}" for j in range(i % 3)],
        }
        for i in range(ROWS_PER_FILE)
    ]


@pytest.fixture(scope="module", autouse=True)
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Ray's workers start in the driver's directory and import from it: out of the
    # repository, so that they import the installed package, not its source tree.
    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("ray-driver"))
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
        # Ray hands blocks on as tasks finish unless told to keep their order.
        ray.data.DataContext.get_current().execution_options.preserve_order = True
        yield
    finally:
        ray.shutdown()
        os.chdir(here)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four files in hive folders, blocks of about 4 KB."""
    root = tmp_path_factory.mktemp("ray")
    for i in range(4):
        part = root / f"region=r{i % 2}"
        part.mkdir(exist_ok=True)
        write_fastavro(
            part / f"part-{i}.avro", SCHEMA, _records(i * ROWS_PER_FILE), codec="deflate", sync_interval=4000
        )
    return root


def _collect(ds: Any) -> pl.DataFrame:
    import pyarrow as pa

    return pl.DataFrame(pl.from_arrow(pa.concat_tables(ray.get(ds.to_arrow_refs()))))


def _expected(folder: Path) -> pl.DataFrame:
    """scan_avro's frame, with enums as the strings Ray gets."""
    df = pl.scan_avro(folder).collect()  # type: ignore[attr-defined]
    return df.with_columns(pl.col("kind").cast(pl.String))


def test_read_gives_every_record_in_order_as_fastavro_and_scan_avro_do(folder: Path) -> None:
    ds = polars_avro.ray.read_avro(folder, target_bytes=20_000)
    assert ds.schema().names == ["id", "user", "amount", "kind", "tags", "region"]
    got = _collect(ds)
    assert got.equals(_expected(folder))
    records = [r for p in sorted(folder.rglob("*.avro")) for r in fastavro_records(p)]
    as_written = got.drop("region").with_columns(pl.col("kind").cast(pl.Enum(["CLICK", "VIEW", "BUY"])))
    assert_frame_matches_records(as_written, records, SCHEMA)
    assert ds.count() == 4 * ROWS_PER_FILE


def test_tasks_are_splits_grouped_to_what_ray_asks(folder: Path) -> None:
    ds = polars_avro.ray.read_avro(folder, target_bytes=5_000, override_num_blocks=3)
    assert _collect(ds).equals(_expected(folder))
    source = polars_avro.ray.AvroDatasource(folder, target_bytes=5_000)
    assert len(source.get_read_tasks(3)) == 3
    assert len(source.get_read_tasks(10_000)) == len(polars_avro.plan_splits(folder, target_bytes=5_000))


def test_projection_and_filters_reach_the_reader(folder: Path) -> None:
    expected = _expected(folder)
    ds = polars_avro.ray.read_avro(folder, target_bytes=20_000)
    selected = ds.filter(expr=(col("amount") > 1000) & (col("region") == "r1")).select_columns(["user", "id"])
    got = _collect(selected)
    assert got.columns == ["user", "id"]  # as asked, as Ray's own readers give them
    want = expected.filter((pl.col("amount") > 1000) & (pl.col("region") == "r1")).select("user", "id")
    assert got.equals(want)
    # What Ray pushes down, the tasks read: only the projected column leaves them.
    source = polars_avro.ray.AvroDatasource(folder, target_bytes=20_000)
    pushed = source.apply_predicate(col("amount") > 1000).apply_projection({"user": "user"})
    tables = [t for task in pushed.get_read_tasks(2) for t in task()]
    assert all(t.column_names == ["user"] for t in tables)
    assert sum(t.num_rows for t in tables) == expected.filter(pl.col("amount") > 1000).height
    # Filters Polars is not handed run on each table with pyarrow.
    starts = polars_avro.ray.read_avro(folder, columns=["user"], filter=col("user").str.starts_with("user-4"))
    assert _collect(starts).equals(expected.filter(pl.col("user").str.starts_with("user-4")).select("user"))
    # columns= in an order not the files': every table in the order asked.
    ordered = polars_avro.ray.read_avro(folder, columns=["tags", "region", "id"], target_bytes=20_000)
    assert _collect(ordered).equals(expected.select("tags", "region", "id"))


def test_the_scan_keywords_are_those_of_scan_options() -> None:
    assert_scan_keywords("ray.read_avro", polars_avro.ray.read_avro, {"storage_options", "batch_size"})


def test_count_and_limit(folder: Path) -> None:
    ds = polars_avro.ray.read_avro(folder, target_bytes=20_000)
    assert ds.count() == 4 * ROWS_PER_FILE
    assert ds.limit(25).count() == 25


def test_a_damaged_split_fails_its_task_naming_file_block_and_offset(tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "d.avro", SCHEMA, _records(0), sync_interval=4000)
    data = bytearray(path.read_bytes())
    blocks = blocks_of(bytes(data))
    first_id = sum(b.count for b in blocks[:4])
    # The user union after the first record's id varint: branch 7 is no branch.
    data[blocks[4].data_start + len(zigzag(first_id))] = zigzag(7)[0]
    path.write_bytes(bytes(data))
    ds = polars_avro.ray.read_avro(path, target_bytes=4_000)
    with pytest.raises(Exception, match=r"union branch index.*file '.*d.avro'.*block \d+, byte offset") as info:
        ds.materialize()
    assert isinstance(info.value, polars_avro.AvroDecodeError) or "AvroDecodeError" in str(info.value)


def test_s3_objects_read_in_splits(s3: S3Server, folder: Path) -> None:
    for path in sorted(folder.rglob("*.avro")):
        s3.put(f"ray/{path.relative_to(folder)}", path)
    options = s3.storage_options()
    ds = polars_avro.ray.read_avro(f"s3://{s3.BUCKET}/ray/", storage_options=options, target_bytes=20_000)
    assert _collect(ds).equals(_expected(folder))


def test_write_avro_writes_a_part_per_task_read_back_by_fastavro(folder: Path, tmp_path: Path) -> None:
    ds = polars_avro.ray.read_avro(folder, target_bytes=20_000).drop_columns(["region"])
    polars_avro.ray.write_avro(ds, str(tmp_path / "out"), compression="zstandard")
    parts = sorted((tmp_path / "out").glob("part-*.avro"))
    assert len(parts) > 1
    records = sorted((r for p in parts for r in fastavro_records(p)), key=lambda r: r["id"])
    # Ray hands enums over as strings: the parts hold the symbols as strings.
    assert records == sorted((r for p in folder.rglob("*.avro") for r in fastavro_records(p)), key=lambda r: r["id"])
    back = pl.scan_avro(tmp_path / "out").collect().sort("id")  # type: ignore[attr-defined]
    assert back.equals(_expected(folder).drop("region").sort("id"))


def test_s3_write(s3: S3Server, folder: Path) -> None:
    options = s3.storage_options()
    ds = polars_avro.ray.read_avro(folder, target_bytes=20_000)
    polars_avro.ray.write_avro(ds, f"s3://{s3.BUCKET}/ray-out", storage_options=options)
    back = pl.scan_avro(f"s3://{s3.BUCKET}/ray-out/", storage_options=options).collect()  # type: ignore[attr-defined]
    assert back.sort("id").equals(_expected(folder).sort("id"))
