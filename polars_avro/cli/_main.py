"""The parser, and how failures become one line on standard error and an exit status."""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence

from polars_avro import __version__
from polars_avro.cli import _convert, _describe, _records, _rewrite
from polars_avro.cli._common import UsageError, polars_message
from polars_avro.exceptions import (
    AvroArgumentError,
    AvroError,
    AvroIOError,
    AvroPolarsBugWarning,
    AvroSchemaError,
)

#: Exit statuses, as docs/cli.md lists them: 1 is also "damaged" for repair and validate.
FAILED = 1
USAGE = 2
IO_FAILED = 3
SCHEMA_FAILED = 4
INTERRUPTED = 130


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="polars-avro",
        description="Look into, check, convert and rewrite Avro files: paths, globs, folders and object store "
        "URLs (s3://, gs://, az://, http(s)://).",
    )
    top.add_argument("--version", action="version", version=f"polars-avro {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bar or notes on standard error")
    common.add_argument("--progress", action="store_true", help="a progress bar even when not on a terminal")
    common.add_argument("--debug", action="store_true", help="on failure, the full traceback")
    commands = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_parser = commands.add_parser

    def with_common(name: str, **kwargs: object) -> argparse.ArgumentParser:
        return add_parser(name, parents=[common], **kwargs)  # type: ignore[arg-type]

    commands.add_parser = with_common  # type: ignore[method-assign]
    for module in (_describe, _records, _convert, _rewrite):
        module.add_commands(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a command; returns its exit status."""
    top = parser()
    args = top.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # The commands' own queries take none of the shapes Polars' bugs give wrong rows.
            warnings.simplefilter("ignore", AvroPolarsBugWarning)
            status: int = args.run(args)
        return status
    except UsageError as e:
        top.exit(USAGE, f"polars-avro {args.command}: error: {e}\n")
    except BrokenPipeError:
        # The reader of standard output went away (`| head`): nothing more to say.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as e:
        if args.debug:
            traceback.print_exc()
        print(f"polars-avro {args.command}: {_one_line(e)}", file=sys.stderr)
        return _status(e)
    return 0


def _status(e: Exception) -> int:
    if isinstance(e, AvroArgumentError):
        return USAGE
    if isinstance(e, (AvroIOError, OSError)):
        return IO_FAILED
    if isinstance(e, AvroSchemaError):
        return SCHEMA_FAILED
    return FAILED


def _one_line(e: Exception) -> str:
    """The error's message on one line; an error not of this package also says what it is."""
    text = polars_message(e)
    return text if isinstance(e, AvroError) else f"{type(e).__name__}: {text}"
