from typing import IO, Any

import polars as pl

from polars_avro._options import ScanOptions
from polars_avro._scan import ReadRequest
from polars_avro._write_options import WriteOptions

__version__: str
MAX_DECIMAL_PRECISION: int
#: The folder value that stands for null in a hive partition.
HIVE_NULL: str
DEFAULT_BATCH_SIZE: int
#: Whose allocator the compiled module allocates with: "polars" (Polars' own) or "system".
ALLOCATOR: str
DEFAULT_SYNC_INTERVAL: int
#: The names write_avro's compression= takes, in order.
COMPRESSIONS: list[str]
#: (name, (lowest, highest, default level)) of the codecs that take a level.
COMPRESSION_LEVELS: list[tuple[str, tuple[int, int, int]]]
#: The counters ScanReader.stats() gives, by name.
READ_STATS_FIELDS: list[str]
#: (description name, Polars class name) of the types without parameters.
PLAIN_TYPES: list[tuple[str, str]]

class FileObject:
    """A file object a scan reads: rewound for each read, or read whole once and kept."""

Source = str | bytes | IO[bytes] | "RemoteFile" | FileObject

class SplitFile:
    """One file's part of a split: the blocks whose sync marker begins in [start, end)."""

    path: str
    start: int
    end: int
    size: int
    schema: str
    codec: str
    sync: bytes
    header_len: int
    def __init__(
        self, path: str, start: int, end: int, size: int, schema: str, codec: str, sync: bytes, header_len: int
    ) -> None: ...

class BlockReader:
    def __init__(self, source: Source, *, data: str, check_records: bool = False, repair: bool = False) -> None: ...
    def header(self) -> dict[str, Any]: ...
    def next_block(self) -> tuple[int, bytes, int, int] | None: ...
    def position(self) -> int: ...
    def take_skipped(self) -> list[dict[str, Any]]: ...

class BlockWriter:
    def __init__(
        self,
        target: str | IO[bytes] | RemoteFile,
        schema_json: str,
        *,
        compression: str,
        compression_level: int | None = None,
        metadata: list[tuple[str, bytes]] = ...,
        name: str | None = None,
    ) -> None: ...
    def codec(self) -> str: ...
    def write_block(self, count: int, data: bytes, stored: bool) -> None: ...
    def write_recoded(
        self, blocks: list[tuple[int, bytes, int]], from_codec: str, source: str, *, threads: int | None = None
    ) -> None: ...
    def finish(self) -> int: ...
    def abort(self) -> None: ...

class ScanReader:
    #: The parts of the request's filters the reader leaves to Polars.
    filters_left: int
    def __init__(self, scan: PlannedScan, request: ReadRequest) -> None: ...
    def next_batch(self, join: int = 1) -> tuple[pl.Series | None, int, list[dict[str, Any]]] | None: ...
    def take_skipped(self) -> list[dict[str, Any]]: ...
    def stats(self) -> dict[str, Any]: ...
    def finish(self) -> tuple[dict[str, Any], list[dict[str, Any]]]: ...

class RemoteFile:
    url: str
    size: int | None
    def __init__(
        self,
        url: str,
        *,
        storage_options: list[tuple[str, str]],
        retries: int,
        size: int | None = None,
        etag: str | None = None,
    ) -> None: ...

def default_threads() -> int: ...
def thread_count(asked: int | None = None) -> int: ...
def check_whole_number(name: str, value: object, least: int, most: int = ...) -> None: ...
def check_counts(**options: int | None) -> None: ...
def check_flag(name: str, value: object) -> None: ...
def check_text(name: str, value: object, what: str = "a column name") -> None: ...
def check_threads(n_threads: object) -> None: ...
def read_header(source: Source) -> dict[str, Any]: ...

class ScanPlan:
    """A scan's schema and columns, picklable: a split carries it to the workers."""

    #: The scan's columns and their types in the running Polars.
    schema: pl.Schema
    #: The file columns a batch's crossing into Python may retype (cast back to ``schema``'s).
    changing: list[str]
    def __init__(
        self,
        reader_schema: str | None,
        file_columns: list[tuple[str, str]],
        row_index: str | None = None,
        partitions: list[str] = ...,
        partition_dtypes: list[pl.DataType] = ...,
        file_path_column: str | None = None,
        from_first: tuple[str | None, str, bool] | None = None,
    ) -> None: ...
    def select(self, columns: list[Any]) -> list[str]: ...
    def project(self, names: list[Any]) -> list[str]: ...

class PlannedScan:
    """A scan planned: what each of its reads takes (its files, partition values and plan)."""

    plan: ScanPlan
    #: The scan's name in a query plan.
    label: str
    #: "lazy", "eager" or None: how a frame of it written again keeps its file's header.
    origin: str | None
    def header(self) -> dict[str, Any]: ...

def list_sources(
    sources: list[Any],
    options: ScanOptions,
    *,
    storage_options: list[tuple[str, str]],
    retries: int,
) -> tuple[list[Any], list[str], list[int | None], pl.DataFrame | None]: ...
def plan_sources(
    sources: list[Any],
    options: ScanOptions,
    *,
    storage_options: list[tuple[str, str]],
    retries: int,
    reader_schema: str | None = None,
) -> tuple[PlannedScan, list[tuple[str, int]]]: ...
def plan_splits(
    sources: list[Any],
    options: ScanOptions,
    *,
    storage_options: list[tuple[str, str]],
    retries: int,
    target_bytes: int,
    reader_schema: str | None = None,
) -> tuple[ScanPlan, list[tuple[list[SplitFile], pl.DataFrame | None]], list[dict[str, Any]]]: ...
def split_scan(
    plan: ScanPlan,
    files: list[SplitFile],
    partition_values: pl.DataFrame | None,
    options: ScanOptions,
    *,
    storage_options: list[tuple[str, str]],
    retries: int,
) -> PlannedScan: ...
def is_store_url(path: str) -> bool: ...
def has_glob(path: str) -> bool: ...
def glob_base(pattern: str) -> str: ...
def unify_schemas(schemas: list[tuple[str, str]]) -> str: ...

class FileWriter:
    def __init__(
        self,
        target: str | IO[bytes] | RemoteFile,
        columns: list[tuple[str, str]],
        request: WriteOptions,
        *,
        name: str | None = None,
    ) -> None: ...
    def name_warnings(self) -> list[str]: ...
    def schema_json(self) -> str: ...
    def write(self, df: pl.DataFrame, height: int) -> None: ...
    def finish(self) -> int: ...
    def abort(self) -> None: ...

#: A schema key as the decoder names it: ("id", int), ("fingerprint", int) or ("guid", str).
SchemaKey = tuple[str, int | str]

class PartitionedWriter:
    """The parts of a partitioned output: opened, rolled over, finished and undone in Rust."""

    #: Rows of the batches to ask the engine for.
    batch_rows: int
    def __init__(
        self,
        base: str,
        keys: list[str],
        columns: list[tuple[str, str]],
        request: WriteOptions,
        *,
        max_rows: int | None,
        max_bytes: int | None,
        storage_options: list[tuple[str, str]],
        retries: int,
    ) -> None: ...
    def write(self, key: list[str | None], df: pl.DataFrame, height: int, bytes: float) -> list[str]: ...
    def finish(self) -> None: ...
    def abandon(self) -> None: ...

class MessageColumnDecoder:
    def __init__(self, reader_schema: str, framing: str, given_schema: str | None = None) -> None: ...
    def dtype(self) -> pl.DataType: ...
    def add_writer(self, kind: str, key: int | str, schema_json: str) -> None: ...
    def add_missing(self, kind: str, key: int | str, reason: str) -> None: ...
    def decode(
        self, messages: pl.Series, ids: pl.Series | None = None, *, permissive: bool = False, threads: int = 1
    ) -> tuple[pl.Series | None, int, list[SchemaKey]]: ...
    def reasons(
        self, messages: pl.Series, ids: pl.Series | None = None, *, threads: int = 1
    ) -> tuple[pl.Series | None, list[SchemaKey]]: ...

class AvroJson:
    """Datums of one writer schema as JSON lines and back, and random datums of it."""

    def __init__(self, schema_json: str) -> None: ...
    def render(self, data: bytes, count: int, *, avro_json: bool, readable: bool = False) -> bytes: ...
    def encode(self, lines: bytes, *, avro_json: bool, first_line: int = 1) -> tuple[bytes, int]: ...
    def random(self, count: int, seed: int, *, first: int = 0) -> bytes: ...

def check_encoding_schema(schema_json: str | None, record_name: str) -> list[str]: ...
def encode_messages(
    values: pl.Series,
    description: str,
    schema_json: str | None,
    framing: str,
    schema_id: int | None,
    record_name: str,
) -> pl.Series: ...
def message_schema_ids(messages: pl.Series, framing: str) -> pl.Series: ...
def parsing_canonical_form(schema_json: str) -> str: ...
def crc64_avro(data: bytes) -> int: ...
