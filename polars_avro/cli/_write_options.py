"""How the commands that write Avro files take their options, and the block writer they write with."""

from __future__ import annotations

import argparse
from typing import Any, cast, get_args

from polars_avro import AvroBlockWriter, AvroHeader, CompressionName
from polars_avro.cli._common import key_values, output_target, remote

#: What --compression takes: the writers' names, and those avro.codec entries use.
COMPRESSIONS = list(get_args(CompressionName))


def add_write_options(parser: argparse.ArgumentParser, *, compression: str | None = "uncompressed") -> None:
    """--compression (None: the input's codec), --compression-level, --metadata and --sync-interval."""
    parser.add_argument(
        "--compression",
        "-c",
        default=compression,
        choices=COMPRESSIONS,
        help="the block codec" + (f" (default {compression})" if compression else " (default: the input's)"),
    )
    parser.add_argument("--compression-level", "-l", type=int, help="the codec's level (default: the codec's)")
    parser.add_argument(
        "--metadata",
        "-m",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a user metadata entry of the header (repeat for more)",
    )
    parser.add_argument(
        "--sync-interval",
        type=int,
        help="uncompressed bytes a block aims at (default: write_avro's)",
    )


def metadata(args: argparse.Namespace) -> dict[str, str]:
    return key_values(args.metadata, "--metadata")


def block_writer(
    path: str | None, schema: str | AvroHeader, args: argparse.Namespace, *, compression: str | None = None
) -> AvroBlockWriter:
    """The Avro file a command writes block by block: at `path`, or standard output.

    A header given as `schema` carries its user metadata over; --metadata entries replace or add to it.
    """
    options: dict[str, Any] = {} if args.sync_interval is None else {"sync_interval": args.sync_interval}
    return AvroBlockWriter(
        output_target(path),
        schema,
        compression=cast("CompressionName", compression or args.compression),
        compression_level=args.compression_level,
        metadata=metadata(args),
        **options,
        **remote(args),
    )
