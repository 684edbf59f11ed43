"""Commands that move whole files block by block: concat, recodec, repair, validate.

Blocks are copied as they are stored where the codec stays the same, and decompressed and
compressed again where it changes; records are decoded only to check them (repair,
validate) or where the inputs' schemas differ (concat).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from polars_avro import (
    AvroBlock,
    AvroBlockReader,
    AvroBlockWriter,
    AvroError,
    AvroFile,
    AvroReader,
    SkippedBlock,
    scan_avro,
    sink_avro,
)
from polars_avro.cli._common import (
    UNIFIED,
    Progress,
    add_input_options,
    add_storage_options,
    expand_inputs,
    header,
    output_target,
    refuse,
    remote,
    total_size,
)
from polars_avro.cli._write_options import add_write_options, block_writer, metadata

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
    headers = [header(i) for i in inputs]
    schemas = {json.dumps(h.schema, sort_keys=True) for h in headers}
    compression: Any = args.compression or headers[0].codec  # a codec's name, as the header or --compression gives it
    if len(schemas) > 1:
        print(
            f"concat: the inputs have {len(schemas)} different schemas: their records are read with the schema "
            "they read as together and written again",
            file=sys.stderr,
        )
        sink_avro(
            # The files' records alone, in the schema they read as together.
            scan_avro(args.inputs, hive_partitioning=False, **UNIFIED, **remote(args)),
            out,
            compression=compression,
            compression_level=args.compression_level,
            metadata={**headers[0].user_metadata, **metadata(args)},
            **remote(args),
        )
        return 0
    with (
        Progress(args, total_size(inputs), len(inputs), "concat") as progress,
        block_writer(out, headers[0], args, compression=compression) as writer,
    ):
        done = 0
        for n, i in enumerate(inputs):
            _copy_blocks(AvroBlockReader(i, data="stored"), i, writer, progress, done, n)
            done += i.size or 0
            progress.update(done, n + 1)
    return 0


def _copy_blocks(
    reader: AvroBlockReader, i: AvroFile, writer: AvroBlockWriter, progress: Progress, done: int, n: int
) -> None:
    """A file's blocks into `writer`: as they are where the codec is the writer's, else recompressed."""

    def blocks() -> Iterator[AvroBlock]:
        for block in reader:
            yield block
            progress.update(done + reader.position, n)

    writer.write_blocks(blocks(), reader.header.codec, source=i.path)


def recodec(args: argparse.Namespace) -> int:
    args.inputs = [args.input]
    (i,) = expand_inputs(args)
    reader = AvroBlockReader(i, data="stored")
    with (
        Progress(args, i.size, 1, "recodec") as progress,
        block_writer(args.output, reader.header, args) as writer,
    ):
        _copy_blocks(reader, i, writer, progress, 0, 0)
        progress.update(reader.position, 1)
    return 0


def repair(args: argparse.Namespace) -> int:
    args.inputs = [args.input]
    (i,) = expand_inputs(args)
    reader = AvroBlockReader(i, data="stored", check_records=True, repair=True)
    blocks = records = 0
    codec: Any = reader.header.codec
    with (
        Progress(args, i.size, 1, "repair") as progress,
        AvroBlockWriter(output_target(args.output), reader.header, compression=codec, **remote(args)) as writer,
    ):
        for block in reader:
            writer.write_block(block.records, block.data, compressed=True)
            blocks, records = blocks + 1, records + block.records
            progress.update(reader.position, 0)
        progress.update(reader.position, 1)
    skipped = reader.skipped
    _report(i.path, skipped)
    print(f"repair: kept {blocks:,} blocks, {records:,} records", file=sys.stderr)
    return DAMAGED if skipped else 0


def _report(name: str, skipped: list[SkippedBlock]) -> None:
    for s in skipped:
        lost = "an unknown number of records" if s.records is None else f"{s.records:,} records"
        print(f"{name}: left out {lost}: {s.message}", file=sys.stderr)


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
                with AvroReader(i, columns=[], ignore_errors=True, glob=False, **remote(args)) as reader:
                    for batch in reader:
                        records += batch.height
                        progress.update(done + reader.stats.bytes_read, n)
                skipped = reader.errors
            except AvroError as e:
                skipped = [SkippedBlock(type(e).__name__, i.path, None, None, None, str(e))]
            done += i.size or 0
            progress.update(done, n + 1)
            if skipped:
                damaged += 1
                _report(i.path, skipped)
            else:
                print(f"ok\t{records}\t{i.path}")
    if damaged:
        print(f"validate: {damaged} of {len(inputs)} files damaged", file=sys.stderr)
        return DAMAGED
    return 0
