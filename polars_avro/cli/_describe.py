"""Commands that describe files without reading their records: schema, meta, count, fingerprint, canonical."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from typing import Any, get_args

import polars as pl

from polars_avro import (
    AvroBlockReader,
    AvroFile,
    FingerprintAlgorithm,
    fingerprint,
    parsing_canonical_form,
    read_avro_header,
    read_avro_schema,
    scan_avro,
    unify_schemas,
)
from polars_avro.cli._common import (
    UNIFIED,
    Progress,
    add_hive_options,
    add_input_options,
    add_storage_options,
    expand_inputs,
    header,
    remote,
    total_size,
)


def add_commands(commands: Any) -> None:
    p = commands.add_parser(
        "schema",
        help="print the writer schema",
        description="Print the Avro schema the files were written with (avro-tools getschema). Files whose "
        "schemas differ print the one schema they read as together.",
    )
    add_input_options(p)
    p.add_argument(
        "--polars",
        action="store_true",
        help="print the Polars schema the files read into instead, partition columns included",
    )
    add_hive_options(p)
    p.set_defaults(run=schema)

    p = commands.add_parser(
        "meta",
        help="print each file's codec, sync marker, metadata and blocks",
        description="Describe each file from its header and block framing, without decompressing: codec, "
        "sync marker, user metadata, blocks, records and block sizes (avro-tools getmeta, and more).",
    )
    add_input_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per file, on a line each")
    p.set_defaults(run=meta)

    p = commands.add_parser(
        "count",
        help="count the records, from the block headers",
        description="Count the records of the files from their block headers, without decompressing.",
    )
    add_input_options(p)
    p.add_argument("--per-file", action="store_true", help="a count for each file, then the total")
    p.set_defaults(run=count)

    for name, run, what in (
        ("fingerprint", fingerprint_command, "the fingerprint of a schema's Parsing Canonical Form"),
        ("canonical", canonical, "a schema in Parsing Canonical Form"),
    ):
        p = commands.add_parser(
            name,
            help=f"print {what}",
            description=f"Print {what}. SCHEMA is an Avro file (its writer schema), a schema file (.avsc) "
            "or schema JSON text.",
        )
        p.add_argument("schema", metavar="SCHEMA")
        if name == "fingerprint":
            p.add_argument(
                "--algorithm",
                "-a",
                default="CRC-64-AVRO",
                choices=get_args(FingerprintAlgorithm),
                help="CRC-64-AVRO (a signed 64-bit integer, as Java prints it), MD5 or SHA-256 (hex)",
            )
        add_storage_options(p)
        p.set_defaults(run=run)


def schema(args: argparse.Namespace) -> int:
    if args.polars:
        polars_schema = read_avro_schema(args.inputs, hive_partitioning=args.hive, **UNIFIED, **remote(args))
        width = max((len(n) for n in polars_schema), default=0)
        for name, dtype in polars_schema.items():
            print(f"{name:<{width}}  {dtype}")
        return 0
    inputs = expand_inputs(args)
    schemas = {i.path: header(i).schema_json for i in inputs}
    distinct = list(dict.fromkeys(schemas.values()))
    text = distinct[0] if len(distinct) == 1 else unify_schemas(schemas)
    if len(distinct) > 1:
        print(f"{len(distinct)} different writer schemas: printing the one they read as together", file=sys.stderr)
    print(json.dumps(json.loads(text), indent=2))
    return 0


def schema_text(text: str, args: argparse.Namespace) -> str:
    """SCHEMA as JSON text: an Avro file's writer schema, a schema file's text, or JSON (or a type name) as given."""
    if os.path.isfile(text):
        with open(text, "rb") as f:
            is_avro = f.read(4) == b"Obj\x01"
        if not is_avro:
            with open(text, encoding="utf-8") as f:
                return f.read()
    elif "://" not in text:
        return text.strip()
    return read_avro_header(text, **remote(args)).schema_json


def fingerprint_command(args: argparse.Namespace) -> int:
    value = fingerprint(schema_text(args.schema, args), args.algorithm)
    print(value.hex() if isinstance(value, bytes) else value)
    return 0


def canonical(args: argparse.Namespace) -> int:
    print(parsing_canonical_form(schema_text(args.schema, args)))
    return 0


def count(args: argparse.Namespace) -> int:
    if not args.per_file:
        lf = scan_avro(args.inputs, **UNIFIED, **remote(args))
        print(lf.select(pl.len()).collect().item())
        return 0
    inputs = expand_inputs(args)
    total = 0
    for i in inputs:
        records = records_in(i)
        total += records
        print(f"{records}\t{i.path}")
    print(f"{total}\ttotal")
    return 0


def meta(args: argparse.Namespace) -> int:
    inputs = expand_inputs(args)
    with Progress(args, total_size(inputs), len(inputs), "meta") as progress:
        done = 0
        for n, i in enumerate(inputs):
            facts = file_facts(i)
            done += i.size or 0
            progress.update(done, n + 1)
            if args.json:
                print(json.dumps(facts))
            else:
                print_facts(facts, several=len(inputs) > 1)
    return 0


def records_in(i: AvroFile) -> int:
    """The records of a file, from its block framing: the data is skipped, not read."""
    return sum(block.records for block in AvroBlockReader(i, data="framing"))


def file_facts(i: AvroFile) -> dict[str, Any]:
    reader = AvroBlockReader(i, data="framing")
    sizes, records = [], 0
    for block in reader:
        records += block.records
        sizes.append(block.size)
    header = reader.header
    return {
        "file": i.path,
        "bytes": reader.position,
        "codec": header.codec,
        "sync_marker": header.sync_marker.hex(),
        "schema_fingerprint": fingerprint(header.schema_json),
        "metadata": {k: _metadata_text(v) for k, v in header.user_metadata.items()},
        "blocks": len(sizes),
        "records": records,
        "block_bytes": {
            "min": min(sizes, default=0),
            "median": int(statistics.median(sizes)) if sizes else 0,
            "max": max(sizes, default=0),
        },
    }


def _metadata_text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + value.hex()


def print_facts(facts: dict[str, Any], *, several: bool) -> None:
    if several:
        print(f"{facts['file']}:")
    indent = "  " if several else ""
    sizes = facts["block_bytes"]
    rows = [
        ("bytes", f"{facts['bytes']:,}"),
        ("codec", facts["codec"]),
        ("sync marker", facts["sync_marker"]),
        ("schema fingerprint", f"{facts['schema_fingerprint']} (CRC-64-AVRO)"),
        ("blocks", f"{facts['blocks']:,}"),
        ("records", f"{facts['records']:,}"),
        ("block bytes", f"min {sizes['min']:,}, median {sizes['median']:,}, max {sizes['max']:,} (as stored)"),
    ]
    rows += [(f"metadata {k}", v) for k, v in facts["metadata"].items()]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{indent}{key:<{width}}  {value}")
