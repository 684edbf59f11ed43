"""URLs of the file systems only fsspec reaches (``memory://``, ``sftp://``, ``hf://``, ...).

The Rust object store reads and writes ``s3://``, ``gs://``, ``az://``, ``abfs(s)://`` and
``http(s)://`` itself; any other protocol is opened through fsspec, when it is installed (the
``fsspec`` extra), as polars-avro 0.13 opened every URL. Its files are buffered file objects,
read and written a block at a time: memory stays bounded, as with any file object.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import IO, Any

from polars_avro.exceptions import AvroArgumentError, AvroFileNotFoundError

#: The URL schemes the Rust object store serves (object_store's ObjectStoreScheme, less
#: ``memory``, which lives in the Rust process only, and ``file``, a local path).
OBJECT_STORE_SCHEMES = frozenset({"s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss", "http", "https"})


def reaches(url: str) -> bool:
    """Whether a URL (``scheme://...``) is one only fsspec reaches."""
    from urllib.parse import urlparse

    scheme = urlparse(url).scheme.lower()
    return scheme not in OBJECT_STORE_SCHEMES and scheme != "file"


def file_system(url: str, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    """The fsspec file system for the URL, with ``storage_options`` as its options, and the path in it."""
    try:
        fsspec = importlib.import_module("fsspec")
    except ImportError:
        msg = (
            f"'{url}' names a file system only fsspec reaches (the object stores read here are "
            "s3, gs, az, abfs, http and https): install fsspec (this package's fsspec extra: "
            "pip install fsspec) and the file system's own package (sshfs, gcsfs, ...)"
        )
        raise AvroArgumentError(msg) from None
    try:
        return fsspec.core.url_to_fs(url, **dict(storage_options or {}))  # type: ignore[no-any-return]
    except (ImportError, ValueError, TypeError) as e:  # an unknown protocol, its package missing, a bad option
        msg = f"fsspec cannot open '{url}': {e}"
        raise AvroArgumentError(msg) from e


def open_for_reading(fs: Any, path: str, url: str) -> IO[bytes]:
    """The file at ``path`` of the file system :func:`file_system` gave, which ``url`` names."""
    try:
        file = fs.open(path, "rb")
    except FileNotFoundError as e:
        err = AvroFileNotFoundError(f"no file at '{url}'")
        err.file = url
        raise err from e
    # Errors name a file object by its name: the URL, as given.
    file.name = url
    return file  # type: ignore[no-any-return]


class Writing:
    """A file being written at a URL: it appears (or replaces the one there) when finished.

    Written in a transaction of its own file system instance, as fsspec's transactions write:
    a failed write is discarded (an upload aborted, nothing stored) and leaves no partial file.
    """

    def __init__(self, url: str, storage_options: Mapping[str, Any] | None) -> None:
        # An instance of its own: a transaction holds every file its instance opens.
        fs, path = file_system(url, {**(storage_options or {}), "skip_instance_cache": True})
        self.transaction = fs.transaction
        self.transaction.start()
        self.file: IO[bytes] = fs.open(path, "wb")
        self.file.name = url

    def finish(self) -> None:
        self.file.close()
        self.transaction.complete(commit=True)

    def discard(self) -> None:
        self.transaction.complete(commit=False)
