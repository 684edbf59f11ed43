"""Object store sources against real servers on loopback: moto's S3 server (with
authentication on) and nginx over HTTP, with a proxy that drops connections mid-read.
The files are written by fastavro and the values compared with fastavro's."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import (
    EVENT_SCHEMA,
    assert_frame_matches_records,
    count_rust_calls,
    events,
    fastavro_records,
    write_fastavro,
)
from servers import DroppingProxy, FaultyProxy, HttpServer, S3Server

import polars_avro

SCHEMA = EVENT_SCHEMA
DATES = ["2024-01-01", "2024-01-02", "2024-01-03"]
ROWS_PER_FILE = 3000


def _records(first_id: int) -> list[dict[str, Any]]:
    return events(first_id, ROWS_PER_FILE)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory, s3: S3Server) -> dict[str, Any]:
    """Six fastavro files in hive folders (date=.../part-N.avro), on disk and in S3."""
    root = tmp_path_factory.mktemp("events")
    local: list[Path] = []
    urls: list[str] = []
    for d, date in enumerate(DATES):
        for part in range(2):
            key = f"events/date={date}/part-{part}.avro"
            (root / key).parent.mkdir(parents=True, exist_ok=True)
            path = write_fastavro(
                root / key, SCHEMA, _records((d * 2 + part) * ROWS_PER_FILE), codec="deflate", sync_interval=16_000
            )
            local.append(path)
            urls.append(s3.put(key, path))
    return {"root": root, "local": local, "urls": urls}


def _expected(paths: list[Path]) -> list[dict[str, Any]]:
    return [r for p in paths for r in fastavro_records(p)]


# --------------------------------------------------------------------------- S3


def test_s3_object_reads_as_fastavro_does(s3: S3Server, dataset: dict[str, Any]) -> None:
    df = polars_avro.read_avro(dataset["urls"][0], storage_options=s3.storage_options())
    assert_frame_matches_records(df, _expected(dataset["local"][:1]), SCHEMA)


def test_s3_glob_with_hive_partitions(s3: S3Server, dataset: dict[str, Any]) -> None:
    lf = pl.scan_avro(
        f"s3://{s3.BUCKET}/events/date=*/*.avro", storage_options=s3.storage_options(), hive_partitioning=True
    )
    assert lf.collect_schema()["date"] == pl.Date
    df = lf.collect()
    assert df.columns == ["id", "user", "amount", "tags", "date"]
    assert_frame_matches_records(df.drop("date"), _expected(dataset["local"]), SCHEMA)
    expected_dates = [dt.date.fromisoformat(d) for d in DATES for _ in range(2 * ROWS_PER_FILE)]
    assert df["date"].to_list() == expected_dates


def test_s3_prefix_is_a_directory_with_hive_on(s3: S3Server, dataset: dict[str, Any]) -> None:
    df = pl.scan_avro(f"s3://{s3.BUCKET}/events/", storage_options=s3.storage_options()).collect()
    assert df.height == len(dataset["local"]) * ROWS_PER_FILE
    assert df["date"].unique().sort().to_list() == [dt.date.fromisoformat(d) for d in DATES]


@pytest.mark.parametrize("shape", ["prefix", "glob"])
def test_s3_scan_of_many_objects_calls_rust_twice_before_its_first_batch(
    s3: S3Server, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    """Listing, partition folders, headers and the plan are one call for objects as for
    local files; the reader the other (issue 59). Hidden objects are left out there too."""
    pl.scan_avro(dataset["urls"][0], storage_options=s3.storage_options()).collect()  # the first scan probes Polars
    calls = count_rust_calls(monkeypatch)
    source = f"s3://{s3.BUCKET}/events/" if shape == "prefix" else f"s3://{s3.BUCKET}/events/date=*/*.avro"
    lf = pl.scan_avro(source, storage_options=s3.storage_options(), hive_partitioning=True, hidden_file_prefix="part-1")
    df = lf.collect()
    kept = [path for path in dataset["local"] if path.name == "part-0.avro"]
    assert_frame_matches_records(df.drop("date"), _expected(kept), SCHEMA)
    assert df["date"].to_list() == [dt.date.fromisoformat(d) for d in DATES for _ in range(ROWS_PER_FILE)]
    first_batch = calls.index("ScanReader.next_batch")
    assert calls[:first_batch] == ["plan_sources", "ScanReader"]


def test_s3_objects_all_hidden_are_not_found(s3: S3Server, dataset: dict[str, Any]) -> None:
    with pytest.raises(polars_avro.AvroFileNotFoundError, match="the names of all 6 files of .* begin with hidden"):
        pl.scan_avro(f"s3://{s3.BUCKET}/events/", storage_options=s3.storage_options(), hidden_file_prefix="part")


def test_s3_filter_on_partition_skips_files(s3: S3Server, dataset: dict[str, Any]) -> None:
    lf = pl.scan_avro(f"s3://{s3.BUCKET}/events/", storage_options=s3.storage_options())
    with polars_avro.read_stats() as stats:
        df = lf.filter(pl.col("date") == dt.date(2024, 1, 2), pl.col("id") % 2 == 0).select("id", "date").collect()
    assert stats.files == 2
    assert stats.files_skipped == 4
    ids = [r["id"] for r in _expected(dataset["local"][2:4]) if r["id"] % 2 == 0]
    assert df["id"].to_list() == ids
    assert df["date"].unique().to_list() == [dt.date(2024, 1, 2)]


def test_s3_row_index_and_paths_continue_across_files(s3: S3Server, dataset: dict[str, Any]) -> None:
    df = polars_avro.read_avro(
        dataset["urls"][:3],
        storage_options=s3.storage_options(),
        row_index_name="nr",
        row_index_offset=10,
        include_file_paths="path",
    )
    assert df["nr"].to_list() == list(range(10, 10 + 3 * ROWS_PER_FILE))
    assert df["path"].to_list() == [u for u in dataset["urls"][:3] for _ in range(ROWS_PER_FILE)]
    assert df["id"].to_list() == [r["id"] for r in _expected(dataset["local"][:3])]


def test_s3_n_rows_opens_no_further_files(s3: S3Server, dataset: dict[str, Any]) -> None:
    with polars_avro.read_stats() as stats:
        df = pl.scan_avro(dataset["urls"], storage_options=s3.storage_options()).head(100).collect()
    assert stats.files == 1
    assert df["id"].to_list() == list(range(100))


def test_s3_many_small_objects(s3: S3Server, tmp_path: Path) -> None:
    # More objects than one listing page holds (1,000), each a request: listed page by page
    # and read many at a time, values as fastavro reads them from disk.
    from concurrent.futures import ThreadPoolExecutor

    paths = [
        write_fastavro(tmp_path / f"part-{n:05d}.avro", SCHEMA, _records(n * 3)[:3], codec="snappy")
        for n in range(1010)
    ]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda p: s3.put(f"sink/topic/{p.name}", p), paths))
    url = f"s3://{s3.BUCKET}/sink/topic/*.avro"
    lf = pl.scan_avro(url, storage_options=s3.storage_options(), files_in_flight=32)
    # Each object is fetched once, its header with its data; the first one arrived whole
    # when the scan read its header and is not asked for again.
    with polars_avro.read_stats() as stats:
        df = lf.collect()
    assert stats.files == 1010 and stats.requests == 1009
    assert_frame_matches_records(df, [r for p in paths for r in fastavro_records(p)], SCHEMA)


def test_s3_objects_seen_before_are_not_asked_for_again(s3: S3Server, tmp_path: Path) -> None:
    # Schemas and counts are remembered by URL, size and the ETag the listing gives: scanning
    # the folder again, and counting it again, only lists it.
    paths = [write_fastavro(tmp_path / f"{n:03d}.avro", SCHEMA, _records(n)[: n + 1]) for n in range(30)]
    for p in paths:
        s3.put(f"seen/{p.name}", p)
    url, options = f"s3://{s3.BUCKET}/seen/*.avro", s3.storage_options()
    count = sum(len(fastavro_records(p)) for p in paths)
    assert polars_avro.read_avro(url, storage_options=options, columns=[]).height == count
    gets = lambda requests: sorted(r for r in requests if r.startswith("GET /avro-bucket/seen/"))  # noqa: E731
    before = len(s3.requests())
    with polars_avro.read_stats() as stats:
        assert polars_avro.read_avro(url, storage_options=options, columns=[]).height == count
    assert stats.files_known == 30 and stats.requests == 0
    assert gets(s3.requests()[before:]) == []
    # Values still come from the objects, as fastavro reads them.
    df = pl.scan_avro(url, storage_options=options).collect()
    assert_frame_matches_records(df, [r for p in paths for r in fastavro_records(p)], SCHEMA)
    # An object written again has another ETag: its header and blocks are read again, and only its.
    rewritten = write_fastavro(tmp_path / "again.avro", SCHEMA, _records(0) * 2)
    s3.put(f"seen/{paths[4].name}", rewritten)
    count += len(fastavro_records(rewritten)) - len(fastavro_records(paths[4]))
    before = len(s3.requests())
    with polars_avro.read_stats() as stats:
        assert polars_avro.read_avro(url, storage_options=options, columns=[]).height == count
    assert stats.files_known == 29
    assert set(gets(s3.requests()[before:])) == {f"GET /avro-bucket/seen/{paths[4].name}"}


def test_s3_projection_and_predicate_are_pushed_down(s3: S3Server, dataset: dict[str, Any]) -> None:
    lf = pl.scan_avro(dataset["urls"], storage_options=s3.storage_options())
    df = lf.filter(pl.col("user") == "user-5").select("id").collect(engine="streaming")
    expected = [r["id"] for r in _expected(dataset["local"]) if r["user"] == "user-5"]
    assert df["id"].to_list() == expected


def test_s3_sink_parquet_streams(s3: S3Server, dataset: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    pl.scan_avro(dataset["urls"], storage_options=s3.storage_options()).sink_parquet(out)
    assert_frame_matches_records(pl.read_parquet(out), _expected(dataset["local"]), SCHEMA)


def test_s3_evolved_schemas_are_unified(s3: S3Server, tmp_path: Path) -> None:
    old = write_fastavro(
        tmp_path / "old.avro",
        {"type": "record", "name": "R", "fields": [{"name": "id", "type": "int"}]},
        [{"id": 1}, {"id": 2}],
    )
    new = write_fastavro(
        tmp_path / "new.avro",
        {
            "type": "record",
            "name": "R",
            "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": ["null", "string"], "default": None}],
        },
        [{"id": 3, "note": "x"}],
    )
    urls = [s3.put("evolved/1.avro", old), s3.put("evolved/2.avro", new)]
    df = polars_avro.read_avro(urls, storage_options=s3.storage_options(), schema_from="all", missing_columns="insert")
    assert df.schema == pl.Schema({"id": pl.Int64, "note": pl.String})
    assert df.rows() == [(1, None), (2, None), (3, "x")]


#: A topic's schema as it evolved: fields added with defaults, as a schema registry allows.
TOPIC_V1 = {
    "type": "record",
    "name": "Order",
    "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
}
TOPIC_V2 = {**TOPIC_V1, "fields": [*TOPIC_V1["fields"], {"name": "email", "type": ["null", "string"], "default": None}]}
TOPIC_V3 = {**TOPIC_V2, "fields": [*TOPIC_V2["fields"], {"name": "amount", "type": "double", "default": 0.0}]}


@pytest.fixture(scope="module")
def topic(tmp_path_factory: pytest.TempPathFactory, s3: S3Server) -> dict[str, Any]:
    """Kafka Connect's layout: two partitions, each with a file of every schema version."""
    root = tmp_path_factory.mktemp("topic")
    files: list[tuple[str, Path]] = []
    for partition in range(2):
        for version, schema in enumerate((TOPIC_V1, TOPIC_V2, TOPIC_V3)):
            first = (partition * 3 + version) * 100
            rows = [
                {"id": i, "item": f"item-{i}", "email": f"u{i}@x" if i % 3 else None, "amount": i / 8}
                for i in range(first, first + 50)
            ]
            names = {f["name"] for f in schema["fields"]}
            rows = [{k: v for k, v in row.items() if k in names} for row in rows]
            key = f"topics/orders/partition={partition}/orders+{partition}+{first:010d}.avro"
            (root / key).parent.mkdir(parents=True, exist_ok=True)
            path = write_fastavro(root / key, schema, rows, codec="deflate")
            files.append((s3.put(key, path), path))
    return {"url": f"s3://{s3.BUCKET}/topics/orders/", "files": files}


def _read_into(paths: list[Path], schema: Any) -> list[dict[str, Any]]:
    """fastavro's reading of each file into ``schema``."""
    import fastavro

    out: list[dict[str, Any]] = []
    for path in paths:
        with path.open("rb") as f:
            out += list(fastavro.reader(f, reader_schema=schema))
    return out


def _object_gets(requests: list[str], prefix: str) -> list[str]:
    return [r for r in requests if r.startswith(f"GET /{S3Server.BUCKET}/{prefix}")]


def _get_of(url: str) -> str:
    """The request line of a GET of the object at ``url`` (``s3://bucket/key``)."""
    return f"GET /{url.removeprefix('s3://')}"


def test_s3_evolving_topic_read_by_each_schema_rule(s3: S3Server, topic: dict[str, Any]) -> None:
    """Files of three schema versions (fields added with defaults), scanned by each rule of
    the scan's schema; values compared with fastavro reading each file into the schema the
    rule gives. The rule that cannot see a field raises naming the file and the field."""
    options = s3.storage_options()
    urls = [url for url, _ in topic["files"]]
    paths = [path for _, path in topic["files"]]
    hive = [p for p in range(2) for _ in range(3)]
    # The first file's rule (the default) reads one header; the second version's file has
    # a field the first lacks.
    before = len(s3.requests())
    lf = pl.scan_avro(topic["url"], storage_options=options)
    assert _object_gets(s3.requests()[before:], "topics/") == [_get_of(urls[0])]
    assert lf.collect_schema() == pl.Schema({"id": pl.Int64, "item": pl.String, "partition": pl.Int64})
    with pytest.raises(polars_avro.AvroSchemaMismatchError) as info:
        polars_avro.read_avro(topic["url"], storage_options=options)
    assert info.value.file == urls[1]
    assert "has column 'email', which the scan's schema (the first file's" in str(info.value)
    assert "schema_from='all'" in str(info.value) and "extra_columns='ignore'" in str(info.value)
    # Its columns alone, the others left out.
    df = pl.scan_avro(topic["url"], storage_options=options, extra_columns="ignore").collect()
    assert_frame_matches_records(df.drop("partition"), _read_into(paths, TOPIC_V1), TOPIC_V1)
    assert df["partition"].to_list() == [p for p in hive for _ in range(50)]
    # Every header read, their fields unified: the newest schema's columns.
    newest = _read_into(paths, TOPIC_V3)
    df = pl.scan_avro(topic["url"], storage_options=options, schema_from="all").collect()
    assert_frame_matches_records(df.drop("partition"), newest, TOPIC_V3)
    # The newest schema as the reader schema: no header read before the query.
    before = len(s3.requests())
    lf = pl.scan_avro(topic["url"], storage_options=options, reader_schema=TOPIC_V3)
    assert _object_gets(s3.requests()[before:], "topics/") == []
    assert_frame_matches_records(lf.collect().drop("partition"), newest, TOPIC_V3)
    # The newest file first: the first file's rule reads the older ones into its schema,
    # their missing fields from its defaults.
    order = [2, 0, 1, 5, 3, 4]
    df = polars_avro.read_avro([urls[i] for i in order], storage_options=options)
    assert_frame_matches_records(df, _read_into([paths[i] for i in order], TOPIC_V3), TOPIC_V3)


def test_s3_evolving_topic_read_with_its_registry_subject(s3: S3Server, topic: dict[str, Any]) -> None:
    """The topic's schema versions registered under its subject, as its producers'
    serializers register them: the subject's latest version, fetched with confluent-kafka's
    client, is the scan's reader schema (docs/quickstart-folders.md), and no object is
    fetched before the query; every file reads into it as fastavro reads it."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from registry import SchemaRegistry

    registry = SchemaRegistry()
    try:
        client = SchemaRegistryClient({"url": registry.url})
        for version in (TOPIC_V1, TOPIC_V2, TOPIC_V3):
            client.register_schema("orders-value", Schema(json.dumps(version), "AVRO"))
        newest = client.get_latest_version("orders-value").schema.schema_str
    finally:
        registry.stop()
    options = s3.storage_options()
    before = len(s3.requests())
    lf = pl.scan_avro(topic["url"], storage_options=options, reader_schema=newest)
    assert _object_gets(s3.requests()[before:], "topics/") == []
    paths = [path for _, path in topic["files"]]
    assert_frame_matches_records(lf.collect().drop("partition"), _read_into(paths, TOPIC_V3), TOPIC_V3)


def test_s3_partition_filter_fetches_only_the_files_it_keeps(s3: S3Server, topic: dict[str, Any]) -> None:
    """Each object is fetched once, its header with its data; the first file's header,
    fetched for the schema, is not fetched again."""
    options = s3.storage_options()
    urls = [url for url, _ in topic["files"]]
    paths = [path for _, path in topic["files"]]
    before = len(s3.requests())
    lf = pl.scan_avro(topic["url"], storage_options=options, reader_schema=TOPIC_V3)
    df = lf.filter(pl.col("partition") == 1).collect()
    assert_frame_matches_records(df.drop("partition"), _read_into(paths[3:], TOPIC_V3), TOPIC_V3)
    gets = _object_gets(s3.requests()[before:], "topics/")
    assert sorted(gets) == sorted(_get_of(url) for url in urls[3:])
    before = len(s3.requests())
    lf = pl.scan_avro(topic["url"], storage_options=options, extra_columns="ignore")
    assert lf.select(pl.len()).collect().item() == 300
    # Counts an earlier read of the same objects remembered are not fetched again.
    gets = _object_gets(s3.requests()[before:], "topics/")
    assert len(gets) == len(set(gets)) and set(gets) <= {_get_of(url) for url in urls}


def test_s3_credentials_from_the_environment(
    s3: S3Server, dataset: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3.secret_key)
    monkeypatch.setenv("AWS_REGION", s3.REGION)
    df = polars_avro.read_avro(dataset["urls"][1], storage_options={"aws_endpoint_url": s3.endpoint})
    assert df["id"].to_list() == [r["id"] for r in _expected(dataset["local"][1:2])]


def test_s3_without_credentials_says_which_it_looked_for_and_how_to_give_a_profile(
    s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    # Where none are given, the store asks the instance metadata service (here one that is
    # not there, on a closed port of this machine, as outside a cloud).
    options = {"aws_endpoint_url": s3.endpoint, "aws_region": s3.REGION, "aws_metadata_endpoint": "http://127.0.0.1:9"}
    url = f"s3://{s3.BUCKET}/events/a.avro"
    for read in (
        lambda: polars_avro.read_avro(url, storage_options=options, retries=0),
        lambda: pl.scan_avro(f"s3://{s3.BUCKET}/events/", storage_options=options, retries=0),
    ):
        with pytest.raises(polars_avro.AvroPermissionError) as info:
            read()
        message = str(info.value)
        assert "no AWS credentials were found" in message
        assert "AWS_ACCESS_KEY_ID" in message and "aws_access_key_id" in message
        assert 'credential_provider=pl.CredentialProviderAWS(profile_name="...")' in message
        assert "http://127.0.0.1:9/latest/api/token" in message
        assert isinstance(info.value, PermissionError)


def test_s3_keys_of_an_aws_profile_as_polars_finds_them(
    s3: S3Server, dataset: dict[str, Any], aws_profile: Callable[..., None]
) -> None:
    """credential_provider="auto" (the default): with no keys given, those of the AWS
    profile boto3 finds, as Polars' scans read them; wrong keys say which profile gave them."""
    aws_profile("reader")
    endpoint = {"aws_endpoint_url": s3.endpoint}
    df = polars_avro.read_avro(dataset["urls"][1], storage_options=endpoint)
    assert_frame_matches_records(df, _expected(dataset["local"][1:2]), SCHEMA)
    lf = pl.scan_avro(f"s3://{s3.BUCKET}/events/", storage_options=endpoint, credential_provider="auto")
    assert lf.select(pl.len()).collect().item() == 6 * ROWS_PER_FILE
    aws_profile("reader", secret="not-the-secret")
    with pytest.raises(polars_avro.AvroPermissionError) as info:
        pl.scan_avro(f"s3://{s3.BUCKET}/events/", storage_options=endpoint, retries=0)
    assert "keys of the AWS profile 'reader', found by credential_provider='auto'" in str(info.value)
    assert isinstance(info.value, PermissionError)
    # Keys given win over the profile's.
    assert polars_avro.read_avro(dataset["urls"][1], storage_options=s3.storage_options()).height == ROWS_PER_FILE


def test_s3_wrong_secret_is_a_permission_error(s3: S3Server, dataset: dict[str, Any]) -> None:
    options = s3.storage_options(aws_secret_access_key="not-the-secret")
    with pytest.raises(polars_avro.AvroPermissionError, match="access denied") as info:
        polars_avro.read_avro(dataset["urls"][0], storage_options=options, retries=0)
    assert isinstance(info.value, PermissionError)
    assert info.value.file == dataset["urls"][0]


def test_s3_unknown_key_is_a_permission_error_when_listing(s3: S3Server) -> None:
    options = s3.storage_options(aws_access_key_id="AKIANOSUCHKEY0000000")
    with pytest.raises(polars_avro.AvroPermissionError, match=f"s3://{s3.BUCKET}/events/"):
        pl.scan_avro(f"s3://{s3.BUCKET}/events/*/*.avro", storage_options=options, retries=0)


def test_s3_missing_object_is_file_not_found(s3: S3Server) -> None:
    url = f"s3://{s3.BUCKET}/no/such.avro"
    with pytest.raises(FileNotFoundError, match="no such object") as info:
        polars_avro.read_avro(url, storage_options=s3.storage_options())
    assert isinstance(info.value, polars_avro.AvroFileNotFoundError)
    assert info.value.file == url


def test_s3_glob_matching_nothing_is_file_not_found(s3: S3Server, dataset: dict[str, Any]) -> None:
    with pytest.raises(polars_avro.AvroFileNotFoundError, match="no objects match"):
        pl.scan_avro(f"s3://{s3.BUCKET}/events/date=1999-*/*.avro", storage_options=s3.storage_options())


def test_s3_prefix_and_glob_follow_the_directory_rule(s3: S3Server, dataset: dict[str, Any]) -> None:
    """As a local directory: a prefix reads what its glob ``**/*.avro`` matches, names
    starting with '_' or '.' included, and hidden_file_prefix leaves out file names."""
    names = ["a.avro", "_x.avro", ".y.avro", "_temporary/t.avro", "sub/_w.avro"]
    for name in names:
        s3.put(f"hidden/{name}", dataset["local"][0])
    s3.client.put_object(Bucket=s3.BUCKET, Key="hidden/_SUCCESS", Body=b"")
    base = f"s3://{s3.BUCKET}/hidden/"

    def read(source: str, **options: Any) -> list[str]:
        df = pl.scan_avro(
            source, storage_options=s3.storage_options(), include_file_paths="path", hive_partitioning=False, **options
        ).collect()
        return sorted({p.removeprefix(base) for p in df["path"]})

    assert read(base) == read(base + "**/*.avro") == sorted(names)
    assert read(base + "*.avro") == [".y.avro", "_x.avro", "a.avro"]
    for source in (base, base + "**/*.avro"):
        assert read(source, hidden_file_prefix="_") == [".y.avro", "_temporary/t.avro", "a.avro"]
        assert read(source, hidden_file_prefix=["_", "."]) == ["_temporary/t.avro", "a.avro"]


def test_unknown_storage_option_is_an_argument_error(s3: S3Server, dataset: dict[str, Any]) -> None:
    with pytest.raises(polars_avro.AvroArgumentError, match="'aws_no_such_option' is not an option of the s3 store"):
        polars_avro.read_avro(dataset["urls"][0], storage_options={"aws_no_such_option": "1"})


def test_bad_retries_is_an_argument_error(dataset: dict[str, Any]) -> None:
    with pytest.raises(polars_avro.AvroArgumentError, match="retries"):
        polars_avro.read_avro(dataset["urls"][0], retries=-1)


def test_s3_dropped_connection_is_retried(s3: S3Server, dataset: dict[str, Any]) -> None:
    proxy = DroppingProxy(s3.port, drops=2, cut_after=3_000)
    try:
        options = s3.storage_options(aws_endpoint_url=f"http://127.0.0.1:{proxy.port}")
        df = polars_avro.read_avro(dataset["urls"][2], storage_options=options, retries=3)
    finally:
        proxy.close()
    assert proxy.dropped >= 1
    assert_frame_matches_records(df, _expected(dataset["local"][2:3]), SCHEMA)


_READ_WITH_OPTIONS = """
import json, sys
import polars_avro
try:
    df = polars_avro.read_avro(sys.argv[1], storage_options=json.loads(sys.argv[2]) or None, retries=0)
except polars_avro.AvroPermissionError:
    print("denied")
else:
    print(df.height)
"""


def test_storage_options_win_over_the_environments_credentials(
    s3: S3Server, dataset: dict[str, Any], tmp_path: Path
) -> None:
    """Keys given in storage_options are used over the AWS_* variables of the environment,
    which are read where none are given (issue 61, item 7), in a process of its own: object
    stores are kept per process."""
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "not-the-key",
        "AWS_SECRET_ACCESS_KEY": "not-the-secret",
        "AWS_ENDPOINT_URL": s3.endpoint,
        "AWS_REGION": s3.REGION,
        "AWS_ALLOW_HTTP": "true",
    }
    given = {"aws_access_key_id": s3.access_key, "aws_secret_access_key": s3.secret_key}
    answers = [
        subprocess.run(
            [sys.executable, "-c", _READ_WITH_OPTIONS, dataset["urls"][0], json.dumps(options)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=True,
        ).stdout.strip()
        for options in ({}, given)
    ]
    assert answers == ["denied", str(len(_expected(dataset["local"][:1])))]


@pytest.mark.parametrize("fault", [503, "lose"])
@pytest.mark.parametrize("retries", [0, 2, 5])
def test_retries_are_tries_after_the_first(
    s3: S3Server, dataset: dict[str, Any], retries: int, fault: int | str
) -> None:
    """A request that keeps failing (a 503, or a connection dropped before the answer) is
    made 1 + `retries` times, then raises naming the URL (issue 61, item 3: 5 tries were seen
    for retries=5 once). Backoff doubles from 100 ms, so 5 retries take about 3 s."""
    key = dataset["urls"][3].split("/", 3)[3]
    asks_for_it = lambda target: key in urllib.parse.unquote(target)  # noqa: E731
    proxy = FaultyProxy(s3.port, lambda method, target: fault if asks_for_it(target) else None)
    try:
        options = s3.storage_options(aws_endpoint_url=proxy.endpoint)
        with pytest.raises(polars_avro.AvroIOError, match=key):
            polars_avro.read_avro(dataset["urls"][3], storage_options=options, retries=retries)
    finally:
        proxy.close()
    tries = [seen for seen in proxy.seen if asks_for_it(seen)]
    assert len(tries) == 1 + retries, tries


# --------------------------------------------------------------------------- HTTP


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    root = tmp_path_factory.mktemp("www")
    records = _records(0) * 40  # about 3.5 MB: several range requests
    write_fastavro(root / "big.avro", SCHEMA, records, codec="null", sync_interval=64_000)
    server = HttpServer(root, tmp_path_factory.mktemp("nginx"))
    yield server
    server.close()


def test_http_reads_by_ranges_as_fastavro_does(http: HttpServer) -> None:
    df = polars_avro.read_avro(f"{http.url}/big.avro")
    assert_frame_matches_records(df, fastavro_records(http.root / "big.avro"), SCHEMA)
    asked = http.requests("/big.avro")
    # The scan's first request read the header and told the object's size (no HEAD); the
    # read went on from where it stopped, asking for no byte twice.
    assert [r["method"] for r in asked] == ["GET"] * len(asked)
    assert asked[0]["range"] == "bytes=0-262143"
    size = (http.root / "big.avro").stat().st_size
    assert len(asked) >= 3
    assert all(r["status"] == 206 for r in asked)
    assert sum(r["bytes"] for r in asked) == size


def test_read_stats_count_the_requests_a_read_makes(http: HttpServer) -> None:
    lf = pl.scan_avro(f"{http.url}/big.avro")
    before = len(http.requests("/big.avro"))
    with polars_avro.read_stats() as stats:
        lf.collect()
    # As the server counts them: the ranges after the bytes the scan's creation fetched,
    # together, its size not asked for again. They are asked several at a time, so the
    # server may log them in any order.
    after = http.requests("/big.avro")[before:]
    assert stats.requests == len(after) >= 2
    assert [r["method"] for r in after] == ["GET"] * len(after)
    ranges = sorted(tuple(int(end) for end in r["range"].removeprefix("bytes=").split("-")) for r in after)
    size = (http.root / "big.avro").stat().st_size
    assert ranges[0][0] == 262144
    assert ranges[-1][1] == size - 1
    assert all(ahead[1] + 1 == behind[0] for ahead, behind in zip(ranges, ranges[1:]))


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("gs://bkt/dir/events.avro", {"google_skip_signature": True, "allow_http": True}),
        (
            "az://bkt/dir/events.avro",
            {"azure_storage_account_name": "acct", "azure_skip_signature": "true", "allow_http": "true"},
        ),
        ("abfss://bkt@acct.dfs.core.windows.net/dir/events.avro", {"azure_skip_signature": True, "allow_http": True}),
    ],
)
def test_gcs_and_azure_urls_read_through_their_stores(http: HttpServer, url: str, options: dict[str, Any]) -> None:
    """nginx stands in for the object GET API of Google Cloud Storage and Azure Blob
    Storage (GET with a Range), which both serve /<bucket>/<path> at their endpoint: the
    scheme picks the store, the google_ and azure_ keys configure it."""
    (http.root / "bkt" / "dir").mkdir(parents=True, exist_ok=True)
    path = write_fastavro(http.root / "bkt" / "dir" / "events.avro", SCHEMA, _records(0), codec="deflate")
    endpoint = {"google_base_url": http.url} if url.startswith("gs") else {"azure_endpoint": http.url}
    before = len(http.requests("/bkt/dir/events.avro"))
    df = polars_avro.read_avro(url, storage_options={**options, **endpoint}, retries=0)
    assert_frame_matches_records(df, fastavro_records(path), SCHEMA)
    assert [r["method"] for r in http.requests("/bkt/dir/events.avro")[before:]] == ["GET"]


def test_http_header_fetches_only_the_first_bytes(http: HttpServer, tmp_path: Path) -> None:
    (http.root / "header.avro").write_bytes((http.root / "big.avro").read_bytes())
    header = polars_avro.read_avro_header(f"{http.url}/header.avro")
    assert [f["name"] for f in json.loads(header.schema_json)["fields"]] == ["id", "user", "amount", "tags"]
    sent = sum(r["bytes"] for r in http.requests("/header.avro") if r["method"] == "GET")
    assert 0 < sent <= 256 * 1024


def test_http_missing_file_is_file_not_found(http: HttpServer) -> None:
    with pytest.raises(FileNotFoundError, match="no such object"):
        pl.scan_avro(f"{http.url}/missing.avro").collect()


def test_http_glob_needs_a_listing(http: HttpServer) -> None:
    with pytest.raises(polars_avro.AvroError, match=f"could not list '{http.url}/'"):
        pl.scan_avro(f"{http.url}/*.avro")


def test_http_connection_refused_says_so() -> None:
    """The operating system's reason, under the store's and the HTTP client's errors, is in
    the message (as Polars' own readers keep it), for a scan and for a listing."""
    from servers import free_port

    url = f"http://127.0.0.1:{free_port()}/x.avro"
    with pytest.raises(polars_avro.AvroIOError) as info:
        polars_avro.read_avro(url, retries=0)
    assert str(info.value).startswith(f"could not open '{url}': "), str(info.value)
    assert "Connection refused" in str(info.value), str(info.value)
    assert info.value.file == url
    with pytest.raises(polars_avro.AvroIOError, match="could not list .*Connection refused"):
        pl.scan_avro(url.replace("x.avro", "*.avro"), retries=0)


def test_http_dropped_connection_is_retried(http: HttpServer) -> None:
    proxy = DroppingProxy(http.port, drops=2, cut_after=300_000)
    try:
        df = polars_avro.read_avro(f"http://127.0.0.1:{proxy.port}/big.avro", columns=["id"], retries=2)
    finally:
        proxy.close()
    assert proxy.dropped >= 1
    assert df["id"].to_list() == [r["id"] for r in fastavro_records(http.root / "big.avro")]


def test_http_dropped_connection_without_retries_names_the_place(http: HttpServer) -> None:
    proxy = DroppingProxy(http.port, drops=100, cut_after=300_000)
    url = f"http://127.0.0.1:{proxy.port}/big.avro"
    try:
        with pytest.raises(polars_avro.AvroIOError, match=r"could not read bytes \d+\.\.\d+ of") as info:
            polars_avro.read_avro(url, retries=0)
    finally:
        proxy.close()
    assert info.value.file == url
    assert info.value.offset is not None


_MEMORY_CHILD = textwrap.dedent("""
    import json, sys
    import polars as pl
    import polars_avro

    def peak_mib():
        # VmHWM, not ru_maxrss: a child process inherits its parent's ru_maxrss.
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM")) / 1024

    def current_mib():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

    url = sys.argv[1]
    pl.scan_avro(url).head(10).collect()  # start the pools and the runtime first
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak to the current size
    before = current_mib()
    out = (
        pl.scan_avro(url)
        .select(pl.col("id").sum(), pl.col("payload").str.len_bytes().sum(), pl.len())
        .collect(engine="streaming")
    )
    print(json.dumps({"before_mib": before, "peak_mib": peak_mib(), "row": out.row(0)}))
""")


def test_http_large_file_reads_in_bounded_memory(http: HttpServer) -> None:
    rows = 5_000_000
    df = pl.select(id=pl.int_range(rows, dtype=pl.Int64))
    df = df.with_columns(payload=pl.col("id").cast(pl.String).str.pad_start(100, "x"))
    polars_avro.write_avro(df, http.root / "large.avro", compression="uncompressed")
    size = (http.root / "large.avro").stat().st_size
    assert size > 500 * 2**20
    del df
    try:
        # Run away from the repository, whose polars_avro sources would shadow the installed one.
        result = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, f"{http.url}/large.avro"],
            capture_output=True,
            text=True,
            cwd=http.root,
        )
    finally:
        (http.root / "large.avro").unlink()  # half a gigabyte: not kept among pytest's last runs
    assert result.returncode == 0, result.stderr
    measured = json.loads(result.stdout)
    assert measured["row"] == [rows * (rows - 1) // 2, rows * 100, rows]
    grown_mib = measured["peak_mib"] - measured["before_mib"]
    # Measured: 150-225 MiB, about the same for a 100 MiB file: batches in flight, range
    # requests in flight, and the allocator's arenas; none of it grows with the file.
    assert grown_mib < 300, f"reading a {size >> 20} MiB file grew the peak memory by {grown_mib:.0f} MiB"
