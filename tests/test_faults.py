"""Faults besides damaged bytes: files that change between a scan's plan and its read, or
while they are read."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro._polars.interface import FILE_READERS

#: Whether scans are IO plugins (Polars 1), whose errors Polars raises again as a ComputeError
#: naming them (the file reader interface of Polars 2 raises them as they are).
IO_PLUGINS = not FILE_READERS


def from_scan(error: type[Exception]) -> type[Exception]:
    """What `error` is raised as from a lazy query."""
    return pl.exceptions.ComputeError if IO_PLUGINS else error


def python(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Runs a child Python in `cwd`, away from the source tree: there `import polars_avro`
    would import the sources, which hold no compiled module where the wheel is tested (CI)."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def write(path: Path, avro_type: Any, values: list[Any], name: str = "a") -> Path:
    """Writes records of one field, then replaces `path` with them, as writers do."""
    schema = {"type": "record", "name": "R", "fields": [{"name": name, "type": avro_type}]}
    new = path.with_name(path.name + ".new")
    with new.open("wb") as f:
        fastavro.writer(f, schema, [{name: v} for v in values])
    os.replace(new, path)
    return path


@pytest.mark.parametrize(
    ("avro_type", "values", "was_now"),
    [
        ("double", [2.5, -0.9], "was Int64 and is now Float64"),
        ("string", ["7"], "was Int64 and is now String"),
        ("boolean", [True], "was Int64 and is now Boolean"),
        ("double", [1e30], "was Int64 and is now Float64"),
        ("string", ["x"], "was Int64 and is now String"),
        ("int", [1], "was Int64 and is now Int32"),
    ],
)
@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_a_file_replaced_by_one_of_other_types_is_refused_naming_it(
    tmp_path: Path, avro_type: str, values: list[Any], was_now: str, engine: Any
) -> None:
    """Its values were cast to the planned type: 2.5 read as 2, "7" as 7, True as 1."""
    path = write(tmp_path / "a.avro", "long", [1, 2])
    lf = pl.scan_avro(path)
    assert lf.collect_schema() == pl.Schema({"a": pl.Int64})
    write(path, avro_type, values)
    with pytest.raises(
        from_scan(polars_avro.AvroSchemaMismatchError),
        match=rf"changed after the scan was planned: its column 'a' {was_now}.*{path}",
    ) as caught:
        lf.collect(engine=engine)
    assert getattr(caught.value, "file", str(path)) == str(path)
    assert pl.scan_avro(path).collect(engine=engine)["a"].to_list() == values  # a new scan reads it


@pytest.mark.parametrize(
    ("field", "avro_type", "change"),
    [
        ("b", "long", "it has new columns: 'b'"),
        ("b", None, "its column 'a' is gone"),
    ],
)
def test_a_file_whose_columns_changed_is_refused(
    tmp_path: Path, field: str, avro_type: str | None, change: str
) -> None:
    path = write(tmp_path / "a.avro", "long", [1])
    lf = pl.scan_avro(path)
    schema = {"type": "record", "name": "R", "fields": [{"name": field, "type": "long"}]}
    if avro_type is not None:
        schema["fields"].insert(0, {"name": "a", "type": avro_type})
    with path.open("wb") as f:
        fastavro.writer(f, schema, [{"a": 1, "b": 2}])
    with pytest.raises(from_scan(polars_avro.AvroSchemaMismatchError), match=change):
        lf.collect()


def test_a_file_replaced_by_one_of_the_same_schema_is_read_as_it_is_now(tmp_path: Path) -> None:
    path = write(tmp_path / "a.avro", "long", [1, 2])
    lf = pl.scan_avro(path)
    write(path, "long", [5, 6, 7])
    assert_frame_equal(lf.collect(), pl.DataFrame({"a": [5, 6, 7]}))


def test_one_changed_file_of_a_folder_is_named(tmp_path: Path) -> None:
    paths = [write(tmp_path / f"part-{i}.avro", "long", [i]) for i in range(3)]
    # Every header read when planning: the file changed since.
    lf = pl.scan_avro(tmp_path, schema_from="all")
    write(paths[1], "string", ["1"])
    with pytest.raises(
        from_scan(polars_avro.AvroSchemaMismatchError), match=rf"was Int64 and is now String.*{paths[1]}"
    ):
        lf.collect()
    with pytest.raises(from_scan(polars_avro.AvroSchemaMismatchError), match=str(paths[1])):
        lf.head(5).collect()
    # The first file's header alone: the other is read into its schema, which cannot read it.
    lf = pl.scan_avro(tmp_path)
    with pytest.raises(
        from_scan(polars_avro.AvroSchemaMismatchError),
        match=rf"at 'a': the writer's string cannot be read as the reader's long.*{paths[1]}",
    ):
        lf.collect()


def test_a_file_changed_against_a_reader_schema_is_resolved_or_refused(tmp_path: Path) -> None:
    """With a reader schema every file is resolved into it: a promotion reads, a type
    that does not resolve is refused naming the file."""
    path = write(tmp_path / "a.avro", "double", [1.5])
    reader = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "double"}]}
    lf = pl.scan_avro(path, reader_schema=reader)
    write(path, "long", [3])
    assert lf.collect()["a"].to_list() == [3.0]
    write(path, "string", ["x"])
    with pytest.raises(from_scan(polars_avro.AvroSchemaError), match=str(path)):
        lf.collect()


# --------------------------------------------------------------------------- files cut while read

#: A child that reads `path` one way, cutting the file shorter (or rewriting it in place)
#: once reading is under way, and prints what it got: a crash would end it by SIGBUS.
CUT_CHILD = r"""
import faulthandler, sys
import polars as pl
import polars_avro

path, how, change = sys.argv[1], sys.argv[2], sys.argv[3]
original = open(path, "rb").read()
changed = False

def change_file():
    global changed
    if not changed:
        changed = True
        with open(path, "r+b" if change == "cut" else "wb") as f:
            if change == "cut":
                f.truncate(300_000)
            else:
                f.write(original)

def changing(s):
    change_file()
    return s

if how == "faulthandler-after-import":
    faulthandler.enable()
try:
    if how in ("AvroReader", "faulthandler-after-import", "ignore_errors"):
        # With ignore_errors, zeros where the file was cut must not pass for damage to skip.
        with polars_avro.AvroReader(path, batch_size=1000, ignore_errors=how == "ignore_errors") as reader:
            rows = 0
            for batch in reader:
                change_file()
                rows += batch.height
    else:
        a = pl.col("a").map_batches(changing, return_dtype=pl.Int64, is_elementwise=True)
        lf = pl.scan_avro(path, batch_size=1000).select(a)
        if how == "sink_parquet":
            lf.sink_parquet(path + ".parquet")
            rows = pl.read_parquet(path + ".parquet").height
        else:
            rows = lf.collect(engine="streaming").height
    print("rows", rows)
except (polars_avro.AvroIOError, pl.exceptions.ComputeError) as e:
    print(type(e).__name__, e)
"""


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200,000 records in many small blocks: about 4 MB, memory-mapped when read."""
    path = tmp_path_factory.mktemp("cut") / "large.avro"
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}, {"name": "s", "type": "string"}]}
    with path.open("wb") as f:
        fastavro.writer(f, schema, ({"a": i, "s": f"value {i:012d}"} for i in range(200_000)), sync_interval=8000)
    return path


@pytest.mark.parametrize(
    "how", ["AvroReader", "streaming", "sink_parquet", "faulthandler-after-import", "ignore_errors"]
)
@pytest.mark.parametrize("faulthandler", [False, True])
def test_a_file_cut_shorter_while_read_raises_naming_it_instead_of_ending_python(
    large_file: Path, tmp_path: Path, how: str, faulthandler: bool
) -> None:
    """Every read path ended the process by SIGBUS (a memory-mapped file cut shorter by
    another program); also with Python's faulthandler enabled before or after the import."""
    path = tmp_path / "read.avro"
    path.write_bytes(large_file.read_bytes())
    flags = ["-X", "faulthandler"] if faulthandler else []
    child = python(*flags, "-c", CUT_CHILD, str(path), how, "cut", cwd=tmp_path)
    assert child.returncode == 0, f"ended by signal {-child.returncode}: {child.stderr[-2000:]}"
    assert "shorter than when it was opened" in child.stdout, child.stdout + child.stderr[-2000:]
    assert str(path) in child.stdout
    assert child.stdout.startswith(
        "AvroIOError"
        if how in ("AvroReader", "faulthandler-after-import", "ignore_errors") or not IO_PLUGINS
        else "ComputeError"
    )


@pytest.mark.parametrize("how", ["AvroReader", "streaming"])
def test_a_file_rewritten_in_place_while_read_gives_its_rows_or_raises_naming_it(
    large_file: Path, tmp_path: Path, how: str
) -> None:
    path = tmp_path / "read.avro"
    path.write_bytes(large_file.read_bytes())
    child = python("-c", CUT_CHILD, str(path), how, "rewrite", cwd=tmp_path)
    assert child.returncode == 0, f"ended by signal {-child.returncode}: {child.stderr[-2000:]}"
    assert child.stdout.strip() == "rows 200000" or str(path) in child.stdout, child.stdout + child.stderr[-2000:]


# --------------------------------------------------------------------------- devices and sockets

#: A child that reads a device with an address-space limit, so that reading it to its end
#: fails fast instead of filling the machine's memory.
DEVICE_CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
import polars as pl
import polars_avro

path, how = sys.argv[1], sys.argv[2]
try:
    if how == "read_avro":
        polars_avro.read_avro(path)
    elif how == "read_avro_header":
        polars_avro.read_avro_header(path)
    else:
        pl.scan_avro(path).collect()
    print("read")
except Exception as e:
    print(type(e).__name__, e)
"""


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("how", ["read_avro", "read_avro_header", "scan_avro"])
def test_a_device_that_never_ends_is_refused_after_its_first_bytes(tmp_path: Path, device: str, how: str) -> None:
    """/dev/zero was read until the address space ran out (MemoryError at 4 GiB, 2-13 s)."""
    child = python("-c", DEVICE_CHILD, device, how, cwd=tmp_path, timeout=60)
    assert child.stdout.startswith("AvroFormatError not an Avro object container file"), child.stdout + child.stderr
    assert f"(file '{device}'" in child.stdout


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no UNIX sockets")
def test_a_unix_socket_path_is_an_avro_io_error_naming_it(tmp_path: Path) -> None:
    """It was a raw OSError ("No such device or address") without the package's class."""
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        with pytest.raises(polars_avro.AvroIOError, match=rf"could not open '{path}'") as raised:
            polars_avro.read_avro(path)
    assert raised.value.file == str(path)


# --------------------------------------------------------------------------- address-space limit

#: A streaming sum under a 1 GiB address-space limit (`ulimit -v`), set before the imports
#: as a batch scheduler sets it.
LIMITED_CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
import polars as pl
import polars_avro

files = [sys.argv[1]] * int(sys.argv[2])
lf = pl.scan_avro(files).select(pl.col("x").sum(), pl.col("s").str.len_bytes().sum())
print(lf.collect(engine="streaming").rows()[0])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
def test_a_streaming_sum_of_gigabytes_runs_under_a_1_gib_address_space_limit(tmp_path: Path) -> None:
    """It aborted the process (`memory allocation of 336 bytes failed`) or panicked (a thread
    that could not start): glibc reserves 64 MiB of address space per malloc arena, up to 8
    per core, so the reservations alone reached the limit. 20 copies of 3M records decode
    to about 2.7 GB, far beyond the limit."""
    rows = 3_000_000
    frame = pl.select(x=pl.int_range(rows, dtype=pl.Int64) * 7 % 1_000_003).with_columns(
        s=pl.format("user-{}-{}", pl.col("x") % 9973, pl.int_range(rows))
    )
    path = tmp_path / "big.avro"
    polars_avro.write_avro(frame, path, compression="snappy")
    copies = 20
    expected = (copies * frame["x"].sum(), copies * frame["s"].str.len_bytes().sum())
    for _ in range(2):  # it failed in one of two runs
        child = python("-c", LIMITED_CHILD, str(path), str(copies), cwd=tmp_path, timeout=120)
        assert child.returncode == 0, f"ended with {child.returncode}: {child.stderr[-2000:]}"
        assert child.stdout.strip() == str(expected), child.stdout + child.stderr[-2000:]


#: Reads too large for a 1 GiB address-space limit, each run twice, then a small one.
TOO_LARGE_CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
import polars as pl
import polars_avro

path, how = sys.argv[1], sys.argv[2]
files = [path] * 12
for _ in range(2):
    try:
        if how == "read_avro":
            polars_avro.read_avro(files)
        else:
            pl.scan_avro(files).collect()
        print("read")
    except MemoryError as e:
        print("MemoryError", type(e).__name__, e)
    except pl.exceptions.ComputeError as e:  # Polars 1's IO plugins raise it naming the error
        print("ComputeError", e)
print("after", polars_avro.read_avro(path, n_rows=5).height)
"""

#: A column of messages decoded under a limit set just above what the process holds.
DECODE_CHILD = r"""
import resource, sys
import polars as pl
import polars_avro

path = sys.argv[1]
schema = polars_avro.read_avro_header(path).schema_json
encoded = polars_avro.read_avro(path).select(pl.struct(pl.all()).avro.encode(schema).alias("v"))
encoded.head(1000).select(pl.col("v").avro.decode(schema))  # the threads start before the limit
held = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (held + (64 << 20), resource.RLIM_INFINITY))
try:
    encoded.select(pl.col("v").avro.decode(schema))
    print("decoded")
except MemoryError as e:
    print("MemoryError", type(e).__name__, e)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("after", encoded.head(5).select(pl.col("v").avro.decode(schema)).height)
"""


#: A write under a limit set at what the process holds, over an older output.
WRITE_CHILD = r"""
import os, resource, sys
import polars as pl
import polars_avro

path = sys.argv[1]
frame = polars_avro.read_avro(path)
# The same write's threads and the reserve start before the limit (a thread that cannot
# start ends the process in glibc), and libdeflate's compressor of level 1: that of level 9
# is to be allocated under the limit.
polars_avro.write_avro(frame.head(1000), "warm.avro", compression="deflate", compression_level=1)
with open("out.avro", "wb") as f:
    f.write(b"the old output")
held = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
resource.setrlimit(resource.RLIMIT_AS, (held, resource.RLIM_INFINITY))
try:
    polars_avro.write_avro(frame, "out.avro", compression="deflate", compression_level=9)
    print("wrote")
except MemoryError as e:
    print("MemoryError", type(e).__name__, e)
resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
print("after", open("out.avro", "rb").read(), sorted(os.listdir(".")))
"""


@pytest.fixture(scope="module")
def wide_strings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1M records that decode to 124 MB: 12 copies are past a 1 GiB address space."""
    rows = 1_000_000
    frame = pl.select(id=pl.int_range(rows)).with_columns(
        s=pl.format("user-{}-", pl.col("id")) + pl.lit("x" * 80), l=pl.concat_list("id", pl.col("id") + 1)
    )
    path = tmp_path_factory.mktemp("memory") / "wide.avro"
    polars_avro.write_avro(frame, path, compression="deflate")
    return path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS as Linux keeps it")
@pytest.mark.parametrize("how", ["read_avro", "collect"])
def test_a_read_past_the_address_space_raises_memory_error_and_python_goes_on(wide_strings: Path, how: str) -> None:
    """Rust ends the process when an allocation fails: a read too large for `ulimit -v`
    aborted it (`memory allocation of 6818580 bytes failed`, SIGABRT). Now the allocation is
    served from a reserve kept for it, and the read stops at its next batch with
    AvroMemoryError (a MemoryError) naming the limit, the file and the block, every time.
    Polars 1 raises a scan's as a ComputeError naming it."""
    child = python("-c", TOO_LARGE_CHILD, str(wide_strings), how, cwd=wide_strings.parent, timeout=120)
    assert child.returncode == 0, f"ended with {child.returncode}: {child.stderr[-2000:]}"
    lines = child.stdout.splitlines()
    assert lines[-1] == "after 5", child.stdout + child.stderr[-2000:]
    expected = "ComputeError" if how == "collect" and IO_PLUGINS else "MemoryError AvroMemoryError"
    for line in lines[:2]:
        assert line.startswith(expected), child.stdout + child.stderr[-2000:]
        assert "out of memory: the system refused an allocation of" in line, line
        assert "limited to 1073741824 bytes: ulimit -v" in line, line
    # The block where one was being read (most runs); the second read may fail as it
    # starts, before its first file (the allocator keeps what the first freed for itself).
    assert f"(file '{wide_strings}'" in lines[0], lines[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/status")
def test_a_decode_of_messages_past_the_address_space_raises_memory_error(wide_strings: Path) -> None:
    """`.avro.decode` of a column of messages stops as a read does."""
    child = python("-c", DECODE_CHILD, str(wide_strings), cwd=wide_strings.parent, timeout=120)
    assert child.returncode == 0, f"ended with {child.returncode}: {child.stderr[-2000:]}"
    lines = child.stdout.splitlines()
    assert lines[0].startswith("MemoryError AvroMemoryError out of memory"), child.stdout + child.stderr[-2000:]
    assert lines[-1] == "after 5", child.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/status")
def test_a_write_past_the_address_space_raises_memory_error_and_keeps_the_old_output(
    wide_strings: Path, tmp_path: Path
) -> None:
    """libdeflate's compressor, which it allocates itself, panicked through to Python
    (`PanicException: libdeflate_alloc_compressor returned NULL`) under the limit; caught,
    the panic's backtrace (`RUST_BACKTRACE=1`) allocated under the limit and ended the
    process in 1 of 18 runs here ("memory allocation of 1520 bytes failed", Polars 1.30).
    (A sink under a limit this tight meets threads that cannot start, Python's and Polars'
    among them: it cannot be tested so.)"""
    child = python("-c", WRITE_CHILD, str(wide_strings), cwd=tmp_path, timeout=120)
    assert child.returncode == 0, f"ended with {child.returncode}: {child.stderr[-2000:]}"
    assert "panicked" not in child.stderr, child.stderr[-2000:]
    lines = child.stdout.splitlines()
    assert lines[0].startswith("MemoryError AvroMemoryError "), child.stdout + child.stderr[-2000:]
    assert "limited to" in lines[0] and "ulimit -v" in lines[0], lines[0]
    assert lines[-1] == "after b'the old output' ['out.avro', 'warm.avro']", child.stdout


# --------------------------------------------------------------------------- local writes


def _frame() -> pl.DataFrame:
    return pl.DataFrame({"a": [1, 2, 3]})


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.parametrize("write", ["write_avro", "sink_avro"])
def test_writing_over_a_private_file_keeps_it_private(tmp_path: Path, write: str) -> None:
    """It became 0644, readable by everyone; Polars' write_parquet keeps 0600."""
    target = tmp_path / "private.avro"
    target.write_bytes(b"")
    target.chmod(0o600)
    if write == "write_avro":
        polars_avro.write_avro(_frame(), target)
    else:
        polars_avro.sink_avro(_frame().lazy(), target)
    assert target.stat().st_mode & 0o777 == 0o600
    assert_frame_equal(polars_avro.read_avro(target), _frame())
    (tmp_path / "new.parquet").touch()
    polars_avro.write_avro(_frame(), tmp_path / "new.avro")
    assert (tmp_path / "new.avro").stat().st_mode & 0o777 == (tmp_path / "new.parquet").stat().st_mode & 0o777


@pytest.mark.parametrize("length", [239, 250, 255])
def test_a_file_name_of_up_to_255_bytes_is_written(tmp_path: Path, length: int) -> None:
    """The temporary name added 17 bytes: "File name too long" from 239 bytes on."""
    target = tmp_path / ("é" * ((length - 5) // 2) + "x" * ((length - 5) % 2) + ".avro")
    assert len(os.fsencode(target.name)) == length
    _frame().write_parquet(tmp_path / "polars.parquet")
    polars_avro.write_avro(_frame(), target)
    assert_frame_equal(polars_avro.read_avro(target), _frame())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, "polars.parquet"])


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name == "nt", reason="process ids")
def test_temporary_files_of_writers_gone_are_removed_by_the_next_write(tmp_path: Path) -> None:
    target = tmp_path / "out.avro"
    dead, alive = _dead_pid(), os.getpid()
    old = time.time() - 3600
    temporaries = {
        "stale": tmp_path / f".out.avro.{dead}.0123456789ab.tmp",
        "writer running": tmp_path / f".out.avro.{alive}.0123456789ab.tmp",
        "written to lately": tmp_path / f".out.avro.{dead}.ba9876543210.tmp",
        "another target's": tmp_path / f".other.avro.{dead}.0123456789ab.tmp",
    }
    for name, path in temporaries.items():
        path.write_bytes(b"partial")
        if name != "written to lately":
            os.utime(path, (old, old))
    polars_avro.write_avro(_frame(), target)
    left = {name for name, path in temporaries.items() if path.exists()}
    assert left == {"writer running", "written to lately", "another target's"}
    assert polars_avro.scan_avro(tmp_path).collect().height == 3, "hidden: a folder's scan leaves them out"


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_write_killed_midway_leaves_the_old_file_and_the_next_write_cleans_up(tmp_path: Path) -> None:
    """A killed write left `out.avro.<hex>.tmp` beside the old file, forever."""
    target = tmp_path / "out.avro"
    polars_avro.write_avro(_frame(), target)
    slow = (
        "import sys, time, polars as pl, polars_avro\n"
        "lf = pl.LazyFrame({'a': [1]}).map_batches(lambda df: (time.sleep(60), df)[1])\n"
        "polars_avro.sink_avro(lf, sys.argv[1])\n"
    )
    # Away from the source tree, as `python` runs children.
    child = subprocess.Popen([sys.executable, "-c", slow, str(target)], cwd=tmp_path)
    try:
        deadline = time.time() + 60
        while not list(tmp_path.glob(".out.avro.*.tmp")) and time.time() < deadline:
            time.sleep(0.05)
    finally:
        child.kill()
        child.wait()
    (temporary,) = tmp_path.glob(".out.avro.*.tmp")
    assert_frame_equal(polars_avro.read_avro(target), _frame())
    old = time.time() - 3600
    os.utime(temporary, (old, old))
    polars_avro.write_avro(_frame().head(1), target)
    assert [p.name for p in tmp_path.iterdir()] == ["out.avro"]
