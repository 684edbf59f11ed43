"""What we write, read by the reference implementations: fastavro, Apache's Python ``avro``
(with its snappy and zstandard extras) and Apache's Java library (Debian's libavro-java, run
once over every file by tests/java/AvroToJson.java), each reader's values compared with the
frame written, for every type, codec and name shape the writer has.

A codec a reader lacks is that pair's expected failure (strict: it fails once the reader
gains the codec), never a pass: see READERS_LACK.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import shutil
import subprocess
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import (
    EXPLICIT,
    HAS_MAP,
    apache_records,
    as_read_back,
    every_type_frame,
    explicit_frame,
    fastavro_records,
    frame_mismatches,
    from_json_encoding,
    stored_values,
    values_equal,
)

import polars_avro
from polars_avro import AvroSchemaWarning

#: Apache's avro warns of the logical types it does not know (timestamp-nanos, local-timestamp-*,
#: polars-avro's duration-*, uuid on fixed) and reads their underlying types, which are compared.
pytestmark = pytest.mark.filterwarnings("ignore::avro.errors.IgnoredLogicalType")

CODECS = ["uncompressed", "deflate", "snappy", "zstandard", "bzip2", "xz"]
READERS = ["fastavro", "apache", "java"]
#: Each reader's codecs that it lacks, as the reader's own words say.
READERS_LACK = {
    ("apache", "xz"): "Unsupported codec: xz",
    # Java's Avro 1.8.2 (Debian 12's libavro-java) predates zstandard (1.9).
    ("java", "zstandard"): "Unrecognized codec: zstandard",
}

PRIMITIVE_NAMES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
#: The complex types' keywords, and two words spavro reserves too.
SCHEMA_WORDS = ["record", "enum", "array", "map", "fixed", "union", "error", "request", "error_union"]
RESERVED = PRIMITIVE_NAMES + SCHEMA_WORDS


# --------------------------------------------------------------------------- the files


def reserved_names_frame(kind: str) -> pl.DataFrame:
    """Columns of ``kind`` (Struct, Enum or Categorical) named after every primitive and schema
    word, at the top level, inside a Struct and inside a List of Structs."""

    def column(name: str, i: int) -> pl.Series:
        values = ["A", None, "B"][i % 3 :] + ["A", None, "B"][: i % 3]
        if kind == "Struct":
            return pl.Series(name, [None if v is None else {"x": i, "label": v} for v in values])
        return pl.Series(name, values, dtype=pl.Enum(["A", "B"]) if kind == "Enum" else pl.Categorical)

    nested = pl.struct(RESERVED).alias("nested")
    return pl.DataFrame([column(name, i) for i, name in enumerate(RESERVED)]).with_columns(
        nested, listed=pl.concat_list(nested)
    )


def write_reserved_names(kind: str) -> Callable[[Path, str], pl.DataFrame]:
    def write(path: Path, compression: str) -> pl.DataFrame:
        df = reserved_names_frame(kind)
        with warnings.catch_warnings():
            warnings.simplefilter("error", AvroSchemaWarning)  # the derived schema needs none
            polars_avro.write_avro(df, path, compression=compression)
        if kind != "Categorical":
            return df
        # Each Categorical, nested too, is an enum of its values: the same text.
        back = polars_avro.read_avro(path)
        assert back.cast(as_strings(back.schema)).equals(df.cast(as_strings(df.schema)))
        return back

    return write


def as_strings(schema: pl.Schema) -> dict[str, pl.DataType]:
    """Casts of every Enum and Categorical of a schema, nested ones too, to String."""

    def cast(dtype: pl.DataType) -> pl.DataType:
        if isinstance(dtype, (pl.Enum, pl.Categorical)):
            return pl.String()
        if isinstance(dtype, pl.Struct):
            return pl.Struct({f.name: cast(f.dtype) for f in dtype.fields})
        if isinstance(dtype, pl.List):
            return pl.List(cast(dtype.inner))
        return dtype

    return {name: cast(dtype) for name, dtype in schema.items()}


def write_every_type(path: Path, compression: str) -> pl.DataFrame:
    df = every_type_frame()
    polars_avro.write_avro(df, path, compression=compression)
    return as_read_back(df)


def write_explicit(path: Path, compression: str) -> pl.DataFrame:
    df = explicit_frame()
    polars_avro.write_avro(df, path, schema=EXPLICIT, compression=compression)
    return polars_avro.read_avro(path)  # compared with the frame by test_write's explicit tests


#: Types only an explicit schema gives beyond EXPLICIT's: unions of several branches, a map,
#: records in an array, date, time-millis, local timestamps, decimals on bytes (one wider than
#: Polars' Decimal, from text), a nested namespace, a fixed duration, uuid on string, big-decimal.
MORE_EXPLICIT = {
    "type": "record",
    "name": "Trip",
    "namespace": "com.example.fleet",
    "fields": [
        {"name": "leg", "type": ["null", "long", "string", {"type": "array", "items": "int"}]},
        {"name": "tolls", "type": {"type": "map", "values": ["null", "double"]}},
        {
            "name": "stops",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "Stop",
                    "namespace": "com.example.geo",
                    "fields": [{"name": "lat", "type": "double"}, {"name": "lon", "type": "float"}],
                },
            },
        },
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "clock", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "fare", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "last", "type": ["null", "com.example.geo.Stop"]},
        {"name": "span", "type": {"type": "fixed", "name": "Span", "size": 12, "logicalType": "duration"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "big", "type": {"type": "bytes", "logicalType": "big-decimal"}},
        {"name": "wide", "type": {"type": "bytes", "logicalType": "decimal", "precision": 50, "scale": 10}},
    ],
}


def write_more_explicit(path: Path, compression: str) -> pl.DataFrame:
    stop = pl.Struct({"lat": pl.Float64, "lon": pl.Float32})
    df = pl.DataFrame(
        {
            "leg": pl.Series(
                [{"long": 5}, {"string": "x"}, None, {"array": [1, -2]}],
                dtype=pl.Struct({"long": pl.Int64, "string": pl.String, "array": pl.List(pl.Int32)}),
            ),
            "tolls": [[{"key": "a", "value": 1.5}], [], [{"key": "b", "value": None}], [{"key": "c", "value": -0.0}]],
            "stops": pl.Series(
                [[{"lat": 59.9, "lon": 10.75}], [], [{"lat": -12.05, "lon": -77.04}] * 2, []], dtype=pl.List(stop)
            ),
            "day": [dt.date(2024, 2, 29), dt.date(1970, 1, 1), dt.date(1900, 1, 1), dt.date(2100, 12, 31)],
            "clock": [dt.time(0, 0), dt.time(23, 59, 59, 999000), dt.time(12, 30), dt.time(0, 0, 0, 1000)],
            "local": [
                dt.datetime(2024, 3, 31, 2, 30),
                dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
                dt.datetime(2000, 1, 1),
                dt.datetime(1, 1, 1),
            ],
            "fare": pl.Series(
                [
                    decimal.Decimal("12.50"),
                    decimal.Decimal("-0.01"),
                    decimal.Decimal("9999999.99"),
                    decimal.Decimal("0"),
                ],
                dtype=pl.Decimal(9, 2),
            ),
            "last": pl.Series([{"lat": 1.0, "lon": 2.0}, None, None, {"lat": 3.0, "lon": 4.0}], dtype=stop),
            "span": pl.Series(
                [
                    {"months": 1, "days": 2, "milliseconds": 3},
                    {"months": 0, "days": 0, "milliseconds": 0},
                    {"months": 2**32 - 1, "days": 7, "milliseconds": 86_400_000},
                    {"months": 0, "days": 1, "milliseconds": 0},
                ],
                dtype=pl.Struct({"months": pl.UInt32, "days": pl.UInt32, "milliseconds": pl.UInt32}),
            ),
            "uid": ["00112233-4455-6677-8899-aabbccddeeff", "ffffffff-ffff-ffff-ffff-ffffffffffff"] * 2,
            "big": ["3.14159", "-1000", "0.000001", "123456789012345678901234567890.5"],
            "wide": [
                "1234567890123456789012345678901234567890.0123456789",
                "-0.0000000001",
                "0.0000000000",
                "99.5000000000",
            ],
        }
    )
    if HAS_MAP:
        df = df.with_columns(pl.col("tolls").cast(pl.Map(pl.String, pl.Float64)))
    polars_avro.write_avro(df, path, schema=MORE_EXPLICIT, compression=compression)
    return df


def write_streamed(path: Path, compression: str) -> pl.DataFrame:
    """A query's batches into many blocks, large values among them, a map, user metadata and a
    namespace of the user's."""
    n = 3_000
    df = pl.DataFrame(
        {
            "id": range(n),
            "text": ["é" * (i % 50) + ("x" * 300_000 if i == 1_234 else "") for i in range(n)],
            "blob": [bytes([i % 256]) * (i % 40) for i in range(n)],
            "scores": [[float(j) for j in range(i % 5)] for i in range(n)],
        }
    )
    if HAS_MAP:
        tags = pl.Series([[{"key": f"k{i % 3}", "value": i}] for i in range(n)]).cast(pl.Map(pl.String, pl.Int64))
        df = df.with_columns(tags=tags)
    polars_avro.sink_avro(
        df.lazy(),
        path,
        compression=compression,
        chunk_size=256,
        sync_interval=4_000,
        name="Reading",
        namespace="com.example.iot",
        metadata={"origin": "polars-avro tests"},
    )
    return df


def write_schema_word_names(path: Path, compression: str) -> pl.DataFrame:
    """A record the user named ``record`` and an enum named ``enum``: valid, warned, and read by
    the reference readers."""
    df = pl.DataFrame({"e": pl.Series(["enum", "map"], dtype=pl.Enum(["enum", "map"]))})
    schema = {
        "type": "record",
        "name": "record",
        "fields": [{"name": "e", "type": {"type": "enum", "name": "enum", "symbols": ["enum", "map"]}}],
    }
    with pytest.warns(AvroSchemaWarning) as warned:
        polars_avro.write_avro(df, path, schema=schema, compression=compression)
    assert [str(w.message).split(":")[0] for w in warned] == [
        "the record 'record' (at the top level) is named after the schema keyword 'record'",
        "the enum 'enum' (at 'e') is named after the schema keyword 'enum'",
    ]
    return df


def write_top_level_value(path: Path, compression: str) -> pl.DataFrame:
    df = pl.DataFrame({"value": [1, None, -(2**63)]})
    polars_avro.write_avro(df, path, schema='["null", "long"]', compression=compression)
    return df


WRITERS: dict[str, Callable[[Path, str], pl.DataFrame]] = {
    "every_type": write_every_type,
    "explicit": write_explicit,
    "more_explicit": write_more_explicit,
    "reserved_struct": write_reserved_names("Struct"),
    "reserved_enum": write_reserved_names("Enum"),
    "reserved_categorical": write_reserved_names("Categorical"),
    "streamed": write_streamed,
    "schema_words": write_schema_word_names,
    "top_level_value": write_top_level_value,
}
#: The codecs every reader has.
SHARED_CODECS = ["uncompressed", "deflate", "snappy", "bzip2"]
#: Every type in every codec; each other shape in one codec all readers have, taken in turn.
FILES = [(case, codec) for case in ("every_type", "explicit") for codec in CODECS] + [
    (case, SHARED_CODECS[i % len(SHARED_CODECS)]) for i, case in enumerate(list(WRITERS)[2:])
]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, pl.DataFrame]]:
    """Every file, and the frame polars-avro reads back from it (the frame written, as read)."""
    folder = tmp_path_factory.mktemp("written")
    files = {}
    for case, codec in FILES:
        path = folder / f"{case}.{codec}.avro"
        expected = WRITERS[case](path, codec)
        files[case, codec] = path, expected
    return files


JAVA_JARS = ["avro", "jackson-core-asl", "jackson-mapper-asl", "snappy-java", "commons-compress", "xz", "slf4j-api"]
JAVA_LIBRARY = Path("/usr/share/java")


@pytest.fixture(scope="module")
def java_read(
    written: dict[tuple[str, str], tuple[Path, pl.DataFrame]], tmp_path_factory: pytest.TempPathFactory
) -> dict[Path, Any]:
    """Java's records of every file in the JSON encoding, or its error, from one JVM."""
    jars = [JAVA_LIBRARY / f"{jar}.jar" for jar in JAVA_JARS]
    missing = [str(jar) for jar in jars if not jar.exists()]
    if shutil.which("javac") is None or missing:
        pytest.fail(f"Java or Apache's Java Avro library is missing ({missing}): run .ci/packages.sh")
    classes = tmp_path_factory.mktemp("java")
    classpath = ":".join(map(str, [classes, *jars]))
    source = Path(__file__).parent / "java" / "AvroToJson.java"
    subprocess.run(["javac", "-cp", classpath, "-d", str(classes), str(source)], check=True)
    pairs = [(path, classes / f"{path.name}.json") for path, _ in written.values()]
    command = ["java", "-cp", classpath, "AvroToJson", *(str(p) for pair in pairs for p in pair)]
    # slf4j says once that it logs nowhere: Java's stderr is not the files' errors.
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    read: dict[Path, Any] = {}
    for path, out in pairs:
        error = out.with_name(out.name + ".error")
        if error.exists():
            read[path] = error.read_text()
        else:
            lines = out.read_text(encoding="utf-8").split("\n")
            read[path] = [json.loads(line) for line in lines if line.strip()]
    return read


# --------------------------------------------------------------------------- the readers


class ReaderLacksCodec(Exception):  # noqa: N818 - what the expected failure is
    """The reader refused a file for its codec, in the words READERS_LACK holds."""


def params() -> list[Any]:
    out = []
    for reader in READERS:
        for case, codec in FILES:
            lacks = READERS_LACK.get((reader, codec))
            # Strict: should the reader read the file, the pair fails, to be taken off READERS_LACK.
            xfail = pytest.mark.xfail(reason=f"{reader} lacks {codec}", raises=ReaderLacksCodec, strict=True)
            out.append(pytest.param(reader, case, codec, marks=[xfail] if lacks else [], id=f"{reader}-{case}-{codec}"))
    return out


@pytest.mark.parametrize(("reader", "case", "codec"), params())
def test_the_reference_readers_read_what_we_write(
    request: pytest.FixtureRequest,
    written: dict[tuple[str, str], tuple[Path, pl.DataFrame]],
    reader: str,
    case: str,
    codec: str,
) -> None:
    path, expected = written[case, codec]
    back = polars_avro.read_avro(path)
    assert back.equals(expected), (back, expected)
    records: Any
    if reader == "java":
        records = request.getfixturevalue("java_read")[path]
    else:
        try:
            records = fastavro_records(path) if reader == "fastavro" else apache_records(path)
        except Exception as error:  # noqa: BLE001 - a reader's refusal, told apart below
            records = f"{type(error).__name__}: {error}"
    lacks = READERS_LACK.get((reader, codec))
    if isinstance(records, str) and lacks is not None and lacks in records:
        raise ReaderLacksCodec(records)
    assert not isinstance(records, str), f"{reader} refused {path.name}: {records}"
    schema = polars_avro.read_avro_header(path).schema
    if reader == "java":
        # Java gives the stored values (no logical type conversions): compared with them as
        # fastavro reads them, whose values are the frame's (the fastavro pair).
        values = [from_json_encoding(record, schema) for record in records]
        stored = stored_values(path)
        assert len(values) == len(stored)
        for row, (a, b) in enumerate(zip(values, stored)):
            assert values_equal(a, b), f"row {row}: java {a!r} != stored {b!r}"
    else:
        problems = frame_mismatches(back, records, schema)
        assert not problems, f"{reader} differs from the frame:\n  " + "\n  ".join(problems)


def test_no_type_written_is_named_after_a_primitive_or_a_schema_word(
    written: dict[tuple[str, str], tuple[Path, pl.DataFrame]],
) -> None:
    def type_names(schema: Any) -> list[str]:
        if isinstance(schema, list):
            return [n for branch in schema for n in type_names(branch)]
        if not isinstance(schema, dict):
            return []
        own = [schema["name"]] if schema.get("type") in ("record", "enum", "fixed") else []
        inner = [schema.get(k) for k in ("items", "values")] + [f["type"] for f in schema.get("fields", [])]
        return own + [n for s in inner for n in type_names(s)]

    for (case, _), (path, _) in written.items():
        if case in ("reserved_struct", "reserved_enum", "reserved_categorical", "every_type"):
            names = type_names(polars_avro.read_avro_header(path).schema)
            assert names and not set(names) & set(RESERVED), (case, names)
