"""Each keyword of the entry points, declared once: its name, type, default and text.

Reads, writes and the message expressions alike.

The entry points take ``**options`` typed by one of these TypedDicts (PEP 692: type checkers
and editors see each keyword); :func:`takes` gives each function the keywords' signature
(``help()``, ``inspect.signature``) and its docstring their text, and refuses a keyword it
does not take, as Python would. polars_avro._options checks the values.

This module keeps its annotations as objects (no ``from __future__ import annotations``):
each type is text inside ``Annotated``, read by type checkers and shown by ``help()``.
"""

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, NamedTuple, TypedDict, TypeVar, cast

from polars_avro import _internal
from polars_avro._polars.keywords import CredentialProvider
from polars_avro.exceptions import AvroKeywordError

if TYPE_CHECKING:
    import polars as pl

    from polars_avro._arguments import AvroTarget, Compression, Framing, Mode, SchemaLike, WriterSchemas
    from polars_avro._header import AvroHeader

F = TypeVar("F", bound=Callable[..., Any])


class Keyword(NamedTuple):
    """A keyword's default and documentation (numpydoc text, its lines as written)."""

    default: Any
    doc: str


class ReadOptions(TypedDict, total=False):
    """The keywords of every read: scan_avro, read_avro, read_avro_schema and AvroReader."""

    n_rows: Annotated["int | None", Keyword(None, "Stop after this many records (counted before any filter).")]
    row_index_name: Annotated[
        "str | None",
        Keyword(
            None,
            """
            Add a first column with this name counting rows (continuous across files).
            """,
        ),
    ]
    row_index_offset: Annotated["int", Keyword(0, "Where the row index starts.")]
    include_file_paths: Annotated[
        "str | None",
        Keyword(
            None,
            """
            Add a last column with this name holding each row's source path (its URL for
            an object; ``in-mem`` for bytes and ``open-file`` for a file object over a file
            descriptor, as Polars' readers give them).
            """,
        ),
    ]
    glob: Annotated[
        "bool",
        Keyword(
            True,
            """
            Expand ``*``, ``?`` and ``[...]`` in paths. As in Polars, wildcards match names
            starting with ``.`` too, and a directory reads what ``dir/**/*.avro`` matches.
            """,
        ),
    ]
    hidden_file_prefix: Annotated[
        "str | Sequence[str] | None",
        Keyword(
            None,
            """
            Leave out files whose names begin with this prefix (or any of these prefixes),
            whether a directory, a glob or a list named them, as Polars' ``scan_parquet``
            does: ``hidden_file_prefix=("_", ".")`` leaves out ``_x.avro`` and ``.y.avro``.
            Only file names count, not the folders above them. Default: none is left out.
            """,
        ),
    ]
    batch_size: Annotated[
        "int | None",
        Keyword(
            None,
            """
            Rows per batch handed to Polars (whole Avro blocks are grouped until a batch
            holds at least this many rows). Each batch is decoded as one task.
            """,
        ),
    ]
    n_threads: Annotated[
        "int | None",
        Keyword(
            None,
            """
            Threads decoding batches in parallel. Defaults to Polars' thread count
            (``POLARS_MAX_THREADS``, else one per core); reads asking for the same count
            share one pool, so several scans in one query do not multiply the threads.
            With ``1`` everything happens on the reading thread, with no read-ahead.
            """,
        ),
    ]
    reader_schema: Annotated[
        "str | Mapping[str, Any] | None",
        Keyword(
            None,
            """
            An Avro schema (JSON text or a dict) to read every file into, by the
            specification's schema resolution: fields matched by name and the reader's
            aliases, fields the writer lacks filled from their defaults, writer fields the
            reader lacks skipped, numbers promoted (int to long, float or double; long to
            float or double; float to double), string and bytes read as each other, enum
            symbols matched by name (else the reader's default). The columns are the reader
            schema's. Files with different writer schemas can then be read together.
            """,
        ),
    ]
    schema_from: Annotated[
        "Literal['first', 'all']",
        Keyword(
            "first",
            """
            Where the scan's schema comes from when no ``reader_schema`` is given. ``"first"``
            (the default, as Polars' scans decide theirs): the first file's header, the only
            one read when the scan is created; every other file is read, when the query reads
            it, into the first file's schema by the specification's resolution (int read as
            long, a field it lacks from the first file's default, ...), with
            ``missing_columns`` and ``extra_columns`` saying what becomes of the columns it
            lacks or adds. A filter on partition values or paths leaves other files unopened.
            ``"all"``: every file's header is read when the scan is created (one request per
            object on a store) and files whose schemas differ are read into one schema made
            of them all: every field of every file, types widened as the specification allows
            (int to long to double, float to double, string and bytes as string, enum symbols
            merged), fields some files lack nullable; types that cannot be widened raise,
            naming the file and the field.
            """,
        ),
    ]
    missing_columns: Annotated[
        "Literal['insert', 'raise']",
        Keyword(
            "raise",
            """
            A top-level column of the scan's schema that a file lacks, and for which no
            default is declared (in the first file's schema, or in any file's with
            ``schema_from="all"``): ``"raise"`` (the default, as ``scan_parquet``) raises
            ``AvroSchemaMismatchError`` naming the file and the column; ``"insert"`` reads it as
            nulls in that file.
            """,
        ),
    ]
    extra_columns: Annotated[
        "Literal['ignore', 'raise']",
        Keyword(
            "raise",
            """
            A top-level column a file has and the first file lacks (``schema_from="first"``):
            ``"raise"`` (the default, as ``scan_parquet``) raises ``AvroSchemaMismatchError``
            naming the file and the column; ``"ignore"`` leaves it out. A ``reader_schema``
            reads the columns it names, as the specification's resolution does, whatever
            else the files hold.
            """,
        ),
    ]
    allow_missing_columns: Annotated["bool", Keyword(False, '``True`` is ``missing_columns="insert"``.')]
    storage_options: Annotated[
        "Mapping[str, Any] | None",
        Keyword(
            None,
            """
            Options of the object store, with the keys ``scan_parquet`` accepts: for S3
            ``aws_access_key_id``, ``aws_secret_access_key``, ``aws_session_token``,
            ``aws_region``, ``aws_endpoint_url`` (a plain ``http://`` endpoint is allowed as
            given); for Google Cloud ``google_service_account``,
            ``google_service_account_key``, ``google_application_credentials``; for Azure
            ``azure_storage_account_name``, ``azure_storage_account_key``,
            ``azure_storage_sas_token`` and the other ``azure_`` keys; and client keys such
            as ``timeout`` and ``allow_http``. What is not given comes from the environment
            (``AWS_*``, ``GOOGLE_*``, ``AZURE_*`` variables, instance credentials). An
            unknown key raises ``AvroArgumentError``.
            """,
        ),
    ]
    retries: Annotated[
        "int",
        Keyword(
            2,
            """
            How often a failed request to an object store is retried, with exponential
            backoff (a dropped connection resumes where it stopped).
            """,
        ),
    ]
    hive_partitioning: Annotated[
        "bool | None",
        Keyword(
            None,
            """
            Read ``key=value`` folder names below the directory or the pattern's first
            wildcard as columns, after the file's columns (a column the files also hold
            takes its values from the path). ``None`` (the default) turns it on when the
            source is a single directory, as ``scan_parquet`` does. A filter on partition
            columns skips whole files without opening them.
            """,
        ),
    ]
    hive_schema: Annotated[
        "Mapping[str, Any] | None",
        Keyword(
            None,
            """
            The types of the partition columns, a dict naming every key (as
            ``scan_parquet`` requires); it turns partitioning on for a glob too. Without
            it the types are inferred: Int64, Float64, Boolean, then Date and Datetime,
            else String.
            """,
        ),
    ]
    try_parse_hive_dates: Annotated["bool", Keyword(True, "Infer Date and Datetime partition columns.")]
    ignore_errors: Annotated[
        "bool",
        Keyword(
            False,
            """
            Leave damaged blocks out instead of raising: a block whose framing is broken (a
            bad sync marker, a corrupted length or count, a truncated tail; reading goes on
            after the next sync marker), or that fails to decompress or to decode, is left
            out whole, the records before the damage in it included. Each one left out is
            reported as an :class:`AvroDataSkippedWarning` carrying the file, block, byte
            offset, records lost and message (:class:`polars_avro.AvroReader` gives the same
            reports as ``.errors``). A file of several whose header is damaged (a zero-byte
            file, say, as Kafka Connect and Event Hubs Capture leave) is left out whole and
            reported the same way. Errors of the source (I/O, permissions) and of the schema
            still raise.
            """,
        ),
    ]
    files_in_flight: Annotated[
        "int | None",
        Keyword(
            None,
            """
            Files opened and read ahead at once while earlier ones decode (default 16, and 64
            for objects of a store, or Polars' ``POLARS_CONCURRENCY_BUDGET`` where it is set):
            their headers and first blocks (at most 1 MiB each) arrive together, so many small
            files, and objects in a store (one request each), are read concurrently. At most
            this many files are open. With ``n_rows`` no file is opened before the ones before
            it are read.
            """,
        ),
    ]
    credential_provider: Annotated[
        "CredentialProvider",
        Keyword(
            "auto",
            """
            As Polars' ``scan_parquet`` takes it: one of Polars' providers
            (``pl.CredentialProviderAWS(...)``, ``pl.CredentialProviderAzure(...)``) or any
            callable giving ``(credentials, expiry)``, the credentials a dict of
            ``storage_options`` keys (``aws_access_key_id``, ``aws_secret_access_key``,
            ``aws_session_token``; ``bearer_token`` for Azure). It is called once, when the
            scan is created, and its keys take the place of the same keys of
            ``storage_options``. ``"auto"`` (the default): credentials from
            ``storage_options`` and the environment, and for S3, where neither gives keys, those
            of the AWS profile boto3 finds (``AWS_PROFILE`` else the default profile, in
            ``~/.aws/config`` and ``~/.aws/credentials``, SSO included) when boto3 is installed,
            as Polars' scans do; an error of access then names the profile. None: from
            ``storage_options`` and the environment only. Google Cloud takes no bearer token
            here: pass ``storage_options={"google_service_account_key": ...}`` instead.
            """,
        ),
    ]
    low_memory: Annotated[
        "bool",
        Keyword(
            False,
            """
            As Polars' ``low_memory``: less memory at some cost in speed. Batches of 8,192
            rows (unless ``batch_size`` is given) and one file read ahead at a time (unless
            ``files_in_flight`` is given).
            """,
        ),
    ]


class _Columns(TypedDict, total=False):
    columns: Annotated[
        "str | Sequence[str] | Sequence[int] | None",
        Keyword(
            None,
            """
            The columns to read, in this order: names, indices into the files' columns, or one
            name (``columns="id"`` is the column ``id``). Other columns are not decoded.
            """,
        ),
    ]


class ScanKeywords(ReadOptions, total=False):
    """scan_avro's keywords."""

    cache: Annotated[
        "bool",
        Keyword(
            True,
            """
            Polars' ``scan_parquet`` keyword, taken for its signature's sake: Polars itself
            decides whether a scan that appears several times in one query is read once
            (common-subplan elimination), and both values read the same.
            """,
        ),
    ]


class ReadKeywords(_Columns, ReadOptions, total=False):
    """read_avro's keywords."""

    rechunk: Annotated[
        "bool",
        Keyword(
            False,
            """
            Give each column as one contiguous chunk, as ``read_parquet(rechunk=True)`` of Polars' earlier releases
            and polars-avro 0.13's ``read_avro`` do; by default the columns keep the chunks
            they were decoded in.
            """,
        ),
    ]


class ReaderKeywords(_Columns, ReadOptions, total=False):
    """AvroReader's keywords."""


#: The top-level record's name when the schema is derived; Polars' ``write_avro`` passes ``""``
#: for it, which Avro readers refuse as a name, so ``""`` means this one too.
DEFAULT_RECORD_NAME = "topLevelRecord"


class FileWriteOptions(TypedDict, total=False):
    """The keywords of a write into one file (``write_frames``, a cluster task's part)."""

    compression: Annotated[
        "Compression",
        Keyword(
            "uncompressed",
            """
            The block codec: ``"uncompressed"``, ``"snappy"``, ``"deflate"``, ``"zstandard"``
            (also ``"zstd"``, as ``write_parquet`` names it), ``"bzip2"`` or ``"xz"``.
            """,
        ),
    ]
    compression_level: Annotated[
        "int | None",
        Keyword(
            None,
            """
            The codec's level: deflate 0-9 (default 6), zstandard 1-22 (default 3), bzip2
            1-9 (default 9), xz 0-9 (default 6). Snappy and uncompressed take none.
            """,
        ),
    ]
    name: Annotated[
        "str",
        Keyword(
            DEFAULT_RECORD_NAME,
            """
            The name of the top-level Avro record when the schema is derived from the frame. A
            primitive type's name (``long``, ``string``, ...) raises :class:`~polars_avro.AvroSchemaError`,
            as the specification forbids it; a word of the schema language (``record``, ``map``,
            ...) warns :class:`~polars_avro.AvroSchemaWarning`, as some readers misread it.
            """,
        ),
    ]
    namespace: Annotated[
        "str | None",
        Keyword(None, "The namespace of the top-level Avro record when the schema is derived from the frame."),
    ]
    schema: Annotated[
        "str | Mapping[str, Any] | AvroHeader | None",
        Keyword(
            None,
            """
            An Avro schema (JSON text or a dict) to write with, in place of the one derived
            from the frame: for enums, fixed, decimals on fixed, a particular timestamp unit,
            non-nullable fields, and so on. The frame's columns are matched to its fields by
            name and checked against their types. An :class:`~polars_avro.AvroHeader` (from
            :func:`polars_avro.read_avro_header`) means its writer schema and its user metadata
            (``metadata`` adds to it). By default, the frame :func:`polars_avro.scan_avro` or
            :func:`polars_avro.read_avro` returned for one file, written unchanged, keeps that
            file's schema and user metadata (unless its names break the specification's rules:
            then the derived schema); any other frame gets the derived schema. A schema given
            is checked against the specification's rules for names before anything is
            written, as the ``name`` is. A ``pl.Schema`` (polars-avro 0.13's meaning) is the
            frames' Polars schema: the Avro schema is derived from it, and with no frame a file
            of no rows is written.
            """,
        ),
    ]
    metadata: Annotated[
        "Mapping[str, str | bytes] | None",
        Keyword(None, "Extra header entries. Keys starting with ``avro.`` are reserved."),
    ]
    sync_interval: Annotated[
        "int", Keyword(_internal.DEFAULT_SYNC_INTERVAL, "Uncompressed bytes a block aims at (Java's default, 64,000).")
    ]
    n_threads: Annotated[
        "int | None", Keyword(None, "Threads that encode and compress blocks (default: Polars' thread count).")
    ]
    storage_options: Annotated[
        "Mapping[str, Any] | None",
        Keyword(
            None,
            """
            Options of the object store, with the keys :func:`polars_avro.scan_avro` takes
            (credentials, region, endpoint, ...); what is not given comes from the environment.
            """,
        ),
    ]
    retries: Annotated["int", Keyword(2, "Retries of a failed request to the object store, with exponential backoff.")]


class WriteKeywords(FileWriteOptions, total=False):
    """write_avro's keywords (and ``df.avro.write``'s)."""

    partition_by: Annotated[
        "str | pl.Expr | Sequence[str | pl.Expr] | None",
        Keyword(
            None,
            """
            Partitioned output into the folder ``file`` names (local or an object store URL),
            as ``file=pl.PartitionBy(base, key=...)`` asks where Polars has ``PartitionBy``:
            hive-style ``key=value/`` folders by the key expressions' values, part files
            ``00000000.avro``, ``00000001.avro``, ... ``scan_avro(folder)`` reads the result
            back, keys included.
            """,
        ),
    ]
    max_rows_per_file: Annotated[
        "int | None", Keyword(None, "Start a new part file at this many rows (into the folder ``file`` names).")
    ]
    approximate_bytes_per_file: Annotated[
        "int | None",
        Keyword(None, "Start a new part file at about this many bytes (estimated in memory)."),
    ]
    include_key: Annotated[
        "bool", Keyword(True, "Keep the ``partition_by`` key columns in the files (as well as in the folder names).")
    ]
    credential_provider: Annotated[
        "CredentialProvider",
        Keyword(
            "auto",
            """
            As Polars' ``write_parquet`` takes it: one of Polars' providers or a callable giving
            ``(credentials, expiry)``, called once; its keys join ``storage_options`` (see
            :func:`polars_avro.scan_avro`). ``"auto"``: credentials from ``storage_options``
            and the environment, and for S3, where neither gives keys, those of the AWS
            profile boto3 finds, as reads take them; an error of access then names the
            profile.
            """,
        ),
    ]
    mkdir: Annotated[
        "bool", Keyword(False, "Create the folders a local path goes into, as Polars' ``mkdir=True`` does.")
    ]


class _Path(TypedDict, total=False):
    path: Annotated[
        "AvroTarget | None",
        Keyword(
            None,
            """
            The target under the name Polars' ``sink_parquet(path, ...)`` gives it: the same
            as ``file`` (give one of them).
            """,
        ),
    ]


class SinkKeywords(_Path, WriteKeywords, total=False):
    """sink_avro's keywords (and ``lf.avro.sink``'s)."""

    chunk_size: Annotated[
        "int | None",
        Keyword(
            None,
            """
            Rows per batch asked of the streaming engine (default: Polars' choice; for
            partitioned output, batches of about 32 MB, over which splitting rows by key costs
            less per row).
            """,
        ),
    ]


class MessageOptions(TypedDict, total=False):
    """decode_error's keywords (and ``pl.col(...).avro.decode_error``'s).

    How messages name their writer schemas, and what they are read as.
    """

    framing: Annotated[
        "Framing",
        Keyword(
            "raw",
            """
            How each message wraps its datum:

            - ``"raw"``: a bare datum (Spark's ``to_avro``), written with ``schema``, or
              with the schema ``schema_id`` names;
            - ``"confluent"``: Confluent's wire format, byte ``0x00`` and a 4-byte
              big-endian schema id (or ``0x01`` and a 16-byte schema GUID), then the datum;
            - ``"single_object"``: Avro single-object encoding, ``C3 01`` and the 8-byte
              CRC-64-AVRO fingerprint of the writer schema, then the datum;
            - ``"auto"``: each message as its first bytes say (single-object, then
              Confluent), else a raw datum. A raw datum that happens to start with
              ``00`` or ``01`` is taken as Confluent: prefer an explicit framing.
            """,
        ),
    ]
    reader_schema: Annotated[
        "SchemaLike | None",
        Keyword(
            None,
            """
            The schema every message is read as (Avro schema resolution: added fields
            from their defaults, removed fields skipped, promotions, enum defaults).
            Default: ``subject``'s latest version, else ``schema``, else the newest writer
            schema (the highest id of a ``writer_schemas`` mapping).
            """,
        ),
    ]
    writer_schemas: Annotated[
        "WriterSchemas | None",
        Keyword(
            None,
            """
            Where the schemas that messages name come from: a mapping from id (int),
            fingerprint (int, see :func:`polars_avro.fingerprint`) or GUID (text) to
            schema; a callable taking one and giving the schema (or None); or a
            ``confluent_kafka.schema_registry.SchemaRegistryClient``. Each schema is
            looked up once per distinct id.
            """,
        ),
    ]
    subject: Annotated[
        "str | None",
        Keyword(
            None,
            """
            With a ``SchemaRegistryClient`` as ``writer_schemas`` (and no
            ``reader_schema``): read every message as this subject's latest version (for a
            topic's values, ``"<topic>-value"``), fetched when the expression is built.
            Refused with any other ``writer_schemas``. A registry that cannot be reached
            raises :class:`~polars_avro.AvroIOError`, one without the subject
            :class:`~polars_avro.AvroSchemaError`.
            """,
        ),
    ]
    schema_id: Annotated[
        "pl.Expr | str | None",
        Keyword(
            None,
            """
            A column (or its name) holding each raw datum's schema id, for ids carried
            outside the message (such as a Kafka header).
            """,
        ),
    ]


class DecodeKeywords(MessageOptions, total=False):
    """decode's keywords (and ``pl.col(...).avro.decode``'s)."""

    mode: Annotated[
        "Mode",
        Keyword(
            "strict",
            """
            ``"strict"`` raises :class:`~polars_avro.AvroDecodeError` (or
            :class:`~polars_avro.AvroSchemaError` for a schema that cannot be found or
            resolved) at the first bad message, naming the framing, the schema id, the
            byte offset and its row in the batch Polars handed the expression (``row 4 of a
            batch of 10``: a frame of several chunks, or the streaming engine's input,
            comes in parts). ``"permissive"`` gives null for that
            message and warns (:class:`~polars_avro.AvroDecodeWarning`) with the count;
            :func:`decode_error` gives each reason.
            """,
        ),
    ]


def declared(keywords: type) -> dict[str, tuple[str, Keyword]]:
    """Each keyword of a TypedDict here, in order: its type (as text) and its Keyword."""
    out = {}
    for name, hint in keywords.__annotations__.items():
        annotation, keyword = hint.__origin__, hint.__metadata__[0]
        out[name] = (getattr(annotation, "__forward_arg__", annotation), keyword)
    return out


def filled(keywords: type, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every keyword of ``keywords``: its value among ``options``, else its default."""
    return {name: options.get(name, k.default) for name, (_, k) in declared(keywords).items()}


def takes(keywords: type) -> Callable[[F], F]:
    """Gives a function (or a class's ``__init__``) taking ``**options`` its keywords.

    ``**options`` is typed ``Unpack[keywords]`` for type checkers. The signature
    (``help()``, ``inspect.signature``) lists the keywords, keyword-only, with their types
    and defaults; the docstring's (the class's) ``**options`` entry becomes their text; a
    keyword not among them raises an AvroKeywordError (a TypeError, as Python raises),
    naming the nearest one.
    """
    listed = declared(keywords)

    def decorate(target: F) -> F:
        if isinstance(target, type):
            target.__init__ = _taking(target.__init__, target.__name__, listed)  # type: ignore[misc]
        else:
            target = cast(F, _taking(target, target.__name__, listed))
        target.__doc__ = _with_keywords(target.__doc__ or "", listed)
        return target

    return decorate


def _taking(function: Callable[..., Any], name: str, listed: Mapping[str, tuple[str, Keyword]]) -> Callable[..., Any]:
    signature = inspect.signature(function)
    parameters = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    parameters += [
        inspect.Parameter(keyword, inspect.Parameter.KEYWORD_ONLY, default=k.default, annotation=text)
        for keyword, (text, k) in listed.items()
    ]

    # The function's own parameters may come as keywords too (``source=...``).
    named = {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for keyword in kwargs:
            if keyword not in named:
                import difflib  # only for this error: it costs the package's import 0.6 ms

                near = difflib.get_close_matches(keyword, listed, n=1)
                hint = f": did you mean {near[0]}=?" if near else ""
                msg = f"{name}() got an unexpected keyword argument {keyword!r}{hint}"
                raise AvroKeywordError(msg)
        return function(*args, **kwargs)

    checked.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return checked


def _with_keywords(doc: str, listed: Mapping[str, tuple[str, Keyword]]) -> str:
    """``doc`` with its ``**options`` entry replaced by an entry for each keyword.

    The entry is the line ``**options`` and the lines below it indented deeper; the new
    entries are indented as it was.
    """
    lines = doc.split("\n")
    at = next((i for i, line in enumerate(lines) if line.strip() == "**options"), None)
    if at is None:
        msg = "a function taking **options documents them with an entry '**options'"
        raise AssertionError(msg)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    end = at + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith(indent + " ")):
        end += 1
    while end > at + 1 and not lines[end - 1].strip():
        end -= 1  # the blank line before what follows stays
    entries = []
    for keyword, (_, k) in listed.items():
        entries.append(indent + keyword)
        entries += [indent + "    " + line if line else "" for line in inspect.cleandoc(k.doc).split("\n")]
    return "\n".join(lines[:at] + entries + lines[end:])
