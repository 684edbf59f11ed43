"""Other readers' and writers' keywords, for code moving over from them.

Polars' own (scan_parquet, read_parquet, write_parquet, sink_parquet): those that make sense
for Avro are taken with Polars' meaning (``credential_provider``, ``low_memory``, ``cache``,
``mkdir``, a sink's ``path``); the others are refused by :func:`refusing`, with an
:class:`~polars_avro.AvroKeywordError` (a ``TypeError``, as Python raises, and an
``AvroArgumentError``) that says why. The tables hold Polars 1.30's and 2.1's keywords alike.

The other Avro readers' (polars-avro 0.13 from PyPI, which has this package's import name, and
jetliner 0.2): their names for this package's keywords are taken as aliases, values that mean
what this package does anyway are taken, and the rest is refused the same way. See
docs/migrating.md.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, cast

from polars_avro.exceptions import AvroArgumentError, AvroKeywordError

#: Polars' ``credential_provider``: one of its ``CredentialProvider`` classes, or any callable
#: giving ``(credentials, expiry)`` as they do; ``"auto"`` and None: from the environment.
CredentialProvider = Union[Callable[[], "tuple[Mapping[str, Any], int | None]"], Literal["auto"], None]


_PYARROW = "this package reads and writes with its own Rust code, not pyarrow"
_NO_STATISTICS = "Avro files hold no column statistics"

#: Keywords of scan_parquet and read_parquet that reads refuse, and why.
READ_REFUSED = {
    "parallel": "Avro has no row groups or column chunks: blocks are decoded in parallel on n_threads threads",
    "use_statistics": f"{_NO_STATISTICS} to skip data by",
    "schema": (
        "the types come from the files' Avro schemas: pass reader_schema= (an Avro schema) to choose them, "
        "or schema_from='all' to read every file's"
    ),
    "cast_options": "pass reader_schema= (an Avro schema): Avro's promotions (int to long to double, ...) apply",
    "decryption": "Avro files are not encrypted",
    "use_pyarrow": _PYARROW,
    "pyarrow_options": _PYARROW,
    "memory_map": "local files are always memory-mapped",
    "rechunk": "the result keeps the chunks it was decoded in: call .rechunk() on the collected frame",
}

#: Keywords of polars-avro 0.13 (PyPI) and jetliner 0.2 that reads refuse, and why.
OTHER_READERS_REFUSED = {
    "strict": (
        "polars-avro 0.13's strict=True refuses unions whose null is not the first branch; "
        "this reader reads null in any place of a union, as strict=False does (leave strict out)"
    ),
    "utf8_view": (
        "polars-avro 0.13's utf8_view reads uuids as binary (False) or nulls in strings as '' (True); "
        "strings and uuids read as String here, nulls kept: cast the columns for other types"
    ),
    "buffer_blocks": "jetliner's read-ahead: pass files_in_flight= (files read ahead) and batch_size=",
    "buffer_bytes": "jetliner's read-ahead: pass files_in_flight= (files read ahead) and batch_size=",
    "read_chunk_size": "jetliner's request size: local files are memory-mapped and object stores read whole blocks",
    "max_block_size": "jetliner's block limit: blocks of up to 1 GiB are read, larger ones raise AvroFormatError",
}

#: Refused keywords taken after all with the value that asks for what this package does anyway
#: (code that spells out the other reader's default runs unchanged).
READ_HARMLESS = {"strict": False, "rechunk": False}

#: polars-avro 0.13's (PyPI) names of read keywords, and this package's.
READ_ALIASES = {"sources": "source"}

#: Keywords of write_parquet and sink_parquet that writes refuse, and why.
WRITE_REFUSED = {
    "statistics": _NO_STATISTICS,
    "row_group_size": "Avro has blocks, not row groups: sync_interval= sets their size in bytes",
    "data_page_size": "Avro has no pages: sync_interval= sets the size of blocks in bytes",
    "use_pyarrow": _PYARROW,
    "pyarrow_options": _PYARROW,
    "partition_chunk_size_bytes": "pass approximate_bytes_per_file= for the size of each part",
    "arrow_schema": "pass schema= (an Avro schema) to choose the written types",
    "field_overwrites": "pass schema= (an Avro schema) to choose the written types",
    "encryption": "Avro files are not encrypted",
    "sync_on_close": "the file is written whole and renamed into place, without an fsync: call os.fsync yourself",
    "maintain_order": "batches are always written in the query's order",
    "lazy": "the query runs when sink_avro is called: Polars' lazy sinks cannot drive this package's writer",
    "engine": "the query always runs on the streaming engine",
    "optimizations": "optimize the LazyFrame before sinking it: it is collected with Polars' default optimizations",
    "sinked_paths_callback": "partitioned output names its parts 00000000.avro, 00000001.avro, ... in key folders",
}

#: polars-avro 0.13's (PyPI) names of write keywords, and this package's (``codec`` takes its
#: values too: see ``Codec``).
WRITE_ALIASES = {"dest": "file", "codec": "compression"}

F = TypeVar("F", bound=Callable[..., Any])


def refusing(
    refused: Mapping[str, str],
    name: str,
    polars_name: str,
    *,
    others: Mapping[str, str] | None = None,
    harmless: Mapping[str, object] | None = None,
    aliases: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Wraps an entry point so that other readers' keywords it has no use for raise, saying why.

    The entry point is a function, or a class (its ``__init__`` is wrapped). ``refused`` are
    Polars' keywords and ``others`` the other Avro packages' (whose reasons name the package);
    a keyword of either given the value ``harmless`` holds for it is dropped. ``aliases`` maps
    other packages' names of keywords to the entry point's own. The signature
    (``inspect.signature``, ``help()``) and the types stay the function's own.
    """
    others = others or {}
    harmless = harmless or {}
    aliases = aliases or {}

    def decorate(target: F) -> F:
        if isinstance(target, type):
            target.__init__ = wrap(target.__init__)  # type: ignore[misc]
            return target
        return cast(F, wrap(target))

    def wrap(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            for keyword in list(kwargs):
                if keyword in harmless and _same(kwargs[keyword], harmless[keyword]):
                    del kwargs[keyword]
                elif keyword in refused:
                    msg = f"{name}() takes no {keyword}= (a keyword of Polars' {polars_name}): {refused[keyword]}"
                    raise AvroKeywordError(msg)
                elif keyword in others:
                    msg = f"{name}() takes no {keyword}=: {others[keyword]}"
                    raise AvroKeywordError(msg)
                elif keyword in aliases:
                    ours = aliases[keyword]
                    if ours in kwargs:
                        msg = f"{name}() takes {ours}= once: {keyword}= is another name for it, give one of them"
                        raise AvroKeywordError(msg)
                    kwargs[ours] = kwargs.pop(keyword)
            return function(*args, **kwargs)

        return checked

    return decorate


def _same(value: object, harmless: object) -> bool:
    """Equal and of the same type: ``strict=0`` is not ``strict=False``."""
    return type(value) is type(harmless) and value == harmless


def with_credentials(
    storage_options: Mapping[str, Any] | None, credential_provider: CredentialProvider
) -> Mapping[str, Any] | None:
    """``storage_options`` with what ``credential_provider`` gives added (its keys win).

    Polars' providers give the same keys its ``storage_options`` take (``aws_access_key_id``,
    ``aws_secret_access_key``, ``aws_session_token``; ``bearer_token`` for Azure), which are
    this package's too. Called once: the credentials serve the whole scan or write.
    """
    if credential_provider is None or (isinstance(credential_provider, str) and credential_provider == "auto"):
        return storage_options
    if not callable(credential_provider):
        msg = (
            "credential_provider must be a callable giving (credentials, expiry), such as Polars' "
            f"CredentialProviderAWS, or 'auto', found {type(credential_provider).__name__}"
        )
        raise AvroArgumentError(msg)
    try:
        answer = credential_provider()
    except Exception as e:  # the user's provider: its failure is the reason
        msg = f"credential_provider raised {type(e).__name__}: {e}"
        raise AvroArgumentError(msg) from e
    if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[0], Mapping)):
        msg = (
            "credential_provider must give (credentials, expiry): a dict of storage option names "
            f"to values and a Unix time or None, as Polars' providers do; found {answer!r:.80}"
        )
        raise AvroArgumentError(msg)
    credentials = {str(k): v for k, v in answer[0].items() if v is not None}
    return {**(storage_options or {}), **credentials}


def make_parent_folder(file: Any) -> None:
    """``mkdir=True``: the folders a local path's file goes into, created as Polars' sinks do."""
    if isinstance(file, (str, Path, os.PathLike)):
        path = os.fspath(file)
        if isinstance(path, str) and "://" not in path:
            parent = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
            os.makedirs(parent, exist_ok=True)
