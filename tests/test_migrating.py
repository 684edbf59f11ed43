"""docs/migrating.md: every alias and every value taken from the other readers and writers
(Polars' own pl.read_avro and DataFrame.write_avro, polars-avro 0.13 from PyPI, jetliner 0.2,
fastavro) does what the document says, and what is refused names the keyword and what to use.

Files read here are written by fastavro; files written here are read back by fastavro and
Apache's avro package, values compared."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import avro.datafile
import avro.io
import fastavro
import polars as pl
import pytest
from helpers import write_fastavro

import polars_avro
from polars_avro import AvroArgumentError, AvroKeywordError, Codec

SCHEMA = {
    "type": "record",
    "name": "R",
    "fields": [
        {"name": "id", "type": "long"},
        # null second: polars-avro 0.13 refuses this union with strict=True.
        {"name": "name", "type": ["string", "null"]},
        {"name": "score", "type": "double"},
    ],
}
RECORDS = [{"id": i, "name": None if i % 7 == 0 else f"n{i}", "score": i / 4} for i in range(3000)]
COLUMNS = {k: [r[k] for r in RECORDS] for k in ("id", "name", "score")}


@pytest.fixture
def avro_file(tmp_path: Path) -> Path:
    return write_fastavro(tmp_path / "r.avro", SCHEMA, RECORDS, sync_interval=2_000)


def fastavro_records(data: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    reader = fastavro.reader(io.BytesIO(data))
    return reader.writer_schema, list(reader)  # type: ignore[return-value]


def apache_records(data: bytes) -> list[dict[str, Any]]:
    with avro.datafile.DataFileReader(io.BytesIO(data), avro.io.DatumReader()) as reader:
        return list(reader)


# --------------------------------------------------------------------------- reading


def test_sources_is_another_name_for_source(avro_file: Path) -> None:
    assert polars_avro.read_avro(sources=avro_file).to_dict(as_series=False) == COLUMNS  # type: ignore[call-arg]
    assert polars_avro.scan_avro(sources=[avro_file]).collect().to_dict(as_series=False) == COLUMNS  # type: ignore[call-arg]


def test_rechunk_gives_one_chunk_as_polars_1_did(avro_file: Path) -> None:
    chunked = polars_avro.read_avro(avro_file, batch_size=500, n_threads=1)
    assert chunked.n_chunks() > 1
    whole = polars_avro.read_avro(avro_file, batch_size=500, n_threads=1, rechunk=True)
    assert whole.n_chunks() == 1
    assert whole.to_dict(as_series=False) == COLUMNS
    kept = polars_avro.read_avro(avro_file, batch_size=500, n_threads=1, rechunk=False)
    assert kept.n_chunks() == chunked.n_chunks()


def test_a_scan_takes_rechunk_false_only(avro_file: Path) -> None:
    lf = polars_avro.scan_avro(avro_file, rechunk=False)  # type: ignore[call-arg]
    assert lf.collect().to_dict(as_series=False) == COLUMNS
    with pytest.raises(AvroArgumentError, match=r"scan_avro\(\) takes no rechunk=.*call \.rechunk\(\)"):
        polars_avro.scan_avro(avro_file, rechunk=True)  # type: ignore[call-arg]


def test_strict_false_is_what_this_reader_does(avro_file: Path) -> None:
    # polars-avro 0.13's default, spelled out: a union with null second reads, nulls kept.
    assert polars_avro.read_avro(avro_file, strict=False).to_dict(as_series=False) == COLUMNS  # type: ignore[call-arg]
    lf = polars_avro.scan_avro(avro_file, strict=False)  # type: ignore[call-arg]
    assert lf.collect().to_dict(as_series=False) == COLUMNS


@pytest.mark.parametrize(
    ("keyword", "value", "instead"),
    [
        ("strict", True, "leave strict out"),
        ("strict", 1, "leave strict out"),
        ("utf8_view", True, "cast the columns"),
        ("utf8_view", False, "cast the columns"),
        ("buffer_blocks", 4, "pass files_in_flight="),
        ("buffer_bytes", 1 << 26, "pass files_in_flight="),
        ("read_chunk_size", 1 << 20, "object stores read whole blocks"),
        ("max_block_size", 1 << 29, "blocks of up to 1 GiB are read"),
    ],
)
def test_other_readers_keywords_are_refused_naming_what_to_use(
    avro_file: Path, keyword: str, value: object, instead: str
) -> None:
    # AvroReader and read_avro_schema raised a bare "unexpected keyword" (issue 61, item 6).
    readers: list[tuple[str, Any]] = [
        ("scan_avro", polars_avro.scan_avro),
        ("read_avro", polars_avro.read_avro),
        ("AvroReader", polars_avro.AvroReader),
        ("read_avro_schema", polars_avro.read_avro_schema),
    ]
    for name, read in readers:
        with pytest.raises(AvroKeywordError, match=rf"{name}\(\) takes no {keyword}=") as info:
            read(avro_file, **{keyword: value})
        assert instead in str(info.value)


# --------------------------------------------------------------------------- writing


def frames() -> list[pl.DataFrame]:
    df = pl.DataFrame(COLUMNS)
    return [df.slice(0, 1000), df.slice(1000, 0), df.slice(1000, 2000)]


@pytest.mark.parametrize("kind", ["list", "tuple", "generator"])
def test_write_avro_takes_frames_one_after_another(kind: str) -> None:
    parts = frames()
    given = {"list": parts, "tuple": tuple(parts), "generator": (f for f in parts)}[kind]
    buffer = io.BytesIO()
    polars_avro.write_avro(given, buffer)
    _, records = fastavro_records(buffer.getvalue())
    assert records == RECORDS


def test_batches_and_dest_are_other_names_for_df_and_file(tmp_path: Path) -> None:
    polars_avro.write_avro(batches=frames(), dest=tmp_path / "a.avro")  # type: ignore[call-arg]
    polars_avro.sink_avro(pl.DataFrame(COLUMNS).lazy(), dest=tmp_path / "b.avro")  # type: ignore[call-arg]
    pl.DataFrame(COLUMNS).avro.write(dest=tmp_path / "c.avro")
    pl.DataFrame(COLUMNS).lazy().avro.sink(dest=tmp_path / "d.avro")
    for name in "abcd":
        assert fastavro_records((tmp_path / f"{name}.avro").read_bytes())[1] == RECORDS
    with pytest.raises(TypeError, match=r"write_avro\(\) takes file= once: dest= is another name for it"):
        polars_avro.write_avro(frames(), file=tmp_path / "e.avro", dest=tmp_path / "e.avro")  # type: ignore[call-arg]
    assert not (tmp_path / "e.avro").exists()


@pytest.mark.parametrize(
    ("codec", "header"),
    [
        (Codec.Bzip2, "bzip2"),
        (Codec.Deflate, "deflate"),
        (Codec.Snappy, "snappy"),
        (Codec.Xz, "xz"),
        (Codec.Zstandard, "zstandard"),
        (None, "null"),
        ("null", "null"),  # fastavro's names
        ("deflate", "deflate"),
        ("zstandard", "zstandard"),
    ],
)
def test_codec_is_another_name_for_compression(codec: Any, header: str) -> None:
    for write in (
        lambda buffer: polars_avro.write_avro(frames(), buffer, codec=codec),  # type: ignore[call-arg]
        lambda buffer: polars_avro.sink_avro(pl.DataFrame(COLUMNS).lazy(), buffer, codec=codec),  # type: ignore[call-arg]
        lambda buffer: polars_avro.write_avro(pl.DataFrame(COLUMNS), buffer, compression=codec),
    ):
        buffer = io.BytesIO()
        write(buffer)
        reader = fastavro.reader(io.BytesIO(buffer.getvalue()))
        assert reader.codec == header
        assert list(reader) == RECORDS


def test_codec_and_compression_together_are_refused() -> None:
    with pytest.raises(AvroArgumentError, match=r"takes compression= once: codec= is another name for it"):
        polars_avro.write_avro(frames(), io.BytesIO(), codec="snappy", compression="snappy")  # type: ignore[call-arg]


def test_an_empty_record_name_is_polars_default_and_written_as_ours() -> None:
    # Polars' DataFrame.write_avro passes name="" and writes a record named "", which Apache's
    # parser refuses; here "" asks for the default name.
    df = pl.DataFrame(COLUMNS)
    for write in (
        lambda buffer: polars_avro.write_avro(df, buffer, name=""),
        lambda buffer: polars_avro.sink_avro(df.lazy(), buffer, name=""),
        lambda buffer: df.avro.write(buffer, name=""),
    ):
        buffer = io.BytesIO()
        write(buffer)
        schema, records = fastavro_records(buffer.getvalue())
        assert schema["name"] == "topLevelRecord"
        assert apache_records(buffer.getvalue()) == RECORDS == records


def test_a_frame_read_from_a_file_written_again_with_name_empty_keeps_its_schema(avro_file: Path) -> None:
    buffer = io.BytesIO()
    polars_avro.write_avro(polars_avro.read_avro(avro_file), buffer, name="")
    schema, records = fastavro_records(buffer.getvalue())
    assert schema["name"] == "R"
    assert records == RECORDS


def test_a_polars_schema_is_the_frames_schema() -> None:
    # polars-avro 0.13: no frame and a pl.Schema write a file of no rows with those columns.
    buffer = io.BytesIO()
    polars_avro.write_avro([], buffer, schema=pl.Schema({"x": pl.Int32, "s": pl.String}))
    schema, records = fastavro_records(buffer.getvalue())
    assert [(f["name"], f["type"]) for f in schema["fields"]] == [("x", ["null", "int"]), ("s", ["null", "string"])]
    assert records == []
    buffer = io.BytesIO()
    polars_avro.write_avro(frames(), buffer, schema=pl.DataFrame(COLUMNS).schema)
    assert fastavro_records(buffer.getvalue())[1] == RECORDS
    with pytest.raises(pl.exceptions.SchemaError):
        schema = pl.Schema({"id": pl.String, "name": pl.String, "score": pl.Float64})
        polars_avro.write_avro(frames(), io.BytesIO(), schema=schema)


def test_no_frames_without_a_schema_is_refused_saying_what_to_pass() -> None:
    def nothing() -> Iterator[pl.DataFrame]:
        yield from ()

    for given in ([], nothing()):
        with pytest.raises(AvroArgumentError, match=r"write_avro got no frames: .*schema=pl.Schema"):
            polars_avro.write_avro(given, io.BytesIO())


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (pl.LazyFrame({"a": [1]}), "found LazyFrame; stream a LazyFrame with sink_avro"),
        ([pl.DataFrame({"a": [1]}), {"a": [2]}], "found dict at position 1"),
        ("frame.avro", "found str"),
        (7, "found int"),
    ],
)
def test_what_is_not_frames_is_refused(given: Any, words: str) -> None:
    with pytest.raises(AvroArgumentError, match=words):
        polars_avro.write_avro(given, io.BytesIO())


# --------------------------------------------------------------------------- fsspec URLs


@pytest.fixture
def memory() -> Iterator[Any]:
    """fsspec's memory file system (one store per process), emptied after the test."""
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    yield fs
    if fs.exists("/migrating"):
        fs.rm("/migrating", recursive=True)


def test_fsspec_urls_are_read_as_object_store_urls_are(memory: Any, avro_file: Path) -> None:
    data = avro_file.read_bytes()
    for key in ("k=1/a.avro", "k=2/b.avro", "k=2/notes.txt"):
        memory.pipe(f"/migrating/t/{key}", data)
    one = polars_avro.read_avro("memory://migrating/t/k=1/a.avro")
    assert one.to_dict(as_series=False) == COLUMNS
    # A trailing / reads every .avro file below it, with hive partitions, as for s3://.
    whole = polars_avro.scan_avro("memory://migrating/t/", include_file_paths="path").collect()
    assert whole.columns == ["id", "name", "score", "k", "path"]
    assert whole["k"].to_list() == [1] * len(RECORDS) + [2] * len(RECORDS)
    assert whole["path"].unique(maintain_order=True).to_list() == [
        "memory://migrating/t/k=1/a.avro",
        "memory://migrating/t/k=2/b.avro",
    ]
    matched = polars_avro.read_avro("memory://migrating/t/*/b.avro", columns=["name"])
    assert matched["name"].to_list() == COLUMNS["name"]
    assert polars_avro.read_avro_header("memory://migrating/t/k=1/a.avro").schema == SCHEMA
    # hidden_file_prefix leaves fsspec's files out by their names, as it leaves out any other.
    memory.pipe("/migrating/t/k=2/_c.avro", data)
    kept = polars_avro.scan_avro("memory://migrating/t/", hidden_file_prefix="_", include_file_paths="path")
    assert kept.select(pl.col("path").unique(maintain_order=True)).collect()["path"].to_list() == [
        "memory://migrating/t/k=1/a.avro",
        "memory://migrating/t/k=2/b.avro",
    ]


def test_fsspec_urls_are_written_whole_or_not_at_all(memory: Any) -> None:
    df = pl.DataFrame(COLUMNS)
    polars_avro.write_avro(frames(), "memory://migrating/w/a.avro", codec=Codec.Deflate)
    polars_avro.sink_avro(df.lazy(), "memory://migrating/w/b.avro")
    for name in ("a", "b"):
        data = memory.cat(f"/migrating/w/{name}.avro")
        assert fastavro_records(data)[1] == RECORDS
        assert apache_records(data) == RECORDS
    # A write that fails leaves nothing behind, and a file there as it was.
    with pytest.raises(polars_avro.AvroEncodeError, match="memory://migrating/w/c.avro"):
        polars_avro.write_avro(pl.DataFrame({"o": [object()]}), "memory://migrating/w/c.avro")
    assert not memory.exists("/migrating/w/c.avro")
    failing = df.lazy().select(pl.col("id").map_batches(_raise, return_dtype=pl.Int64))
    with pytest.raises(pl.exceptions.ComputeError, match="the query failed"):
        polars_avro.sink_avro(failing, "memory://migrating/w/a.avro")
    assert fastavro_records(memory.cat("/migrating/w/a.avro"))[1] == RECORDS


def _raise(s: pl.Series) -> pl.Series:
    raise pl.exceptions.ComputeError("the query failed")


def test_fsspec_urls_that_name_nothing_raise_file_not_found(memory: Any) -> None:
    for url, words in (
        ("memory://migrating/none.avro", "no file at 'memory://migrating/none.avro'"),
        ("memory://migrating/*.avro", "no files match the pattern 'memory://migrating/\\*.avro'"),
        ("memory://migrating/empty/", "no .avro files under 'memory://migrating/empty/'"),
    ):
        with pytest.raises(polars_avro.AvroFileNotFoundError, match=words):
            polars_avro.read_avro(url)


def test_a_protocol_fsspec_does_not_know_is_an_argument_error() -> None:
    pytest.importorskip("fsspec")
    with pytest.raises(AvroArgumentError, match="fsspec cannot open 'nope://x/y.avro': Protocol not known: nope"):
        polars_avro.read_avro("nope://x/y.avro")


def test_without_fsspec_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)  # import fsspec raises ImportError
    for call in (
        lambda: polars_avro.read_avro("memory://migrating/a.avro"),
        lambda: polars_avro.write_avro(pl.DataFrame({"a": [1]}), "memory://migrating/a.avro"),
    ):
        with pytest.raises(AvroArgumentError, match=r"only fsspec reaches .*fsspec extra: pip install fsspec"):
            call()


def test_fastavro_lz4_which_avro_does_not_define_is_refused() -> None:
    with pytest.raises(AvroArgumentError, match="unknown compression 'lz4'"):
        polars_avro.write_avro(pl.DataFrame(COLUMNS), io.BytesIO(), codec="lz4")  # type: ignore[call-arg]


def test_negative_column_indices_count_from_the_end_as_read_parquet_does(avro_file: Path, tmp_path: Path) -> None:
    # pl.read_avro raises OverflowError and jetliner ValueError; Polars' first-class readers
    # (read_parquet, read_ipc, read_csv) take -1 as the last column, and so does this reader.
    pl.DataFrame(COLUMNS).write_parquet(tmp_path / "r.parquet")
    for columns in ([-1], [-1, 0], [-3]):
        expected = pl.read_parquet(tmp_path / "r.parquet", columns=columns)
        assert polars_avro.read_avro(avro_file, columns=columns).to_dict(as_series=False) == expected.to_dict(
            as_series=False
        )
    with pytest.raises(AvroArgumentError, match="column index out of range"):
        polars_avro.read_avro(avro_file, columns=[-4])
