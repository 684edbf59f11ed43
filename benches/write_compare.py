"""Side-by-side write benchmark: polars-avro (this package) against Polars' own
DataFrame.write_avro, polars-avro from PyPI, rugo, DuckDB (its avro extension) and fastavro,
writing the same frames.

The frames are the read benchmark's datasets (workloads.py), read once by this package and
saved as Parquet, with time zones dropped from datetimes: DataFrame.write_avro cannot write
zoned ones at all. Every measurement is a fresh process (write_child.py) that reads the
frame, writes once untimed, then times one write; writers take turns within each round, and
the median of --runs rounds is reported. Every file written is read back by this package and
its per-column checksums compared with the frame's, so a fast writer that loses values shows.

    python benches/write_compare.py [--rows 1000000] [--runs 5] [--workloads NAME ...]
        [--skip KEY ...] [--out benches/results]

Writes the table to OUT/write-latest.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl
from child import checksums
from compare import (
    DUCKDB_CONNECTION,
    TIMEOUT,
    common_arguments,
    cpu_model,
    fmt_mb,
    fmt_ms,
    fmt_ratio,
    pypi_python,
    table,
)
from workloads import DATA, DATASETS

import polars_avro

HERE = Path(__file__).parent
FRAMES = DATA / "frames"


@dataclass(frozen=True)
class Writer:
    key: str
    name: str
    setup: str
    #: The statement per codec; a codec the writer lacks is missing.
    statements: dict[str, str]
    dists: list[str]
    python: object = None


def codecs(template: str, names: dict[str, str]) -> dict[str, str]:
    return {codec: template.format(codec=name) for codec, name in names.items()}


ALL = {"null": "null", "snappy": "snappy", "deflate": "deflate", "zstandard": "zstandard"}
# rugo writes a draken Morsel: the frame reaches it through rugo's own Parquet reader,
# untimed as reading the frame is for the others, and the file's bytes come back.
RUGO_SETUP = """
import draken, rugo.avro, rugo.parquet
with rugo.parquet.read_parquet(FRAME) as reader:
    MORSEL = draken.Morsel.combine(list(reader))
"""
# DuckDB writes the frame registered as a table (Arrow, no copy) with COPY, null codec only;
# its avro extension is LOADed from the duckdb-extension-avro wheel, as in compare.py.
DUCKDB_SETUP = DUCKDB_CONNECTION + 'connection.register("frame", DF)\n'
OURS = Writer(
    "ours",
    "polars-avro (this)",
    "import polars_avro",
    codecs("polars_avro.write_avro(DF, OUT, compression={codec!r})", {**ALL, "null": "uncompressed"}),
    ["polars-avro"],
)
WRITERS = {
    w.key: w
    for w in [
        OURS,
        Writer(
            "pl",
            "DataFrame.write_avro",
            "",
            codecs(
                "DF.write_avro(OUT, compression={codec!r})",
                {"null": "uncompressed", "snappy": "snappy", "deflate": "deflate"},
            ),
            [],
        ),
        Writer(
            "pypi",
            "polars-avro (PyPI)",
            "import polars_avro",
            codecs(
                "polars_avro.write_avro(DF, OUT, codec={codec})",
                {
                    "null": "None",
                    "snappy": "polars_avro.Codec.Snappy",
                    "deflate": "polars_avro.Codec.Deflate",
                    "zstandard": "polars_avro.Codec.Zstandard",
                },
            ),
            ["polars-avro"],
            pypi_python,
        ),
        Writer(
            "rugo",
            "rugo",
            RUGO_SETUP,
            codecs("with open(OUT, 'wb') as f: f.write(rugo.avro.write_avro(MORSEL, codec={codec!r}))", ALL),
            ["rugo"],
        ),
        Writer(
            "duckdb",
            "DuckDB",
            DUCKDB_SETUP,
            {"null": "connection.execute(f\"COPY frame TO '{OUT}' (FORMAT avro)\")"},
            ["duckdb", "duckdb-extension-avro"],
        ),
        # Rows go to fastavro as dicts, as a Polars user would hand them over.
        Writer(
            "fastavro",
            "fastavro",
            "import fastavro",
            codecs(
                "with open(OUT, 'wb') as f: fastavro.writer(f, SCHEMA, DF.iter_rows(named=True), codec={codec!r})", ALL
            ),
            ["fastavro"],
        ),
    ]
}

WORKLOADS = {
    **{f"primitives-{codec}": ("primitives-snappy", codec) for codec in ALL},
    "wide-100": ("wide-100", "snappy"),
    "nulls-30pct": ("nulls-30pct", "snappy"),
    "nested": ("nested", "snappy"),
    "logical": ("logical", "snappy"),
}


@dataclass
class Outcome:
    reports: list[dict] = field(default_factory=list)
    failure: str | None = None
    different: list[str] = field(default_factory=list)

    @property
    def ms(self) -> float:
        return statistics.median(r["seconds"] for r in self.reports) * 1000

    @property
    def valid(self) -> bool:
        return self.failure is None and not self.different and bool(self.reports)


def frame_for(dataset: str, rows: int) -> tuple[Path, Path, dict[str, str]]:
    """The dataset as a Parquet frame, the Avro schema our writer derives for it (fastavro
    needs one), and the frame's checksums."""
    FRAMES.mkdir(parents=True, exist_ok=True)
    frame = FRAMES / f"{dataset}-{rows}.parquet"
    schema = FRAMES / f"{dataset}-{rows}.schema.json"
    df = polars_avro.read_avro(DATASETS[dataset].write(rows))
    df = df.with_columns(
        pl.col(c).dt.replace_time_zone(None)
        for c, t in df.schema.items()
        if isinstance(t, pl.Datetime) and t.time_zone is not None
    )
    df.write_parquet(frame)
    probe = FRAMES / "probe.avro"
    polars_avro.write_avro(df.head(1), probe)
    schema.write_text(polars_avro.read_avro_header(probe).schema_json)
    return frame, schema, checksums(df)


def measure(writer: Writer, codec: str, frame: Path, schema: Path, python: str) -> dict:
    out = DATA / f"written-{writer.key}.avro"
    out.unlink(missing_ok=True)  # see write_child.py: every timed write makes a new file
    spec = {
        "frame": str(frame),
        "schema": str(schema),
        "out": str(out),
        "setup": writer.setup,
        "statement": writer.statements[codec],
        "dists": writer.dists,
    }
    try:
        done = subprocess.run(
            [python, "-I", str(HERE / "write_child.py"), json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=DATA,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {TIMEOUT} s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise RuntimeError(lines[-1].strip() if lines else f"exit status {done.returncode}")
    report = json.loads(done.stdout.splitlines()[-1])
    back = polars_avro.read_avro(out)
    report["rows"] = back.height
    report["checksums"] = checksums(back)
    return report


def run_workload(name: str, writers: list[Writer], pythons: dict[str, str], args) -> dict[str, Outcome]:
    dataset, codec = WORKLOADS[name]
    frame, schema, expected = frame_for(dataset, args.rows)
    outcomes = {w.key: Outcome() for w in writers}
    for run in range(args.runs):
        print(f"{name}: round {run + 1}/{args.runs}", file=sys.stderr, flush=True)
        for writer in writers:
            outcome = outcomes[writer.key]
            if outcome.failure or codec not in writer.statements:
                continue
            try:
                report = measure(writer, codec, frame, schema, pythons[writer.key])
            except Exception as e:  # a writer failing, or its file failing to read back
                outcome.failure = str(e).splitlines()[0]
                continue
            outcome.reports.append(report)
            found = [c for c in expected if report["checksums"].get(c) != expected[c]]
            outcome.different += [c for c in found if c not in outcome.different]
    return outcomes


def cell(outcome: Outcome, ours: Outcome, has_codec: bool) -> str:
    if not has_codec:
        return "no such codec"
    if outcome.failure:
        return "failed"
    if outcome.different:
        return f"wrong values ({fmt_ms(outcome.ms)})"
    if not outcome.reports:
        return ""
    return f"{fmt_ms(outcome.ms)} ({fmt_ratio(outcome.ms / ours.ms)})" if ours.valid else fmt_ms(outcome.ms)


def report(results: dict[str, dict[str, Outcome]], writers: list[Writer], args) -> str:
    anchors = writers[1:]
    versions: dict[str, dict] = {}
    for outcomes in results.values():
        for w in writers:
            if outcomes[w.key].reports:
                versions.setdefault(w.key, outcomes[w.key].reports[0]["versions"])
    described = [f"{w.name} {versions[w.key][w.dists[0]]}" for w in writers if w.dists and w.key in versions]
    polars = versions.get(OURS.key, {}).get("polars", "?")
    lines = [
        "# Avro write benchmark",
        "",
        f"{datetime.date.today()}: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()}; polars {polars}; "
        f"{', '.join(described)}; --rows {args.rows:,}; median of {args.runs} runs, each a fresh process.",
        "",
        "Anchor cells: median time (its time / ours; above 1 ours is faster). Every file is read back "
        "and its values checked against the frame.",
        "",
    ]
    rows = []
    for name, outcomes in results.items():
        codec = WORKLOADS[name][1]
        ours = outcomes[OURS.key]
        valid = [(outcomes[w.key].ms, w.name) for w in anchors if outcomes[w.key].valid]
        fastest = f"{fmt_ratio(min(valid)[0] / ours.ms)} ({min(valid)[1]})" if valid and ours.valid else ""
        size = fmt_mb(ours.reports[-1]["file_mb"]) if ours.reports else ""
        rows.append(
            [
                name,
                "failed" if ours.failure else f"{ours.ms:,.1f}",
                *(cell(outcomes[w.key], ours, codec in w.statements) for w in anchors),
                fastest,
                size,
            ]
        )
    lines += table(
        rows, ["workload", "ours (ms)", *(w.name for w in anchors), "fastest anchor / ours (ratio)", "our file"]
    )
    notes = [
        f"- {w.name} on {name}: "
        + (f"failed: `{o.failure}`" if o.failure else f"DIFFERENT values in {', '.join(o.different)}")
        for name, outcomes in results.items()
        for w in writers
        for o in [outcomes[w.key]]
        if o.failure or o.different
    ]
    if notes:
        lines += ["", "## Failures and wrong values", "", *notes]
    lines += ["", "## Statements (timed; reading the frame and the imports are not)", ""]
    lines += table(
        [[w.name, f"`{next(iter(w.statements.values()))}`"] for w in writers], ["writer", "statement (first codec)"]
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser, list(WORKLOADS))
    choice = [k for k in WRITERS if k != OURS.key]
    parser.add_argument("--skip", nargs="+", choices=choice, default=[], metavar="KEY", help="anchors to leave out")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where write-latest.md goes")
    args = parser.parse_args()

    writers = [OURS, *(WRITERS[k] for k in choice if k not in args.skip)]
    if args.baseline:
        writers.insert(1, replace(OURS, key="baseline", name="polars-avro (baseline)", python=lambda: args.baseline))
    pythons = {w.key: w.python() if w.python else sys.executable for w in writers}
    results = {name: run_workload(name, writers, pythons, args) for name in args.workloads}
    text = report(results, writers, args)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "write-latest.md").write_text(text)
    print(f"wrote {args.out / 'write-latest.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
