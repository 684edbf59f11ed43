"""The installed wheel on one Python, quickly: a read, a scan with a filter, a write and a
message decoded, each compared with fastavro's values (`nox -s smoke`, every Python the
package claims). Run as a script: `python tests/smoke.py`."""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

import fastavro
import polars as pl
from polars.testing import assert_frame_equal

import polars_avro

SAMPLE = Path(polars_avro.sample_file())
PLAIN = ["temp", "rain_mm", "note"]


def fastavro_frame(path: Path, columns: list[str]) -> pl.DataFrame:
    with path.open("rb") as f:
        records = list(fastavro.reader(f))
    return pl.DataFrame(
        {c: [r[c] for r in records] for c in columns},
        schema={"temp": pl.Float64, "rain_mm": pl.Float32, "note": pl.String},
    )


def main() -> None:
    expected = fastavro_frame(SAMPLE, PLAIN)

    read = polars_avro.read_avro(SAMPLE, columns=PLAIN)
    assert_frame_equal(read, expected)

    scanned = pl.scan_avro(SAMPLE).filter(pl.col("temp") > 25).select(PLAIN).collect()
    assert_frame_equal(scanned, expected.filter(pl.col("temp") > 25))
    assert 0 < scanned.height < expected.height

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out.avro"
        polars_avro.write_avro(read, out, compression="deflate")
        assert_frame_equal(fastavro_frame(out, PLAIN), expected)

    schema = {
        "type": "record",
        "name": "Order",
        "fields": [{"name": "id", "type": "long"}, {"name": "item", "type": "string"}],
    }
    orders = [{"id": i, "item": f"item {i}"} for i in range(100)]
    messages = []
    for order in orders:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, fastavro.parse_schema(schema), order)
        messages.append(buffer.getvalue())
    decoded = pl.DataFrame({"value": messages}).select(pl.col("value").avro.decode(schema)).unnest("value")
    assert decoded.to_dicts() == orders

    print(f"smoke: Python {sys.version.split()[0]}, Polars {pl.__version__}, polars-avro {polars_avro.__version__}: ok")


if __name__ == "__main__":
    main()
