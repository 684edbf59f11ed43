"""Every query shape against Polars' own reader: random lazy queries (tests/queries.py) over
scan_avro and over scan_ipc of the same data, in both engines, compared value for value.

The data is written by fastavro (every type family the reader maps, nulls, several blocks
per file, a hive-partitioned folder of three files) and checked against fastavro's own
records once; the IPC files hold the same frames. Each seed draws the scans' options (row
index near the index type's maximum, file paths, batch sizes) and a few hundred queries.
A fixed set of seeds runs every time, plus a fresh one, printed when it fails:
``POLARS_AVRO_DIFF_SEED=<seed> pytest tests/test_differential.py -k fresh`` runs it again,
and ``python tests/test_differential.py --seeds N`` runs N fresh seeds and lists every
failure. Each failure found is kept as a plain regression test in tests/test_query_shapes.py.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import os
import random
import sys
import tempfile
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_avro

sys.path.insert(0, str(Path(__file__).parent))

import polars_quirks as quirks  # noqa: E402
from helpers import assert_file_matches_fastavro, max_index  # noqa: E402
from queries import LIST_FILTERS_WRONG, Query, QueryGenerator  # noqa: E402

#: Seeds run every time (the first POLARS_AVRO_DIFF_SEEDS of them: `nox -s releases` runs a
#: few on each release); more queries per seed with POLARS_AVRO_DIFF_QUERIES.
SEEDS = [1, 2, 3, 4, 5, 6, 7, 8][: int(os.environ.get("POLARS_AVRO_DIFF_SEEDS", "8"))]
QUERIES = int(os.environ.get("POLARS_AVRO_DIFF_QUERIES", "250"))
ROWS = 3_000

SCHEMA = {
    "type": "record",
    "name": "Row",
    "namespace": "diff",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "k", "type": ["null", "int"]},
        {"name": "f", "type": ["null", "double"]},
        {"name": "f32", "type": "float"},
        {"name": "s", "type": ["null", "string"]},
        {"name": "b", "type": ["null", "boolean"]},
        {"name": "bin", "type": "bytes"},
        {"name": "d", "type": ["null", {"type": "int", "logicalType": "date"}]},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "lts", "type": ["null", {"type": "long", "logicalType": "local-timestamp-millis"}]},
        {"name": "t", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "dec", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}]},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["red", "green", "blue"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "nums", "type": ["null", {"type": "array", "items": ["null", "long"]}]},
        {
            "name": "rec",
            "type": {
                "type": "record",
                "name": "Inner",
                "fields": [{"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"]}],
            },
        },
        {"name": "m", "type": {"type": "map", "values": "long"}},
        {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
    ],
}
_WORDS = ["alpha", "beta", "gamma", "delta", "", "épsilon", "zeta", "a", "ab", "abc"]
_EPOCH = dt.datetime(2020, 1, 1)


def _record(i: int, rng: random.Random) -> dict[str, Any]:
    """Record `i`: every column has repeats and nulls (where nullable) for filters to find."""
    maybe = rng.random() < 0.9
    return {
        "id": i,
        "k": None if i % 17 == 0 else rng.randrange(10),
        "f": None if i % 13 == 0 else (float("nan") if i % 97 == 0 else round(rng.uniform(-100, 100), 3)),
        "f32": float(rng.randrange(-50, 50)) / 4,
        "s": None if i % 11 == 0 else rng.choice(_WORDS) + str(rng.randrange(5)),
        "b": None if i % 7 == 0 else rng.random() < 0.5,
        "bin": bytes([i % 5, i % 3]),
        "d": None if i % 19 == 0 else dt.date(2020, 1, 1) + dt.timedelta(days=rng.randrange(800)),
        "ts": (_EPOCH + dt.timedelta(seconds=rng.randrange(10**8), microseconds=i)).replace(tzinfo=dt.timezone.utc),
        "lts": None if i % 23 == 0 else _EPOCH + dt.timedelta(milliseconds=rng.randrange(10**10)),
        "t": dt.time(rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6)),
        "dec": None if i % 29 == 0 else decimal.Decimal(rng.randrange(-(10**6), 10**6)) / 100,
        "e": rng.choice(["red", "green", "blue"]),
        "tags": [rng.choice(_WORDS) for _ in range(rng.randrange(4))],
        "nums": [None if rng.random() < 0.1 else rng.randrange(100) for _ in range(rng.randrange(3))]
        if maybe
        else None,
        "rec": {"x": rng.randrange(20), "y": None if i % 5 == 0 else rng.choice(_WORDS)},
        "m": {rng.choice(_WORDS): rng.randrange(9) for _ in range(rng.randrange(3))},
        "u": str(uuid.UUID(int=rng.getrandbits(128))),
    }


@dataclass(frozen=True)
class Data:
    """The Avro and IPC copies of both datasets, and a frame of the data for literals."""

    root: Path
    avro_file: str
    ipc_file: str
    avro_folder: str
    ipc_folder: str
    sample: pl.DataFrame

    def normalize(self, df: pl.DataFrame) -> pl.DataFrame:
        """An IPC result with its file paths named as the Avro files (the same names in
        the other root)."""
        ipc_root, avro_root = str(self.root / "ipc"), str(self.root / "avro")
        strings = [c for c, d in df.schema.items() if d == pl.String]
        return df.with_columns(pl.col(c).str.replace(ipc_root, avro_root, literal=True) for c in strings)

    def for_ipc(self, text: str) -> str:
        """A query's text with the Avro files' paths (in literals) named as the IPC files."""
        return text.replace(str(self.root / "avro"), str(self.root / "ipc"))


def write_data(root: Path) -> Data:
    """Both datasets, as Avro (fastavro) and as IPC (the frames read from the Avro files,
    checked against fastavro's records first)."""
    rng = random.Random(39)
    records = [_record(i, rng) for i in range(ROWS + ROWS // 2)]
    avro_file = root / "avro" / "one.avro"
    avro_file.parent.mkdir(parents=True)
    with avro_file.open("wb") as f:
        # Small blocks: a batch spans blocks, and a slice or a head ends inside one.
        fastavro.writer(f, SCHEMA, records[:ROWS], codec="deflate", sync_interval=3_000)
    folder_parts = {"a": records[ROWS // 2 : ROWS], "b": records[ROWS : ROWS + ROWS // 4], "c": records[-ROWS // 4 :]}
    for part, rows in folder_parts.items():
        path = root / "avro" / "folder" / f"part={part}" / "0.avro"
        path.parent.mkdir(parents=True)
        with path.open("wb") as f:
            fastavro.writer(f, SCHEMA, rows, codec="null" if part == "b" else "snappy", sync_interval=5_000)
    # The IPC copies carry the same file names in another root (scan_ipc minds no suffix).
    for avro_path in sorted((root / "avro").rglob("*.avro")):
        df = polars_avro.read_avro(avro_path, hive_partitioning=False)
        assert_file_matches_fastavro(avro_path, df)
        ipc_path = root / "ipc" / avro_path.relative_to(root / "avro")
        ipc_path.parent.mkdir(parents=True, exist_ok=True)
        df.write_ipc(ipc_path)
    sample = pl.read_ipc(root / "ipc" / "one.avro")
    return Data(
        root,
        str(avro_file),
        str(root / "ipc" / "one.avro"),
        str(root / "avro" / "folder"),
        str(root / "ipc" / "folder"),
        sample,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return write_data(tmp_path_factory.mktemp("differential"))


@dataclass(frozen=True)
class Scans:
    """The options both scans of a seed take, and the scans made with them."""

    options: dict[str, Any]
    folder_options: dict[str, Any]
    batch_size: int | None

    @classmethod
    def draw(cls, rng: random.Random) -> Scans:
        options: dict[str, Any] = {}
        if rng.random() < 0.5:
            # Offsets up to the largest Polars allows: offset + rows must fit the index type.
            offset = rng.choice([0, 5, max_index() - ROWS, max_index() - ROWS - 1000])
            options.update(row_index_name="ri", row_index_offset=offset)
        if rng.random() < 0.4:
            options["include_file_paths"] = "path"
        folder_options: dict[str, Any] = {"hive_partitioning": True}
        if rng.random() < 0.3:
            folder_options["include_file_paths"] = "path"
        return cls(options, folder_options, rng.choice([None, None, 64, 1_000]))

    def avro(self, data: Data) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        return (
            pl.scan_avro(data.avro_file, batch_size=self.batch_size, **self.options),  # type: ignore[attr-defined]
            pl.scan_avro(data.avro_folder, batch_size=self.batch_size, **self.folder_options),  # type: ignore[attr-defined]
        )

    def ipc(self, data: Data) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        return pl.scan_ipc(data.ipc_file, **self.options), pl.scan_ipc(data.ipc_folder, **self.folder_options)

    def describe(self) -> str:
        return f"scan options {self.options}, folder {self.folder_options}, batch_size={self.batch_size}"


@dataclass
class Failure:
    seed: int
    index: int
    engine: str
    query: Query
    scans: Scans
    problem: str

    def __str__(self) -> str:
        return (
            f"seed {self.seed}, query {self.index}, engine {self.engine}, run {self.query.run}\n"
            f"  {self.scans.describe()}\n  query: {self.query.text}\n  {self.problem}"
        )


def _run(query: Query, text: str, lf: pl.LazyFrame, other: pl.LazyFrame, engine: str, out: Path) -> Any:
    """The query's result, as it is run (a frame, or a schema); ``text`` is the query's
    text with the paths of the files scanned."""
    env = {"pl": pl, "lf": lf, "other": other, "dt": dt, "decimal": decimal}
    if query.run == "sql":
        return pl.SQLContext(t=lf).execute(text).collect(engine=engine)  # type: ignore[call-overload]
    q: pl.LazyFrame = eval(text, env)  # noqa: S307 - the generator's own text
    if query.run == "schema":
        q.explain()
        return dict(q.collect_schema())
    if query.run == "sink_parquet":
        q.sink_parquet(out / "out.parquet")
        return pl.read_parquet(out / "out.parquet")
    if query.run == "sink_ipc":
        q.sink_ipc(out / "out.arrow")
        # Not memory-mapped: the next query writes the same file.
        return pl.read_ipc(out / "out.arrow", memory_map=False)
    if query.run == "collect_all":
        # Two queries sharing the scan: Polars may read it once for both.
        first, second = pl.collect_all([q, lf.select(pl.len())], engine=engine)  # type: ignore[call-overload]
        return pl.concat([first.select(pl.len()), second]) if first.width else second
    return q.collect(engine=engine)  # type: ignore[call-overload]


def _compare(ours: Any, theirs: Any, ordered: bool) -> str | None:
    """What differs between two results, or None."""
    if isinstance(ours, dict):
        return None if ours == theirs else f"schema {ours} != scan_ipc's {theirs}"
    if ours.schema != theirs.schema:
        return f"schema {ours.schema} != scan_ipc's {theirs.schema}"
    if ordered:
        try:
            assert_frame_equal(ours, theirs, check_exact=True)
        except AssertionError as e:
            return f"values differ from scan_ipc's: {_short(e)}\nours:\n{ours}\nscan_ipc:\n{theirs}"
        return None
    try:
        assert_frame_equal(_in_hash_order(ours), _in_hash_order(theirs), check_exact=True)
    except AssertionError as e:
        return f"rows differ from scan_ipc's (any order): {_short(e)}\nours:\n{ours}\nscan_ipc:\n{theirs}"
    return None


def _short(error: AssertionError) -> str:
    """An assertion's message, its lists of every value cut short (whole columns at times)."""
    text = str(error)
    return text if len(text) <= 800 else text[:800] + " ..."


def _in_hash_order(df: pl.DataFrame) -> pl.DataFrame:
    """The rows ordered by their hash, so that two bags of the same rows compare equal.

    Equal rows hash alike, so a bag's order is one: sorting the rows' Python values instead
    took 97% of the suite's time. Distinct rows of equal hashes (never seen) would only
    fail a comparison, never pass one.
    """
    if not df.width:
        return df
    try:
        hashes = df.hash_rows(seed=7)
    except pl.exceptions.InvalidOperationError:
        # Polars 1.30 hashes no list: nested columns are hashed as their JSON text.
        nested = [c for c, d in df.schema.items() if d.is_nested()]
        hashes = df.with_columns(pl.struct(pl.col(c)).struct.json_encode() for c in nested).hash_rows(seed=7)
    order = pl.DataFrame({"hash": hashes}).with_row_index("row").sort("hash", "row")
    return df[order.get_column("row")]


def run_seed(data: Data, seed: int, n_queries: int = QUERIES) -> list[Failure]:
    """Every failure of a seed's queries, in both engines."""
    rng = random.Random(seed)
    scans = Scans.draw(rng)
    avro, ipc = scans.avro(data), scans.ipc(data)
    unique = {"id"} | ({"ri"} if "row_index_name" in scans.options else set())
    # The first scan's rows as a query sees them (row index, the Avro file's path), for literals.
    generator = QueryGenerator(rng, *ipc, data.normalize(ipc[0].collect()), unique)
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for index in range(n_queries):
            query = generator.query()
            engines = ["in-memory", "streaming"] if query.run not in ("sink_parquet", "sink_ipc") else ["streaming"]
            for engine in engines:
                problem = _check(query, avro, ipc, engine, out, data)
                if problem is not None:
                    failures.append(Failure(seed, index, engine, query, scans, problem))
    return failures


def _check(
    query: Query,
    avro: tuple[pl.LazyFrame, pl.LazyFrame],
    ipc: tuple[pl.LazyFrame, pl.LazyFrame],
    engine: str,
    out: Path,
    data: Data,
) -> str | None:
    try:
        theirs = _run(query, data.for_ipc(query.text), *ipc, engine, out)
    except BaseException as e:  # a PanicException is a BaseException
        if isinstance(e, KeyboardInterrupt):
            raise
        # A query Polars' own reader refuses, or Polars fails on, says nothing of ours.
        return None
    if isinstance(theirs, pl.DataFrame):
        theirs = data.normalize(theirs)
    try:
        ours = _run(query, query.text, *avro, engine, out)
    except BaseException as e:  # a PanicException is a BaseException
        if isinstance(e, KeyboardInterrupt):
            raise
        return f"raised where scan_ipc did not: {type(e).__name__}: {e}\n{traceback.format_exc(limit=3)}"
    problem = _compare(ours, theirs, query.ordered)
    if problem is not None and _varies(query, theirs, ipc, engine, out, data):
        # Polars' own answer changes from one run to the next: the query's answer is not
        # defined on this release (a streaming unique(keep="first") on 1.30 to 1.32).
        return None
    return problem


def _varies(
    query: Query, theirs: Any, ipc: tuple[pl.LazyFrame, pl.LazyFrame], engine: str, out: Path, data: Data
) -> bool:
    """Whether scan_ipc gives another answer to the query when run again (twice at most)."""
    for _ in range(2):
        again = _run(query, data.for_ipc(query.text), *ipc, engine, out)
        if _compare(again if isinstance(again, dict) else data.normalize(again), theirs, query.ordered) is not None:
            return True
    return False


def _report(failures: list[Failure], limit: int = 5) -> str:
    shown = "\n\n".join(str(f) for f in failures[:limit])
    more = f"\n\n... and {len(failures) - limit} more" if len(failures) > limit else ""
    return f"{len(failures)} queries differ from scan_ipc:\n\n{shown}{more}"


@pytest.mark.parametrize("seed", SEEDS)
def test_queries_match_polars_reader(data: Data, seed: int) -> None:
    failures = run_seed(data, seed)
    assert not failures, _report(failures)


def test_queries_match_polars_reader_fresh_seed(data: Data) -> None:
    """A seed never run before (or POLARS_AVRO_DIFF_SEED's), printed when it fails."""
    seed = int(os.environ.get("POLARS_AVRO_DIFF_SEED", random.SystemRandom().randrange(10**9)))
    failures = run_seed(data, seed)
    assert not failures, f"fresh seed {seed} (POLARS_AVRO_DIFF_SEED={seed} runs it again)\n" + _report(failures)


#: Polars' ways of taking a query's first rows by a sort, which it runs with a bound the
#: sort tightens as it goes (a dynamic predicate).
SORT_HEADS = {
    "top_k": lambda lf: lf.top_k(10, by=["s", "id"]),
    "sort then head": lambda lf: lf.sort(["s", "id"]).head(10),
}


@pytest.mark.parametrize("shape", list(SORT_HEADS))
def test_an_empty_slice_then_a_sort_head_as_polars_gives_it(tmp_path: Path, shape: str) -> None:
    """Fresh seeds 297079978 (Polars 1.36) and 12202016 (1.44) found a top_k after a slice
    that leaves no row (`lf.head(100).slice(365, 1000).top_k(10, ...)`) panicking in the
    streaming engine; fresh seed 850088852 (1.44) found a sort then a head doing the same
    (`lf.head(3).slice(1526, None).sort(...).head(100)`). An IO source of pure Python does the
    same where scan_ipc gives none (polars_quirks.empty_slice_then_sort_head_wrong): the bug is
    Polars', for a slice left above the scan (a Parquet scan under a `cum_sum` panics too), and
    the generator leaves both out after a slice there. A slice that keeps rows gives scan_ipc's
    answer; where Polars gets it right (it hands file readers the slice), so does the empty one."""
    df = pl.DataFrame({"s": ["delta1", "alpha", "delta2"] * 1000, "id": range(3000)})
    polars_avro.write_avro(df, tmp_path / "a.avro")
    df.write_ipc(tmp_path / "a.arrow")

    def query(lf: pl.LazyFrame, offset: int) -> pl.DataFrame:
        return SORT_HEADS[shape](lf.head(100).slice(offset, 1000)).collect(engine="streaming")

    assert query(pl.scan_ipc(tmp_path / "a.arrow"), 365).height == 0
    for offset in (5,) if quirks.empty_slice_then_sort_head_wrong() else (5, 365):
        expected = query(pl.scan_ipc(tmp_path / "a.arrow"), offset)
        assert_frame_equal(query(pl.scan_avro(tmp_path / "a.avro"), offset), expected)  # type: ignore[attr-defined]


def test_a_slice_cached_then_sliced_again_as_polars_gives_it(tmp_path: Path) -> None:
    """Fresh seed 779221968 (Polars 1.44) found `lf.head(3).cache().head(10)` giving 10 rows.
    Some releases hand any IO source the later slice in place of the earlier one
    (polars_quirks.cached_slice_sliced_wrong): a pure-Python one is asked for 10 rows too,
    where scan_ipc gives 3. The bug is Polars', and the generator leaves a cache after a
    slice out there. Without the cache, and on other releases, ours gives scan_ipc's answer;
    on those, the pure-Python source's."""
    df = pl.DataFrame({"a": range(1000)})
    polars_avro.write_avro(df, tmp_path / "a.avro")
    df.write_ipc(tmp_path / "a.arrow")

    def query(lf: pl.LazyFrame, cache: bool) -> pl.DataFrame:
        first = lf.head(3)
        return (first.cache() if cache else first).head(10).collect()

    expected = query(pl.scan_ipc(tmp_path / "a.arrow"), cache=True)
    assert expected.height == 3
    ours = pl.scan_avro(tmp_path / "a.avro")  # type: ignore[attr-defined]
    if quirks.cached_slice_sliced_wrong():
        expected = query(quirks.plugin_scan(df), cache=True)
    assert_frame_equal(query(ours, cache=True), expected)
    assert_frame_equal(query(ours, cache=False), expected.head(3))


def test_a_self_join_on_a_slice_then_a_filter_as_polars_gives_it(tmp_path: Path) -> None:
    """Fresh seed 554272565 (Polars 2.0) found a scan joined with a slice of itself, then
    filtered, giving the right side's rows from the slice of the filtered scan. Polars 2.0
    reads the two sides through one cached scan and hands it the filter, whose rows the slice
    then takes: a reader of pure Python on Polars' file reader interface gives the same wrong
    rows (polars_quirks.slice_of_a_shared_scan_sees_a_later_filter), where scan_ipc is right. The
    bug is Polars', and the generator joins a scan only with slices of the other one there.
    Elsewhere ours gives scan_ipc's answer; there, the pure-Python reader's."""
    df = pl.DataFrame({"id": range(3000), "k": [i * 7 % 10 for i in range(3000)], "s": [f"s{i}" for i in range(3000)]})
    polars_avro.write_avro(df, tmp_path / "a.avro")
    df.write_ipc(tmp_path / "a.arrow")

    def query(lf: pl.LazyFrame) -> list[tuple[Any, ...]]:
        right = lf.slice(100, 400).select(["k", "s"]).unique("k", keep="first", maintain_order=True)
        joined = lf.join(right, on="k", how="inner", maintain_order="none").filter(pl.col("k") > 4)
        return sorted(joined.collect().rows())

    expected = query(pl.scan_ipc(tmp_path / "a.arrow"))
    assert {row[3] for row in expected} == {"s101", "s104", "s105", "s107", "s108"}, "the slice's first of each k"
    if quirks.slice_of_a_shared_scan_sees_a_later_filter():
        expected = query(quirks.plugin_scan(df))
    assert query(pl.scan_avro(tmp_path / "a.avro")) == expected  # type: ignore[attr-defined]


def test_collect_all_of_a_top_k_then_a_filter_as_polars_gives_it(tmp_path: Path) -> None:
    """Fresh seed 936458146 (Polars 2.0) found `pl.collect_all([lf.cache().top_k(1500,
    by=[...two keys]).filter(...), lf.select(pl.len())])` giving 278 rows where scan_ipc's
    streaming engine gives 144: 2.0 hands the scan both queries read a filter that the top_k
    then sees, for an IO source of pure Python too
    (polars_quirks.slice_of_a_shared_scan_sees_a_later_filter), and for a DataFrame and
    scan_ipc in the in-memory engine. The bug is Polars', and the generator runs such a query
    alone there. Elsewhere ours gives the query's answer; there, the pure-Python source's."""
    df = pl.DataFrame({"id": range(3000), "k": [i * 7 % 10 for i in range(3000)], "g": [i % 3 for i in range(3000)]})
    polars_avro.write_avro(df, tmp_path / "a.avro")
    df.write_ipc(tmp_path / "a.arrow")

    def filtered(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.cache().top_k(1500, by=["g", "id"]).filter(pl.col("k") == 5)

    def query(lf: pl.LazyFrame, engine: str) -> pl.DataFrame:
        both = pl.collect_all([filtered(lf), lf.select(pl.len())], engine=engine)  # type: ignore[call-overload]
        return both[0].sort("id")

    alone = filtered(df.lazy()).collect().sort("id")
    assert alone.height == 150, "the top 1500 (g, id), one in 10 of k 5"
    for engine in ("in-memory", "streaming"):
        expected = alone
        if quirks.slice_of_a_shared_scan_sees_a_later_filter():
            expected = query(quirks.plugin_scan(df), engine)
        else:
            assert_frame_equal(query(pl.scan_ipc(tmp_path / "a.arrow"), engine), expected)
        assert_frame_equal(query(pl.scan_avro(tmp_path / "a.avro"), engine), expected)  # type: ignore[attr-defined]


def test_a_self_join_after_an_explode_then_a_group_by(tmp_path: Path) -> None:
    """The suite on Polars 1.41 found `lf.explode('nums').join(lf.filter(...)...).group_by(...)`
    panicking in the streaming engine (`index out of bounds`): 1.41 and 1.42 panic so for a
    pure IO source joined with itself, a pure-Python one too, and not for one declared impure
    (polars_quirks.pure_self_join_after_explode_panics). Scans are declared pure where Polars
    offers it (it keeps 1.35 to 1.43 from giving a slice of a concat of slices twice the rows,
    silently): a panic beats a wrong answer. Elsewhere ours gives scan_ipc's answer."""
    polars_avro.write_avro(quirks.EXPLODED_JOIN, tmp_path / "a.avro")
    quirks.EXPLODED_JOIN.write_ipc(tmp_path / "a.arrow")
    query = quirks.self_join_after_explode

    ours = pl.scan_avro(tmp_path / "a.avro", batch_size=1000)  # type: ignore[attr-defined]
    if quirks.pure_self_join_after_explode_panics():
        with pytest.raises(BaseException, match="unwrap|index out of bounds"):
            query(ours)
        return
    assert_frame_equal(query(ours), query(pl.scan_ipc(tmp_path / "a.arrow")))


def test_a_self_join_of_an_indexed_head_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 843933743 (Polars 1.41) found `lf.with_row_index('ri0').head(100).join(lf
    .filter(pl.col('id') % 3 == 0).select(['k']), on='k', how='anti')` with batches of 64
    never finishing in the streaming engine. Polars 1.39 to 1.41 hang so for any pure IO source
    of many batches, and for a LazyFrame of a large DataFrame
    (polars_quirks.pure_self_join_of_an_indexed_head_hangs); a hang cannot be stopped, so
    the query runs where Polars finishes it, and there gives scan_ipc's answer."""

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        right = lf.filter(pl.col("id") % 3 == 0).select(["k"])
        return lf.with_row_index("ri0").head(100).join(right, on="k", how="anti", maintain_order="left")

    ours = pl.scan_avro(data.avro_file, batch_size=64)  # type: ignore[attr-defined]
    engines = ["in-memory"] if quirks.pure_self_join_of_an_indexed_head_hangs() else ["in-memory", "streaming"]
    for engine in engines:
        expected = query(pl.scan_ipc(data.ipc_file)).collect(engine=engine)  # type: ignore[call-overload]
        assert_frame_equal(query(ours).collect(engine=engine), expected, check_exact=True)  # type: ignore[call-overload]


def test_joins_of_slices_around_a_drop_nulls_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 288722674 (Polars 1.42) found `lf.join(other.slice(100, 400)...).drop_nulls(
    ['e']).join(other.slice(100, 400)...)` panicking (`entered unreachable code`, in Polars'
    slice pushdown) in both engines: 1.42 panics so over a select of every column above a
    pure IO source, which the Enum cast briefly was. No cast is made over the scan there now.
    1.39 and 1.40 panic on the same slice joined twice for any pure IO source
    (polars_quirks.same_slice_joined_twice_panics)."""

    def query(lf: pl.LazyFrame, other: pl.LazyFrame) -> pl.LazyFrame:
        right = other.slice(100, 400).select(["k", "tags"]).unique("k", keep="first", maintain_order=True)
        joined = lf.join(other.slice(100, 400).select(["id", "f"]), on="id", how="inner").drop_nulls(["e"])
        return joined.join(right, on="k", how="left").sort("id")

    if quirks.same_slice_joined_twice_panics():
        # Polars 1.39 and 1.40 panic so for any pure IO source.
        return
    ours = query(
        pl.scan_avro(data.avro_file, row_index_name="ri", batch_size=1000),  # type: ignore[attr-defined]
        pl.scan_avro(data.avro_folder, include_file_paths="path", batch_size=1000),  # type: ignore[attr-defined]
    )
    theirs = query(
        pl.scan_ipc(data.ipc_file, row_index_name="ri"), pl.scan_ipc(data.ipc_folder, include_file_paths="path")
    )
    for engine in ("in-memory", "streaming"):
        expected = theirs.collect(engine=engine)  # type: ignore[call-overload]
        assert_frame_equal(ours.collect(engine=engine), expected, check_exact=True)  # type: ignore[call-overload]


def test_a_slice_of_a_scan_concatenated_with_its_head_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 608483456 (Polars 1.36) found `pl.concat([lf, lf.select(...).head(1500)])
    .explode('nums').slice(235, 1000)` panicking in the streaming engine (`pipe.send_state
    == PortState::Done`) where scan_ipc did not. Polars 1.33 to 1.42 panic so for any pure
    IO source, a few lines of Python too
    (polars_quirks.streaming_slice_of_a_pure_concat_with_its_head_panics), and scan_avro is
    pure there for the right answer to a slice of a concat in a concat (see polars_avro._polars.interface._PURE):
    the generator concatenates the other scan there."""

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return pl.concat([lf, lf.select(["id", "nums"]).head(1500)]).explode("nums").slice(235, 1000)

    ours = query(pl.scan_avro(data.avro_folder, include_file_paths="path", batch_size=64).select("id", "nums"))  # type: ignore[attr-defined]
    theirs = query(pl.scan_ipc(data.ipc_folder, include_file_paths="path").select("id", "nums"))
    engines = ["in-memory"]
    if not quirks.streaming_slice_of_a_pure_concat_with_its_head_panics():
        engines.append("streaming")
    for engine in engines:
        expected = theirs.collect(engine=engine)  # type: ignore[call-overload]
        assert_frame_equal(ours.collect(engine=engine), expected, check_exact=True)  # type: ignore[call-overload]


TOP_K_AFTER_FILTERS = {
    "filter": lambda lf: lf.filter(~(pl.col("f32") >= pl.lit(10.25, dtype=pl.Float32))).top_k(100, by=["b", "id"]),
    "drop_nulls": lambda lf: lf.drop_nulls(["d", "nums"]).bottom_k(1000, by=["id"]),
    "sort_head": lambda lf: lf.filter(pl.col("k") > 5).select("id", "s", "k").sort("id").head(100),
    "sql": lambda lf: pl.SQLContext(t=lf).execute("SELECT id, s, k FROM t WHERE k > 5 ORDER BY id LIMIT 100"),
}


@pytest.mark.parametrize("shape", list(TOP_K_AFTER_FILTERS))
def test_a_top_k_after_a_filter_as_polars_gives_it(data: Data, shape: str) -> None:
    """Fresh seed 992780445 (Polars 1.34) found `lf.filter(~(pl.col('f32') >= 10.25))
    .top_k(100, by=['b', 'id'])...` panicking in the streaming engine (`invalid SlotMap key
    used`) where scan_ipc did not; fresh seed 524805630 (1.33) found `lf.drop_nulls(['d',
    'nums']).bottom_k(1000, ...)` doing the same, the source filtering by the drop_nulls. Polars
    1.32 to 1.36 panic so for a pure IO source of many small batches, a few lines of Python
    too (polars_quirks.streaming_top_k_after_a_filter_panics); fresh seed 605593344 (1.35)
    found the same in SQL, `WHERE k > 5 ORDER BY id LIMIT 100` over the file in batches of 64,
    and a pure-Python IO source yielding the same 40 batches (13 to 31 rows) panics too. The
    generator leaves a top_k, or a sort then a head, tail or slice, after a filter or a
    drop_nulls out there. Elsewhere, and in the in-memory engine, ours gives scan_ipc's rows."""
    query = TOP_K_AFTER_FILTERS[shape]
    scans = [
        (pl.scan_avro(data.avro_file, batch_size=64), pl.scan_ipc(data.ipc_file)),  # type: ignore[attr-defined]
        (pl.scan_avro(data.avro_folder, batch_size=64), pl.scan_ipc(data.ipc_folder, hive_partitioning=True)),  # type: ignore[attr-defined]
    ]
    engines = ["in-memory"]
    if not quirks.streaming_top_k_after_a_filter_panics():
        engines.append("streaming")
    for (ours, theirs), engine in itertools.product(scans, engines):
        # id is unique: the rows in one order.
        expected = query(theirs).collect(engine=engine).sort("id")
        assert_frame_equal(query(ours).collect(engine=engine).sort("id"), expected, check_exact=True)


def test_a_negative_slice_of_a_filter_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 858892418 (Polars 1.36) found `lf.drop_nulls(['nums', 'u']).slice(1161,
    None).filter(pl.col('f') >= 68.577).slice(-68, 3)` giving 9 rows for 3 in the streaming
    engine, batches of 64. Polars 1.33 to 1.44 give too many rows so for any source of many
    batches, a pure-Python IO source and Polars' own scan_parquet of small row groups too
    (polars_quirks.streaming_negative_slice_of_a_filter_wrong): the generator takes the
    offset from the start there. Elsewhere, and in the in-memory engine, ours gives
    scan_ipc's rows."""

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.drop_nulls(["nums", "u"]).slice(1161, None).filter(pl.col("f") >= 68.577).slice(-68, 3)

    engines = ["in-memory"]
    if not quirks.streaming_negative_slice_of_a_filter_wrong():
        engines.append("streaming")
    for batch_size in (None, 64):
        ours = query(pl.scan_avro(data.avro_file, batch_size=batch_size))  # type: ignore[attr-defined]
        for engine in engines:
            expected = query(pl.scan_ipc(data.ipc_file)).collect(engine=engine)  # type: ignore[call-overload]
            assert expected.height == 3
            assert_frame_equal(ours.collect(engine=engine), expected, check_exact=True)  # type: ignore[call-overload]


def test_a_unique_then_a_list_filter_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 51967353 (Polars 1.36) found `lf.unique(['id'], keep='first').filter(
    pl.col('nums').list.contains(3))` giving 34 rows where scan_ipc gave 36, in the streaming
    engine. The ids are distinct, so the answer is the filter's alone, 34. Polars 1.30, 1.36
    and 1.44 get `list.contains` wrong on the lists a streaming `unique` gives, from one run
    to the next and over an in-memory frame too (24 to 38 rows): the bug is Polars', and the
    generator leaves list filters after a unique out on those versions. Ours gives the
    filter's answer in every engine Polars gets right."""
    keeps = pl.col("nums").list.contains(3)
    expected = pl.read_ipc(data.ipc_file).filter(keeps)
    query = pl.scan_avro(data.avro_file).unique(["id"], keep="first", maintain_order=False).filter(keeps)  # type: ignore[attr-defined]
    for engine in ["in-memory"] if LIST_FILTERS_WRONG else ["in-memory", "streaming"]:
        assert_frame_equal(query.collect(engine=engine).sort("id"), expected, check_exact=True)


def test_a_tail_then_a_list_filter_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 536985666 (Polars 1.38 and 1.44) found `lf.tail(1500).filter(pl.col('nums')
    .list.contains(23))` of the folder, batches of 1,000, giving 19 rows where scan_ipc gave
    15, in the streaming engine. Polars 1.30 to 1.44 filter a list column of a frame of
    several chunks, one sliced, wrongly: the tail of a scan of several batches makes one
    (scan_ipc reads its tail whole), and Polars' own frame of the same batches is filtered
    as wrongly. The package warns of it there; ours gives the filter's answer in every engine
    where Polars gets its own frame of the same batches right."""

    def query(lf: pl.LazyFrame) -> pl.LazyFrame:
        return lf.tail(1500).filter(pl.col("nums").list.contains(23))

    expected = query(pl.scan_ipc(data.ipc_folder)).collect()
    ours = pl.scan_avro(data.avro_folder, batch_size=1_000)  # type: ignore[attr-defined]
    batches = ours.collect()
    assert batches.n_chunks() > 1, "the scan's batches are the frame's chunks"
    right = [e for e in ("in-memory", "streaming") if query(batches.lazy()).collect(engine=e).equals(expected)]
    assert right == ["in-memory", "streaming"] or LIST_FILTERS_WRONG, "Polars is wrong where no probe found it"
    for engine in right:
        assert_frame_equal(query(ours).collect(engine=engine), expected, check_exact=True)


def test_a_row_index_then_a_select_read_twice_by_collect_all(data: Data) -> None:
    """Fresh seed 897107931 (Polars 1.42) found a panic, `index out of bounds: the len is 12
    but the index is 14`, in `collect_all` of a row index, a select and a filter of a scan with
    `include_file_paths`, and that scan's count. Polars 1.41 and 1.42 give the columns of a
    pure IO source's row index and select, read twice so, in another order
    (polars_quirks.collect_all_of_a_row_index_misorders), and with a with_columns above the
    source (the cast of Enum columns was one) panic or give a column too many: the cast is
    made now only where Polars needs it (1.30 and 1.31). Ours gives scan_ipc's answer in
    every engine where Polars keeps a pure source's columns in order."""

    def queries(lf: pl.LazyFrame) -> list[pl.LazyFrame]:
        day = pl.col("ts").dt.day()
        picked = lf.with_row_index("ri0").select("tags", "b", "k", "ts", "path", "ri0", "f", "rec", "t", "id")
        return [picked.filter(day == day.min() + 1), lf.select(pl.len())]

    theirs = pl.scan_ipc(data.ipc_file, include_file_paths="path")
    expected = pl.collect_all(queries(theirs.with_columns(pl.col("path").replace(data.ipc_file, data.avro_file))))
    ours = pl.scan_avro(data.avro_file, include_file_paths="path")  # type: ignore[attr-defined]
    engines = [] if quirks.collect_all_of_a_row_index_misorders() else ["in-memory", "streaming"]
    for engine in engines:
        got = pl.collect_all(queries(ours), engine=engine)  # type: ignore[call-overload]
        for g, e in zip(got, expected):
            assert_frame_equal(g, e, check_exact=True)
    if not engines:
        # Where Polars misorders the columns, ours has scan_ipc's rows and columns all the same.
        got = pl.collect_all(queries(ours), engine="in-memory")
        assert_frame_equal(got[0].select(expected[0].columns), expected[0], check_exact=True)


def test_a_tail_of_a_group_by_of_the_path_column_as_polars_gives_it(data: Data) -> None:
    """Fresh seed 186462024 (Polars 1.36) found scan_ipc giving no row for
    `lf.group_by('path', ...).agg(...).tail(100)` in the in-memory engine, where ours gave the
    one group. Polars 1.30 to 1.37 (their in-memory engine; to 1.32 the streaming one too) give
    none for a tail of a group_by past its groups where the
    key is a column Polars holds as one value, as its scans hold the path column, a LazyFrame
    of a DataFrame too (to 1.34 whatever the key column; polars_quirks.
    tail_of_a_group_by_past_its_groups_wrong): the bug is Polars', and the generator leaves such
    tails out there. Ours gives a pure-Python IO source's answer over the same rows there, and
    scan_ipc's everywhere else."""

    def query(lf: pl.LazyFrame, engine: str) -> pl.DataFrame:
        aggs = [pl.len().alias("n"), pl.col("f").max().alias("agg_max"), pl.col("f").first().alias("first")]
        grouped = lf.group_by("path", maintain_order=True).agg(*aggs).tail(100)
        return grouped.collect(engine=engine)  # type: ignore[call-overload]

    ours = pl.scan_avro(data.avro_file, include_file_paths="path")  # type: ignore[attr-defined]
    rows = pl.read_ipc(data.ipc_file)
    # The path column as ours holds it: a value in every row, not one value held as a scalar.
    rows = rows.with_columns(pl.Series("path", [data.avro_file] * rows.height))
    for engine in ("in-memory", "streaming"):
        if quirks.tail_of_a_group_by_past_its_groups_wrong():
            expected = query(quirks.plugin_scan(rows), engine)
        else:
            theirs = pl.scan_ipc(data.ipc_file, include_file_paths="path")
            expected = query(theirs.with_columns(pl.lit(data.avro_file).alias("path")), engine)
            assert expected.height == 1
        assert_frame_equal(query(ours, engine), expected, check_exact=True)


def test_generated_data_is_every_kind(data: Data) -> None:
    """The queries see nested and logical types, nulls, hive columns and several files."""
    folder = pl.scan_avro(data.avro_folder, hive_partitioning=True).collect()  # type: ignore[attr-defined]
    assert folder.height == ROWS
    assert folder["part"].unique().sort().to_list() == ["a", "b", "c"]
    kinds = {d.base_type() for d in folder.schema.values()}
    assert {pl.List, pl.Struct, pl.Enum, pl.Decimal, pl.Datetime, pl.Date, pl.Time} <= kinds
    assert all(folder[c].null_count() > 0 for c in ("k", "f", "s", "b", "d", "lts", "dec", "nums"))


def main() -> None:
    """``python tests/test_differential.py [--seeds N] [--queries N] [--seed S]``: fresh seeds
    (or one), every failure listed."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed", type=int, action="append")
    parser.add_argument("--queries", type=int, default=QUERIES)
    args = parser.parse_args()
    seeds = args.seed or [random.SystemRandom().randrange(10**9) for _ in range(args.seeds)]
    with tempfile.TemporaryDirectory() as tmp:
        data = write_data(Path(tmp))
        total = 0
        for seed in seeds:
            failures = run_seed(data, seed, args.queries)
            total += len(failures)
            print(f"seed {seed}: {len(failures)} failures of {args.queries} queries")
            for failure in failures:
                print(failure, "\n")
    print(f"polars {pl.__version__}: {total} failures")


if __name__ == "__main__":
    main()
