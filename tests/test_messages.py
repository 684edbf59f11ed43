"""Avro datums in binary columns (``Expr.avro.decode`` and friends): messages written by
fastavro's ``schemaless_writer`` and by confluent-kafka's ``AvroSerializer`` against a
schema registry the tests start on loopback, decoded and compared value by value with
fastavro's and confluent-kafka's own decoding."""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
import warnings
from collections.abc import Iterator
from typing import Any

import fastavro
import polars as pl
import pytest
from helpers import HAS_MAP, assert_frame_matches_records
from polars.testing import assert_frame_equal, assert_series_equal
from registry import SchemaRegistry
from test_types import MIXED_SCHEMA, SCALAR_CASES, _mixed_rows, record

import polars_avro
from polars_avro import exceptions as exc


def datum(schema: Any, value: Any) -> bytes:
    """One value as fastavro's schemaless_writer writes it."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), value)
    return out.getvalue()


def read_back(schema: Any, message: bytes) -> Any:
    """What fastavro's schemaless_reader reads from a raw datum."""
    return fastavro.schemaless_reader(io.BytesIO(message), fastavro.parse_schema(schema), None)


def confluent(schema_id: int, message: bytes) -> bytes:
    return b"\x00" + struct.pack(">i", schema_id) + message


def single_object(schema: Any, message: bytes) -> bytes:
    fp = polars_avro.fingerprint(schema)
    return b"\xc3\x01" + struct.pack("<q", fp) + message


def decoded_frame(messages: list[bytes | None], schema: Any, **decode: Any) -> pl.DataFrame:
    """The messages decoded, a record's fields as columns."""
    df = pl.DataFrame({"value": messages}, schema={"value": pl.Binary})
    out = df.select(pl.col("value").avro.decode(schema, **decode))
    assert out.height == len(messages)
    return out.unnest("value") if isinstance(out.schema["value"], pl.Struct) else out


# --------------------------------------------------------------------------- the type table


@pytest.mark.parametrize(("avro_type", "dtype", "values"), SCALAR_CASES)
def test_every_scalar_type_decodes_as_fastavro_reads_it(avro_type: Any, dtype: pl.DataType, values: list[Any]) -> None:
    schema = record([{"name": "v", "type": avro_type}])
    messages = [datum(schema, {"v": v}) for v in values]
    df = decoded_frame(messages, schema)
    assert df.schema["v"] == dtype
    assert_frame_matches_records(df, [read_back(schema, m) for m in messages], schema)


def test_records_of_every_kind_decode_as_fastavro_reads_them() -> None:
    schema = json.loads(MIXED_SCHEMA)
    messages = [datum(schema, row) for row in _mixed_rows(60)]
    df = decoded_frame(messages, schema)
    assert_frame_matches_records(df, [read_back(schema, m) for m in messages], schema)
    # The same dtypes as a file of those records read by the file reader.
    file = io.BytesIO()
    fastavro.writer(file, fastavro.parse_schema(schema), _mixed_rows(60))
    assert_frame_equal(df, polars_avro.read_avro(file.getvalue()))


def test_nested_recursive_and_top_level_values() -> None:
    node = {
        "type": "record",
        "name": "Node",
        "fields": [
            {"name": "label", "type": "string"},
            {"name": "children", "type": {"type": "array", "items": "Node"}},
            {"name": "attrs", "type": {"type": "map", "values": ["null", "long", "string"]}},
        ],
    }
    values = [
        {"label": "root", "children": [{"label": "leaf", "children": [], "attrs": {}}], "attrs": {"n": 1, "s": "x"}},
        {"label": "", "children": [], "attrs": {"none": None}},
    ]
    messages = [datum(node, v) for v in values]
    df = decoded_frame(messages, node)
    assert df.schema["children"] == pl.List(pl.String)  # recursion is kept as JSON text
    assert_frame_matches_records(df, [read_back(node, m) for m in messages], node)
    # A top-level value that is not a record is one column of that type.
    longs = decoded_frame([datum("long", v) for v in (0, -1, 2**63 - 1)], "long")
    assert longs["value"].to_list() == [0, -1, 2**63 - 1]
    arrays = decoded_frame(
        [datum({"type": "array", "items": "int"}, v) for v in ([1, 2], [])], {"type": "array", "items": "int"}
    )
    assert arrays["value"].to_list() == [[1, 2], []]


def test_nulls_in_give_nulls_out_and_the_dtype_is_known_before_reading() -> None:
    schema = record([{"name": "a", "type": "int"}, {"name": "m", "type": {"type": "map", "values": "string"}}])
    lf = pl.LazyFrame({"value": [None, datum(schema, {"a": 1, "m": {"k": "v"}}), None]}, schema={"value": pl.Binary})
    expr = pl.col("value").avro.decode(schema)
    expected = pl.Struct(
        {
            "a": pl.Int32,
            "m": pl.Map(pl.String, pl.String)
            if HAS_MAP
            else pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
        }
    )
    assert lf.select(expr).collect_schema()["value"] == expected
    out = lf.select(expr).collect()
    assert out.schema["value"] == expected
    assert out["value"].is_null().to_list() == [True, False, True]
    assert out.unnest("value")["a"].to_list() == [None, 1, None]
    # Only nulls: still the right dtype and height.
    assert pl.DataFrame({"value": [None, None]}, schema={"value": pl.Binary}).select(expr).schema["value"] == expected


# --------------------------------------------------------------------------- framings and writer schemas

V1 = record([{"name": "id", "type": "int"}, {"name": "name", "type": "string"}], name="User")
V2 = record(
    [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "email", "type": ["null", "string"], "default": None},
        {
            "name": "tier",
            "type": {"type": "enum", "name": "Tier", "symbols": ["FREE", "PRO"], "default": "FREE"},
            "default": "FREE",
        },
    ],
    name="User",
)


def two_versions() -> tuple[list[bytes], list[dict[str, Any]]]:
    """Confluent-framed messages of V1 (id 1) and V2 (id 2) interleaved, and their values
    read as V2."""
    messages, expected = [], []
    for i in range(40):
        if i % 3 == 0:
            messages.append(confluent(1, datum(V1, {"id": i, "name": f"n{i}"})))
            expected.append({"id": i, "name": f"n{i}", "email": None, "tier": "FREE"})
        else:
            email = None if i % 2 else f"{i}@x"
            messages.append(confluent(2, datum(V2, {"id": i, "name": f"n{i}", "email": email, "tier": "PRO"})))
            expected.append({"id": i, "name": f"n{i}", "email": email, "tier": "PRO"})
    return messages, expected


def test_confluent_messages_of_two_schemas_resolve_into_the_newest() -> None:
    messages, expected = two_versions()
    df = decoded_frame(messages, None, framing="confluent", writer_schemas={1: V1, 2: V2})
    assert df.schema == pl.Schema(
        {"id": pl.Int64, "name": pl.String, "email": pl.String, "tier": pl.Enum(["FREE", "PRO"])}
    )
    assert df.to_dicts() == expected
    # An explicit reader schema, and a callable looking the schemas up.
    reader = record([{"name": "name", "type": "string"}, {"name": "id", "type": "double"}], name="User")
    df = decoded_frame(messages, None, framing="confluent", reader_schema=reader, writer_schemas={1: V1, 2: V2}.get)
    assert df.to_dicts() == [{"name": e["name"], "id": float(e["id"])} for e in expected]
    # A writer with an enum symbol the reader lacks: the reader enum's default.
    v3 = json.loads(json.dumps(V2))
    v3["fields"][3]["type"]["symbols"] = ["FREE", "PRO", "VIP"]
    vip = confluent(3, datum(v3, {"id": 1, "name": "v", "email": None, "tier": "VIP"}))
    df = decoded_frame([vip], None, framing="confluent", reader_schema=V2, writer_schemas={3: v3})
    assert df.to_dicts() == [{"id": 1, "name": "v", "email": None, "tier": "FREE"}]


def test_single_object_raw_with_an_id_column_and_auto() -> None:
    values = [{"id": i, "name": f"n{i}"} for i in range(5)]
    raw = [datum(V1, v) for v in values]
    # Single-object: the fingerprint of the one schema given is what the messages carry.
    assert decoded_frame([single_object(V1, m) for m in raw], V1, framing="single_object").to_dicts() == values
    # fastavro's own fingerprint of the canonical form agrees.
    fp = fastavro.schema.fingerprint(fastavro.schema.to_parsing_canonical_form(V1), "CRC-64-AVRO")
    assert struct.pack("<q", polars_avro.fingerprint(V1)).hex() == fp
    # Raw datums whose schema ids travel in another column (a Kafka header).
    df = pl.DataFrame(
        {"value": raw + [datum(V2, {"id": 9, "name": "v2", "email": "e", "tier": "PRO"})], "sid": [1] * 5 + [2]}
    )
    out = df.select(pl.col("value").avro.decode(framing="raw", schema_id="sid", writer_schemas={1: V1, 2: V2})).unnest(
        "value"
    )
    assert out["id"].to_list() == [0, 1, 2, 3, 4, 9]
    assert out["email"].to_list() == [None] * 5 + ["e"]
    # auto: each message as its prefix says.
    mixed = [
        confluent(2, datum(V2, {"id": 1, "name": "c", "email": None, "tier": "PRO"})),
        single_object(V1, raw[2]),
        None,
    ]
    fp1 = polars_avro.fingerprint(V1)
    out = decoded_frame(mixed, None, framing="auto", reader_schema=V2, writer_schemas={2: V2, fp1: V1})
    assert out["id"].to_list() == [1, 2, None]
    ids = pl.DataFrame({"value": mixed}).select(pl.col("value").avro.schema_id("auto"))["value"].to_list()
    assert ids == [2, fp1, None]


def test_messages_encoded_by_confluent_kafka_decode_as_its_deserializer_reads_them() -> None:
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    registry = SchemaRegistry()
    try:
        client = SchemaRegistryClient({"url": registry.url})
        context = SerializationContext("users", MessageField.VALUE)
        v1 = AvroSerializer(client, json.dumps(V1))
        v2 = AvroSerializer(client, json.dumps(V2))
        messages = []
        for i in range(300):
            if i % 4 == 0:
                messages.append(v1({"id": i, "name": f"u{i}"}, context))
            else:
                messages.append(
                    v2({"id": i, "name": f"u{i}", "email": f"{i}@x" if i % 2 else None, "tier": "PRO"}, context)
                )
        messages.append(None)
        reader = AvroDeserializer(SchemaRegistryClient({"url": registry.url}), json.dumps(V2))
        expected = [reader(m, context) if m is not None else None for m in messages]

        n_lookups = len(registry.requests())
        decode_client = SchemaRegistryClient({"url": registry.url})
        df = pl.DataFrame({"value": messages}, schema={"value": pl.Binary})
        out = df.select(
            pl.col("value").avro.decode(framing="confluent", writer_schemas=decode_client, subject="users-value")
        )
        assert out["value"].to_list() == [None if e is None else {**e, "tier": e["tier"]} for e in expected]
        # Each writer schema was fetched once, whatever the number of messages.
        assert sorted(registry.requests()[n_lookups:]) == ["/schemas/ids/1", "/schemas/ids/2"]
        ids = df.select(pl.col("value").avro.schema_id())["value"]
        assert ids.value_counts(sort=True).rows() == [(2, 225), (1, 75), (None, 1)]
    finally:
        registry.stop()


def test_registry_failures_name_the_registry_and_what_was_asked_in_one_line() -> None:
    """An unreachable registry, or one without the subject, is the package's exception: one
    line naming the registry, the subject (or schema id) and the cause, chained to it."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from servers import free_port

    refused = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(exc.AvroIOError) as raised:
        pl.col("value").avro.decode(
            framing="confluent", writer_schemas=SchemaRegistryClient({"url": refused}), subject="orders-value"
        )
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(
        f"could not fetch the latest version of subject 'orders-value' from the schema registry at {refused}: "
    ), message
    assert "Connection refused" in message, message
    assert raised.value.__cause__ is not None

    # Without subject=, building the expression asks nothing of the registry: decoding does.
    decode = pl.col("value").avro.decode(
        framing="confluent", writer_schemas=SchemaRegistryClient({"url": refused}), reader_schema=V1
    )
    df = pl.DataFrame({"value": [confluent(3, datum(V1, {"id": 1, "name": "a"}))]})
    for mode in ("strict", "permissive"):  # an unreachable registry is no bad message: both raise
        with pytest.raises(
            exc.AvroIOError, match=f"could not fetch schema id 3 from the schema registry at {refused}: "
        ):
            df.select(decode if mode == "strict" else decode.name.keep())

    registry = SchemaRegistry()
    try:
        client = SchemaRegistryClient({"url": registry.url})
        with pytest.raises(exc.AvroSchemaError) as raised:
            pl.col("value").avro.decode(framing="confluent", writer_schemas=client, subject="orders-value")
        assert str(raised.value).startswith(
            f"could not fetch the latest version of subject 'orders-value' from the schema registry at {registry.url}: "
            "SchemaRegistryError: Subject 'orders-value' version latest not found"
        ), str(raised.value)
        assert registry.requests(prefix="/") == ["/subjects/orders-value/versions/latest"]

        # A reader schema given: nothing is asked until a message names its schema.
        fresh = SchemaRegistryClient({"url": registry.url})
        decode = pl.col("value").avro.decode(framing="confluent", writer_schemas=fresh, reader_schema=V1)
        assert len(registry.requests(prefix="/")) == 1
        with pytest.raises(
            exc.AvroSchemaError, match=f"schema id 3: no writer schema: the schema registry at {registry.url}"
        ):
            df.select(decode)

        # The subject's latest version, fetched when the expression is built, travels with it.
        schema_id = client.register_schema("orders-value", Schema(json.dumps(V1), "AVRO"))
        message = confluent(schema_id, datum(V1, {"id": 5, "name": "e"}))
        decoding = polars_avro._messages.MessageDecoding(
            None,
            framing="confluent",
            reader_schema=None,
            writer_schemas={schema_id: V1},
            subject=None,
            mode="strict",
            has_ids=False,
        )
        with_subject = polars_avro._messages.MessageDecoding(
            None,
            framing="confluent",
            reader_schema=None,
            writer_schemas=client,
            subject="orders-value",
            mode="strict",
            has_ids=False,
        )
        asked = len(registry.requests(prefix="/"))
        # (A SchemaRegistryClient itself does not pickle: rebuilt as unpickling would.)
        rebuild, arguments = with_subject.__reduce__()
        assert arguments[1]["subject"] is None
        copy = rebuild(*arguments)
        assert len(registry.requests(prefix="/")) == asked
        batch = pl.Series("value", [message])
        assert copy.decode(batch).to_list() == decoding.decode(batch).to_list() == [{"id": 5, "name": "e"}]
    finally:
        registry.stop()


def test_subject_needs_a_registry_client() -> None:
    """subject= names the reader schema by a registry subject: with a mapping, a callable or
    nothing to ask, or beside reader_schema=, it would be ignored, so it is refused."""
    for writer_schemas in ({1: V1}, lambda key: V1, None):
        with pytest.raises(exc.AvroArgumentError, match="subject='orders-value' names a subject of a schema registry"):
            pl.col("value").avro.decode(framing="confluent", writer_schemas=writer_schemas, subject="orders-value")
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from servers import free_port

    client = SchemaRegistryClient({"url": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(exc.AvroArgumentError, match="pass reader_schema= or subject="):
        pl.col("value").avro.decode(framing="confluent", writer_schemas=client, subject="s", reader_schema=V1)


# --------------------------------------------------------------------------- bad messages


def bad_messages() -> tuple[list[bytes | None], list[str | None]]:
    """Good and bad Confluent messages of V1 (id 1), and what each bad one must say."""
    good = confluent(1, datum(V1, {"id": 7, "name": "seven"}))
    return (
        [
            good,
            good[:-2],  # truncated datum
            confluent(99, datum(V1, {"id": 1, "name": "x"})),  # unknown id
            b"\x05" + good[1:],  # wrong magic byte
            b"garbage",
            good + b"\x00\x01",  # leftover bytes
            None,
            good,
        ],
        [
            None,
            "expected the length of a string at byte 6 of the message to be between 0 and the 3 bytes that "
            "remain, found 5",
            "no writer schema: it is not in writer_schemas (framing 'confluent')",
            "expected the Confluent magic byte 0x00",
            "expected the Confluent magic byte 0x00",
            "expected the message to end with the datum at byte 12, found 2 more bytes "
            "(framing 'confluent', schema id 1)",
            None,
            None,
        ],
    )


def test_strict_mode_raises_naming_the_row_framing_id_and_offset() -> None:
    messages, reasons = bad_messages()
    for row in range(1, 6):
        df = pl.DataFrame({"value": [messages[0], messages[row]]})
        expected_class = exc.AvroSchemaError if row == 2 else exc.AvroDecodeError
        with pytest.raises(expected_class) as raised:
            df.select(pl.col("value").avro.decode(framing="confluent", writer_schemas={1: V1}))
        assert raised.value.row == 1
        assert reasons[row] in str(raised.value)
    cut = confluent(1, datum(V1, {"id": 300, "name": ""}))[:-2]
    with pytest.raises(
        exc.AvroDecodeError, match=r"ended while reading a varint at byte 6 of 6 bytes.*schema id 1.*row 1"
    ):
        pl.DataFrame({"value": [messages[0], cut]}).select(
            pl.col("value").avro.decode(framing="confluent", writer_schemas={1: V1})
        )


def test_a_failed_rows_place_is_counted_in_the_batch_and_says_so() -> None:
    """Polars hands an elementwise expression its input batch by batch: a frame of several
    chunks chunk by chunk (with_columns, and select past a size), the streaming engine in
    morsels. The row is counted in the batch handed over, whose length the error gives, so
    it never passes for a row of the frame it is not."""
    good = confluent(1, datum(V1, {"id": 7, "name": "seven"}))
    decode = pl.col("value").avro.decode(framing="confluent", writer_schemas={1: V1})
    whole = pl.DataFrame({"value": [good, good, good, b"bad"]})
    chunked = pl.concat([whole[:3], whole[3:]], rechunk=False)
    assert chunked.n_chunks() == 2
    with pytest.raises(exc.AvroDecodeError) as raised:
        whole.with_columns(decode)
    # (Polars 2 adds the expression's context on lines after the message.)
    assert str(raised.value).splitlines()[0].endswith("(framing 'confluent') (row 3 of a batch of 4)")
    assert (raised.value.row, raised.value.batch_rows) == (3, 4)
    for run in (
        lambda: chunked.with_columns(decode),
        lambda: chunked.select(decode),
        lambda: chunked.lazy().select(decode).collect(),
        lambda: chunked.lazy().with_columns(decode).collect(engine="streaming"),
    ):
        with pytest.raises(exc.AvroDecodeError) as raised:
            run()
        row, batch_rows = raised.value.row, raised.value.batch_rows
        assert f"(row {row} of a batch of {batch_rows})" in str(raised.value)
        # The last row of the frame: the last of whichever batch held it.
        assert row == batch_rows - 1, str(raised.value)
    # The frame's own row of every bad message: decode_error, beside a row index.
    reasons = chunked.with_row_index().filter(
        pl.col("value").avro.decode_error(framing="confluent", writer_schemas={1: V1}).is_not_null()
    )
    assert reasons["index"].to_list() == [3]
    # Encoding and schema ids name their rows alike.
    with pytest.raises(exc.AvroEncodeError, match=r"\(row 1 of a batch of 2\)($|\n)"):
        pl.DataFrame({"v": [1, 2**40]}).select(pl.col("v").avro.encode("int"))
    with pytest.raises(exc.AvroDecodeError, match=r"\(row 3 of a batch of 4\)") as raised:
        whole.select(pl.col("value").avro.schema_id())
    assert raised.value.row == 3


def test_permissive_mode_gives_nulls_warns_and_decode_error_says_why() -> None:
    messages, reasons = bad_messages()
    df = pl.DataFrame({"value": messages}, schema={"value": pl.Binary})
    args = {"framing": "confluent", "writer_schemas": {1: V1}}
    with pytest.warns(exc.AvroDecodeWarning, match="5 of 8 messages could not be decoded"):
        out = df.select(pl.col("value").avro.decode(**args, mode="permissive"))
    assert out.height == len(messages)
    assert out["value"].to_list() == [{"id": 7, "name": "seven"}] + [None] * 5 + [None, {"id": 7, "name": "seven"}]
    found = df.select(pl.col("value").avro.decode_error(**args))["value"].to_list()
    for reason, expected in zip(found, reasons):
        assert (reason is None) == (expected is None)
        if expected is not None:
            assert expected in reason
    # Filtering the bad ones out, and decoding the rest strictly.
    good = df.filter(pl.col("value").avro.decode_error(**args).is_null() & pl.col("value").is_not_null())
    assert good.select(pl.col("value").avro.decode(**args)).height == 2


def test_permissive_values_stay_exact_around_failures_of_several_writers() -> None:
    """A message failing halfway leaves nothing behind in its writer's columns."""
    messages, expected = two_versions()
    broken = list(messages)
    for i in (4, 5, 9, 10, 11, 30):
        broken[i] = broken[i][:-1] if i % 2 else broken[i] + b"\x00"
        expected[i] = None
    broken[20], expected[20] = None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exc.AvroDecodeWarning)
        out = decoded_frame(broken, None, framing="confluent", writer_schemas={1: V1, 2: V2}, mode="permissive")
    assert [None if r["id"] is None else r for r in out.to_dicts()] == expected


def test_a_nested_message_cut_anywhere_leaves_its_neighbours_as_fastavro_reads_them() -> None:
    """Each message of every kind of field, cut at every byte between good ones: a failure
    halfway through a list, a map, a record or a union leaves the builders whole (what it
    left is closed into a value no row takes) and each good message's values exact."""
    schema = json.loads(MIXED_SCHEMA)
    good = [datum(schema, row) for row in _mixed_rows(6)]
    messages: list[bytes | None] = []
    expected: list[dict[str, Any] | None] = []
    for n, message in enumerate(good):
        for cut in range(len(message)):
            neighbour = good[(n + cut) % len(good)]
            messages += [message[:cut], neighbour]
            expected += [None, read_back(schema, neighbour)]
    with pytest.warns(exc.AvroDecodeWarning, match=f"{len(messages) // 2:,} of {len(messages):,} messages"):
        out = pl.DataFrame({"value": messages}, schema={"value": pl.Binary}).select(
            pl.col("value").avro.decode(schema, mode="permissive")
        )
    assert out["value"].is_null().to_list() == [v is None for v in expected]
    kept = pl.Series([v is not None for v in expected])
    assert_frame_matches_records(out.filter(kept).unnest("value"), [v for v in expected if v is not None], schema)


def test_many_failures_among_several_writers_keep_every_value_in_place() -> None:
    """Every third message broken, 60,000 of them over two writers and two threads' parts
    (each failure once sealed a chunk that the next message searched for: 100,000 failures
    took minutes)."""
    messages, expected = two_versions()
    broken, want = [], []
    for i in range(60_000):
        message, value = messages[i % 40], expected[i % 40]
        if i % 3 == 1:
            message, value = message[:-1], None
        broken.append(message)
        want.append(value if value is None else {**value})
    with pytest.warns(exc.AvroDecodeWarning, match="20,000 of 60,000 messages"):
        out = decoded_frame(broken, None, framing="confluent", writer_schemas={1: V1, 2: V2}, mode="permissive")
    assert [None if r["id"] is None else r for r in out.to_dicts()] == want


def test_bad_arguments_raise_before_any_data() -> None:
    col = pl.col("value").avro
    with pytest.raises(exc.AvroArgumentError, match="framing must be one of"):
        col.decode(V1, framing="kafka")  # type: ignore[arg-type]
    with pytest.raises(exc.AvroArgumentError, match="mode must be one of"):
        col.decode(V1, mode="lenient")  # type: ignore[arg-type]
    with pytest.raises(exc.AvroArgumentError, match="the reader schema is not known"):
        col.decode(framing="confluent", writer_schemas=lambda i: V1)
    with pytest.raises(exc.AvroArgumentError, match="pass writer_schemas="):
        col.decode(V1, framing="confluent")
    with pytest.raises(exc.AvroSchemaError, match="the reader schema"):
        col.decode('{"type": "record"}')
    with pytest.raises(exc.AvroArgumentError, match="expected a Binary column of messages, found str"):
        pl.DataFrame({"value": ["text"]}).select(col.decode(V1))
    # A schema_id that is no column (an AttributeError on 'alias' before: issue 61, item 4).
    for decode in (col.decode, col.decode_error, lambda *a, **k: polars_avro.decode_error("value", *a, **k)):
        with pytest.raises(exc.AvroArgumentError, match=r"schema_id must be the column .*, found list \[\]"):
            decode(V1, schema_id=[], writer_schemas={1: V1})  # type: ignore[arg-type]
    # A writer schema that cannot be read as the reader schema fails its messages.
    incompatible = record([{"name": "id", "type": "string"}], name="User")
    df = pl.DataFrame({"value": [confluent(3, datum(incompatible, {"id": "x"}))]})
    with pytest.raises(exc.AvroSchemaError, match="schema id 3: it cannot be read as the reader schema"):
        df.select(pl.col("value").avro.decode(V1, framing="confluent", writer_schemas={3: incompatible}))


# --------------------------------------------------------------------------- engines and sizes


def many_messages(n: int) -> Iterator[bytes]:
    for i in range(n):
        yield confluent(
            1 + i % 2,
            datum(
                V2 if i % 2 else V1,
                {"id": i, "name": f"n{i}", "email": None, "tier": "PRO"} if i % 2 else {"id": i, "name": f"n{i}"},
            ),
        )


def test_large_batches_decode_in_parallel_and_in_the_streaming_engine() -> None:
    messages = list(many_messages(40_000))
    lf = pl.LazyFrame({"value": messages, "n": range(len(messages))})
    expr = pl.col("value").avro.decode(framing="confluent", writer_schemas={1: V1, 2: V2})
    eager = lf.collect().select(expr).unnest("value")
    assert eager["id"].to_list() == list(range(40_000))
    assert eager["tier"].to_list() == ["FREE", "PRO"] * 20_000
    streamed = lf.select(expr).collect(engine="streaming").unnest("value")
    assert_frame_equal(streamed, eager)
    # In filter and with_columns too.
    filtered = lf.filter(expr.struct.field("id") % 1000 == 0).collect(engine="streaming")
    assert filtered["n"].to_list() == list(range(0, 40_000, 1000))


def test_fingerprints_and_canonical_forms_match_the_specification() -> None:
    # The specification's test vectors (share/test/data/schema-tests.txt in apache/avro).
    vectors = [
        ('"null"', '"null"', 7195948357588979594),
        ('{"type":"boolean"}', '"boolean"', -6970731678124411036),
        ('"long"', '"long"', -3434872931120570953),
        ('"string"', '"string"', -8142146995180207161),
        ('[ "int" , {"type":"boolean"} ]', '["int","boolean"]', 5392556393470105090),
        (
            '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
            '{"name":"x.y.foo","type":"record","fields":[]}',
            5916914534497305771,
        ),
        (
            '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
            '{"name":"a.b.foo","type":"record","fields":[]}',
            -4616218487480524110,
        ),
        (
            '{"fields":[{"type":"boolean","aliases":[],"name":"f1","default":"true"},{"order":"descending","name":"f2","doc":"Hello","type":"int"}],"type":"record","name":"foo"}',
            '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"},{"name":"f2","type":"int"}]}',
            -4860222112080293046,
        ),
        (
            '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
            '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
            -4448647247586288245,
        ),
        (
            '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
            '{"name":"x.y.z.foo","type":"fixed","size":32}',
            -3064184465700546786,
        ),
        ('{ "items":{"type":"null"}, "type":"array"}', '{"type":"array","items":"null"}', -589620603366471059),
        ('{ "values":"string", "type":"map"}', '{"type":"map","values":"string"}', -8732877298790414990),
        (
            '{"name":"PigValue","type":"record",'
            '"fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
            '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
            -1759257747318642341,
        ),
    ]
    for schema, canonical, fp in vectors:
        assert polars_avro.parsing_canonical_form(schema) == canonical
        assert polars_avro.fingerprint(schema) == fp
    for schema in (V1, V2, json.loads(MIXED_SCHEMA)):
        canonical = fastavro.schema.to_parsing_canonical_form(schema)
        assert polars_avro.parsing_canonical_form(schema) == canonical
        for algorithm in ("MD5", "SHA-256"):
            assert polars_avro.fingerprint(schema, algorithm).hex() == fastavro.schema.fingerprint(canonical, algorithm)
    with pytest.raises(exc.AvroArgumentError, match="algorithm must be one of"):
        polars_avro.fingerprint(V1, "SHA-1")


def test_decoded_values_equal_the_file_reader_per_row() -> None:
    """The same records as messages and as a file give the same frame."""
    rows = _mixed_rows(500)
    schema = json.loads(MIXED_SCHEMA)
    file = io.BytesIO()
    fastavro.writer(file, fastavro.parse_schema(schema), rows, codec="deflate")
    from_file = polars_avro.read_avro(file.getvalue())
    messages = pl.Series("value", [datum(schema, r) for r in rows])
    from_messages = pl.DataFrame(messages).select(pl.col("value").avro.decode(schema)).unnest("value")
    assert_frame_equal(from_messages, from_file)
    assert_series_equal(from_messages["l"], from_file["l"])


# --------------------------------------------------------------------------- encoding


@pytest.mark.parametrize(("avro_type", "dtype", "values"), SCALAR_CASES)
def test_encoded_values_read_back_in_fastavro_as_the_originals(
    avro_type: Any, dtype: pl.DataType, values: list[Any]
) -> None:
    schema = record([{"name": "v", "type": avro_type}])
    originals = [datum(schema, {"v": v}) for v in values]
    decoded = pl.DataFrame({"value": originals}).select(pl.col("value").avro.decode(schema))
    encoded = decoded.select(pl.col("value").avro.encode(schema))["value"].to_list()
    for mine, theirs in zip(encoded, originals):
        assert_frame_matches_records(
            pl.DataFrame({"value": [mine]}).select(pl.col("value").avro.decode(schema)).unnest("value"),
            [read_back(schema, theirs)],
            schema,
        )
        # fastavro reads what was encoded as it reads its own datum.
        assert repr(read_back(schema, mine)) == repr(read_back(schema, theirs))


def test_encoding_a_frame_for_confluent_kafkas_deserializer() -> None:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    registry = SchemaRegistry()
    try:
        client = SchemaRegistryClient({"url": registry.url})
        schema_id = client.register_schema("users-value", Schema(json.dumps(V2), "AVRO"))
        users = pl.DataFrame(
            {
                "id": [1, 2, 3],
                "name": ["a", "b", "c"],
                "email": ["a@x", None, "c@x"],
                "tier": pl.Series(["PRO", "FREE", "PRO"], dtype=pl.Enum(["FREE", "PRO"])),
            }
        )
        messages = users.select(
            pl.struct(pl.all()).avro.encode(V2, framing="confluent", schema_id=schema_id).alias("value")
        )["value"]
        context = SerializationContext("users", MessageField.VALUE)
        deserializer = AvroDeserializer(client)
        assert [deserializer(m, context) for m in messages] == users.to_dicts()
        # And back: the same frame.
        back = messages.to_frame().select(
            pl.col("value").avro.decode(framing="confluent", writer_schemas=client, subject="users-value")
        )
        assert_frame_equal(back.unnest("value"), users)
    finally:
        registry.stop()


def test_encoding_schemas_keep_the_name_rules_before_any_value() -> None:
    # Refused when the expression is made, as write_avro refuses before it writes.
    named_long = record([{"name": "v", "type": {"type": "enum", "name": "long", "symbols": ["A"]}}])
    with pytest.raises(exc.AvroSchemaError, match=r"the enum 'long' \(at 'v'\) is named after the primitive type"):
        pl.col("v").avro.encode(named_long)
    with pytest.raises(exc.AvroSchemaError, match="the record 'string' .* named after the primitive type 'string'"):
        pl.col("v").avro.encode(record_name="string")
    with pytest.warns(exc.AvroSchemaWarning, match="the record 'map' .* named after the schema keyword 'map'") as w:
        encode = pl.struct("id").avro.encode(record_name="map")
    assert w[0].filename == __file__
    messages = pl.DataFrame({"id": [7]}).select(encode.alias("m"))["m"]
    assert read_back(record([{"name": "id", "type": ["null", "long"]}], "map"), messages[0]) == {"id": 7}
    # A derived schema names no type after a primitive: a Struct field `int` is the record `int_2`.
    nested = pl.DataFrame({"int": [{"x": 1}]}).select(pl.struct("int").avro.encode().alias("m"))["m"]
    int_2 = record([{"name": "x", "type": ["null", "long"]}], "int_2")
    derived = record([{"name": "int", "type": ["null", int_2]}], "topLevelRecord")
    assert read_back(derived, nested[0]) == {"int": {"x": 1}}


def test_encoding_frames_single_objects_nulls_and_derived_schemas() -> None:
    df = pl.DataFrame({"id": [1, None, 3], "name": ["a", "b", None]}).select(
        pl.when(pl.col("name").is_not_null()).then(pl.struct("id", "name")).alias("user")
    )
    # Without a schema: a record of the Struct's fields, every field nullable (as write_avro).
    raw = df.select(pl.col("user").avro.encode())["user"]
    assert raw.is_null().to_list() == [False, False, True]
    derived = {
        "type": "record",
        "name": "topLevelRecord",
        "fields": [{"name": "id", "type": ["null", "long"]}, {"name": "name", "type": ["null", "string"]}],
    }
    assert [read_back(derived, m) for m in raw[:2]] == [{"id": 1, "name": "a"}, {"id": None, "name": "b"}]
    single = df.select(pl.col("user").avro.encode(derived, framing="single_object"))["user"]
    assert single[0] == b"\xc3\x01" + struct.pack("<q", polars_avro.fingerprint(derived)) + raw[0]
    back = single.to_frame().select(pl.col("user").avro.decode(derived, framing="single_object"))
    assert_series_equal(back["user"], df["user"])
    # A value that does not fit its Avro type names its row.
    with pytest.raises(exc.AvroEncodeError, match=r"beyond the range of an Avro int.*row 1"):
        pl.DataFrame({"v": [1, 2**40]}).select(pl.col("v").avro.encode("int"))
    with pytest.raises(exc.AvroArgumentError, match="needs the schema_id="):
        pl.col("v").avro.encode(V1, framing="confluent")
    with pytest.raises(exc.AvroArgumentError, match="pass schema= for values of"):
        pl.DataFrame({"v": [1]}).select(pl.col("v").avro.encode())


def test_kafka_frame_and_schema_ids_carried_in_headers() -> None:
    from types import SimpleNamespace

    raw = [datum(V1, {"id": 1, "name": "a"}), datum(V2, {"id": 2, "name": "b", "email": "e", "tier": "PRO"})]
    records = [
        SimpleNamespace(
            key=None, value=raw[0], topic="t", partition=0, offset=5, timestamp=None, headers=[("sid", b"11")]
        ),
        SimpleNamespace(
            key=b"k", value=raw[1], topic="t", partition=1, offset=6, timestamp=1, headers=[("sid", b"12")]
        ),
    ]
    frame = polars_avro.kafka_frame(records)
    assert frame["timestamp"].to_list() == [None, dt.datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=dt.timezone.utc)]
    assert frame["headers"].to_list() == [[{"key": "sid", "value": b"11"}], [{"key": "sid", "value": b"12"}]]
    # The id of each raw datum, from a header (as docs/messages.md shows it).
    header_id = pl.col("headers").list.first().struct.field("value").cast(pl.String).cast(pl.Int64)
    out = frame.with_columns(
        pl.col("value").avro.decode(framing="raw", schema_id=header_id, writer_schemas={11: V1, 12: V2})
    )
    assert out["value"].to_list() == [
        {"id": 1, "name": "a", "email": None, "tier": "FREE"},
        {"id": 2, "name": "b", "email": "e", "tier": "PRO"},
    ]
    failing = SimpleNamespace(error=lambda: "broker down", key=None)
    with pytest.raises(exc.AvroArgumentError, match="the consumer gave an error instead of a message: broker down"):
        polars_avro.kafka_frame([failing])


def test_confluent_messages_framed_with_a_schema_guid() -> None:
    import uuid

    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    registry = SchemaRegistry()
    try:
        client = SchemaRegistryClient({"url": registry.url})
        registered = client.register_schema_full_response("users-value", Schema(json.dumps(V1), "AVRO"))
        guid = uuid.UUID(registered.guid)
        messages = [b"\x01" + guid.bytes + datum(V1, {"id": i, "name": f"n{i}"}) for i in range(3)]
        expected = [{"id": i, "name": f"n{i}"} for i in range(3)]
        # By the registry (schemas/guids/..., from a client that has not cached it), and by a
        # mapping keyed by the GUID's text.
        fresh = SchemaRegistryClient({"url": registry.url})
        assert (
            decoded_frame(messages, None, framing="confluent", writer_schemas=fresh, subject="users-value").to_dicts()
            == expected
        )
        assert decoded_frame(messages, V1, framing="confluent", writer_schemas={str(guid): V1}).to_dicts() == expected
        assert registry.requests(prefix="/schemas/guids/") == [f"/schemas/guids/{guid}"]
        with pytest.raises(exc.AvroDecodeError, match=f"found one with a schema GUID {guid}.*row 0"):
            pl.DataFrame({"value": messages}).select(pl.col("value").avro.schema_id())
    finally:
        registry.stop()


def test_queries_holding_the_expressions_serialize_and_pickle() -> None:
    """The decoder pickles as its arguments: a query with it can be serialized (Polars pickles
    Python functions with cloudpickle) or sent to other processes."""
    import pickle

    messages, expected = two_versions()
    lf = pl.LazyFrame({"value": messages}).select(
        pl.col("value").avro.decode(framing="confluent", writer_schemas={1: V1, 2: V2}).avro.encode(V2)
    )
    back = pl.LazyFrame.deserialize(io.BytesIO(lf.serialize()))
    assert_frame_equal(back.collect(), lf.collect())
    assert [read_back(V2, m) for m in back.collect()["value"]] == expected
    decoding = polars_avro._messages.MessageDecoding(
        V1, framing="raw", reader_schema=None, writer_schemas=None, subject=None, mode="strict", has_ids=False
    )
    copy = pickle.loads(pickle.dumps(decoding))
    batch = pl.Series("value", [datum(V1, {"id": 3, "name": "c"})])
    assert copy.decode(batch).to_list() == decoding.decode(batch).to_list() == [{"id": 3, "name": "c"}]


@pytest.mark.parametrize("mode", ["strict", "permissive"])
def test_a_failing_registry_is_asked_again_and_never_taken_for_bad_messages(mode: str) -> None:
    """A 500 on lookups turned every message into a null in permissive mode, and was
    remembered: the expression built once (a consumer's loop) failed or gave nulls on every
    later batch with the registry healthy again."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    registry = SchemaRegistry()
    try:
        schema_id = SchemaRegistryClient({"url": registry.url}).register_schema(
            "u-value", Schema(json.dumps(V1), "AVRO")
        )
        rows = [{"id": i, "name": f"n{i}"} for i in range(5)]
        df = pl.DataFrame({"value": [confluent(schema_id, datum(V1, r)) for r in rows]})
        # The client's own retries off: the tries counted are the decoder's.
        client = SchemaRegistryClient({"url": registry.url, "max.retries": 0})
        decode = pl.col("value").avro.decode(framing="confluent", writer_schemas=client, reader_schema=V1, mode=mode)
        registry.store.faults = [500] * 3
        with pytest.raises(exc.AvroIOError, match=r"could not fetch schema id \d+ from the schema registry at .*500"):
            df.select(decode)
        assert len(registry.requests()) == 3, "three tries"
        assert df.select(decode)["value"].to_list() == rows, "the failure was not remembered"

        fresh = pl.col("value").avro.decode(
            framing="confluent",
            writer_schemas=SchemaRegistryClient({"url": registry.url, "max.retries": 0}),
            reader_schema=V1,
            mode=mode,
        )
        registry.store.faults = [503, 503]
        assert df.select(fresh)["value"].to_list() == rows, "a passing failure is tried again"
    finally:
        registry.stop()


def test_a_registry_that_does_not_answer_fails_the_decode_in_bounded_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A registry that never answered hung decode (no answer in 120 s)."""
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

    from polars_avro import _registry

    monkeypatch.setattr(_registry, "REGISTRY_TIMEOUT", 0.5)
    monkeypatch.setattr(_registry, "REGISTRY_RETRY_PAUSES", (0.05, 0.05))
    registry = SchemaRegistry()
    try:
        schema_id = SchemaRegistryClient({"url": registry.url}).register_schema(
            "u-value", Schema(json.dumps(V1), "AVRO")
        )
        df = pl.DataFrame({"value": [confluent(schema_id, datum(V1, {"id": 1, "name": "a"}))]})
        client = SchemaRegistryClient({"url": registry.url, "max.retries": 0})
        registry.store.faults = [3.0] * 3
        decode = pl.col("value").avro.decode(framing="confluent", writer_schemas=client, reader_schema=V1)
        with pytest.raises(exc.AvroIOError, match=r"TimeoutError: no answer within 0\.5 s"):
            df.select(decode)
        assert len(registry.requests()) == 3
        registry.store.faults = [3.0] * 3
        fresh = SchemaRegistryClient({"url": registry.url, "max.retries": 0})
        with pytest.raises(exc.AvroIOError, match=r"the latest version of subject 'u-value'.*no answer within 0\.5 s"):
            pl.col("value").avro.decode(framing="confluent", writer_schemas=fresh, subject="u-value")
    finally:
        registry.stop()
