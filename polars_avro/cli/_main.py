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
    args, unknown = top.parse_known_args(argv)
    if unknown:
        _refuse_unknown(top, args.command, unknown)
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


def _refuse_unknown(top: argparse.ArgumentParser, command: str, unknown: list[str]) -> None:
    """Exits with the command's own usage, not the top level's, for arguments it does not take.

    A misspelt option gets the nearest of the command's options.
    """
    import difflib

    commands = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    sub: argparse.ArgumentParser = commands.choices[command]
    options = [o for action in sub._actions for o in action.option_strings if o.startswith("--")]
    near = [difflib.get_close_matches(u.split("=")[0], options, n=1) for u in unknown if u.startswith("-")]
    hint = "".join(f"; did you mean {n[0]}?" for n in near if n)
    sub.error(f"unrecognized arguments: {' '.join(unknown)}{hint}")


#: The package's advice, which names Python keywords, as the command line's own:
#: (Python's words, the shell's).
_SHELL_ADVICE = (
    (
        "pass ignore_errors=True to read its intact blocks (the damaged ones are reported), or rewrite it "
        "without them with `polars-avro repair`",
        "rewrite it without the damaged blocks with `polars-avro repair INPUT OUTPUT`, or find them with "
        "`polars-avro validate`",
    ),
    (
        'pass credential_provider=pl.CredentialProviderAWS(profile_name="...")',
        "set AWS_PROFILE (read through boto3 where it is installed)",
    ),
    ('storage_options={"aws_skip_signature": "true"}', "-S aws_skip_signature=true"),
    (
        "or pass credential_provider=pl.CredentialProviderAzure(...)",
        "or run `az login` and pass -S azure_use_azure_cli=true",
    ),
    ("in storage_options", "with -S KEY=VALUE"),
    ("storage_options: ", "-S: "),
    (" (pass mkdir=True to create it)", " (create it first)"),
)


def _in_shell_words(text: str) -> str:
    for python, shell in _SHELL_ADVICE:
        text = text.replace(python, shell)
    return text


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
    text = _in_shell_words(polars_message(e))
    return text if isinstance(e, AvroError) else f"{type(e).__name__}: {text}"
