"""Commands that move whole files block by block: concat, recodec, repair, validate.

Blocks are copied as they are stored where the codec stays the same, and decompressed and
compressed again where it changes; records are decoded only to check them (repair,
validate) or where the inputs' schemas differ (concat).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from polars_avro import AvroReader, _internal, scan_avro, sink_avro
from polars_avro.cli._common import (
    Input,
    Progress,
    add_input_options,
    add_storage_options,
    expand_inputs,
    output_target,
    refuse,
    storage_options,
    total_size,
)
from polars_avro.cli._write_options import add_write_options, block_writer, metadata
from polars_avro.exceptions import AvroError

#: Exit status of repair and validate when the input was damaged.
DAMAGED = 1


def add_commands(commands: Any) -> None:
    p = commands.add_parser(
        "concat",
        help="concatenate Avro files into one",
        description="Concatenate Avro files into OUTPUT (avro-tools concat). Where the files share a schema, "
        "their blocks are copied without decoding (recompressed only where a codec differs from the "
        "output's); otherwise the records are read with the schema the files read as together and "
        "written again. The first file's metadata is kept.",
    )
    p.add_argument("paths", nargs="+", metavar="INPUT... OUTPUT", help="the input files, then the output file")
    add_write_options(p, compression=None)
    add_storage_options(p)
    p.set_defaults(run=concat)

    p = commands.add_parser(
        "recodec",
        help="recompress an Avro file",
        description="Write INPUT's blocks to OUTPUT with another codec (avro-tools recodec): the schema and "
        "the metadata are kept as they are, and no record is decoded.",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT", nargs="?", help="(standard output if not given)")
    add_write_options(p)
    add_storage_options(p)
    p.set_defaults(run=recodec)

    p = commands.add_parser(
        "repair",
        help="copy every intact block of a damaged file",
        description="Copy every intact block of INPUT to OUTPUT, with its schema, codec and metadata, and "
        "report what was left out (avro-tools repair). A block is intact when its framing holds, it "
        f"decompresses and its records decode. Exit status {DAMAGED} when anything was left out.",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT", nargs="?", help="(standard output if not given)")
    add_storage_options(p)
    p.set_defaults(run=repair)

    p = commands.add_parser(
        "validate",
        help="check that files read whole",
        description="Read every record of every file, as a read would, and report each damaged block. "
        f"Exit status 0 when every file is intact, {DAMAGED} when any is damaged.",
    )
    add_input_options(p)
    p.set_defaults(run=validate)


def concat(args: argparse.Namespace) -> int:
    refuse(len(args.paths) < 2, "concat takes one or more inputs and then the output file")
    args.inputs, out = args.paths[:-1], args.paths[-1]
    inputs = expand_inputs(args)
    headers = [_internal.read_header(i.source) for i in inputs]
    schemas = {json.dumps(json.loads(h["schema_json"]), sort_keys=True) for h in headers}
    compression = args.compression or headers[0]["codec"]
    kept = user_metadata(headers[0])
    if len(schemas) > 1:
        print(
            f"concat: the inputs have {len(schemas)} different schemas: their records are read with the schema "
            "they read as together and written again",
            file=sys.stderr,
        )
        lf = scan_avro(args.inputs, storage_options=storage_options(args), retries=args.retries)
        entries = dict(kept)
        entries.update((k, v) for k, v in metadata(args))
        sink_avro(
            lf,
            out,
            compression=compression if compression != "null" else "uncompressed",
            compression_level=args.compression_level,
            metadata=entries,
            storage_options=storage_options(args),
            retries=args.retries,
        )
        return 0
    with (
        Progress(args, total_size(inputs), len(inputs), "concat") as progress,
        output_target(out, args) as target,
        block_writer(
            target, headers[0]["schema_json"], args, compression=compression, header_metadata=kept, name=out
        ) as w,
    ):
        _copy_files(inputs, headers, w, progress)
    return 0


def user_metadata(header: dict[str, Any]) -> list[tuple[str, bytes]]:
    """A header's metadata entries less the format's own (avro.schema, avro.codec)."""
    return list(header["user_metadata"].items())


#: Stored bytes of blocks recompressed together, on every thread: enough for every thread to
#: have several blocks of Java's default size, few enough to keep memory small.
RECODE_BYTES = 16 << 20


def _copy_files(inputs: list[Input], headers: list[dict[str, Any]], writer: Any, progress: Progress) -> None:
    """Every block of the inputs into `writer`, file by file."""
    done = 0
    for n, (i, header) in enumerate(zip(inputs, headers)):
        _copy_blocks(_internal.BlockReader(i.source, data="stored"), header["codec"], i.name, writer, progress, done, n)
        done += i.size or 0
        progress.update(done, n + 1)


def _copy_blocks(reader: Any, codec: str, name: str, writer: Any, progress: Progress, done: int, n: int) -> None:
    """A file's blocks (stored with `codec`) into `writer`.

    As they are where the codec is the writer's, else decompressed and compressed again, runs of
    blocks at once on every thread.
    """
    stored = codec == writer.codec()
    run: list[tuple[int, bytes, int]] = []
    run_bytes = 0
    while (block := reader.next_block()) is not None:
        count, data, offset, _ = block
        if stored:
            writer.write_block(count, data, True)
        else:
            run.append((count, data, offset))
            run_bytes += len(data)
            if run_bytes >= RECODE_BYTES:
                writer.write_recoded(run, codec, name)
                run, run_bytes = [], 0
        progress.update(done + reader.position(), n)
    if run:
        writer.write_recoded(run, codec, name)


def recodec(args: argparse.Namespace) -> int:
    args.inputs = [args.input]
    (i,) = expand_inputs(args)
    reader = _internal.BlockReader(i.source, data="stored")
    header = reader.header()
    with (
        Progress(args, i.size, 1, "recodec") as progress,
        output_target(args.output, args) as target,
        block_writer(target, header["schema_json"], args, header_metadata=user_metadata(header), name=args.output) as w,
    ):
        _copy_blocks(reader, header["codec"], i.name, w, progress, 0, 0)
        progress.update(reader.position(), 1)
    return 0


def repair(args: argparse.Namespace) -> int:
    args.inputs = [args.input]
    (i,) = expand_inputs(args)
    reader = _internal.BlockReader(i.source, data="stored", check_records=True, repair=True)
    header = reader.header()
    kept = user_metadata(header)
    args.compression, args.compression_level, args.metadata = header["codec"], None, []
    blocks = records = 0
    with (
        Progress(args, i.size, 1, "repair") as progress,
        output_target(args.output, args) as target,
        block_writer(target, header["schema_json"], args, header_metadata=kept, name=args.output) as writer,
    ):
        while (block := reader.next_block()) is not None:
            writer.write_block(block[0], block[1], True)
            blocks, records = blocks + 1, records + block[0]
            progress.update(reader.position(), 0)
        progress.update(reader.position(), 1)
    skipped = reader.take_skipped()
    _report(i.name, skipped)
    print(f"repair: kept {blocks:,} blocks, {records:,} records", file=sys.stderr)
    return DAMAGED if skipped else 0


def _report(name: str, skipped: list[dict[str, Any]]) -> None:
    for s in skipped:
        lost = "an unknown number of records" if s["records"] is None else f"{s['records']:,} records"
        print(f"{name}: left out {lost}: {s['message']}", file=sys.stderr)


def validate(args: argparse.Namespace) -> int:
    inputs = expand_inputs(args)
    damaged = 0
    with Progress(args, total_size(inputs), len(inputs), "validate") as progress:
        done = 0
        for n, i in enumerate(inputs):
            records, skipped = 0, []
            try:
                # A read of no column with ignore_errors decodes every record as a read would,
                # and reports each damaged block the reader leaves out.
                source = i.source if isinstance(i.source, bytes) else i.name
                options = {"storage_options": storage_options(args), "retries": args.retries}
                with AvroReader(source, columns=[], ignore_errors=True, glob=False, **options) as reader:
                    for batch in reader:
                        records += batch.height
                        progress.update(done + reader.stats.bytes_read, n)
                skipped = [{"records": e.records, "message": e.message} for e in reader.errors]
            except AvroError as e:
                skipped = [{"records": None, "message": str(e)}]
            done += i.size or 0
            progress.update(done, n + 1)
            if skipped:
                damaged += 1
                _report(i.name, skipped)
            else:
                print(f"ok\t{records}\t{i.name}")
    if damaged:
        print(f"validate: {damaged} of {len(inputs)} files damaged", file=sys.stderr)
        return DAMAGED
    return 0
