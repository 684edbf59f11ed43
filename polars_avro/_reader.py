"""AvroReader.

The reader as an iterator of DataFrame batches, with its own report of what it skipped and did.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import polars as pl

from polars_avro._blocks import AvroFile
from polars_avro._keywords import ReaderKeywords, takes
from polars_avro._options import ScanOptions, column_names
from polars_avro._polars.keywords import OTHER_READERS_REFUSED, READ_HARMLESS, READ_REFUSED, refusing
from polars_avro._scan import Scan
from polars_avro._skipped import SkippedBlock
from polars_avro._sources import AvroSource
from polars_avro._stats import ReadStats

if TYPE_CHECKING:
    from typing_extensions import Unpack


@refusing(READ_REFUSED, "AvroReader", "scan_parquet", others=OTHER_READERS_REFUSED, harmless=READ_HARMLESS)
@takes(ReaderKeywords)
class AvroReader:
    """Read Avro files batch by batch.

    Iterating gives DataFrames of about ``batch_size`` rows each (whole Avro blocks are
    grouped; a block of more records is read in parts of ``batch_size``), in file order,
    decoded in parallel ahead of the consumer; files of no record give none (``schema``
    still says the columns). ``errors`` lists
    what ``ignore_errors=True`` left out so far, and ``stats`` what the read did; both
    grow as the iteration goes. Use it as a context manager to stop a read early and
    release the files.

    Parameters
    ----------
    source
        As for :func:`read_avro`, or an :class:`AvroFile` :func:`list_avro_files` found:
        the file is read as listed (a pipe's bytes, read once then, an object's size).
    **options
        ReaderKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Examples
    --------
    >>> import polars_avro
    >>> with polars_avro.AvroReader(polars_avro.sample_file(), columns=["temp"], batch_size=500) as reader:
    ...     heights = [df.height for df in reader]
    >>> sum(heights), reader.errors, reader.stats.rows
    (2000, [], 2000)
    """

    def __init__(self, source: AvroSource | AvroFile, **options: Unpack[ReaderKeywords]) -> None:
        #: The damaged blocks left out so far (with ``ignore_errors=True``), in file order.
        self.errors: list[SkippedBlock] = []
        #: What this read has done so far.
        self.stats = ReadStats()
        scan_options = ScanOptions.of(options)
        if isinstance(source, AvroFile):
            source = source._item if source._item is not None else source.path
        self._scan = Scan(source, scan_options, on_stats=self.stats._add, on_skipped=self._add_skipped)
        columns = options.get("columns")
        self._names = list(self._scan.schema) if columns is None else self._scan.plan.select(column_names(columns))
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
