"""What the commands share: their inputs (paths, globs, directories, URLs), options, output and progress."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, Any

from polars_avro import AvroBlockReader, AvroFile, AvroHeader, list_avro_files


class UsageError(Exception):
    """A command given arguments it cannot use (exit status 2, as argparse's own errors)."""


def add_input_options(parser: argparse.ArgumentParser, *, several: bool = True) -> None:
    """The inputs of a command that reads Avro files, and how object stores are reached."""
    if several:
        parser.add_argument("inputs", nargs="+", metavar="INPUT", help="Avro files: paths, globs, folders or URLs")
    else:
        parser.add_argument("inputs", nargs=1, metavar="INPUT", help="an Avro file: a path or a URL")
    add_storage_options(parser)


def add_hive_options(parser: argparse.ArgumentParser) -> None:
    """Whether ``key=value`` folder names are columns: by default as scan_avro has it."""
    hive = parser.add_mutually_exclusive_group()
    hive.add_argument(
        "--hive",
        dest="hive",
        action="store_const",
        const=True,
        default=None,
        help="read key=value folder names as columns (the default for one folder, as scan_avro)",
    )
    hive.add_argument("--no-hive", dest="hive", action="store_const", const=False, help="no partition columns")


def add_storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--storage-option",
        "-S",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an object store option, as storage_options takes it (repeat for more)",
    )
    parser.add_argument("--retries", type=int, default=2, help="retries of a failed object store request")


def key_values(items: list[str], option: str) -> dict[str, str]:
    """A repeated ``KEY=VALUE`` option (--storage-option, --metadata) as a dict, the last value of a key kept."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"{option} takes KEY=VALUE, found {item!r}"
            raise UsageError(msg)
        out[key] = value
    return out


def storage_options(args: argparse.Namespace) -> dict[str, str]:
    return key_values(args.storage_option, "--storage-option")


#: Several files are read as one by every file's schema, their fields unified (``schema_from``),
#: a column some files lack read as nulls there: the schema ``polars-avro schema`` prints for
#: them, whichever file comes first. A command looks at or converts a whole folder, which a
#: newer file's columns should not stop (a scan takes the first file's schema, as Polars' do).
UNIFIED: dict[str, Any] = {"schema_from": "all", "missing_columns": "insert"}


def remote(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments that say how object stores are reached: storage_options and retries."""
    return {"storage_options": storage_options(args), "retries": args.retries}


def expand_inputs(args: argparse.Namespace, *, hive: bool | None = False) -> list[AvroFile]:
    """Every file the inputs name, in order: globs and folders expanded as scan_avro expands them.

    With their partition columns where `hive` (None: as scan_avro has it, for one folder).
    """
    return list_avro_files(list(args.inputs), hive_partitioning=hive, **remote(args))


def header(i: AvroFile) -> AvroHeader:
    """A listed file's header (a block reader reads no block until asked)."""
    return AvroBlockReader(i, data="framing").header


def output_target(path: str | None) -> str | IO[bytes]:
    """Where a command's file goes: standard output when no path (or ``-``) is given, else the path."""
    return sys.stdout.buffer if path is None or path == "-" else path


class Progress:
    """A progress bar on standard error: files and bytes done, rate and time left.

    Drawn by tqdm (the ``cli`` extra) when standard error is a terminal, or always with
    ``--progress``; never with ``--quiet``. Without tqdm there is no bar.
    """

    def __init__(self, args: argparse.Namespace, total_bytes: int | None, files: int, what: str = "read") -> None:
        self.files = files
        self.bar: Any = None
        if not self.wanted(args):
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(
            total=total_bytes,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=what,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=True,
            mininterval=0.2,
        )

    @staticmethod
    def wanted(args: argparse.Namespace) -> bool:
        """Whether a bar is drawn: on a terminal or with --progress, never with --quiet."""
        return not args.quiet and (args.progress or sys.stderr.isatty())

    def update(self, bytes_done: int, files_done: int) -> None:
        if self.bar is None:
            return
        self.bar.set_postfix_str(f"{files_done}/{self.files} files", refresh=False)
        self.bar.update(max(0, bytes_done - self.bar.n))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def total_size(inputs: Sequence[AvroFile]) -> int | None:
    """The inputs' bytes, when every size is known."""
    sizes = [i.size for i in inputs]
    return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)


def parse_columns(text: str | None) -> list[str] | None:
    """``--columns a,b,c``."""
    if text is None:
        return None
    columns = [c.strip() for c in text.split(",") if c.strip()]
    if not columns:
        msg = "--columns names no column"
        raise UsageError(msg)
    return columns


def polars_message(error: Exception) -> str:
    """An error's message on one line, without the query plan Polars adds after it.

    The message is what a user acts on.
    """
    return " ".join(str(error).split("Resolved plan until failure")[0].split())


def refuse(condition: bool, message: str) -> None:
    if condition:
        raise UsageError(message)
