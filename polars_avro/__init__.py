"""polars-avro: Apache Avro object container files as a first-class Polars format.

``import polars_avro`` makes ``pl.scan_avro`` available, and the ``.avro`` namespaces:
``df.avro.write(...)``, ``lf.avro.sink(...)`` and, for Avro datums in binary columns
(Kafka messages), ``pl.col(...).avro.decode(...)``. Polars' own ``pl.read_avro`` is left
as it is; use :func:`polars_avro.read_avro` for this reader.

Every namespace method is also a function of this module, which type checkers see (they
cannot see what Polars registers at run time): :func:`scan_avro`, :func:`write_avro`,
:func:`sink_avro`, :func:`decode`, :func:`decode_error`, :func:`schema_id` and :func:`encode`.
"""

from __future__ import annotations

import polars as pl

from polars_avro import _namespaces  # noqa: F401  (registers df.avro and lf.avro)
from polars_avro._arguments import Codec, CompressionName
from polars_avro._blocks import (
    AvroBlock,
    AvroBlockReader,
    AvroBlockWriter,
    AvroDatums,
    AvroFile,
    BlockData,
    list_avro_files,
    unify_schemas,
)
from polars_avro._expr import decode, decode_error, encode, schema_id
from polars_avro._fingerprints import FingerprintAlgorithm, fingerprint, parsing_canonical_form
from polars_avro._header import AvroHeader
from polars_avro._internal import SplitFile, __version__
from polars_avro._io import read_avro, read_avro_header, read_avro_schema, scan_avro
from polars_avro._kafka import kafka_frame
from polars_avro._reader import AvroReader
from polars_avro._sample import sample_file
from polars_avro._skipped import SkippedBlock
from polars_avro._splits import AvroSplit, plan_splits, read_split
from polars_avro._stats import ReadStats, read_stats
from polars_avro._write import sink_avro, write_avro
from polars_avro.exceptions import (
    AvroArgumentError,
    AvroCapacityError,
    AvroCodecError,
    AvroColumnNotFoundError,
    AvroDataSkippedWarning,
    AvroDecodeError,
    AvroDecodeWarning,
    AvroDuplicateError,
    AvroEncodeError,
    AvroError,
    AvroFileNotFoundError,
    AvroFormatError,
    AvroInternalError,
    AvroIOError,
    AvroKeywordError,
    AvroMemoryError,
    AvroOptionConflictError,
    AvroPermissionError,
    AvroPolarsBugWarning,
    AvroPolarsVersionError,
    AvroPolarsVersionWarning,
    AvroSchemaError,
    AvroSchemaFieldNotFoundError,
    AvroSchemaMismatchError,
    AvroSchemaWarning,
)

if not hasattr(pl, "scan_avro"):
    pl.scan_avro = scan_avro  # type: ignore[attr-defined]

__all__ = [
    "AvroArgumentError",
    "AvroBlock",
    "AvroBlockReader",
    "AvroBlockWriter",
    "AvroCapacityError",
    "AvroCodecError",
    "AvroColumnNotFoundError",
    "AvroDuplicateError",
    "AvroDataSkippedWarning",
    "AvroDatums",
    "AvroDecodeError",
    "AvroDecodeWarning",
    "AvroEncodeError",
    "AvroError",
    "AvroFile",
    "AvroFileNotFoundError",
    "AvroFormatError",
    "AvroHeader",
    "AvroIOError",
    "AvroInternalError",
    "AvroKeywordError",
    "AvroMemoryError",
    "AvroOptionConflictError",
    "AvroPermissionError",
    "AvroPolarsBugWarning",
    "AvroPolarsVersionError",
    "AvroPolarsVersionWarning",
    "AvroReader",
    "AvroSchemaError",
    "AvroSchemaFieldNotFoundError",
    "AvroSchemaMismatchError",
    "AvroSchemaWarning",
    "AvroSplit",
    "BlockData",
    "Codec",
    "CompressionName",
    "FingerprintAlgorithm",
    "ReadStats",
    "SkippedBlock",
    "SplitFile",
    "__version__",
    "decode",
    "decode_error",
    "encode",
    "fingerprint",
    "kafka_frame",
    "list_avro_files",
    "parsing_canonical_form",
    "plan_splits",
    "read_avro",
    "read_avro_header",
    "read_avro_schema",
    "read_split",
    "read_stats",
    "sample_file",
    "scan_avro",
    "schema_id",
    "sink_avro",
    "unify_schemas",
    "write_avro",
]
