"""Polars' own bugs that the query generator must step around, each found by probing the
running Polars, not by its version: the differential suite runs on every release, and a
release nobody has tried takes the avoidances its behaviour calls for.

Each probe runs the smallest query that shows the bug, over a frame in memory that Polars
reaches through the same interface as scan_avro (``plugin_scan``: polars_avro._polars.interface's,
with no Rust reader behind it) or over Polars' own frames and scans, so that a bug of the
reader can never pass for one of Polars. Each is True where the bug is there. The table of
Polars' bugs in docs/versions.md says which releases each was found on;
tests/test_polars_quirks.py checks every probe against those releases.
"""

from __future__ import annotations

import functools
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from polars_avro._polars.probes import _wrong as _fails

# The probes of the bugs the package warns of, and the scan of a frame in memory through
# scan_avro's interface to Polars, are the package's own.
from polars_avro._polars.probes import (  # noqa: F401
    cached_slice_sliced_wrong,
    list_filter_over_sliced_chunks_wrong,
    negative_slice_after_filter_wrong,
    slice_of_a_shared_scan_sees_a_later_filter,
    tail_past_the_end_short,
)
from polars_avro._polars.probes import frame_scan as plugin_scan


@functools.cache
def scan_row_index_dropped() -> bool:
    """A scan's own row index is gone under a ``with_row_index`` (``scan_ipc(p,
    row_index_name="ri").with_row_index("ri0")`` has no "ri"), whatever the scan. Found on 1.30."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.arrow"
        pl.DataFrame({"a": [1, 2]}).write_ipc(path)
        columns = pl.scan_ipc(path, row_index_name="ri").with_row_index("ri0").collect().columns
    return "ri" not in columns


@functools.cache
def empty_slice_then_sort_head_wrong() -> bool:
    """A sort then a head, or a top_k, after a slice that leaves no row of an IO source
    panics in the streaming engine (``pipe.send_state == PortState::Done``) or gives rows,
    where Polars' own scans give none. Found on every 1.x release."""
    lf = plugin_scan(pl.DataFrame({"s": ["b", "a", "c"] * 1000, "id": range(3000)}))
    empty = lf.head(100).slice(365, 1000)
    shapes = [empty.sort("s", "id").head(10), empty.top_k(10, by=["s", "id"])]
    return any(_fails(lambda q=q: q.collect(engine="streaming").height == 0) for q in shapes)


@functools.cache
def concat_with_own_slice_wrong() -> bool:
    """A frame sorted and concatenated with a slice of itself, then filtered, gives the wrong
    rows in the in-memory engine, a LazyFrame of a DataFrame too. Found on 2.0."""
    df = pl.DataFrame({"a": range(100)})
    lf = df.lazy()
    query = pl.concat([lf.sort("a", descending=True), lf.head(3)]).filter(pl.col("a") > 5)
    expected = pl.concat([df.sort("a", descending=True), df.head(3)]).filter(pl.col("a") > 5)
    return _fails(lambda: query.collect(engine="in-memory").equals(expected))


@functools.cache
def tail_of_a_group_by_past_its_groups_wrong() -> bool:
    """The in-memory engine (to 1.32 the streaming one too) gives no row for a tail (or a
    slice from a negative offset) of a group_by longer than its groups, where the key is a
    column of one value Polars holds as a scalar, as its own scans hold a file's path column
    (``include_file_paths``), a LazyFrame of a DataFrame too:
    ``group_by("c").agg(pl.len()).tail(100)`` of one group gives none. Fresh seed
    186462024 (1.36) found scan_ipc giving none where the answer is one row. Found on 1.30
    to 1.37 (to 1.34 for a key of any column)."""
    df = pl.DataFrame({"v": range(3000)}).with_columns(c=pl.lit("x"))
    query = df.lazy().group_by("c", maintain_order=True).agg(pl.len()).tail(100)
    return _fails(lambda: query.collect(engine="in-memory").height == 1)


@functools.cache
def unnest_then_join_moves_fields() -> bool:
    """Polars' own scans and frames put a struct's unnested fields after the other columns
    when a filter comes before and a join after (where the schema Polars gives has them in
    place), and an IO source's plan keeps them in place. Found on 1.35 to 1.42."""
    df = pl.DataFrame({"id": [1, 2], "rec": [{"x": 1}, {"x": 2}], "z": [3, 4]})
    own = df.lazy().filter(pl.col("z") > 0).unnest("rec").join(df.lazy().select("id"), on="id")
    plugins = plugin_scan(df).filter(pl.col("z") > 0).unnest("rec").join(plugin_scan(df).select("id"), on="id")
    return own.collect().columns != plugins.collect().columns


@functools.cache
def streaming_slice_of_concat_wrong() -> bool:
    """A streaming slice of a frame concatenated with a slice of itself keeps the wrong rows,
    a LazyFrame of a DataFrame too: the sum of ``pl.concat([lf, lf.head(3)]).slice(30)`` of
    0..99 is 3,018 for 4,518. Fresh seed 1001 (1.41) found its group counts differing from
    scan_ipc's, both wrong. Found on 1.40 to 1.42."""
    lf = pl.DataFrame({"i": range(100)}).lazy()
    query = pl.concat([lf, lf.head(3)]).slice(30, None).select(pl.col("i").sum())
    return _fails(lambda: query.collect(engine="streaming").item() == 4518)


@functools.cache
def streaming_negative_slice_of_a_filter_wrong() -> bool:
    """The streaming engine's slice from a negative offset, shorter than the offset, of a
    filtered source of many batches gives too many rows: ``lf.slice(1161, None).filter(
    pl.col("f") >= 0.69).slice(-68, 3)`` of 47 batches gives 49 rows for 3; Polars'
    ``scan_parquet`` of row groups of 64 rows gives 28 for ``lf.filter(...).slice(-68, 3)``.
    Fresh seed 858892418 (1.36, batches of 64) found it. Found on 1.33 to 1.44."""
    rng = random.Random(0)
    df = pl.DataFrame({"f": [rng.random() for _ in range(3000)]})

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.slice(1161, None).filter(pl.col("f") >= 0.69).slice(-68, 3)

    expected = query(df.lazy()).collect(engine="in-memory")
    lf = plugin_scan(df, frames=47)
    return _fails(lambda: query(lf).collect(engine="streaming").equals(expected))


@functools.cache
def pure_self_join_after_explode_panics() -> bool:
    """A pure IO source joined with itself after an ``explode``, then grouped with a count,
    panics in the streaming engine (``Option::unwrap()`` on a ``None`` value); the same
    source declared impure does not. Found on 1.41 and 1.42."""
    return _fails(lambda: self_join_after_explode(plugin_scan(EXPLODED_JOIN)).height == 3)


@functools.cache
def same_slice_joined_twice_panics() -> bool:
    """Joining the same slice of a pure IO source twice in one query
    (``lf.join(other.slice(2, 10)..., on="id").join(other.slice(2, 10)..., on="k")``) panics
    in the optimizer (``entered unreachable code``), in both engines; a DataFrame's does not.
    Fresh seed 288722674 found it. Found on 1.39 and 1.40."""
    a = pl.DataFrame({"id": range(20), "k": [i % 3 for i in range(20)]})
    lf, other = plugin_scan(a), plugin_scan(a.with_columns(f=pl.col("id") * 2))
    query = lf.join(other.slice(2, 10).select("id", "f"), on="id").join(
        other.slice(2, 10).select("k"), on="k", how="left"
    )
    return _fails(lambda: query.collect().height > 0)


@functools.cache
def streaming_slice_of_a_pure_concat_with_its_head_panics() -> bool:
    """A streaming slice of a pure IO source concatenated with its own head
    (``pl.concat([lf, lf.head(20)]).explode("nums").slice(2, 10)``) panics
    (``pipe.send_state == PortState::Done``); the same source declared impure does not.
    Fresh seed 608483456 found it on 1.36. Found on 1.33 to 1.42. It panics in about 19 runs
    of 20 (1.33): asked five times, the probe misses it about once in three million."""
    lf = plugin_scan(pl.DataFrame({"id": range(300), "nums": [[i, i + 1] for i in range(300)]}), frames=5)
    query = pl.concat([lf, lf.head(20)]).explode("nums").slice(2, 10)
    return any(_fails(lambda: query.collect(engine="streaming").height == 10) for _ in range(5))


@functools.cache
def streaming_top_k_after_a_filter_panics() -> bool:
    """A streaming top_k of a filter over a pure IO source of many small frames
    (``lf.filter(pl.col("x") < 0.9).top_k(100, by=["b", "id"])``) panics (``invalid SlotMap
    key used``, in the top_k node's prune); 200 frames of the same rows do not. Fresh seed
    992780445 found it on 1.34. Found on 1.32 to 1.36, in 19 or 20 runs of 20: asked five
    times."""
    rng = random.Random(0)
    n = 4_000
    frame = pl.DataFrame(
        {"b": [rng.random() < 0.5 for _ in range(n)], "id": range(n), "x": [rng.random() for _ in range(n)]}
    )
    query = plugin_scan(frame, frames=64).filter(pl.col("x") < 0.9).top_k(100, by=["b", "id"])
    return any(_fails(lambda: query.collect(engine="streaming").height == 100) for _ in range(5))


@functools.cache
def collect_all_of_a_row_index_misorders() -> bool:
    """``pl.collect_all`` of a pure IO source's row index and select, beside another query
    of the source, gives the columns in another order: ``with_row_index("i").select("c",
    "i", "a")`` comes as i, c, a (1.41) or a, i, c (1.42's streaming engine). Fresh seed
    897107931 found it on 1.42 as a panic, with a with_columns above the source. Found on
    1.41 and 1.42."""
    lf = plugin_scan(pl.DataFrame({"a": [1], "b": [2], "c": [3]}))
    query = lf.with_row_index("i").select("c", "i", "a")
    return any(
        _fails(lambda e=engine: pl.collect_all([query, lf.select(pl.len())], engine=e)[0].columns == ["c", "i", "a"])
        for engine in ("in-memory", "streaming")
    )


#: A pure IO source (scan_avro's interface over a frame in memory) of many batches, with a
#: row index and a head, joined with itself.
_INDEXED_HEAD_SELF_JOIN = """
import polars as pl
from polars_avro._polars.probes import frame_scan
lf = frame_scan(pl.DataFrame({"id": range(3000), "k": [i % 10 for i in range(3000)]}), frames=50)
query = lf.with_row_index("ri0").head(100).join(lf.select("k"), on="k", how="anti")
assert query.collect(engine="streaming").height == 0
print("finished", flush=True)
"""


@functools.cache
def pure_self_join_of_an_indexed_head_hangs() -> bool:
    """A pure IO source of many batches with a row index and a head, joined with itself,
    never finishes in the streaming engine (a LazyFrame of a DataFrame of a million rows
    neither; Polars' own scans do). A query that hangs cannot be stopped: the probe runs in a
    child process, given 15 s (it takes under one). Fresh seed 843933743 found it on 1.41
    (``lf.with_row_index('ri0').head(100).join(lf.filter(...).select(['k']), how='anti')``,
    batches of 64). Found on 1.39 to 1.41."""
    try:
        # Away from the checkout, whose polars_avro folder would shadow the installed package.
        child = subprocess.run(
            [sys.executable, "-c", _INDEXED_HEAD_SELF_JOIN],
            capture_output=True,
            text=True,
            timeout=15,
            cwd=tempfile.gettempdir(),
        )
    except subprocess.TimeoutExpired:
        return True
    # What the child printed, not its exit status: Polars 1.31 and 1.32 sometimes abort as a
    # process that ran a streaming query exits (status 134, nothing printed).
    assert "finished" in child.stdout, f"the probe's child process failed ({child.returncode}):\n{child.stderr}"
    return False


#: The frame of pure_self_join_after_explode_panics' query.
EXPLODED_JOIN = pl.DataFrame(
    {
        "id": range(3000),
        "k": [i % 10 for i in range(3000)],
        "b": [None if i % 7 == 0 else i % 2 == 0 for i in range(3000)],
        "nums": [[1, 2][: i % 3] for i in range(3000)],
        "f": [i / 3 for i in range(3000)],
    }
)


def self_join_after_explode(lf: pl.LazyFrame) -> pl.DataFrame:
    """A scan of EXPLODED_JOIN joined with itself after an explode, grouped with a count."""
    right = lf.filter(pl.col("id") % 3 == 0).select("k", "f").unique("k", keep="first", maintain_order=True)
    grouped = lf.explode("nums").join(right, on="k").group_by("b").agg(pl.len(), pl.col("id").count())
    return grouped.collect(engine="streaming").sort("b")


@functools.cache
def streaming_keep_first_wrong() -> bool:
    """The streaming engine's ``unique(keep="first")`` keeps another row of a group than
    the first after an ``explode`` (20,000 rows), and from one run to the next over scans of
    several batches, whatever the source. Found on 1.30 to 1.32."""
    rng = random.Random(1)
    rows = 20_000
    df = pl.DataFrame(
        {
            "id": range(rows),
            "f": [float(rng.randrange(-50, 50)) / 4 for _ in range(rows)],
            "d": [rng.randrange(800) for _ in range(rows)],
            "tags": [[rng.choice("abcde") for _ in range(rng.randrange(4))] for _ in range(rows)],
        }
    )
    query = df.lazy().explode("tags").unique(["f", "d"], keep="first").select("f", "d", "id").sort("f", "d")
    expected = query.collect(engine="in-memory")
    return any(_fails(lambda: query.collect(engine="streaming").equals(expected)) for _ in range(2))
