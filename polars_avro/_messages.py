"""Avro datums inside binary columns (Kafka message values): ``Expr.avro.decode`` and friends.

Each expression is an elementwise ``map_batches`` over the binary column, so it runs in
``select``/``with_columns``/``filter``, eager, lazy and in the streaming engine, on every
supported Polars version. Per batch, the Rust decoder lists the schema ids it has not
seen, this module fetches those writer schemas once each (from a mapping, a callable or a
Confluent ``SchemaRegistryClient``), then Rust decodes the batch without the GIL.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

import polars as pl

from polars_avro import _internal
from polars_avro._arguments import FRAMINGS, MODES, SchemaLike, WriterSchemas
from polars_avro._callsite import CallSite, warn_user
from polars_avro._types import describe_dtype
from polars_avro.exceptions import (
    AvroArgumentError,
    AvroDecodeWarning,
    AvroIOError,
    AvroSchemaError,
    AvroSchemaWarning,
    check_whole_number,
    schema_json,
)

#: The name the id column travels under inside the struct handed to the decoder.
_ID_FIELD = "__polars_avro_schema_id"


def parsing_canonical_form(schema: SchemaLike) -> str:
    """The schema in Avro's Parsing Canonical Form.

    Full names, only the attributes that matter to reading (``name``, ``type``,
    ``fields``, ``symbols``, ``items``, ``values``, ``size``) in that order, no
    whitespace: what fingerprints and single-object encoding identify a schema by.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.parsing_canonical_form(
    ...     {"type": "record", "name": "User", "namespace": "app", "doc": "a user",
    ...      "fields": [{"name": "id", "type": {"type": "long"}, "default": 0}]}
    ... )
    '{"name":"app.User","type":"record","fields":[{"name":"id","type":"long"}]}'
    """
    return _internal.parsing_canonical_form(schema_json("schema", schema))


#: The fingerprints :func:`fingerprint` computes.
FingerprintAlgorithm = Literal["CRC-64-AVRO", "MD5", "SHA-256"]
FINGERPRINTS: tuple[str, ...] = get_args(FingerprintAlgorithm)


def fingerprint(schema: SchemaLike, algorithm: FingerprintAlgorithm = "CRC-64-AVRO") -> int | bytes:
    """The fingerprint of a schema's Parsing Canonical Form.

    ``"CRC-64-AVRO"`` (the default, what single-object encoding carries) gives a signed
    64-bit integer, as Java's ``SchemaNormalization.parsingFingerprint64`` and the
    specification's test vectors write it; ``"MD5"`` and ``"SHA-256"`` give the digest
    bytes.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.fingerprint('"int"')
    8247732601305521295
    >>> polars_avro.fingerprint('"int"', "MD5").hex()
    'ef524ea1b91e73173d938ade36c1db32'
    """
    canonical = parsing_canonical_form(schema).encode()
    if algorithm == "CRC-64-AVRO":
        return _internal.crc64_avro(canonical)
    if algorithm == "MD5":
        return hashlib.md5(canonical).digest()
    if algorithm == "SHA-256":
        return hashlib.sha256(canonical).digest()
    msg = f"algorithm must be one of {', '.join(FINGERPRINTS)}, found {algorithm!r}"
    raise AvroArgumentError(msg)


def _is_registry_client(source: Any) -> bool:
    return hasattr(source, "get_schema") and hasattr(source, "get_latest_version")


def _registry_url(client: Any) -> str:
    """Where a registry client sends its requests, for messages (credentials left out)."""
    urls: Any = getattr(getattr(client, "_rest_client", None), "base_urls", None)
    if not urls:
        conf = getattr(client, "_conf", None)
        urls = conf.get("url") if isinstance(conf, Mapping) else getattr(client, "url", None)
    if not urls:
        return f"a {type(client).__name__}"
    if isinstance(urls, str):
        urls = urls.split(",")
    # user:password@ in a URL is a credential: never in a message.
    return ", ".join(re.sub(r"^(\w[\w+.-]*://)[^/@]*@", r"\1", str(url).strip()) for url in urls)


#: Seconds one request to a schema registry may take before it counts as unanswered.
REGISTRY_TIMEOUT = 30.0

#: The pauses before each new try of a registry request that failed for a passing reason
#: (not reached, no answer in time, a 5xx or 429 answer): three tries in all, unless the
#: client tries again itself.
REGISTRY_RETRY_PAUSES = (0.2, 1.0)


def _registry_refused(error: BaseException) -> bool:
    """Whether the registry answered that it will not give what was asked (404, 422, ...).

    Rather than failing for a passing reason: not reached (a connection refused, a
    timeout), or an error of its own (a 5xx answer) or too many requests (429).
    """
    status = getattr(error, "http_status_code", None)
    return status is not None and 400 <= status < 500 and status != 429


def _registry_error(client: Any, what: str, error: Exception) -> AvroIOError | AvroSchemaError:
    """A registry's failure as the package's exception.

    One line naming the registry, ``what`` was asked and the cause: AvroSchemaError where
    the registry answered that it has no such schema, AvroIOError where it failed (not
    reached, no answer in time, a 5xx answer).
    """
    cause = " ".join(str(error).split()) or "no message"
    msg = f"could not fetch {what} from the schema registry at {_registry_url(client)}: {type(error).__name__}: {cause}"
    return AvroSchemaError(msg) if _registry_refused(error) else AvroIOError(msg)


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`, or TimeoutError once it has taken `seconds` (it runs on, on its own thread)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as e:  # noqa: BLE001 (raised again on the caller's thread)
            outcome["error"] = e
        finally:
            done.set()

    threading.Thread(target=run, name="polars-avro-registry", daemon=True).start()
    if not done.wait(seconds):
        msg = f"no answer within {seconds:g} s"
        raise TimeoutError(msg)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _registry_call(client: Any, what: str, call: Callable[[], Any]) -> Any:
    """The registry's answer to `call`, else the registry's error (see `_registry_error`).

    Each try is bounded by REGISTRY_TIMEOUT; passing failures are tried again.
    """
    # confluent-kafka's client tries again itself (`max.retries`, 3 by default, with
    # pauses of its own): one try of ours then, bounded in time all the same.
    retries_itself = getattr(getattr(client, "_rest_client", None), "max_retries", 0)
    pauses = () if isinstance(retries_itself, int) and retries_itself > 0 else REGISTRY_RETRY_PAUSES
    for pause in (*pauses, None):
        try:
            return _within(REGISTRY_TIMEOUT, call)
        except Exception as e:
            if pause is None or _registry_refused(e):
                raise _registry_error(client, what, e) from e
        time.sleep(pause)
    msg = "a registry call ended without an answer or an error"
    raise AssertionError(msg)


class _SchemaSource:
    """Looks writer schemas up by the key a message carries, once per key."""

    def __init__(self, source: WriterSchemas | None) -> None:
        self.source = source

    def lookup(self, kind: str, key: Any) -> str:
        """The schema JSON for this key; raises LookupError saying why there is none."""
        source = self.source
        if source is None:
            msg = "no writer_schemas were given to look it up in"
            raise LookupError(msg)
        if isinstance(source, Mapping):
            if key not in source:
                msg = "it is not in writer_schemas"
                raise LookupError(msg)
            return schema_json(f"writer schema of {kind} {key}", source[key])
        if _is_registry_client(source):
            return self._from_registry(kind, key)
        if callable(source):
            try:
                found = source(key)
            except Exception as e:  # the user's callable: its failure is the reason
                msg = f"writer_schemas({key!r}) raised {type(e).__name__}: {e}"
                raise LookupError(msg) from e
            if found is None:
                msg = f"writer_schemas({key!r}) gave None"
                raise LookupError(msg)
            return schema_json(f"writer schema of {kind} {key}", found)
        msg = f"writer_schemas must be a mapping, a callable or a SchemaRegistryClient, found {type(source).__name__}"
        raise AvroArgumentError(msg)

    def _from_registry(self, kind: str, key: Any) -> str:
        client: Any = self.source  # a SchemaRegistryClient, by its methods
        if kind == "id":
            call = functools.partial(client.get_schema, key)
        elif kind == "guid" and hasattr(client, "get_schema_by_guid"):
            call = functools.partial(client.get_schema_by_guid, key)
        else:
            msg = f"a schema registry does not look schemas up by {kind}"
            raise LookupError(msg)
        try:
            # A registry that failed (not reached, a 5xx) raises AvroIOError: the decode
            # fails whatever the mode, and a later one asks again.
            schema = _registry_call(client, f"schema {kind} {key}", call)
        except AvroSchemaError as e:
            # The registry's answer (404) is why the messages that name it fail.
            cause = e.__cause__
            msg = f"the schema registry at {_registry_url(client)} answered {type(cause).__name__}: {cause}"
            raise LookupError(msg) from cause
        schema_type = getattr(schema, "schema_type", "AVRO") or "AVRO"
        if schema_type != "AVRO":
            msg = f"the schema registry holds a {schema_type} schema for it, not an Avro one"
            raise LookupError(msg)
        return schema_json("schema", schema)

    def latest(self, subject: str) -> str:
        """The latest version of a registry subject (the source is a registry client)."""
        client: Any = self.source
        what = f"the latest version of subject {subject!r}"
        # Connection refused, 404, ...: one line, the cause chained.
        schema = _registry_call(client, what, functools.partial(client.get_latest_version, subject)).schema
        schema_type = getattr(schema, "schema_type", "AVRO") or "AVRO"
        if schema_type != "AVRO":
            msg = f"{what} in the schema registry at {_registry_url(client)} is a {schema_type} schema, not an Avro one"
            raise AvroSchemaError(msg)
        return schema_json(what, schema)

    def newest(self) -> str | None:
        """The default reader schema: the newest writer schema, where that can be known."""
        source = self.source
        if isinstance(source, Mapping) and source:
            keys = list(source)
            # Registry ids grow as schemas are registered: the highest is the newest.
            newest = max(keys) if all(isinstance(k, int) for k in keys) else keys[-1]
            return schema_json("writer schema", source[newest])
        return None


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
        self.schemas = _SchemaSource(writer_schemas)
        reader = None if reader_schema is None else schema_json("reader schema", reader_schema)
        if subject is not None:
            if not _is_registry_client(writer_schemas):
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
        schema, options = self._arguments
        return (_rebuilt_decoding, (schema, options))

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
        check_whole_number("schema_id", schema_id, 0)
    given = None if schema is None else schema_json("schema", schema)
    # An invalid schema or name fails here, before any data.
    for warning in _internal.check_encoding_schema(given, record_name):
        warn_user(AvroSchemaWarning(warning))

    def encode(values: pl.Series) -> pl.Series:
        description = json.dumps(describe_dtype(values.dtype))
        return _internal.encode_messages(values, description, given, framing, schema_id, record_name)

    return expr.map_batches(encode, return_dtype=pl.Binary(), is_elementwise=True)


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
        fields = {name: _field(message, name) for name in ("key", "value", "topic", "partition", "offset")}
        for name, value in fields.items():
            columns[name].append(value)
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
