"""The command line, run as users run it (`python -m polars_avro` and the `polars-avro` script) in
subprocesses, on files fastavro and Java wrote; outputs compared with fastavro's and Apache avro's."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import avro.schema
import fastavro
import polars as pl
import pytest
from helpers import fastavro_records, json_lines, stored_values, write_fastavro
from polars.testing import assert_frame_equal
from test_corpus import CORPUS, FILES

import polars_avro

SCRIPT = Path(sys.executable).parent / "polars-avro"

SCHEMA = {
    "type": "record",
    "name": "Order",
    "namespace": "shop.v1",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["BUY", "SELL"]}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
        {"name": "payload", "type": "bytes"},
    ],
}


def orders(first: int, n: int) -> list[dict[str, Any]]:
    import decimal

    return [
        {
            "id": i,
            "kind": "BUY" if i % 3 else "SELL",
            "amount": decimal.Decimal(i * 7) / 100,
            "ts": dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i),
            "note": None if i % 4 == 0 else f"note {i}",
            "tags": [f"t{j}" for j in range(i % 3)],
            "digest": i.to_bytes(4, "little"),
            "payload": bytes([i % 256, 0, 255]),
        }
        for i in range(first, first + n)
    ]


def write_orders(path: Path, first: int = 0, n: int = 2_000, codec: str = "null", **kw: Any) -> Path:
    return write_fastavro(path, SCHEMA, orders(first, n), codec=codec, sync_interval=4_000, **kw)


def run(*args: Any, cwd: Path, status: int = 0, script: bool = False) -> subprocess.CompletedProcess[str]:
    """Runs a command as a user would, from `cwd` (away from the repository's sources)."""
    command = [str(SCRIPT)] if script else [sys.executable, "-m", "polars_avro"]
    done = subprocess.run(
        [*command, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == status, (done.returncode, done.stdout[-2000:], done.stderr[-4000:])
    return done


def blocks_of(path: Path) -> list[int]:
    """Records per block, as fastavro frames them."""
    with open(path, "rb") as f:
        return [block.num_records for block in fastavro.block_reader(f)]


def header_of(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        reader = fastavro.reader(f)
        return {"schema": reader.writer_schema, "codec": reader.codec, "metadata": reader.metadata}


def raw_schema(path: Path) -> str:
    return polars_avro.read_avro_header(path).schema_json


# -- describing --------------------------------------------------------------------------------


def test_schema_prints_the_writer_schema(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro")
    out = run("schema", path, cwd=tmp_path, script=True).stdout
    assert json.loads(out) == json.loads(raw_schema(path))
    lines = run("schema", "--polars", path, cwd=tmp_path).stdout.splitlines()
    schema = polars_avro.read_avro_schema(path)
    assert [line.split()[0] for line in lines] == list(schema)
    assert lines[1].split(None, 1)[1] == str(schema["kind"])


def test_schema_of_files_that_differ_is_the_one_they_read_as(tmp_path: Path) -> None:
    write_orders(tmp_path / "a.avro", n=10)
    wider = {**SCHEMA, "fields": [*SCHEMA["fields"], {"name": "extra", "type": "int", "default": 0}]}
    write_fastavro(tmp_path / "b.avro", wider, [{**r, "extra": 1} for r in orders(0, 5)])
    done = run("schema", tmp_path / "a.avro", tmp_path / "b.avro", cwd=tmp_path)
    fields = [f["name"] for f in json.loads(done.stdout)["fields"]]
    assert fields == [f["name"] for f in wider["fields"]]
    assert "2 different writer schemas" in done.stderr


def test_meta_describes_header_and_blocks(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro", codec="deflate", metadata={"origin": "unit test"})
    facts = json.loads(run("meta", "--json", path, cwd=tmp_path).stdout)
    with open(path, "rb") as f:
        sync = fastavro.reader(f)._header["sync"]
    counts = blocks_of(path)
    assert facts["codec"] == "deflate"
    assert facts["sync_marker"] == sync.hex()
    assert facts["metadata"] == {"origin": "unit test"}
    assert (facts["blocks"], facts["records"]) == (len(counts), sum(counts)) == (len(counts), 2_000)
    assert len(counts) > 3
    assert facts["bytes"] == path.stat().st_size
    assert facts["schema_fingerprint"] == polars_avro.fingerprint(raw_schema(path))
    text = run("meta", path, cwd=tmp_path).stdout
    assert "codec" in text and "deflate" in text and "metadata origin" in text and "2,000" in text


def test_count_from_block_headers(tmp_path: Path) -> None:
    write_orders(tmp_path / "a.avro", n=1_500, codec="snappy")
    write_orders(tmp_path / "b.avro", n=700)
    assert run("count", tmp_path / "*.avro", cwd=tmp_path).stdout.strip() == "2200"
    assert run("count", tmp_path, cwd=tmp_path).stdout.strip() == "2200"
    lines = run("count", "--per-file", tmp_path / "a.avro", tmp_path / "b.avro", cwd=tmp_path).stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["1500", "700", "2200"]


#: Every logical type head and cat show as a person reads it, in fastavro's terms.
READABLE_SCHEMA = {
    "type": "record",
    "name": "Reading",
    "fields": [
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at_ms", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
        {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "at_ns", "type": {"type": "long", "logicalType": "timestamp-nanos"}},
        {"name": "local_ms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "local_us", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "time_ms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "time_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 3}},
        {
            "name": "price",
            "type": {"type": "fixed", "name": "P", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 0},
        },
        {"name": "id", "type": {"type": "fixed", "name": "U", "size": 16, "logicalType": "uuid"}},
        {"name": "ratios", "type": {"type": "array", "items": "float"}},
    ],
}

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _f32(x: float) -> float:
    """`x` rounded to a 32-bit float."""
    import struct

    return float(struct.unpack("<f", struct.pack("<f", x))[0])


def _readable_records(seed: int, n: int) -> list[dict[str, Any]]:
    import decimal
    import random

    rng = random.Random(seed)

    def instant() -> dt.datetime:
        return _EPOCH + dt.timedelta(
            microseconds=rng.randrange(-2_208_988_800, 4_102_444_800) * 10**6 + rng.randrange(10**6)
        )

    return [
        {
            "day": dt.date(1900, 1, 1) + dt.timedelta(days=rng.randrange(73_000)),
            "at_ms": None if rng.random() < 0.2 else instant().replace(microsecond=rng.randrange(1000) * 1000),
            "at_us": instant(),
            "at_ns": rng.randrange(-(2**62), 2**62),
            "local_ms": instant().replace(tzinfo=None, microsecond=rng.randrange(1000) * 1000),
            "local_us": instant().replace(tzinfo=None),
            "time_ms": (dt.datetime(2000, 1, 1) + dt.timedelta(milliseconds=rng.randrange(86_400_000))).time(),
            "time_us": (dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=rng.randrange(86_400 * 10**6))).time(),
            "amount": decimal.Decimal(rng.randrange(-(10**12) + 1, 10**12)).scaleb(-3),
            "price": decimal.Decimal(rng.randrange(-(10**18) + 1, 10**18)),
            "id": rng.randbytes(16) if hasattr(rng, "randbytes") else bytes(rng.randrange(256) for _ in range(16)),
            "ratios": [_f32(rng.uniform(-1e6, 1e6) * 10 ** rng.randrange(-30, 30)) for _ in range(rng.randrange(4))],
        }
        for _ in range(n)
    ]


def _as_read(record: dict[str, Any]) -> dict[str, Any]:
    """What head shows of a record fastavro wrote, by Python's own formatting of its values."""
    import decimal
    import uuid

    def utc(t: dt.datetime | None, digits: int) -> str | None:
        return None if t is None else local(t.astimezone(dt.timezone.utc).replace(tzinfo=None), digits) + "Z"

    def local(t: dt.datetime, digits: int) -> str:
        return f"{t:%Y-%m-%dT%H:%M:%S}." + f"{t.microsecond:06d}"[:digits]

    ns = record["at_ns"]
    at_ns = _EPOCH + dt.timedelta(microseconds=ns // 1000)
    return {
        "day": record["day"].isoformat(),
        "at_ms": utc(record["at_ms"], 3),
        "at_us": utc(record["at_us"], 6),
        "at_ns": f"{at_ns.replace(tzinfo=None):%Y-%m-%dT%H:%M:%S}.{ns % 10**9:09d}Z",
        "local_ms": local(record["local_ms"], 3),
        "local_us": local(record["local_us"], 6),
        "time_ms": record["time_ms"].isoformat(timespec="milliseconds"),
        "time_us": record["time_us"].isoformat(timespec="microseconds"),
        "amount": decimal.Decimal(record["amount"]),
        "price": decimal.Decimal(record["price"]),
        "id": str(uuid.UUID(bytes=record["id"])),
        "ratios": record["ratios"],
    }


@pytest.mark.parametrize("seed", [0, 1, 2, None])
def test_head_and_cat_show_logical_types_as_a_person_reads_them(tmp_path: Path, seed: int | None) -> None:
    """Dates, times and timestamps in ISO 8601 (UTC ones with Z), decimals as exact numbers,
    a uuid on fixed as its text, floats in their own shortest text: each value compared with
    Python's formatting of what fastavro wrote. A fixed set of seeds and a fresh one."""
    import decimal
    import random

    fresh = seed is None
    seed = random.randrange(2**32) if seed is None else seed
    records = _readable_records(seed, 300)
    path = write_fastavro(tmp_path / "r.avro", READABLE_SCHEMA, records, codec="deflate", sync_interval=4000)
    shown = [
        json.loads(line, parse_float=decimal.Decimal) for line in run("cat", path, cwd=tmp_path).stdout.splitlines()
    ]
    expected = [_as_read(r) for r in records]
    for i, (line, want) in enumerate(zip(shown, expected)):
        # A float's text is its own shortest: read as the same 32-bit float.
        assert [_f32(float(x)) for x in line.pop("ratios")] == want.pop("ratios"), (seed, i)
        assert line == want, f"{'fresh ' if fresh else ''}seed {seed}, record {i}"
    assert len(shown) == len(records)
    assert json_lines(run("head", "-n", "3", path, cwd=tmp_path).stdout)[2]["day"] == expected[2]["day"]
    # --stored and tojson: the values as stored, as fastavro's plain records hold them.
    assert json_lines(run("head", "--stored", "-n", "5", path, cwd=tmp_path).stdout) == stored_values(path)[:5]
    assert json_lines(run("tojson", path, cwd=tmp_path).stdout)[:5] == stored_values(path)[:5]


@pytest.mark.skipif(not FILES, reason=f"no Avro corpus at {CORPUS}")
def test_count_and_validate_java_written_files(tmp_path: Path) -> None:
    expected = [str(len(fastavro_records(path))) for path in FILES]
    # One command for every file: each command starts Python and Polars afresh (0.6 s).
    lines = run("count", "--per-file", *FILES, cwd=tmp_path).stdout.splitlines()
    assert [line.split("\t") for line in lines] == [
        *([count, str(path)] for count, path in zip(expected, FILES)),
        [str(sum(map(int, expected))), "total"],
    ]
    out = run("validate", *FILES, cwd=tmp_path).stdout.splitlines()
    assert [line.split("\t")[1] for line in out] == expected


def test_fingerprint_and_canonical_form_as_fastavro_gives_them(tmp_path: Path) -> None:
    # Apache avro's Python canonical form keeps {"type": "bytes"} of a logical type, where the
    # specification (and Java, and fastavro) reduce it to "bytes": fastavro is the reference here.
    path = write_orders(tmp_path / "a.avro", n=1)
    schema = json.loads(raw_schema(path))
    canonical = fastavro.schema.to_parsing_canonical_form(schema)
    (tmp_path / "s.avsc").write_text(raw_schema(path))
    for given in (path, tmp_path / "s.avsc", raw_schema(path)):
        assert run("canonical", given, cwd=tmp_path).stdout.strip() == canonical
        crc = int(run("fingerprint", given, cwd=tmp_path).stdout.strip())
        assert crc.to_bytes(8, "little", signed=True).hex() == fastavro.schema.fingerprint(canonical, "CRC-64-AVRO")
    md5 = run("fingerprint", "-a", "MD5", path, cwd=tmp_path).stdout.strip()
    assert md5 == fastavro.schema.fingerprint(canonical, "MD5")
    sha = run("fingerprint", "--algorithm", "SHA-256", path, cwd=tmp_path).stdout.strip()
    assert sha == fastavro.schema.fingerprint(canonical, "SHA-256")
    # Apache avro agrees where no logical type is involved.
    plain = '{"type": "record", "name": "a", "fields": [{"name": "x", "type": {"type": "int"}}]}'
    parsed = avro.schema.parse(plain)
    assert run("canonical", plain, cwd=tmp_path).stdout.strip() == parsed.canonical_form
    crc = int(run("fingerprint", plain, cwd=tmp_path).stdout.strip())
    assert crc == int.from_bytes(parsed.fingerprint("CRC-64-AVRO"), "little", signed=True)
    assert run("fingerprint", "long", cwd=tmp_path).stdout.strip() == str(polars_avro.fingerprint('"long"'))


# -- records as JSON --------------------------------------------------------------------------


def test_tojson_plain_and_in_the_specifications_encoding(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro", codec="deflate")
    plain = json_lines(run("tojson", path, cwd=tmp_path).stdout)
    assert plain == stored_values(path)
    # --avro-json: what fastavro's JSON writer (the specification's encoding) writes.
    with open(path, "rb") as f:
        schema = fastavro.reader(f).writer_schema
    import io

    expected = io.StringIO()
    fastavro.json_writer(expected, schema, fastavro_records(path))
    lines = json_lines(run("tojson", "--avro-json", path, cwd=tmp_path).stdout)
    assert lines == [json.loads(line) for line in expected.getvalue().split("\n") if line]
    assert lines[1]["note"] == {"string": "note 1"}


def test_head_and_cat_across_blocks_and_files(tmp_path: Path) -> None:
    write_orders(tmp_path / "a.avro", 0, 1_000)
    write_orders(tmp_path / "b.avro", 1_000, 500, codec="snappy")
    ids = lambda out: [r["id"] for r in json_lines(out)]  # noqa: E731
    assert ids(run("head", tmp_path / "a.avro", cwd=tmp_path).stdout) == list(range(10))
    assert ids(run("head", "-n", "3", tmp_path / "*.avro", cwd=tmp_path).stdout) == [0, 1, 2]
    middle = run("cat", tmp_path / "*.avro", "--offset", "995", "--limit", "12", cwd=tmp_path).stdout
    assert ids(middle) == list(range(995, 1_007))
    assert ids(run("cat", tmp_path, "--offset", "1490", cwd=tmp_path).stdout) == list(range(1_490, 1_500))
    assert run("head", "-n", "0", tmp_path / "a.avro", cwd=tmp_path).stdout == ""
    assert "--limit must be at least 0" in run("head", "-n", "-1", tmp_path, cwd=tmp_path, status=2).stderr


@pytest.mark.skipif(not FILES, reason=f"no Avro corpus at {CORPUS}")
def test_tojson_of_java_written_files(tmp_path: Path) -> None:
    # A command a file, several at once: each starts Python and Polars afresh (0.6 s).
    with ThreadPoolExecutor(4) as pool:
        printed = list(pool.map(lambda path: run("tojson", path, cwd=tmp_path).stdout, FILES))
    for path, text in zip(FILES, printed):
        assert json_lines(text) == stored_values(path), path


def test_fromjson_writes_what_tojson_printed(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro")
    (tmp_path / "s.avsc").write_text(raw_schema(path))
    for flag in ("--avro-json", None):
        printed = run("tojson", *([flag] if flag else []), path, cwd=tmp_path).stdout
        (tmp_path / "in.json").write_text(printed)
        out = tmp_path / "out.avro"
        run(
            "fromjson",
            tmp_path / "in.json",
            out,
            "--schema",
            tmp_path / "s.avsc",
            "-c",
            "zstandard",
            *([flag] if flag else []),
            cwd=tmp_path,
        )
        assert fastavro_records(out) == fastavro_records(path), flag
        assert header_of(out)["codec"] == "zstandard"
    # From standard input, with the schema taken from an Avro file.
    done = subprocess.run(
        [sys.executable, "-m", "polars_avro", "fromjson", "-", str(tmp_path / "stdin.avro"), "--schema", str(path)],
        input=printed,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert fastavro_records(tmp_path / "stdin.avro") == fastavro_records(path)
    (tmp_path / "bad.json").write_text(printed.split("\n")[0] + "\n" + '{"id": "seven"}\n')
    bad = run("fromjson", tmp_path / "bad.json", tmp_path / "bad.avro", "--schema", path, cwd=tmp_path, status=1)
    assert "line 2" in bad.stderr
    assert not (tmp_path / "bad.avro").exists()


def test_random_records_of_a_schema(tmp_path: Path) -> None:
    (tmp_path / "s.avsc").write_text(json.dumps(SCHEMA))
    run("random", tmp_path / "a.avro", "--schema", tmp_path / "s.avsc", "-n", "2500", "--seed", "7", cwd=tmp_path)
    run("random", tmp_path / "b.avro", "--schema", tmp_path / "s.avsc", "-n", "1200", "--seed", "7", cwd=tmp_path)
    run("random", tmp_path / "c.avro", "--schema", tmp_path / "s.avsc", "-n", "1200", "--seed", "8", cwd=tmp_path)
    a, b, c = (fastavro_records(tmp_path / f"{x}.avro") for x in "abc")
    assert len(a) == 2500 and a[:1200] == b and b != c
    assert {r["kind"] for r in a} == {"BUY", "SELL"} and {r["note"] is None for r in a} == {True, False}
    assert all(len(r["digest"]) == 4 for r in a)


# -- convert -----------------------------------------------------------------------------------


def test_convert_avro_to_every_format_and_back(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro", codec="zstandard")
    ours = polars_avro.read_avro(path)
    run("convert", path, tmp_path / "o.parquet", cwd=tmp_path)
    assert_frame_equal(pl.read_parquet(tmp_path / "o.parquet"), ours)
    run("convert", path, tmp_path / "o.arrow", "--compression", "zstd", cwd=tmp_path)
    assert_frame_equal(pl.read_ipc(tmp_path / "o.arrow"), ours)
    # Text formats: binary as base64, and in CSV nested values as JSON text.
    run("convert", path, tmp_path / "o.ndjson", cwd=tmp_path)
    lines = json_lines((tmp_path / "o.ndjson").read_bytes())
    records = fastavro_records(path)
    assert [r["id"] for r in lines] == [r["id"] for r in records]
    import base64

    assert [base64.b64decode(r["payload"]) for r in lines] == [r["payload"] for r in records]
    assert [r["tags"] for r in lines] == [r["tags"] for r in records]
    run("convert", path, tmp_path / "o.csv", cwd=tmp_path)
    csv = pl.read_csv(tmp_path / "o.csv")
    assert csv["id"].to_list() == [r["id"] for r in records]
    assert [json.loads(t) for t in csv["tags"]] == [r["tags"] for r in records]
    assert csv["note"].to_list() == [r["note"] for r in records]
    # And back to Avro, which fastavro reads with the same values.
    run("convert", tmp_path / "o.parquet", tmp_path / "back.avro", "-c", "snappy", cwd=tmp_path)
    assert header_of(tmp_path / "back.avro")["codec"] == "snappy"
    back = fastavro_records(tmp_path / "back.avro")
    assert [(r["id"], r["kind"], r["amount"], r["ts"], r["note"], r["tags"]) for r in back] == [
        (r["id"], r["kind"], r["amount"], r["ts"], r["note"], r["tags"]) for r in records
    ]


def test_convert_columns_filter_and_partitions(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro")
    run("convert", path, tmp_path / "o.parquet", "--columns", "note,id", "--filter", "id % 10 = 3", cwd=tmp_path)
    got = pl.read_parquet(tmp_path / "o.parquet")
    expected = [(r["note"], r["id"]) for r in fastavro_records(path) if r["id"] % 10 == 3]
    assert got.columns == ["note", "id"]
    assert list(got.iter_rows()) == expected
    run("convert", path, tmp_path / "parts", "--to", "avro", "--partition-by", "kind", cwd=tmp_path)
    back = pl.scan_avro(tmp_path / "parts", hive_partitioning=True).collect().sort("id")  # type: ignore[attr-defined]
    assert back["kind"].cast(pl.String).to_list() == [r["kind"] for r in fastavro_records(path)]
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["kind=BUY", "kind=SELL"]


# -- a partitioned folder, as Kafka Connect writes one -------------------------------------------


@pytest.fixture
def topic(tmp_path: Path) -> Path:
    """topics/orders/partition=N/orders+N+<offset>.avro: two partitions, three files."""
    root = tmp_path / "topics" / "orders"
    for partition, first, n in ((0, 0, 300), (0, 300, 200), (1, 500, 250)):
        folder = root / f"partition={partition}"
        folder.mkdir(parents=True, exist_ok=True)
        write_orders(folder / f"orders+{partition}+{first:010d}.avro", first, n, codec="deflate")
    return root


def _files(topic: Path) -> list[Path]:
    return sorted(topic.glob("*/*.avro"))


def _partition_of(path: Path) -> int:
    return int(path.parent.name.removeprefix("partition="))


def test_schema_of_a_partitioned_folder_names_the_partition_column_as_scan_avro(topic: Path) -> None:
    lines = run("schema", "--polars", topic, cwd=topic.parent).stdout.splitlines()
    scanned = pl.scan_avro(topic).collect_schema()  # type: ignore[attr-defined]
    assert scanned.names()[-1] == "partition"
    assert [line.split()[0] for line in lines] == scanned.names()
    assert lines[-1].split() == ["partition", "Int64"]
    no_hive = run("schema", "--polars", "--no-hive", topic, cwd=topic.parent).stdout.splitlines()
    assert [line.split()[0] for line in no_hive] == scanned.names()[:-1]
    # A glob has none unless asked, as scan_avro (and scan_parquet).
    glob = str(topic / "*" / "*.avro")
    assert "partition" not in run("schema", "--polars", glob, cwd=topic.parent).stdout
    assert run("schema", "--polars", "--hive", glob, cwd=topic.parent).stdout.splitlines()[-1].split()[0] == "partition"
    # The Avro schema is the files' writer schema: partitions are no field of theirs.
    assert json.loads(run("schema", topic, cwd=topic.parent).stdout) == json.loads(raw_schema(_files(topic)[0]))


def test_convert_of_a_partitioned_folder_keeps_the_partition_column(topic: Path, tmp_path: Path) -> None:
    out = tmp_path / "orders.parquet"
    run("convert", topic, out, cwd=tmp_path)
    got = pl.read_parquet(out)
    assert_frame_equal(got, pl.scan_avro(topic).collect())  # type: ignore[attr-defined]
    expected = [(r["id"], _partition_of(f)) for f in _files(topic) for r in fastavro_records(f)]
    assert list(got.select("id", "partition").iter_rows()) == expected
    run("convert", topic, tmp_path / "bare.parquet", "--no-hive", cwd=tmp_path)
    assert pl.read_parquet(tmp_path / "bare.parquet").columns == [f["name"] for f in SCHEMA["fields"]]
    # Partitions as columns and filters, and as the output's folders.
    run(
        "convert", topic, tmp_path / "p.parquet", "--columns", "partition,id", "--filter", "partition = 1", cwd=tmp_path
    )
    assert list(pl.read_parquet(tmp_path / "p.parquet").iter_rows()) == [(1, i) for i in range(500, 750)]
    run("convert", topic, tmp_path / "by", "--to", "parquet", "--partition-by", "partition", cwd=tmp_path)
    assert sorted(p.name for p in (tmp_path / "by").iterdir()) == ["partition=0", "partition=1"]
    back = pl.scan_parquet(tmp_path / "by").collect().sort("id")
    assert list(back.select("id", "partition").iter_rows()) == expected
    run("convert", topic, tmp_path / "by-avro", "--to", "avro", "--partition-by", "partition", cwd=tmp_path)
    back = pl.scan_avro(tmp_path / "by-avro").collect().sort("id")  # type: ignore[attr-defined]
    assert list(back.select("id", "partition").iter_rows()) == expected


def test_convert_refuses_a_column_the_inputs_lack_with_status_2(topic: Path, tmp_path: Path) -> None:
    for option, value, said in (
        ("--columns", "id,idd", "--columns names 'idd', which the inputs lack"),
        ("--partition-by", "partitions", "--partition-by names 'partitions', which the inputs lack"),
        ("--filter", "idd > 3", "--filter 'idd > 3' cannot be used"),
    ):
        done = run("convert", topic, tmp_path / "o.parquet", option, value, cwd=tmp_path, status=2)
        assert said in done.stderr, done.stderr
        assert "'partition'" in done.stderr  # the columns there are, the partition's among them
        assert done.stderr.count("\n") == 1 and "plan" not in done.stderr.lower()
        assert not (tmp_path / "o.parquet").exists()
    done = run(
        "convert",
        topic,
        tmp_path / "o",
        "--to",
        "avro",
        "--columns",
        "id",
        "--partition-by",
        "partition",
        cwd=tmp_path,
        status=2,
    )
    assert "--partition-by names 'partition', which --columns leaves out" in done.stderr


def test_records_of_a_partitioned_folder_carry_the_partition_column(topic: Path) -> None:
    expected = [{**r, "partition": _partition_of(f)} for f in _files(topic) for r in stored_values(f)]
    assert json_lines(run("cat", "--stored", topic, cwd=topic.parent).stdout) == expected
    assert (
        json_lines(run("head", "--stored", "-n", "3", "--offset", "499", topic, cwd=topic.parent).stdout)
        == expected[499:502]
    )
    assert json_lines(run("tojson", topic, "--no-hive", cwd=topic.parent).stdout) == [
        r for f in _files(topic) for r in stored_values(f)
    ]
    # The specification's encoding is of the files' own schema (fromjson takes it back).
    encoded = json_lines(run("head", "--avro-json", topic, cwd=topic.parent).stdout)
    assert [set(r) for r in encoded] == [{f["name"] for f in SCHEMA["fields"]}] * 10


def test_a_partition_key_the_records_hold_takes_the_paths_value(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "R",
        "fields": [{"name": "day", "type": "string"}, {"name": "v", "type": "long"}],
    }
    for day in ("1", "2"):
        (tmp_path / "t" / f"day={day}").mkdir(parents=True)
        write_fastavro(tmp_path / "t" / f"day={day}" / "a.avro", schema, [{"day": "x", "v": 1}])
    top = {"type": "array", "items": "long"}
    (tmp_path / "u" / "k=a").mkdir(parents=True)
    write_fastavro(tmp_path / "u" / "k=a" / "a.avro", top, [[1, 2], []])
    for folder in ("t", "u"):
        printed = json_lines(run("cat", tmp_path / folder, cwd=tmp_path).stdout)
        scanned = pl.scan_avro(tmp_path / folder).collect()  # type: ignore[attr-defined]
        assert printed == scanned.to_dicts()
        assert [list(record) for record in printed] == [scanned.columns] * scanned.height


def test_commands_on_files_read_a_partitioned_folder_file_by_file(topic: Path, tmp_path: Path) -> None:
    files = _files(topic)
    assert run("count", topic, cwd=tmp_path).stdout.strip() == "750"
    assert len(json_lines(run("meta", "--json", topic, cwd=tmp_path).stdout)) == len(files)
    run("validate", topic, cwd=tmp_path)
    # concat joins the files' records: a partition is no field of theirs.
    run("concat", topic, tmp_path / "all.avro", cwd=tmp_path)
    assert fastavro_records(tmp_path / "all.avro") == [r for f in files for r in fastavro_records(f)]


# -- block by block ----------------------------------------------------------------------------


def test_concat_copies_blocks_and_recompresses_where_codecs_differ(tmp_path: Path) -> None:
    a = write_orders(tmp_path / "a.avro", 0, 1_000, codec="deflate", metadata={"origin": "a"})
    b = write_orders(tmp_path / "b.avro", 1_000, 800, codec="deflate", metadata={"origin": "b"})
    c = write_orders(tmp_path / "c.avro", 1_800, 300, codec="snappy")
    run("concat", a, b, c, tmp_path / "out.avro", cwd=tmp_path)
    out = tmp_path / "out.avro"
    assert fastavro_records(out) == fastavro_records(a) + fastavro_records(b) + fastavro_records(c)
    assert blocks_of(out) == blocks_of(a) + blocks_of(b) + blocks_of(c)
    assert header_of(out)["codec"] == "deflate"
    assert header_of(out)["metadata"]["origin"] == "a"
    assert raw_schema(out) == raw_schema(a)
    run("concat", a, c, tmp_path / "z.avro", "--compression", "zstandard", cwd=tmp_path)
    assert header_of(tmp_path / "z.avro")["codec"] == "zstandard"
    assert fastavro_records(tmp_path / "z.avro") == fastavro_records(a) + fastavro_records(c)


def test_concat_of_different_schemas_reencodes(tmp_path: Path) -> None:
    a = write_orders(tmp_path / "a.avro", 0, 20)
    wider = {**SCHEMA, "fields": [*SCHEMA["fields"], {"name": "extra", "type": "int", "default": 0}]}
    b = write_fastavro(tmp_path / "b.avro", wider, [{**r, "extra": 7} for r in orders(20, 10)])
    done = run("concat", a, b, tmp_path / "out.avro", cwd=tmp_path)
    assert "2 different schemas" in done.stderr
    out = fastavro_records(tmp_path / "out.avro")
    # The first file's records take the field's default, as schema resolution says.
    assert [r["extra"] for r in out] == [0] * 20 + [7] * 10
    assert [r["id"] for r in out] == list(range(30))


def test_recodec_keeps_schema_and_metadata(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro", codec="snappy", metadata={"origin": "kept", "other": "too"})
    for codec in ("deflate", "zstandard", "bzip2", "xz", "null"):
        out = tmp_path / f"{codec}.avro"
        run("recodec", path, out, "--compression", codec, cwd=tmp_path)
        header = header_of(out)
        assert header["codec"] == codec
        assert {k: v for k, v in header["metadata"].items() if not k.startswith("avro.")} == {
            "origin": "kept",
            "other": "too",
        }
        assert raw_schema(out) == raw_schema(path)
        assert fastavro_records(out) == fastavro_records(path)
        assert blocks_of(out) == blocks_of(path)
    # Standard output when no output is given.
    done = subprocess.run(
        [sys.executable, "-m", "polars_avro", "recodec", str(path), "-c", "deflate"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    (tmp_path / "stdout.avro").write_bytes(done.stdout)
    assert fastavro_records(tmp_path / "stdout.avro") == fastavro_records(path)


def damaged_copy(path: Path, out: Path, block: int) -> int:
    """`path` with the data of block `block` overwritten; returns the records of that block."""
    with open(path, "rb") as f:
        blocks = list(fastavro.block_reader(f))
    data = bytearray(path.read_bytes())
    # The middle of the block's data, past its framing.
    start = blocks[block].offset + blocks[block].size // 2 - 20
    data[start : start + 40] = b"\xff" * 40
    out.write_bytes(bytes(data))
    return int(blocks[block].num_records)


def test_repair_keeps_every_intact_block(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro", codec="null", metadata={"origin": "x"})
    lost = damaged_copy(path, tmp_path / "bad.avro", 2)
    done = run("repair", tmp_path / "bad.avro", tmp_path / "fixed.avro", cwd=tmp_path, status=1)
    assert "left out" in done.stderr and "block 2" in done.stderr
    fixed = fastavro_records(tmp_path / "fixed.avro")
    records = fastavro_records(path)
    counts = blocks_of(path)
    first = sum(counts[:2])
    assert fixed == records[:first] + records[first + lost :]
    assert header_of(tmp_path / "fixed.avro")["metadata"]["origin"] == "x"
    assert raw_schema(tmp_path / "fixed.avro") == raw_schema(path)
    # An intact file is copied whole, with status 0.
    run("repair", path, tmp_path / "same.avro", cwd=tmp_path)
    assert fastavro_records(tmp_path / "same.avro") == records


def test_validate_reports_damage_with_status(tmp_path: Path) -> None:
    path = write_orders(tmp_path / "a.avro", codec="deflate")
    damaged_copy(path, tmp_path / "bad.avro", 1)
    (tmp_path / "not.avro").write_bytes(b"not avro at all")
    ok = run("validate", path, cwd=tmp_path)
    assert ok.stdout.strip() == f"ok\t2000\t{path}"
    done = run("validate", path, tmp_path / "bad.avro", tmp_path / "not.avro", cwd=tmp_path, status=1)
    assert "bad.avro" in done.stderr and "block 1" in done.stderr and "not.avro" in done.stderr
    assert "2 of 3 files damaged" in done.stderr
    # A file piped in is read once, when listed, and validated from those bytes.
    for name, status in ((path, 0), (tmp_path / "bad.avro", 1)):
        piped = subprocess.run(
            [sys.executable, "-m", "polars_avro", "validate", "/dev/stdin"],
            input=Path(name).read_bytes(),
            cwd=tmp_path,
            capture_output=True,
            timeout=300,
            check=False,
        )
        assert piped.returncode == status, piped.stderr.decode()[-2000:]
        if status == 0:
            assert piped.stdout.decode().strip() == "ok\t2000\t/dev/stdin"
        else:
            assert "/dev/stdin" in piped.stderr.decode() and "block 1" in piped.stderr.decode()


# -- how it behaves ----------------------------------------------------------------------------


def test_errors_are_one_line_with_exit_status(tmp_path: Path) -> None:
    missing = run("count", tmp_path / "missing.avro", cwd=tmp_path, status=3)
    assert missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    debug = run("count", "--debug", tmp_path / "missing.avro", cwd=tmp_path, status=3)
    assert "Traceback" in debug.stderr
    (tmp_path / "not.avro").write_bytes(b"Obj\x01garbage")
    damaged = run("meta", tmp_path / "not.avro", cwd=tmp_path, status=1)
    assert "not.avro" in damaged.stderr and "Traceback" not in damaged.stderr
    usage = run("concat", tmp_path / "only.avro", cwd=tmp_path, status=2)
    assert "inputs and then the output" in usage.stderr
    assert run("nosuchcommand", cwd=tmp_path, status=2).stderr
    path = write_orders(tmp_path / "a.avro", n=10)
    bad_level = run("recodec", path, tmp_path / "out.avro", "-c", "deflate", "-l", "42", cwd=tmp_path, status=2)
    assert "found 42" in bad_level.stderr and "out.avro" in bad_level.stderr and ".tmp" not in bad_level.stderr
    assert not (tmp_path / "out.avro").exists() and list(tmp_path.glob("*.tmp")) == []
    for args, found in (
        (("count", path, "-S", "nope"), "--storage-option"),
        (("recodec", path, "-m", "x"), "--metadata"),
    ):
        value = args[-1]
        assert f"{found} takes KEY=VALUE, found {value!r}" in run(*args, cwd=tmp_path, status=2).stderr


def test_errors_say_the_way_out_in_the_command_lines_own_words(
    tmp_path: Path, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_orders(tmp_path / "a.avro", n=2000)
    # A misused command prints its own usage, with the option it likely meant.
    misused = run("count", "--perfile", path, cwd=tmp_path, status=2)
    assert misused.stderr.startswith("usage: polars-avro count "), misused.stderr
    assert "unrecognized arguments: --perfile; did you mean --per-file?" in misused.stderr
    # A damaged file: repair (and validate), not Python's ignore_errors=True.
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "damaged.avro").write_bytes(bytes(data))
    damaged = run("convert", tmp_path / "damaged.avro", tmp_path / "o.parquet", cwd=tmp_path, status=1)
    assert "the file is damaged: rewrite it without the damaged blocks with `polars-avro repair INPUT OUTPUT`" in (
        damaged.stderr
    )
    assert "ignore_errors" not in damaged.stderr
    # No credentials: -S and the environment, not storage_options= and credential_provider=.
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    options = ["-S", f"aws_endpoint_url={s3.endpoint}", "-S", f"aws_region={s3.REGION}"]
    options += ["-S", "aws_metadata_endpoint=http://127.0.0.1:9", "--retries", "0"]
    refused = run("count", f"s3://{s3.BUCKET}/a.avro", *options, cwd=tmp_path, status=3)
    assert "no AWS credentials were found" in refused.stderr
    assert "with -S KEY=VALUE" in refused.stderr and "-S aws_skip_signature=true" in refused.stderr
    assert "set AWS_PROFILE" in refused.stderr
    assert "storage_options" not in refused.stderr and "credential_provider" not in refused.stderr
    # A misspelt option: named as -S names it, with the nearest.
    misspelt = run("count", path, "-S", "aws_regoin=x", cwd=tmp_path)
    assert misspelt.stdout.strip() == "2000", "a local file needs no store: the option is not read"
    misspelt = run("count", f"s3://{s3.BUCKET}/a.avro", "-S", "aws_regoin=x", cwd=tmp_path, status=2)
    assert "-S: 'aws_regoin' is not an option of the s3 store: did you mean 'aws_region'?" in misspelt.stderr


def test_progress_bar_on_request_and_quiet(tmp_path: Path) -> None:
    pytest.importorskip("tqdm")
    path = write_orders(tmp_path / "a.avro")
    shown = run("recodec", path, tmp_path / "o.avro", "-c", "deflate", "--progress", cwd=tmp_path)
    assert "100%" in shown.stderr and "1/1 files" in shown.stderr
    converted = run("convert", path, tmp_path / "o.parquet", "--progress", cwd=tmp_path)
    assert "convert" in converted.stderr and "1/1 files" in converted.stderr
    quiet = run("recodec", path, tmp_path / "q.avro", "-c", "deflate", "--progress", "--quiet", cwd=tmp_path)
    assert quiet.stderr == ""


def test_commands_on_the_s3_server(tmp_path: Path, s3: Any) -> None:
    local = write_orders(tmp_path / "a.avro", codec="deflate", metadata={"origin": "s3"})
    for key in ("in/a.avro", "in/b.avro"):
        s3.client.put_object(Bucket=s3.BUCKET, Key=key, Body=local.read_bytes())
    options = [a for k, v in s3.storage_options().items() for a in ("-S", f"{k}={v}")]
    url = f"s3://{s3.BUCKET}/in/"
    assert run("count", url, *options, cwd=tmp_path).stdout.strip() == "4000"
    facts = [json.loads(line) for line in run("meta", "--json", url, *options, cwd=tmp_path).stdout.splitlines()]
    assert [f["records"] for f in facts] == [2000, 2000] and facts[0]["metadata"] == {"origin": "s3"}
    run("convert", f"s3://{s3.BUCKET}/in/*.avro", tmp_path / "o.parquet", *options, cwd=tmp_path)
    assert pl.read_parquet(tmp_path / "o.parquet").height == 4000
    run("recodec", f"{url}a.avro", tmp_path / "r.avro", "-c", "zstandard", *options, cwd=tmp_path)
    assert fastavro_records(tmp_path / "r.avro") == fastavro_records(local)
    assert run("validate", url, *options, cwd=tmp_path).stdout.count("ok\t2000") == 2
    assert json.loads(run("schema", f"{url}a.avro", *options, cwd=tmp_path).stdout) == json.loads(raw_schema(local))
    assert (
        json_lines(run("head", "--stored", "-n", "5", url, *options, cwd=tmp_path).stdout) == stored_values(local)[:5]
    )
    assert json_lines(run("tojson", f"{url}b.avro", *options, cwd=tmp_path).stdout) == stored_values(local)
    # Written to the store too: blocks copied between objects, and a repair of an object.
    run("concat", f"{url}a.avro", f"{url}b.avro", f"s3://{s3.BUCKET}/out/both.avro", *options, cwd=tmp_path)
    run("recodec", f"{url}a.avro", f"s3://{s3.BUCKET}/out/a.zst.avro", "-c", "zstandard", *options, cwd=tmp_path)
    run("repair", f"{url}a.avro", f"s3://{s3.BUCKET}/out/a.fixed.avro", *options, cwd=tmp_path)
    (tmp_path / "in.json").write_text(run("tojson", "--avro-json", local, cwd=tmp_path).stdout)
    run(
        "fromjson",
        tmp_path / "in.json",
        f"s3://{s3.BUCKET}/out/j.avro",
        "--avro-json",
        "--schema",
        local,
        *options,
        cwd=tmp_path,
    )
    run("random", f"s3://{s3.BUCKET}/out/r.avro", "--schema", local, "-n", "50", *options, cwd=tmp_path)
    for key, expected in (
        ("both", 2 * fastavro_records(local)),
        ("a.zst", fastavro_records(local)),
        ("a.fixed", fastavro_records(local)),
        ("j", fastavro_records(local)),
    ):
        body = s3.client.get_object(Bucket=s3.BUCKET, Key=f"out/{key}.avro")["Body"].read()
        (tmp_path / "got.avro").write_bytes(body)
        assert fastavro_records(tmp_path / "got.avro") == expected, key
    assert run("count", f"s3://{s3.BUCKET}/out/r.avro", *options, cwd=tmp_path).stdout.strip() == "50"


def test_help_lists_every_command(tmp_path: Path) -> None:
    text = run("--help", cwd=tmp_path, script=True).stdout
    for command in (
        "schema meta count fingerprint canonical head cat tojson fromjson random convert concat recodec repair validate"
    ).split():
        assert f"    {command}" in text
    assert run("--version", cwd=tmp_path).stdout.strip() == f"polars-avro {polars_avro.__version__}"
    assert os.access(SCRIPT, os.X_OK)
