"""The package's metadata (what `pip show polars-avro` says) and the README's first steps:
this project shares its distribution and import names with another one on PyPI, so both
must say which is which."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from typing import Any

import pytest

import polars_avro

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # tomllib's origin, for the Pythons before it
        import tomli as tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_metadata_describes_the_package() -> None:
    project = _pyproject()
    assert project["description"].startswith("Apache Avro object container files as a first-class Polars format")
    assert (ROOT / project["readme"]).is_file()
    assert {"avro", "polars"} <= set(project["keywords"])
    assert "Typing :: Typed" in project["classifiers"]
    assert (Path(polars_avro.__file__).parent / "py.typed").is_file()
    try:
        distribution = importlib.metadata.distribution("polars-avro")
    except importlib.metadata.PackageNotFoundError:
        return  # run from the source tree
    if Path(distribution.locate_file("polars_avro/__init__.py")).resolve() != Path(polars_avro.__file__).resolve():
        return  # the package imported is not the installed one (a source tree beside an old wheel)
    # The installed distribution is this one, not the project of the same name on PyPI.
    assert distribution.metadata["Summary"] == project["description"]
    assert distribution.version == polars_avro.__version__


def test_the_readme_starts_with_how_to_install_this_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (ROOT / "README.md").read_text()
    installing = readme[readme.index("## Installing") : readme.index("\n## ", readme.index("## Installing") + 1)]
    assert 'python3 -m pip install "git+' in installing
    # The wheel `nox -s wheel` makes, by its name: this version, abi3, manylinux2014.
    wheel = f"polars_avro-{polars_avro.__version__}-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl"
    assert f"python3 -m pip install {wheel}" in installing
    assert "python3 -m nox -s wheel" in installing
    assert "cannot live in one environment" in " ".join(installing.split())
    # The first query it shows runs in any folder: it writes the file it reads.
    start = installing.index("```python") + len("```python")
    query = installing[start : installing.index("```", start)]
    monkeypatch.chdir(tmp_path)
    exec(compile(query.replace("print(", "(", 1), "README", "exec"), {})


def test_the_compiled_module_allocates_with_polars_allocator() -> None:
    """Polars shares its allocator with plugins (a capsule of its compiled module, which moved
    from polars.polars to polars._plr): every supported version must hand it to us, or each
    read's columns come from the system allocator, slower to reuse."""
    assert polars_avro._internal.ALLOCATOR == "polars"
