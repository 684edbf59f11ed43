"""Hive partitions (``key=value`` folders) on local files written by fastavro: the
columns, their types as Polars infers them for Parquet, and files skipped by filters."""

from __future__ import annotations

import datetime as dt
import os
import random
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from helpers import write_fastavro
from polars.testing import assert_frame_equal

import polars_avro
from polars_avro._polars.release import running

#: Polars 2.0 hands scans no filter, so no file is ruled out (polars_avro._polars.probes says why).
RULES_OUT_FILES = not running().sources_wait_on_the_pool

SCHEMA = {"type": "record", "name": "R", "fields": [{"name": "v", "type": "long"}, {"name": "s", "type": "string"}]}


def _write(path: Path, values: list[int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_fastavro(path, SCHEMA, [{"v": v, "s": f"s{v}"} for v in values])


@pytest.fixture
def table(tmp_path: Path) -> Path:
    """date=.../country=.../part.avro: three dates, two countries, two rows per file."""
    root = tmp_path / "table"
    n = 0
    for date in ("2024-01-01", "2024-01-02", "2024-01-03"):
        for country in ("NO", "PE"):
            _write(root / f"date={date}" / f"country={country}" / "part-0.avro", [n, n + 1])
            n += 2
    return root


def _expected(root: Path) -> pl.DataFrame:
    rows = []
    n = 0
    for date in ("2024-01-01", "2024-01-02", "2024-01-03"):
        for country in ("NO", "PE"):
            for v in (n, n + 1):
                rows.append({"v": v, "s": f"s{v}", "date": dt.date.fromisoformat(date), "country": country})
            n += 2
    return pl.DataFrame(rows, schema={"v": pl.Int64, "s": pl.String, "date": pl.Date, "country": pl.String})


def test_a_directory_reads_its_partitions_by_default(table: Path) -> None:
    assert_frame_equal(pl.scan_avro(table).collect(), _expected(table))
    assert polars_avro.read_avro_schema(table) == _expected(table).schema


def test_a_list_of_one_directory_reads_its_partitions_as_scan_parquet_does(table: Path, tmp_path: Path) -> None:
    parquet = tmp_path / "parquet"
    for path in table.rglob("*.avro"):
        folder = parquet / path.parent.relative_to(table)
        folder.mkdir(parents=True)
        polars_avro.read_avro(path).write_parquet(folder / "part-0.parquet")
    polars_own = pl.scan_parquet([str(parquet)]).collect()
    assert polars_own.columns == ["v", "s", "date", "country"]
    assert_frame_equal(pl.scan_avro([str(table)]).collect(), _expected(table))
    assert polars_avro.read_avro_schema([table]) == polars_own.schema
    # Two directories are not one: no partitions, as scan_parquet.
    two = [str(table / "date=2024-01-01"), str(table / "date=2024-01-02")]
    assert pl.scan_avro(two).collect_schema().names() == ["v", "s"]


def test_listed_files_carry_the_partition_values_the_scan_gives_their_rows(table: Path) -> None:
    files = polars_avro.list_avro_files(table, hive_partitioning=None)
    scanned = (
        pl.scan_avro(table, include_file_paths="path").select("path", "date", "country").unique(maintain_order=True)
    )  # type: ignore[attr-defined]
    assert [(f.path, f.partitions) for f in files] == [
        (r["path"], {"date": r["date"], "country": r["country"]}) for r in scanned.collect().to_dicts()
    ]
    assert files[0].partitions == {"date": dt.date(2024, 1, 1), "country": "NO"}
    typed = polars_avro.list_avro_files(
        str(table / "*" / "*" / "*.avro"), hive_partitioning=True, hive_schema={"date": pl.String, "country": pl.String}
    )
    assert typed[0].partitions == {"date": "2024-01-01", "country": "NO"}
    # Off by default, as a listing of files is: and for a glob unless asked, as in scan_avro.
    assert all(f.partitions == {} for f in polars_avro.list_avro_files(table))
    assert all(
        f.partitions == {}
        for f in polars_avro.list_avro_files(str(table / "*" / "*" / "*.avro"), hive_partitioning=None)
    )


def test_hive_partitioning_off(table: Path) -> None:
    assert pl.scan_avro(table, hive_partitioning=False).collect_schema().names() == ["v", "s"]


def test_a_glob_reads_partitions_below_its_first_wildcard(table: Path) -> None:
    df = pl.scan_avro(str(table / "date=*" / "*" / "*.avro"), hive_partitioning=True).collect()
    assert_frame_equal(df, _expected(table))
    # Without the flag a glob has none, as scan_parquet.
    assert pl.scan_avro(str(table / "*" / "*" / "*.avro")).collect_schema().names() == ["v", "s"]


def _both_formats(root: Path, folders: list[str]) -> None:
    """Record ``v=i`` in an Avro file under ``root/avro`` and a Parquet file under
    ``root/parquet``, each in the i-th of the hive `folders`."""
    for i, folder in enumerate(folders):
        _write(root / "avro" / folder / f"p{i}.avro", [i])
        (root / "parquet" / folder).mkdir(parents=True, exist_ok=True)
        pl.DataFrame({"v": [i], "s": [f"s{i}"]}).write_parquet(root / "parquet" / folder / f"p{i}.parquet")


def test_types_are_inferred_as_polars_infers_them(tmp_path: Path) -> None:
    folders = [
        "a=1/b=1.5/c=2024-01-01/d=x/e=true/f=2024-01-01%2010%3A00%3A00/g=__HIVE_DEFAULT_PARTITION__",
        "a=2/b=2/c=2024-01-02/d=y%20z/e=false/f=2024-01-02%2011%3A00%3A00/g=3",
    ]
    _both_formats(tmp_path, folders)
    ours = pl.scan_avro(tmp_path / "avro").collect()
    polars_own = pl.scan_parquet(tmp_path / "parquet").collect()
    assert_frame_equal(ours, polars_own)
    assert ours["d"].to_list() == ["x", "y z"]
    assert ours["g"].to_list() == [None, 3]


#: Partition values whose types were not Polars' ("+5", "nan", "Inf", "infinity" were
#: numbers here, strings for scan_parquet), and the spellings around them.
VALUES = ["+5", "nan", "NaN", "Inf", "inf", "-inf", "infinity", "1.", ".5", "+1.5", "1E3", "-0", "007", "TRUE", "t"]
#: What random partition values are made of.
PIECES = ["0", "7", "12", "-", "+", ".", "e", "E", "inf", "NaN", "nan", "Inf", "true", "False", "x", "_"]


def _random_values(seed: int) -> list[list[str | None]]:
    """Values of 24 partition keys over 3 files, each the same kind of value or a null."""
    rng = random.Random(seed)
    keys = []
    for _ in range(24):
        base = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3)))
        keys.append(
            [rng.choice([base, "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3))), None]) for _ in range(3)]
        )
    return keys


def _same_types_as_scan_parquet(tmp_path: Path, keys: list[list[str | None]]) -> None:
    spelled = [
        [f"k{j}={'__HIVE_DEFAULT_PARTITION__' if v[i] is None else v[i]}" for j, v in enumerate(keys)] for i in range(3)
    ]
    _both_formats(tmp_path, ["/".join(folders) for folders in spelled])
    for dates in (True, False):
        ours = pl.scan_avro(tmp_path / "avro", try_parse_hive_dates=dates).collect().sort("v")
        polars_own = pl.scan_parquet(tmp_path / "parquet", try_parse_hive_dates=dates).collect().sort("v")
        assert_frame_equal(ours, polars_own)


@pytest.mark.parametrize("seed", [None, 1, 2, 3], ids=["known", "seed 1", "seed 2", "seed 3"])
def test_values_are_typed_as_scan_parquet_types_them(tmp_path: Path, seed: int | None) -> None:
    """Partition values spelled many ways, typed as Polars types those of Parquet files."""
    keys = [[v, v, None] for v in VALUES] if seed is None else _random_values(seed)
    _same_types_as_scan_parquet(tmp_path, keys)


def test_values_of_a_fresh_seed_are_typed_as_scan_parquet_types_them(tmp_path: Path) -> None:
    seed = random.SystemRandom().randrange(10**9)
    try:
        _same_types_as_scan_parquet(tmp_path, _random_values(seed))
    except AssertionError as e:
        raise AssertionError(f"fresh seed {seed}: {e}") from None


#: Partition types a user may give (every key's: Polars' scans refuse a key the schema lacks).
HIVE_SCHEMAS: list[dict[str, pl.DataType]] = [
    {"a": pl.Int32(), "b": pl.String(), "c": pl.String(), "d": pl.Float32(), "e": pl.String()},
    {"a": pl.UInt8(), "b": pl.Date(), "c": pl.Categorical(), "d": pl.String(), "e": pl.Boolean()},
    {"a": pl.Int16(), "b": pl.Datetime("ms"), "c": pl.String(), "d": pl.Float32(), "e": pl.String()},
    {"a": pl.Int64(), "b": pl.String(), "c": pl.Enum(["x", "y z"]), "d": pl.Float64(), "e": pl.Boolean()},
]


@pytest.mark.parametrize("hive_schema", HIVE_SCHEMAS, ids=range(len(HIVE_SCHEMAS)))
def test_a_hive_schema_types_values_as_scan_parquet_types_them(
    tmp_path: Path, hive_schema: dict[str, pl.DataType]
) -> None:
    """The types the user gives, cast by the running Polars as its readers cast them."""
    folders = [
        "a=1/b=2024-01-01/c=x/d=1.5/e=true",
        "a=2/b=2024-01-02/c=y%20z/d=-2/e=FALSE",
        "a=3/b=__HIVE_DEFAULT_PARTITION__/c=x/d=0/e=false",
    ]
    _both_formats(tmp_path, folders)
    for dates in (True, False):
        options: dict[str, Any] = {"hive_schema": hive_schema, "try_parse_hive_dates": dates}
        ours = pl.scan_avro(tmp_path / "avro", **options).collect().sort("v")
        polars_own = pl.scan_parquet(tmp_path / "parquet", **options).collect().sort("v")
        assert_frame_equal(ours, polars_own, categorical_as_str=True)
    # A type Polars 1.30's scans cannot read a partition as (its CSV parser has no decimals).
    decimals = pl.scan_avro(tmp_path / "avro", hive_schema={**hive_schema, "d": pl.Decimal(10, 2)}).collect()
    assert decimals.sort("v")["d"].cast(pl.String).to_list() == ["1.50", "-2.00", "0.00"]


def test_hive_schema_and_date_parsing_options(table: Path) -> None:
    schema = pl.scan_avro(table, hive_schema={"date": pl.String, "country": pl.String}).collect_schema()
    assert schema["date"] == pl.String
    assert pl.scan_avro(table, try_parse_hive_dates=False).collect_schema()["date"] == pl.String
    with pytest.raises(polars_avro.AvroArgumentError, match="'country' cannot be read as Int64"):
        pl.scan_avro(table, hive_schema={"date": pl.Date, "country": pl.Int64})


def test_a_hive_schema_is_taken_as_polars_scans_take_it(table: Path, tmp_path: Path) -> None:
    """scan_parquet's rules, side by side over the same folders: a hive_schema names every
    partition key (a key beyond them is not used), turns partitioning on for a glob, and
    cannot be given with hive_partitioning=False."""
    parquet = tmp_path / "parquet"
    for path in table.rglob("*.avro"):
        target = parquet / path.relative_to(table).with_suffix(".parquet")
        target.parent.mkdir(parents=True, exist_ok=True)
        polars_avro.read_avro(path, hive_partitioning=False).write_parquet(target)
    full = {"date": pl.String, "country": pl.Categorical, "nope": pl.Int8}
    for pattern in ("", "*/*/*"):
        ours = pl.scan_avro(f"{table}/{pattern}", hive_schema=full).collect()
        theirs = pl.scan_parquet(f"{parquet}/{pattern}", hive_schema=full).collect()
        assert_frame_equal(ours.sort("v"), theirs.sort("v"), categorical_as_str=True)
        assert ours.columns == ["v", "s", "date", "country"]
    lacking = {"date": pl.String}
    with pytest.raises(pl.exceptions.SchemaFieldNotFoundError):
        pl.scan_parquet(parquet, hive_schema=lacking).collect()
    with pytest.raises(
        polars_avro.AvroSchemaFieldNotFoundError,
        match=r"hive_schema lacks the partition key 'country' of '.*part-0.avro'",
    ):
        pl.scan_avro(table, hive_schema=lacking)
    with pytest.raises(pl.exceptions.ComputeError, match="hive schema was given but hive_partitioning was disabled"):
        pl.scan_parquet(parquet, hive_schema=full, hive_partitioning=False).collect()
    with pytest.raises(pl.exceptions.ComputeError, match="hive_schema was given, and hive_partitioning=False"):
        pl.scan_avro(table, hive_schema=full, hive_partitioning=False)
    with pytest.raises(polars_avro.AvroOptionConflictError):
        polars_avro.read_avro(table, hive_schema=full, hive_partitioning=False)


def test_a_partition_column_the_file_holds_takes_the_path_value(tmp_path: Path) -> None:
    _write(tmp_path / "v=7" / "p.avro", [1, 2])
    df = pl.scan_avro(tmp_path).collect()
    assert df.columns == ["v", "s"]
    assert df["v"].to_list() == [7, 7]
    assert df["s"].to_list() == ["s1", "s2"]


def test_a_filter_on_partitions_skips_files(table: Path) -> None:
    lf = pl.scan_avro(table)
    with polars_avro.read_stats() as stats:
        df = lf.filter(pl.col("date") > dt.date(2024, 1, 1), pl.col("country") == "PE").collect()
    assert (stats.files, stats.files_skipped) == ((2, 4) if RULES_OUT_FILES else (6, 0))
    expected = _expected(table).filter(pl.col("date") > dt.date(2024, 1, 1), pl.col("country") == "PE")
    assert_frame_equal(df, expected)


def test_a_filter_mixing_partitions_and_file_columns(table: Path) -> None:
    lf = pl.scan_avro(table, include_file_paths="path")
    with polars_avro.read_stats() as stats:
        df = lf.filter((pl.col("country") == "NO") & (pl.col("v") % 4 == 0)).collect()
    assert stats.files_skipped == (3 if RULES_OUT_FILES else 0)
    everything = lf.collect()
    assert_frame_equal(df, everything.filter((pl.col("country") == "NO") & (pl.col("v") % 4 == 0)))
    # `|` cannot rule a file out on its own; the rows are still right.
    with polars_avro.read_stats() as stats:
        either = lf.filter((pl.col("country") == "NO") | (pl.col("v") == 5)).collect()
    assert stats.files_skipped == 0
    assert_frame_equal(either, everything.filter((pl.col("country") == "NO") | (pl.col("v") == 5)))


def test_n_rows_counts_the_records_of_files_a_filter_rules_out(table: Path) -> None:
    # n_rows applies before the filter: the first 6 records, of which the PE ones.
    df = pl.scan_avro(table, n_rows=6).filter(pl.col("country") == "PE").collect()
    assert df["v"].to_list() == [2, 3]


def test_projection_of_partition_columns_only(table: Path) -> None:
    df = pl.scan_avro(table).select("country").collect()
    assert df["country"].to_list() == ["NO", "NO", "PE", "PE"] * 3


def test_files_with_different_partition_keys(tmp_path: Path) -> None:
    _write(tmp_path / "a=1" / "p.avro", [1])
    _write(tmp_path / "b=1" / "p.avro", [2])
    with pytest.raises(polars_avro.AvroArgumentError, match="every file needs the same partition folders"):
        pl.scan_avro(tmp_path)


def test_hive_partitioning_needs_paths(table: Path) -> None:
    data = (table / "date=2024-01-01" / "country=NO" / "part-0.avro").read_bytes()
    with pytest.raises(polars_avro.AvroArgumentError, match="hive_partitioning needs paths"):
        pl.scan_avro(data, hive_partitioning=True)


def test_file_urls_are_local_paths(table: Path) -> None:
    path = table / "date=2024-01-02" / "country=PE" / "part-0.avro"
    df = polars_avro.read_avro(path.as_uri())
    assert df["v"].to_list() == [6, 7]
    assert_frame_equal(pl.scan_avro(table.as_uri() + os.sep).collect(), _expected(table))


def test_the_row_index_counts_the_records_of_files_a_filter_rules_out(table: Path) -> None:
    lf = pl.scan_avro(table, row_index_name="nr", row_index_offset=100)
    with polars_avro.read_stats() as stats:
        df = lf.filter(pl.col("country") == "PE").collect()
    assert stats.files_skipped == 0  # opened to be counted, not decoded
    assert_frame_equal(df, lf.collect().filter(pl.col("country") == "PE"))
    assert df["nr"].to_list() == [102, 103, 106, 107, 110, 111]


def test_avro_reader_takes_the_hive_options(table: Path) -> None:
    with polars_avro.AvroReader(table, hive_schema={"date": pl.String, "country": pl.String}, batch_size=2) as reader:
        batches = list(reader)
    expected = _expected(table).with_columns(pl.col("date").cast(pl.String))
    assert_frame_equal(pl.concat(batches), expected)
    reader = polars_avro.AvroReader(table, try_parse_hive_dates=False)
    assert reader.schema["date"] == pl.String
