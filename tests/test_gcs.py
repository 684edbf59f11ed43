"""Google Cloud Storage through fake-gcs-server, the GCS emulator, started on loopback by
the tests: gs:// folders, globs, hive partitions and splits read as fastavro reads the
objects, and a write the server refuses leaving no object behind.

fake-gcs-server takes uploads through GCS's JSON API only, while object_store writes
through the XML API (a PUT, or `?uploads` for multipart), so no gs:// write can succeed
against it: the writes here show the refusal reported, naming the URL.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from helpers import EVENT_SCHEMA, assert_frame_matches_records, events, write_fastavro
from servers import GcsServer

import polars_avro

REGIONS = ["ap south", "eu-west", "us-east"]  # in listing order


@pytest.fixture(scope="module")
def gcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsServer]:
    """The emulator with a folder of hive partitions: `events/region=<region>/part-<i>.avro`,
    one per codec, 3,000 records each (in blocks of about 4 KB)."""
    server = GcsServer(tmp_path_factory.mktemp("gcs"))
    local = tmp_path_factory.mktemp("events")
    for i, (region, codec) in enumerate(zip(REGIONS, ["null", "deflate", "zstandard"])):
        path = write_fastavro(
            local / f"part-{i}.avro", EVENT_SCHEMA, events(i * 3000, 3000), codec=codec, sync_interval=4000
        )
        server.put(f"events/region={region}/part-{i}.avro", path)
    yield server
    server.close()


def _regions_and_events() -> tuple[list[str], list[dict]]:
    return [region for region in REGIONS for _ in range(3000)], [r for i in range(3) for r in events(i * 3000, 3000)]


def test_a_gcs_folder_reads_with_its_hive_partitions(gcs: GcsServer) -> None:
    """A listing, then HEAD and ranged GETs per object; the region with a space in it comes
    back from its percent-encoded key."""
    folder = f"gs://{gcs.BUCKET}/events/"
    df = pl.scan_avro(folder, storage_options=gcs.storage_options()).collect()  # type: ignore[attr-defined]
    regions, records = _regions_and_events()
    assert df["region"].to_list() == regions
    assert_frame_matches_records(df.drop("region"), records, EVENT_SCHEMA)
    # A glob (hive partitioning asked for, as Polars wants it for globs), with a filter and
    # a projection pushed into the reader.
    filtered = (
        pl.scan_avro(f"{folder}*/*.avro", hive_partitioning=True, storage_options=gcs.storage_options())  # type: ignore[attr-defined]
        .filter(pl.col("amount") > 1000)
        .select("id", "region")
        .collect()
    )
    expected = [(r["id"], g) for r, g in zip(records, regions) if r["amount"] is not None and r["amount"] > 1000]
    assert list(filtered.iter_rows()) == expected
    assert polars_avro.read_avro_schema(folder, storage_options=gcs.storage_options())["region"] == pl.String


def test_gcs_splits_read_as_the_scan(gcs: GcsServer) -> None:
    folder = f"gs://{gcs.BUCKET}/events/"
    splits = polars_avro.plan_splits(folder, target_bytes=30_000, storage_options=gcs.storage_options())
    assert len(splits) > 3
    workers = pickle.loads(pickle.dumps(splits))
    got = pl.concat(
        [df for split in workers for df in polars_avro.read_split(split, storage_options=gcs.storage_options())]
    )
    assert got.equals(pl.scan_avro(folder, storage_options=gcs.storage_options()).collect())  # type: ignore[attr-defined]
    assert_frame_matches_records(got.drop("region"), _regions_and_events()[1], EVENT_SCHEMA)


def test_a_missing_gcs_object_is_file_not_found(gcs: GcsServer) -> None:
    with pytest.raises(FileNotFoundError, match="no such object"):
        polars_avro.read_avro(f"gs://{gcs.BUCKET}/missing.avro", storage_options=gcs.storage_options())


def test_a_refused_gcs_write_names_the_url_and_leaves_no_object(gcs: GcsServer, tmp_path: Path) -> None:
    df = pl.DataFrame({"id": range(100), "user": [f"u{i}" for i in range(100)]})
    url = f"gs://{gcs.BUCKET}/out/refused.avro"
    with pytest.raises(polars_avro.AvroIOError, match=f"could not write '{url}'.*400 Bad Request"):
        polars_avro.write_avro(df, url, storage_options=gcs.storage_options())
    with pytest.raises(polars_avro.AvroIOError, match=f"could not write '{url}'.*400 Bad Request"):
        polars_avro.sink_avro(df.lazy(), url, storage_options=gcs.storage_options())
    assert not [key for key in gcs.keys() if key.startswith("out/")]
