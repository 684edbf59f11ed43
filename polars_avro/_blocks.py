"""Avro files block by block, and datums as JSON: the tools under the command line.

A container file is a header and then blocks, each a count of records and their datums,
compressed together. These classes hand the blocks out and take them in as they are, so
that files can be described, concatenated, recompressed, repaired and validated without
decoding records into columns; :class:`AvroDatums` turns a block's datums into JSON lines
and back, and makes random ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, NamedTuple

from polars_avro import _internal
from polars_avro._arguments import AvroTarget, Compression, SchemaLike
from polars_avro._header import AvroHeader, header_of
from polars_avro._io import list_sources, one_file
from polars_avro._options import ScanOptions
from polars_avro._skipped import SkippedBlock
from polars_avro._sources import AvroSource, RemoteOptions
from polars_avro._target import Target
from polars_avro._write_options import WriteOptions
from polars_avro.exceptions import AvroArgumentError, schema_json

#: What a block reader hands out as a block's ``data``: the bytes as stored (compressed with
#: the file's codec), decompressed, or none (only the framing is read, the data skipped).
BlockData = Literal["stored", "decompressed", "framing"]


class AvroBlock(NamedTuple):
    """One block of a container file."""

    #: The records the block holds, as its framing says.
    records: int
    #: Its datums: as stored, decompressed, or ``b""`` (see :data:`BlockData`).
    data: bytes
    #: Where the block's framing begins in the file.
    offset: int
    #: Its bytes as stored, framing left out.
    size: int


@dataclass(frozen=True)
class AvroFile:
    """One file a source names, as :func:`list_avro_files` finds it."""

    #: Its path or URL.
    path: str
    #: Its size in bytes, where known without reading it.
    size: int | None
    #: What the listing found, for a block reader: an object's size and version (so that it
    #: is not asked for again), a pipe's bytes (read once).
    _item: Any = field(default=None, repr=False, compare=False)
    #: The partition columns :func:`scan_avro` gives its rows (``key=value`` folders), by
    #: name, typed as the scan types them; empty without hive partitioning.
    partitions: dict[str, Any] = field(default_factory=dict)


def list_avro_files(
    source: AvroSource,
    *,
    glob: bool = True,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    hive_partitioning: bool | None = False,
    hive_schema: Mapping[str, Any] | None = None,
    try_parse_hive_dates: bool = True,
) -> list[AvroFile]:
    """The files :func:`scan_avro` reads for ``source``, in the order it reads them.

    Globs and folders are expanded (a folder gives the ``.avro`` files under it), and an
    object store is listed once, which gives each object's size. With
    ``hive_partitioning`` (``None``: as :func:`scan_avro` has it, on for one directory),
    each file's ``partitions`` are the partition columns the scan gives its rows, from the
    path alone. The other arguments are :func:`scan_avro`'s.

    Examples
    --------
    >>> import polars_avro
    >>> [f.size for f in polars_avro.list_avro_files(polars_avro.sample_file())]
    [16947]
    """
    options = ScanOptions.of(
        {
            "glob": glob,
            "hive_partitioning": hive_partitioning,
            "hive_schema": hive_schema,
            "try_parse_hive_dates": try_parse_hive_dates,
        }
    )
    items, names, sizes, partitions = list_sources(source, options, RemoteOptions.of(storage_options, retries))
    values = partitions.to_dicts() if partitions is not None else [{} for _ in items]
    return [AvroFile(*file) for file in zip(names, sizes, items, values)]


def unify_schemas(schemas: Sequence[SchemaLike] | Mapping[str, SchemaLike]) -> str:
    """The reader schema (JSON text) that reads data written with each of ``schemas``.

    The schema :func:`scan_avro` reads files of these writer schemas with: fields of
    every schema in order of first appearance, types promoted where the specification
    allows (int to long, float to double, ...), a field missing from some schemas made
    nullable. Given as a mapping, the keys (file names, say) name the schema a conflict
    is found in.

    Examples
    --------
    >>> import json, polars_avro
    >>> a = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "int"}]}
    >>> b = {"type": "record", "name": "r", "fields": [{"name": "x", "type": "long"}]}
    >>> json.loads(polars_avro.unify_schemas([a, b]))["fields"]
    [{'name': 'x', 'type': 'long'}]
    """
    named = schemas.items() if isinstance(schemas, Mapping) else ((f"schema {i + 1}", s) for i, s in enumerate(schemas))
    pairs = [(str(name), schema_json(str(name), s)) for name, s in named]
    if not pairs:
        msg = "unify_schemas takes at least one schema, found none"
        raise AvroArgumentError(msg)
    return _internal.unify_schemas(pairs)


def bytes_of(name: str, value: object) -> bytes:
    """A bytes-like argument as bytes, or an error naming it."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    msg = f"{name} must be bytes, found {type(value).__name__}"
    raise AvroArgumentError(msg)


class AvroBlockReader:
    """The blocks of one Avro file, in order, without decoding their records.

    Parameters
    ----------
    source
        One file: a path, an object store URL, bytes or a binary file object, taken as
        it is (no glob), or an :class:`AvroFile` :func:`list_avro_files` found.
        ``storage_options`` and ``retries`` are :func:`scan_avro`'s.
    data
        What each block's ``data`` is: ``"stored"`` (as in the file, to copy it
        elsewhere), ``"decompressed"`` (its datums, as :class:`AvroDatums` takes them),
        or ``"framing"`` (``b""``: only the framing is read, the fastest way to count
        records and blocks).
    check_records
        Decode every record of each block to check it, as a read would (with
        ``"stored"`` or ``"decompressed"`` data).
    repair
        Leave out damaged blocks, reported in :attr:`skipped`, and go on after them from
        the next sync marker, where an error would otherwise be raised.

    Examples
    --------
    >>> import polars_avro
    >>> with polars_avro.AvroBlockReader(polars_avro.sample_file(), data="framing") as blocks:
    ...     sum(block.records for block in blocks)
    2000
    """

    def __init__(
        self,
        source: AvroSource | AvroFile,
        *,
        data: BlockData = "decompressed",
        check_records: bool = False,
        repair: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        retries: int = 2,
    ) -> None:
        _internal.check_flag("check_records", check_records)
        _internal.check_flag("repair", repair)
        remote = RemoteOptions.of(storage_options, retries)
        item = source._item if isinstance(source, AvroFile) else None
        if item is None:
            given = source.path if isinstance(source, AvroFile) else source
            item = one_file(given, "AvroBlockReader", remote, glob=False, otherwise="list_avro_files to read each")
        self._blocks = _internal.BlockReader(item, data=data, check_records=check_records, repair=repair)
        self.header: AvroHeader = header_of(self._blocks.header())
        self._skipped: list[SkippedBlock] = []

    def __iter__(self) -> Iterator[AvroBlock]:
        while (block := self._blocks.next_block()) is not None:
            yield AvroBlock(*block)

    @property
    def position(self) -> int:
        """The bytes of the file read so far."""
        return self._blocks.position()

    @property
    def skipped(self) -> list[SkippedBlock]:
        """The damaged blocks left out so far (with ``repair=True``)."""
        self._skipped += [SkippedBlock.from_reader(s) for s in self._blocks.take_skipped()]
        return list(self._skipped)

    def __enter__(self) -> AvroBlockReader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class AvroBlockWriter:
    """A new Avro file written block by block: datums given, compressed here or as stored.

    A context manager: the file is finished when the ``with`` block ends without an
    error, and abandoned when it raises, as :func:`write_avro` leaves a failed write (a
    path's old file stays as it was, an upload is aborted). Outside a ``with`` block,
    call :meth:`close`, or :meth:`abort`.

    Parameters
    ----------
    file
        Where to write, as for :func:`write_avro`: a path, an object store URL or a binary
        file object.
    schema
        The writer schema, stored in the header as given (in any form :func:`fingerprint`
        takes), or an :class:`AvroHeader`, whose schema is stored exactly and whose user metadata is
        carried over (``metadata`` replaces or adds entries).
    compression, compression_level
        The codec blocks are written with, as for :func:`write_avro`.
    metadata
        User metadata entries of the header (keys not starting with ``avro.``).
    sync_interval
        The uncompressed bytes a block aims at: what callers that cut records into blocks
        (such as the command line's ``fromjson``) take a block's size from.
    n_threads
        The threads :meth:`write_blocks` recompresses on (default: Polars' thread count).
    storage_options, retries
        As for :func:`write_avro`.

    Examples
    --------
    >>> import io, polars_avro
    >>> out = io.BytesIO()
    >>> with (
    ...     polars_avro.AvroBlockReader(polars_avro.sample_file(), data="stored") as blocks,
    ...     polars_avro.AvroBlockWriter(out, blocks.header.schema_json, compression="zstandard") as writer,
    ... ):
    ...     writer.write_blocks(blocks, blocks.header.codec)
    >>> polars_avro.read_avro(out.getvalue()).equals(polars_avro.read_avro(polars_avro.sample_file()))
    True
    """

    #: Stored bytes of blocks recompressed together by :meth:`write_blocks`: enough for
    #: every thread to have several blocks of Java's default size, few to keep memory small.
    RECODE_BYTES = 16 << 20

    def __init__(
        self,
        file: AvroTarget,
        schema: SchemaLike | AvroHeader,
        *,
        compression: Compression = "uncompressed",
        compression_level: int | None = None,
        metadata: Mapping[str, str | bytes] | None = None,
        sync_interval: int = _internal.DEFAULT_SYNC_INTERVAL,
        n_threads: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        retries: int = 2,
    ) -> None:
        if schema is None:
            msg = "AvroBlockWriter takes the writer schema, found None"
            raise AvroArgumentError(msg)
        options = WriteOptions.of({**locals(), "name": "", "namespace": None}, file)
        self.sync_interval = sync_interval
        self._n_threads = n_threads
        self._target = Target(file, options.remote)
        target = self._target.__enter__()
        try:
            self._writer: _internal.BlockWriter | None = _internal.BlockWriter(
                target,
                options.schema or "",
                compression=options.compression,
                compression_level=options.compression_level,
                metadata=options.metadata,
                name=Target.name_of(file),
            )
        except BaseException as e:
            self._target.__exit__(type(e), e, e.__traceback__)
            raise
        #: The codec blocks are written with, as the header names it (``avro.codec``).
        self.codec: str = self._writer.codec()

    def _open(self) -> _internal.BlockWriter:
        if self._writer is None:
            msg = "the writer is already closed"
            raise AvroArgumentError(msg)
        return self._writer

    def write_block(self, records: int, data: bytes, *, compressed: bool = False) -> None:
        """A block of ``records`` datums.

        ``data`` is already compressed with this file's codec when ``compressed``, else
        compressed here.
        """
        _internal.check_whole_number("records", records, 0)
        data = bytes_of("data", data)
        _internal.check_flag("compressed", compressed)
        self._open().write_block(records, data, compressed)

    def write_blocks(self, blocks: Iterable[AvroBlock], codec: str, *, source: str | None = None) -> None:
        """Blocks as an :class:`AvroBlockReader` gives them with ``data="stored"``.

        They are stored with ``codec`` (an ``avro.codec`` name), and copied as they are
        where the codec is this file's; otherwise decompressed and compressed again, runs of
        blocks at once on every thread. ``source`` names the file they came from in errors.
        """
        writer = self._open()
        if codec == self.codec:
            for block in blocks:
                writer.write_block(block.records, block.data, True)
            return
        run: list[tuple[int, bytes, int]] = []
        run_bytes = 0
        for block in blocks:
            run.append((block.records, block.data, block.offset))
            run_bytes += len(block.data)
            if run_bytes >= self.RECODE_BYTES:
                writer.write_recoded(run, codec, source or "<blocks>", threads=self._n_threads)
                run, run_bytes = [], 0
        if run:
            writer.write_recoded(run, codec, source or "<blocks>", threads=self._n_threads)

    def close(self) -> int:
        """Finishes the file (an upload completes); the records written."""
        writer = self._open()
        self._writer = None
        try:
            records = writer.finish()
        except BaseException as e:
            self._target.__exit__(type(e), e, e.__traceback__)
            raise
        self._target.__exit__(None, None, None)
        return records

    def abort(self) -> None:
        """Abandons the file: nothing is left at a path or object store URL."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.abort()
            self._target.__exit__(BaseException, None, None)  # abandoned: an fsspec file is discarded

    def __enter__(self) -> AvroBlockWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class AvroDatums:
    r"""Datums of one schema (Avro's binary encoding of values) as JSON lines and back.

    And random datums of the schema, for tests.

    Examples
    --------
    >>> import polars_avro
    >>> datums = polars_avro.AvroDatums({"type": "record", "name": "r", "fields": [{"name": "x", "type": "long"}]})
    >>> data, count = datums.from_json(b'{"x": 1}\n{"x": 2}\n')
    >>> datums.to_json(data, count)
    b'{"x":1}\n{"x":2}\n'
    """

    def __init__(self, schema: SchemaLike) -> None:
        self._json = _internal.AvroJson(schema_json("schema", schema))

    def to_json(self, data: bytes, count: int, *, avro_json: bool = False, readable: bool = False) -> bytes:
        """``count`` datums as JSON lines.

        Plainly, a union as its branch's value, bytes and fixed as strings of code points
        U+0000-U+00FF, logical types as the values they are stored as; with ``avro_json``,
        the specification's JSON encoding (a union as ``{"type": value}``), as avro-tools
        and fastavro's ``json_writer`` write it. With ``readable``, logical types show the
        values a person reads: a decimal as its exact number (``12.34``), a date, time or
        timestamp in ISO 8601 (``"2026-11-27T10:00:00.000Z"``, ``Z`` where it is UTC), a
        uuid on fixed as its text, a duration as ``{"months", "days", "milliseconds"}``.
        """
        _internal.check_whole_number("count", count, 0)
        data = bytes_of("data", data)
        _internal.check_flag("avro_json", avro_json)
        _internal.check_flag("readable", readable)
        return self._json.render(data, count, avro_json=avro_json, readable=readable)

    def from_json(self, lines: bytes, *, avro_json: bool = False, first_line: int = 1) -> tuple[bytes, int]:
        """JSON lines (one record each, blank lines left out) as datums, and their count.

        A plain union value takes the first branch it fits; with ``avro_json``, the value is
        in the specification's JSON encoding. ``first_line`` is the number errors give the
        first line.
        """
        lines = bytes_of("lines", lines)
        _internal.check_flag("avro_json", avro_json)
        _internal.check_whole_number("first_line", first_line, 1)
        return self._json.encode(lines, avro_json=avro_json, first_line=first_line)

    def random(self, count: int, *, seed: int = 0, first: int = 0) -> bytes:
        """``count`` random datums, valid for every type, union branch and logical type.

        Datum ``i`` depends only on ``seed`` and ``first + i``, so the datums of a long run can
        be made in blocks that give the same records as one call.
        """
        _internal.check_whole_number("count", count, 0)
        _internal.check_whole_number("first", first, 0)
        _internal.check_whole_number("seed", seed, 0, 2**64 - 1)
        return self._json.random(count, seed, first=first)
