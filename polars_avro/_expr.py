"""The Avro expressions over binary columns: decode, decode_error, schema_id and encode.

Each is also a method of the ``.avro`` expression namespace (``pl.col("value").avro.decode(...)``,
which calls the function here): the functions are what type checkers see, since they cannot
see namespaces Polars registers at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Union

import polars as pl

from polars_avro._arguments import Framing, SchemaLike
from polars_avro._keywords import DEFAULT_RECORD_NAME, DecodeKeywords, MessageOptions, filled, takes
from polars_avro._messages import decode_expr, encode_expr, schema_id_expr

if TYPE_CHECKING:
    from typing_extensions import Unpack

#: A column: an expression, or its name (as Polars' own functions take them).
IntoExpr = Union[pl.Expr, str]


def _column(expr: IntoExpr) -> pl.Expr:
    return pl.col(expr) if isinstance(expr, str) else expr


@takes(DecodeKeywords)
def decode(expr: IntoExpr, schema: SchemaLike | None = None, **options: Unpack[DecodeKeywords]) -> pl.Expr:
    r"""Decode each message (one Avro datum, framed or not) into a value: ``pl.col(...).avro.decode(...)``.

    Records become Structs (``.struct.unnest()`` makes them columns), and every other
    type follows the same type table as files. The dtype is known before any data is
    read: that of the reader schema. Elementwise: runs in ``select``, ``with_columns``
    and ``filter``, and in the streaming engine batch by batch.

    Parameters
    ----------
    expr
        The binary column of messages: an expression, or a column's name.
    schema
        The writer schema of raw datums, and the reader schema unless
        ``reader_schema`` is given. JSON text, a dict, or a schema object
        (confluent-kafka's ``Schema``, Apache avro's ``Schema``).
    **options
        DecodeKeywords' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> schema = {"type": "record", "name": "Reading", "fields": [
    ...     {"name": "sensor", "type": "string"}, {"name": "value", "type": "double"}]}
    >>> # What fastavro.schemaless_writer writes: a string (length 4, "s1") and a double.
    >>> df = pl.DataFrame({"value": [b"\x04s1" + bytes(7) + b"\x40", None]})
    >>> df.select(polars_avro.decode("value", schema)).unnest("value")
    shape: (2, 2)
    ┌────────┬───────┐
    │ sensor ┆ value │
    │ ---    ┆ ---   │
    │ str    ┆ f64   │
    ╞════════╪═══════╡
    │ s1     ┆ 2.0   │
    │ null   ┆ null  │
    └────────┴───────┘
    """
    return decode_expr(_column(expr), schema, **filled(DecodeKeywords, options))


@takes(MessageOptions)
def decode_error(expr: IntoExpr, schema: SchemaLike | None = None, **options: Unpack[MessageOptions]) -> pl.Expr:
    r"""Why each message cannot be decoded: a String, null where it decodes (``.avro.decode_error``).

    Takes :func:`decode`'s arguments but ``mode``; use it to find and inspect the messages
    that ``mode="permissive"`` turns into nulls.

    Parameters
    ----------
    expr
        The binary column of messages: an expression, or a column's name.
    schema
        As for :func:`decode`.
    **options
        MessageOptions' (polars_avro._keywords), each documented there; ``help()`` lists them here.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> df = pl.DataFrame({"value": [b"\x02", b"\x02\x00", b"\x03"]})
    >>> df.select(polars_avro.decode_error("value", '"long"'))["value"].to_list()
    [None, "expected the message to end with the datum at byte 1, found 1 more byte (framing 'raw')", None]
    """
    return decode_expr(_column(expr), schema, **filled(MessageOptions, options), mode="permissive", reasons=True)


def schema_id(expr: IntoExpr, framing: Framing = "confluent") -> pl.Expr:
    r"""The schema id (Confluent) or fingerprint (single-object) each message names (``.avro.schema_id``).

    An Int64, null for null messages and, with ``framing="auto"``, for raw datums: to
    group messages by writer schema, or to look schemas up.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> df = pl.DataFrame({"value": [b"\x00\x00\x00\x00\x07\x02", None]})
    >>> df.select(polars_avro.schema_id("value"))["value"].to_list()
    [7, None]
    """
    return schema_id_expr(_column(expr), framing)


def encode(
    expr: IntoExpr,
    schema: SchemaLike | None = None,
    *,
    framing: Literal["raw", "confluent", "single_object"] = "raw",
    schema_id: int | None = None,
    record_name: str = DEFAULT_RECORD_NAME,
) -> pl.Expr:
    r"""Encode each value as a message: one Avro datum, framed or not (``.avro.encode``).

    The inverse of :func:`decode`.

    Nulls give null messages. Values are converted by the same rules as
    :func:`polars_avro.write_avro` (integers of every width, Datetime time units,
    Enum/Categorical/String to enums, ...), and a value that does not fit the schema
    raises :class:`~polars_avro.AvroEncodeError` naming its row.

    Parameters
    ----------
    expr
        The values: an expression (a ``pl.struct(...)`` of columns for records), or a column's name.
    schema
        The Avro schema of each datum. Default: for a Struct, a record of its fields,
        derived as :func:`polars_avro.write_avro` derives a frame's schema.
    framing
        ``"raw"`` (the datum alone), ``"confluent"`` (``0x00``, ``schema_id`` as 4
        big-endian bytes, the datum: what confluent-kafka's ``AvroDeserializer`` reads)
        or ``"single_object"`` (``C3 01``, the schema's CRC-64-AVRO fingerprint, the datum).
    schema_id
        The id a schema registry gave ``schema``, for ``framing="confluent"``.
    record_name
        The name of the derived record, when no schema is given. The schema, given or
        derived, is checked as :func:`polars_avro.write_avro` checks a file's, when the
        expression is made: a type named after a primitive raises
        :class:`~polars_avro.AvroSchemaError`, one named after a word of the schema language
        warns :class:`~polars_avro.AvroSchemaWarning`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> fields = [{"name": "sensor", "type": "string"}, {"name": "value", "type": "double"}]
    >>> schema = {"type": "record", "name": "Reading", "fields": fields}
    >>> df = pl.DataFrame({"sensor": ["s1"], "value": [2.0]})
    >>> out = df.select(polars_avro.encode(pl.struct(pl.all()), schema, framing="confluent", schema_id=7))
    >>> out.item()
    b'\x00\x00\x00\x00\x07\x04s1\x00\x00\x00\x00\x00\x00\x00@'
    >>> out.select(polars_avro.decode("sensor", framing="confluent", writer_schemas={7: schema})).item()
    {'sensor': 's1', 'value': 2.0}
    """
    return encode_expr(_column(expr), schema, framing=framing, schema_id=schema_id, record_name=record_name)
