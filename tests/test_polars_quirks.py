"""Each probe of what the running Polars does (polars_avro._quirks for the package,
tests/polars_quirks.py for the query generator) against the releases it was measured on:
the matrix (`nox -s releases`) runs this on every release and runtime, so each probe is
seen answering yes on some and no on the others. The releases here are the measurements',
written once: the package and the generator ask the probes, never the version.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polars_avro
from polars_avro import _engine, _polars_bugs, _probe_answers, _quirks
from polars_avro._engine import FILE_READERS

sys.path.insert(0, str(Path(__file__).parent))

import polars_quirks  # noqa: E402

#: The releases each probe answers yes on, first and last (minor releases; every patch and
#: runtime of those).
FOUND: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "batches_raise": ((1, 37), (2, 1)),
    "SOURCES_WAIT_ON_THE_POOL": ((2, 0), (2, 0)),
    "io_sources_lose_enums": ((1, 30), (1, 31)),
    "tail_past_the_end_short": ((1, 30), (1, 32)),
    "negative_slice_after_filter_wrong": ((1, 30), (1, 32)),
    "scan_row_index_dropped": ((1, 30), (1, 34)),
    "empty_slice_then_sort_head_wrong": ((1, 32), (1, 44)),
    "cached_slice_sliced_wrong": ((1, 41), (1, 44)),
    "slice_of_a_shared_scan_sees_a_later_filter": ((2, 0), (2, 0)),
    "concat_with_own_slice_wrong": ((2, 0), (2, 0)),
    "unnest_then_join_moves_fields": ((1, 35), (1, 40)),
    "list_filter_over_sliced_chunks_wrong": ((1, 30), (1, 44)),
    "pure_self_join_after_explode_panics": ((1, 41), (1, 42)),
    "pure_self_join_of_an_indexed_head_hangs": ((1, 39), (1, 41)),
    "collect_all_of_a_row_index_misorders": ((1, 41), (1, 42)),
    "same_slice_joined_twice_panics": ((1, 39), (1, 40)),
    "streaming_slice_of_a_pure_concat_with_its_head_panics": ((1, 33), (1, 42)),
    "streaming_slice_of_concat_wrong": ((1, 40), (1, 42)),
    "streaming_top_k_after_a_filter_panics": ((1, 32), (1, 36)),
    "streaming_keep_first_wrong": ((1, 30), (1, 32)),
}
#: The releases measured.
MEASURED = ((1, 30), (2, 1))


def _release() -> tuple[int, int]:
    major, minor = pl.__version__.split(".")[:2]
    return int(major), int(minor)


def _probe(name: str) -> Callable[[], bool]:
    module = next((m for m in (_quirks, _polars_bugs) if hasattr(m, name)), polars_quirks)
    value = getattr(module, name)
    return value if callable(value) else lambda: bool(value)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", FOUND)
def test_each_probe_answers_as_measured(name: str) -> None:
    release = _release()
    if not MEASURED[0] <= release <= MEASURED[1]:
        pytest.skip(f"Polars {pl.__version__} is outside the releases measured: the probes decide alone")
    first, last = FOUND[name]
    assert _probe(name)() == (first <= release <= last), f"{name} on Polars {pl.__version__}"


def test_probes_are_asked_once() -> None:
    """A probe runs its query at first use, then its answer is kept."""
    _quirks.batches_raise()
    assert _quirks.batches_raise.cache_info().currsize == 1  # type: ignore[attr-defined]


def test_the_batches_probe_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """Where Polars swallows the probe's error (1.34 to 1.36) it prints it as it drops it: the
    probe keeps that from the user's terminal."""
    _quirks.batches_raise.cache_clear()  # type: ignore[attr-defined]
    _quirks.batches_raise()
    assert capsys.readouterr().err == ""


def test_writing_lists_warns_of_no_polars_change() -> None:
    """Polars 1.42 to 1.44 warn that ``explode``'s default changes in 2.0 where it is called
    without it: the writer explodes lists and arrays to find the categories in them, and the
    user's write showed Polars' DeprecationWarning."""
    df = pl.DataFrame(
        {"a": [[1, 2], []], "b": [[1, 2], [3, 4]], "e": [["x"], ["y"]]},
        schema={"a": pl.List(pl.Int64), "b": pl.Array(pl.Int64, 2), "e": pl.List(pl.Categorical)},
    )
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        polars_avro.write_avro(df, out)
    assert polars_avro.read_avro(out.getvalue())["e"].to_list() == [["x"], ["y"]]


FIRST_SCANS = """
import io, sys, time, warnings
import polars as pl
import polars_avro
data = io.BytesIO()
polars_avro.write_avro(pl.DataFrame({"a": [1, 2]}), data)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    start = time.perf_counter()
    pl.scan_avro(data.getvalue())
    first = time.perf_counter() - start
    pl.scan_avro(data.getvalue()).collect()
for w in caught:
    print(type(w.message).__name__, w.filename == sys.argv[0] or w.filename, w.message)
print(f"first scan {first * 1000:.1f} ms", file=sys.stderr)
"""


def test_the_first_scan_warns_of_each_polars_bug_once(tmp_path: Path) -> None:
    """Where Polars gives scan_avro's users wrong rows and the package cannot work around
    it, the first scan of a process warns of it, once, at the user's line, naming the
    releases, the query shape and the release that fixes it; elsewhere nothing is said."""
    script = tmp_path / "user.py"
    script.write_text(FIRST_SCANS)
    # The first process of this build probes; the next reads its answers back and warns alike.
    env = {**os.environ, "POLARS_AVRO_CACHE_DIR": str(tmp_path / "cache")}
    runs = [
        subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, check=True, env=env)
        for _ in range(2)
    ]
    assert (tmp_path / "cache" / _probe_answers.FILE_NAME).is_file()
    assert runs[0].stdout == runs[1].stdout, runs
    done = runs[0]
    lines = done.stdout.splitlines()
    release = _release()
    expected = {name for name, found in BUGS_WARNED.items() if FOUND[name][0] <= release <= FOUND[name][1] and found}
    if MEASURED[0] <= release <= MEASURED[1]:
        assert len(lines) == len(expected), done.stdout
    for line in lines:
        kind, at_users_line, text = line.split(" ", 2)
        assert kind == "AvroPolarsBugWarning" and at_users_line == "True", line
        assert re.search(r"Polars \d\.\d+ (to \d\.\d+ )?.*; Polars \d\.\d+ fixed it", text), text
    print(done.stderr)


#: The bugs the package warns of (polars_avro._polars_bugs.BUGS), by probe, and whether it
#: probes them here (where scans use the interface each was found with).
BUGS_WARNED = {probe.__name__: file_readers == FILE_READERS for probe, file_readers, _ in _polars_bugs.BUGS}


def test_an_interface_it_does_not_know_fails_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """A release whose interface for scans changed fails at import, naming the release and
    the newest one tested, not with wrong rows or a TypeError deep in a query."""
    _engine.check_interface()  # the running release's is known
    if _engine.FILE_READERS:

        class Newer(_engine.FileReader):  # type: ignore[misc,name-defined]
            def collect_batches(
                self, *, columns: Any, row_index: Any, pre_slice: Any, filters: Any, num_pipelines: Any, sample: Any
            ) -> Any:
                yield from ()

        monkeypatch.setattr(_engine, "FileReader", Newer)
        found = r"collect_batches takes .*'sample'"
    else:
        monkeypatch.setattr(_engine, "IO_PLUGIN_ARGUMENTS", {"io_source", "schema", "scan"})
        found = r"register_io_source takes no"
    with pytest.raises(polars_avro.AvroPolarsVersionError, match=found) as raised:
        _engine.check_interface()
    assert isinstance(raised.value, ImportError)
    assert f"Polars {pl.__version__}" in str(raised.value) and _engine.NEWEST_TESTED in str(raised.value)


#: A stand-in pyarrow that writes each import of it to the file its environment names.
FAKE_PYARROW = """
import os
with open(os.environ["PYARROW_IMPORTS"], "a") as f:
    f.write("imported\\n")
class Schema:
    pass
"""

FIRST_QUERY = """
import io, os, sys
import polars as pl
import polars_avro
imports = os.environ["PYARROW_IMPORTS"]
data = io.BytesIO()
polars_avro.write_avro(pl.DataFrame({"a": [1, 2, 3]}), data)
assert pl.scan_avro(data.getvalue()).head(2).collect()["a"].to_list() == [1, 2]
assert pl.scan_avro(data.getvalue()).filter(pl.col("a") > 1).collect()["a"].to_list() == [2, 3]
print("scans:", os.path.exists(imports))
if polars_avro._engine.FILE_READERS:
    from polars.io.external_reader import FileReader, FileReaderBuilder, scan_external_reader
    class Reader(FileReader):
        def schema(self):
            return {"a": pl.Int64}
        def collect_batches(self, **_):
            yield pl.DataFrame({"a": [1]})
        def n_rows_in_file(self, limit=None):
            return 1
    class Builder(FileReaderBuilder):
        def build_file_reader(self, source, context):
            return Reader()
    scan_external_reader(Builder(), sources=["x"], schema={"a": pl.Int64}).collect()
    print("a plain file reader:", os.path.exists(imports))
import pyarrow
print("the user's import:", os.path.exists(imports), hasattr(pyarrow, "Schema"))
"""


def test_the_first_scan_does_not_import_pyarrow(tmp_path: Path) -> None:
    """Polars 2's file reader interface imports pyarrow after every reader's schema(), to
    ask whether it is a pyarrow schema: 105-180 ms and 40-50 MB on a process's first scan
    wherever pyarrow is installed. polars_avro._pyarrow_check refuses that one import, so
    scans (a head, a filter) import no pyarrow; a plain reader still does (the quirk is
    Polars', checked so that a release that drops it is seen); the user's own
    ``import pyarrow`` afterwards imports it as ever. A stand-in pyarrow records imports,
    so that this runs wherever pyarrow is installed or not."""
    (tmp_path / "pyarrow").mkdir()
    (tmp_path / "pyarrow" / "__init__.py").write_text(FAKE_PYARROW)
    (tmp_path / "user.py").write_text(FIRST_QUERY)
    imports = tmp_path / "imports.txt"
    path = os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])
    env = {**os.environ, "PYTHONPATH": path, "PYARROW_IMPORTS": str(imports)}
    done = subprocess.run(
        [sys.executable, str(tmp_path / "user.py")], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "scans: False" and lines[-1] == "the user's import: True True", done.stdout
    if FILE_READERS and MEASURED[0] <= _release() <= MEASURED[1]:
        assert lines[1] == "a plain file reader: True", done.stdout
