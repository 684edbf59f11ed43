"""What a Polars release does that its API does not tell: the table of tested releases.

``releases.json`` holds, for each minor release tested (every patch and runtime of it), the
answers of the probes (polars_avro._polars.probes): CI writes it (``nox -s release_table``)
and checks it on every release and runtime (``nox -s releases``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

#: The table of tested releases, beside this module.
TABLE = Path(__file__).with_name("releases.json")


@dataclass(frozen=True)
class Facts:
    """A release's row of the table (probes.answers gives the same keys)."""

    #: Whether ``collect_batches`` raises a failing query's error (a sink may stream batches).
    batches_raise: bool
    #: Whether an IO plugin's Enum columns come out of a query as Categorical.
    io_sources_lose_enums: bool
    #: Whether a file reader source must leave filters to Polars.
    sources_wait_on_the_pool: bool
    #: Whether Polars imports pyarrow on a file reader scan's path.
    file_readers_import_pyarrow: bool
    #: The bugs of BUG_WARNINGS the release has.
    bugs: tuple[str, ...]


#: Each bug that gives scan_avro's users wrong rows where Polars' own scans are right and the
#: package cannot work around it: what the warning at a process's first scan says of it.
#: Bugs a query engine loudly refuses (a panic) are not warned of; docs/versions.md lists
#: every bug by release.
BUG_WARNINGS = {
    "tail_past_the_end_short": (
        "Polars 1.30 to 1.32's streaming engine gives too few rows for a tail(n) longer than a "
        "scan_avro's rows, `lf.tail(n).collect(engine='streaming')`; Polars 1.33 fixed it"
    ),
    "negative_slice_after_filter_wrong": (
        "Polars 1.30 to 1.32 give the wrong rows for a slice from a negative offset after a "
        "filter of a scan_avro, `lf.filter(...).slice(-n, ...)`; Polars 1.33 fixed it"
    ),
    "cached_slice_sliced_wrong": (
        "Polars 1.41 to 1.44 hand a scan_avro the later slice of a cached slice, "
        "`lf.head(3).cache().head(10)` gives 10 rows; Polars 2.0 fixed it"
    ),
    "list_filter_over_sliced_chunks_wrong": (
        "Polars 1.30 to 1.44 keep the wrong rows in a filter on a list column of a frame of "
        "several chunks, one of them sliced, as a scan_avro's batches are where Polars filters "
        "them joined: `lf.tail(n).filter(pl.col(...).list.contains(...))` in the streaming "
        "engine, or a filter before a `cache()`; Polars 2.0 fixed it"
    ),
    "slice_of_a_shared_scan_sees_a_later_filter": (
        "Polars 2.0 gives a scan_avro combined with a slice of itself, then filtered, the slice "
        "of the filtered rows, `lf.join(lf.slice(...), ...).filter(...)` or "
        "`pl.concat([lf.slice(...), lf]).filter(...)`; Polars 2.1 fixed it"
    ),
}


def minor_release(version: str) -> str:
    """The table's key of a release: its minor release ("1.33" of "1.33.1")."""
    return ".".join(version.split(".")[:2])


def table() -> dict[str, dict[str, object]]:
    """The rows of the tested releases, by minor release."""
    rows: dict[str, dict[str, object]] = json.loads(TABLE.read_text())["releases"]
    return rows


def newest_tested() -> str:
    """The newest release tested, as pip names it (``polars==2.1.0``)."""
    rows = table()
    newest = max(rows, key=lambda key: tuple(int(n) for n in key.split(".")))
    tested_at = rows[newest]["tested_at"]
    assert isinstance(tested_at, list)
    return str(tested_at[0]).split("==")[-1]


def of(answers: dict[str, object]) -> Facts:
    """The facts of a row of the table, or of the probes' answers."""
    bugs = answers["bugs"]
    assert isinstance(bugs, list)
    return Facts(**{**answers, "bugs": tuple(bugs)})  # type: ignore[arg-type]


def tested() -> Facts | None:
    """The running release's row of the table; None for a release not tested."""
    row = table().get(minor_release(pl.__version__))
    return of({key: value for key, value in row.items() if key != "tested_at"}) if row is not None else None
