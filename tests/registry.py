"""A schema registry speaking the Confluent REST API, started by the tests on loopback.

It serves what confluent-kafka's ``SchemaRegistryClient`` (and so its ``AvroSerializer``
and ``AvroDeserializer``) asks of a registry: registering a schema under a subject,
schemas by id and by GUID, and a subject's versions. Schemas are kept in memory; every
request is logged, so tests can count the lookups a decode makes; faults (error answers,
stalls) can be injected into the next lookups.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


@dataclass
class _Store:
    #: id -> (schema text, schema type, guid)
    schemas: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    #: subject -> ids of its versions, oldest first
    subjects: dict[str, list[int]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: What the next GET requests meet, one each, first first: an HTTP status answered
    #: instead (an int), or seconds of stalling before the answer (a float).
    faults: list[int | float] = field(default_factory=list)

    def register(self, subject: str, schema: str, schema_type: str) -> tuple[int, int]:
        """The (id, version) of ``schema`` under ``subject``, registering it if new."""
        with self.lock:
            same = [i for i, (s, t, _) in self.schemas.items() if s == schema and t == schema_type]
            schema_id = same[0] if same else len(self.schemas) + 1
            if not same:
                self.schemas[schema_id] = (schema, schema_type, str(uuid.uuid4()))
            versions = self.subjects.setdefault(subject, [])
            if schema_id not in versions:
                versions.append(schema_id)
            return schema_id, versions.index(schema_id) + 1

    def body(self, schema_id: int, subject: str | None = None, version: int | None = None) -> dict[str, Any]:
        schema, schema_type, guid = self.schemas[schema_id]
        out: dict[str, Any] = {"id": schema_id, "guid": guid, "schema": schema}
        if schema_type != "AVRO":
            out["schemaType"] = schema_type
        if subject is not None:
            out.update(subject=subject, version=version)
        return out


class SchemaRegistry:
    """The registry, serving on ``url`` until :meth:`stop`."""

    def __init__(self) -> None:
        store = self.store = _Store()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # the log is `store.requests`
                pass

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", _CONTENT_TYPE)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _not_found(self, what: str) -> None:
                self._send(404, {"error_code": 40403, "message": f"{what} not found"})

            def do_GET(self) -> None:
                path = unquote(urlsplit(self.path).path)
                store.requests.append(("GET", path))
                with store.lock:
                    fault = store.faults.pop(0) if store.faults else None
                if isinstance(fault, int):
                    return self._send(fault, {"error_code": fault * 100, "message": f"injected {fault}"})
                if isinstance(fault, float):
                    time.sleep(fault)
                if m := re.fullmatch(r"/schemas/ids/(\d+)", path):
                    schema_id = int(m.group(1))
                    if schema_id not in store.schemas:
                        return self._not_found(f"Schema {schema_id}")
                    return self._send(200, store.body(schema_id))
                if m := re.fullmatch(r"/schemas/guids/([0-9a-f-]+)", path):
                    found = [i for i, (_, _, g) in store.schemas.items() if g == m.group(1)]
                    if not found:
                        return self._not_found(f"Schema {m.group(1)}")
                    return self._send(200, store.body(found[0]))
                if m := re.fullmatch(r"/subjects/([^/]+)/versions/(latest|\d+)", path):
                    versions = store.subjects.get(m.group(1), [])
                    version = len(versions) if m.group(2) == "latest" else int(m.group(2))
                    if not 1 <= version <= len(versions):
                        return self._not_found(f"Subject '{m.group(1)}' version {m.group(2)}")
                    return self._send(200, store.body(versions[version - 1], m.group(1), version))
                if m := re.fullmatch(r"/subjects/([^/]+)/versions", path):
                    return self._send(200, list(range(1, len(store.subjects.get(m.group(1), [])) + 1)))
                if path == "/subjects":
                    return self._send(200, sorted(store.subjects))
                return self._not_found(path)

            def do_POST(self) -> None:
                path = unquote(urlsplit(self.path).path)
                store.requests.append(("POST", path))
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                if m := re.fullmatch(r"/subjects/([^/]+)/versions", path):
                    schema_type = request.get("schemaType", "AVRO")
                    schema_id, version = store.register(m.group(1), request["schema"], schema_type)
                    return self._send(200, store.body(schema_id, m.group(1), version))
                return self._not_found(path)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def requests(self, method: str = "GET", prefix: str = "/schemas/ids/") -> list[str]:
        """The paths of the requests of this method whose path starts with ``prefix``."""
        return [p for m, p in self.store.requests if m == method and p.startswith(prefix)]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
