"""Paths, lists, globs, directories, file objects and bytes; several files as one frame."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro._polars.features import IMPORTS_CHUNKS

SCHEMA = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": "string"}]}


def write(path: Path, start: int, n: int, schema: dict = SCHEMA) -> Path:
    with path.open("wb") as f:
        fastavro.writer(f, schema, [{"a": i, "b": str(i)} for i in range(start, start + n)])
    return path


@pytest.fixture
def three_files(tmp_path: Path) -> list[Path]:
    d = tmp_path / "data"
    d.mkdir()
    return [write(d / f"part-{i}.avro", i * 10, 10) for i in range(3)]


def expected(n: int = 30) -> pl.DataFrame:
    return pl.DataFrame({"a": pl.Series(range(n), dtype=pl.Int32), "b": [str(i) for i in range(n)]})


def test_path_and_str(three_files: list[Path]) -> None:
    assert_frame_equal(polars_avro.read_avro(three_files[0]), expected(10))
    assert_frame_equal(polars_avro.read_avro(str(three_files[0])), expected(10))


def test_list_glob_and_directory(three_files: list[Path]) -> None:
    assert_frame_equal(polars_avro.read_avro(three_files), expected())
    assert_frame_equal(polars_avro.read_avro(str(three_files[0].parent / "part-*.avro")), expected())
    assert_frame_equal(polars_avro.read_avro(three_files[0].parent), expected())


def test_a_list_may_mix_every_kind_of_source(three_files: list[Path]) -> None:
    """Paths, patterns, folders, ``file://`` URLs, bytes and URLs only fsspec reaches, in one
    list: one planner lists them all, in the order given, and names each file by its path."""
    fsspec = pytest.importorskip("fsspec")
    memory = fsspec.filesystem("memory")
    memory.pipe("/mixed/part-1.avro", three_files[1].read_bytes())
    try:
        first, second, third = three_files
        given = [
            str(first),
            "memory://mixed/part-1.avro",
            second.as_uri(),
            str(third.parent / "part-[2].avro"),
            third.read_bytes(),
        ]
        df = polars_avro.read_avro(given, include_file_paths="path")
        want = pl.concat([expected(10), expected(20)[10:], expected(20)[10:], expected(30)[20:], expected(30)[20:]])
        assert_frame_equal(df.drop("path"), want)
        # Each file with a path is named as listed, a file:// URL by its path.
        paths = [str(first), "memory://mixed/part-1.avro", str(second), str(third)]
        assert df["path"].head(40).to_list() == [p for p in paths for _ in range(10)]
    finally:
        memory.rm("/mixed", recursive=True)


def _hidden_layout(root: Path) -> dict[str, Path]:
    """A folder with files and folders whose names start with '_' and '.', and things that
    are not Avro files."""
    files = {}
    for i, name in enumerate(["a.avro", "_x.avro", ".y.avro", "_temporary/t.avro", ".hid/h.avro", "sub/_w.avro"]):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        files[name] = write(root / name, i * 10, 10)
    (root / "_SUCCESS").write_bytes(b"")
    (root / ".a.avro.crc").write_bytes(b"crc")
    return files


def _read_names(source: object, root: Path, **options: object) -> list[str]:
    df = polars_avro.read_avro(source, include_file_paths="path", hive_partitioning=False, **options)  # type: ignore[arg-type]
    return sorted({os.path.relpath(p, root).replace(os.sep, "/") for p in df["path"]})


def test_a_directory_reads_what_its_glob_matches_and_hidden_file_prefix_leaves_out(tmp_path: Path) -> None:
    """One rule, Polars' (scan_parquet's): a directory reads what ``dir/**/*.avro`` matches,
    names starting with '_' or '.' included; ``hidden_file_prefix`` leaves out the files
    whose names begin with it, from directories, globs and lists alike."""
    files = _hidden_layout(tmp_path)
    everything = sorted(files)
    assert _read_names(tmp_path, tmp_path) == everything
    assert _read_names(str(tmp_path / "**" / "*.avro"), tmp_path) == everything
    assert _read_names(str(tmp_path / "*.avro"), tmp_path) == [".y.avro", "_x.avro", "a.avro"]
    for prefix, left in (
        ("_", [".hid/h.avro", ".y.avro", "_temporary/t.avro", "a.avro"]),
        (["_", "."], [".hid/h.avro", "_temporary/t.avro", "a.avro"]),  # file names only, not their folders
        ((), everything),
    ):
        for source in (tmp_path, str(tmp_path / "**" / "*.avro"), [files[n] for n in everything]):
            assert _read_names(source, tmp_path, hidden_file_prefix=prefix) == left, (prefix, source)
        assert polars_avro.read_avro_schema(tmp_path, hidden_file_prefix=prefix) == pl.Schema(
            {"a": pl.Int32, "b": pl.String}
        )
        lf = pl.scan_avro(tmp_path, hidden_file_prefix=prefix, hive_partitioning=False)
        assert lf.select(pl.len()).collect().item() == 10 * len(left)
        with polars_avro.AvroReader(tmp_path, hidden_file_prefix=prefix, hive_partitioning=False) as reader:
            assert sum(df.height for df in reader) == 10 * len(left)
        splits = polars_avro.plan_splits(tmp_path, hidden_file_prefix=prefix, hive_partitioning=False)
        assert sum(df.height for split in splits for df in polars_avro.read_split(split)) == 10 * len(left)
    with pytest.raises(polars_avro.AvroFileNotFoundError, match="begins with hidden_file_prefix"):
        polars_avro.read_avro(files["_x.avro"], hidden_file_prefix="_")
    with pytest.raises(polars_avro.AvroFileNotFoundError, match="the names of all 6 files of .* begin with"):
        polars_avro.read_avro(tmp_path, hidden_file_prefix="")
    with pytest.raises(polars_avro.AvroArgumentError, match="hidden_file_prefix must be a str or a sequence of str"):
        pl.scan_avro(tmp_path, hidden_file_prefix=1)  # type: ignore[arg-type]
    # Bytes and file objects have no name to be hidden by.
    assert polars_avro.read_avro(files["_x.avro"].read_bytes(), hidden_file_prefix="_").height == 10
    # A list mixing them with paths is expanded in Python, by the same rule and message.
    mixed = [files["_x.avro"].read_bytes(), files["_x.avro"]]
    assert polars_avro.read_avro(mixed, hidden_file_prefix="_").height == 10
    urls = [files["_x.avro"].as_uri(), files[".y.avro"].as_uri()]
    with pytest.raises(polars_avro.AvroFileNotFoundError, match="the names of all 2 files begin with"):
        polars_avro.read_avro(urls, hidden_file_prefix="")


@pytest.mark.skipif(not hasattr(os, "symlink") or sys.platform == "win32", reason="symbolic links")
@pytest.mark.parametrize("target", [".", ".."])
def test_a_loop_of_symbolic_links_is_refused_as_polars_refuses_it(tmp_path: Path, target: str) -> None:
    """A folder holding a link to itself read its one file 41 times; a link to the folder
    above it made the listing endless. scan_parquet refuses a folder holding such a link
    with an OSError ("Too many levels of symbolic links"); so does this package, naming it."""
    folder = tmp_path / "d"
    folder.mkdir()
    polars_avro.write_avro(pl.DataFrame({"a": range(10)}), folder / "x.avro")
    pl.DataFrame({"a": range(10)}).write_parquet(folder / "x.parquet")
    (folder / "link").symlink_to(target)
    with pytest.raises(OSError):
        pl.scan_parquet(folder).collect()
    for read in (
        lambda: polars_avro.read_avro(folder),
        lambda: polars_avro.scan_avro(folder).collect(),
        lambda: polars_avro.read_avro(f"{folder}/**/*.avro"),
    ):
        with pytest.raises(polars_avro.AvroIOError, match=rf"could not list '{folder}/link.*a loop of symbolic links"):
            read()
    # A link to a folder elsewhere is followed, each file read once.
    (folder / "link").unlink()
    other = tmp_path / "other"
    other.mkdir()
    polars_avro.write_avro(pl.DataFrame({"a": [10]}), other / "y.avro")
    (folder / "link").symlink_to(other)
    assert sorted(polars_avro.read_avro(folder)["a"].to_list()) == list(range(11))


def test_a_folder_still_being_written_is_named_by_the_hive_check(tmp_path: Path) -> None:
    """Spark's ``_temporary/`` is read from a directory, as Polars reads it; with hive
    partitions on (a directory's default) its missing key says which file is out of place,
    and a glob of the partition folders reads the finished files."""
    for day in ("2024-01-01", "2024-01-02"):
        (tmp_path / f"day={day}").mkdir()
        write(tmp_path / f"day={day}" / "part-0.avro", 0, 10)
    (tmp_path / "_temporary" / "0").mkdir(parents=True)
    write(tmp_path / "_temporary" / "0" / "part-1.avro", 0, 5)
    with pytest.raises(polars_avro.AvroArgumentError, match="_temporary/0/part-1.avro' has \\[\\]"):
        pl.scan_avro(tmp_path)
    assert pl.scan_avro(tmp_path / "day=*" / "*.avro").collect().height == 20


def test_row_index_continues_across_files_and_file_paths(three_files: list[Path]) -> None:
    df = polars_avro.read_avro(three_files, row_index_name="i", include_file_paths="path")
    assert df.columns == ["i", "a", "b", "path"]
    assert df["i"].to_list() == list(range(30))
    assert df["path"].to_list() == [str(p) for p in three_files for _ in range(10)]
    head = polars_avro.read_avro(three_files, n_rows=15, row_index_name="i")
    assert head["i"].to_list() == list(range(15))
    filtered = (
        pl.scan_avro(three_files, include_file_paths="path").filter(pl.col("path").str.ends_with("2.avro")).collect()
    )
    assert filtered["a"].to_list() == list(range(20, 30))


def test_bytes_and_file_objects(three_files: list[Path]) -> None:
    data = three_files[0].read_bytes()
    assert_frame_equal(polars_avro.read_avro(data), expected(10))
    with three_files[0].open("rb") as f:
        lf = pl.scan_avro(f)
        assert_frame_equal(lf.collect(), expected(10))
        assert_frame_equal(lf.collect(), expected(10))  # the file object is rewound
    assert_frame_equal(polars_avro.read_avro(io.BytesIO(data)), expected(10))


def test_the_path_column_of_bytes_and_file_objects_is_what_polars_gives(
    three_files: list[Path], tmp_path: Path
) -> None:
    """Bytes and file objects have no path: Polars' readers give them ``in-mem``, and
    ``open-file`` to a file object over a file descriptor; so does scan_avro, whose filters on
    the column see the same values."""
    parquet = tmp_path / "x.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(parquet)

    def polars_gives(source: Any) -> str:
        return str(pl.scan_parquet(source, include_file_paths="p").collect()["p"][0])

    def ours(source: Any, value: str) -> str:
        lf = pl.scan_avro(source, include_file_paths="p")
        assert lf.filter(pl.col("p") == value).collect().height == 10
        return str(lf.collect()["p"].unique().item())

    data = three_files[0].read_bytes()
    in_memory = polars_gives(io.BytesIO(parquet.read_bytes()))
    assert ours(data, in_memory) == in_memory
    assert ours(io.BytesIO(data), in_memory) == in_memory
    with three_files[0].open("rb") as avro, parquet.open("rb") as other:
        open_file = polars_gives(other)
        assert ours(avro, open_file) == open_file


class _OneShot(io.RawIOBase):
    """A stream that cannot be rewound, as a socket's or a pipe's file object."""

    def __init__(self, data: bytes, name: str) -> None:
        self._data, self.name = io.BytesIO(data), name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def test_a_file_object_that_cannot_be_rewound_is_read_once_and_kept(three_files: list[Path]) -> None:
    """Its bytes are kept for the LazyFrame's next collect; bytes that cannot begin an Avro
    file are refused after the first four, naming the stream."""
    lf = pl.scan_avro(_OneShot(three_files[0].read_bytes(), "events"))
    assert_frame_equal(lf.collect(), expected(10))
    assert_frame_equal(lf.collect(), expected(10))
    with pytest.raises(polars_avro.AvroFormatError, match=r"magic bytes .*\(file 'zeros'") as refused:
        polars_avro.read_avro(_OneShot(bytes(1 << 16), "zeros"))
    assert refused.value.file == "zeros"


def test_standard_input_fed_by_a_pipe(three_files: list[Path], tmp_path: Path) -> None:
    # The size of a pipe is unknown (its metadata says 0): the reader reads to its end. The
    # child runs away from the source tree, so that it imports the installed package.
    code = (
        "import polars as pl, polars_avro\n"
        "df = polars_avro.read_avro('/dev/stdin')\n"
        "print(df.get_column('a').sum(), df.get_column('b').str.join('|').item())"
    )
    with three_files[1].open("rb") as stdin:
        out = subprocess.run(
            [sys.executable, "-c", code], stdin=stdin, capture_output=True, text=True, check=False, cwd=tmp_path
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(sum(range(10, 20))), "|".join(str(i) for i in range(10, 20))]
    # The same through a pipe proper (`cat f.avro | python ...`).
    cat = subprocess.Popen(["cat", str(three_files[2])], stdout=subprocess.PIPE)
    out = subprocess.run(
        [sys.executable, "-c", code], stdin=cat.stdout, capture_output=True, text=True, check=False, cwd=tmp_path
    )
    cat.wait()
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == str(sum(range(20, 30)))


@pytest.mark.parametrize("codec", ["null", "snappy"])
def test_a_large_file_is_read_through_maps_block_by_block(tmp_path: Path, codec: str) -> None:
    """A local file larger than one read (128 KiB) is mapped 8 MiB at a time and its
    blocks decoded where they lie: a 10 MB file of blocks that cross the windows' ends reads
    as fastavro wrote it, whole (on one thread, and on two, where the pool maps the next
    window ahead of the reader), in slices across those ends, as a count, and truncated."""
    schema = {"type": "record", "name": "R", "fields": [{"name": "i", "type": "long"}, {"name": "s", "type": "string"}]}
    n = 110_000
    rows = [{"i": i * 7919, "s": f"{i:08d}" * (1 + i % 19)} for i in range(n)]
    path = tmp_path / "large.avro"
    with path.open("wb") as f:
        fastavro.writer(f, schema, rows, codec=codec, sync_interval=50_000)
    data = path.read_bytes()
    assert len(data) > 9 << 20 if codec == "null" else len(data) > 128 << 10
    want = pl.DataFrame(rows, schema={"i": pl.Int64, "s": pl.String})
    for threads in (1, 2):
        assert_frame_equal(polars_avro.read_avro(path, n_threads=threads), want)
    assert_frame_equal(polars_avro.read_avro(path, n_rows=1000), want.head(1000))
    lf = pl.scan_avro(path)
    assert_frame_equal(lf.slice(60_000, 30_000).collect(), want.slice(60_000, 30_000))
    assert lf.select(pl.len()).collect().item() == n
    # Cut inside the last block: the rows before it read, and the block's end is missing.
    cut = tmp_path / "cut.avro"
    cut.write_bytes(data[: len(data) - 1000])
    with pytest.raises(polars_avro.AvroFormatError, match="block claims .* but only .* remain") as err:
        polars_avro.read_avro(cut)
    assert err.value.block is not None and err.value.offset is not None and err.value.offset > len(data) - 60_000


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_named_pipe(three_files: list[Path], tmp_path: Path) -> None:
    fifo = tmp_path / "events.avro"
    os.mkfifo(fifo)
    data = three_files[0].read_bytes()

    def feed() -> None:
        with fifo.open("wb") as f:
            f.write(data)

    reads = [
        (polars_avro.read_avro, expected(10)),
        (lambda p: pl.scan_avro(p).filter(pl.col("a") > 4).collect(), expected(10).filter(pl.col("a") > 4)),
    ]
    for read, want in reads:
        writer = threading.Thread(target=feed)
        writer.start()
        df = read(str(fifo))
        writer.join()
        assert_frame_equal(df, want)
    # A scan reads the header when it is created and the data when collected: from one
    # pass over the pipe, and collected again from the bytes kept.
    writer = threading.Thread(target=feed)
    writer.start()
    lf = pl.scan_avro(fifo)
    writer.join()
    assert lf.collect_schema() == expected(1).schema
    assert_frame_equal(lf.collect(), expected(10))
    assert_frame_equal(lf.collect(), expected(10))


def test_an_eager_read_joins_its_batches_in_order_across_files_and_schemas(tmp_path: Path) -> None:
    """read_avro joins every batch into one frame before it crosses into Python (their
    chunks kept, not copied): rows come in file order across files of evolved schemas
    (int widened to long, a field only the newer file has), as the lazy scan's batches do."""
    newer = {
        "type": "record",
        "name": "R",
        "fields": [
            {"name": "a", "type": "long"},
            {"name": "b", "type": "string"},
            {"name": "c", "type": ["null", "double"], "default": None},
        ],
    }
    first = write(tmp_path / "one.avro", 0, 250)
    with (tmp_path / "two.avro").open("wb") as f:
        fastavro.writer(f, newer, [{"a": i, "b": str(i), "c": i / 4} for i in range(250, 600)], sync_interval=200)
    want = pl.DataFrame(
        {"a": range(600), "b": [str(i) for i in range(600)], "c": [None] * 250 + [i / 4 for i in range(250, 600)]},
        schema={"a": pl.Int64, "b": pl.String, "c": pl.Float64},
    )
    sources = [first, tmp_path / "two.avro"]
    df = polars_avro.read_avro(sources, batch_size=64, schema_from="all")
    assert_frame_equal(df, want)
    if IMPORTS_CHUNKS:
        assert df.n_chunks() > 1, "batches are joined, not copied into one chunk"
    assert_frame_equal(pl.scan_avro(sources, batch_size=64, schema_from="all").collect(engine="streaming"), want)
    assert_frame_equal(
        polars_avro.read_avro(sources, columns=["c", "a"], n_rows=300, batch_size=64, schema_from="all"),
        want[:300, ["c", "a"]],
    )
    assert polars_avro.read_avro(sources, columns=[], batch_size=64, schema_from="all").height == 600


def test_text_mode_file_is_rejected(three_files: list[Path]) -> None:
    with (
        three_files[0].open("r", encoding="latin-1") as f,
        pytest.raises(polars_avro.AvroArgumentError, match="binary"),
    ):
        polars_avro.read_avro(f)


def test_files_with_different_schemas(tmp_path: Path) -> None:
    """Schemas that evolved as the specification allows (int to long) read as one frame;
    types that cannot be widened raise, naming both files and the field."""
    other = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}, {"name": "b", "type": "string"}]}
    first = write(tmp_path / "one.avro", 0, 3)
    second = write(tmp_path / "two.avro", 3, 3, other)
    df = polars_avro.read_avro([first, second], schema_from="all")
    assert df.schema == pl.Schema({"a": pl.Int64, "b": pl.String}) and df["a"].to_list() == list(range(6))
    # The first file's rule reads the second into the first's int, which cannot hold a long.
    with pytest.raises(polars_avro.AvroSchemaMismatchError, match="at 'a': the writer's long cannot be read as"):
        polars_avro.read_avro([first, second])
    clash = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "a", "type": "string"}, {"name": "b", "type": "string"}],
    }
    third = tmp_path / "three.avro"
    with third.open("wb") as f:
        fastavro.writer(f, clash, [{"a": "x", "b": "y"}])
    with pytest.raises(polars_avro.AvroSchemaMismatchError) as info:
        polars_avro.read_avro([first, third], schema_from="all")
    message = str(info.value)
    assert "one.avro" in message and "three.avro" in message and "'a'" in message
    # File objects are named by their names, as paths are.
    with first.open("rb") as f, third.open("rb") as g, pytest.raises(polars_avro.AvroSchemaMismatchError) as info:
        polars_avro.read_avro([f, g], schema_from="all")
    message = str(info.value)
    assert "one.avro" in message and "three.avro" in message and "'a'" in message


def test_schema_known_without_reading_blocks(tmp_path: Path) -> None:
    path = write(tmp_path / "x.avro", 0, 100)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF  # corrupt the data, not the header
    path.write_bytes(bytes(data))
    lf = pl.scan_avro(path)
    assert lf.collect_schema() == pl.Schema({"a": pl.Int32, "b": pl.String})
    assert polars_avro.read_avro_schema(path) == pl.Schema({"a": pl.Int32, "b": pl.String})


def test_header_and_metadata(tmp_path: Path) -> None:
    path = tmp_path / "m.avro"
    with path.open("wb") as f:
        fastavro.writer(f, SCHEMA, [{"a": 1, "b": "x"}], codec="deflate", metadata={"origin": "kafka"})
    header = polars_avro.read_avro_header(path)
    assert header.codec == "deflate"
    assert header.metadata["origin"] == b"kafka"
    assert header.schema["name"] == "R"
    assert len(header.sync_marker) == 16


def test_the_header_of_several_files_is_refused(three_files: list[Path]) -> None:
    """One header, of one file: a directory, glob or list naming several is not silently
    the first one's. Naming exactly one is fine."""
    folder = three_files[0].parent
    for source, given in (
        (folder, f"'{folder}'"),
        (str(folder / "*.avro"), f"'{folder / '*.avro'}'"),
        (three_files[:2], "the list"),
    ):
        with pytest.raises(polars_avro.AvroArgumentError) as info:
            polars_avro.read_avro_header(source)
        count = 2 if isinstance(source, list) else 3
        assert str(info.value).startswith(
            f"read_avro_header reads one file's header, but {given} names {count} files ('{three_files[0]}', "
        ), str(info.value)
        assert str(info.value).endswith("pass one of them, or read_avro_schema for the schema they read into together")
    assert polars_avro.read_avro_header(str(folder / "part-1.*")).schema == SCHEMA
    assert polars_avro.read_avro_header([three_files[2]]).schema == SCHEMA


def test_polars_read_avro_untouched() -> None:
    assert pl.scan_avro is polars_avro.scan_avro
    assert pl.read_avro is not polars_avro.read_avro
    assert pl.read_avro.__module__.startswith("polars")
