"""The ``.avro`` namespaces: ``df.avro.write(...)`` and ``lf.avro.sink(...)``."""

from __future__ import annotations

from typing import Any

import polars as pl

from polars_avro._write import AvroTarget, sink_avro, write_avro


@pl.api.register_dataframe_namespace("avro")
class AvroFrameNamespace:
    """``df.avro``: writing a DataFrame as Avro."""

    def __init__(self, df: pl.DataFrame) -> None:
        self._df = df

    def write(self, file: AvroTarget, **options: Any) -> None:
        """Write this frame to an Avro file.

        :func:`polars_avro.write_avro` with the same options.

        Examples
        --------
        >>> import io
        >>> import polars as pl
        >>> import polars_avro
        >>> buffer = io.BytesIO()
        >>> pl.DataFrame({"a": [1, 2]}).avro.write(buffer, compression="snappy")
        >>> polars_avro.read_avro(buffer.getvalue())["a"].to_list()
        [1, 2]
        """
        write_avro(self._df, file, **options)


@pl.api.register_lazyframe_namespace("avro")
class AvroLazyFrameNamespace:
    """``lf.avro``: streaming a LazyFrame's result into Avro."""

    def __init__(self, lf: pl.LazyFrame) -> None:
        self._lf = lf

    def sink(self, file: AvroTarget, **options: Any) -> None:
        """Stream this query's result into an Avro file with bounded memory.

        :func:`polars_avro.sink_avro` with the same options.

        Examples
        --------
        >>> import io
        >>> import polars as pl
        >>> import polars_avro
        >>> buffer = io.BytesIO()
        >>> pl.LazyFrame({"a": [1, 2, 3]}).filter(pl.col("a") > 1).avro.sink(buffer)
        >>> polars_avro.read_avro(buffer.getvalue())["a"].to_list()
        [2, 3]
        """
        sink_avro(self._lf, file, **options)
