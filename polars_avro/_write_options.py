"""The options of a write (write_avro, sink_avro, a cluster's part file, a block writer), checked once.

They cross into Rust as one value, ``WriteOptions``, which ``python/pywriter.rs`` reads by
attribute; where the frame was read unchanged from one file, that file's header is written with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import polars as pl

from polars_avro import _internal
from polars_avro._arguments import Codec
from polars_avro._header import AvroHeader
from polars_avro._keywords import DEFAULT_RECORD_NAME
from polars_avro._origin import source_header
from polars_avro._polars.keywords import with_credentials
from polars_avro._sources import RemoteOptions
from polars_avro.exceptions import AvroArgumentError, schema_json


@dataclass(frozen=True)
class WriteOptions:
    """The options of write_avro and sink_avro, checked once.

    Every field comes from the entry point's arguments: the defaults are the signatures'.
    """

    compression: str
    compression_level: int | None
    name: str
    namespace: str | None
    schema: str | None
    #: The schema is the header of the file the frame was read from: where its names break
    #: the specification's rules, Rust derives one instead.
    schema_from_source: bool
    metadata: list[tuple[str, bytes]]
    sync_interval: int
    n_threads: int | None
    remote: RemoteOptions

    @classmethod
    def of(cls, arguments: Mapping[str, Any], target: object, source: AvroHeader | None = None) -> WriteOptions:
        """The options among an entry point's arguments (its ``locals()``), checked.

        ``target``'s URL decides whether an AWS profile's keys are looked for. ``source``:
        the header of the file the frame was read from, written with where nothing was given.
        """
        compression = arguments["compression"]
        if compression is None:
            compression = "uncompressed"
        elif isinstance(compression, Codec):
            compression = compression.value
        elif not isinstance(compression, str):
            msg = f"compression must be a codec's name, found {type(compression).__name__}"
            raise AvroArgumentError(msg)
        _internal.check_whole_number("sync_interval", arguments["sync_interval"], 1)
        _internal.check_threads(arguments["n_threads"])
        # Where the writer takes no store, nothing else checks it.
        _internal.check_whole_number("retries", arguments["retries"], 0)
        if arguments["compression_level"] is not None:
            # The codec's own range is checked with its name; this keeps the number an int32.
            _internal.check_whole_number("compression_level", arguments["compression_level"], -(2**31), 2**31 - 1)
        schema = arguments["schema"] if source is None else source
        metadata: dict[str, Any] = {}
        if isinstance(schema, AvroHeader):
            # The header's schema, exactly as stored, and its user metadata (not the format's).
            metadata = dict(schema.user_metadata)
            schema = schema.schema_json
        elif schema is not None:
            schema = schema_json("schema", schema)
        given = {} if arguments["metadata"] is None else arguments["metadata"]
        if not isinstance(given, Mapping):
            msg = f"metadata must map str keys to str or bytes values (a dict), found {type(given).__name__}"
            raise AvroArgumentError(msg)
        if arguments["namespace"] is not None:
            _internal.check_text("namespace", arguments["namespace"], "the record's namespace")
        entries = []
        for key, value in {**metadata, **given}.items():
            if not isinstance(key, str) or not isinstance(value, (str, bytes, bytearray, memoryview)):
                msg = f"metadata maps str keys to str or bytes values, found {key!r}: {type(value).__name__}"
                raise AvroArgumentError(msg)
            entries.append((key, value.encode() if isinstance(value, str) else bytes(value)))
        provider = arguments.get("credential_provider")
        storage_options = with_credentials(arguments["storage_options"], provider)
        remote = RemoteOptions.of(storage_options, arguments["retries"], source=target, credential_provider=provider)
        plain = {f.name: arguments[f.name] for f in fields(cls) if f.name not in ("remote", "schema_from_source")}
        checked = {
            "compression": compression,
            "name": _record_name(arguments["name"]),
            "schema": schema,
            "schema_from_source": source is not None,
        }
        return cls(**{**plain, **checked, "metadata": entries, "remote": remote})


def _record_name(name: str) -> str:
    """The record name asked for: ``""``, Polars' ``write_avro`` default, asks for the default."""
    _internal.check_text("name", name, "the record's name")
    return DEFAULT_RECORD_NAME if name == "" else name


def kept_header(
    frame: pl.DataFrame | pl.LazyFrame, frame_schema: pl.Schema, given: Mapping[str, Any]
) -> AvroHeader | None:
    """The header of the file ``frame`` was read from unchanged, to write with; else None.

    scan_avro's or read_avro's very frame, of one file, where the user gave no schema,
    record name or namespace; None derives the schema.
    """
    if given["schema"] is not None or given["namespace"] is not None:
        return None
    if _record_name(given["name"]) != DEFAULT_RECORD_NAME:
        return None
    header: AvroHeader | None = source_header(frame, frame_schema)
    return header
