"""What the running Polars does: the package's table of releases (polars_avro/_polars/releases.json)
against its probes, and each probe of the query generator (tests/polars_quirks.py) against
the releases it was measured on. The matrix (`nox -s releases`) runs this on every release and
runtime, so each is checked on all of them. A process on a tested release reads the table and
runs no probe; one on a release not tested probes it in memory and says so.
"""

from __future__ import annotations

import ast
import io
import json
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
from polars_avro._polars import facts, interface, probes

sys.path.insert(0, str(Path(__file__).parent))

import polars_quirks  # noqa: E402

#: The releases each probe answers yes on, first and last (minor releases; every patch and
#: runtime of those).
FOUND: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "scan_row_index_dropped": ((1, 30), (1, 34)),
    "empty_slice_then_sort_head_wrong": ((1, 32), (1, 44)),
    "concat_with_own_slice_wrong": ((2, 0), (2, 0)),
    "tail_of_a_group_by_past_its_groups_wrong": ((1, 30), (1, 37)),
    "unnest_then_join_moves_fields": ((1, 35), (1, 40)),
    "list_filter_over_sliced_chunks_wrong": ((1, 30), (1, 44)),
    "pure_self_join_after_explode_panics": ((1, 41), (1, 42)),
    "pure_self_join_of_an_indexed_head_hangs": ((1, 39), (1, 41)),
    "collect_all_of_a_row_index_misorders": ((1, 41), (1, 42)),
    "same_slice_joined_twice_panics": ((1, 39), (1, 40)),
    "streaming_slice_of_a_pure_concat_with_its_head_panics": ((1, 33), (1, 42)),
    "streaming_slice_of_concat_wrong": ((1, 40), (1, 42)),
    "streaming_top_k_after_a_filter_panics": ((1, 32), (1, 36)),
    "streaming_negative_slice_of_a_filter_wrong": ((1, 33), (1, 44)),
    "streaming_keep_first_wrong": ((1, 30), (1, 32)),
}
#: The releases measured.
MEASURED = ((1, 30), (2, 1))


def _release() -> tuple[int, int]:
    major, minor = pl.__version__.split(".")[:2]
    return int(major), int(minor)


@pytest.mark.parametrize("name", FOUND)
def test_each_probe_answers_as_measured(name: str) -> None:
    release = _release()
    if not MEASURED[0] <= release <= MEASURED[1]:
        pytest.skip(f"Polars {pl.__version__} is outside the releases measured: the probes decide alone")
    first, last = FOUND[name]
    probe: Callable[[], bool] = getattr(polars_quirks, name)
    assert probe() == (first <= release <= last), f"{name} on Polars {pl.__version__}"


def test_the_table_row_is_what_the_probes_answer() -> None:
    """The package reads its table of releases, never the probes, on a tested release: the
    row of the running one must be what the probes find on it, on every release and runtime
    (each patch and runtime of a minor release shares its row)."""
    row = facts.tested()
    assert row is not None, f"Polars {pl.__version__} has no row in releases.json: run nox -s release_table"
    answers = probes.answers()
    assert row == facts.of(answers), f"Polars {pl.__version__} answers {json.dumps(answers)}, its row says {row}"


def test_the_table_holds_every_release_tested() -> None:
    """Each release and runtime CI runs (the noxfile's POLARS_RELEASES) is in its minor
    release's row, and every row is of a release CI runs."""
    noxfile = ast.parse((Path(__file__).parent.parent / "noxfile.py").read_text())
    (releases,) = [
        ast.literal_eval(node.value)
        for node in noxfile.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "POLARS_RELEASES"
    ]
    rows = facts.table()
    by_row = {release: row["tested_at"] for release, row in rows.items()}
    expected: dict[str, list[str]] = {}
    for requirement in releases:
        expected.setdefault(facts.minor_release(requirement.split("==")[1]), []).append(requirement)
    assert by_row == expected


def test_probes_are_asked_once() -> None:
    """A probe runs its query at first use, then its answer is kept."""
    probes.batches_raise()
    assert probes.batches_raise.cache_info().currsize == 1  # type: ignore[attr-defined]


def test_the_batches_probe_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """Where Polars swallows the probe's error (1.34 to 1.36) it prints it as it drops it: the
    probe keeps that from the user's terminal."""
    probes.batches_raise.cache_clear()  # type: ignore[attr-defined]
    probes.batches_raise()
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
import io, json, os, sys, time, warnings
import polars as pl
import polars_avro
data = io.BytesIO()
polars_avro.write_avro(pl.DataFrame({"a": [1, 2]}), data)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    start = time.perf_counter()
    pl.scan_avro(data.getvalue())
    first = time.perf_counter() - start
    rows = pl.scan_avro(data.getvalue()).filter(pl.col("a") > 1).collect()["a"].to_list()
for w in caught:
    print(type(w.message).__name__, w.filename == sys.argv[0] or w.filename, w.message)
probed = "polars_avro._polars.probes" in sys.modules
print(json.dumps({"rows": rows, "probed": probed}), file=sys.stderr)
print(f"first scan {first * 1000:.1f} ms", file=sys.stderr)
"""


def _first_scans(tmp_path: Path, *, before: str = "") -> tuple[list[str], dict[str, Any]]:
    """Runs FIRST_SCANS in a fresh process whose home and cache folders cannot be written,
    (`before`: lines run before it): the warnings it printed, and what it found."""
    home = tmp_path / "home"
    (home / ".cache").mkdir(parents=True)
    script = tmp_path / "user.py"
    script.write_text(before + FIRST_SCANS)
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    os.chmod(home / ".cache", 0o555)
    os.chmod(home, 0o555)
    try:
        done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env)
    finally:
        os.chmod(home, 0o755)
        os.chmod(home / ".cache", 0o755)
    assert done.returncode == 0, done.stderr
    # Nothing was written there (root may write where the mode says no).
    assert [p.name for p in home.rglob("*")] == [".cache"]
    found = json.loads(done.stderr.splitlines()[-2])
    print(done.stderr.splitlines()[-1])
    return done.stdout.splitlines(), found


def test_the_first_scan_warns_of_each_polars_bug_once(tmp_path: Path) -> None:
    """Where Polars gives scan_avro's users wrong rows and the package cannot work around
    it, the first scan of a process warns of it, once, at the user's line, naming the
    releases, the query shape and the release that fixes it; elsewhere nothing is said. A
    tested release reads what it has from the table: no probe runs, and nothing is written
    under the user's home (here a home and cache folder that cannot be written)."""
    lines, found = _first_scans(tmp_path)
    assert found == {"rows": [2], "probed": False}
    row = facts.tested()
    assert row is not None
    assert len(lines) == len(row.bugs), lines
    for line, bug in zip(lines, row.bugs):
        kind, at_users_line, text = line.split(" ", 2)
        assert kind == "AvroPolarsBugWarning" and at_users_line == "True", line
        assert text.startswith(facts.BUG_WARNINGS[bug])
        assert re.search(r"Polars \d\.\d+ (to \d\.\d+ )?.*; Polars \d\.\d+ fixed it", text), text


def test_a_release_not_tested_is_probed_in_memory_and_warned_of_once(tmp_path: Path) -> None:
    """A release the table lacks (simulated: the running one under a newer number) is probed
    once, in memory, and warned of once at the user's line; the scan reads as ever and
    nothing is written under the user's home."""
    lines, found = _first_scans(tmp_path, before="import polars\npolars.__version__ = '9.9.0'\n")
    assert found == {"rows": [2], "probed": True}
    untested = [line for line in lines if line.startswith("AvroPolarsVersionWarning")]
    assert len(untested) == 1, lines
    assert untested[0].startswith("AvroPolarsVersionWarning True polars-avro was not tested with Polars 9.9.0"), lines
    assert f"the newest release tested is {facts.newest_tested()}" in untested[0]
    # The bugs the probes find here are warned of as the table's row has them.
    row = facts.tested()
    assert row is not None
    assert len(lines) == 1 + len(row.bugs), lines


def test_an_interface_it_does_not_know_fails_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """A release whose interface for scans changed fails at import, naming the release and
    the newest one tested, not with wrong rows or a TypeError deep in a query."""
    interface.check_interface()  # the running release's is known
    if interface.FILE_READERS:

        class Newer(interface.FileReader):  # type: ignore[misc,name-defined]
            def collect_batches(
                self, *, columns: Any, row_index: Any, pre_slice: Any, filters: Any, num_pipelines: Any, sample: Any
            ) -> Any:
                yield from ()

        monkeypatch.setattr(interface, "FileReader", Newer)
        found = r"collect_batches takes .*'sample'"
    else:
        monkeypatch.setattr(interface, "IO_PLUGIN_ARGUMENTS", {"io_source", "schema", "scan"})
        found = r"register_io_source takes no"
    with pytest.raises(polars_avro.AvroPolarsVersionError, match=found) as raised:
        interface.check_interface()
    assert isinstance(raised.value, ImportError)
    assert f"Polars {pl.__version__}" in str(raised.value) and facts.newest_tested() in str(raised.value)


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
if polars_avro._polars.interface.FILE_READERS:
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
    wherever pyarrow is installed. polars_avro._polars.pyarrow_import refuses that one import, so
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
    row = facts.tested()
    if row is not None and row.file_readers_import_pyarrow:
        assert lines[1] == "a plain file reader: True", done.stdout
