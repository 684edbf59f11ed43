"""How a scan becomes a LazyFrame: through the file reader interface of Polars 2, else its IO plugins.

Both hand the scan the query's columns, predicate and row limit. Only the file reader
interface says when a query needs no column at all (``select(pl.len())``), so that a count
walks the block headers instead of decoding the column the IO plugin would be handed.
Polars sees a scan as one "file"; the Rust reader reads every file of it.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl
from polars.io.plugins import register_io_source

from polars_avro._scan import filtering
from polars_avro._types import contains

try:  # Polars 2.0 and later
    from polars.io.external_reader import FileReader, FileReaderBuilder, ReaderCapabilities, scan_external_reader
except ImportError:
    FileReader = FileReaderBuilder = None  # type: ignore[assignment,misc]

if TYPE_CHECKING:
    from polars.io.external_reader import FilterExpr

    from polars_avro._scan import Scan


def lazy_frame(scan: Scan) -> pl.LazyFrame:
    """A LazyFrame reading `scan`."""
    if FileReaderBuilder is None:
        enums = {name: dtype for name, dtype in scan.schema.items() if _has_enum(dtype)}

        def io_source(
            columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, batch_size: int | None
        ) -> Iterator[pl.DataFrame]:
            # Polars 1.x hands `n_rows` with a predicate only where the query slices first
            # (`head(n).filter(...)`): it counts records before the filter. The predicate is
            # evaluated on Polars' thread, which runs this source (see `Scan.batches`).
            return scan.batches(columns, predicate, None, batch_size, records=n_rows, filter_here=True)

        lf = register_io_source(io_source, schema=scan.schema)
        # Polars 1.x's IO sources hand Enum columns on as Categorical: cast them back.
        return lf.with_columns(pl.col(name).cast(dtype) for name, dtype in enums.items()) if enums else lf
    return scan_external_reader(_Builder(scan), sources=[scan.label], schema=dict(scan.schema))


if FileReaderBuilder is not None:

    class _Builder(FileReaderBuilder):
        def __init__(self, scan: Scan) -> None:
            self.scan = scan

        def reader_capabilities(self) -> ReaderCapabilities:
            # Filters are applied exactly (decoded columns first, the rest for rows that pass).
            if _FILTERS_PANIC_ON_ENUM and any(_has_enum(dtype) for dtype in self.scan.schema.values()):
                # Polars 2.0 panics building a source's filter that holds an Enum literal
                # (`is_in` of a symbol), before the reader sees it: Polars filters instead.
                return ReaderCapabilities(pre_slice=True)
            return ReaderCapabilities(pre_slice=True, supported_filter="full")

        def build_file_reader(self, source: str | bytes, multi_scan_context: dict[Any, Any]) -> FileReader:
            return _Reader(self.scan)

    class _Reader(FileReader):
        def __init__(self, scan: Scan) -> None:
            self.scan = scan

        def schema(self) -> dict[str, pl.DataType]:
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
            exprs = [f.expr for f in filters if not _is_dynamic(f.expr)]
            predicate = functools.reduce(operator.and_, exprs) if exprs else None
            offset, length = pre_slice if pre_slice is not None else (0, None)
            records = None if length is None else offset + length
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


#: Polars 2.0.x, whose filters for IO sources cannot hold Enum literals.
_FILTERS_PANIC_ON_ENUM = pl.__version__.startswith("2.0.")


def _has_enum(dtype: pl.DataType) -> bool:
    """Whether a column's type is an Enum or holds one."""
    return contains(dtype, lambda d: isinstance(d, pl.Enum))


def _is_dynamic(expr: pl.Expr) -> bool:
    """Whether a filter Polars hands the reader is a dynamic predicate.

    Polars 2 gives ``sort(...).head(n)``, ``top_k`` and ``bottom_k`` queries a filter whose
    bound the sort tightens while it runs. Only Polars' engine holds that bound: in Python
    the expression is a placeholder (a ``Display`` node) that panics when evaluated. It only
    narrows what the sort is handed, so the reader leaves it out: the sort then sees every
    row, and the query's answer is the same.
    """
    try:
        tree = expr.meta.serialize(format="json")
    except Exception:  # noqa: BLE001 - an expression JSON cannot hold (a Python function) is no placeholder
        return False
    return _DISPLAY_NODE in tree


#: How a placeholder expression starts in Polars' JSON serialization.
_DISPLAY_NODE = '{"Display":'
