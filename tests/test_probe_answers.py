"""The probes' answers kept on disk per installed build (polars_avro._probe_answers)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import polars as pl
import pytest

from polars_avro import _engine, _polars_bugs, _probe_answers
from polars_avro.exceptions import AvroPolarsBugWarning


class Probe:
    """A probe that counts its runs."""

    def __init__(self, answer: list[str]) -> None:
        self.answer, self.runs = answer, 0

    def __call__(self) -> list[str]:
        self.runs += 1
        return self.answer


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache directory of the user's choice."""
    monkeypatch.setenv("POLARS_AVRO_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / _probe_answers.FILE_NAME


def test_a_build_is_probed_once(cache: Path) -> None:
    """The first call for a build probes and keeps the answer; later ones read it back, and
    another build is probed for itself."""
    probe = Probe(["a_bug"])
    assert _probe_answers.remembered("build 1", probe) == ["a_bug"]
    assert _probe_answers.remembered("build 1", probe) == ["a_bug"]
    assert probe.runs == 1
    assert json.loads(cache.read_text()) == {"build 1": ["a_bug"]}
    other = Probe([])
    assert _probe_answers.remembered("build 2", other) == [] and other.runs == 1
    assert json.loads(cache.read_text()) == {"build 1": ["a_bug"], "build 2": []}


@pytest.mark.parametrize("text", ["{not json", '["a list"]', '{"build 1": "not a list"}', '{"build 1": [1]}'])
def test_a_damaged_file_is_probed_over(cache: Path, text: str) -> None:
    """What is not a file of answers is no answer: the build is probed, and the file mended."""
    cache.parent.mkdir()
    cache.write_text(text)
    probe = Probe(["a_bug"])
    assert _probe_answers.remembered("build 1", probe) == ["a_bug"] and probe.runs == 1
    assert json.loads(cache.read_text())["build 1"] == ["a_bug"]


def test_where_nothing_can_be_kept_every_call_probes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache directory that cannot be made (a file stands there), or none asked for
    (``POLARS_AVRO_CACHE_DIR=""``): the answer is probed each time, and nothing fails."""
    (tmp_path / "a_file").write_text("")
    for asked in (str(tmp_path / "a_file" / "cache"), ""):
        monkeypatch.setenv("POLARS_AVRO_CACHE_DIR", asked)
        probe = Probe(["a_bug"])
        assert [_probe_answers.remembered("build 1", probe) for _ in range(2)] == [["a_bug"]] * 2
        assert probe.runs == 2
    assert os.listdir(tmp_path) == ["a_file"]


def test_only_the_latest_builds_are_kept(cache: Path) -> None:
    """A machine that sees many builds keeps the answers of the latest KEPT only."""
    for build in range(_probe_answers.KEPT + 5):
        _probe_answers.remembered(f"build {build}", Probe([]))
    kept = json.loads(cache.read_text())
    assert list(kept) == [f"build {b}" for b in range(5, _probe_answers.KEPT + 5)]
    assert [p.name for p in cache.parent.iterdir()] == [cache.name]  # no part-written file left


def test_the_build_key_tells_polars_and_the_probes_apart(tmp_path: Path) -> None:
    """The key names the running Polars release, its native library and this package's,
    and the probes' files as they are now: a change to any of them probes again."""
    probes = tmp_path / "probes.py"
    probes.write_text("one")
    key = _probe_answers.build_key(str(probes))
    assert key.startswith(pl.__version__ + " ")
    assert sum(".so:" in part or ".pyd:" in part for part in key.split()) >= 2  # Polars' and ours
    assert _probe_answers.build_key(str(probes)) == key
    probes.write_text("a longer text")
    assert _probe_answers.build_key(str(probes)) != key


def test_the_bugs_found_are_warned_from_the_kept_answers(cache: Path) -> None:
    """warn_once warns of what the kept answers name for this build, without probing."""
    key = _probe_answers.build_key(_polars_bugs.__file__, _engine.__file__)
    named = _polars_bugs.BUGS[0][0].__name__
    cache.parent.mkdir()
    cache.write_text(json.dumps({key: [named]}))
    _polars_bugs.warn_once.cache_clear()
    try:
        with pytest.warns(AvroPolarsBugWarning, match="See docs/reading.md") as caught:
            _polars_bugs.warn_once()
    finally:  # warned once a process again, quietly, as conftest.py has it
        _polars_bugs.warn_once.cache_clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AvroPolarsBugWarning)
            _polars_bugs.warn_once()
    assert len(caught) == 1 and str(caught[0].message).startswith(_polars_bugs.BUGS[0][2])
