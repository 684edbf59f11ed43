"""AvroReader.

The reader as an iterator of DataFrame batches, with its own report of what it skipped and did.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal

import polars as pl

from polars_avro._blocks import AvroFile
from polars_avro._options import ScanOptions, column_names
from polars_avro._scan import Scan
from polars_avro._skipped import SkippedBlock
from polars_avro._sources import AvroSource, Sources
from polars_avro._stats import ReadStats


class AvroReader:
    """Read Avro files batch by batch.

    Iterating gives DataFrames of about ``batch_size`` rows each (whole Avro blocks are
    grouped; a block of more records is read in parts of ``batch_size``), in file order,
    decoded in parallel ahead of the consumer; files of no record give none (``schema``
    still says the columns). ``errors`` lists
    what ``ignore_errors=True`` left out so far, and ``stats`` what the read did; both
    grow as the iteration goes. Use it as a context manager to stop a read early and
    release the files.

    ``source`` may also be an :class:`AvroFile` :func:`list_avro_files` found: the file
    is read as listed (a pipe's bytes, read once then, an object's size). The other
    arguments are those of :func:`read_avro`.

    Examples
    --------
    >>> import polars_avro
    >>> with polars_avro.AvroReader("examples/weather.avro", columns=["temp"], batch_size=500) as reader:
    ...     heights = [df.height for df in reader]
    >>> sum(heights), reader.errors, reader.stats.rows
    (2000, [], 2000)
    """

    def __init__(
        self,
        source: AvroSource | AvroFile,
        *,
        columns: str | Sequence[str] | Sequence[int] | None = None,
        n_rows: int | None = None,
        batch_size: int | None = None,
        ignore_errors: bool = False,
        row_index_name: str | None = None,
        row_index_offset: int = 0,
        include_file_paths: str | None = None,
        glob: bool = True,
        hidden_file_prefix: str | Sequence[str] | None = None,
        n_threads: int | None = None,
        reader_schema: str | Mapping[str, Any] | None = None,
        missing_columns: Literal["insert", "raise"] = "raise",
        allow_missing_columns: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        retries: int = 2,
        hive_partitioning: bool | None = None,
        hive_schema: Mapping[str, Any] | None = None,
        try_parse_hive_dates: bool = True,
        files_in_flight: int | None = None,
        low_memory: bool = False,
    ) -> None:
        #: The damaged blocks left out so far (with ``ignore_errors=True``), in file order.
        self.errors: list[SkippedBlock] = []
        #: What this read has done so far.
        self.stats = ReadStats()
        options = ScanOptions.of(locals())
        listed = None
        if isinstance(source, AvroFile):
            listed = Sources([source._item], [None]) if source._item is not None else None
            source = source.path
        self._scan = Scan(source, options, on_stats=self.stats._add, on_skipped=self._add_skipped, expanded=listed)
        self._names = list(self._scan.schema) if columns is None else self._scan.names(column_names(columns))
        self._batches: Iterator[pl.DataFrame] | None = None

    @property
    def schema(self) -> pl.Schema:
        """The schema of the batches."""
        return pl.Schema({name: self._scan.schema[name] for name in self._names})

    def _add_skipped(self, skipped: SkippedBlock) -> None:
        self.errors.append(skipped)
        self.stats.add_skipped_block(skipped.records)

    def __iter__(self) -> Iterator[pl.DataFrame]:
        if self._batches is None:
            # A read of no record gives no batch, as Polars' batched readers do.
            self._batches = self._scan.frames(self._names, at_least_one=False)
        return self

    def __next__(self) -> pl.DataFrame:
        if self._batches is None:
            iter(self)
        return next(self._batches)  # type: ignore[arg-type]

    def close(self) -> None:
        """Stops the read: no more batches, the files are released."""
        if self._batches is not None:
            self._batches.close()  # type: ignore[attr-defined]
        self._batches = iter(())

    def __enter__(self) -> AvroReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
