"""What the .avro namespaces and pl.scan_avro do, through the typed functions, which
`mypy --strict` checks (`nox -s lint` runs it on this script).

Type checkers cannot see what Polars registers at run time (`pl.scan_avro`, `df.avro`,
`lf.avro`, `pl.col(...).avro`): each has a function of `polars_avro` with the same options.
Run it from the repository root: `python examples/typed_usage.py`.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import polars as pl

import polars_avro

SCHEMA = {
    "type": "record",
    "name": "Reading",
    "fields": [{"name": "sensor", "type": "string"}, {"name": "value", "type": "double"}],
}


def main() -> None:
    sample: str = polars_avro.sample_file()
    # pl.scan_avro(...) and polars_avro.read_avro(...)
    lf: pl.LazyFrame = polars_avro.scan_avro(sample, low_memory=True)
    hot = lf.filter(pl.col("temp") > 30).select("station", "temp").collect()
    temps: pl.DataFrame = polars_avro.read_avro(sample, columns="temp", n_rows=5)
    schema: pl.Schema = polars_avro.read_avro_schema(sample)
    files: list[str] = [sample, sample]
    assert polars_avro.scan_avro(files).select(pl.len()).collect().item() == 4_000

    with tempfile.TemporaryDirectory() as folder:
        # df.avro.write(...) and lf.avro.sink(...)
        target = Path(folder) / "out" / "hot.avro"
        polars_avro.write_avro(hot, target, compression="zstd", mkdir=True)
        polars_avro.sink_avro(lf.head(100), path=Path(folder) / "head.avro", compression="snappy")
        assert polars_avro.read_avro(target).equals(hot)

    # pl.col(...).avro.encode / schema_id / decode / decode_error
    readings = pl.DataFrame({"sensor": ["s1", "s2"], "value": [1.5, 2.5]})
    framed = readings.select(
        polars_avro.encode(pl.struct(pl.all()), SCHEMA, framing="confluent", schema_id=7).alias("value")
    )
    decoded = framed.select(
        polars_avro.schema_id("value").alias("id"),
        polars_avro.decode("value", framing="confluent", writer_schemas={7: SCHEMA}),
        polars_avro.decode_error(pl.col("value"), framing="confluent", writer_schemas={7: SCHEMA}).alias("error"),
    )
    assert decoded["id"].to_list() == [7, 7]
    assert decoded.unnest("value").select("sensor", "value").equals(readings)

    # Files block by block: recompressed without decoding, counted from the framing alone.
    recoded = io.BytesIO()
    with (
        polars_avro.AvroBlockReader(sample, data="stored") as blocks,
        polars_avro.AvroBlockWriter(recoded, blocks.header, compression="zstandard") as writer,
    ):
        writer.write_blocks(blocks, blocks.header.codec)
    framing = polars_avro.AvroBlockReader(recoded.getvalue(), data="framing")
    assert sum(block.records for block in framing) == 2_000
    datums = polars_avro.AvroDatums(SCHEMA)
    assert datums.to_json(*datums.from_json(b'{"sensor": "s1", "value": 1.5}\n')) == b'{"sensor":"s1","value":1.5}\n'

    buffer = io.BytesIO()
    polars_avro.write_avro(temps, buffer)
    print(hot.height, schema["temp"], polars_avro.read_avro(buffer.getvalue()).height)


if __name__ == "__main__":
    main()
