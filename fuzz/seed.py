"""Seeds for the fuzz targets: real files for read_file, record bytes written by fastavro
under the schemas decode_block and schema_json use, and columns of messages (datums
written by fastavro's schemaless_writer, framed in each framing) for decode_message.

    python fuzz/seed.py [corpus dir ...]   (writes fuzz/corpus/<target>/)
"""

from __future__ import annotations

import io
import json
import random
import re
import struct
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import fastavro

FUZZ = Path(__file__).parent
ROOT = FUZZ.parent


def schemas() -> list[str]:
    """The SCHEMAS of decode_block.rs, read from its source so the two never differ."""
    source = (FUZZ / "fuzz_targets" / "decode_block.rs").read_text()
    block = source[source.index("const SCHEMAS") : source.index("];", source.index("const SCHEMAS"))]
    return re.findall(r'r#"(.*?)"#', block, flags=re.S)


def message_source() -> str:
    return (FUZZ / "fuzz_targets" / "decode_message.rs").read_text()


def message_schemas() -> list[tuple[dict | list | str, dict | list | str]]:
    """The (writer, reader) SCHEMAS of decode_message.rs, read from its source."""
    source = message_source()
    start = source.index("const SCHEMAS")
    texts = re.findall(r'r#"(.*?)"#', source[start : source.index("\n];", start)], flags=re.S)
    return [(json.loads(texts[i]), json.loads(texts[i + 1])) for i in range(0, len(texts), 2)]


def message_keys() -> dict[str, int | bytes]:
    """The ID_* and GUID_* constants of decode_message.rs: the keys its registry knows."""
    source = message_source()
    keys: dict[str, int | bytes] = {k: int(v) for k, v in re.findall(r"const (ID_\w+): i64 = (\d+);", source)}
    keys.update({k: v.encode() for k, v in re.findall(r'const (GUID_\w+): \[u8; 16\] = \*b"(.{16})";', source)})
    return keys


def crc64_avro(data: bytes) -> int:
    """The specification's CRC-64-AVRO (Rabin) fingerprint."""
    empty = 0xC15D213AA4D7A795
    fp = empty
    for byte in data:
        fp ^= byte
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
    return fp


def fingerprint(schema: dict | list | str) -> bytes:
    """The 8 little-endian bytes single-object encoding writes for the schema."""
    canonical = fastavro.schema.to_parsing_canonical_form(fastavro.parse_schema(schema))
    return struct.pack("<Q", crc64_avro(canonical.encode()))


def varint(n: int) -> bytes:
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def sample(schema, rng: random.Random, named: dict, depth: int = 0):
    """A random value of the schema, as fastavro writes it."""
    if isinstance(schema, list):
        branches = [b for b in schema if b != "null"] if depth > 3 else schema
        if depth > 3 and "null" in schema:
            return None
        return sample(rng.choice(branches), rng, named, depth + 1)
    if isinstance(schema, str):
        if schema in named:
            return sample(named[schema], rng, named, depth + 1)
        return sample({"type": schema}, rng, named, depth)
    kind, logical = schema["type"], schema.get("logicalType")
    if isinstance(kind, (dict, list)) or kind in named:
        return sample(kind, rng, named, depth)
    if logical == "decimal":
        precision, scale = schema["precision"], schema.get("scale", 0)
        return Decimal(rng.randint(-(10 ** min(precision, 12)) + 1, 10 ** min(precision, 12) - 1)).scaleb(-scale)
    if logical == "uuid" and kind == "string":
        return str(uuid.UUID(int=rng.getrandbits(128)))
    if logical == "big-decimal":
        unscaled = rng.getrandbits(40).to_bytes(5, "big", signed=False)
        return varint(len(unscaled)) + unscaled + varint(rng.randint(0, 9))
    if kind == "null":
        return None
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, 1, -1, 2**31 - 1, -(2**31), rng.randint(-1000, 1000)])
    if kind == "long":
        return rng.choice([0, -1, 2**63 - 1, -(2**63), rng.randint(-(10**12), 10**12)])
    if kind in ("float", "double"):
        return rng.choice([0.0, -1.5, float("inf"), float("nan"), rng.uniform(-1e6, 1e6)])
    if kind == "string":
        return rng.choice(["", "a", "héllo", "x" * rng.randint(0, 20)])
    if kind == "bytes":
        # Mostly UTF-8, which the reader schemas read as strings.
        return bytes(rng.choice(b"abc\xff" if rng.random() < 0.1 else b"abc") for _ in range(rng.randint(0, 6)))
    if kind == "fixed":
        return bytes(rng.getrandbits(8) for _ in range(schema["size"]))
    if kind == "enum":
        return rng.choice(schema["symbols"])
    if kind == "array":
        return [sample(schema["items"], rng, named, depth + 1) for _ in range(rng.randint(0, 3 if depth < 3 else 0))]
    if kind == "map":
        count = rng.randint(0, 3 if depth < 3 else 0)
        return {f"k{i}": sample(schema["values"], rng, named, depth + 1) for i in range(count)}
    if kind == "record":
        return {f["name"]: sample(f["type"], rng, named, depth + 1) for f in schema["fields"]}
    raise ValueError(f"no sample for {schema!r}")


def named_types(schema, named: dict) -> dict:
    """The schema's named types by name, wherever they are defined."""
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, named)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum", "fixed"):
            named[schema["name"]] = schema
        for child in [schema.get("type"), schema.get("items"), schema.get("values")]:
            if isinstance(child, (dict, list)):
                named_types(child, named)
        for field in schema.get("fields", []):
            named_types(field["type"], named)
    return named


def datum(schema: dict | list | str, rng: random.Random) -> bytes:
    """A random datum of the schema, written by fastavro."""
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(schema), sample(schema, rng, named_types(schema, {})))
    return out.getvalue()


#: The framings in decode_message's order (bits 0-1 of its first byte).
FRAMINGS = ["raw", "confluent", "single_object", "auto"]


def message_seeds() -> dict[str, bytes]:
    """Columns of messages in decode_message's layout: for each schema and framing, datums
    of the writer schema (and of the reader schema, under its keys), null messages, keys
    the registry lacks, and a few damaged messages."""
    keys = message_keys()
    schemas = message_schemas()
    seeds: dict[str, bytes] = {}
    for index, (writer, reader) in enumerate(schemas):
        other = schemas[(index + 1) % len(schemas)][0]
        for f, framing in enumerate(FRAMINGS):
            for variant in range(4):
                rng = random.Random(index * 100 + f * 10 + variant)
                with_reader = variant in (1, 3)
                # Raw datums need ids to name the reader schema; variant 2 uses the id column.
                with_ids = variant == 2 or (framing == "raw" and variant == 3)
                mode = (index + f + variant) % 4
                repeat = variant == 0
                flags = f | mode << 2 | with_reader << 4 | with_ids << 6 | (variant % 2) << 7
                out = bytearray([flags, index | repeat * 0xF0])
                n_messages = 3 if repeat else 8
                for m in range(n_messages):
                    which = rng.choice(["writer"] * 3 + (["reader"] * 2 if with_reader else []) + ["null", "odd"])
                    if which == "null":
                        if with_ids:
                            out.append(0)
                        out.append(0xFF)
                        continue
                    if which == "reader" and framing == "raw" and not with_ids:
                        which = "writer"  # raw datums without ids are all of the given writer schema
                    schema = {"writer": writer, "reader": reader, "odd": writer}[which]
                    data = datum(schema, rng)
                    key_kind = which if which != "odd" else rng.choice(["other", "missing", "unknown", "invalid"])
                    message = frame(framing, key_kind, m, data, datum(other, rng), keys, writer, reader)
                    if which == "odd" and rng.random() < 0.3:
                        message = message[: rng.randint(0, len(message))]  # cut short
                    if with_ids:
                        ids = {"writer": keys["ID_WRITER"], "reader": keys["ID_READER"], "other": keys["ID_OTHER"]}
                        ids |= {"missing": keys["ID_MISSING"], "unknown": 99, "invalid": keys["ID_INVALID"]}
                        out.append(ids[key_kind] if m % 4 else 0)
                    out += bytes([len(message)]) if len(message) < 0xFE else b"\xfe" + struct.pack("<H", len(message))
                    out += message
                seeds[f"schema{index}-{framing}-{variant}"] = bytes(out)
    return seeds


def frame(
    framing: str,
    key_kind: str,
    m: int,
    data: bytes,
    other_data: bytes,
    keys: dict,
    writer: dict | list | str,
    reader: dict | list | str,
) -> bytes:
    """A datum in the framing, naming the writer schema `key_kind` says."""
    if key_kind == "other":
        data = other_data
    if framing == "auto":
        framing = ["single_object", "confluent", "raw", "confluent"][m % 4]
        if framing == "raw":
            return data
    if framing == "raw":
        return data
    if framing == "single_object":
        fp = {"writer": fingerprint(writer), "reader": fingerprint(reader)}.get(key_kind, b"\x00\x11" * 4)
        return b"\xc3\x01" + fp + data
    if m % 2 and key_kind in ("writer", "reader"):
        return b"\x01" + keys[f"GUID_{key_kind.upper()}"] + data
    ids = {"writer": "ID_WRITER", "reader": "ID_READER", "other": "ID_OTHER", "missing": "ID_MISSING"}
    ids |= {"invalid": "ID_INVALID"}
    number = keys[ids[key_kind]] if key_kind in ids else 99
    return b"\x00" + struct.pack(">i", number) + data


def blocks(schema: dict | list, records: list) -> list[tuple[int, bytes]]:
    """(record count, bytes) of each block fastavro writes for the records."""
    out = io.BytesIO()
    fastavro.writer(out, fastavro.parse_schema(schema), records, sync_interval=200)
    out.seek(0)
    return [(b.num_records, b.bytes_.getvalue()) for b in fastavro.block_reader(out)]


def sample_records(index: int) -> list:
    if index == 0:
        return [
            {
                "b": i % 2 == 0,
                "i": i,
                "l": -i * 1000,
                "f": i / 3,
                "d": i / 7,
                "s": f"s{i}",
                "y": bytes([i % 256]) * 3,
                "n": None if i % 3 else "x",
                "u": [i, "str", [1, 2]][i % 3],
                "a": [{"k": 0.5}] * (i % 3),
                "e": "XYZ"[i % 3],
                "x": b"abc",
                "dec": b"\x01\x00",
                "big": b"\x7f" * 20,
                "ts": 1_700_000_000_000_000 + i,
                "dt": 19000 + i,
                "uu": "123e4567-e89b-12d3-a456-426614174000",
                "du": b"\x00" * 12,
                "r": {"k": None if i % 2 else i, "v": {"a": "b"}},
            }
            for i in range(20)
        ]
    if index == 1:
        return [{"value": i, "children": [{"value": 1, "children": [], "next": None}], "next": None} for i in range(10)]
    if index == 2:
        return [None, 5, "text", [None, 1.5]] * 5
    return [{"k": [[True, False], []]}] * 10


def main() -> None:
    corpus = FUZZ / "corpus"
    files = [*ROOT.glob("examples/*.avro")]
    for extra in sys.argv[1:]:
        files += [p for p in Path(extra).rglob("*.avro") if p.stat().st_size < 1 << 20]
    (corpus / "read_file").mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(files):
        (corpus / "read_file" / f"file-{i}").write_bytes(path.read_bytes())
    (corpus / "decode_block").mkdir(parents=True, exist_ok=True)
    (corpus / "schema_json").mkdir(parents=True, exist_ok=True)
    for index, text in enumerate(schemas()):
        schema = json.loads(text)
        for j, (count, data) in enumerate(blocks(schema, sample_records(index))[:4]):
            count = min(count, 63)
            (corpus / "decode_block" / f"schema{index}-{j}").write_bytes(bytes([count << 2 | index]) + data)
            seed = json.dumps(schema).encode() + b"\0" + bytes([count]) + data
            (corpus / "schema_json" / f"schema{index}-{j}").write_bytes(seed)
    (corpus / "decode_message").mkdir(parents=True, exist_ok=True)
    messages = message_seeds()
    for name, seed in messages.items():
        (corpus / "decode_message" / name).write_bytes(seed)
    print(f"seeded {len(files)} files, {len(schemas())} schemas and {len(messages)} message columns into {corpus}")


if __name__ == "__main__":
    main()
