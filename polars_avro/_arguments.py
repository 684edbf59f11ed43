"""The types of what the entry points take: write targets, codecs, message framings and schemas.

A leaf: the keyword table (polars_avro._keywords) and the entry points name these types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import IO, Any, Literal, Union

#: Where write_avro and sink_avro write: a path, an object store URL, or a binary file object.
AvroTarget = Union[str, Path, IO[bytes]]


class Codec(str, Enum):
    """polars-avro 0.13's (PyPI) codecs, for code written for it (``codec=Codec.Snappy``).

    Each is the name of the codec ``compression`` takes; ``codec=None`` is ``"uncompressed"``.
    """

    Bzip2 = "bzip2"
    Deflate = "deflate"
    Snappy = "snappy"
    Xz = "xz"
    Zstandard = "zstandard"


#: The codecs' names, for type checkers: those of _internal.COMPRESSIONS (a test keeps them
#: equal), ``"zstd"``, the name Polars' Parquet and IPC writers give zstandard, and ``"null"``,
#: the name in the file's header, which fastavro's ``codec=`` takes (Rust takes both).
CompressionName = Literal["uncompressed", "snappy", "deflate", "zstandard", "bzip2", "xz", "zstd", "null"]

#: What ``compression`` takes: a codec's name, polars-avro 0.13's ``Codec``, or None (uncompressed).
Compression = Union[CompressionName, Codec, None]


Framing = Literal["raw", "confluent", "single_object", "auto"]
Mode = Literal["strict", "permissive"]
FRAMINGS: tuple[str, ...] = ("raw", "confluent", "single_object", "auto")
MODES: tuple[str, ...] = ("strict", "permissive")

#: A schema as JSON text, parsed JSON, or an object of a schema library that holds one
#: (confluent-kafka's ``Schema``, Apache avro's ``Schema``).
SchemaLike = Union[str, Mapping[str, Any], list[Any], Any]
#: Where the writer schemas of framed messages come from: a mapping from schema id (or
#: fingerprint, or GUID text) to schema, a callable taking the id and giving the schema
#: (or None), or a ``confluent_kafka.schema_registry.SchemaRegistryClient``.
WriterSchemas = Union[Mapping[Any, SchemaLike], Callable[[Any], Any], Any]
