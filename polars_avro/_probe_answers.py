"""Answers of the probes of the running Polars, kept on disk per installed build.

The probes of Polars' bugs (polars_avro._polars_bugs) run queries, which cost a process's
first scan a few milliseconds: scripts, the command line and serverless functions pay them
on every run. Their answers depend on nothing but the installed Polars and this package, so
the first process to probe a build keeps them, and later processes read them back. A build
is told by the files of Polars' native library and of this package (path, size, time of
change), so an upgrade, a reinstall or a rebuild probes again.

The answers live in ``$POLARS_AVRO_CACHE_DIR``, else the user's cache directory
(``$XDG_CACHE_HOME`` or ``~/.cache``, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on
Windows) under ``polars-avro``. ``POLARS_AVRO_CACHE_DIR=""`` keeps nothing. Where the
directory cannot be read or written (a read-only home in a container), every process probes,
as it would without it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import polars as pl

#: The file of answers, in the cache directory.
FILE_NAME = "polars-probes.json"

#: The most builds whose answers are kept: a machine rarely has more Polars installs at once.
KEPT = 32


def cache_dir() -> Path | None:
    """Where answers are kept, or None where the user asked for none."""
    asked = os.environ.get("POLARS_AVRO_CACHE_DIR")
    if asked is not None:
        return Path(asked) if asked else None
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "polars-avro"


def build_key(*sources: str) -> str:
    """The installed build of Polars and of this package, as a key of its answers.

    `sources` are the files whose text the answers depend on besides the native libraries
    (the probes' own module).
    """
    # A module's own dict, not getattr: Polars keeps lazy stand-ins of optional modules
    # (pyarrow among them) that an attribute lookup would import.
    files = (
        vars(module).get("__file__") or ""
        for name, module in list(sys.modules.items())
        if name.startswith(("polars.", "polars_avro.")) and isinstance(module, ModuleType)
    )
    native = sorted({file for file in files if file.endswith((".so", ".pyd", ".dylib"))})
    parts = [pl.__version__]
    for path in [*native, *sources]:
        stat = os.stat(path)
        parts.append(f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}")
    return " ".join(parts)


def _read(path: Path) -> dict[str, list[str]]:
    """The answers kept in `path`; none where it is missing or not ours to read."""
    try:
        kept = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict):
        return {}
    return {k: v for k, v in kept.items() if isinstance(v, list) and all(isinstance(x, str) for x in v)}


def _write(path: Path, kept: dict[str, list[str]]) -> None:
    """Keeps `kept` in `path`, whole or not at all (another process may read it meanwhile)."""
    import tempfile  # only where a build is probed: its import costs a first scan a millisecond

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, part = tempfile.mkstemp(dir=path.parent, prefix=f".{FILE_NAME}.")
        try:
            with os.fdopen(fd, "w") as out:
                json.dump(kept, out)
            os.replace(part, path)
        except BaseException:
            os.unlink(part)
            raise
    except OSError:
        pass  # not writable here: the next process probes too


def remembered(key: str, probe: Callable[[], list[str]]) -> list[str]:
    """`probe`'s answer for the build `key`: kept from an earlier process, or probed and kept."""
    where = cache_dir()
    if where is None:
        return probe()
    path = where / FILE_NAME
    kept = _read(path)
    if key in kept:
        return kept[key]
    answer = probe()
    kept[key] = answer
    _write(path, dict(list(kept.items())[-KEPT:]))
    return answer
