"""Writing to object stores: write_avro, sink_avro and the .avro namespaces to S3 URLs on
moto's server (started on loopback by the tests), values read back with fastavro from the
objects boto3 fetches. Large outputs go as multipart uploads; a failed write leaves no
object and no pending upload, and an object already there stays as it was."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

import fastavro
import polars as pl
import pytest
from helpers import assert_frame_matches_records
from polars.testing import assert_frame_equal
from servers import DroppingProxy, FaultyProxy, S3Server

import polars_avro


def frame(rows: int, offset: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": range(offset, offset + rows),
            "user": [f"user-{i % 977}-" + "x" * (i % 40) for i in range(offset, offset + rows)],
            "amount": [None if i % 7 == 0 else i * 0.5 for i in range(offset, offset + rows)],
        }
    )


def fetched(s3: S3Server, key: str) -> tuple[bytes, list[dict]]:
    """The object's bytes and its records as fastavro reads them."""
    data = s3.client.get_object(Bucket=s3.BUCKET, Key=key)["Body"].read()
    return data, list(fastavro.reader(io.BytesIO(data)))


def keys(s3: S3Server, prefix: str) -> list[str]:
    return [o["Key"] for o in s3.client.list_objects_v2(Bucket=s3.BUCKET, Prefix=prefix).get("Contents", [])]


def pending_uploads(s3: S3Server) -> list[str]:
    return [u["Key"] for u in s3.client.list_multipart_uploads(Bucket=s3.BUCKET).get("Uploads", [])]


def test_write_avro_to_s3_and_read_it_back(s3: S3Server) -> None:
    df = frame(1000)
    url = f"s3://{s3.BUCKET}/out/small.avro"
    polars_avro.write_avro(df, url, compression="deflate", storage_options=s3.storage_options())
    _, records = fetched(s3, "out/small.avro")
    assert_frame_matches_records(
        df, records, polars_avro.read_avro_header(url, storage_options=s3.storage_options()).schema
    )
    assert_frame_equal(polars_avro.read_avro(url, storage_options=s3.storage_options()), df)
    # The namespace method, the same way.
    df.avro.write(f"s3://{s3.BUCKET}/out/method.avro", storage_options=s3.storage_options())
    assert fetched(s3, "out/method.avro")[1] == records


def test_writes_use_the_keys_of_an_aws_profile_as_polars_finds_them(
    s3: S3Server, aws_profile: Callable[..., None]
) -> None:
    """credential_provider="auto" (the default) writes with the keys of the AWS profile
    boto3 finds where none are given, as reads do; wrong keys say which profile gave them,
    and nothing is left in the bucket."""
    aws_profile("writer")
    endpoint = {"aws_endpoint_url": s3.endpoint}
    df = frame(500)
    polars_avro.write_avro(df, f"s3://{s3.BUCKET}/profile/written.avro", storage_options=endpoint)
    df.lazy().pipe(polars_avro.sink_avro, f"s3://{s3.BUCKET}/profile/sunk.avro", storage_options=endpoint)
    written, expected = fetched(s3, "profile/written.avro")
    assert_frame_matches_records(df, expected, polars_avro.read_avro_header(io.BytesIO(written)).schema)
    assert fetched(s3, "profile/sunk.avro")[1] == expected
    aws_profile("writer", secret="not-the-secret")
    for write in (
        lambda: polars_avro.write_avro(
            df, f"s3://{s3.BUCKET}/profile/refused.avro", storage_options=endpoint, retries=0
        ),
        lambda: polars_avro.sink_avro(
            df.lazy(), f"s3://{s3.BUCKET}/profile/refused.avro", storage_options=endpoint, retries=0
        ),
    ):
        with pytest.raises(polars_avro.AvroPermissionError) as info:
            write()
        assert "keys of the AWS profile 'writer', found by credential_provider='auto'" in str(info.value)
    assert keys(s3, "profile/refused") == [] and pending_uploads(s3) == []


def test_a_large_sink_goes_as_a_multipart_upload(s3: S3Server) -> None:
    """More than one 8 MiB part: the object appears whole, as written."""
    lf = pl.concat([frame(100_000, offset=k * 100_000).lazy() for k in range(4)])
    url = f"s3://{s3.BUCKET}/out/large.avro"
    before = len(s3.requests())
    lf.avro.sink(url, storage_options=s3.storage_options())
    requests = s3.requests()[before:]
    assert sum("uploads" in r and r.startswith("POST") for r in requests) == 1, requests
    assert sum("partNumber=" in r for r in requests) >= 2, requests
    data, records = fetched(s3, "out/large.avro")
    assert len(data) > 8 << 20
    assert [r["id"] for r in records] == list(range(400_000))
    assert_frame_equal(polars_avro.read_avro(data), lf.collect())
    assert not pending_uploads(s3)


def test_a_failed_sink_leaves_no_object_and_the_old_one_as_it_was(s3: S3Server) -> None:
    url = f"s3://{s3.BUCKET}/out/replaced.avro"
    polars_avro.write_avro(frame(10), url, storage_options=s3.storage_options())
    old, _ = fetched(s3, "out/replaced.avro")

    def fail_late(batch: pl.DataFrame) -> pl.DataFrame:
        if batch["id"].max() >= 390_000:
            msg = "the query failed part-way"
            raise RuntimeError(msg)
        return batch

    failing = frame(400_000).lazy().map_batches(fail_late, streamable=True)
    for target in (url, f"s3://{s3.BUCKET}/out/never.avro"):
        with pytest.raises(Exception, match="the query failed part-way"):
            polars_avro.sink_avro(failing, target, storage_options=s3.storage_options(), chunk_size=50_000)
    assert fetched(s3, "out/replaced.avro")[0] == old
    assert "out/never.avro" not in keys(s3, "out/")
    assert not pending_uploads(s3)


def test_bad_credentials_and_targets(s3: S3Server) -> None:
    url = f"s3://{s3.BUCKET}/out/denied.avro"
    with pytest.raises(polars_avro.AvroPermissionError, match="could not write .*access denied") as info:
        polars_avro.write_avro(
            frame(5), url, storage_options=s3.storage_options(aws_secret_access_key="wrong"), retries=0
        )
    assert info.value.file == url
    assert "out/denied.avro" not in keys(s3, "out/")
    with pytest.raises(polars_avro.AvroArgumentError, match="names a folder"):
        polars_avro.write_avro(frame(5), f"s3://{s3.BUCKET}/out/", storage_options=s3.storage_options())
    with pytest.raises(polars_avro.AvroArgumentError, match="'aws_no_such' is not an option"):
        polars_avro.write_avro(frame(5), url, storage_options={"aws_no_such": "1"})
    with pytest.raises(polars_avro.AvroArgumentError, match="retries must be"):
        polars_avro.write_avro(frame(5), url, retries=-1)


def test_a_dropped_connection_is_retried(s3: S3Server, tmp_path: Path) -> None:
    proxy = DroppingProxy(s3.port, drops=1, cut_after=0)
    try:
        options = s3.storage_options(aws_endpoint_url=f"http://127.0.0.1:{proxy.port}")
        url = f"s3://{s3.BUCKET}/out/retried.avro"
        polars_avro.write_avro(frame(100), url, storage_options=options, retries=3)
        assert proxy.dropped >= 1
        assert [r["id"] for r in fetched(s3, "out/retried.avro")[1]] == list(range(100))
    finally:
        proxy.close()


def completion(method: str, target: str) -> bool:
    return method == "POST" and "uploadId=" in target


@pytest.mark.parametrize(("status", "retries"), [(503, 1), (502, 0)])
def test_a_completion_that_fails_aborts_the_upload(s3: S3Server, status: int, retries: int) -> None:
    """The store refuses every completion (it never completes the upload): the write
    raises naming the URL, no upload is left pending (its parts would be stored and billed
    until a lifecycle rule removed them), and the object that was there stays as it was:
    the check of a failed completion finds the old object, not one written."""
    key = f"out/refused-{status}.avro"
    url = f"s3://{s3.BUCKET}/{key}"
    polars_avro.write_avro(frame(10), url, storage_options=s3.storage_options())
    old, _ = fetched(s3, key)
    proxy = FaultyProxy(s3.port, lambda method, target: status if completion(method, target) else None)
    try:
        options = s3.storage_options(aws_endpoint_url=proxy.endpoint)
        with pytest.raises(polars_avro.AvroIOError, match=f"could not write 's3://.*/{key}'.*{status}"):
            polars_avro.write_avro(frame(400_000), url, storage_options=options, retries=retries)
        assert sum(completion(*r.split(" ")) for r in proxy.seen) == retries + 1, proxy.seen
        assert any(r.startswith("DELETE") and "uploadId=" in r for r in proxy.seen), proxy.seen
    finally:
        proxy.close()
    assert not pending_uploads(s3)
    assert fetched(s3, key)[0] == old


@pytest.mark.parametrize("there_before", [False, True])
def test_a_completion_whose_answer_is_lost_is_checked_before_it_is_called_a_failure(
    s3: S3Server, there_before: bool
) -> None:
    """The store completes the upload but the answer never arrives (the connection drops):
    the object it then holds is the one written (a new ETag, the size written), so the
    write succeeds rather than report a failure for an object that is there whole."""
    key = f"out/lost-{there_before}.avro"
    url = f"s3://{s3.BUCKET}/{key}"
    if there_before:
        polars_avro.write_avro(frame(10), url, storage_options=s3.storage_options())
    proxy = FaultyProxy(s3.port, lambda method, target: "lose" if completion(method, target) else None)
    df = frame(400_000)
    try:
        polars_avro.write_avro(df, url, storage_options=s3.storage_options(aws_endpoint_url=proxy.endpoint))
        assert sum(completion(*r.split(" ")) for r in proxy.seen) >= 1, proxy.seen
    finally:
        proxy.close()
    assert_frame_equal(polars_avro.read_avro(fetched(s3, key)[0]), df)
    assert not pending_uploads(s3)


def test_a_stalled_store_fails_within_the_timeout(s3: S3Server) -> None:
    """Part uploads that get no answer: each try gives up after `timeout` (30 s unless
    set), so the write fails within about timeout x (retries + 1), aborting the upload;
    a read of an object the store does not answer for fails the same way."""
    url = f"s3://{s3.BUCKET}/out/stalled.avro"
    polars_avro.write_avro(frame(1000), url, storage_options=s3.storage_options())
    stall_parts = FaultyProxy(
        s3.port, lambda method, target: "stall" if method == "PUT" and "partNumber=2&" in target else None
    )
    stall_reads = FaultyProxy(s3.port, lambda method, target: "stall" if method == "GET" else None)
    try:
        options = s3.storage_options(aws_endpoint_url=stall_parts.endpoint, timeout="1s")
        started = time.monotonic()
        with pytest.raises(polars_avro.AvroIOError, match="could not write 's3://.*/out/never.avro'.*timed out"):
            polars_avro.write_avro(
                frame(400_000), f"s3://{s3.BUCKET}/out/never.avro", storage_options=options, retries=1
            )
        assert time.monotonic() - started < 30
        assert not pending_uploads(s3)
        assert "out/never.avro" not in keys(s3, "out/")

        options = s3.storage_options(aws_endpoint_url=stall_reads.endpoint, timeout="1s")
        started = time.monotonic()
        with pytest.raises(polars_avro.AvroIOError, match="s3://.*/out/stalled.avro.*timed out"):
            polars_avro.read_avro(url, storage_options=options, retries=1)
        assert time.monotonic() - started < 30
    finally:
        stall_parts.close()
        stall_reads.close()
