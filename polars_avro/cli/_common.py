"""What the commands share: their inputs (paths, globs, directories, URLs), options, output and progress."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from polars_avro import _internal
from polars_avro._sources import RemoteOptions, Sources, expand_sources
from polars_avro._write import _target


class UsageError(Exception):
    """A command given arguments it cannot use (exit status 2, as argparse's own errors)."""


def add_input_options(parser: argparse.ArgumentParser, *, several: bool = True) -> None:
    """The inputs of a command that reads Avro files, and how object stores are reached."""
    if several:
        parser.add_argument("inputs", nargs="+", metavar="INPUT", help="Avro files: paths, globs, folders or URLs")
    else:
        parser.add_argument("inputs", nargs=1, metavar="INPUT", help="an Avro file: a path or a URL")
    add_storage_options(parser)


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


def storage_options(args: argparse.Namespace) -> dict[str, str]:
    options = {}
    for item in args.storage_option:
        key, sep, value = item.partition("=")
        if not sep or not key:
            msg = f"--storage-option takes KEY=VALUE, found {item!r}"
            raise UsageError(msg)
        options[key] = value
    return options


def remote_options(args: argparse.Namespace) -> RemoteOptions:
    return RemoteOptions.of(storage_options(args), args.retries)


@dataclass
class Input:
    """One Avro file of a command's inputs: what the Rust reader opens, its name and size when known."""

    source: Any
    name: str
    size: int | None


def expand_inputs(args: argparse.Namespace) -> list[Input]:
    """Every file the inputs name, in order: globs and folders expanded as scan_avro expands them."""
    inputs: list[str] = args.inputs
    sources = expand_sources(list(inputs), remote=remote_options(args))
    out = []
    for item in sources.items:
        name = sources.name(item)
        size = None
        if isinstance(item, str) and os.path.isfile(item):
            size = os.path.getsize(item)
        elif isinstance(item, _internal.RemoteFile):
            size = item.size
        out.append(Input(Sources.opened(item), name, size))
    return out


@contextmanager
def output_target(path: str | None, args: argparse.Namespace) -> Iterator[str | IO[bytes] | Any]:
    """Where a command's file goes: standard output when no path (or ``-``) is given, else the path.

    The writer writes a local file under a temporary name and renames it at the end, so that
    a failed command leaves none behind; an object store URL becomes an upload completed at the end.
    """
    if path is None or path == "-":
        yield sys.stdout.buffer
        return
    with _target(path, remote_options(args)) as target:
        yield target


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


def total_size(inputs: Sequence[Input]) -> int | None:
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


def refuse(condition: bool, message: str) -> None:
    if condition:
        raise UsageError(message)
