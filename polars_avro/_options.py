"""ScanOptions: the keyword arguments every read entry point shares, their defaults and checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from polars_avro import _internal
from polars_avro._keywords import ReadOptions, filled
from polars_avro._polars.keywords import CredentialProvider, with_credentials
from polars_avro._sources import RemoteOptions
from polars_avro.exceptions import AvroArgumentError, schema_json


@dataclass(frozen=True)
class ScanOptions:
    """Everything a scan is told besides its source: the keywords of ReadOptions.

    Each entry point builds one from the keywords it was given (:meth:`of`); the types,
    defaults and texts are ReadOptions' (polars_avro._keywords), which a test holds these
    fields to. Rust checks them when the scan is planned (``python/pyoptions.rs``).
    """

    n_rows: int | None
    row_index_name: str | None
    row_index_offset: int
    include_file_paths: str | None
    glob: bool
    hidden_file_prefix: str | Sequence[str] | None
    batch_size: int | None
    n_threads: int | None
    reader_schema: str | Mapping[str, Any] | None
    schema_from: Literal["first", "all"]
    missing_columns: Literal["insert", "raise"]
    extra_columns: Literal["ignore", "raise"]
    allow_missing_columns: bool
    storage_options: Mapping[str, Any] | None
    retries: int
    hive_partitioning: bool | None
    hive_schema: Mapping[str, Any] | None
    try_parse_hive_dates: bool
    ignore_errors: bool
    files_in_flight: int | None
    credential_provider: CredentialProvider
    low_memory: bool

    @classmethod
    def of(cls, arguments: Mapping[str, Any]) -> ScanOptions:
        """The options among an entry point's keywords, their defaults where not given.

        A callable ``credential_provider``'s credentials join ``storage_options`` (it is
        called once, here); ``"auto"`` stays, for the sources' store to find a profile.
        """
        given = filled(ReadOptions, arguments)
        options = {f.name: given[f.name] for f in fields(cls)}
        provider = options["credential_provider"]
        if provider is not None and not (isinstance(provider, str) and provider == "auto"):
            options["storage_options"] = with_credentials(options.get("storage_options"), provider)
            options["credential_provider"] = None
        return cls(**options)

    def remote(self, source: object) -> RemoteOptions:
        """How the object stores of ``source`` are reached (see :meth:`RemoteOptions.of`)."""
        return RemoteOptions.of(
            self.storage_options, self.retries, source=source, credential_provider=self.credential_provider
        )

    @property
    def reader_schema_json(self) -> str | None:
        """``reader_schema`` as the JSON text Rust's planner takes, checked."""
        return schema_json("reader_schema", self.reader_schema) if self.reader_schema is not None else None


def column_names(columns: str | Sequence[str] | Sequence[int]) -> list[Any]:
    """A ``columns`` argument as a list, the way Polars takes it: one name is that column (not its letters)."""
    if isinstance(columns, str):
        return [columns]
    if isinstance(columns, (bytes, Mapping)) or not isinstance(columns, Iterable):
        found = f"{type(columns).__name__} {columns!r}"
        msg = f"columns must be a column name, or a list of names or of indices, found {found}"
        raise AvroArgumentError(msg)
    names = list(columns)
    for name in names:
        if isinstance(name, str):
            _internal.check_text("columns", name)
    return names
