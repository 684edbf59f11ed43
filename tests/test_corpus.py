"""Interoperability: every Avro file of the shared arrow-testing corpus (written by
Apache Spark / Java) read by polars-avro and compared, value by value, with fastavro."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import avro_file_schema, fastavro_records, frame_mismatches

import polars_avro

CORPUS = Path(
    os.environ.get("POLARS_AVRO_CORPUS")
    or Path(__file__).resolve().parents[1].parent / "shared" / "avro-corpus" / "arrow-testing"
)
FILES = sorted(CORPUS.glob("*.avro")) if CORPUS.is_dir() else []


def _differences(path: Path) -> list[str]:
    """What differs between polars-avro's and fastavro's reading of ``path`` (empty when
    they agree); an exception from polars-avro is one difference."""
    try:
        df = polars_avro.read_avro(path)
    except Exception as e:  # noqa: BLE001 - reported as a difference
        return [f"read_avro raised {type(e).__name__}: {str(e).splitlines()[0]}"]
    return frame_mismatches(df, fastavro_records(path), avro_file_schema(path))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus_file(path: Path) -> None:
    df = polars_avro.read_avro(path)
    assert polars_avro.read_avro_schema(path) == df.schema
    problems = frame_mismatches(df, fastavro_records(path), avro_file_schema(path))
    assert not problems, f"{path.name} differs from fastavro:\n  " + "\n  ".join(problems)


def test_corpus_summary() -> None:
    """All corpus files read identically to fastavro (the count says how many did)."""
    if not FILES:
        pytest.skip(f"no Avro corpus at {CORPUS}")
    failed = {p.name: d for p in FILES if (d := _differences(p))}
    summary = f"{len(FILES) - len(failed)} of {len(FILES)} corpus files read identically to fastavro"
    details = "\n".join(f"  {name}: {d[0]}" for name, d in failed.items())
    assert not failed, f"{summary}; differing:\n{details}"
