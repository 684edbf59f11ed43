"""A seeded generator of the lazy queries Polars users write, as Python text.

Each query is the text of an expression over the LazyFrames ``lf`` and ``other`` (two scans)
and ``pl``, so that a failure prints a query anyone can paste and run. The generator walks
the query's schema as it grows (asking Polars for it), so every step names columns that
exist, in types its expressions accept, and keeps track of whether the rows' order, and so
the content of a slice, is defined: a step whose result Polars leaves undefined (a head
after an unordered group_by, a top_k over ties) is never generated.

The grammar (one step at a time, 1 to 5 steps, then a way to run it):

- projections: ``select`` of any subset in any order, ``pl.len()``, ``drop``;
- filters: comparisons, ``is_between``, ``is_in``, null checks, string (``starts_with``,
  ``contains``, ``len_chars``), list (``len``, ``contains``, ``first``), struct fields, temporal
  parts (``dt.year`` ...), enum symbols, ``&``/``|``/``~`` of those, literals alone;
- slices: ``head``, ``tail``, ``slice`` (negative offsets too), ``sort`` (+ ``head``),
  ``top_k``, ``bottom_k``;
- shapes: ``unique``, ``group_by(...).agg(...)``, ``with_row_index``, ``drop_nulls``,
  ``explode``, ``unnest``, ``cache()``;
- two scans: joins (inner, left, semi, anti; with a scan of the same files or of others,
  sorted, filtered or sliced), ``pl.concat``;
- ways to run it: ``collect`` in each engine, ``collect_schema``, ``explain``, ``sink_parquet``,
  ``sink_ipc``, ``pl.collect_all`` of two queries sharing the scan, ``pl.SQLContext``.
"""

from __future__ import annotations

import copy
import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import polars_quirks as quirks

#: The kinds of run a query ends with (see the module's docstring).
RUNS = ["collect", "collect", "collect", "collect", "sink_parquet", "sink_ipc", "collect_all", "schema"]


@dataclass
class Query:
    """A query's text and what its result's comparison may rely on."""

    text: str
    #: Whether the result's row order is defined (else results compare as bags of rows).
    ordered: bool
    #: How it is run: one of RUNS, or "sql" (then ``text`` is a statement over ``t``).
    run: str = "collect"
    #: Columns of the result holding the paths of the files (normalized before comparing).
    path_columns: list[str] = field(default_factory=list)


@dataclass
class _State:
    """What the generator knows of the query built so far."""

    text: str
    ordered: bool = True
    #: Columns whose values are distinct in every row (sort and top_k keys end with one).
    unique: set[str] = field(default_factory=set)


#: Polars' bugs some steps avoid are found by probing the running Polars (polars_quirks):
#: the suite runs on every release. Where Polars' own answer to a query changes from one run
#: to the next whatever the source, the suite finds it by running scan_ipc's again
#: (test_differential's ``_check``); where a source's batches make the difference, a probe.
#:
#: A filter on a list column keeps the wrong rows of a frame of several chunks, one of them
#: sliced, whatever the source: beside a row index of one chunk, a streaming `tail`'s batches,
#: and from one run to the next the lists a streaming `unique` gives. Fresh seed 51967353
#: (1.36) found 34 rows for scan_ipc's 36 after a unique (an in-memory frame of the same
#: 3,000 rows gives 24 to 38 rows for 34), fresh seed 536985666 (1.38 to 1.44) 19 for 15
#: after a tail (test_differential's regression tests), fresh seed 303204421 (1.30) 2 for 0
#: with a `cache()` after the filter, batches of 64.
LIST_FILTERS_WRONG = quirks.list_filter_over_sliced_chunks_wrong()


class QueryGenerator:
    """Random queries over two scans, ``lf`` and ``other``, of the same schema.

    ``lf`` and ``other`` are Polars' own scans of the same data (the oracle's): the
    generator asks them for schemas and draws literals from ``sample``, a frame of the
    data, so that filters select some rows and not all. ``unique`` names the columns
    unique in the scans (the record id, a row index).
    """

    def __init__(
        self, rng: random.Random, lf: pl.LazyFrame, other: pl.LazyFrame, sample: pl.DataFrame, unique: set[str]
    ) -> None:
        self.rng = rng
        self.env = {"pl": pl, "lf": lf, "other": other, "dt": dt}
        self.sample = sample
        self.scan_unique = unique

    # ----------------------------------------------------------------- queries

    def query(self) -> Query:
        rng = self.rng
        if rng.random() < 0.04:
            return self._sql()
        state = _State("lf", unique=set(self.scan_unique))
        for _ in range(rng.randint(1, 5)):
            step = rng.choice(self._steps(state))
            before = copy.deepcopy(state)
            step(state)
            try:
                self._schema(state)
            except (pl.exceptions.PolarsError, TypeError):
                # A step this Polars refuses here (a name the query already made, a list
                # of literals it cannot build): not taken.
                state = before
        run = rng.choice(RUNS)
        if run == "collect_all" and (
            _reads_twice_after_explode_panics(state.text)
            or _misordered_twice(state.text)
            or _slice_sees_the_other_reads_filter(state.text)
        ):
            run = "collect"
        return Query(state.text, state.ordered, run=run)

    def _schema(self, state: _State) -> pl.Schema:
        lf = eval(state.text, self.env)  # noqa: S307 - the generator's own text
        return lf.collect_schema()

    def _steps(self, state: _State) -> list[Any]:
        steps: list[Any] = [self._filter, self._filter, self._filter, self._select, self._drop_nulls, self._cache]
        steps += [self._unique, self._group_by, self._join, self._concat, self._len, self._explode, self._unnest]
        if state.ordered:
            steps += [self._head, self._tail, self._slice, self._with_row_index, self._sort_head, self._sort_head]
        steps += [self._sort, self._top_k, self._top_k]
        return steps

    # ----------------------------------------------------------------- steps

    def _filter(self, state: _State) -> None:
        schema = self._schema(state)
        if LIST_FILTERS_WRONG:
            # Scans of batches meet it wherever Polars filters their frames joined (after a
            # slice, a unique, a row index, or a filter before a `cache()`); scan_ipc's one
            # chunk does not (see LIST_FILTERS_WRONG).
            schema = pl.Schema({c: d for c, d in schema.items() if not isinstance(d, pl.List)})
        state.text += f".filter({self.predicate(schema)})"

    def _select(self, state: _State) -> None:
        names = list(self._schema(state))
        chosen = self.rng.sample(names, self.rng.randint(1, len(names)))
        state.text += f".select({', '.join(repr(c) for c in chosen)})"
        state.unique &= set(chosen)

    def _drop_nulls(self, state: _State) -> None:
        names = list(self._schema(state))
        subset = self.rng.sample(names, self.rng.randint(1, min(3, len(names))))
        state.text += f".drop_nulls({subset!r})"

    def _cache(self, state: _State) -> None:
        if "join(" in state.text or "concat(" in state.text:
            # Polars 2.1 panics optimizing a cache() over a self-join, whatever the scan
            # (`lf.join(lf, on=...).cache()` of a plain LazyFrame too).
            return
        if quirks.cached_slice_sliced_wrong() and _sliced(state.text):
            # Some releases hand an IO source the later slice of `head(3).cache().head(10)`
            # in place of the earlier one (10 rows, where there are 3), a pure-Python one too
            # (test_differential's test_a_slice_cached_then_sliced_again_as_polars_gives_it);
            # scan_ipc gives 3.
            return
        state.text += ".cache()"

    def _head(self, state: _State) -> None:
        if _slices_a_sorted_slice(state.text) or _slices_a_concat(state.text):
            return
        state.text += f".head({self._count()})"

    def _tail(self, state: _State) -> None:
        if _slices_a_sorted_slice(state.text) or _slices_a_concat(state.text):
            return
        if quirks.tail_past_the_end_short():
            # The streaming engine gives too few rows for a tail longer than an IO source's
            # data, whatever the source (`register_io_source` of a generator of 3 frames of
            # 1,000 rows: `tail(5000)` gives 2,000).
            return
        if _tails_a_group_by(state.text):
            return
        state.text += f".tail({self._count()})"

    def _slice(self, state: _State) -> None:
        if _slices_a_sorted_slice(state.text) or _slices_a_concat(state.text):
            return
        rng = self.rng
        offset = rng.choice([0, rng.randint(1, 2_000), -rng.randint(1, 2_000)])
        if (
            quirks.negative_slice_after_filter_wrong()
            or quirks.streaming_negative_slice_of_a_filter_wrong()
            or _tails_a_group_by(state.text)
        ):
            # A negative offset counts from the end, as a tail does, and some releases get it
            # wrong after a filter: for any IO source (fresh seed 834476332, Polars 1.30: 108
            # rows for 277), or in the streaming engine for any source of many batches
            # (fresh seed 858892418, 1.36: 9 rows for 3), or after a group_by.
            offset = abs(offset)
        length = rng.choice([None, self._count()])
        state.text += f".slice({offset}, {length})"

    def _with_row_index(self, state: _State) -> None:
        if quirks.scan_row_index_dropped() and len(self.scan_unique) > 1:
            # Some releases drop a scan's own row index under a with_row_index, whatever the
            # scan (`scan_parquet(p, row_index_name="ri").with_row_index("ri0")` has no "ri").
            return
        name = self._fresh(state, "ri")
        offset = self.rng.choice([0, 0, 7, 1_000_000])
        state.text += f".with_row_index({name!r}, offset={offset})"
        state.unique.add(name)

    def _sort_keys(self, state: _State, schema: pl.Schema, *, need_unique: bool) -> list[str] | None:
        """Sort keys: one to three sortable columns, ending with a unique one when needed."""
        sortable = [c for c, d in schema.items() if _sortable(d)]
        unique = [c for c in sortable if c in state.unique]
        if not sortable or (need_unique and not unique):
            return None
        keys = self.rng.sample(sortable, self.rng.randint(1, min(2, len(sortable))))
        if unique and not set(keys) & set(unique):
            keys.append(self.rng.choice(unique))
        if need_unique and not set(keys) & set(unique):
            return None
        return keys

    def _sort(self, state: _State) -> None:
        schema = self._schema(state)
        keys = self._sort_keys(state, schema, need_unique=not state.ordered)
        if keys is None:
            return
        descending = [self.rng.random() < 0.5 for _ in keys]
        nulls_last = self.rng.random() < 0.5
        # A stable sort keeps a defined order among ties.
        state.text += f".sort({keys!r}, descending={descending!r}, nulls_last={nulls_last}, maintain_order=True)"
        state.ordered = True

    def _sort_head(self, state: _State) -> None:
        if _top_k_after_a_filter_panics(state.text):
            # A sort then a head, a tail or a slice is a top_k in the streaming engine.
            return
        self._sort(state)
        if state.ordered:
            self.rng.choice([self._head, self._tail, self._slice])(state)

    def _top_k(self, state: _State) -> None:
        if quirks.empty_slice_then_sort_head_wrong() and _sliced(state.text):
            # The streaming engine panics (`pipe.send_state == PortState::Done`) or gives rows
            # for a top_k after a slice that leaves no row, over any IO plugin, a pure-Python
            # one too (test_differential's test_an_empty_slice_then_a_sort_head_as_polars_gives_it);
            # scan_ipc gives none. Polars 2 hands ours the slice, as it does scan_ipc.
            return
        if _top_k_after_a_filter_panics(state.text):
            return
        schema = self._schema(state)
        # Ties make top_k's choice of rows undefined: its keys end with a unique column.
        keys = self._sort_keys(state, schema, need_unique=True)
        if keys is None:
            return
        kind = self.rng.choice(["top_k", "bottom_k"])
        reverse = [self.rng.random() < 0.5 for _ in keys]
        state.text += f".{kind}({self._count()}, by={keys!r}, reverse={reverse!r})"
        state.ordered = False

    def _unique(self, state: _State) -> None:
        names = list(self._schema(state))
        schema = self._schema(state)
        hashable = [c for c in names if _sortable(schema[c]) or schema[c] == pl.Boolean]
        if not hashable:
            return
        subset = self.rng.sample(hashable, self.rng.randint(1, min(2, len(hashable))))
        if state.ordered and not quirks.streaming_keep_first_wrong():
            # Which row of a group is kept is defined for first/last of ordered rows only.
            keep = self.rng.choice(["first", "last"])
            maintain = self.rng.random() < 0.5
            state.text += f".unique({subset!r}, keep={keep!r}, maintain_order={maintain})"
            state.ordered = maintain
            if len(subset) == 1:
                state.unique.add(subset[0])
        else:
            # Any row of each group: only the subset's values are defined.
            state.text += f".unique({subset!r}).select({subset!r})"
            state.unique = set(subset) if len(subset) == 1 else set()
            state.ordered = False

    def _group_by(self, state: _State) -> None:
        schema = self._schema(state)
        keys = [c for c, d in schema.items() if _sortable(d) or d == pl.Boolean]
        if not keys:
            return
        key = self.rng.choice(keys)
        aggs = ["pl.len().alias('n')"]
        numeric = [c for c, d in schema.items() if d.is_numeric() and c != key]
        if numeric:
            c = self.rng.choice(numeric)
            # A float sum depends on the order it adds in, which a group_by leaves open.
            exact = ["min", "max", "n_unique", "null_count", "count"]
            agg = self.rng.choice([*exact, "sum"] if schema[c].is_integer() else exact)
            aggs.append(f"pl.col({c!r}).{agg}().alias('agg_{agg}')")
        other = [c for c in schema if c != key]
        # (Where the streaming engine's keep="first" is wrong, so is its first row of a group.)
        if other and state.ordered and not quirks.streaming_keep_first_wrong() and self.rng.random() < 0.5:
            aggs.append(f"pl.col({self.rng.choice(other)!r}).first().alias('first')")
        maintain = state.ordered and self.rng.random() < 0.5
        state.text += f".group_by({key!r}, maintain_order={maintain}).agg({', '.join(aggs)})"
        state.ordered = maintain
        state.unique = {key}

    def _join(self, state: _State) -> None:
        schema = self._schema(state)
        keys = [c for c in ("id", "k") if c in schema]
        if not keys:
            return
        if quirks.unnest_then_join_moves_fields() and ".unnest(" in state.text:
            # Some releases put a struct's unnested fields after the other columns when a join
            # follows, in their own scans and on a DataFrame; an IO source's plan (ours, or a
            # plain register_io_source) keeps them in place, as the schema Polars gives does.
            return
        key = self.rng.choice(keys)
        how = self.rng.choice(["inner", "left", "semi", "anti"])
        if any(_MAP and isinstance(dtype, _MAP) for dtype in schema.values()):
            # Polars 2.1 panics joining a Map column of several chunks, whatever the scan
            # (pl.concat of frames with a Map column, then join).
            state.text += f".drop({[c for c, d in schema.items() if isinstance(d, _MAP)]!r})"
        base = self.rng.choice(["lf", "other"])
        shape = self.rng.choice(
            ["", ".filter(pl.col('id') % 3 == 0)", ".sort('id', descending=True).head(50)", ".slice(100, 400)"]
        )
        if (
            quirks.slice_of_a_shared_scan_sees_a_later_filter()
            and base == "lf"
            and (".head(" in shape or ".slice(" in shape)
        ):
            # Polars 2.0 reads a scan and a slice of it through one cached scan, and hands it a
            # later filter that the slice then sees (test_differential's
            # test_a_self_join_on_a_slice_then_a_filter_as_polars_gives_it); 2.1 is right.
            base = "other"
        if base == "lf" and (_reads_twice_after_explode_panics(state.text) or _self_join_hangs(state.text)):
            base = "other"
        if (
            shape.startswith((".sort", ".slice"))
            and base + shape in state.text
            and quirks.same_slice_joined_twice_panics()
        ):
            # Polars 1.39 and 1.40 panic joining the same slice of a pure IO source twice.
            shape = ""
        right = base + shape
        columns = [key] if how in ("semi", "anti") else [key, *self.rng.sample(["s", "f", "tags"], 1)]
        right += f".select({columns!r})"
        if how in ("semi", "anti"):
            # Rows of the left side are kept or dropped: its order stays if asked to.
            maintain = "'left'" if state.ordered else "'none'"
            state.text += f".join({right}, on={key!r}, how={how!r}, maintain_order={maintain})"
            return
        if key == "k":
            # k repeats: a join on it would multiply rows, and joins in a row multiply again
            # (fresh seed 1003, Polars 1.31: two left joins on k of 3,000 rows asked for 36
            # million rows and the machine's memory). One right row per k keeps each join
            # at the left side's rows.
            right += ".unique('k', keep='first', maintain_order=True)"
        state.text += f".join({right}, on={key!r}, how={how!r}, maintain_order='none')"
        # Each left row meets one right row at most (the right side's ids are unique, its k
        # made so): the left side's unique columns stay unique.
        state.ordered = False

    def _concat(self, state: _State) -> None:
        schema = self._schema(state)
        base = self.rng.choice(["lf", "other"])
        if quirks.concat_with_own_slice_wrong() and base == "lf":
            # Polars 2.0 gives wrong rows for a scan concatenated with a slice of itself, a
            # plain LazyFrame in the in-memory engine too; 2.1 is right.
            return
        if base == "lf" and (
            _reads_twice_after_explode_panics(state.text)
            or _self_join_hangs(state.text)
            or quirks.streaming_slice_of_a_pure_concat_with_its_head_panics()
        ):
            base = "other"
        base_schema = self._schema(_State(base))
        if any(base_schema.get(name) != dtype for name, dtype in schema.items()):
            return
        state.text = f"pl.concat([{state.text}, {base}.select({list(schema)!r}).head({self._count()})])"
        state.unique = set()

    def _len(self, state: _State) -> None:
        state.text += ".select(pl.len())"
        state.unique = set()

    def _explode(self, state: _State) -> None:
        lists = [c for c, d in self._schema(state).items() if isinstance(d, pl.List)]
        if lists:
            state.text += f".explode({self.rng.choice(lists)!r})"
            state.unique = set()

    def _unnest(self, state: _State) -> None:
        schema = self._schema(state)
        structs = [c for c, d in schema.items() if isinstance(d, pl.Struct)]
        if not structs:
            return
        name = self.rng.choice(structs)
        fields = {f.name for f in schema[name].fields}  # type: ignore[union-attr]
        if fields & (set(schema) - {name}):
            return
        state.text += f".unnest({name!r})"

    # ----------------------------------------------------------------- predicates

    def predicate(self, schema: pl.Schema, depth: int = 0) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.03:
            return rng.choice(["pl.lit(True)", "pl.lit(False)", "pl.lit(None, dtype=pl.Boolean)"])
        if depth < 2 and roll < 0.25:
            left, right = self.predicate(schema, depth + 1), self.predicate(schema, depth + 1)
            return f"({left}) {rng.choice(['&', '|'])} ({right})"
        if depth < 2 and roll < 0.3:
            return f"~({self.predicate(schema, depth + 1)})"
        usable = [c for c, d in schema.items() if _predicates(d)]
        if not usable:
            return "pl.lit(True)"
        name = rng.choice(usable)
        return self._column_predicate(name, schema[name])

    def _column_predicate(self, name: str, dtype: pl.DataType) -> str:
        return self._expr_predicate(f"pl.col({name!r})", pl.col(name), dtype)

    def _expr_predicate(self, col: str, expr: pl.Expr, dtype: pl.DataType) -> str:
        """A predicate on the expression `expr`, written `col`, of type `dtype`."""
        rng = self.rng
        if rng.random() < 0.1:
            return f"{col}.{rng.choice(['is_null', 'is_not_null'])}()"
        if isinstance(dtype, pl.List):
            inner = dtype.inner
            kind = rng.choice(["len", "first", "contains"] if _literal_ok(inner) else ["len"])
            if kind == "len":
                return f"{col}.list.len() {rng.choice(['>', '==', '<='])} {rng.randint(0, 3)}"
            value = self._value(expr.explode(), inner)
            if value is None:
                return f"{col}.list.len() > 0"
            if kind == "first":
                return f"{col}.list.first() == {value}"
            return f"{col}.list.contains({value})"
        if isinstance(dtype, pl.Struct):
            fields = [f for f in dtype.fields if _predicates(f.dtype) and not isinstance(f.dtype, pl.Struct)]
            if not fields:
                return f"{col}.is_not_null()"
            f = rng.choice(fields)
            return self._expr_predicate(f"{col}.struct.field({f.name!r})", expr.struct.field(f.name), f.dtype)
        value = self._value(expr, dtype)
        if value is None:
            return f"{col}.is_null()"
        if dtype == pl.Boolean:
            return rng.choice([col, f"~{col}", f"{col} == {value}"])
        if dtype == pl.String:
            kind = rng.choice(["cmp", "starts_with", "contains", "len", "in"])
            if kind == "starts_with":
                return f"{col}.str.starts_with({value}[:2])"
            if kind == "contains":
                return f"{col}.str.contains({value}[1:3], literal=True)"
            if kind == "len":
                return f"{col}.str.len_chars() {rng.choice(['>', '<'])} {rng.randint(0, 8)}"
            if kind == "in":
                return f"{col}.is_in([{value}, {self._value(expr, dtype)}])"
        if isinstance(dtype, (pl.Datetime, pl.Date)) and rng.random() < 0.3:
            part = rng.choice(["year", "month", "day"])
            return f"{col}.dt.{part}() {rng.choice(['==', '>', '<='])} {col}.dt.{part}().min() + 1"
        if isinstance(dtype, pl.Enum):
            return rng.choice([f"{col} == {value}", f"{col}.is_in([{value}])"])
        if dtype == pl.Binary:
            return rng.choice([f"{col} == {value}", f"{col} != {value}"])
        if rng.random() < 0.15:
            high = self._value(expr, dtype)
            return f"{col}.is_between({value}, {high})"
        if rng.random() < 0.1 and dtype.is_numeric():
            return f"{col}.is_in([{value}, {self._value(expr, dtype)}])"
        return f"{col} {rng.choice(['==', '!=', '<', '<=', '>', '>='])} {value}"

    def _value(self, expr: pl.Expr, dtype: pl.DataType) -> str | None:
        """A literal of a value the data holds (None when it holds none, or the sample
        lacks the column: one the query made)."""
        try:
            values = self.sample.select(expr.drop_nulls()).to_series()
        except (pl.exceptions.ColumnNotFoundError, pl.exceptions.StructFieldNotFoundError):
            return None
        if values.is_empty() or values.dtype != dtype:
            # A column the query changed (an exploded list): the sample does not hold it.
            return None
        value = values[self.rng.randrange(len(values))]
        return _literal(value, dtype)

    def _count(self) -> int:
        return self.rng.choice([0, 1, 3, 10, 100, 1_000, 1_500, 5_000])

    @staticmethod
    def _fresh(state: _State, stem: str) -> str:
        n = 0
        while f"{stem}{n}" in state.text:
            n += 1
        return f"{stem}{n}"

    # ----------------------------------------------------------------- SQL

    def _sql(self) -> Query:
        rng = self.rng
        value = self._value(pl.col("k"), pl.Int32) or "0"
        statements = [
            f"SELECT id, s, k FROM t WHERE k > {value} ORDER BY id LIMIT {self._count()}",
            f"SELECT id, f FROM t WHERE s LIKE 'a%' OR k = {value} ORDER BY f DESC, id LIMIT 20",
            "SELECT COUNT(*) AS n FROM t",
            f"SELECT k, COUNT(*) AS n, SUM(id) AS total FROM t WHERE k <> {value} GROUP BY k ORDER BY k",
            "SELECT DISTINCT e FROM t ORDER BY e",
            f"SELECT * FROM t WHERE id IN (SELECT id FROM t WHERE k = {value}) ORDER BY id",
        ]
        # WHERE ... ORDER BY ... LIMIT is a top_k of a filter.
        text = rng.choice([t for t in statements if not (" LIMIT " in t and _top_k_after_a_filter_panics(t))])
        return Query(text, ordered="ORDER BY" in text or "COUNT(*) AS n FROM" in text, run="sql")


#: Polars 2's Map, which the generator leaves out of keys and predicates.
_MAP = getattr(pl, "Map", ())


def _top_k_after_a_filter_panics(text: str) -> bool:
    """Whether a top_k (or a sort then a head, a tail or a slice) after this query's filter
    may panic: Polars 1.32 to 1.36's streaming top_k of a filter over an IO source's many small
    batches panics (`invalid SlotMap key used`; fresh seeds 992780445 on 1.34 and 524805630 on
    1.33 after a drop_nulls, which the source filters by, and 605593344 on 1.35 in SQL, `WHERE k
    > 5 ORDER BY id LIMIT 100` over batches of 64; a pure-Python IO source yielding the same
    batches panics too): test_differential's test_a_top_k_after_a_filter_as_polars_gives_it.
    """
    filtered = any(s in text for s in (".filter(", ".drop_nulls(", " WHERE "))
    return filtered and quirks.streaming_top_k_after_a_filter_panics()


def _reads_twice_after_explode_panics(text: str) -> bool:
    """Whether reading the scan twice in one query (a self-join, a concat, ``pl.collect_all``
    with another query of it) after this one's ``explode`` may panic.

    Polars 1.41 and 1.42 panic (``index out of bounds``, ``Option::unwrap()``) grouping with a
    count the rows of a pure IO source read twice after an explode, in the streaming engine
    (test_differential's test_a_self_join_after_an_explode_then_a_group_by; fresh seed
    185124157 on 1.41 with ``pl.collect_all``).
    """
    return quirks.pure_self_join_after_explode_panics() and ".explode(" in text


def _self_join_hangs(text: str) -> bool:
    """Whether joining the scan with itself after this query's row index and slice may never
    finish: Polars 1.39 to 1.41's streaming engine hangs so for a pure IO source of many
    batches (``pure_self_join_of_an_indexed_head_hangs``; fresh seed 843933743 on 1.41)."""
    return "with_row_index(" in text and _sliced(text) and quirks.pure_self_join_of_an_indexed_head_hangs()


def _misordered_twice(text: str) -> bool:
    """Whether ``pl.collect_all`` of this query beside another of the scan may give its
    columns in another order: Polars 1.41 and 1.42 do so after a row index
    (``collect_all_of_a_row_index_misorders``; fresh seed 897107931 on 1.42)."""
    return "with_row_index(" in text and quirks.collect_all_of_a_row_index_misorders()


def _slice_sees_the_other_reads_filter(text: str) -> bool:
    """Whether ``pl.collect_all`` of this query beside another of the scan may slice the
    filtered rows: Polars 2.0 reads both through one cached scan and hands it this query's
    later filter, which its slice (a head, a top_k) then takes, for Polars' scans as for an
    IO source of pure Python (``slice_of_a_shared_scan_sees_a_later_filter``; fresh seed
    936458146 on 2.0, test_differential's
    test_collect_all_of_a_top_k_then_a_filter_as_polars_gives_it)."""
    slices = _sliced(text) or "top_k(" in text or "bottom_k(" in text
    return slices and quirks.slice_of_a_shared_scan_sees_a_later_filter()


def _sliced(text: str) -> bool:
    """Whether a query slices its rows (a slice may leave none)."""
    return any(step in text for step in (".head(", ".tail(", ".slice("))


def _tails_a_group_by(text: str) -> bool:
    """Whether a tail, or a slice from a negative offset, now would take the end of a
    group_by where the in-memory engine gives no row for one longer than the groups, whatever
    the source (``tail_of_a_group_by_past_its_groups_wrong``; a group_by of scan_ipc's path
    column, fresh seed 186462024 on 1.36)."""
    return ".group_by(" in text and quirks.tail_of_a_group_by_past_its_groups_wrong()


def _slices_a_concat(text: str) -> bool:
    """Whether slicing the query now would slice a concat where the streaming engine gets
    that wrong for every source (``streaming_slice_of_concat_wrong``)."""
    return "concat(" in text and quirks.streaming_slice_of_concat_wrong()


def _slices_a_sorted_slice(text: str) -> bool:
    """Whether slicing the query now would slice a sort of a slice, where Polars gets it wrong.

    After a slice that leaves no row, a sort then a head panics in the streaming engine of
    some releases, as a top_k does (see ``_top_k``), for a slice that stays above the scan; an
    IO plugin, as scans are on Polars 1, is not handed its offset. Polars 2 hands it to ours
    (test_differential's test_an_empty_slice_then_a_sort_head_...).
    """
    sort = text.rfind(".sort(")
    return quirks.empty_slice_then_sort_head_wrong() and sort > 0 and _sliced(text[:sort])


def _sortable(dtype: pl.DataType) -> bool:
    nested = (pl.List, pl.Struct, pl.Array, pl.Object, *((_MAP,) if _MAP else ()))
    return not isinstance(dtype, nested) and dtype not in (pl.Null, pl.Binary)


def _predicates(dtype: pl.DataType) -> bool:
    """Whether the generator writes predicates for a dtype."""
    if _MAP and isinstance(dtype, _MAP):
        return False
    if isinstance(dtype, pl.List):
        return not isinstance(dtype.inner, pl.Struct)
    if isinstance(dtype, pl.Struct):
        return any(_predicates(f.dtype) for f in dtype.fields)
    return dtype != pl.Null and not isinstance(dtype, pl.Array)


def _literal_ok(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype == pl.String


def _literal(value: Any, dtype: pl.DataType) -> str:
    """Python text of a Polars literal of `value` in `dtype` (``dt`` is the datetime module)."""
    return _literal_text(value, dtype).replace("datetime.", "dt.")


def _literal_text(value: Any, dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Decimal):
        return f"pl.lit({str(value)!r}).cast(pl.Decimal({dtype.precision}, {dtype.scale}))"
    if isinstance(dtype, pl.Datetime):
        # The value's wall time in the column's zone, as Polars takes a zoned literal.
        naive = value.replace(tzinfo=None)
        zone = f", time_zone={dtype.time_zone!r}" if dtype.time_zone else ""
        return f"pl.lit({naive!r}, dtype=pl.Datetime({dtype.time_unit!r}{zone}))"
    if dtype == pl.Float32:
        return f"pl.lit({value!r}, dtype=pl.Float32)"
    if dtype == pl.Float64 and value != value:
        return "float('nan')"
    return repr(value)
