"""Projection, n_rows, predicates and the streaming engine, checked against the same
query run by Polars on the fully read frame."""

from __future__ import annotations

import fastavro
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import polars_avro

SCHEMA = {
    "type": "record",
    "name": "Event",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "kind", "type": "string"},
        {"name": "score", "type": ["null", "double"]},
        {
            "name": "user",
            "type": {
                "type": "record",
                "name": "User",
                "fields": [
                    {"name": "name", "type": "string"},
                    {"name": "age", "type": ["null", "int"]},
                ],
            },
        },
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}
N = 5_000


def _record(i: int) -> dict:
    return {
        "id": i,
        "kind": ["click", "view", "buy", "yank", "zoom"][i % 5],
        "score": None if i % 7 == 0 else i / 10,
        "user": {"name": f"user{i % 13}", "age": None if i % 11 == 0 else 20 + i % 50},
        "tags": [f"t{j}" for j in range(i % 3)],
    }


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("pushdown") / "events.avro"
    with path.open("wb") as f:
        # Small blocks: many blocks per batch and batches that end mid-file.
        fastavro.writer(f, SCHEMA, (_record(i) for i in range(N)), codec="deflate", sync_interval=4_000)
    return str(path)


@pytest.fixture(scope="module")
def full(events: str) -> pl.DataFrame:
    df = polars_avro.read_avro(events)
    assert df.height == N
    assert df["id"].to_list() == list(range(N))
    return df


PREDICATES = {
    "gt": pl.col("id") > 4_321,
    "and": (pl.col("id") > 100) & pl.col("kind").str.contains("y|z"),
    "or": (pl.col("id") < 10) | (pl.col("kind") == "buy"),
    "is_in": pl.col("kind").is_in(["view", "zoom"]),
    "is_null": pl.col("score").is_null(),
    "nested": pl.col("user").struct.field("age") > 60,
    "nested_null": pl.col("user").struct.field("age").is_null() & (pl.col("id") % 2 == 0),
    "string_fn": pl.col("kind").str.starts_with("c") & pl.col("user").struct.field("name").str.ends_with("3"),
    "list": pl.col("tags").list.len() == 2,
    "none_pass": pl.col("id") < 0,
}


@pytest.mark.parametrize("name", PREDICATES)
@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_predicate_matches_polars(events: str, full: pl.DataFrame, name: str, engine: str) -> None:
    predicate = PREDICATES[name]
    got = pl.scan_avro(events).filter(predicate).collect(engine=engine)
    assert_frame_equal(got, full.filter(predicate))


@pytest.mark.parametrize("engine", ["in-memory", "streaming"])
def test_predicate_on_column_not_selected(events: str, full: pl.DataFrame, engine: str) -> None:
    query = lambda lf: lf.filter(pl.col("score") > 300).select("kind", "id")  # noqa: E731
    got = query(pl.scan_avro(events)).collect(engine=engine)
    assert_frame_equal(got, query(full.lazy()).collect())


def test_projection_order_and_subset(events: str, full: pl.DataFrame) -> None:
    got = pl.scan_avro(events).select("tags", "id").collect()
    assert_frame_equal(got, full.select("tags", "id"))
    assert polars_avro.read_avro(events, columns=["user", "kind"]).columns == ["user", "kind"]
    by_index = polars_avro.read_avro(events, columns=[4, 0])
    assert_frame_equal(by_index, full.select("tags", "id"))


def test_every_entry_point_gives_the_columns_in_the_order_asked(events: str, full: pl.DataFrame) -> None:
    # Not the file's order, over many batches and splits: each batch comes in the order asked.
    order = ["tags", "user", "id"]
    expected = full.select(order)
    assert_frame_equal(pl.scan_avro(events).select(order).collect(), expected)
    assert_frame_equal(polars_avro.read_avro(events, columns=order), expected)
    with polars_avro.AvroReader(events, columns=order, batch_size=700) as reader:
        assert list(reader.schema) == order
        batches = list(reader)
    assert len(batches) > 2 and all(b.columns == order for b in batches)
    assert_frame_equal(pl.concat(batches), expected)
    splits = polars_avro.plan_splits(events, target_bytes=20_000)
    parts = [df for split in splits for df in polars_avro.read_split(split, columns=order, batch_size=700)]
    assert len(splits) > 2 and all(p.columns == order for p in parts)
    assert_frame_equal(pl.concat(parts), expected)


def test_unknown_column_is_a_clear_error(events: str) -> None:
    with pytest.raises(polars_avro.AvroArgumentError, match="nope"):
        polars_avro.read_avro(events, columns=["nope"])


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1001, N, N + 10])
def test_n_rows(events: str, full: pl.DataFrame, n: int) -> None:
    assert_frame_equal(polars_avro.read_avro(events, n_rows=n), full.head(n))


def test_head_and_slice_pushdown(events: str, full: pl.DataFrame) -> None:
    assert_frame_equal(pl.scan_avro(events).head(7).collect(), full.head(7))
    assert_frame_equal(
        pl.scan_avro(events).filter(pl.col("kind") == "buy").head(5).collect(),
        full.filter(pl.col("kind") == "buy").head(5),
    )


def test_count_rows(events: str) -> None:
    assert pl.scan_avro(events).select(pl.len()).collect().item() == N


def test_row_index_with_predicate(events: str, full: pl.DataFrame) -> None:
    got = (
        polars_avro.scan_avro(events, row_index_name="idx", row_index_offset=10)
        .filter((pl.col("idx") % 1000 == 0) | (pl.col("kind") == "zoom") & (pl.col("id") > 4_900))
        .collect()
    )
    expected = full.with_row_index("idx", offset=10).filter(
        (pl.col("idx") % 1000 == 0) | (pl.col("kind") == "zoom") & (pl.col("id") > 4_900)
    )
    assert_frame_equal(got, expected)
    assert got.columns[0] == "idx"


@pytest.fixture(scope="module")
def many_blocks(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Snappy blocks of about 16 KB, 790 KB in all: a filtered batch is decoded a
    group of blocks at a time (128 KiB of them), the groups' rows joined in the batch."""
    path = tmp_path_factory.mktemp("groups") / "groups.avro"
    with path.open("wb") as f:
        fastavro.writer(f, SCHEMA, (_record(i) for i in range(60_000)), codec="snappy", sync_interval=16_000)
    assert path.stat().st_size > 4 * (128 << 10)
    return str(path)


@pytest.mark.parametrize("name", PREDICATES)
def test_a_filter_over_groups_of_blocks_matches_polars(many_blocks: str, name: str) -> None:
    # The row index read by the filter, the path column not: each group makes both.
    scan = lambda **kw: polars_avro.scan_avro(many_blocks, row_index_name="idx", include_file_paths="path", **kw)  # noqa: E731
    full = scan().collect()
    predicate = PREDICATES[name] | (pl.col("idx") % 1_000 == 7)
    for threads in (1, 2):
        got = scan(n_threads=threads).filter(predicate).collect()
        assert_frame_equal(got, full.filter(predicate))
        assert got.columns[:2] == ["idx", "id"]
    # One batch on one thread: its groups joined into one chunk a column.
    got = scan(n_threads=1).filter(predicate).collect()
    assert [column.n_chunks() for column in got.get_columns()] == [1] * got.width


def test_batch_size_controls_batches_not_results(events: str, full: pl.DataFrame) -> None:
    for batch_size in (1, 100, 10**6):
        assert_frame_equal(polars_avro.read_avro(events, batch_size=batch_size), full)


def test_streaming_sink_parquet(events: str, full: pl.DataFrame, tmp_path) -> None:
    out = tmp_path / "out.parquet"
    pl.scan_avro(events).filter(pl.col("id") % 3 == 0).select("id", "user").sink_parquet(out)
    assert_frame_equal(pl.read_parquet(out), full.filter(pl.col("id") % 3 == 0).select("id", "user"))


def test_predicate_errors_reach_the_user(events: str) -> None:
    with pytest.raises(pl.exceptions.PolarsError):
        pl.scan_avro(events).filter(pl.col("kind").cast(pl.Int64) > 1).collect()
