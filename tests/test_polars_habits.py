"""The habits a Polars user brings: arguments as Polars takes them (one column by name, zstd,
low_memory, mkdir, credential_provider, a sink's path=), Polars' keywords that mean nothing
for Avro refused with a reason, integer options checked before they reach Rust, and
warnings that point at the user's line."""

from __future__ import annotations

import inspect
import io
import warnings
from pathlib import Path
from typing import Any, Callable

import fastavro
import polars as pl
import pytest
from helpers import EVENT_SCHEMA, events, write_fastavro
from servers import S3Server

import polars_avro
from polars_avro import (
    AvroArgumentError,
    AvroColumnNotFoundError,
    AvroDataSkippedWarning,
    AvroDecodeWarning,
    AvroDuplicateError,
    AvroKeywordError,
)
from polars_avro._io import READ_EAGER_REFUSED
from polars_avro._polars.keywords import READ_REFUSED, WRITE_REFUSED

SCHEMA = {
    "type": "record",
    "name": "R",
    "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
}
RECORDS = [{"id": i, "name": f"n{i}"} for i in range(5000)]


@pytest.fixture
def avro_file(tmp_path: Path) -> Path:
    return write_fastavro(tmp_path / "r.avro", SCHEMA, RECORDS, sync_interval=2_000)


# --------------------------------------------------------------------------- columns


def test_one_column_by_name_is_that_column(avro_file: Path) -> None:
    ids = [r["id"] for r in RECORDS]
    assert polars_avro.read_avro(avro_file, columns="id").to_dict(as_series=False) == {"id": ids}
    with polars_avro.AvroReader(avro_file, columns="name") as reader:
        assert pl.concat(reader)["name"].to_list() == [r["name"] for r in RECORDS]
    (split,) = polars_avro.plan_splits(avro_file)
    assert pl.concat(polars_avro.read_split(split, columns="id")).columns == ["id"]


def test_avro_reader_of_no_record_gives_no_batch(tmp_path: Path) -> None:
    """As Polars' batched reads: `collect_batches` (`read_csv_batched` before it) of a
    header-only file gives no batch."""
    csv = tmp_path / "h.csv"
    csv.write_text("id,name\n")
    if hasattr(pl.LazyFrame, "collect_batches"):
        assert list(pl.scan_csv(csv).collect_batches()) == []
    else:
        assert pl.read_csv_batched(csv).next_batches(1) is None
    path = write_fastavro(tmp_path / "h.avro", SCHEMA, [])
    with polars_avro.AvroReader(path) as reader:
        assert list(reader) == []
        assert reader.schema == pl.Schema({"id": pl.Int64, "name": pl.String})
    # The reads that give a frame still give one of no row.
    assert polars_avro.read_avro(path).schema == reader.schema
    assert polars_avro.read_avro(path).height == 0


# --------------------------------------------------------------------------- integer options


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"batch_size": -1}, "batch_size must be at least 1, found -1"),
        ({"batch_size": 0}, "batch_size must be at least 1, found 0"),
        ({"batch_size": 2**70}, "batch_size must be at most"),
        ({"batch_size": 1.5}, "batch_size must be a whole number, found float 1.5"),
        ({"batch_size": True}, "batch_size must be a whole number, found bool"),
        ({"n_rows": -1}, "n_rows must be at least 0"),
        ({"n_rows": 2**64}, "n_rows must be at most"),
        ({"row_index_name": "i", "row_index_offset": 2**70}, "row_index_offset must be at most"),
        ({"n_threads": 0}, "n_threads must be at least 1"),
        ({"n_threads": 2**70}, "n_threads must be at most"),
        ({"files_in_flight": 2**70}, "files_in_flight must be at most"),
        # A typo away from 100: as many threads.
        ({"files_in_flight": 100_000}, "files_in_flight must be at most 1,024, found 100,000"),
        ({"retries": 2**70}, "retries must be at most"),
    ],
)
def test_integer_read_options_are_argument_errors_naming_them(
    avro_file: Path, options: dict[str, Any], words: str
) -> None:
    for read in (polars_avro.read_avro, lambda *a, **k: polars_avro.scan_avro(*a, **k).collect()):
        with pytest.raises(AvroArgumentError, match=words):
            read(avro_file, **options)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"sync_interval": 2**70}, "sync_interval must be at most"),
        ({"compression": "deflate", "compression_level": 2**70}, "compression_level must be at most"),
        ({"n_threads": 2**70}, "n_threads must be at most"),
        ({"chunk_size": 0}, "chunk_size must be at least 1"),
        ({"chunk_size": -1}, "chunk_size must be at least 1"),
    ],
)
def test_integer_write_options_are_argument_errors_naming_them(options: dict[str, Any], words: str) -> None:
    lf = pl.LazyFrame({"a": [1, 2]})
    with pytest.raises(AvroArgumentError, match=words):
        polars_avro.sink_avro(lf, io.BytesIO(), **options)
    if "chunk_size" not in options:
        with pytest.raises(AvroArgumentError, match=words):
            polars_avro.write_avro(lf.collect(), io.BytesIO(), **options)


@pytest.mark.parametrize("n_threads", [100_000, 10**9])
def test_threads_past_four_per_core_are_refused_at_once(avro_file: Path, tmp_path: Path, n_threads: int) -> None:
    """A typo (100_000 for 10) started threads one by one for minutes, deaf to Ctrl-C."""
    most = rf"n_threads must be at most \d+ \(4 per core, or POLARS_MAX_THREADS\), found {n_threads}"
    with pytest.raises(AvroArgumentError, match=most):
        polars_avro.read_avro(avro_file, n_threads=n_threads)
    with pytest.raises(AvroArgumentError, match=most):
        polars_avro.scan_avro(avro_file, n_threads=n_threads).collect()
    with pytest.raises(AvroArgumentError, match=most):
        polars_avro.write_avro(pl.DataFrame({"a": [1]}), tmp_path / "a.avro", n_threads=n_threads)
    assert not (tmp_path / "a.avro").exists()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"ignore_errors": ""}, "ignore_errors must be True or False, found str ''"),
        ({"glob": 1}, "glob must be True or False, found int 1"),
        ({"hive_partitioning": "yes"}, "hive_partitioning must be True or False, found str 'yes'"),
        ({"include_file_paths": []}, r"include_file_paths must be a column name \(a str\), found list \[\]"),
        ({"row_index_name": 0}, r"row_index_name must be a column name \(a str\), found int 0"),
        ({"columns": -1}, "columns must be a column name, or a list of names or of indices, found int -1"),
    ],
)
def test_option_types_are_argument_errors_naming_them(avro_file: Path, options: dict[str, Any], words: str) -> None:
    for read in (polars_avro.read_avro, lambda *a, **k: polars_avro.scan_avro(*a, **k).collect()):
        if "columns" in options and read is not polars_avro.read_avro:
            continue  # scan_avro takes no columns
        with pytest.raises(AvroArgumentError, match=words):
            read(avro_file, **options)


def test_empty_column_names_work_as_in_polars(avro_file: Path) -> None:
    """Polars allows a column named "": `read_parquet(row_index_name="")` names the index so.
    The frames cross from Rust as pl.DataFrame(series), which renamed it column_0."""
    pl.DataFrame({"id": [1]}).write_parquet(avro_file.with_suffix(".parquet"))
    assert pl.read_parquet(avro_file.with_suffix(".parquet"), row_index_name="").columns == ["", "id"]
    df = polars_avro.read_avro(avro_file, row_index_name="", columns=["id"])
    assert df.columns == ["", "id"]
    assert df[""].to_list() == list(range(len(RECORDS)))
    scanned = polars_avro.scan_avro(avro_file, row_index_name="").filter(pl.col("") < 3).collect()
    assert scanned.columns == ["", "id", "name"]
    assert scanned[""].to_list() == [0, 1, 2]
    paths = polars_avro.scan_avro(avro_file, include_file_paths="").select("id", "").head(2).collect()
    assert paths.columns == ["id", ""]
    assert paths[""].to_list() == [str(avro_file)] * 2


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"name": 5}, r"name must be the record's name \(a str\), found int 5"),
        ({"partition_by": [1, 2]}, "partition_by takes column names and expressions, found int 1"),
    ],
)
def test_write_option_types_are_argument_errors_naming_them(
    tmp_path: Path, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(AvroArgumentError, match=words):
        polars_avro.write_avro(pl.DataFrame({"a": [1]}), tmp_path / "out", **options)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("key", ["nope", pl.col("nope") + 1])
@pytest.mark.parametrize("write", ["write_avro", "sink_avro"])
def test_a_partition_key_of_no_column_is_a_column_not_found_error_as_polars_raises(
    tmp_path: Path, key: Any, write: str
) -> None:
    """It was Polars' error with a query plan the user never wrote."""
    df = pl.DataFrame({"a": [1]})
    with pytest.raises(pl.exceptions.ColumnNotFoundError):
        df.write_parquet(tmp_path / "parquet", partition_by="nope")
    with pytest.raises(
        AvroColumnNotFoundError,
        match=r"^partition_by reads the column 'nope', which the data does not have; its columns: \['a'\]$",
    ) as raised:
        if write == "write_avro":
            polars_avro.write_avro(df, tmp_path / "out", partition_by=key)
        else:
            polars_avro.sink_avro(df.lazy(), tmp_path / "out", partition_by=key)
    assert isinstance(raised.value, pl.exceptions.ColumnNotFoundError)
    assert isinstance(raised.value, AvroArgumentError)
    assert not (tmp_path / "out").exists()


COLUMN_MISTAKES = [
    ({"columns": ["nope"]}, AvroColumnNotFoundError, r"^columns not in the file: \['nope'\]"),
    ({"columns": [5]}, AvroColumnNotFoundError, r"^column index out of range: the file has 2 columns"),
    ({"columns": [0, 0]}, AvroDuplicateError, r"^columns names the column 'id' more than once"),
    ({"columns": ["id", "id"]}, AvroDuplicateError, r"^columns names the column 'id' more than once"),
    ({"columns": [1, -1]}, AvroDuplicateError, r"^columns names the column 'name' more than once"),
    ({"row_index_name": "id"}, AvroDuplicateError, r"^row_index_name: the column name 'id' is already a column"),
    ({"include_file_paths": "name"}, AvroDuplicateError, r"^include_file_paths: the column name 'name' is already"),
]


@pytest.mark.parametrize(
    ("read", "options", "ours", "words"),
    [
        (read, *mistake)
        for read in ["read_avro", "scan_avro", "AvroReader"]
        for mistake in COLUMN_MISTAKES
        # A scan takes no columns: Polars' own select refuses those mistakes.
        if not (read == "scan_avro" and "columns" in mistake[0])
    ],
)
def test_a_column_mistake_raises_the_class_polars_raises(
    avro_file: Path, tmp_path: Path, options: dict[str, Any], ours: type, words: str, read: str
) -> None:
    """An unknown column is a ColumnNotFoundError and a column named twice a DuplicateError in
    Polars' readers; ours are those classes too, and argument errors naming the option."""
    parquet = tmp_path / "same.parquet"
    polars_avro.read_avro(avro_file).write_parquet(parquet)
    with pytest.raises(pl.exceptions.PolarsError) as polars_raised:
        pl.read_parquet(parquet, **options)
    with pytest.raises(ours, match=words) as raised:
        if read == "read_avro":
            polars_avro.read_avro(avro_file, **options)
        elif read == "scan_avro":
            pl.scan_avro(avro_file, **options).collect()
        else:
            next(iter(polars_avro.AvroReader(avro_file, **options)))
    polars_class = {
        AvroColumnNotFoundError: pl.exceptions.ColumnNotFoundError,
        AvroDuplicateError: pl.exceptions.DuplicateError,
    }[ours]
    assert isinstance(raised.value, polars_class) and isinstance(raised.value, AvroArgumentError)
    # Polars 1.30 called a row index named as a column a SchemaError ("extra column in file
    # outside of expected schema"); later versions a DuplicateError.
    if not (options.keys() == {"row_index_name"} and isinstance(polars_raised.value, pl.exceptions.SchemaError)):
        assert isinstance(polars_raised.value, polars_class), polars_raised.value


def test_partitioned_output_onto_a_file_names_it(avro_file: Path) -> None:
    before = avro_file.read_bytes()
    with pytest.raises(
        AvroArgumentError,
        match=r"max_rows_per_file asks for partitioned output, which goes to a folder, and .*r.avro. is a file",
    ):
        polars_avro.sink_avro(pl.LazyFrame({"a": [1]}), avro_file, max_rows_per_file=10)
    assert avro_file.read_bytes() == before


def test_a_negative_schema_id_is_an_argument_error() -> None:
    with pytest.raises(AvroArgumentError, match="schema_id must be at least 0, found -1"):
        polars_avro.encode("a", '"long"', framing="confluent", schema_id=-1)


# --------------------------------------------------------------------------- zstd


def test_zstd_is_zstandard() -> None:
    df = pl.DataFrame({"s": [f"value {i % 100}" for i in range(10_000)]})
    out = io.BytesIO()
    polars_avro.write_avro(df, out, compression="zstd", compression_level=19)
    data = out.getvalue()
    assert polars_avro.read_avro_header(data).codec == "zstandard"
    reader = fastavro.reader(io.BytesIO(data))
    assert reader.codec == "zstandard"
    assert [r["s"] for r in reader] == df["s"].to_list()
    streamed = io.BytesIO()
    df.lazy().avro.sink(streamed, compression="zstd")
    assert [r["s"] for r in fastavro.reader(io.BytesIO(streamed.getvalue()))] == df["s"].to_list()


# --------------------------------------------------------------------------- Polars' keywords


def _polars_keywords(function: Callable[..., Any]) -> set[str]:
    """The keywords of one of Polars' functions, less its private ones and the source or target."""
    names = set(inspect.signature(function).parameters) - {"self", "source", "path", "file"}
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (polars_avro.scan_avro, pl.scan_parquet),
        (polars_avro.read_avro, pl.read_parquet),
        (polars_avro.write_avro, pl.DataFrame.write_parquet),
        (polars_avro.sink_avro, pl.LazyFrame.sink_parquet),
    ],
    ids=["scan", "read", "write", "sink"],
)
def test_every_polars_keyword_is_taken_or_refused(ours: Callable[..., Any], theirs: Callable[..., Any]) -> None:
    # Against the installed Polars (the tests run with the newest and the oldest supported).
    taken = set(inspect.signature(ours).parameters)
    refused = READ_REFUSED if ours is polars_avro.scan_avro else WRITE_REFUSED
    if ours is polars_avro.read_avro:
        refused = READ_EAGER_REFUSED
    assert _polars_keywords(theirs) - taken - set(refused) == set()
    assert not taken & set(refused), "a keyword both taken and refused"


@pytest.mark.parametrize("keyword", sorted(READ_REFUSED))
def test_polars_read_keywords_without_meaning_are_refused_saying_why(avro_file: Path, keyword: str) -> None:
    reads = (("scan_avro", polars_avro.scan_avro), ("read_avro", polars_avro.read_avro))
    for name, read in reads if keyword in READ_EAGER_REFUSED else reads[:1]:
        # A TypeError, as Python's own for a keyword a function does not take.
        with pytest.raises(TypeError, match=rf"{name}\(\) takes no {keyword}= \(a keyword of Polars'") as info:
            read(avro_file, **{keyword: True})
        assert READ_REFUSED[keyword] in str(info.value)
        assert isinstance(info.value, AvroKeywordError)
    with pytest.raises(AvroKeywordError, match=r"read_avro\(\) takes no cache="):
        polars_avro.read_avro(avro_file, cache=True)  # type: ignore[call-arg]


@pytest.mark.parametrize("keyword", sorted(WRITE_REFUSED))
def test_polars_write_keywords_without_meaning_are_refused_saying_why(tmp_path: Path, keyword: str) -> None:
    df = pl.DataFrame({"a": [1]})
    writes = {
        "write_avro": lambda **k: polars_avro.write_avro(df, tmp_path / "a.avro", **k),
        "sink_avro": lambda **k: polars_avro.sink_avro(df.lazy(), tmp_path / "a.avro", **k),
        "df.avro.write": lambda **k: df.avro.write(tmp_path / "a.avro", **k),
        "lf.avro.sink": lambda **k: df.lazy().avro.sink(tmp_path / "a.avro", **k),
    }
    for name, write in writes.items():
        with pytest.raises(AvroKeywordError, match=rf"{name}\(\) takes no {keyword}="):
            write(**{keyword: 1})
    assert not (tmp_path / "a.avro").exists()


def test_cache_is_taken_by_scans(avro_file: Path) -> None:
    for cache in (True, False):
        df = polars_avro.scan_avro(avro_file, cache=cache).collect()
        assert df.rows() == [(r["id"], r["name"]) for r in RECORDS]


def test_low_memory_reads_smaller_batches(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"n{i}"} for i in range(40_000)]
    path = write_fastavro(tmp_path / "big.avro", SCHEMA, records, sync_interval=8_000)
    with polars_avro.read_stats() as default:
        df = polars_avro.read_avro(path, n_threads=1)
    with polars_avro.read_stats() as low:
        low_df = polars_avro.scan_avro(path, low_memory=True).collect()
    assert low_df.equals(df)
    assert df.rows() == [(r["id"], r["name"]) for r in records]
    # 40,000 rows in one batch of the default 65,536 (on more threads, a read of more than
    # 256 KiB makes batches for each to take)
    assert default.batches == 1
    assert low.batches >= 40_000 // 8_192
    with polars_avro.read_stats() as given:
        polars_avro.read_avro(path, low_memory=True, batch_size=20_000)
    assert given.batches == 2  # batch_size, when given, wins


def test_a_read_makes_batches_for_each_thread_to_take(tmp_path: Path) -> None:
    records = [{"id": i, "name": f"name {i}" * 16} for i in range(60_000)]
    path = write_fastavro(tmp_path / "big.avro", SCHEMA, records, sync_interval=16_000)
    size = path.stat().st_size
    batches = {}
    for threads in (1, 2, 4):
        with polars_avro.read_stats() as stats:
            df = polars_avro.read_avro(path, n_threads=threads)
        assert df.rows() == [(r["id"], r["name"]) for r in records]
        batches[threads] = stats.batches
    # About 9 MB: batches of 4 MiB at most on one thread; four a thread, of 512 KiB at
    # least, beyond.
    assert size > 8 << 20
    assert batches[1] <= 3
    assert batches[2] >= 8
    assert batches[4] >= 16


def test_mkdir_creates_the_folders_of_a_local_path(tmp_path: Path) -> None:
    df = pl.DataFrame({"a": [1, 2]})
    target = tmp_path / "x" / "y" / "out.avro"
    with pytest.raises(polars_avro.AvroError):
        polars_avro.write_avro(df, target)
    polars_avro.write_avro(df, target, mkdir=True)
    assert [r["a"] for r in fastavro.reader(target.open("rb"))] == [1, 2]
    sunk = tmp_path / "p" / "q" / "out.avro"
    df.lazy().avro.sink(path=sunk, mkdir=True)
    assert [r["a"] for r in fastavro.reader(sunk.open("rb"))] == [1, 2]


def test_a_sink_takes_its_target_as_path(tmp_path: Path) -> None:
    lf = pl.LazyFrame({"a": [1, 2, 3]})
    polars_avro.sink_avro(lf, path=tmp_path / "a.avro")
    assert [r["a"] for r in fastavro.reader((tmp_path / "a.avro").open("rb"))] == [1, 2, 3]
    with pytest.raises(AvroArgumentError, match="takes its target once"):
        polars_avro.sink_avro(lf, tmp_path / "b.avro", path=tmp_path / "c.avro")
    with pytest.raises(AvroArgumentError, match="needs a target"):
        lf.avro.sink()


def test_credential_provider_gives_the_credentials(s3: S3Server, tmp_path: Path) -> None:
    path = write_fastavro(tmp_path / "e.avro", EVENT_SCHEMA, events(0, 500))
    url = s3.put("habits/e.avro", path)
    endpoint = {"aws_endpoint_url": s3.endpoint, "aws_region": s3.REGION}
    calls: list[int] = []

    def provider() -> tuple[dict[str, str], int | None]:
        calls.append(1)
        return {"aws_access_key_id": s3.access_key, "aws_secret_access_key": s3.secret_key}, None

    df = polars_avro.read_avro(url, storage_options=endpoint, credential_provider=provider)
    assert df["id"].to_list() == [r["id"] for r in fastavro.reader(path.open("rb"))]
    lazy = polars_avro.scan_avro(url, storage_options=endpoint, credential_provider=provider).collect()
    assert lazy.equals(df)
    out = f"s3://{S3Server.BUCKET}/habits/out.avro"
    polars_avro.write_avro(df, out, storage_options=endpoint, credential_provider=provider)
    df.lazy().avro.sink(path=out, storage_options=endpoint, credential_provider=provider)
    assert polars_avro.read_avro(out, storage_options=s3.storage_options()).equals(df)
    assert len(calls) == 4  # once per read or write

    # The provider's keys win over storage_options' own.
    def wrong() -> tuple[dict[str, str], int | None]:
        return {"aws_access_key_id": s3.access_key, "aws_secret_access_key": "not-the-secret"}, None

    with pytest.raises(polars_avro.AvroPermissionError):
        polars_avro.read_avro(url, storage_options=s3.storage_options(), credential_provider=wrong, retries=0)


@pytest.mark.parametrize(
    ("provider", "words"),
    [
        (lambda: {"aws_access_key_id": "x"}, r"must give \(credentials, expiry\)"),
        (lambda: 1 / 0, "credential_provider raised ZeroDivisionError"),
        ("aws", "credential_provider must be a callable"),
    ],
)
def test_a_bad_credential_provider_is_an_argument_error(avro_file: Path, provider: Any, words: str) -> None:
    with pytest.raises(AvroArgumentError, match=words):
        polars_avro.read_avro(avro_file, credential_provider=provider)


# --------------------------------------------------------------------------- warnings


def _damaged(tmp_path: Path) -> Path:
    """A file whose second block's sync marker is broken: ignore_errors leaves a block out."""
    path = write_fastavro(tmp_path / "d.avro", SCHEMA, RECORDS, sync_interval=2_000)
    data = bytearray(path.read_bytes())
    marker = bytes(data[-16:])
    second = data.index(marker, data.index(marker) + 16)
    data[second] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def _skipped_warnings(read: Callable[[], Any]) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read()
    found = [w for w in caught if issubclass(w.category, AvroDataSkippedWarning)]
    assert found
    return found


def test_skipped_block_warnings_point_at_the_users_line(tmp_path: Path) -> None:
    path = _damaged(tmp_path)
    reads: list[Callable[[], Any]] = [
        lambda: polars_avro.read_avro(path, ignore_errors=True),
        lambda: polars_avro.scan_avro(path, ignore_errors=True).collect(),
        lambda: polars_avro.scan_avro(path, ignore_errors=True).collect(engine="streaming"),
    ]
    for read in reads:
        for w in _skipped_warnings(read):
            assert w.filename == __file__, (w.filename, w.lineno)


def test_a_lazy_scan_read_on_polars_threads_warns_where_it_was_made(tmp_path: Path) -> None:
    path = _damaged(tmp_path)
    lf = polars_avro.scan_avro(path, ignore_errors=True)
    scan_line = inspect.currentframe().f_lineno - 1  # type: ignore[union-attr]
    collect = lambda: lf.collect(engine="streaming")  # noqa: E731
    collect_line = scan_line + 2
    for w in _skipped_warnings(collect):
        assert w.filename == __file__
        # The collect's line where Polars runs the scan on the caller's thread (Polars 1),
        # else the scan's (Polars 2 reads on threads of its own).
        assert w.lineno in (scan_line, collect_line)


def test_permissive_decode_warnings_point_at_the_users_line() -> None:
    df = pl.DataFrame({"value": [b"\x02", b"\x02\x00", None]})
    for expr in (
        polars_avro.decode("value", '"long"', mode="permissive"),
        pl.col("value").avro.decode('"long"', mode="permissive"),
    ):
        for run in (lambda e=expr: df.select(e), lambda e=expr: df.lazy().select(e).collect(engine="streaming")):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = run()
            assert out["value"].to_list() == [1, None, None]
            found = [w for w in caught if issubclass(w.category, AvroDecodeWarning)]
            assert found and all(w.filename == __file__ for w in found), [(w.filename, w.lineno) for w in found]


def test_a_mistake_in_the_users_own_filter_is_raised_as_polars_raises_it(tmp_path: Path) -> None:
    """A filter comparing a UTC timestamp with a naive datetime: raised as Polars raises it
    from an IO source that evaluates the filter it is handed (a pure-Python
    register_io_source over the same rows; on Polars 2 the class scan_ipc raises too), and
    no frame of the package's own checks under it, where it only passed the user's error on."""
    import datetime as dt
    import traceback
    from collections.abc import Iterator

    from polars.io.plugins import register_io_source

    df = pl.DataFrame({"t": [dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)], "v": [1]})
    polars_avro.write_avro(df, tmp_path / "t.avro")
    mistake = pl.col("t") > dt.datetime(2026, 1, 2)

    def source(
        with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
    ) -> Iterator[pl.DataFrame]:
        yield df if predicate is None else df.filter(predicate)

    with pytest.raises(pl.exceptions.PolarsError) as theirs:
        register_io_source(source, schema=df.schema).filter(mistake).collect()
    with pytest.raises(pl.exceptions.PolarsError) as ours:
        pl.scan_avro(tmp_path / "t.avro").filter(mistake).collect()  # type: ignore[attr-defined]
    assert type(ours.value) is type(theirs.value)
    assert "could not evaluate '>' comparison between series 't'" in str(ours.value)
    frames = [frame.name for frame in traceback.extract_tb(ours.value.__traceback__)]
    assert not {"with_decimals_widened", "filtering", "filter"} & set(frames), frames
    if int(pl.__version__.split(".")[0]) >= 2:
        with pytest.raises(pl.exceptions.PolarsError) as ipc:
            df.lazy().filter(mistake).collect()
        assert type(ours.value) is type(ipc.value)
