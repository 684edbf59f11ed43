"""Kafka consumers' messages as a DataFrame, ready for ``Expr.avro.decode``."""

from typing import Any

import polars as pl

from polars_avro.exceptions import AvroArgumentError

#: The columns of :func:`kafka_frame`.
KAFKA_SCHEMA = pl.Schema(
    {
        "key": pl.Binary(),
        "value": pl.Binary(),
        "topic": pl.String(),
        "partition": pl.Int32(),
        "offset": pl.Int64(),
        "timestamp": pl.Datetime("ms", "UTC"),
        "headers": pl.List(pl.Struct({"key": pl.String(), "value": pl.Binary()})),
    }
)


def kafka_frame(messages: Any) -> pl.DataFrame:
    r"""A consumer's messages as a DataFrame: key, value, topic, partition, offset, timestamp, headers.

    Takes what ``confluent_kafka.Consumer.consume()`` (or ``poll()``, one at a time)
    returns, or kafka-python's and aiokafka's ``ConsumerRecord``\ s. Messages that carry
    an error (``message.error()``) raise. The timestamp is null where the broker gave
    none. ``value`` is then ready for :meth:`AvroExprNamespace.decode`.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> from types import SimpleNamespace as Record  # stands in for a kafka-python ConsumerRecord
    >>> batch = [Record(key=b"k", value=b"\x00\x00\x00\x00\x07\x02", topic="orders", partition=0,
    ...                 offset=41, timestamp=1700000000000, headers=[("trace", b"1")])]
    >>> df = polars_avro.kafka_frame(batch)
    >>> df.select("topic", "offset", pl.col("value").avro.schema_id()).row(0)
    ('orders', 41, 7)
    """
    columns: dict[str, list[Any]] = {name: [] for name in KAFKA_SCHEMA}
    for message in messages:
        error = getattr(message, "error", None)
        if callable(error) and error() is not None:
            msg = f"the consumer gave an error instead of a message: {error()}"
            raise AvroArgumentError(msg)
        for name in ("key", "value", "topic", "partition", "offset"):
            columns[name].append(_field(message, name))
        timestamp = _field(message, "timestamp")
        if isinstance(timestamp, tuple):  # confluent-kafka: (type, milliseconds), type 0 when none
            timestamp = timestamp[1] if timestamp[0] != 0 else None
        columns["timestamp"].append(timestamp)
        headers = _field(message, "headers") or []
        columns["headers"].append([{"key": k, "value": v} for k, v in headers])
    frame = pl.DataFrame(columns, schema={**KAFKA_SCHEMA, "timestamp": pl.Int64()})
    return frame.with_columns(pl.col("timestamp").cast(pl.Datetime("ms")).dt.replace_time_zone("UTC"))


def _field(message: Any, name: str) -> Any:
    """A message's field: a method on confluent-kafka's Message, an attribute elsewhere."""
    value = getattr(message, name)
    return value() if callable(value) else value
