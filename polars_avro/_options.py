"""ScanOptions: the keyword arguments every read entry point shares, their defaults and checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from polars_avro.exceptions import AvroArgumentError, check_n_threads


@dataclass(frozen=True)
class ScanOptions:
    """Everything a scan is told besides its source: the keyword arguments of scan_avro.

    Each entry point builds one from its own arguments (:meth:`of`), checked here once.
    """

    n_rows: int | None = None
    row_index_name: str | None = None
    row_index_offset: int = 0
    include_file_paths: str | None = None
    glob: bool = True
    batch_size: int | None = None
    n_threads: int | None = None
    reader_schema: str | Mapping[str, Any] | None = None
    missing_columns: Literal["insert", "raise"] = "raise"
    allow_missing_columns: bool = False
    storage_options: Mapping[str, Any] | None = None
    retries: int = 2
    hive_partitioning: bool | None = None
    hive_schema: Mapping[str, Any] | None = None
    try_parse_hive_dates: bool = True
    ignore_errors: bool = False
    files_in_flight: int | None = None

    @classmethod
    def of(cls, arguments: Mapping[str, Any]) -> ScanOptions:
        """The options among an entry point's arguments (its ``locals()``)."""
        return cls(**{f.name: arguments[f.name] for f in fields(cls) if f.name in arguments})

    def __post_init__(self) -> None:
        check_n_threads(self.n_threads)
        if self.n_rows is not None and self.n_rows < 0:
            msg = f"n_rows must not be negative, found {self.n_rows}"
            raise AvroArgumentError(msg)
        if self.row_index_offset < 0:
            msg = f"row_index_offset must not be negative, found {self.row_index_offset}"
            raise AvroArgumentError(msg)
        if self.files_in_flight is not None and (isinstance(self.files_in_flight, bool) or self.files_in_flight < 1):
            msg = f"files_in_flight must be at least 1, found {self.files_in_flight!r}"
            raise AvroArgumentError(msg)
        if self.missing_columns not in ("raise", "insert"):
            msg = f"missing_columns must be 'raise' or 'insert', found {self.missing_columns!r}"
            raise AvroArgumentError(msg)

    @property
    def insert_missing(self) -> bool:
        """Whether a column some files lack reads as nulls there."""
        return self.allow_missing_columns or self.missing_columns == "insert"
