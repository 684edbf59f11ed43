"""Writer schemas looked up by the key a message carries, and the schema registry's client.

A mapping, a callable or a Confluent ``SchemaRegistryClient`` gives them. A registry's
requests are bounded in time, tried again where they failed for a passing reason, and
named in errors by the registry's URL without its credentials.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from polars_avro._arguments import WriterSchemas
from polars_avro.exceptions import AvroArgumentError, AvroIOError, AvroSchemaError, schema_json


def is_registry_client(source: Any) -> bool:
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


class SchemaSource:
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
        if is_registry_client(source):
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
