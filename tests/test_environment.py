"""Object-store settings from the environment, as Polars' own scans take them: each store's
variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`) on the test servers, compared with what
`scan_parquet` reads under the same environment; `storage_options` over the environment;
plain-HTTP endpoints (a local MinIO, LocalStack or moto) without `AWS_ALLOW_HTTP`; what
planning a scan of a folder counts in `read_stats()`; a misspelt option's nearest names."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from servers import HttpServer, S3Server

import polars_avro

FRAME = pl.DataFrame({"id": [1, 2, 3], "city": ["Oslo", "Lima", "Cairo"], "temp": [-4.0, 21.0, 35.5]})


def _avro_bytes(df: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    polars_avro.write_avro(df, out)
    return out.getvalue()


def _parquet_bytes(df: pl.DataFrame) -> bytes:
    out = io.BytesIO()
    df.write_parquet(out)
    return out.getvalue()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[dict[str, str]], None]:
    """Sets exactly these store variables: every other AWS_, GOOGLE_ and AZURE_ one is
    removed, and AWS's files are looked for where there are none."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "GOOGLE_", "AZURE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))

    def set_to(variables: dict[str, str]) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return set_to


def _outcome(read: Callable[[], pl.DataFrame]) -> pl.DataFrame | type[BaseException]:
    """The frame read, or the kind of error (OSError for any refusal of the store)."""
    try:
        return read()
    except OSError:
        return OSError


def _same_as_parquet(avro_url: str, parquet_url: str, storage_options: dict[str, Any] | None = None) -> None:
    """scan_avro and scan_parquet, under the same environment and options, both read the
    frame or are both refused."""
    avro = _outcome(lambda: pl.scan_avro(avro_url, storage_options=storage_options, retries=0).collect())  # type: ignore[attr-defined]
    parquet = _outcome(lambda: pl.scan_parquet(parquet_url, storage_options=storage_options).collect())
    if isinstance(parquet, pl.DataFrame) and isinstance(avro, pl.DataFrame):
        assert_frame_equal(avro, parquet)
        assert_frame_equal(avro, FRAME)
    else:
        assert avro is parquet, (avro, parquet)


@pytest.fixture
def s3_objects(s3: S3Server) -> str:
    """The frame as Avro and as Parquet under a prefix of its own: `<prefix>.avro`, `<prefix>.parquet`."""
    prefix = f"environment/{uuid.uuid4().hex}"
    s3.client.put_object(Bucket=s3.BUCKET, Key=f"{prefix}.avro", Body=_avro_bytes(FRAME))
    s3.client.put_object(Bucket=s3.BUCKET, Key=f"{prefix}.parquet", Body=_parquet_bytes(FRAME))
    return f"s3://{s3.BUCKET}/{prefix}"


def _s3_variables(s3: S3Server) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": s3.endpoint,  # plain HTTP: no AWS_ALLOW_HTTP, as Polars reads it
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_REGION": s3.REGION,
    }


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"AWS_REGION": None, "AWS_DEFAULT_REGION": "us-east-1"},
        # Polars allows a plain-HTTP endpoint whatever this variable says.
        {"AWS_ALLOW_HTTP": "false"},
        {"AWS_ALLOW_HTTP": "true"},
    ],
    ids=["endpoint-keys-region", "default-region", "allow-http-false", "allow-http-true"],
)
def test_s3_reads_with_the_environment_scan_parquet_reads_with(
    s3: S3Server, s3_objects: str, environment: Callable[[dict[str, str]], None], change: dict[str, str | None]
) -> None:
    variables = {**_s3_variables(s3), **change}
    environment({name: value for name, value in variables.items() if value is not None})
    _same_as_parquet(f"{s3_objects}.avro", f"{s3_objects}.parquet")


def test_s3_endpoint_of_its_own_variable(
    s3: S3Server, s3_objects: str, environment: Callable[[dict[str, str]], None]
) -> None:
    """AWS_ENDPOINT_URL_S3 (AWS's variable for S3 alone), which Polars 2 reads too."""
    variables = _s3_variables(s3)
    variables["AWS_ENDPOINT_URL_S3"] = variables.pop("AWS_ENDPOINT_URL")
    environment(variables)
    assert_frame_equal(pl.scan_avro(f"{s3_objects}.avro", retries=0).collect(), FRAME)  # type: ignore[attr-defined]


def test_storage_options_override_the_environment_as_in_polars(
    s3: S3Server, s3_objects: str, environment: Callable[[dict[str, str]], None]
) -> None:
    environment({**_s3_variables(s3), "AWS_SECRET_ACCESS_KEY": "not-the-key"})
    avro, parquet = f"{s3_objects}.avro", f"{s3_objects}.parquet"
    # The environment's wrong key is refused, by both. (Stores are kept per bucket and
    # options, by Polars and by this package: options of their own build new ones, from
    # the environment as it is now.)
    _same_as_parquet(avro, parquet, {"aws_region": s3.REGION})
    assert _outcome(lambda: polars_avro.read_avro(avro, storage_options={"region": s3.REGION}, retries=0)) is OSError
    # The options' key wins over it.
    _same_as_parquet(avro, parquet, {"aws_secret_access_key": s3.secret_key})
    environment(_s3_variables(s3))
    # allow_http false in the options refuses the plain-HTTP endpoint, as Polars does.
    _same_as_parquet(avro, parquet, {"aws_allow_http": "false"})
    assert _outcome(lambda: polars_avro.read_avro(avro, storage_options={"allow_http": "false"}, retries=0)) is OSError


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    """nginx serving `bkt/dir/x.avro` and `x.parquet`: the object GET API of Google Cloud
    Storage and of Azure Blob Storage, which both serve /<bucket>/<path> at their endpoint."""
    root = tmp_path_factory.mktemp("www")
    (root / "bkt" / "dir").mkdir(parents=True)
    (root / "bkt" / "dir" / "x.avro").write_bytes(_avro_bytes(FRAME))
    (root / "bkt" / "dir" / "x.parquet").write_bytes(_parquet_bytes(FRAME))
    server = HttpServer(root, tmp_path_factory.mktemp("nginx"))
    yield server
    server.close()


def test_google_cloud_storage_reads_with_the_environment_scan_parquet_reads_with(
    nginx: HttpServer, environment: Callable[[dict[str, str]], None]
) -> None:
    environment({"GOOGLE_BASE_URL": nginx.url, "GOOGLE_SKIP_SIGNATURE": "true"})
    if int(pl.__version__.split(".")[0]) >= 2:
        _same_as_parquet("gs://bkt/dir/x.avro", "gs://bkt/dir/x.parquet")
    # (Polars 1.30's own scans ask the metadata service for a token all the same.)
    assert_frame_equal(polars_avro.read_avro("gs://bkt/dir/x.avro", retries=0), FRAME)


def test_azure_reads_with_the_environment_scan_parquet_reads_with(
    nginx: HttpServer, environment: Callable[[dict[str, str]], None]
) -> None:
    """A plain-HTTP endpoint (Azurite's, say) without AZURE_ALLOW_HTTP, as Polars reads it."""
    environment({"AZURE_STORAGE_ACCOUNT_NAME": "acct", "AZURE_ENDPOINT": nginx.url, "AZURE_SKIP_SIGNATURE": "true"})
    _same_as_parquet("az://bkt/dir/x.avro", "az://bkt/dir/x.parquet")
    assert_frame_equal(polars_avro.read_avro("az://bkt/dir/x.avro", retries=0), FRAME)
    # The options override the environment: another endpoint, where nothing is.
    refused = {"azure_endpoint": "http://127.0.0.1:9"}
    _same_as_parquet("az://bkt/dir/x.avro", "az://bkt/dir/x.parquet", refused)


@pytest.mark.parametrize(
    ("url", "misspelt", "meant"),
    [
        ("s3://bucket/x.avro", "aws_regoin", "'aws_region'"),
        ("s3://bucket/x.avro", "AWS_SECRET_ACCES_KEY", "'aws_secret_access_key'"),
        ("gs://bucket/x.avro", "google_service_acount", "'google_service_account'"),
        ("az://bucket/x.avro", "azure_storage_acount_name", "'azure_storage_account_name'"),
        ("https://example.com/x.avro", "allow_htp", "'allow_http'"),
    ],
)
def test_a_misspelt_storage_option_names_the_nearest(url: str, misspelt: str, meant: str) -> None:
    with pytest.raises(
        polars_avro.AvroArgumentError, match=f"'{misspelt}' is not an option of the .* store: did you mean"
    ) as info:
        pl.scan_avro(url, storage_options={misspelt: "x"})  # type: ignore[attr-defined]
    assert meant in str(info.value)
    assert isinstance(info.value, ValueError)


def test_read_stats_count_what_planning_a_folder_scan_read(
    s3: S3Server, environment: Callable[[dict[str, str]], None]
) -> None:
    """Creating a scan of every header reads them (and makes the requests) once: counted
    then, and not again by the read."""
    environment(_s3_variables(s3))
    folder = f"s3://{s3.BUCKET}/planned-{uuid.uuid4().hex}/"
    for i in range(4):
        s3.client.put_object(
            Bucket=s3.BUCKET,
            Key=f"{folder.split('/', 3)[3]}part-{i}.avro",
            Body=_avro_bytes(FRAME.with_columns(part=i)),
        )
    with polars_avro.read_stats() as planning:
        lf = pl.scan_avro(folder, schema_from="all")  # type: ignore[attr-defined]
    assert (planning.headers_read, planning.files, planning.rows) == (4, 0, 0)
    assert planning.requests >= 4
    with polars_avro.read_stats() as reading:
        df = lf.collect()
    assert (reading.headers_read, reading.files, reading.rows) == (0, 4, 12)
    assert df.height == 12
    # The first file's rule reads one header when the scan is made, the others with their data.
    folder_again = folder.replace("planned-", "first-")
    for i in range(4):
        s3.client.put_object(
            Bucket=s3.BUCKET, Key=f"{folder_again.split('/', 3)[3]}part-{i}.avro", Body=_avro_bytes(FRAME)
        )
    with polars_avro.read_stats() as planning:
        lf = pl.scan_avro(folder_again)  # type: ignore[attr-defined]
    assert (planning.headers_read, planning.requests > 0) == (1, True)
    with polars_avro.read_stats() as reading:
        lf.collect()
    assert (reading.headers_read, reading.files) == (3, 4)
