"""What users pass as a source, handed to Rust's one planner (``_internal.plan_sources``).

Python passes paths, URLs, bytes and file objects on as they are, and lists only what Rust
cannot: the file systems only fsspec reaches.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union, cast

from polars_avro import _fsspec, _internal, _profiles
from polars_avro.exceptions import AvroArgumentError, AvroFileNotFoundError, AvroPermissionError

#: What scan_avro and read_avro accept.
AvroSource = Union[str, Path, bytes, bytearray, memoryview, IO[bytes], "Sequence[str | Path]"]

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")

Item = Union[str, bytes, "_internal.FileObject", "_internal.RemoteFile"]


@dataclass(frozen=True)
class RemoteOptions:
    """How object stores are reached: ``storage_options`` and ``retries``."""

    storage_options: list[tuple[str, str]]
    retries: int
    #: ``storage_options`` as given, values untouched: the options of an fsspec file system.
    given: Mapping[str, Any] = field(default_factory=dict, compare=False)
    #: The AWS profile whose keys were added (``credential_provider="auto"``), if any.
    profile: str | None = field(default=None, compare=False)

    @classmethod
    def of(
        cls,
        storage_options: Mapping[str, Any] | None,
        retries: int,
        *,
        source: object = None,
        credential_provider: object = None,
    ) -> RemoteOptions:
        """The options given, checked.

        With ``credential_provider="auto"``, where ``source`` names an S3 URL and nothing
        else gives keys, the keys of the AWS profile boto3 finds join them.
        """
        if storage_options is not None and not isinstance(storage_options, Mapping):
            msg = f"storage_options must be a dict of option names to values, found {type(storage_options).__name__}"
            raise AvroArgumentError(msg)
        given = dict(storage_options or {})
        found = None
        if (
            isinstance(credential_provider, str)
            and credential_provider == "auto"
            and _profiles.names_s3(_texts(source))
        ):
            found = _profiles.profile_credentials(given)
        options = {**given, **(found[1] if found else {})}
        pairs = [(str(k), _option_value(v)) for k, v in options.items()]
        return cls(pairs, retries, given, found[0] if found else None)

    @contextmanager
    def naming_profile(self) -> Iterator[None]:
        """Errors of access (wrong keys) say which AWS profile gave the keys, if one did."""
        try:
            yield
        except AvroPermissionError as e:
            if self.profile is None:
                raise
            msg = f"{e} (keys of the AWS profile '{self.profile}', found by credential_provider='auto')"
            raise AvroPermissionError(msg) from e

    def file(self, url: str, size: int | None = None, etag: str | None = None) -> _internal.RemoteFile:
        return _internal.RemoteFile(
            url, storage_options=self.storage_options, retries=self.retries, size=size, etag=etag
        )


def _texts(source: object) -> list[str]:
    """The paths and URLs a source names as text (none for bytes and file objects)."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        return [path] if isinstance(path, str) else []
    if isinstance(source, Sequence) and not isinstance(source, (bytes, bytearray, memoryview)):
        return [text for item in source for text in _texts(item)]
    return []


def _option_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def named(source: AvroSource, *, glob: bool, remote: RemoteOptions) -> list[Any]:
    """A source as Rust's planner takes it (``_internal.list_sources``).

    Paths and URLs as text, ``~`` expanded; bytes; file objects as they are; and the files of
    the URLs only fsspec reaches, which Python lists.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return [bytes(source)]
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not isinstance(path, str):
            path = os.fsdecode(path)
        if not _URL.match(path):
            return [os.path.expanduser(path)]
        return [_fsspec_listing(path, glob=glob, remote=remote)] if _fsspec.reaches(path) else [path]
    if isinstance(source, (_internal.RemoteFile, _internal.FileObject)):
        return [source]  # a file a listing found (list_avro_files)
    if isinstance(source, Sequence):
        # Bytes, the one other sequence a source may be, were taken above.
        return [item for s in cast("Sequence[str | Path]", source) for item in named(s, glob=glob, remote=remote)]
    if hasattr(source, "read"):
        return [source]  # Rust refuses one in text mode, and rewinds or reads it whole
    msg = f"expected a path, a URL, a list of paths, bytes or a binary file object, found {type(source).__name__}"
    raise AvroArgumentError(msg)


def _fsspec_listing(url: str, *, glob: bool, remote: RemoteOptions) -> tuple[str, str | None, list[Any]]:
    """The files of a URL only fsspec reaches, as Rust's planner takes a caller's listing.

    That is (the URL, the folder or pattern base they were listed from, [(file, its URL), ...]).

    A folder's ``.avro`` files, a pattern's matches, else the file; their URLs keep the
    spelling of the one given (fsspec's own would be ``memory:///...``).
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
        return url, None, [(_fsspec.open_for_reading(fs, path, url), url)]
    if not found:
        err = AvroFileNotFoundError(nothing)
        err.file = url
        raise err
    files = []
    for p in sorted(found):
        file_url = base + p[len(base_path) :] if p.startswith(base_path) else fs.unstrip_protocol(p)
        files.append((_fsspec.open_for_reading(fs, p, file_url), file_url))
    return url, base, files
