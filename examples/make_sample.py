"""Writes polars_avro/weather.avro, the sample the package carries (run once; the file is committed).

Needs fastavro. The data are synthetic: hourly readings from a few stations.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import fastavro

SCHEMA = {
    "type": "record",
    "name": "Reading",
    "namespace": "example.weather",
    "fields": [
        {"name": "station", "type": {"type": "enum", "name": "Station", "symbols": ["OSLO", "LIMA", "PERTH", "QUITO"]}},
        {"name": "time", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "temp", "type": "double"},
        {"name": "rain_mm", "type": ["null", "float"]},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {"name": "sensors", "type": {"type": "map", "values": "int"}},
    ],
}


def main() -> None:
    rng = random.Random(7)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    records = []
    for hour in range(500):
        for station, base in (("OSLO", -3.0), ("LIMA", 19.0), ("PERTH", 24.0), ("QUITO", 13.0)):
            records.append(
                {
                    "station": station,
                    "time": start + dt.timedelta(hours=hour),
                    "temp": round(base + rng.gauss(0, 4), 1),
                    "rain_mm": None if rng.random() < 0.6 else round(rng.random() * 5, 1),
                    "note": "maintenance" if rng.random() < 0.01 else None,
                    "tags": ["hourly"] + (["storm"] if rng.random() < 0.05 else []),
                    "sensors": {"thermo": 1, "rain": rng.randint(0, 2)},
                }
            )
    out = Path(__file__).resolve().parent.parent / "polars_avro" / "weather.avro"
    with out.open("wb") as f:
        fastavro.writer(
            f, SCHEMA, records, codec="deflate", sync_interval=16_000, metadata={"example.source": "polars-avro sample"}
        )
    print(f"wrote {len(records)} records to {out}")


if __name__ == "__main__":
    main()
