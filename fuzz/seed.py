"""Seeds for the fuzz targets: real files for read_file, and record bytes written by
fastavro under the schemas decode_block and schema_json use.

    python fuzz/seed.py [corpus dir ...]   (writes fuzz/corpus/<target>/)
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import fastavro

FUZZ = Path(__file__).parent
ROOT = FUZZ.parent


def schemas() -> list[str]:
    """The SCHEMAS of decode_block.rs, read from its source so the two never differ."""
    source = (FUZZ / "fuzz_targets" / "decode_block.rs").read_text()
    block = source[source.index("const SCHEMAS") : source.index("];", source.index("const SCHEMAS"))]
    return re.findall(r'r#"(.*?)"#', block, flags=re.S)


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
    print(f"seeded {len(files)} files and {len(schemas())} schemas into {corpus}")


if __name__ == "__main__":
    main()
