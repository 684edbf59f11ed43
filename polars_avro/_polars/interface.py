"""How a scan becomes a LazyFrame, and how a query's batches reach a writer.

A scan is a source of Polars' file reader interface where Polars has one (2.0 on), else an
IO plugin. Both hand the scan the query's columns, predicate and row limit. Only the file
reader interface says when a query needs no column at all (``select(pl.len())``), so that a
count walks the block headers instead of decoding the column the IO plugin would be handed.
Polars sees a scan as one "file"; the Rust reader reads every file of it.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import polars as pl
from polars.io.plugins import register_io_source

from polars_avro import _internal
from polars_avro._polars import facts
from polars_avro._polars.features import max_index
from polars_avro._polars.pyarrow_import import polars_asks
from polars_avro._types import contains
from polars_avro.exceptions import AvroPolarsVersionError

try:  # Polars 2.0 and later
    from polars.io.external_reader import FileReader, FileReaderBuilder, ReaderCapabilities, scan_external_reader
except ImportError:
    FileReader = FileReaderBuilder = None  # type: ignore[assignment,misc]

#: Whether scans are sources of Polars' file reader interface (else IO plugins).
FILE_READERS = FileReaderBuilder is not None

#: What the file reader interface hands a reader's ``collect_batches``, the methods a reader
#: and its builder define, and the capabilities a builder declares; what an IO plugin takes.
BATCH_ARGUMENTS = {"columns", "row_index", "pre_slice", "filters", "num_pipelines"}
READER_METHODS = {"schema", "collect_batches", "n_rows_in_file"}
BUILDER_METHODS = {"build_file_reader", "reader_capabilities"}
CAPABILITIES = {"pre_slice", "supported_filter"}
IO_PLUGIN_ARGUMENTS = {"io_source", "schema"}


def check_interface() -> None:
    """Raises AvroPolarsVersionError where Polars' interface for scans is not the one known.

    A release that changed it fails at import, not in a query: a reader would ignore what a
    new argument of ``collect_batches`` asks (a slice, a kind of filter) and give wrong rows,
    and a predicate's JSON form is how dynamic predicates are told.
    """
    problems = []
    if FILE_READERS:
        arguments = set(inspect.signature(FileReader.collect_batches).parameters) - {"self"}
        if arguments != BATCH_ARGUMENTS:
            problems.append(f"FileReader.collect_batches takes {sorted(arguments)}, not {sorted(BATCH_ARGUMENTS)}")
        abstract = set(FileReader.__abstractmethods__) | set(FileReaderBuilder.__abstractmethods__)
        if not abstract <= READER_METHODS | BUILDER_METHODS:
            problems.append(f"a file reader must define {sorted(abstract - READER_METHODS - BUILDER_METHODS)}")
        if not CAPABILITIES <= set(inspect.signature(ReaderCapabilities).parameters):
            problems.append(f"ReaderCapabilities takes no {sorted(CAPABILITIES)}")
    elif not IO_PLUGIN_ARGUMENTS <= set(inspect.signature(register_io_source).parameters):
        problems.append(f"register_io_source takes no {sorted(IO_PLUGIN_ARGUMENTS)}")
    if pl.col("a").meta.serialize(format="json") != '{"Column":"a"}':
        problems.append("expressions serialize to another JSON form")
    if problems:
        msg = (
            f"polars-avro does not know how Polars {pl.__version__} hands scans their queries "
            f"({'; '.join(problems)}); the newest Polars it was tested with is {facts.newest_tested()}: "
            f"pip install 'polars=={facts.newest_tested()}', or a polars-avro that supports Polars {pl.__version__}"
        )
        raise AvroPolarsVersionError(msg)


check_interface()

if TYPE_CHECKING:
    from polars.io.external_reader import FilterExpr


class Scan(Protocol):
    """What a scan gives Polars: polars_avro._scan.Scan, or a probe's frame in memory."""

    @property
    def schema(self) -> pl.Schema:
        """The scan's columns and their types."""
        ...

    @property
    def label(self) -> str:
        """The scan's name in a query plan."""
        ...

    def batches(
        self,
        with_columns: list[str] | None,
        predicates: Sequence[pl.Expr],
        limit: int | None,
        batch_size: int | None,
        *,
        records: int | None = None,
        skip: int = 0,
        filtered_again: bool = False,
    ) -> Iterator[pl.DataFrame]:
        """The batches of a query's columns and filters (see polars_avro._scan.Scan.batches)."""
        ...


def lazy_frame(scan: Scan, release: facts.Facts) -> pl.LazyFrame:
    """A LazyFrame reading `scan`, adapted to a release's facts.

    The facts are read before, on the caller's thread, never on Polars' while it runs a query.
    """
    if not FILE_READERS:
        enums = {name: dtype for name, dtype in scan.schema.items() if _has_enum(dtype)}

        def io_source(
            columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
        ) -> Iterator[pl.DataFrame]:
            # Polars hands an IO plugin `n_rows` with a predicate only where the query slices
            # first (`head(n).filter(...)`): it counts records before the filter. Polars
            # filters what a plugin gives no further: the part of the predicate the reader
            # does not evaluate is evaluated on Polars' thread, which runs this source (see
            # `Scan.batches`).
            predicates = [without_dynamic(predicate)] if predicate is not None else []
            return scan.batches(columns, predicates, None, batch_size, records=n_rows)

        lf = register_io_source(io_source, schema=scan.schema, **_PURE)
        if not enums or not release.io_sources_lose_enums:
            # No cast over the scan where none is needed: Polars 1.41 and 1.42 project the
            # wrong columns of a with_columns over a pure source that collect_all reads twice
            # (a panic, or a column too many), and 1.42's slice pushdown panics over a select.
            return lf
        # An IO source's Enum columns handed on as Categorical: cast back.
        return lf.with_columns(pl.col(name).cast(dtype) for name, dtype in enums.items())
    return scan_external_reader(_Builder(scan, release), sources=[scan.label], schema=dict(scan.schema))


if FileReaderBuilder is not None:

    class _Builder(FileReaderBuilder):
        def __init__(self, scan: Scan, release: facts.Facts) -> None:
            self.scan = scan
            self.release = release

        def reader_capabilities(self) -> ReaderCapabilities:
            if self.release.file_readers_import_pyarrow:
                polars_asks(planning=True)
            if self.release.sources_wait_on_the_pool:
                # Any filter the reader evaluated could wait forever (see probes).
                return ReaderCapabilities(pre_slice=True)
            # The reader evaluates the parts of the filters it can (decoded columns first, the
            # rest for rows that pass; files ruled out by their partitions), and Polars
            # filters what it gives again: the rest, and the dynamic parts only it can.
            return ReaderCapabilities(pre_slice=True, supported_filter="partial")

        def build_file_reader(self, source: str | bytes, multi_scan_context: dict[Any, Any]) -> FileReader:
            return _Reader(self.scan, self.release)

    class _Reader(FileReader):
        def __init__(self, scan: Scan, release: facts.Facts) -> None:
            self.scan = scan
            self.release = release

        def schema(self) -> dict[str, pl.DataType]:
            if self.release.file_readers_import_pyarrow:
                polars_asks()
            return dict(self.scan.schema)

        def collect_batches(
            self,
            *,
            columns: Sequence[str],
            row_index: tuple[str, int] | None,
            pre_slice: tuple[int, int] | None,
            filters: Sequence[FilterExpr],
            num_pipelines: int,
        ) -> Iterator[pl.DataFrame]:
            # Polars slices records before it filters them: `pre_slice` caps records read, and
            # blocks before its offset are left out unread; the records before the offset
            # cannot be filtered, so a slice from an offset leaves the filters to Polars.
            offset, length = pre_slice if pre_slice is not None else (0, None)
            records = None if length is None else records_to_read(offset, length)
            predicates = [without_dynamic(f.expr) for f in filters] if offset == 0 else []
            # The scan's own generator, not one around it: nothing of the package runs for a
            # batch but what hands it on.
            return self.scan.batches(
                list(columns), predicates, None, None, records=records, skip=offset, filtered_again=True
            )

        def n_rows_in_file(self, limit: int | None = None) -> int:
            """The number of records, from the block headers (no data decoded)."""
            return sum(df.height for df in self.scan.batches([], [], None, None, records=limit))


def _has_enum(dtype: pl.DataType) -> bool:
    """Whether a column's type is an Enum or holds one."""
    return contains(dtype, lambda d: isinstance(d, pl.Enum))


#: Whether IO plugins can be declared pure (``is_pure``, Polars 1.34 on): a pure scan that a
#: query reads twice is read once, as Polars reads its own scans. Polars 1.35 to 1.43 also
#: need it for a slice of a concat inside another concat: they push that slice into each
#: input of the inner concat and drop it from above, where the scan is not read once
#: (``pl.concat([x.head(20), x.tail(20)])`` of ``x = pl.concat([lf.head(20), lf.tail(20)])``
#: gave 80 rows for 40).
_PURE: dict[str, Any] = {"is_pure": True} if "is_pure" in inspect.signature(register_io_source).parameters else {}


def without_dynamic(predicate: pl.Expr) -> pl.Expr:
    """`predicate` less its dynamic parts, split at its ``&``s only where it holds one.

    Polars 1.39 to 1.43 (to IO plugins) and Polars 2 (to file readers) give
    ``sort(...).head(n)``, ``top_k`` and ``bottom_k`` queries a filter whose bound the sort
    tightens while it runs, joined by ``&`` to the query's own filter. Only Polars' engine
    holds that bound: elsewhere the expression is a placeholder that panics when evaluated.
    It only narrows what the sort is handed, so it is left out: the sort then sees every
    row, and the query's answer is the same.
    """
    if _DYNAMIC not in str(predicate):
        return predicate
    parts = predicate.meta.pop()
    if len(parts) == 2 and any((a & b).meta.eq(predicate) for a, b in (parts, parts[::-1])):
        return without_dynamic(parts[1]) & without_dynamic(parts[0])
    return pl.lit(True)


#: How Polars writes a dynamic predicate out.
_DYNAMIC = ".dynamic_pred: "


def records_to_read(offset: int, length: int) -> int | None:
    """The records a slice needs read, None for all of them.

    A slice with no end comes with the largest length Polars' index type holds
    (18446744073709551615 with 64-bit indices), past any count the reader takes.
    """
    end = offset + length
    return end if end < max_index() else None


def for_each_batch(
    lf: pl.LazyFrame, chunk_size: int | None, consume: Callable[[pl.DataFrame], Any], *, stream: bool
) -> None:
    """Runs the query on the streaming engine, handing each batch to `consume`, in order.

    `stream`: where the release's ``collect_batches`` raises a failing query's error
    (facts.Facts.batches_raise); else the result is staged in an IPC file first, so that a
    failed query never completes a file.

    The batches are consumed on the calling thread, between which Python runs its signal
    handlers: with `sink_batches`, which calls back on the engine's threads, an
    application's own SIGINT handler ran only when the query ended. Speed and memory are the
    same (3M rows: 77 ms either way; a slow consumer: 230 and 238 MB at most).
    """
    if stream:
        for batch in lf.collect_batches(chunk_size=chunk_size, maintain_order=True):
            consume(batch)
        return
    with tempfile.TemporaryDirectory(prefix="polars-avro-") as staging:
        path = os.path.join(staging, "staged.arrow")
        lf.sink_ipc(path)
        staged = pl.scan_ipc(path)
        height = staged.select(pl.len()).collect().item()
        # No longer than the rows there are: slice lengths must fit Polars' index type.
        step = min(chunk_size or _internal.DEFAULT_BATCH_SIZE, max(height, 1))
        for offset in range(0, height, step):
            consume(staged.slice(offset, step).collect())


# How a batch is filtered in Python where releases of Polars refuse or err: the scan evaluates
# on its batches the part of a filter the reader leaves (polars_avro._scan).

_T = TypeVar("_T")

_MASK = "__polars_avro_predicate_mask"


def rows_kept(frame: pl.DataFrame, predicate: pl.Expr) -> pl.DataFrame:
    """``frame.filter(predicate)``, also where Polars refuses its decimals' precision, in one chunk.

    Where Polars refuses it, the rows the frame keeps with its decimals widened (see
    with_decimals_widened). One chunk: Polars filters lists of several chunks, one sliced,
    wrongly on some releases (a later filter, of Polars' own, over the batch).
    """
    try:
        kept = frame.filter(predicate)
    except pl.exceptions.PolarsError:
        kept = frame[with_decimals_widened(frame, lambda f: kept_indices(f, predicate))]
    return kept.rechunk()


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
