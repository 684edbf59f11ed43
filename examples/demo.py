"""The main job on the bundled sample: a lazy scan with a filter and a projection."""

import polars as pl

import polars_avro

SAMPLE = polars_avro.sample_file()

print("Avro file:", SAMPLE)
print("Polars schema:", polars_avro.read_avro_schema(SAMPLE))

result = (
    pl.scan_avro(SAMPLE)
    .filter((pl.col("temp") > 25) & (pl.col("station") == "PERTH"))
    .select("station", "time", "temp", "rain_mm")
    .collect()
)
print(result)
total = pl.scan_avro(SAMPLE).select(pl.len()).collect().item()
print(f"{result.height} of {total} readings are above 25 degrees in Perth")
