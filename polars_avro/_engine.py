"""How a scan becomes a LazyFrame: through the file reader interface of Polars 2, else its IO plugins.

Both hand the scan the query's columns, predicate and row limit. Only the file reader
interface says when a query needs no column at all (``select(pl.len())``), so that a count
walks the block headers instead of decoding the column the IO plugin would be handed.
Polars sees a scan as one "file"; the Rust reader reads every file of it.
"""

from __future__ import annotations

import functools
import inspect
import operator
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from polars_avro._hive import conjuncts
from polars_avro._pyarrow_check import polars_asks
from polars_avro._quirks import SOURCES_WAIT_ON_THE_POOL, io_sources_lose_enums
from polars_avro._scan import filtering
from polars_avro._types import contains, max_index
from polars_avro.exceptions import AvroPolarsVersionError

try:  # Polars 2.0 and later
    from polars.io.external_reader import FileReader, FileReaderBuilder, ReaderCapabilities, scan_external_reader
except ImportError:
    FileReader = FileReaderBuilder = None  # type: ignore[assignment,misc]

#: Whether scans are sources of Polars' file reader interface (else IO plugins).
FILE_READERS = FileReaderBuilder is not None

#: The newest Polars release tested: named where the interface differs from the one known.
NEWEST_TESTED = "2.1.0"
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
            f"({'; '.join(problems)}); the newest Polars it was tested with is {NEWEST_TESTED}: "
            f"pip install 'polars=={NEWEST_TESTED}', or a polars-avro that supports Polars {pl.__version__}"
        )
        raise AvroPolarsVersionError(msg)


check_interface()

if TYPE_CHECKING:
    from polars.io.external_reader import FilterExpr

    from polars_avro._scan import Scan


def lazy_frame(scan: Scan) -> pl.LazyFrame:
    """A LazyFrame reading `scan`."""
    if not FILE_READERS:
        enums = {name: dtype for name, dtype in scan.schema.items() if _has_enum(dtype)}

        def io_source(
            columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
        ) -> Iterator[pl.DataFrame]:
            # Polars 1.x hands `n_rows` with a predicate only where the query slices first
            # (`head(n).filter(...)`): it counts records before the filter. The predicate is
            # evaluated on Polars' thread, which runs this source (see `Scan.batches`).
            static = static_filter([predicate] if predicate is not None else [])
            return scan.batches(columns, static, None, batch_size, records=n_rows, filter_here=True)

        lf = register_io_source(io_source, schema=scan.schema, **_PURE)
        if not enums or not io_sources_lose_enums():
            # No cast over the scan where none is needed: Polars 1.41 and 1.42 project the
            # wrong columns of a with_columns over a pure source that collect_all reads twice
            # (a panic, or a column too many), and 1.42's slice pushdown panics over a select.
            return lf
        # Polars 1.30 and 1.31 hand an IO source's Enum columns on as Categorical: cast back.
        return lf.with_columns(pl.col(name).cast(dtype) for name, dtype in enums.items())
    return scan_external_reader(_Builder(scan), sources=[scan.label], schema=dict(scan.schema))


if FileReaderBuilder is not None:

    class _Builder(FileReaderBuilder):
        def __init__(self, scan: Scan) -> None:
            self.scan = scan

        def reader_capabilities(self) -> ReaderCapabilities:
            polars_asks(planning=True)
            if SOURCES_WAIT_ON_THE_POOL:
                # Polars 2.0: any filter the reader evaluated could wait forever (see there).
                return ReaderCapabilities(pre_slice=True)
            # Filters are applied exactly (decoded columns first, the rest for rows that pass).
            return ReaderCapabilities(pre_slice=True, supported_filter="full")

        def build_file_reader(self, source: str | bytes, multi_scan_context: dict[Any, Any]) -> FileReader:
            return _Reader(self.scan)

    class _Reader(FileReader):
        def __init__(self, scan: Scan) -> None:
            self.scan = scan

        def schema(self) -> dict[str, pl.DataType]:
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
            # Polars slices records before it filters them: `pre_slice` caps records read.
            predicate = static_filter([f.expr for f in filters])
            offset, length = pre_slice if pre_slice is not None else (0, None)
            records = None if length is None else records_to_read(offset, length)
            if offset == 0 or predicate is None:
                # Blocks before the offset are left out unread by the Rust reader.
                yield from self.scan.batches(list(columns), predicate, None, None, records=records, skip=offset)
                return
            # With a filter, records before the offset are dropped before the filter sees them.
            read = [c for c in self.scan.schema if c in set(columns) | set(predicate.meta.root_names())]
            for df in self.scan.batches(read, None, None, None, records=records):
                cut = min(offset, df.height)
                offset -= cut
                df = df.slice(cut)
                df = filtering(predicate, functools.partial(df.filter, predicate))
                yield df.select(columns) if df.width != len(columns) else df

        def n_rows_in_file(self, limit: int | None = None) -> int:
            """The number of records, from the block headers (no data decoded)."""
            return sum(df.height for df in self.scan.batches([], None, None, None, records=limit))


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


def records_to_read(offset: int, length: int) -> int | None:
    """The records a slice needs read, None for all of them.

    A slice with no end comes with the largest length Polars' index type holds
    (18446744073709551615 with 64-bit indices), past any count the reader takes.
    """
    end = offset + length
    return end if end < max_index() else None


def static_filter(predicates: list[pl.Expr]) -> pl.Expr | None:
    """The filters Polars hands a scan, joined by ``&``, less their dynamic parts (None: no filter)."""
    parts = [part for predicate in predicates for part in conjuncts(predicate) if not is_dynamic(part)]
    return functools.reduce(operator.and_, parts) if parts else None


def is_dynamic(expr: pl.Expr) -> bool:
    """Whether a filter Polars hands the reader is a dynamic predicate, or holds one.

    Polars 1.39 to 1.43 (to IO plugins) and Polars 2 (to file readers) give
    ``sort(...).head(n)``, ``top_k`` and ``bottom_k`` queries a filter whose bound the sort
    tightens while it runs, joined by ``&`` to the query's own filter. Only Polars' engine
    holds that bound: in Python the expression is a placeholder (a ``Display`` node) that
    panics when evaluated. It only narrows what the sort is handed, so the reader leaves it
    out: the sort then sees every row, and the query's answer is the same.
    """
    try:
        tree = expr.meta.serialize(format="json")
    except Exception:  # noqa: BLE001 - what JSON cannot hold (a Python function): its text tells
        return _DYNAMIC_TEXT in str(expr)
    return _DISPLAY_NODE in tree


#: How a placeholder expression starts in Polars' JSON serialization, and how a dynamic
#: predicate is written out.
_DISPLAY_NODE = '{"Display":'
_DYNAMIC_TEXT = ".dynamic_pred: "
