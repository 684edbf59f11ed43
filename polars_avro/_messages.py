"""The ``.avro`` expressions over binary columns of Avro datums, and a decode expression's state.

The datums are typically Kafka message values. Each expression is an elementwise
``map_batches`` over the binary column, so it runs in ``select``/``with_columns``/``filter``,
eager, lazy and in the streaming engine, on every supported Polars version. Per batch, the
Rust decoder lists the schema ids it has not seen, :class:`MessageDecoding` looks those
writer schemas up once each (polars_avro._registry: in a mapping, from a callable or a
Confluent ``SchemaRegistryClient``), then Rust decodes the batch without the GIL.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import polars as pl

from polars_avro import _internal
from polars_avro._arguments import FRAMINGS, MODES, SchemaLike, WriterSchemas
from polars_avro._callsite import CallSite, warn_user
from polars_avro._fingerprints import fingerprint
from polars_avro._registry import SchemaSource, is_registry_client
from polars_avro._types import describe_dtype
from polars_avro.exceptions import AvroArgumentError, AvroDecodeWarning, AvroSchemaWarning, schema_json

#: The name the id column travels under inside the struct handed to the decoder.
_ID_FIELD = "__polars_avro_schema_id"


class MessageDecoding:
    """One decode expression's state: the Rust decoder and where writer schemas come from.

    Its methods are the ``map_batches`` functions; they may run on several threads at once
    (the streaming engine), which the Rust decoder allows. It pickles as its arguments (so a
    query holding it can be serialized, or sent to other processes); a registry client in
    ``writer_schemas`` pickles only if the client does.
    """

    def __init__(
        self,
        schema: SchemaLike | None,
        *,
        framing: str,
        reader_schema: SchemaLike | None,
        writer_schemas: WriterSchemas | None,
        subject: str | None,
        mode: str,
        has_ids: bool,
    ) -> None:
        self._arguments = (
            schema,
            {
                "framing": framing,
                "reader_schema": reader_schema,
                "writer_schemas": writer_schemas,
                "subject": subject,
                "mode": mode,
                "has_ids": has_ids,
            },
        )
        if framing not in FRAMINGS:
            msg = f"framing must be one of {', '.join(FRAMINGS)}, found {framing!r}"
            raise AvroArgumentError(msg)
        if mode not in MODES:
            msg = f"mode must be one of {', '.join(MODES)}, found {mode!r}"
            raise AvroArgumentError(msg)
        given = None if schema is None else schema_json("schema", schema)
        if given is not None and writer_schemas is None and framing == "single_object":
            # The one schema given: its fingerprint is what the messages carry.
            writer_schemas = {fingerprint(given): given}
        self.schemas = SchemaSource(writer_schemas)
        reader = None if reader_schema is None else schema_json("reader schema", reader_schema)
        if subject is not None:
            if not is_registry_client(writer_schemas):
                found = "none" if writer_schemas is None else f"a {type(writer_schemas).__name__}"
                msg = (
                    f"subject={subject!r} names a subject of a schema registry, whose latest version is "
                    f"the reader schema: it needs a SchemaRegistryClient as writer_schemas= (found {found}); "
                    "otherwise pass reader_schema="
                )
                raise AvroArgumentError(msg)
            if reader is not None:
                msg = "pass reader_schema= or subject= (whose latest version is the reader schema), not both"
                raise AvroArgumentError(msg)
            # The dtype of the expression is the reader schema's: it must be known now. The
            # writer schemas themselves are looked up only when messages name them.
            reader = self.schemas.latest(subject)
            # Pickled (to run elsewhere), the expression keeps this version, and its dtype.
            self._arguments[1].update(reader_schema=reader, subject=None)
        reader = reader or given or self.schemas.newest()
        if reader is None:
            msg = (
                "the reader schema is not known: pass schema= (the writer schema of raw datums), "
                "reader_schema=, or with a SchemaRegistryClient subject= (its latest version is read)"
            )
            raise AvroArgumentError(msg)
        needs_keys = framing != "raw" or has_ids
        if needs_keys and writer_schemas is None and framing != "auto":
            msg = (
                f"framing={framing!r} names each message's writer schema by id: pass writer_schemas= "
                "(a mapping, a callable or a SchemaRegistryClient)"
            )
            raise AvroArgumentError(msg)
        self.decoder = _internal.MessageColumnDecoder(reader, framing, given)
        self.dtype = self.decoder.dtype()
        self.permissive = mode == "permissive"
        self.threads = _internal.default_threads()
        self._lock = threading.Lock()
        self._fetched: set[tuple[str, Any]] = set()
        # Batches are decoded on Polars' threads: warnings point at the line that made the expression.
        self._site = CallSite.of_caller()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuilt_decoding, self._arguments)

    def _fetch_schemas(self, keys: list[tuple[str, Any]]) -> None:
        # One lookup per key, even when batches arrive on several threads at once.
        with self._lock:
            for kind, key in keys:
                if (kind, key) in self._fetched:
                    continue
                try:
                    self.decoder.add_writer(kind, key, self.schemas.lookup(kind, key))
                except LookupError as e:
                    self.decoder.add_missing(kind, key, f"no writer schema: {e}")
                self._fetched.add((kind, key))

    def _inputs(self, batch: pl.Series) -> tuple[pl.Series, pl.Series | None]:
        if batch.dtype == pl.Struct:
            fields = batch.struct.unnest()
            return fields.to_series(0).alias(batch.name), fields.to_series(1).cast(pl.Int64)
        return batch, None

    def decode(self, batch: pl.Series) -> pl.Series:
        messages, ids = self._inputs(batch)
        while True:
            # The writer schemas of new keys are fetched, then the batch decoded again.
            values, failed, missing = self.decoder.decode(
                messages, ids, permissive=self.permissive, threads=self.threads
            )
            if values is not None:
                break
            self._fetch_schemas(missing)
        if failed:
            msg = (
                f"polars-avro: {failed:,} of {len(messages):,} messages could not be decoded and are null "
                "(mode='permissive'); Expr.avro.decode_error gives each one's reason"
            )
            warn_user(AvroDecodeWarning(msg), self._site)
        return values if values.dtype == self.dtype else values.cast(self.dtype)

    def reasons(self, batch: pl.Series) -> pl.Series:
        messages, ids = self._inputs(batch)
        while True:
            reasons, missing = self.decoder.reasons(messages, ids, threads=self.threads)
            if reasons is not None:
                return reasons
            self._fetch_schemas(missing)


def _rebuilt_decoding(schema: SchemaLike | None, options: dict[str, Any]) -> MessageDecoding:
    return MessageDecoding(schema, **options)


def _elementwise(expr: pl.Expr, schema_id: pl.Expr | None, function: Any, dtype: pl.DataType) -> pl.Expr:
    """``function`` over the messages (and their ids), batch by batch, streamable."""
    if schema_id is not None:
        # One input for map_batches: the id rides along in a struct that keeps the messages' name.
        expr = pl.struct(expr, schema_id.alias(_ID_FIELD))
    return expr.map_batches(function, return_dtype=dtype, is_elementwise=True)


def decode_expr(
    expr: pl.Expr,
    schema: SchemaLike | None,
    *,
    framing: str,
    reader_schema: SchemaLike | None,
    writer_schemas: WriterSchemas | None,
    subject: str | None,
    schema_id: pl.Expr | str | None,
    mode: str,
    reasons: bool = False,
) -> pl.Expr:
    """See ``Expr.avro.decode`` (``reasons``: ``Expr.avro.decode_error``)."""
    if isinstance(schema_id, str):
        schema_id = pl.col(schema_id)
    elif schema_id is not None and not isinstance(schema_id, pl.Expr):
        msg = (
            "schema_id must be the column holding each datum's schema id (its name or an "
            f"expression), found {type(schema_id).__name__} {schema_id!r}"
        )
        raise AvroArgumentError(msg)
    decoding = MessageDecoding(
        schema,
        framing=framing,
        reader_schema=reader_schema,
        writer_schemas=writer_schemas,
        subject=subject,
        mode=mode,
        has_ids=schema_id is not None,
    )
    if reasons:
        return _elementwise(expr, schema_id, decoding.reasons, pl.String())
    return _elementwise(expr, schema_id, decoding.decode, decoding.dtype)


def schema_id_expr(expr: pl.Expr, framing: str) -> pl.Expr:
    """See ``Expr.avro.schema_id``."""
    if framing not in FRAMINGS or framing == "raw":
        msg = f"framing must be one of confluent, single_object, auto, found {framing!r}"
        raise AvroArgumentError(msg)

    def ids(messages: pl.Series) -> pl.Series:
        return _internal.message_schema_ids(messages, framing)

    return expr.map_batches(ids, return_dtype=pl.Int64(), is_elementwise=True)


def encode_expr(
    expr: pl.Expr, schema: SchemaLike | None, *, framing: str, schema_id: int | None, record_name: str
) -> pl.Expr:
    """See ``Expr.avro.encode``."""
    if framing not in ("raw", "confluent", "single_object"):
        msg = f"framing must be one of raw, confluent, single_object, found {framing!r}"
        raise AvroArgumentError(msg)
    if framing == "confluent" and schema_id is None:
        msg = "framing='confluent' needs the schema_id= the registry gave the schema"
        raise AvroArgumentError(msg)
    if schema_id is not None:
        _internal.check_whole_number("schema_id", schema_id, 0)
    given = None if schema is None else schema_json("schema", schema)
    # An invalid schema or name fails here, before any data.
    for warning in _internal.check_encoding_schema(given, record_name):
        warn_user(AvroSchemaWarning(warning))

    def encode(values: pl.Series) -> pl.Series:
        description = json.dumps(describe_dtype(values.dtype))
        return _internal.encode_messages(values, description, given, framing, schema_id, record_name)

    return expr.map_batches(encode, return_dtype=pl.Binary(), is_elementwise=True)
