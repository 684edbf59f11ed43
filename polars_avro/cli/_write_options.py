"""How the commands that write Avro files take their options, and the block writer they write with."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from polars_avro import _internal
from polars_avro._write import DEFAULT_SYNC_INTERVAL, finishing
from polars_avro.cli._common import UsageError

#: What --compression takes: the writers' names, and those avro.codec entries use.
COMPRESSIONS = [*_internal.COMPRESSIONS, "null", "zstd"]


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
        default=DEFAULT_SYNC_INTERVAL,
        help=f"uncompressed bytes a block aims at (default {DEFAULT_SYNC_INTERVAL:,})",
    )


def metadata(args: argparse.Namespace) -> list[tuple[str, bytes]]:
    out = []
    for item in args.metadata:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"--metadata takes KEY=VALUE, found {item!r}"
            raise UsageError(msg)
        out.append((key, value.encode()))
    return out


@contextmanager
def block_writer(
    target: str | IO[bytes] | Any,
    schema_json: str,
    args: argparse.Namespace,
    *,
    compression: str | None = None,
    header_metadata: list[tuple[str, bytes]] | None = None,
    name: str | None = None,
) -> Iterator[_internal.BlockWriter]:
    """An Avro file written block by block, finished when the block ends without an error.

    `header_metadata` (kept from an input) comes first; --metadata entries replace or add to it.
    `name` is how errors name the file: the path the user gave, where `target` is a temporary file.
    """
    given = metadata(args)
    keys = {k for k, _ in given}
    entries = [(k, v) for k, v in (header_metadata or []) if k not in keys] + given
    with finishing(
        _internal.BlockWriter(
            target,
            schema_json,
            compression=compression or args.compression,
            compression_level=args.compression_level,
            metadata=entries,
            name=name,
        )
    ) as writer:
        yield writer
