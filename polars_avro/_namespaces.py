"""The ``.avro`` namespaces: ``df.avro.write(...)``, ``lf.avro.sink(...)`` and ``pl.col(...).avro``.

Each method calls the function of the same options (:func:`polars_avro.write_avro`,
:func:`polars_avro.sink_avro`, :func:`polars_avro.decode`, ...), which type checkers see and
whose docstring documents them; the signatures are repeated here so that ``help()`` and
completion show every option (tests/test_entry_points.py keeps them equal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import polars as pl

from polars_avro import _expr
from polars_avro._io import AvroHeader
from polars_avro._messages import Framing, Mode, SchemaLike, WriterSchemas
from polars_avro._polars_args import WRITE_ALIASES, WRITE_REFUSED, CredentialProvider, refusing
from polars_avro._write import DEFAULT_SYNC_INTERVAL, AvroTarget, Compression, sink_avro, write_avro


@pl.api.register_dataframe_namespace("avro")
class AvroFrameNamespace:
    """``df.avro``: writing a DataFrame as Avro."""

    def __init__(self, df: pl.DataFrame) -> None:
        self._df = df

    @refusing(WRITE_REFUSED, "df.avro.write", "write_parquet", aliases=WRITE_ALIASES)
    def write(
        self,
        file: AvroTarget,
        *,
        compression: Compression = "uncompressed",
        compression_level: int | None = None,
        name: str = "topLevelRecord",
        namespace: str | None = None,
        schema: str | Mapping[str, Any] | AvroHeader | None = None,
        metadata: Mapping[str, str | bytes] | None = None,
        sync_interval: int = DEFAULT_SYNC_INTERVAL,
        n_threads: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        retries: int = 2,
        partition_by: str | pl.Expr | Sequence[str | pl.Expr] | None = None,
        max_rows_per_file: int | None = None,
        approximate_bytes_per_file: int | None = None,
        include_key: bool = True,
        credential_provider: CredentialProvider = "auto",
        mkdir: bool = False,
    ) -> None:
        """Write this frame to an Avro file: :func:`polars_avro.write_avro`, whose options these are.

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
        options = {k: v for k, v in locals().items() if k not in ("self", "file")}
        write_avro(self._df, file, **options)


@pl.api.register_lazyframe_namespace("avro")
class AvroLazyFrameNamespace:
    """``lf.avro``: streaming a LazyFrame's result into Avro."""

    def __init__(self, lf: pl.LazyFrame) -> None:
        self._lf = lf

    @refusing(WRITE_REFUSED, "lf.avro.sink", "sink_parquet", aliases=WRITE_ALIASES)
    def sink(
        self,
        file: AvroTarget | None = None,
        *,
        path: AvroTarget | None = None,
        compression: Compression = "uncompressed",
        compression_level: int | None = None,
        name: str = "topLevelRecord",
        namespace: str | None = None,
        schema: str | Mapping[str, Any] | AvroHeader | None = None,
        metadata: Mapping[str, str | bytes] | None = None,
        sync_interval: int = DEFAULT_SYNC_INTERVAL,
        n_threads: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        retries: int = 2,
        chunk_size: int | None = None,
        partition_by: str | pl.Expr | Sequence[str | pl.Expr] | None = None,
        max_rows_per_file: int | None = None,
        approximate_bytes_per_file: int | None = None,
        include_key: bool = True,
        credential_provider: CredentialProvider = "auto",
        mkdir: bool = False,
    ) -> None:
        """Stream this query's result into an Avro file: :func:`polars_avro.sink_avro`, whose options these are.

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
        options = {k: v for k, v in locals().items() if k not in ("self", "file")}
        sink_avro(self._lf, file, **options)


@pl.api.register_expr_namespace("avro")
class AvroExprNamespace:
    """``pl.col(...).avro``: Avro datums held in binary columns, such as Kafka message values."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    def decode(
        self,
        schema: SchemaLike | None = None,
        *,
        framing: Framing = "raw",
        reader_schema: SchemaLike | None = None,
        writer_schemas: WriterSchemas | None = None,
        subject: str | None = None,
        schema_id: pl.Expr | str | None = None,
        mode: Mode = "strict",
    ) -> pl.Expr:
        r"""Decode each message into a value: :func:`polars_avro.decode` of this column, whose options these are.

        Examples
        --------
        >>> import polars as pl
        >>> import polars_avro
        >>> df = pl.DataFrame({"value": [b"\x02", b"\x04", None]})  # what fastavro writes for 1 and 2 as "long"
        >>> df.select(pl.col("value").avro.decode('"long"'))["value"].to_list()
        [1, 2, None]
        """
        options = {k: v for k, v in locals().items() if k != "self"}
        return _expr.decode(self._expr, **options)

    def decode_error(
        self,
        schema: SchemaLike | None = None,
        *,
        framing: Framing = "raw",
        reader_schema: SchemaLike | None = None,
        writer_schemas: WriterSchemas | None = None,
        subject: str | None = None,
        schema_id: pl.Expr | str | None = None,
    ) -> pl.Expr:
        """Why each message cannot be decoded: :func:`polars_avro.decode_error` of this column."""
        options = {k: v for k, v in locals().items() if k != "self"}
        return _expr.decode_error(self._expr, **options)

    def schema_id(self, framing: Framing = "confluent") -> pl.Expr:
        """The schema id or fingerprint each message names: :func:`polars_avro.schema_id` of this column."""
        return _expr.schema_id(self._expr, framing)

    def encode(
        self,
        schema: SchemaLike | None = None,
        *,
        framing: Literal["raw", "confluent", "single_object"] = "raw",
        schema_id: int | None = None,
        record_name: str = "topLevelRecord",
    ) -> pl.Expr:
        """Encode each value as a message: :func:`polars_avro.encode` of this column, whose options these are."""
        options = {k: v for k, v in locals().items() if k != "self"}
        return _expr.encode(self._expr, **options)
