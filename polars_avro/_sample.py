"""The sample file the package carries, for examples that run in any folder."""

from __future__ import annotations

from pathlib import Path


def sample_file() -> str:
    """The path of ``weather.avro``, a small Avro file installed with the package.

    2,000 hourly weather readings from four stations, deflate-compressed, in blocks of
    about 16 KB: an enum, a timestamp, a double, nullable float and string, an array and a
    map. The examples in this package's docstrings and docs read it; ``polars-avro sample``
    copies it into the current folder.

    Examples
    --------
    >>> import polars as pl
    >>> import polars_avro
    >>> pl.scan_avro(polars_avro.sample_file()).select(pl.len()).collect().item()
    2000
    """
    return str(Path(__file__).with_name("weather.avro"))
