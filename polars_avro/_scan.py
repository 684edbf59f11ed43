"""The scan behind every read: its files' plan (partitions, schemas, columns) and the batches it reads.

The Polars engine, read_avro, AvroReader and read_split all read through :class:`Scan`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl

from polars_avro import _internal
from polars_avro._callsite import CallSite
from polars_avro._options import ScanOptions
from polars_avro._polars.features import max_index, without_columns
from polars_avro._polars.interface import rows_kept, with_decimals_widened
from polars_avro._skipped import SkippedBlock, warn
from polars_avro._sources import AvroSource, named
from polars_avro._stats import progress_listeners, record_skipped_block, report_progress
from polars_avro._stats import record as record_stats
from polars_avro.exceptions import (
    AvroCapacityError,
    AvroInternalError,
)


def _ignore_stats(read_stats: dict[str, Any]) -> None:
    """Hears of a finished read and does nothing (read_stats() counts it anyway)."""


@dataclass(frozen=True)
class ReadRequest:
    """What one read asks of a planned scan, handed over as one value.

    Rust's ``python::pyscan::ReadRequest`` takes these attributes by name. The defaults
    are the reader's: every column, every row, the reader's batch size.
    """

    #: The columns to read (None: every one of the scan).
    columns: list[str] | None = None
    #: Whether the columns come in the order given, else in the scan's (Polars' order).
    as_given: bool = False
    #: Records to read at most, counted before the predicate; the options' ``n_rows`` caps
    #: them too.
    records: int | None = None
    #: Rows to hand out at most, counted after the predicate.
    limit: int | None = None
    skip_rows: int = 0
    #: The query engine's rows per batch, where the user gave none (the Rust rule
    #: ``read::Sizes`` decides).
    engine_batch_size: int | None = None
    #: Polars' filters in its JSON form, all to hold: the reader takes them apart.
    filters: list[str] = field(default_factory=list)
    #: The columns the filters with no JSON form read, which the caller evaluates (None: no
    #: such filter); the reader reads them too.
    unread_columns: list[str] | None = None
    #: Whether Polars filters the batches again: else the reader reads the columns of the
    #: part it does not evaluate too, and hands that part back.
    filtered_again: bool = False
    #: What evaluates a filter (by its place among them) the reader cannot on the files' values.
    files_kept: Callable[[int, pl.Series | None, int], pl.Series | None] | None = None


class Scan:
    """A planned scan (the handle Rust gave), and the batches it reads.

    ``on_stats`` hears of what planning read and of every finished read (besides the
    ``read_stats()`` collectors) and ``on_skipped`` of every block ``ignore_errors`` left out: by default
    nobody, and a warning; AvroReader keeps both itself. A split's scan is planned where the
    splits were (:meth:`of_split`).
    """

    def __init__(
        self,
        source: AvroSource,
        options: ScanOptions,
        *,
        on_stats: Callable[[dict[str, Any]], None] = _ignore_stats,
        on_skipped: Callable[[SkippedBlock], None] = warn,
    ) -> None:
        if on_skipped is warn:
            # A lazy scan's batches may be read on Polars' threads, away from the user's code.
            on_skipped = functools.partial(warn, site=CallSite.of_caller())
        remote = options.remote(source)
        # Listing, partition values, headers and the plan: one call into Rust.
        with remote.naming_profile():
            planned, planning = _internal.plan_sources(
                named(source, glob=options.glob, remote=remote),
                options,
                storage_options=remote.storage_options,
                retries=remote.retries,
                reader_schema=options.reader_schema_json,
            )
        # The headers read and requests made while planning, counted as a read's are.
        planning_stats = dict(planning)
        record_stats(planning_stats)
        on_stats(planning_stats)
        self._hold(planned, on_stats, on_skipped)

    @classmethod
    def of_split(cls, planned: _internal.PlannedScan) -> Scan:
        """The scan of a split, planned with its files' parts (``_internal.split_scan``)."""
        scan = cls.__new__(cls)
        scan._hold(planned, _ignore_stats, warn)
        return scan

    def _hold(
        self,
        planned: _internal.PlannedScan,
        on_stats: Callable[[dict[str, Any]], None],
        on_skipped: Callable[[SkippedBlock], None],
    ) -> None:
        self.planned = planned
        self.plan = planned.plan
        self.schema = self.plan.schema
        #: The scan's name in a query plan: its first source, and how many others follow.
        self.label = planned.label
        self.on_stats = on_stats
        self.on_skipped = on_skipped

    def batches(
        self,
        with_columns: list[str] | None,
        predicates: Sequence[pl.Expr],
        limit: int | None,
        batch_size: int | None,
        *,
        records: int | None = None,
        skip: int = 0,
        join: int = 1,
        as_given: bool = False,
        filtered_again: bool = False,
    ) -> Iterator[pl.DataFrame]:
        """Batches of the columns `with_columns` whose rows pass every one of `predicates`, `limit` rows at most.

        `records` caps the records read before the predicates (as ``n_rows`` does), of which
        the first `skip` are left out (a slice's offset; only without predicates). The
        columns come in schema order, the order Polars expects from a source, or with
        `as_given` in the order of `with_columns`. The Rust reader reads every file, decides
        which to open, where to stop and in what order the columns come; their partition
        values and paths come with the batches. Up to `join` batches come as one frame (an
        eager read wants them all at once).

        The predicates (none of them dynamic) cross into Rust once, in Polars' JSON form,
        and are taken apart there: files ruled out by their partition values and paths, rows
        filtered as they are decoded (the other columns decoded only for the rows that
        pass). With `filtered_again` (Polars filters the batches again) that is all. Else,
        where the reader leaves a part of them, every predicate as given is evaluated here on
        each batch, on this thread (Polars' IO plugins run sources on Polars' own pool, whose
        threads an expression evaluated elsewhere could wait on forever): the predicates
        Polars gave, not the reader's JSON of a part, which Polars does not read back as it
        was.
        """
        sent: list[pl.Expr] = []
        filters: list[str] = []
        unread: list[pl.Expr] = []
        for predicate in predicates:
            text = _serialized(predicate)
            if text is not None:
                sent.append(predicate)
                filters.append(text)
            elif not filtered_again:
                unread.append(predicate)  # a Python function in it: Polars' alone, whole
        request = ReadRequest(
            columns=with_columns,
            as_given=as_given,
            records=records,
            limit=limit,
            skip_rows=skip,
            engine_batch_size=batch_size,
            filters=filters,
            unread_columns=[c for p in unread for c in p.meta.root_names()] if unread else None,
            filtered_again=filtered_again,
            files_kept=lambda filter, values, height: _files_kept(sent[filter], values, height),
        )
        reader = _internal.ScanReader(self.planned, request)
        left = list(predicates) if reader.filters_left else unread
        rest = _Rest.of(self, left, with_columns, as_given=as_given, limit=limit, filtered_again=filtered_again)
        # Frames of no column (counts) are only heights, added up by the caller: their sum
        # must fit in one Polars frame.
        height, most = 0, max_index() if with_columns == [] else None
        casts: dict[Any, pl.DataType] | None = None
        # What runs for every batch is written out here, no function of the package called
        # on a batch that needs nothing more than to be handed on.
        try:
            while (batch := reader.next_batch(join)) is not None:
                columns, batch_height, skipped = batch
                if skipped:
                    self._report_skipped(skipped)
                if progress_listeners:
                    report_progress(reader.stats)
                if columns is None:
                    df = without_columns(batch_height)
                    height += batch_height
                    if most is not None and height > most:
                        msg = f"'{self.label}' holds more than {most:,} records, the most rows a Polars frame can hold"
                        raise AvroCapacityError(msg)
                else:
                    df = columns.struct.unnest()
                    if casts is None:
                        casts = self._casts(df)
                    if casts:
                        df = df.cast(casts)
                if rest is not None:
                    kept = rest.applied(df)
                    if kept is None:
                        break
                    if not kept.height:
                        continue  # as the reader leaves out batches its filter empties
                    df = kept
                yield df
        finally:
            # Also when the consumer stops early (a head, an error downstream).
            stats, skipped = reader.finish()
            stats["batches_filtered_in_python"] += rest.batches if rest is not None else 0
            record_stats(stats)
            self.on_stats(stats)
            self._report_skipped(skipped)

    def frames(
        self,
        names: list[str],
        predicate: pl.Expr | None = None,
        limit: int | None = None,
        batch_size: int | None = None,
        *,
        join: int = 1,
        at_least_one: bool = True,
    ) -> Iterator[pl.DataFrame]:
        """Batches of the columns `names` in that order, as users ask for them.

        With `at_least_one`, a read of no row gives one empty frame of those columns (a
        read's result, a split's part); without, none (an iteration, as Polars' batched
        readers).
        """
        empty = True
        predicates = [predicate] if predicate is not None else []
        batches = self.batches(names, predicates, limit, batch_size, join=join, as_given=True)
        try:
            for df in batches:
                empty = False
                # A select is a query of its own (about 0.2 ms): only for a name asked for twice.
                yield df if df.columns == names else df.select(names)
        finally:
            batches.close()  # type: ignore[attr-defined]
        if empty and at_least_one:
            yield pl.DataFrame(schema=self.schema).select(names)

    def _casts(self, df: pl.DataFrame) -> dict[Any, pl.DataType]:
        """The casts that bring a batch from Rust to the scan's types (see ``ScanPlan.changing``).

        Every batch of the same columns crosses alike: a read finds them on its first.
        """
        present = set(df.columns)
        return {
            name: self.schema[name]
            for name in self.plan.changing
            if name in present and df.get_column(name).dtype != self.schema[name]
        }

    def _report_skipped(self, reports: list[dict[str, Any]]) -> None:
        for report in reports:
            skipped = SkippedBlock.from_reader(report)
            record_skipped_block(skipped.records)
            self.on_skipped(skipped)


_T = TypeVar("_T")


@dataclass
class _Rest:
    """The part of a read's filters the reader hands back, evaluated on each batch here.

    With the read's ``limit`` (rows after the filters), which the reader then leaves to it,
    and the columns asked for, of which it reads those the part needs too.
    """

    predicate: pl.Expr
    order: list[str] | None
    limit: int | None
    #: The batches it filtered.
    batches: int = 0

    @classmethod
    def of(
        cls,
        scan: Scan,
        left: list[pl.Expr],
        wanted: list[str] | None,
        *,
        as_given: bool,
        limit: int | None,
        filtered_again: bool,
    ) -> _Rest | None:
        """What `scan`'s read has left to evaluate here: the predicates `left`.

        Where Polars filters again, nothing: they are only checked then.
        """
        if not left:
            return None
        predicate = functools.reduce(operator.and_, left)
        # Where the reader's part keeps no row, Polars never sees this one: one Polars refuses
        # (types it does not compare) is refused here, as Polars' readers refuse it. Evaluated
        # whole: Polars' simplification drops `x` from `x & false` in one order of the parts
        # and not in the other, and its optimizer orders them differently from run to run.
        empty = pl.DataFrame(schema=scan.schema)
        whole = pl.QueryOptFlags.none()
        try:
            filtering(
                predicate,
                lambda: with_decimals_widened(
                    empty, lambda df: df.lazy().filter(predicate).collect(optimizations=whole)
                ),
            )
        except pl.exceptions.PolarsError as refused:
            # The user's own filter, refused by Polars: raised as Polars raised it, without the
            # frames of this check under it, which would make it look like a bug of ours.
            raise refused.with_traceback(None) from None
        if filtered_again:
            return None
        order = None if wanted is None else wanted if as_given else [c for c in scan.schema if c in set(wanted)]
        return cls(predicate, order, limit)

    def applied(self, df: pl.DataFrame) -> pl.DataFrame | None:
        """`df`'s rows that pass, in the columns asked for; None once the limit is reached."""
        if self.limit == 0:
            return None
        self.batches += 1
        df = filtering(self.predicate, functools.partial(rows_kept, df, self.predicate))
        if self.order is not None and df.columns != self.order:
            df = df.select(self.order)
        if self.limit is not None:
            df = df.head(self.limit)
            self.limit -= df.height
        return df


def _files_kept(predicate: pl.Expr, values: pl.Series | None, height: int) -> pl.Series | None:
    """The files a read's predicate keeps, by the user's Polars.

    The predicate reads only what each file's rows share, its partition values and path, of
    which `values` holds a row per file (the fields of a struct; None: no column). None where
    Polars cannot tell: it is then evaluated on the rows.
    """
    try:
        files = values.struct.unnest() if values is not None else without_columns(height)
        kept = files.select(predicate.fill_null(False)).to_series()
    except Exception:  # noqa: BLE001 - whatever Polars cannot evaluate so, it evaluates on the rows
        return None
    return kept if kept.dtype == pl.Boolean and kept.len() == height else None


def _serialized(expr: pl.Expr) -> str | None:
    """An expression in Polars' JSON form, None where it has none (a Python function in it)."""
    try:
        return expr.meta.serialize(format="json")
    except Exception:  # noqa: BLE001 - whatever keeps it from JSON leaves it to Polars
        return None


def filtering(predicate: pl.Expr, step: Callable[[], _T]) -> _T:
    """`step`'s result, a panic of Polars in it raised as an error naming `predicate`.

    A filter of the user's query that the reader evaluates can meet a Polars bug; its
    PanicException is a BaseException, which ``except Exception`` misses, raised from the
    reader's threads with a Rust backtrace and no word of the query. The filter is written
    out only then: not for every batch.
    """
    try:
        return step()
    except pl.exceptions.PanicException as e:
        msg = f"Polars panicked evaluating the filter {predicate}, a part of the query handed to scan_avro: {e}"
        raise AvroInternalError(msg) from e
