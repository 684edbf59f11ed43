"""The scan behind every read: its files' plan (partitions, schemas, columns) and the batches it reads.

The Polars engine, read_avro, AvroReader and read_split all read through :class:`Scan`.
"""

from __future__ import annotations

import functools
import io
import json
import operator
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl

from polars_avro import _internal
from polars_avro._callsite import CallSite
from polars_avro._hive import HivePartitions, conjuncts, reads_only, ruled_out
from polars_avro._options import ScanOptions
from polars_avro._skipped import SkippedBlock, warn
from polars_avro._sources import (
    AvroSource,
    RemoteOptions,
    Sources,
    expand_sources,
    is_directory,
    local_paths,
    store_url,
)
from polars_avro._stats import record as record_stats
from polars_avro._stats import record_skipped_block, report_progress
from polars_avro._types import FrameSchema, index_bits, index_type, max_index, without_columns
from polars_avro.exceptions import (
    AvroArgumentError,
    AvroCapacityError,
    AvroInternalError,
    schema_json,
)

_MASK = "__polars_avro_predicate_mask"


def _ignore_stats(read_stats: dict[str, Any]) -> None:
    """Hears of a finished read and does nothing (read_stats() counts it anyway)."""


@dataclass(frozen=True)
class ReadRequest:
    """What one read asks of the Rust reader besides its sources, handed over as one value.

    Rust's ``python::pyscan::ReadRequest`` takes these attributes by name. The defaults
    are the reader's: every column, every row, the reader's batch size and threads.
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
    #: The user's options: Rust's ``python::pyoptions::ScanOptions`` reads those the reader
    #: minds by name, so that an option passes through here unnamed.
    options: ScanOptions = field(default_factory=lambda: ScanOptions.of({}))
    #: The query engine's rows per batch, where the user gave none (the Rust rule
    #: ``read::Sizes`` decides).
    engine_batch_size: int | None = None
    #: The scan's plan (its schema, row index, partition and path columns); None: each
    #: file read with its own schema, without those columns.
    plan: _internal.ScanPlan | None = None
    #: The bits of the running Polars' index type, the row index's type (32 or 64).
    index_bits: int = 32
    #: One row per source.
    partitions: pl.DataFrame | None = None
    #: Per source: whether a filter on its partition values or path rules out all its rows.
    ruled_out: list[bool] | None = None
    #: The part of the predicate the reader evaluates itself.
    filter: _internal.ReaderFilter | None = None
    #: The rest: the columns it reads, and what gives its mask of a frame of them.
    predicate: tuple[list[str], Callable[[pl.DataFrame], pl.Series]] | None = None
    #: Per source: the part of it a split reads.
    splits: list[_internal.SplitFile] | None = None


class Scan:
    """The sources and options of one scan, and the batches it reads.

    ``on_stats`` hears of every finished read (besides the ``read_stats()``
    collectors) and ``on_skipped`` of every block ``ignore_errors`` left out: by default
    nobody, and a warning; AvroReader keeps both itself. A caller that expanded the
    sources or read the writer schemas already passes them (``expanded``,
    ``writer_schemas``). A split's scan comes with its files and plan made
    (:meth:`planned`), and reads the parts ``ranges`` names.
    """

    def __init__(
        self,
        source: AvroSource,
        options: ScanOptions,
        *,
        on_stats: Callable[[dict[str, Any]], None] = _ignore_stats,
        on_skipped: Callable[[SkippedBlock], None] = warn,
        expanded: Sources | None = None,
        writer_schemas: list[str | None] | None = None,
    ) -> None:
        self.options = options
        self.on_stats = on_stats
        if on_skipped is warn:
            # A lazy scan's batches may be read on Polars' threads, away from the user's code.
            on_skipped = functools.partial(warn, site=CallSite.of_caller())
        self.on_skipped = on_skipped
        self.ranges: list[_internal.SplitFile] | None = None
        # Checked whatever the source, as Polars checks its arguments.
        remote = RemoteOptions.of(options.storage_options, options.retries)
        hive_partitioning = options.hive_partitioning
        if hive_partitioning is None:
            # As scan_parquet: on by default for a directory.
            hive_partitioning = is_directory(source)
        given = schema_json("reader_schema", options.reader_schema) if options.reader_schema is not None else None
        planned = None
        if expanded is None and writer_schemas is None:
            planned = _plan_in_rust(source, options, hive=hive_partitioning, reader_schema=given, remote=remote)
        if planned is not None:
            items, bases, pairs, plan, described = planned
            self.sources = Sources(items, bases)
            hive = None
            if pairs is not None:
                names = [self.sources.name(item) for item in items]
                hive = HivePartitions.of_pairs(
                    pairs, names, hive_schema=options.hive_schema, try_parse_dates=options.try_parse_hive_dates
                )
            self._apply(hive, plan, described)
            return
        if expanded is None:
            expanded = expand_sources(source, glob=options.glob, hidden_file_prefix=options.hidden, remote=remote)
        self.sources = expanded
        hive = None
        if hive_partitioning:
            hive = HivePartitions.of(
                self.sources, hive_schema=options.hive_schema, try_parse_dates=options.try_parse_hive_dates
            )
        read_here = given is None and writer_schemas is None
        plan, described = _internal.plan_scan(
            [self.sources.name(item) for item in self.sources.items],
            options,
            sources=[Sources.opened(item) for item in self.sources.items] if read_here else None,
            writer_schemas=writer_schemas,
            reader_schema=given,
            partitions=list(hive.schema) if hive is not None else [],
        )
        self._apply(hive, plan, described)

    @classmethod
    def planned(
        cls,
        sources: Sources,
        options: ScanOptions,
        hive: HivePartitions | None,
        plan: _internal.ScanPlan,
        ranges: list[_internal.SplitFile],
    ) -> Scan:
        """The scan of a split, its files, partitions and plan made when splits were planned.

        ``ranges`` names the part of each file to read.
        """
        scan = cls.__new__(cls)
        scan.options, scan.on_stats, scan.on_skipped = options, _ignore_stats, warn
        scan.sources, scan.ranges = sources, ranges
        scan._apply(hive, plan, plan.described)
        return scan

    def _apply(self, hive: HivePartitions | None, plan: _internal.ScanPlan, described: _internal.Described) -> None:
        self.hive = hive
        self.plan = plan
        #: The reader schema every file is resolved into (None: each file's own), and the
        #: scan's columns in order as (name, kind).
        self.reader_schema, file_columns, self.columns = described
        self.file_schema = FrameSchema(file_columns)
        self.schema = self._output_schema()

    @property
    def label(self) -> str:
        """The scan's name in a query plan: its first source, and how many others follow."""
        items = self.sources.items
        first = self.sources.name(items[0])
        return first if len(items) == 1 else f"{first} and {len(items) - 1} more"

    def _output_schema(self) -> pl.Schema:
        """The plan's columns, in its order, with their Polars types."""
        hive = self.hive.schema if self.hive is not None else pl.Schema()
        columns = self.columns
        if not hive and len(columns) == len(self.file_schema.schema):
            return self.file_schema.schema  # the files' columns alone

        def dtype(name: str, kind: str) -> pl.DataType:
            if kind == "row_index":
                return index_type()
            if kind == "partition":
                return hive[name]
            if kind == "file_path":
                return pl.String()
            return self.file_schema.schema[name]

        # Types made here, instances all: Polars need not check them (a cost per column).
        return pl.Schema([(name, dtype(name, kind)) for name, kind in columns], check_dtypes=False)

    def batches(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        limit: int | None,
        batch_size: int | None,
        *,
        records: int | None = None,
        skip: int = 0,
        join: int = 1,
        filter_here: bool = False,
        as_given: bool = False,
    ) -> Iterator[pl.DataFrame]:
        """Batches of the columns `with_columns`, filtered by `predicate`, `limit` rows at most.

        `records` caps the records read before the predicate (as ``n_rows`` does), of which
        the first `skip` are left out (a slice's offset; only without a predicate). The
        columns come in schema order, the order Polars expects from a source, or with
        `as_given` in the order of `with_columns`. The Rust reader reads every file, decides
        which to open, where to stop and in what order the columns come; their partition
        values and paths come with the batches. Up to `join` batches come as one frame (an
        eager read wants them all at once). What stays here needs Polars: evaluating the
        predicate on the files' partition values and paths, and on batches.

        The reader's threads evaluate the predicate, so that the other columns are decoded
        only for the rows that pass; with `filter_here` the batches are filtered on this
        thread instead (every column decoded; no `limit`). Polars 1.x runs sources on its
        own thread pool and evaluating an expression needs that pool: when all its threads
        wait on reads (two scans of a join, on two cores), a predicate evaluated elsewhere
        waits forever.
        """
        if predicate is not None and not predicate.meta.root_names():
            # A predicate of no column (`pl.lit(True)`, which Polars' streaming engine hands
            # sources) holds for every record or for none.
            if not _holds(predicate):
                limit = 0
            predicate = None
        # Predicate parts that read only what a file's rows share (partition values, the
        # path) rule out whole files.
        ruled, by_file = None, self.hive is not None or self.options.include_file_paths is not None
        if predicate is not None and by_file:
            parts, values = conjuncts(predicate), self._file_values()
            ruled = ruled_out(parts, values)
            if all(reads_only(p, values.columns) for p in parts):
                # The files kept pass it whole, so a count behind it needs no block decoded.
                predicate = None
        # The parts the reader evaluates itself, on its threads; Polars evaluates the rest.
        reader_filter, predicate = self._reader_filter(predicate) if predicate is not None else (None, None)
        filter_by, filtered_here = None, 0
        if filter_here and predicate is not None:
            if limit is not None:
                raise AvroInternalError("a limit after the filter is not taken with filter_here")
            # Read besides the columns asked for: the predicate's, in the scan's order.
            filter_by, predicate = predicate, None
            wanted = list(self.schema) if with_columns is None else with_columns
            with_columns, as_given = [*wanted, *filter_by.meta.root_names()], False
            order = [c for c in self.schema if c in set(wanted)]
        request = ReadRequest(
            columns=with_columns,
            as_given=as_given,
            records=records,
            limit=limit,
            skip_rows=skip,
            options=self.options,
            engine_batch_size=batch_size,
            plan=self.plan,
            index_bits=index_bits(),
            partitions=self.hive.values if self.hive is not None and self.hive.values.width else None,
            ruled_out=ruled if ruled is not None and any(ruled) else None,
            filter=reader_filter,
            predicate=(predicate.meta.root_names(), self._mask_function(predicate)) if predicate is not None else None,
            splits=self.ranges,
        )
        reader = _internal.ScanReader([Sources.opened(item) for item in self.sources.items], request)
        # Frames of no column (counts) are only heights, added up by the caller: their sum
        # must fit in one Polars frame.
        height, most = 0, max_index() if with_columns == [] else None
        try:
            while (batch := reader.next_batch(join)) is not None:
                columns, batch_height, skipped = batch
                self._report_skipped(skipped)
                report_progress(reader.stats)
                df = self._to_schema(columns, batch_height)
                if most is not None:
                    height += df.height
                    if height > most:
                        msg = f"'{self.label}' holds more than {most:,} records, the most rows a Polars frame can hold"
                        raise AvroCapacityError(msg)
                if filter_by is not None:
                    filtered_here += 1
                    df = filtering(filter_by, functools.partial(rows_kept, df, filter_by))
                    if not df.height:
                        continue  # as the reader leaves out batches its predicate empties
                    df = (df if df.width == len(order) else df.select(order)).rechunk()
                yield df
        finally:
            # Also when the consumer stops early (a head, an error downstream).
            stats = reader.stats()
            stats["batches_filtered_in_python"] += filtered_here
            record_stats(stats)
            self.on_stats(stats)
            self._report_skipped(reader.take_skipped())

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
        batches = self.batches(names, predicate, limit, batch_size, join=join, as_given=True)
        try:
            for df in batches:
                empty = False
                # A select is a query of its own (about 0.2 ms): only for a name asked for twice.
                yield df if df.columns == names else df.select(names)
        finally:
            batches.close()  # type: ignore[attr-defined]
        if empty and at_least_one:
            yield pl.DataFrame(schema=self.schema).select(names)

    def names(self, columns: list[Any]) -> list[str]:
        """The columns a read gives for the user's `columns`, in that order.

        `columns` are names or indices into the files' and partitions' columns; the row
        index comes first and the path column last, as asked for in the options.
        """
        return self.plan.select(columns)

    def _report_skipped(self, reports: list[dict[str, Any]]) -> None:
        for report in reports:
            skipped = SkippedBlock.from_reader(report)
            record_skipped_block(skipped.records)
            self.on_skipped(skipped)

    def _file_values(self) -> pl.DataFrame:
        """The values every row of a file shares, one row per file.

        Its partition values and its path (when asked for), for ruling files out.
        """
        values = self.hive.values if self.hive is not None else without_columns(len(self.sources.items))
        if self.options.include_file_paths is not None:
            names = [self.sources.name(item) for item in self.sources.items]
            values = values.with_columns(pl.Series(self.options.include_file_paths, names, pl.String))
        return values

    def _to_schema(self, columns: pl.Series | None, height: int) -> pl.DataFrame:
        """A frame from Rust (its columns the fields of one struct Series; None: no column) in the scan's types."""
        if columns is None:
            return without_columns(height)
        return self.file_schema.apply(columns.struct.unnest(), keep=self.hive.schema if self.hive is not None else ())

    def _reader_filter(self, predicate: pl.Expr) -> tuple[_internal.ReaderFilter | None, pl.Expr | None]:
        """The part of `predicate` the reader evaluates itself, and the rest (None: nothing).

        The reader takes the conjuncts it evaluates exactly as Polars does (Rust's
        crate::filter), given in the JSON form of Polars' expressions, over the columns in
        the types it decodes them to (a scan's own, for those it takes). A conjunct that
        does not serialize (a Python function in it) stays with Polars.
        """
        if self.plan is None:
            return None, predicate  # each file read with its own schema
        parts = conjuncts(predicate)
        serialized = [_serialized(part) for part in parts]
        names = {name for part in parts for name in part.meta.root_names()}
        columns = pl.DataFrame(schema=[(name, dtype) for name, dtype in self.schema.items() if name in names])
        lists = [found for text in serialized if text for found in _list_literals(text)]
        reader_filter, taken = _internal.reader_filter([s or "" for s in serialized], columns, lists)
        rest = [part for part, text, took in zip(parts, serialized, taken) if not (took and text)]
        if not rest:
            return reader_filter, None
        remaining = functools.reduce(operator.and_, rest)
        if reader_filter is not None:
            # Where the reader's part keeps no row, Polars never sees the rest: one Polars
            # refuses (types it does not compare) is refused here, as Polars' filter would.
            filtering(remaining, lambda: with_decimals_widened(columns, lambda frame: frame.filter(remaining)))
        return reader_filter, remaining

    def _mask_function(self, predicate: pl.Expr) -> Any:
        mask_expr = predicate.alias(_MASK)

        def mask_of(batch: pl.DataFrame) -> pl.Series:
            try:
                return batch.with_columns(mask_expr).get_column(_MASK)
            except pl.exceptions.PolarsError:
                # Polars simplifies a filter's predicate (``pl.lit(True) | x`` holds,
                # whatever types x compares) and evaluates a column as written: what
                # it refuses as a column, the filter may take. Slower, so only then.
                kept = kept_indices(batch, predicate)
                return pl.repeat(False, batch.height, dtype=pl.Boolean, eager=True).scatter(kept, True)

        def evaluate(columns: pl.Series | None, height: int) -> pl.Series:
            batch = self._to_schema(columns, height)
            return filtering(predicate, lambda: with_decimals_widened(batch, mask_of))

        return evaluate


_T = TypeVar("_T")


def rows_kept(frame: pl.DataFrame, predicate: pl.Expr) -> pl.DataFrame:
    """``frame.filter(predicate)``, also where Polars refuses its decimals' precision.

    Then the rows the frame keeps with its decimals widened (see with_decimals_widened).
    """
    try:
        return frame.filter(predicate)
    except pl.exceptions.PolarsError:
        return frame[with_decimals_widened(frame, lambda f: kept_indices(f, predicate))]


def kept_indices(frame: pl.DataFrame, predicate: pl.Expr) -> pl.Series:
    """The indices of the rows ``frame.filter(predicate)`` keeps."""
    return frame.with_row_index(_MASK).filter(predicate).get_column(_MASK)


def with_decimals_widened(frame: pl.DataFrame, evaluate: Callable[[pl.DataFrame], _T]) -> _T:
    """`evaluate(frame)`; where Polars refuses it, on the frame's decimals widened to 38 digits.

    An ``is_in`` list of decimals reaches an IO source as Decimal(38, scale) on some
    releases (1.33), and Polars then refuses it for a narrower column of the same scale,
    where its own readers answer. Widened, each value is the same, and so is the answer.
    """
    try:
        return evaluate(frame)
    except pl.exceptions.PolarsError as refused:
        narrow = [
            name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal) and dtype.precision != 38
        ]
        if not narrow:
            raise
        widened = frame.with_columns(pl.col(name).cast(pl.Decimal(38, frame.schema[name].scale)) for name in narrow)  # type: ignore[attr-defined]
        try:
            return evaluate(widened)
        except pl.exceptions.PolarsError:
            raise refused from None


if TYPE_CHECKING:
    from polars_avro._sources import Item

    #: What a planning call into Rust gives: the files, the folder each was listed from,
    #: each file's partition (key, value) pairs (None without hive partitioning), the plan
    #: and its description.
    _Planned = tuple[
        list[Item],
        list[str | None],
        list[list[tuple[str, str | None]]] | None,
        _internal.ScanPlan,
        _internal.Described,
    ]


def _plan_in_rust(
    source: AvroSource, options: ScanOptions, *, hive: bool, reader_schema: str | None, remote: RemoteOptions
) -> _Planned | None:
    """Listing, partition folders, headers and the plan in one call into Rust.

    For local paths (``plan_local_scan``) and an object store's URL (``plan_remote_scan``);
    None for the sources Python expands.
    """
    paths = local_paths(source)
    if paths is not None:
        names, bases, pairs, plan, described = _internal.plan_local_scan(
            paths, options, glob=options.glob, hive=hive, reader_schema=reader_schema
        )
        return list(names), bases, pairs, plan, described
    url = store_url(source)
    if url is not None:
        files, bases, pairs, plan, described = _internal.plan_remote_scan(
            url,
            options,
            glob=options.glob,
            hive=hive,
            storage_options=remote.storage_options,
            retries=remote.retries,
            reader_schema=reader_schema,
        )
        return list(files), bases, pairs, plan, described
    return None


def _serialized(expr: pl.Expr) -> str | None:
    """An expression in Polars' JSON form, None where it has none (a Python function in it)."""
    try:
        return expr.meta.serialize(format="json")
    except Exception:  # noqa: BLE001 - whatever keeps it from JSON leaves it to Polars
        return None


def _list_literals(text: str) -> list[tuple[bytes, pl.Series]]:
    """The list literals (``is_in``'s) of an expression in Polars' JSON form.

    Each as the bytes Polars wrote for it (an Arrow IPC message, which the reader does not
    read) and its values, as Polars reads them back.
    """
    if '"List":[' not in text:
        return []
    found = []
    for node in _literal_nodes(json.loads(text)):
        scalar = node["Literal"]["Scalar"]
        written = scalar.get("value", scalar)  # 1.x: {"dtype": ..., "value": {"List": ...}}
        if not isinstance(written, dict) or not isinstance(written.get("List"), list):
            continue
        try:
            literal = pl.Expr.deserialize(io.StringIO(json.dumps(node)), format="json")
            values = pl.select(literal).to_series()[0]
        except Exception:  # noqa: BLE001 - a literal Polars does not read back stays Polars'
            continue
        if isinstance(values, pl.Series):
            found.append((bytes(written["List"]), values))
    return found


def _literal_nodes(node: Any) -> Iterator[dict[str, Any]]:
    """The scalar literals in a JSON expression, ``{"Literal": {"Scalar": ...}}``."""
    if isinstance(node, dict):
        literal = node.get("Literal")
        if isinstance(literal, dict) and isinstance(literal.get("Scalar"), dict):
            yield node  # a value, holding no expression
            return
        for value in node.values():
            yield from _literal_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _literal_nodes(value)


def _holds(predicate: pl.Expr) -> bool:
    """Whether a predicate of no column keeps the rows (a null keeps none, as in a filter)."""
    values = pl.select(predicate).to_series()
    if len(values) != 1 or values.dtype != pl.Boolean:
        msg = f"a filter of no column must give one boolean, found {len(values)} values of {values.dtype}: {predicate}"
        raise AvroArgumentError(msg)
    return values[0] is True


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
