"""Turning what users pass as a source into a list of things the Rust reader opens.

Local paths, objects in object stores, bytes and file objects.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union, cast

from polars_avro import _fsspec, _internal
from polars_avro.exceptions import AvroArgumentError, AvroFileNotFoundError, check_whole_number

#: What scan_avro and read_avro accept.
AvroSource = Union[str, Path, bytes, bytearray, memoryview, IO[bytes], "Sequence[str | Path]"]

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")


class FileObjectSource:
    """A binary file object, rewound before each read so a LazyFrame can be collected again.

    A stream that cannot be rewound (``one_shot``, or not seekable) is read once, here.
    """

    def __init__(self, file: IO[bytes], *, one_shot: bool = False, url: str | None = None) -> None:
        self.file = file
        self.start = file.tell() if not one_shot and _seekable(file) else None
        #: The URL an fsspec file was opened from, which is its path.
        self.url = url
        self.name = url if url is not None else str(getattr(file, "name", "<file object>"))
        if self.start is None:
            # A one-shot stream: keep its bytes so the scan can run more than once.
            self.data: bytes | None = _read_stream(file, self.name)
        else:
            self.data = None

    @classmethod
    def read_whole(cls, data: bytes, name: str) -> FileObjectSource:
        """A stream read to its end already (a pipe or a device), named by its path."""
        source = cls(io.BytesIO(), one_shot=True)
        source.name, source.data = name, data
        return source

    def open(self) -> IO[bytes] | bytes:
        if self.data is not None:
            return self.data
        self.file.seek(self.start)  # type: ignore[arg-type]
        return self.file


#: Bytes a stream is read in at a time: Ctrl-C is heard between two.
_STREAM_PIECE = 1 << 20


def _read_stream(file: IO[bytes], name: str) -> bytes:
    """A one-shot stream's bytes, read to its end.

    Refused after its first bytes when they cannot begin an Avro file: `/dev/zero` was
    read until memory ran out.
    """
    pieces = [file.read(4)]
    while isinstance(pieces[0], bytes) and 0 < len(pieces[0]) < 4 and (more := file.read(4 - len(pieces[0]))):
        pieces[0] += more
    if isinstance(pieces[0], bytes):
        _internal.check_magic(pieces[0], name)
    while piece := file.read(_STREAM_PIECE):
        pieces.append(piece)
    return b"".join(pieces)


def _seekable(file: IO[bytes]) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, ValueError, OSError):
        return False


Item = Union[str, bytes, FileObjectSource, "_internal.RemoteFile"]


@dataclass
class Sources:
    """The expanded sources, and for each the folder a pattern or directory started from.

    Hive partitions are the folders below it; None: every folder of the path.
    """

    items: list[Item]
    bases: list[str | None]

    def name(self, item: Item) -> str:
        if isinstance(item, str):
            return item
        if isinstance(item, FileObjectSource):
            return item.name
        if isinstance(item, _internal.RemoteFile):
            return item.url
        return "<bytes>"

    def path(self, index: int) -> str | None:
        """The path or URL of a source that has one."""
        item = self.items[index]
        if isinstance(item, FileObjectSource):
            return item.url
        return self.name(item) if isinstance(item, (str, _internal.RemoteFile)) else None

    @staticmethod
    def opened(item: Item) -> Any:
        return item.open() if isinstance(item, FileObjectSource) else item


@dataclass(frozen=True)
class RemoteOptions:
    """How object stores are reached: ``storage_options`` and ``retries``."""

    storage_options: list[tuple[str, str]]
    retries: int
    #: ``storage_options`` as given, values untouched: the options of an fsspec file system.
    given: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, storage_options: Mapping[str, Any] | None, retries: int) -> RemoteOptions:
        check_whole_number("retries", retries, 0)
        if storage_options is not None and not isinstance(storage_options, Mapping):
            msg = f"storage_options must be a dict of option names to values, found {type(storage_options).__name__}"
            raise AvroArgumentError(msg)
        options = [(str(k), _option_value(v)) for k, v in (storage_options or {}).items()]
        return cls(options, retries, dict(storage_options or {}))

    def file(self, url: str, size: int | None = None, etag: str | None = None) -> _internal.RemoteFile:
        return _internal.RemoteFile(
            url, storage_options=self.storage_options, retries=self.retries, size=size, etag=etag
        )

    def listed(self, url: str, *, glob: bool) -> Sources:
        """The objects a URL names (Rust's rule, ``source::remote::list_url``), sorted."""
        files, bases = _internal.list_url(url, glob=glob, storage_options=self.storage_options, retries=self.retries)
        return Sources(list(files), list(bases))


def is_remote_url(path: str) -> bool:
    """Whether a path is an object store URL (a ``file://`` URL is a local path)."""
    # urllib.parse is imported where it is used, as in the package's other modules: it
    # costs 2 ms of `import polars_avro`, which local reads never need.
    from urllib.parse import urlparse

    return bool(_URL.match(path)) and urlparse(path).scheme != "file"


def _option_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def expand_sources(
    source: AvroSource,
    *,
    glob: bool = True,
    hidden_file_prefix: tuple[str, ...] = (),
    remote: RemoteOptions | None = None,
) -> Sources:
    """The files a source names.

    A directory gives every ``.avro`` file below it, as the glob ``dir/**/*.avro`` does,
    and files whose names begin with one of ``hidden_file_prefix`` are left out, whoever
    named them (Polars' rule).
    """
    expanded = _expand(source, glob=glob, remote=remote or RemoteOptions([], 2))
    if not hidden_file_prefix:
        return expanded
    # Rust's rule, and its message where every file is hidden: one call for all files.
    names = [expanded.name(item) if isinstance(item, (str, _internal.RemoteFile)) else None for item in expanded.items]
    given = [os.fsdecode(source)] if isinstance(source, (str, os.PathLike)) else []
    kept = _internal.visible_files(names, given, list(hidden_file_prefix))
    return Sources([expanded.items[i] for i in kept], [expanded.bases[i] for i in kept])


def store_url(source: AvroSource) -> str | None:
    """The URL of a source naming an object in a store, a folder or a pattern of them.

    Rust lists and plans those in one call (``_internal.plan_remote_scan``). None for any
    other source, fsspec's URLs among them: Python expands those.
    """
    if not isinstance(source, (str, os.PathLike)):
        return None
    url = os.fspath(source)
    if not isinstance(url, str) or not is_remote_url(url) or _fsspec.reaches(url):
        return None
    return url


def local_paths(source: AvroSource) -> list[str] | None:
    """The paths of a source of local paths, or None where Python expands the source.

    Rust lists local paths (and leaves hidden files out) in the scan's one planning call,
    ``_internal.plan_local_scan``. Python expands URLs (``file://`` too), bytes, file
    objects, pipes and devices.
    """
    if isinstance(source, (str, os.PathLike)):
        given: list[Any] = [source]
    elif isinstance(source, (list, tuple)) and source:
        given = list(source)
    else:
        return None
    paths = []
    for item in given:
        path = os.fspath(item) if isinstance(item, (str, os.PathLike)) else None
        if not isinstance(path, str) or _URL.match(path):
            return None
        path = os.path.expanduser(path)
        if _is_stream(path):
            return None
        paths.append(path)
    return paths


def _expand(source: AvroSource, *, glob: bool, remote: RemoteOptions) -> Sources:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return Sources([bytes(source)], [None])
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, str) and _URL.match(path):
            return _expand_url(path, glob=glob, remote=remote)
        return _expand_path(path, glob=glob)
    if isinstance(source, Sequence):
        out = Sources([], [])
        # Bytes, the one other sequence a source may be, were taken above.
        for s in cast("Sequence[str | Path]", source):
            more = _expand(s, glob=glob, remote=remote)
            out.items.extend(more.items)
            out.bases.extend(more.bases)
        if not out.items:
            msg = "no sources given: the list is empty"
            raise AvroArgumentError(msg)
        return out
    if hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            msg = "the file object is in text mode: open it in binary mode ('rb')"
            raise AvroArgumentError(msg)
        return Sources([FileObjectSource(source)], [None])
    msg = f"expected a path, a URL, a list of paths, bytes or a binary file object, found {type(source).__name__}"
    raise AvroArgumentError(msg)


def is_directory(source: AvroSource) -> bool:
    """Whether the source is one directory: a local one, or a URL ending in ``/``.

    A list of one directory is one too, as Polars' ``scan_parquet([folder])`` has it.
    """
    if isinstance(source, (list, tuple)) and len(source) == 1:
        source = source[0]
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = os.fspath(source)
    from urllib.parse import unquote, urlparse

    if isinstance(path, str) and _URL.match(path) and urlparse(path).scheme != "file":
        return path.endswith("/")
    if isinstance(path, str) and path.startswith("file://"):
        path = unquote(urlparse(path).path)
    return os.path.isdir(os.path.expanduser(path))


def _expand_path(path: str, *, glob: bool) -> Sources:
    path = os.path.expanduser(path)
    if _is_stream(path):
        # A pipe or a device (`/dev/stdin` fed by a pipe) gives its bytes once, and the
        # scan reads the header before the data: its bytes are kept, as a stream's are.
        # Read in Rust, in waits that Ctrl-C stops (a pipe with no writer waits for one);
        # where there are no POSIX pipes to wait on (Windows), read as a file object is.
        if hasattr(_internal, "read_stream"):
            data = _internal.read_stream(path)
        else:
            with open(path, "rb") as stream:
                data = _read_stream(stream, path)
        return Sources([FileObjectSource.read_whole(data, path)], [None])
    # A directory's files, a pattern's matches or the path itself: Rust's rule and messages,
    # as a local scan's one planning call lists them.
    files, bases = _internal.list_local(path, glob)
    return Sources(list(files), list(bases))


def _is_stream(path: str) -> bool:
    """Whether a path names something other than a regular file or a directory."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False  # missing: the reader says so, naming the path
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _expand_url(url: str, *, glob: bool, remote: RemoteOptions) -> Sources:
    from urllib.parse import unquote, urlparse

    parsed = urlparse(url)
    if parsed.scheme == "file":
        # A local path spelled as a URL: read it as any local path.
        return _expand_path(unquote(parsed.path), glob=glob)
    if _fsspec.reaches(url):
        return _expand_fsspec(url, glob=glob, remote=remote)
    return remote.listed(url, glob=glob)


def _expand_fsspec(url: str, *, glob: bool, remote: RemoteOptions) -> Sources:
    """What :func:`_expand_url` does for object stores, through fsspec.

    The files' URLs keep the spelling of the one given (fsspec's own would be
    ``memory:///...``); the files are opened as file objects, named by their URLs.
    """
    fs, path = _fsspec.file_system(url, remote.given)
    if url.endswith("/"):
        base, base_path = url, path.rstrip("/") + "/"
        found = [p for p in fs.find(path) if p.endswith(".avro")]
        nothing = f"no .avro files under '{url}'"
    elif glob and _internal.has_glob(path):
        base, base_path = _internal.glob_base(url), _internal.glob_base(path)
        found = list(fs.glob(path))
        nothing = f"no files match the pattern '{url}'"
    else:
        return Sources([FileObjectSource(_fsspec.open_for_reading(fs, path, url), url=url)], [None])
    if not found:
        raise _not_found(nothing, url)
    files: list[Item] = []
    for p in sorted(found):
        file_url = base + p[len(base_path) :] if p.startswith(base_path) else fs.unstrip_protocol(p)
        files.append(FileObjectSource(_fsspec.open_for_reading(fs, p, file_url), url=file_url))
    return Sources(files, [base] * len(files))


def _not_found(message: str, path: str) -> AvroFileNotFoundError:
    err = AvroFileNotFoundError(message)
    err.file = path
    return err
