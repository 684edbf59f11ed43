"""AvroHeader: what an Avro file's header says, as the Rust core describes it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AvroHeader:
    """What an Avro file's header says."""

    #: The writer schema as parsed JSON.
    schema: Any
    #: The writer schema exactly as stored in the file.
    schema_json: str
    #: The block codec: null, deflate, snappy, zstandard, bzip2 or xz.
    codec: str
    #: Every metadata entry, ``avro.schema`` and ``avro.codec`` included.
    metadata: dict[str, bytes]
    #: The entries the file's writer added: all but the format's own (``avro.*``), as
    #: ``write_avro(..., schema=header)`` carries them over.
    user_metadata: dict[str, bytes]
    #: The 16-byte sync marker.
    sync_marker: bytes


def header_of(header: dict[str, Any]) -> AvroHeader:
    """A header as the Rust core describes it (``_internal.read_header``)."""
    return AvroHeader(
        schema=json.loads(header["schema_json"]),
        schema_json=header["schema_json"],
        codec=header["codec"],
        metadata=dict(header["metadata"]),
        user_metadata=dict(header["user_metadata"]),
        sync_marker=header["sync_marker"],
    )
