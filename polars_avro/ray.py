"""Ray Data: Avro files read as a ``ray.data.Dataset`` in splits, and written back.

The reading is this package's reader; a Dataset is written as Avro part files.

``pip install 'polars-avro[ray]'``, then::

    import polars_avro.ray

    ds = polars_avro.ray.read_avro("s3://bucket/events/", columns=["id", "amount"])
    polars_avro.ray.write_avro(ds, "s3://bucket/out/")

Each read task reads splits (:func:`polars_avro.plan_splits`) with
:func:`polars_avro.read_split`, in Rust without the GIL, and hands Ray Arrow tables.
Ray's column selection reaches the reader (columns nobody uses are not decoded), and so do
its filters: those Polars can express run inside the reader (their columns decoded
first), the others on each table with pyarrow. Ray is imported here only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow as pa
import ray.data
from ray.data.block import Block, BlockAccessor, BlockMetadata
from ray.data.datasource import Datasink, Datasource, ReadTask
from ray.data.expressions import BinaryExpr, ColumnExpr, Expr, LiteralExpr, Operation, UnaryExpr

from polars_avro import _internal
from polars_avro._sources import AvroSource
from polars_avro._splits import AvroSplit, plan_splits, read_split
from polars_avro._write import write_frames
from polars_avro.exceptions import AvroArgumentError

__all__ = ["AvroDatasink", "AvroDatasource", "read_avro", "write_avro"]

try:
    from ray.data._internal.arrow_block import _BATCH_SIZE_PRESERVING_STUB_COL_NAME as _STUB_COLUMN
except ImportError:  # the name Ray has given it so far
    _STUB_COLUMN = "__bsp_stub"

#: Bytes per split when the caller does not say: small enough that a cluster's CPUs all
#: get work from a file of a few hundred MB; a read task takes several when Ray asks for
#: fewer tasks.
DEFAULT_TARGET_BYTES = 32 << 20


def _arrow(df: pl.DataFrame) -> pa.Table:
    """A frame as Ray expects its tables.

    Plain (large) strings and binaries, no views, enums as their strings, and the height
    kept when there is no column (a count).
    """
    if df.width == 0:
        return _without_columns(df.height)
    categorical = [name for name, dtype in df.schema.items() if isinstance(dtype, (pl.Enum, pl.Categorical))]
    if categorical:
        df = df.with_columns(pl.col(categorical).cast(pl.String))
    return df.to_arrow(compat_level=pl.CompatLevel.oldest())


def _without_columns(height: int) -> pa.Table:
    """`height` rows and no column, as Ray counts them: with Ray's stub column of nulls."""
    return pa.table({_STUB_COLUMN: pa.nulls(height)})


def _select(table: pa.Table, columns: list[str]) -> pa.Table:
    return table.select(columns) if columns else _without_columns(table.num_rows)


class AvroDatasource(Datasource):
    """A ``ray.data.Datasource`` over Avro files, read in splits by polars-avro.

    Supports Ray's projection and predicate pushdown. Prefer :func:`read_avro`.
    """

    def __init__(
        self,
        paths: AvroSource,
        *,
        target_bytes: int = DEFAULT_TARGET_BYTES,
        storage_options: Mapping[str, Any] | None = None,
        batch_size: int | None = None,
        **plan_options: Any,
    ) -> None:
        super().__init__()
        self._splits = plan_splits(paths, target_bytes=target_bytes, storage_options=storage_options, **plan_options)
        # The tasks carry the credentials to Ray's workers, as Ray's own datasources do.
        self._storage_options = dict(storage_options) if storage_options is not None else None
        self._batch_size = batch_size
        self._schema = self._splits[0].schema if self._splits else pl.Schema()
        self._projection_map: dict[str, str] | None = None
        self._predicate_expr: Expr | None = None

    def get_name(self) -> str:
        """The name of the read tasks in Ray's plans."""
        return "AvroPolars"

    def supports_projection_pushdown(self) -> bool:
        """Ray's column selections reach the reader."""
        return True

    def supports_predicate_pushdown(self) -> bool:
        """Ray's filters reach the reader (see :func:`_predicates`)."""
        return True

    def estimate_inmemory_data_size(self) -> int | None:
        """The bytes of the splits."""
        # Avro is about as large as the columns it decodes to (varints against fixed
        # widths, no compression in memory); compressed files are larger once read.
        return sum(s.bytes for s in self._splits)

    def schema(self) -> pa.Schema:
        """The Arrow schema of the tables the tasks give (the projection applied)."""
        return _arrow(pl.DataFrame(schema=self._schema).select(self._columns())).schema

    def _columns(self) -> list[str]:
        wanted = self._get_data_columns()
        if wanted is None:
            return list(self._schema)
        # In the order asked for, as Ray's own readers give them.
        plan = self._splits[0]._plan if self._splits else _internal.ScanPlan(None, [])
        return plan.project(wanted)

    def get_read_tasks(
        self,
        parallelism: int,
        per_task_row_limit: int | None = None,
        data_context: Any = None,
    ) -> list[ReadTask]:
        """One task per split, or per run of consecutive splits when Ray asks for fewer."""
        columns = self._columns()
        in_reader, on_table = _predicates(self._predicate_expr)
        # The filter's columns are read even where the projection leaves them out.
        needed = set(columns) | _referenced(self._predicate_expr)
        read_columns = [c for c in self._schema if c in needed]
        schema = self.schema()
        tasks = []
        for group in _groups(self._splits, parallelism):
            metadata = BlockMetadata(
                num_rows=None,
                size_bytes=sum(s.bytes for s in group),
                input_files=tuple(dict.fromkeys(f.path for s in group for f in s.files)),
                exec_stats=None,
            )
            read = _SplitTask(
                group, read_columns, columns, in_reader, on_table, per_task_row_limit,
                self._batch_size, self._storage_options,
            )  # fmt: skip
            tasks.append(ReadTask(read, metadata, schema=schema, per_task_row_limit=per_task_row_limit))
        return tasks


class _SplitTask:
    """One read task: its splits read in order, each batch handed on as an Arrow table."""

    def __init__(
        self,
        splits: list[AvroSplit],
        read_columns: list[str],
        columns: list[str],
        predicate: pl.Expr | None,
        table_filter: Any,
        row_limit: int | None,
        batch_size: int | None,
        storage_options: dict[str, Any] | None,
    ) -> None:
        self.splits, self.read_columns, self.columns = splits, read_columns, columns
        self.predicate, self.table_filter, self.row_limit = predicate, table_filter, row_limit
        self.batch_size, self.storage_options = batch_size, storage_options

    def __call__(self) -> Iterator[pa.Table]:
        left = self.row_limit
        # As many decoding threads as the task holds CPUs (one by default): Ray runs a task
        # per CPU, and more threads would only contend.
        cpus = _task_cpus()
        for split in self.splits:
            frames = read_split(
                split,
                columns=self.read_columns,
                predicate=self.predicate,
                n_rows=left if self.table_filter is None else None,
                batch_size=self.batch_size,
                storage_options=self.storage_options,
                n_threads=max(1, int(cpus)) if cpus else None,
            )
            for df in frames:
                table = _arrow(df)
                if self.table_filter is not None:
                    table = table.filter(self.table_filter)
                table = _select(table, self.columns)
                if left is not None:
                    table = table.slice(0, left)
                    left -= table.num_rows
                yield table
                if left == 0:
                    return


def _task_cpus() -> float | None:
    """The CPUs Ray gave the running task (None outside a Ray worker)."""
    try:
        return ray.get_runtime_context().get_assigned_resources().get("CPU")
    except AssertionError:  # Ray's way of saying this is not a worker
        return None


def _groups(splits: list[AvroSplit], parallelism: int) -> list[list[AvroSplit]]:
    """The splits in at most `parallelism` runs of consecutive splits, of about equal bytes."""
    if parallelism <= 0 or len(splits) <= parallelism:
        return [[s] for s in splits]
    total = sum(s.bytes for s in splits)
    share = total / parallelism
    groups: list[list[AvroSplit]] = [[]]
    done = 0
    for split in splits:
        # A run closes once the bytes before it reach its share of the whole.
        if groups[-1] and done >= share * len(groups) and len(groups) < parallelism:
            groups.append([])
        groups[-1].append(split)
        done += split.bytes
    return groups


_BINARY = {
    Operation.ADD: lambda a, b: a + b,
    Operation.SUB: lambda a, b: a - b,
    Operation.MUL: lambda a, b: a * b,
    Operation.DIV: lambda a, b: a / b,
    Operation.MOD: lambda a, b: a % b,
    Operation.FLOORDIV: lambda a, b: a // b,
    Operation.GT: lambda a, b: a > b,
    Operation.LT: lambda a, b: a < b,
    Operation.GE: lambda a, b: a >= b,
    Operation.LE: lambda a, b: a <= b,
    Operation.EQ: lambda a, b: a == b,
    Operation.NE: lambda a, b: a != b,
    Operation.AND: lambda a, b: a & b,
    Operation.OR: lambda a, b: a | b,
}
_UNARY = {
    Operation.NOT: lambda a: ~a,
    Operation.IS_NULL: lambda a: a.is_null(),
    Operation.IS_NOT_NULL: lambda a: a.is_not_null(),
}


def _to_polars(expr: Expr) -> pl.Expr | None:
    """A Ray expression as a Polars one, or None where it has a part Polars is not given."""
    if isinstance(expr, ColumnExpr):
        return pl.col(expr.name)
    if isinstance(expr, LiteralExpr):
        return pl.lit(expr.value)
    if isinstance(expr, UnaryExpr) and expr.op in _UNARY:
        operand = _to_polars(expr.operand)
        return _UNARY[expr.op](operand) if operand is not None else None
    if isinstance(expr, BinaryExpr):
        left = _to_polars(expr.left)
        if left is None:
            return None
        if expr.op in (Operation.IN, Operation.NOT_IN) and isinstance(expr.right, LiteralExpr):
            values = expr.right.value if isinstance(expr.right.value, list) else [expr.right.value]
            found = left.is_in(values)
            return found if expr.op == Operation.IN else ~found
        right = _to_polars(expr.right)
        if right is None or expr.op not in _BINARY:
            return None
        return _BINARY[expr.op](left, right)
    return None


def _referenced(expr: Any) -> set[str]:
    """The columns a Ray expression reads, at any depth."""
    if isinstance(expr, ColumnExpr):
        return {expr.name}
    if isinstance(expr, (list, tuple)):
        return set().union(*(_referenced(e) for e in expr))
    if isinstance(expr, Expr):
        return set().union(*(_referenced(v) for v in vars(expr).values()))
    return set()


def _predicates(expr: Expr | None) -> tuple[pl.Expr | None, Any]:
    """Ray's pushed-down filter for the reader (Polars) or, else, for each table (pyarrow)."""
    if expr is None:
        return None, None
    translated = _to_polars(expr)
    if translated is not None:
        return translated, None
    try:
        return None, expr.to_pyarrow()
    except Exception as e:
        msg = f"the filter {expr!r} can be evaluated neither by polars-avro nor by pyarrow: {e}"
        raise AvroArgumentError(msg) from e


def read_avro(
    paths: AvroSource,
    *,
    columns: Sequence[str] | None = None,
    filter: Expr | None = None,  # noqa: A002 (Ray's own name for it)
    storage_options: Mapping[str, Any] | None = None,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    batch_size: int | None = None,
    override_num_blocks: int | None = None,
    ray_remote_args: dict[str, Any] | None = None,
    **plan_options: Any,
) -> ray.data.Dataset:
    """Read Avro files as a Ray Dataset, in splits, with polars-avro's reader.

    Parameters
    ----------
    paths
        Paths, globs, directories (their hive partitions become columns) or object store
        URLs, as :func:`polars_avro.scan_avro` takes them.
    columns
        Only these columns; later ``select_columns`` calls reach the reader too.
    filter
        A Ray expression (``ray.data.expressions.col("x") > 3``); later ``filter(expr=...)``
        calls reach the reader too.
    storage_options
        As for :func:`polars_avro.scan_avro`; they go to the workers with the tasks.
    target_bytes
        Bytes per split (see :func:`polars_avro.plan_splits`); a task reads several
        consecutive splits when Ray asks for fewer tasks than there are splits.
    batch_size
        Rows per table a task hands over.
    override_num_blocks, ray_remote_args
        As for ``ray.data.read_datasource``.
    **plan_options
        The other keywords of :func:`polars_avro.plan_splits` (``reader_schema``,
        ``missing_columns``, ``hive_partitioning``, ``include_file_paths``,
        ``ignore_errors``, ...).
    """
    source = AvroDatasource(
        paths, target_bytes=target_bytes, storage_options=storage_options, batch_size=batch_size, **plan_options
    )
    if columns is not None:
        source = source.apply_projection({c: c for c in columns})
    if filter is not None:
        source = source.apply_predicate(filter)
    return ray.data.read_datasource(
        source, override_num_blocks=override_num_blocks, ray_remote_args=ray_remote_args or {}
    )


class AvroDatasink(Datasink[list[str]]):
    """A ``ray.data.Datasink`` writing each write task's blocks into one Avro part file.

    The parts are ``part-00000.avro``, ``part-00001.avro``, ... (by task) under a folder or prefix.

    Prefer :func:`write_avro`.
    """

    def __init__(self, path: str, *, storage_options: Mapping[str, Any] | None = None, **write_options: Any) -> None:
        self._path = str(path).rstrip("/")
        self._storage_options = dict(storage_options) if storage_options is not None else None
        self._write_options = write_options

    def get_name(self) -> str:
        """The name of the write tasks in Ray's plans."""
        return "AvroPolars"

    def on_write_start(self, schema: Any = None) -> None:
        """Makes the folder of a local path (object stores have no folders)."""
        if not _internal.is_store_url(self._path):
            os.makedirs(self._path, exist_ok=True)

    def write(self, blocks: Iterable[Block], ctx: Any) -> list[str]:
        """Streams the task's blocks into its part file; the files written (none without rows)."""
        target = f"{self._path}/part-{ctx.task_idx:05d}.avro"
        frames = (_polars(block) for block in blocks)
        rows = write_frames(frames, target, storage_options=self._storage_options, **self._write_options)
        return [target] if rows else []


def _polars(block: Block) -> pl.DataFrame:
    table = BlockAccessor.for_block(block).to_arrow()
    if _STUB_COLUMN in table.column_names:
        table = table.drop([_STUB_COLUMN])
    return pl.DataFrame(pl.from_arrow(table))


def write_avro(
    ds: ray.data.Dataset,
    path: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    concurrency: int | None = None,
    ray_remote_args: dict[str, Any] | None = None,
    **write_options: Any,
) -> None:
    """Write a Ray Dataset as Avro files, one per write task, under ``path``.

    Parameters
    ----------
    ds
        The dataset.
    path
        A local folder (made if missing) or an object store prefix (``s3://bucket/out``).
        The parts are ``part-00000.avro``, ``part-00001.avro``, ... by write task;
        ``polars_avro.scan_avro(path)`` and :func:`read_avro` read them back.
    storage_options
        As for :func:`polars_avro.write_avro`; they go to the workers with the tasks.
    concurrency, ray_remote_args
        As for ``ray.data.Dataset.write_datasink``.
    **write_options
        The options of :func:`polars_avro.write_avro` (``compression``, ``name``,
        ``schema``, ``metadata``, ``sync_interval``, ...).
    """
    sink = AvroDatasink(path, storage_options=storage_options, **write_options)
    ds.write_datasink(sink, concurrency=concurrency, ray_remote_args=ray_remote_args or {})
