"""A fast S3-compatible server over a folder, for benchmarks: the object store's own cost
(well under a millisecond a request on loopback) out of the way, and a latency added to
every request as a store's round trip would (a same-region S3 GET takes 10-30 ms).

    python benches/store_server.py ROOT --port 9000 --latency-ms 20

Answers what the readers ask of S3 (ListObjects v1 and v2 with prefix, delimiter and
continuation, GET with a Range and HEAD of objects) for the bucket ``bench``, whose keys
are the files under ROOT; it checks no signature (any keys are taken). Every request is
counted: ``GET /_requests`` answers the counts since the last such call, by kind, and the
bytes sent (itself not counted), as JSON. Requests are served on a thread each, so they wait out the latency in
parallel, as a store's do.
"""

from __future__ import annotations

import argparse
import email.utils
import json
import os
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

BUCKET = "bench"
PAGE = 1000


class Store:
    """The objects (keys, sizes, ETags) of a folder, listed once, and the requests counted."""

    def __init__(self, root: Path, latency: float) -> None:
        self.root = root
        self.latency = latency
        self.objects: dict[str, tuple[int, str]] = {}
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                key = path.relative_to(root).as_posix()
                self.objects[key] = (stat.st_size, f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"')
        self.keys = sorted(self.objects)
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def count(self, what: str, amount: int = 1) -> None:
        with self.lock:
            self.counts[what] += amount

    def take_counts(self) -> dict[str, int]:
        with self.lock:
            counts, self.counts = dict(self.counts), Counter()
        return counts


MODIFIED = "2024-01-01T00:00:00.000Z"
MODIFIED_HTTP = email.utils.formatdate(1704067200, usegmt=True)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle's algorithm holds the
    # body until the client's delayed acknowledgement, tens of milliseconds a request.
    disable_nagle_algorithm = True
    store: Store

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.answer(head=False)

    def do_HEAD(self) -> None:
        self.answer(head=True)

    def answer(self, *, head: bool) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_requests":
            self.send(200, json.dumps(self.store.take_counts()).encode(), "application/json")
            return
        if self.store.latency:
            time.sleep(self.store.latency)
        parts = url.path.lstrip("/").split("/", 1)
        if parts[0] != BUCKET:
            self.store.count("other")
            self.send(404, b"<Error><Code>NoSuchBucket</Code></Error>", "application/xml")
            return
        if len(parts) == 1 or parts[1] == "":
            self.store.count("list")
            self.send(200, self.listing(urllib.parse.parse_qs(url.query)), "application/xml", head=head)
            return
        key = urllib.parse.unquote(parts[1])
        self.store.count("head" if head else "get")
        found = self.store.objects.get(key)
        if found is None:
            self.send(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml", head=head)
            return
        size, etag = found
        start, end = 0, size
        ranged = self.headers.get("Range")
        if ranged and ranged.startswith("bytes="):
            first, _, last = ranged[len("bytes=") :].partition("-")
            if first == "":
                start = max(size - int(last), 0)
            else:
                start, end = int(first), min(int(last) + 1, size) if last else size
        extra = {"ETag": etag, "Last-Modified": MODIFIED_HTTP, "Accept-Ranges": "bytes"}
        if ranged:
            extra["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        body = b""
        if not head:
            with (self.store.root / key).open("rb") as f:
                f.seek(start)
                body = f.read(end - start)
            self.store.count("bytes", len(body))
        self.send(206 if ranged else 200, body, "application/octet-stream", head=head, extra=extra, length=end - start)

    def listing(self, query: dict[str, list[str]]) -> bytes:
        """ListObjects (v2 with ``list-type=2``, else v1), a page of keys under the prefix."""
        one = {name: values[0] for name, values in query.items()}
        prefix, delimiter = one.get("prefix", ""), one.get("delimiter", "")
        v2 = one.get("list-type") == "2"
        after = one.get("continuation-token", one.get("start-after", "")) if v2 else one.get("marker", "")
        page = min(int(one.get("max-keys", PAGE)), PAGE)
        keys, prefixes, last = [], [], ""
        truncated = False
        for key in self.store.keys:
            if not key.startswith(prefix) or key <= after:
                continue
            if len(keys) + len(prefixes) == page:
                truncated = True
                break
            rest = key[len(prefix) :]
            if delimiter and delimiter in rest:
                common = prefix + rest.split(delimiter, 1)[0] + delimiter
                if not prefixes or prefixes[-1] != common:
                    prefixes.append(common)
            else:
                keys.append(key)
            last = key
        if truncated and delimiter and prefixes and last.startswith(prefixes[-1]):
            # Continue after every key of the last common prefix.
            last = prefixes[-1] + "\U0010ffff"
        out = ['<?xml version="1.0" encoding="UTF-8"?>']
        out.append('<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">')
        out.append(f"<Name>{BUCKET}</Name><Prefix>{escape(prefix)}</Prefix><MaxKeys>{page}</MaxKeys>")
        out.append(f"<KeyCount>{len(keys) + len(prefixes)}</KeyCount>")
        out.append(f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>")
        if truncated:
            token = escape(last)
            out.append(
                f"<NextContinuationToken>{token}</NextContinuationToken>" if v2 else f"<NextMarker>{token}</NextMarker>"
            )
        if delimiter:
            out.append(f"<Delimiter>{escape(delimiter)}</Delimiter>")
        for key in keys:
            size, etag = self.store.objects[key]
            out.append(
                f"<Contents><Key>{escape(key)}</Key><LastModified>{MODIFIED}</LastModified>"
                f"<ETag>{escape(etag)}</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            )
        out += [f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes]
        out.append("</ListBucketResult>")
        return "".join(out).encode()

    def send(
        self,
        status: int,
        body: bytes,
        kind: str,
        *,
        head: bool = False,
        extra: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The listen backlog, set before the socket listens: at the default of 5, connections
    # past it wait out the client's SYN retries (1, 3, 7, ... s) when a reader opens 64 at once.
    request_queue_size = 4096


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    Handler.store = Store(args.root, args.latency_ms / 1000)
    server = Server(("127.0.0.1", args.port), Handler)
    print(f"serving {len(Handler.store.keys)} objects on {args.port}", flush=True)
    try:
        server.serve_forever()
    finally:
        os._exit(0)


if __name__ == "__main__":
    main()
