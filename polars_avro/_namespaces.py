"""The ``.avro`` namespaces: ``df.avro.write(...)``, ``lf.avro.sink(...)`` and ``pl.col(...).avro``.

Each method calls the function of the same options (:func:`polars_avro.write_avro`,
:func:`polars_avro.sink_avro`, :func:`polars_avro.decode`, ...), which type checkers see and
whose docstring documents them. The write methods take the functions' declared keywords
(polars_avro._keywords); the Expr methods repeat their functions' signatures so that
``help()`` and completion show every option (tests/test_entry_points.py keeps them equal).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import polars as pl

from polars_avro import _expr
from polars_avro._arguments import AvroTarget, Framing, SchemaLike
from polars_avro._keywords import (
    DEFAULT_RECORD_NAME,
    DecodeKeywords,
    MessageOptions,
    SinkKeywords,
    WriteKeywords,
    takes,
)
from polars_avro._polars.keywords import WRITE_ALIASES, WRITE_REFUSED, refusing
from polars_avro._write import sink_avro, write_avro

if TYPE_CHECKING:
    from typing_extensions import Unpack


@pl.api.register_dataframe_namespace("avro")
class AvroFrameNamespace:
    """``df.avro``: writing a DataFrame as Avro."""

    def __init__(self, df: pl.DataFrame) -> None:
        self._df = df

    @refusing(WRITE_REFUSED, "df.avro.write", "write_parquet", aliases=WRITE_ALIASES)
    @takes(WriteKeywords)
    def write(self, file: AvroTarget, **options: Unpack[WriteKeywords]) -> None:
        """Write this frame to an Avro file: :func:`polars_avro.write_avro`, whose options these are.

        Parameters
        ----------
        file
            Where to write, as for :func:`polars_avro.write_avro`.
        **options
            WriteKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

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

    @refusing(WRITE_REFUSED, "lf.avro.sink", "sink_parquet", aliases=WRITE_ALIASES)
    @takes(SinkKeywords)
    def sink(self, file: AvroTarget | None = None, **options: Unpack[SinkKeywords]) -> None:
        """Stream this query's result into an Avro file: :func:`polars_avro.sink_avro`, whose options these are.

        Parameters
        ----------
        file
            Where to write (or ``path=``, as Polars' sinks name it): a path, an object store
            URL or a binary file object.
        **options
            SinkKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

        Examples
        --------
        >>> import io
        >>> import polars as pl
        >>> buffer = io.BytesIO()
        >>> import polars_avro
        >>> pl.LazyFrame({"a": [1, 2, 3]}).filter(pl.col("a") > 1).avro.sink(buffer)
        >>> polars_avro.read_avro(buffer.getvalue())["a"].to_list()
        [2, 3]
        """
        sink_avro(self._lf, file, **options)


@pl.api.register_expr_namespace("avro")
class AvroExprNamespace:
    """``pl.col(...).avro``: Avro datums held in binary columns, such as Kafka message values."""

    def __init__(self, expr: pl.Expr) -> None:
        self._expr = expr

    @takes(DecodeKeywords)
    def decode(self, schema: SchemaLike | None = None, **options: Unpack[DecodeKeywords]) -> pl.Expr:
        r"""Decode each message into a value: :func:`polars_avro.decode` of this column, whose options these are.

        Parameters
        ----------
        schema
            As for :func:`polars_avro.decode`.
        **options
            DecodeKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

        Examples
        --------
        >>> import polars as pl
        >>> import polars_avro
        >>> df = pl.DataFrame({"value": [b"\x02", b"\x04", None]})  # what fastavro writes for 1 and 2 as "long"
        >>> df.select(pl.col("value").avro.decode('"long"'))["value"].to_list()
        [1, 2, None]
        """
        return _expr.decode(self._expr, schema, **options)

    @takes(MessageOptions)
    def decode_error(self, schema: SchemaLike | None = None, **options: Unpack[MessageOptions]) -> pl.Expr:
        """Why each message cannot be decoded: :func:`polars_avro.decode_error` of this column.

        Parameters
        ----------
        schema
            As for :func:`polars_avro.decode`.
        **options
            MessageOptions' (polars_avro._keywords), each documented there; ``help()`` lists them here.
        """
        return _expr.decode_error(self._expr, schema, **options)

    def schema_id(self, framing: Framing = "confluent") -> pl.Expr:
        """The schema id or fingerprint each message names: :func:`polars_avro.schema_id` of this column."""
        return _expr.schema_id(self._expr, framing)

    def encode(
        self,
        schema: SchemaLike | None = None,
        *,
        framing: Literal["raw", "confluent", "single_object"] = "raw",
        schema_id: int | None = None,
        record_name: str = DEFAULT_RECORD_NAME,
    ) -> pl.Expr:
        """Encode each value as a message: :func:`polars_avro.encode` of this column, whose options these are."""
        options = {k: v for k, v in locals().items() if k != "self"}
        return _expr.encode(self._expr, **options)
