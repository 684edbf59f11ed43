"""The exceptions polars-avro raises.

Every error from reading Avro is an :class:`AvroError`. Each carries the ``file``, the
``block`` index and the byte ``offset`` in the file where it happened, or for messages
in a column (``Expr.avro.decode``) the ``row`` (``None`` where they do not apply), counted
in the batch of ``batch_rows`` rows that Polars handed the expression; in a
split that begins inside a file (:func:`polars_avro.read_split`) blocks are counted from
the split's first, and ``split_start`` says where the split begins. Each
also subclasses the matching Python or Polars exception, so ``except FileNotFoundError``
or ``except polars.exceptions.ComputeError`` keep working.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

import polars.exceptions as _pl_exc

#: The place an error's message ends with: ``(file 'f', block 3, byte offset 9, row 2)``,
#: and ``split from byte 8`` before the block of a split.
_PLACE = {
    "file": re.compile(r"\(file '(.*?)'[,)]"),
    "split_start": re.compile(r"[(,] ?split from byte (\d+)[,)]"),
    "block": re.compile(r"[(,] ?block (\d+)[,)]"),
    "offset": re.compile(r"[(,] ?byte offset (\d+)[,)]"),
    "row": re.compile(r"[(,] ?row (\d+)(?: of a batch of \d+)?\)"),
    "batch_rows": re.compile(r"[(,] ?row \d+ of a batch of (\d+)\)"),
}


class AvroError(Exception):
    """Base class of every polars-avro error."""

    file: str | None = None
    block: int | None = None
    split_start: int | None = None
    offset: int | None = None
    row: int | None = None
    batch_rows: int | None = None

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        # Polars raises an expression's error again as a new exception of the same class,
        # built from the message alone: the place is read back from the message.
        message = args[0] if args and isinstance(args[0], str) else ""
        for name, pattern in _PLACE.items():
            found = pattern.search(message)
            if found:
                setattr(self, name, found.group(1) if name == "file" else int(found.group(1)))


class AvroIOError(AvroError, OSError):
    """The operating system could not open or read a source."""


class AvroFileNotFoundError(AvroIOError, FileNotFoundError):
    """A path, glob or directory names no file."""


class AvroPermissionError(AvroIOError, PermissionError):
    """The source refused access: credentials missing, wrong, or without the rights."""


class AvroFormatError(AvroError, _pl_exc.ComputeError):
    """The bytes are not a well-formed Avro object container file."""


class AvroCodecError(AvroFormatError):
    """Unknown codec, failed decompression or a checksum mismatch."""


class AvroDecodeError(AvroFormatError):
    """Record bytes do not match the file's schema."""


class AvroEncodeError(AvroError, _pl_exc.ComputeError):
    """A value cannot be written as its Avro type, or a column has a type Avro cannot hold.

    Out of range, a null where the Avro type has none, a string that is not one of the enum's
    symbols, and so on: the message names the row and the column. A column of a type Avro
    cannot hold (Object, Int128) is named with the way out; Polars' own writers raise
    ComputeError for a type they cannot write.
    """


class AvroSchemaError(AvroError, _pl_exc.SchemaError):
    """The Avro schema is not valid JSON or not a valid Avro schema."""


class AvroSchemaMismatchError(AvroSchemaError):
    """Several files map to different Polars schemas."""


class AvroArgumentError(AvroError, ValueError):
    """An argument cannot be honoured (an unknown column, a bad source, ...)."""


class AvroKeywordError(AvroArgumentError, TypeError):
    """A keyword this function does not take, or one given twice under two names.

    Another reader's keyword (Polars', fastavro's, ...) is refused with the reason it has no use
    here. A ``TypeError`` as well, as Python raises for a keyword a function does not take.
    """


class AvroColumnNotFoundError(AvroArgumentError, _pl_exc.ColumnNotFoundError):
    """An argument names a column the data does not have.

    ``columns=["nope"]``, ``columns=[9]`` of two columns, ``partition_by="nope"``. A
    ``ColumnNotFoundError`` as well, as Polars raises for the same mistake.
    """


class AvroDuplicateError(AvroArgumentError, _pl_exc.DuplicateError):
    """An argument names a column twice, or names a new column as one the data has.

    ``columns=[0, 0]``, ``columns=["a", "a"]``, ``row_index_name="a"`` or
    ``include_file_paths="a"`` where the data has a column ``a``. A ``DuplicateError`` as
    well, as Polars raises for the same mistake.
    """


class AvroSchemaFieldNotFoundError(AvroArgumentError, _pl_exc.SchemaFieldNotFoundError):
    """A schema given lacks a field the data has.

    ``hive_schema={"year": pl.Int32}`` for folders partitioned by year and month. A
    ``SchemaFieldNotFoundError`` as well, as Polars raises for the same mistake.
    """


class AvroOptionConflictError(AvroArgumentError, _pl_exc.ComputeError):
    """Two options given together that cannot go together.

    ``hive_schema=...`` beside ``hive_partitioning=False``. A ``ComputeError`` as well, as
    Polars' own scans raise for the same mistake.
    """


class AvroMemoryError(AvroError, MemoryError):
    """The system refused memory while reading: the address space (``ulimit -v``) or the memory ran out."""


class AvroCapacityError(AvroError, _pl_exc.ComputeError):
    """The data holds more than a Polars frame can: more records than its maximum height.

    Polars counts rows with its index type (``pl.get_index_type()``: 2**32 - 1 rows at
    most, unless it was built for 64-bit indices).
    """


class AvroInternalError(AvroError, _pl_exc.ComputeError):
    """polars-avro itself failed (Polars refused a column it built, or its code panicked).

    A bug, not damage in the data. ``ignore_errors=True`` never skips it. Please report it with
    the message. Also raised, naming the filter, where Polars panicked evaluating a filter
    of the query that the reader evaluates.
    """


class AvroDataSkippedWarning(UserWarning):
    """A read with ``ignore_errors=True`` left a damaged block out.

    The warning carries the report's fields: ``kind``, ``file``, ``block``, ``offset``,
    ``records`` (lost: None when the block's framing was broken and nothing confirmed its
    count) and ``message``.
    """

    kind: str
    file: str | None
    block: int | None
    offset: int | None
    records: int | None


class AvroPolarsVersionError(AvroError, ImportError):
    """The running Polars offers scans an interface other than the one polars-avro knows.

    Raised at import, naming the running release and the newest one tested, so that a
    release whose interface changed fails there rather than deep in a query.
    """


class AvroPolarsBugWarning(UserWarning):
    """The running Polars has a bug that gives some queries over ``scan_avro`` wrong rows.

    Silently, where Polars' own scans are right, and polars-avro cannot work around it:
    warned once a process, at the first scan, naming the releases, the query shape and the
    release that fixes it. docs/versions.md lists every such bug.
    """


class AvroPolarsVersionWarning(UserWarning):
    """The running Polars is a release polars-avro was not tested with.

    Warned once a process, when the package first needs to know what the release does: it
    then probes the release (in memory) and adapts to what it finds, but a bug of Polars
    that no probe looks for may go unseen. docs/versions.md lists the releases tested.
    """


class AvroDecodeWarning(UserWarning):
    """``Expr.avro.decode(..., mode="permissive")`` gave null for messages it could not decode.

    The message says how many of the batch's messages; ``Expr.avro.decode_error`` with the
    same arguments gives each one's reason.
    """


class AvroSchemaWarning(UserWarning):
    """A schema being written names a type after a word of the schema language (``map``, ``enum``).

    Valid Avro, which some readers misread: goavro and cavro read wrong values from such a
    file, spavro refuses it. Warned when the file is created; another name avoids it (the
    derived schema never names a type so).
    """


__all__ = [
    "AvroDataSkippedWarning",
    "AvroDecodeWarning",
    "AvroPolarsBugWarning",
    "AvroPolarsVersionError",
    "AvroPolarsVersionWarning",
    "AvroSchemaWarning",
    "AvroArgumentError",
    "AvroCapacityError",
    "AvroCodecError",
    "AvroColumnNotFoundError",
    "AvroDecodeError",
    "AvroEncodeError",
    "AvroError",
    "AvroFileNotFoundError",
    "AvroFormatError",
    "AvroIOError",
    "AvroInternalError",
    "AvroKeywordError",
    "AvroMemoryError",
    "AvroOptionConflictError",
    "AvroPermissionError",
    "AvroSchemaError",
    "AvroSchemaFieldNotFoundError",
    "AvroSchemaMismatchError",
]


def schema_json(name: str, value: object) -> str:
    """An Avro schema option as JSON text, or an error naming the option.

    JSON text as it is, and a bare type name (``"long"``, as fastavro takes it) as the JSON
    string of that name; parsed JSON (a dict, a list) written out; a schema object's JSON
    (confluent-kafka's ``Schema``, Apache ``avro``'s).
    """
    if isinstance(value, str):
        return json.dumps(value) if value.replace(".", "").replace("_", "").isalnum() else value
    if isinstance(value, (Mapping, list)):
        try:
            return json.dumps(value)
        except (TypeError, ValueError) as e:
            msg = f"{name} must be an Avro schema as JSON: {e}"
            raise AvroArgumentError(msg) from e
    for attribute in ("schema_str", "to_json"):
        found = getattr(value, attribute, None)
        if isinstance(found, str):
            return found
        if callable(found):
            return json.dumps(found())
    kind = type(value).__name__
    msg = f"{name} must be an Avro schema: its JSON text, the parsed JSON (a dict or list) or a schema object, "
    msg += f"found {kind}"
    raise AvroArgumentError(msg)
