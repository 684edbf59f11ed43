"""What a write's target is handed to the Rust writer as: a path, an object to upload, or a file object."""

from __future__ import annotations

import os
from typing import IO, Any

from polars_avro import _fsspec, _internal
from polars_avro._arguments import AvroTarget
from polars_avro._sources import RemoteOptions


class Target:
    """What a write's target is handed to the Rust writer as, which decides the rest (``sink::Target``).

    A path (``~`` expanded) goes as it is: the writer replaces a local file whole
    (a temporary file beside it, renamed into place on success and removed on failure),
    and writes a pipe or a device as it is. An object store URL becomes the object to
    upload (the upload itself makes the object appear only when it completes). A URL only
    fsspec reaches becomes its file system's file, closed on success and discarded on
    failure; a file object is written as it is.
    """

    def __init__(self, file: AvroTarget, remote: RemoteOptions) -> None:
        self.file = file
        self.remote = remote
        self.fsspec_file: _fsspec.Writing | None = None

    def __enter__(self) -> str | IO[bytes] | _internal.RemoteFile:
        if isinstance(self.file, str) and _internal.is_store_url(self.file):
            if _fsspec.reaches(self.file):
                self.fsspec_file = _fsspec.Writing(self.file, self.remote.given)
                return self.fsspec_file.file
            return self.remote.file(self.file)
        if isinstance(self.file, (str, os.PathLike)):
            return os.path.expanduser(os.fspath(self.file))
        # A file object; anything else the writer refuses, saying what it takes.
        return self.file

    @staticmethod
    def name_of(file: AvroTarget) -> str | None:
        """How errors name a path or URL: as the user gave it (None: the writer's choice)."""
        if isinstance(file, (str, os.PathLike)):
            return os.fsdecode(file)
        return None

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.fsspec_file is not None:
            if exc_type is None:
                self.fsspec_file.finish()
            else:
                self.fsspec_file.discard()
