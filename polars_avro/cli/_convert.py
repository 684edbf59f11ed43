"""convert: Avro to and from Parquet, IPC, CSV and NDJSON, streamed through Polars' engine in bounded memory."""

from __future__ import annotations

import argparse
import os
from typing import Any

import polars as pl

from polars_avro import ReadStats, read_stats, scan_avro, sink_avro
from polars_avro.cli._common import (
    UNIFIED,
    Progress,
    UsageError,
    add_hive_options,
    add_storage_options,
    expand_inputs,
    parse_columns,
    polars_message,
    refuse,
    storage_options,
    total_size,
)
from polars_avro.cli._write_options import metadata

#: File name endings and the formats they name.
FORMATS = {
    ".avro": "avro",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
    ".csv": "csv",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "ndjson",
}
FORMAT_NAMES = sorted(set(FORMATS.values()))


def add_commands(commands: Any) -> None:
    p = commands.add_parser(
        "convert",
        help="convert between Avro and Parquet, IPC, CSV or NDJSON",
        description="Convert INPUTs to OUTPUT, streamed in bounded memory: Avro to Parquet, IPC, CSV, NDJSON "
        "or Avro, or any of those to Avro. Formats are told by the file name endings (.avro, .parquet, "
        ".arrow/.ipc/.feather, .csv, .ndjson/.jsonl/.json) unless given. Binary values become base64 text "
        "in CSV and NDJSON.",
    )
    p.add_argument("paths", nargs="+", metavar="INPUT... OUTPUT", help="the inputs, then the output")
    p.add_argument("--from", dest="input_format", choices=FORMAT_NAMES, help="the inputs' format")
    p.add_argument("--to", dest="output_format", choices=FORMAT_NAMES, help="the output's format")
    p.add_argument("--columns", help="the columns to keep, comma-separated, in that order")
    p.add_argument("--filter", help='the rows to keep: a Polars SQL WHERE condition, such as "amount > 10"')
    p.add_argument("--compression", "-c", help="the output's compression, as its Polars writer names it")
    p.add_argument("--compression-level", "-l", type=int, help="the compression level")
    p.add_argument(
        "--partition-by",
        help="columns (comma-separated) whose values split the output into hive folders under OUTPUT",
    )
    p.add_argument(
        "--metadata", "-m", action="append", default=[], metavar="KEY=VALUE", help="Avro output: a header entry"
    )
    add_hive_options(p)
    add_storage_options(p)
    p.set_defaults(run=convert)


def format_of(path: str, given: str | None) -> str:
    if given is not None:
        return given
    name = path.rstrip("/")
    for ending, fmt in FORMATS.items():
        if name.endswith(ending):
            return fmt
    if os.path.isdir(name) or path.endswith("/") or any(c in path for c in "*?["):
        return "avro"
    msg = f"cannot tell the format of '{path}' from its name: give it with --from or --to"
    raise UsageError(msg)


def scan(paths: list[str], fmt: str, args: argparse.Namespace) -> pl.LazyFrame:
    options = storage_options(args) or None
    if fmt == "avro":
        lf: pl.LazyFrame = scan_avro(
            paths, storage_options=options, retries=args.retries, hive_partitioning=args.hive, **UNIFIED
        )
        return lf
    refuse(
        args.hive is not None and fmt not in ("parquet", "ipc"), f"--hive and --no-hive are not taken by {fmt} input"
    )
    if fmt == "parquet":
        return pl.scan_parquet(paths, storage_options=options, hive_partitioning=args.hive)
    if fmt == "ipc":
        return pl.scan_ipc(paths, storage_options=options, hive_partitioning=args.hive)
    if fmt == "csv":
        return pl.scan_csv(paths, storage_options=options)
    return pl.scan_ndjson(paths, storage_options=options)


def as_text(lf: pl.LazyFrame, *, flat: bool) -> pl.LazyFrame:
    """What Polars' CSV (`flat`) or NDJSON writer takes.

    Binary values become base64 text, and for CSV nested values (lists, structs, maps) JSON text.
    """
    schema = lf.collect_schema()
    changed = {name: dtype for name, dtype in schema.items() if (flat and dtype.is_nested()) or _has_binary(dtype)}
    if not changed:
        return lf
    return lf.with_columns(_text(pl.col(name), dtype, flat=flat).alias(name) for name, dtype in changed.items())


def _has_binary(dtype: Any) -> bool:
    if dtype == pl.Binary:
        return True
    if isinstance(dtype, (pl.List, pl.Array)):
        return _has_binary(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(_has_binary(f.dtype) for f in dtype.fields)
    return bool(dtype.is_nested()) and any(_has_binary(d) for d in _inner_types(dtype))


def _inner_types(dtype: Any) -> list[Any]:
    """The key and value types of a Polars 2 Map."""
    return [getattr(dtype, "key", None), getattr(dtype, "value", None)]


def _text(expr: pl.Expr, dtype: Any, *, flat: bool) -> pl.Expr:
    if dtype == pl.Binary:
        return expr.bin.encode("base64")
    if isinstance(dtype, pl.List) and _has_binary(dtype):
        expr = expr.list.eval(_text(pl.element(), dtype.inner, flat=False))
    elif isinstance(dtype, pl.Array) and _has_binary(dtype):
        expr = expr.arr.eval(_text(pl.element(), dtype.inner, flat=False))
    elif isinstance(dtype, pl.Struct) and _has_binary(dtype):
        fields = [_text(expr.struct.field(f.name), f.dtype, flat=False).alias(f.name) for f in dtype.fields]
        expr = pl.when(expr.is_null()).then(None).otherwise(pl.struct(*fields))
    if flat and dtype.is_nested():
        # JSON text of the value alone: Polars encodes structs only, so the value is wrapped in one.
        wrapped = pl.struct(expr.alias("v")).struct.json_encode()
        expr = pl.when(expr.is_null()).then(None).otherwise(wrapped.str.slice(5).str.strip_suffix("}"))
    return expr


def convert(args: argparse.Namespace) -> int:
    refuse(len(args.paths) < 2, "convert takes one or more inputs and then the output")
    inputs, out = args.paths[:-1], args.paths[-1]
    in_format = args.input_format or format_of(inputs[0], None)
    out_format = format_of(out, args.output_format)
    refuse(
        in_format != "avro" and out_format != "avro",
        f"convert reads or writes Avro: found {in_format} to {out_format}",
    )
    lf = scan(inputs, in_format, args)
    columns = parse_columns(args.columns)
    partition_by = parse_columns(args.partition_by)
    lf = query(lf, args.filter, columns, partition_by)
    if in_format == "avro" and Progress.wanted(args):
        # Listed here only for the bar's totals: the scan lists them again.
        args.inputs = inputs
        files = expand_inputs(args)
        with Progress(args, total_size(files), len(files), "convert") as progress:

            def heard(running: ReadStats) -> None:
                progress.update(running.bytes_read, running.files)

            with read_stats(progress=heard):
                write(lf, out, out_format, partition_by, args)
    else:
        write(lf, out, out_format, partition_by, args)
    return 0


def query(
    lf: pl.LazyFrame, where: str | None, columns: list[str] | None, partition_by: list[str] | None
) -> pl.LazyFrame:
    """The inputs' rows that `where` keeps, in `columns`.

    Names the inputs lack are refused here, before anything is read or written.
    """
    names = lf.collect_schema().names()
    for option, wanted in (("--columns", columns), ("--partition-by", partition_by)):
        unknown = [c for c in wanted or () if c not in names]
        refuse(bool(unknown), f"{option} names {_listed(unknown)}, which the inputs lack; they have {_listed(names)}")
    if where:
        try:
            lf = lf.sql(f"SELECT * FROM self WHERE {where}")
            lf.collect_schema()
        except (pl.exceptions.ColumnNotFoundError, pl.exceptions.SQLInterfaceError, pl.exceptions.SQLSyntaxError) as e:
            msg = f"--filter {where!r} cannot be used: {polars_message(e)}; the columns are {_listed(names)}"
            raise UsageError(msg) from e
    if columns is not None:
        missing = [c for c in partition_by or () if c not in columns]
        refuse(bool(missing), f"--partition-by names {_listed(missing)}, which --columns leaves out")
        lf = lf.select(columns)
    return lf


def _listed(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names) or "no columns"


def write(lf: pl.LazyFrame, out: str, fmt: str, partition_by: list[str] | None, args: argparse.Namespace) -> None:
    options = storage_options(args) or None
    if fmt == "avro":
        sink_avro(
            lf,
            out,
            compression=args.compression or "uncompressed",
            compression_level=args.compression_level,
            metadata=metadata(args) or None,
            partition_by=partition_by,
            storage_options=options,
            retries=args.retries,
        )
        return
    refuse(bool(args.metadata), "--metadata is for Avro output")
    target: Any = out
    sink_options: dict[str, Any] = {}
    if partition_by is not None:
        target = _partitioned(out, partition_by)
        sink_options["mkdir"] = True  # Polars 1 makes no partition folder without it
    if args.compression is not None:
        refuse(fmt in ("csv", "ndjson"), f"--compression is not taken by {fmt} output")
        sink_options["compression"] = args.compression
        if args.compression_level is not None:
            sink_options["compression_level"] = args.compression_level
    if fmt == "parquet":
        lf.sink_parquet(target, storage_options=options, **sink_options)
    elif fmt == "ipc":
        lf.sink_ipc(target, storage_options=options, **sink_options)
    elif fmt == "csv":
        as_text(lf, flat=True).sink_csv(target, storage_options=options, **sink_options)
    else:
        as_text(lf, flat=False).sink_ndjson(target, storage_options=options, **sink_options)


def _partitioned(out: str, by: list[str]) -> Any:
    """Hive folders under `out` by the values of `by`, as this Polars version names that."""
    if hasattr(pl, "PartitionBy"):  # Polars 2
        return pl.PartitionBy(out, key=by)
    return pl.PartitionByKey(out, by=by)  # type: ignore[attr-defined]
