"""Parsing Canonical Form and a schema's fingerprints, which identify a schema.

Single-object encoding carries the CRC-64-AVRO fingerprint; MD5 and SHA-256 are the
specification's other two.
"""

from __future__ import annotations

import hashlib
from typing import Literal, get_args

from polars_avro import _internal
from polars_avro._arguments import SchemaLike
from polars_avro.exceptions import AvroArgumentError, schema_json


def parsing_canonical_form(schema: SchemaLike) -> str:
    """The schema in Avro's Parsing Canonical Form.

    Full names, only the attributes that matter to reading (``name``, ``type``,
    ``fields``, ``symbols``, ``items``, ``values``, ``size``) in that order, no
    whitespace: what fingerprints and single-object encoding identify a schema by.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.parsing_canonical_form(
    ...     {"type": "record", "name": "User", "namespace": "app", "doc": "a user",
    ...      "fields": [{"name": "id", "type": {"type": "long"}, "default": 0}]}
    ... )
    '{"name":"app.User","type":"record","fields":[{"name":"id","type":"long"}]}'
    """
    return _internal.parsing_canonical_form(schema_json("schema", schema))


#: The fingerprints :func:`fingerprint` computes.
FingerprintAlgorithm = Literal["CRC-64-AVRO", "MD5", "SHA-256"]
FINGERPRINTS: tuple[str, ...] = get_args(FingerprintAlgorithm)


def fingerprint(schema: SchemaLike, algorithm: FingerprintAlgorithm = "CRC-64-AVRO") -> int | bytes:
    """The fingerprint of a schema's Parsing Canonical Form.

    ``"CRC-64-AVRO"`` (the default, what single-object encoding carries) gives a signed
    64-bit integer, as Java's ``SchemaNormalization.parsingFingerprint64`` and the
    specification's test vectors write it; ``"MD5"`` and ``"SHA-256"`` give the digest
    bytes.

    Examples
    --------
    >>> import polars_avro
    >>> polars_avro.fingerprint('"int"')
    8247732601305521295
    >>> polars_avro.fingerprint('"int"', "MD5").hex()
    'ef524ea1b91e73173d938ade36c1db32'
    """
    canonical = parsing_canonical_form(schema).encode()
    if algorithm == "CRC-64-AVRO":
        return _internal.crc64_avro(canonical)
    if algorithm == "MD5":
        return hashlib.md5(canonical).digest()
    if algorithm == "SHA-256":
        return hashlib.sha256(canonical).digest()
    msg = f"algorithm must be one of {', '.join(FINGERPRINTS)}, found {algorithm!r}"
    raise AvroArgumentError(msg)
