"""Turning what users pass as a source into a list of things the Rust reader opens."""

from __future__ import annotations

import glob as _glob
import io
import os
from pathlib import Path
from typing import IO, Union

from polars_avro.exceptions import AvroArgumentError, AvroFileNotFoundError

#: What scan_avro and read_avro accept.
AvroSource = Union[str, Path, bytes, bytearray, memoryview, IO[bytes], "list[str | Path]"]

_GLOB_CHARS = frozenset("*?[")


class FileObjectSource:
    """A binary file object, rewound before each read so a LazyFrame can be collected again."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.start = file.tell() if _seekable(file) else None
        self.name = str(getattr(file, "name", "<file object>"))
        if self.start is None:
            # A one-shot stream: keep its bytes so the scan can run more than once.
            self.data: bytes | None = file.read()
        else:
            self.data = None

    def open(self) -> IO[bytes] | bytes:
        if self.data is not None:
            return self.data
        self.file.seek(self.start)  # type: ignore[arg-type]
        return self.file


def _seekable(file: IO[bytes]) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, ValueError, OSError):
        return False


class Sources:
    """The expanded sources: paths (as strings), bytes, or file objects."""

    def __init__(self, items: list[str | bytes | FileObjectSource]) -> None:
        self.items = items

    def name(self, item: str | bytes | FileObjectSource) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, FileObjectSource):
            return item.name
        return "<bytes>"

    @staticmethod
    def opened(item: str | bytes | FileObjectSource) -> str | bytes | IO[bytes]:
        return item.open() if isinstance(item, FileObjectSource) else item


def expand_sources(source: AvroSource, *, glob: bool = True) -> Sources:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Sources([bytes(source)])
    if isinstance(source, (str, os.PathLike)):
        return Sources(_expand_path(os.fspath(source), glob=glob))
    if isinstance(source, (list, tuple)):
        items: list[str | bytes | FileObjectSource] = []
        for s in source:
            items.extend(expand_sources(s, glob=glob).items)
        if not items:
            msg = "no sources given: the list is empty"
            raise AvroArgumentError(msg)
        return Sources(items)
    if hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            msg = "the file object is in text mode: open it in binary mode ('rb')"
            raise AvroArgumentError(msg)
        return Sources([FileObjectSource(source)])  # type: ignore[arg-type]
    msg = f"expected a path, a list of paths, bytes or a binary file object, found {type(source).__name__}"
    raise AvroArgumentError(msg)


def _expand_path(path: str, *, glob: bool) -> list[str | bytes | FileObjectSource]:
    path = os.path.expanduser(path)
    if os.path.isdir(path):
        files = sorted(str(p) for p in Path(path).rglob("*.avro") if p.is_file())
        if not files:
            msg = f"the directory '{path}' holds no .avro files"
            raise _not_found(msg, path)
        return list(files)
    if glob and any(c in path for c in _GLOB_CHARS) and not os.path.exists(path):
        files = sorted(p for p in _glob.glob(path, recursive=True) if os.path.isfile(p))
        if not files:
            msg = f"no files match the pattern '{path}'"
            raise _not_found(msg, path)
        return list(files)
    return [path]


def _not_found(message: str, path: str) -> AvroFileNotFoundError:
    err = AvroFileNotFoundError(message)
    err.file = path
    return err
