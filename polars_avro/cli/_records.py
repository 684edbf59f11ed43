"""Commands that print or make records: head, cat, tojson, fromjson, random, sample."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Iterator
from typing import IO, Any

from polars_avro import AvroBlockReader, AvroDatums, sample_file
from polars_avro.cli._common import (
    Progress,
    add_hive_options,
    add_input_options,
    add_storage_options,
    expand_inputs,
    refuse,
    total_size,
)
from polars_avro.cli._describe import schema_text
from polars_avro.cli._write_options import add_write_options, block_writer


def add_commands(commands: Any) -> None:
    for name, help_text, default, readable in (
        ("head", "print the first records as JSON lines", 10, True),
        ("cat", "print records as JSON lines", None, True),
        ("tojson", "print every record as JSON lines (avro-tools tojson)", None, False),
    ):
        logical = (
            "logical types show the values a person reads (decimals as numbers, dates, times and timestamps "
            "in ISO 8601; --stored for the values as stored)"
            if readable
            else "logical types show the values they are stored as"
        )
        p = commands.add_parser(
            name,
            help=help_text,
            description=f"{help_text[0].upper()}{help_text[1:]}, one record per line, straight from the "
            "blocks: a union shows its branch's value, bytes and fixed are strings of code points "
            f"U+0000-U+00FF, {logical}. With --avro-json, the Avro specification's JSON encoding (unions as "
            '{"type": value}, logical types as stored), as avro-tools prints it.',
        )
        add_input_options(p)
        add_hive_options(p)
        p.add_argument(
            "--avro-json",
            action="store_true",
            help="the specification's JSON encoding of the files' records (no partition columns)",
        )
        if readable:
            p.add_argument(
                "--stored", action="store_true", help="logical types as the values they are stored as (as tojson)"
            )
        p.set_defaults(readable=readable, stored=False)
        p.add_argument("-n", "--limit", type=int, default=default, help="print at most this many records")
        p.add_argument("--offset", type=int, default=0, help="leave out this many records first")
        p.set_defaults(run=print_records)

    p = commands.add_parser(
        "fromjson",
        help="write JSON lines as an Avro file",
        description="Write records given as JSON lines (one per line) into an Avro file of the given schema "
        "(avro-tools fromjson). Unions are written as the specification's JSON encoding says "
        '({"type": value}, null as null) with --avro-json; otherwise a union takes the first branch '
        "that fits the value.",
    )
    p.add_argument("input", metavar="INPUT", help="a file of JSON lines, or - for standard input")
    p.add_argument("output", metavar="OUTPUT", nargs="?", help="the Avro file (standard output if not given)")
    p.add_argument("--schema", "-s", required=True, help="an .avsc file, schema JSON text, or an Avro file")
    p.add_argument("--avro-json", action="store_true", help="the input is in the specification's JSON encoding")
    add_write_options(p)
    add_storage_options(p)
    p.set_defaults(run=fromjson)

    p = commands.add_parser(
        "random",
        help="write random records of a schema",
        description="Write random records of a schema, for tests: every type, union branch and logical type, "
        "with valid values; the same seed gives the same records.",
    )
    p.add_argument("output", metavar="OUTPUT", nargs="?", help="the Avro file (standard output if not given)")
    p.add_argument("--schema", "-s", required=True, help="an .avsc file, schema JSON text, or an Avro file")
    p.add_argument("--count", "-n", type=int, default=100, help="how many records (default 100)")
    p.add_argument("--seed", type=int, default=0, help="the random seed, from 0 (default 0)")
    add_write_options(p)
    add_storage_options(p)
    p.set_defaults(run=random)

    p = commands.add_parser(
        "sample",
        help="write the sample file the examples read",
        description="Write a copy of weather.avro, the sample the package carries (2,000 weather readings), "
        "for trying the other commands: the examples of the documentation read it.",
    )
    p.add_argument("output", metavar="OUTPUT", nargs="?", default="weather.avro", help="default weather.avro")
    p.set_defaults(run=sample)


def sample(args: argparse.Namespace) -> int:
    shutil.copyfile(sample_file(), args.output)
    return 0


def print_records(args: argparse.Namespace) -> int:
    refuse(args.limit is not None and args.limit < 0, f"--limit must be at least 0, found {args.limit}")
    refuse(args.offset < 0, f"--offset must be at least 0, found {args.offset}")
    # --avro-json: the records as their schema encodes them (for fromjson), no partitions.
    inputs = expand_inputs(args, hive=False if args.avro_json else args.hive)
    out = sys.stdout.buffer
    readable = args.readable and not args.avro_json and not args.stored
    skip, left = args.offset, args.limit
    done = 0
    with Progress(args, total_size(inputs), len(inputs)) as progress:
        for n, i in enumerate(inputs):
            if left == 0:
                break
            reader = AvroBlockReader(i, data="decompressed")
            datums = AvroDatums(reader.header.schema_json)
            fields = record_fields(reader.header.schema)
            for count, data, _, _ in reader:
                if skip >= count:
                    skip -= count
                    continue
                lines = datums.to_json(data, count, avro_json=args.avro_json, readable=readable)
                taken = count
                if skip or (left is not None and count - skip > left):
                    kept = lines.split(b"\n")[skip:count]
                    kept = kept if left is None else kept[:left]
                    lines, taken = b"".join(line + b"\n" for line in kept), len(kept)
                if left is not None:
                    left -= taken
                skip = 0
                out.write(with_partitions(lines, fields, i.partitions))
                progress.update(done + reader.position, n)
                if left == 0:
                    break
            done += i.size or reader.position
            progress.update(done, n + 1)
    out.flush()
    return 0


def with_partitions(lines: bytes, fields: list[str] | None, partitions: dict[str, Any]) -> bytes:
    """JSON lines of one file's records with its partition columns, as scan_avro's columns.

    A partition key the records hold (`fields`: a top-level record's) takes the path's value
    in its place; the others follow the fields. A value of another type (`fields` None) is
    the column ``value``, as scan_avro names it.
    """
    if not partitions:
        return lines
    if fields is not None and not set(fields) & set(partitions):
        members = _json(partitions)[1:-1]
        return lines.replace(b"}\n", (b"," if fields else b"") + members + b"}\n")
    out = []
    for line in lines.splitlines():
        record = json.loads(line) if fields is not None else {"value": json.loads(line)}
        record.update(partitions)
        out.append(_json(record) + b"\n")
    return b"".join(out)


def _json(value: Any) -> bytes:
    """Compact JSON; dates and times (partition values) in ISO 8601."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_iso)
    return text.encode()


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def record_fields(schema: Any) -> list[str] | None:
    """The field names of a top-level record schema; None for any other type."""
    if isinstance(schema, dict) and schema.get("type") == "record":
        return [field["name"] for field in schema["fields"]]
    return None


def _json_chunks(file: IO[bytes], size: int) -> Iterator[tuple[bytes, int]]:
    """Runs of whole lines of about `size` bytes, and the number of the first line of each."""
    line = 1
    while True:
        chunk = file.read(size)
        if not chunk:
            return
        if not chunk.endswith(b"\n"):
            chunk += file.readline()
        yield chunk, line
        line += chunk.count(b"\n")


def fromjson(args: argparse.Namespace) -> int:
    schema = schema_text(args.schema, args)
    datums = AvroDatums(schema)
    source = sys.stdin.buffer if args.input == "-" else open(args.input, "rb")  # noqa: SIM115
    try:
        with block_writer(args.output, schema, args) as writer:
            for chunk, first_line in _json_chunks(source, writer.sync_interval):
                data, count = datums.from_json(chunk, avro_json=args.avro_json, first_line=first_line)
                if count:
                    writer.write_block(count, data)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return 0


def random(args: argparse.Namespace) -> int:
    refuse(args.count < 0, f"--count must be at least 0, found {args.count}")
    refuse(not 0 <= args.seed < 2**64, f"--seed must be from 0 to 2**64 - 1, found {args.seed}")
    schema = schema_text(args.schema, args)
    datums = AvroDatums(schema)
    with block_writer(args.output, schema, args) as writer:
        # Blocks of a thousand records; record i is the same whatever the count.
        for first in range(0, args.count, 1000):
            n = min(1000, args.count - first)
            writer.write_block(n, datums.random(n, seed=args.seed, first=first))
    return 0
