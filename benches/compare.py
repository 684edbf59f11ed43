"""Side-by-side read benchmark: polars-avro (this package) against rugo, jetliner, polars-avro
from PyPI, Polars' own pl.read_avro, DataFusion, DuckDB (its avro extension) and chdb
(ClickHouse), over the workloads of workloads.py; ours and rugo also pinned to one core.

Every measurement is a fresh process (child.py) that imports and runs the statement once,
untimed, then times it. Within each round the readers take turns on a workload; the median of --runs
rounds is reported. Each reader runs the query in its own best way: the scanners through a
LazyFrame (so projection, predicate and row limit reach the reader), pl.read_avro with its
columns= and n_rows= arguments and an eager filter, the SQL engines with a query (SELECT
columns, WHERE, LIMIT, count(*)) whose Arrow result becomes a Polars frame, as a user would
convert it. Every result's values are checked
against ours; a reader whose values differ is shown but is never the "fastest anchor".

Beside the readers, each workload's floor (benches/floor.rs, built with cargo): the blocks
read and decompressed, and the records decoded by a decoder written for the file's shape,
on one core and on every core; the table gives ours / floor for both, and a second table
each one's speed-up from one core to every core, with (--model) the speed-up benches/serial.py
projects for a whole read of the file on 16 threads.

    python benches/compare.py [--rows 1000000] [--runs 5] [--workloads NAME ...]
        [--readers KEY ... | --skip KEY ...] [--with-fastavro] [--no-floor] [--baseline PYTHON]
        [--model] [--out benches/results]

Writes the table to OUT/latest.md and a chart to OUT/latest.png.
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
import venv
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from workloads import DATA, WORKLOADS, Workload

HERE = Path(__file__).parent
PYPI_VENV = DATA / "venv-pypi-polars-avro"
#: Seconds one measurement may take before it counts as failed.
TIMEOUT = 600


def pypi_python(*extra: str) -> str:
    """The Python of a venv holding polars-avro from PyPI, which shares our import name, and
    the `extra` packages a benchmark's child needs beside it."""
    python = PYPI_VENV / "bin" / "python"
    if not python.exists():
        venv.create(PYPI_VENV, with_pip=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "polars-avro==0.13.0"], check=True)
    if extra:
        subprocess.run([python, "-m", "pip", "install", "-q", *extra], check=True)
    return str(python)


def scanner(module: str) -> dict[str, str]:
    """The statements of a reader with read_avro and a lazy scan_avro, for each kind of query."""
    return {
        "read": f"{module}.read_avro(PATH)",
        "select": f"{module}.scan_avro(PATH).select(COLUMNS).collect()",
        "filter": f"{module}.scan_avro(PATH).filter(PREDICATE).collect()",
        "head": f"{module}.scan_avro(PATH).head(N).collect()",
        "first": f"{module}.read_avro(PATH, n_rows=N)",
        "streaming": f"{module}.scan_avro(PATH).collect(engine='streaming')",
        "count": f"{module}.scan_avro(PATH).select(pl.len()).collect()",
    }


#: The SQL engines' statements: what a user of each writes, the result converted to Polars.
SQL_STATEMENTS = {
    "read": 'sql_frame(PATH, "SELECT * FROM t")',
    "select": 'sql_frame(PATH, "SELECT " + ", ".join(f\'"{c}"\' for c in COLUMNS) + " FROM t")',
    "filter": 'sql_frame(PATH, "SELECT * FROM t WHERE " + WHERE)',
    "head": 'sql_frame(PATH, f"SELECT * FROM t LIMIT {N}")',
    "first": 'sql_frame(PATH, f"SELECT * FROM t LIMIT {N}")',
    "streaming": 'sql_frame(PATH, "SELECT * FROM t")',
    "count": 'sql_frame(PATH, "SELECT count(*) AS len FROM t")',
}
DATAFUSION_SETUP = """
import datafusion
def sql_frame(path, sql):
    ctx = datafusion.SessionContext()
    ctx.register_avro("t", path)
    return pl.from_arrow(ctx.sql(sql).to_arrow_table())
"""
# DuckDB cannot download its avro extension here: it is LOADed by path from its PyPI wheel,
# once per process, as a program reading many files would.
DUCKDB_CONNECTION = """
import glob, os
import duckdb, duckdb_extension_avro
extensions = os.path.join(os.path.dirname(duckdb_extension_avro.__file__), "extensions")
connection = duckdb.connect()
connection.execute(f"LOAD '{glob.glob(os.path.join(extensions, '*', 'avro.duckdb_extension'))[0]}'")
"""
DUCKDB_SETUP = (
    DUCKDB_CONNECTION
    + """
def sql_frame(path, sql):
    return connection.sql(sql.replace(" FROM t", f" FROM read_avro('{path}')")).pl()
"""
)
# rugo yields batches of whole blocks as Arrow tables: a user concatenates them in Polars,
# stops once a limit is reached, and filters in Polars (rugo takes no predicate).
RUGO_SETUP = """
import rugo.avro
def rugo_frame(path, columns=None, n_rows=None):
    frames, rows = [], 0
    with rugo.avro.read_avro(path, columns=columns, max_threads=THREADS) as reader:
        for batch in reader:
            frames.append(pl.from_arrow(batch.to_arrow()))
            rows += batch.num_rows
            if n_rows is not None and rows >= n_rows:
                break
    frame = pl.concat(frames)
    return frame if n_rows is None else frame.head(n_rows)
def rugo_count(path):
    with rugo.avro.read_avro(path, columns=[], max_threads=THREADS) as reader:
        return pl.DataFrame({"len": [sum(batch.num_rows for batch in reader)]})
"""
RUGO_STATEMENTS = {
    "read": "rugo_frame(PATH)",
    "select": "rugo_frame(PATH, COLUMNS)",
    "filter": "rugo_frame(PATH).filter(PREDICATE)",
    "head": "rugo_frame(PATH, n_rows=N)",
    "first": "rugo_frame(PATH, n_rows=N)",
    "streaming": "rugo_frame(PATH)",
    "count": "rugo_count(PATH)",
}
# ClickHouse reads a file through its file() table function.
CHDB_SETUP = """
import chdb
def sql_frame(path, sql):
    return pl.from_arrow(chdb.query(sql.replace(" FROM t", f" FROM file('{path}', Avro)"), "ArrowTable"))
"""


@dataclass(frozen=True)
class Reader:
    """A reader: the imports (untimed), a statement per kind of query, the distributions whose
    versions to report, and the Python to run it with (None: this one)."""

    key: str
    name: str
    setup: str
    statements: dict[str, str]
    dists: list[str]
    python: Callable[[], str] | None = None
    #: Pinned to one core (`taskset -c 0`, POLARS_MAX_THREADS=1): not a peer of the
    #: readers that use every core, but of its own kind.
    pinned: bool = False


def one_core(reader: Reader) -> Reader:
    return replace(reader, key=f"{reader.key}1", name=f"{reader.name}, 1 core", pinned=True)


OURS = Reader("ours", "polars-avro (this)", "import polars_avro", scanner("polars_avro"), ["polars-avro"])
RUGO = Reader("rugo", "rugo", RUGO_SETUP.replace("THREADS", "0"), RUGO_STATEMENTS, ["rugo"])
READERS = {
    r.key: r
    for r in [
        OURS,
        one_core(OURS),
        RUGO,
        one_core(replace(RUGO, setup=RUGO_SETUP.replace("THREADS", "1"))),
        Reader("jetliner", "jetliner", "import jetliner", scanner("jetliner"), ["jetliner"]),
        Reader(
            "pypi", "polars-avro (PyPI)", "import polars_avro", scanner("polars_avro"), ["polars-avro"], pypi_python
        ),
        # Polars' reader has no scan: columns= and n_rows= are its pushdowns, the filter is eager,
        # and the streaming engine has nothing to stream from, so that query is a plain read.
        Reader(
            "pl",
            "pl.read_avro",
            "",
            {
                "read": "pl.read_avro(PATH)",
                "select": "pl.read_avro(PATH, columns=COLUMNS)",
                "filter": "pl.read_avro(PATH).filter(PREDICATE)",
                "head": "pl.read_avro(PATH, n_rows=N)",
                "first": "pl.read_avro(PATH, n_rows=N)",
                "streaming": "pl.read_avro(PATH)",
                "count": "pl.read_avro(PATH).select(pl.len())",
            },
            [],
        ),
        Reader("datafusion", "DataFusion", DATAFUSION_SETUP, SQL_STATEMENTS, ["datafusion"]),
        Reader("duckdb", "DuckDB", DUCKDB_SETUP, SQL_STATEMENTS, ["duckdb", "duckdb-extension-avro"]),
        Reader("chdb", "chdb", CHDB_SETUP, SQL_STATEMENTS, ["chdb"]),
        # An independent check of the values (--with-fastavro); slow, its rows are built in Python.
        Reader(
            "fastavro",
            "fastavro",
            "",
            {
                "read": "fastavro_frame(PATH)",
                "select": "fastavro_frame(PATH).select(COLUMNS)",
                "filter": "fastavro_frame(PATH).filter(PREDICATE)",
                "head": "fastavro_frame(PATH, n_rows=N)",
                "first": "fastavro_frame(PATH, n_rows=N)",
                "streaming": "fastavro_frame(PATH)",
                "count": "fastavro_frame(PATH).select(pl.len())",
            },
            ["fastavro"],
        ),
    ]
}


@dataclass
class Outcome:
    """What the runs of one reader on one workload gave."""

    reports: list[dict] = field(default_factory=list)  # per run: seconds, memory, rows, checksums...
    failure: str | None = None
    different: list[str] = field(default_factory=list)  # what differs from ours (our first run)
    reordered: bool = False  # the same rows as ours in another order

    @property
    def ms(self) -> float:
        return statistics.median(r["seconds"] for r in self.reports) * 1000

    @property
    def rss_delta_mb(self) -> float:
        return statistics.median(r["rss_delta_mb"] for r in self.reports)

    @property
    def valid(self) -> bool:
        return self.failure is None and not self.different and bool(self.reports)


def measure(reader: Reader, workload: Workload, path: Path, python: str) -> dict:
    """One fresh process reading `path` with `reader`; its report, or a RuntimeError."""
    spec = {
        "path": str(path),
        "setup": reader.setup,
        "statement": reader.statements[workload.query],
        "params": workload.params,
        "dists": reader.dists,
    }
    # -I and a cwd outside the source tree: neither PYTHONPATH nor the uninstalled polars_avro/
    # of the checkout may shadow the reader's installed package.
    command = [python, "-I", str(HERE / "child.py"), json.dumps(spec)]
    env = None
    if reader.pinned:
        command = ["taskset", "-c", "0", *command]
        env = {**os.environ, "POLARS_MAX_THREADS": "1"}
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=DATA, env=env)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"timed out after {TIMEOUT} s") from None
    if out.returncode != 0:
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        raise RuntimeError(lines[-1].strip() if lines else f"exit status {out.returncode}")
    return json.loads(out.stdout.splitlines()[-1])


def floor_binary(bench: str = "floor") -> str | None:
    """The executable of a floor (benches/floor.rs, benches/write_floor.rs), built now; None
    where cargo is missing."""
    command = ["cargo", "bench", "--bench", bench, "--no-run", "--message-format=json"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"no floor: {e}", file=sys.stderr)
        return None
    for line in out.stdout.splitlines():
        message = json.loads(line)
        if message.get("target", {}).get("name") == bench and message.get("executable"):
            return message["executable"]
    return None


@dataclass
class Floor:
    """A workload's floor, in median milliseconds: on one core (pinned) and on every core."""

    one_core: float | None = None
    all_cores: float | None = None
    failure: str | None = None


def measure_floor(workload: Workload, path: Path, binary: str) -> Floor:
    """The floor of `workload`, each value checked by the floor against ours first."""
    param = []
    if workload.query == "select":
        param = [",".join(eval(workload.params["COLUMNS"]))]  # noqa: S307 - our own workload
    elif workload.query in ("head", "first"):
        param = [workload.params["N"]]
    command = [binary, str(path), workload.dataset.shape, workload.query, *param]
    times = []
    for pin, threads in ((["taskset", "-c", "0"], 1), ([], os.cpu_count() or 1)):
        run = [*pin, *command, "--threads", str(threads)]
        out = subprocess.run(run, capture_output=True, text=True, timeout=TIMEOUT)
        if out.returncode != 0:
            lines = [line for line in out.stderr.splitlines() if line.strip()]
            return Floor(failure=lines[-1] if lines else f"exit status {out.returncode}")
        times.append(json.loads(out.stdout.splitlines()[-1])["floor_ms"][str(threads)])
    return Floor(one_core=times[0], all_cores=times[1])


def compare_values(outcome: Outcome, reference: dict) -> None:
    """Note the row count or the columns in which any run of `outcome` differs from `reference`
    (our first run: so ours is checked for values that change from run to run)."""
    for report in outcome.reports:
        if report["rows"] != reference["rows"]:
            found = [f"rows ({report['rows']:,} instead of {reference['rows']:,})"]
        else:
            mine, theirs = reference["checksums"], report["checksums"]
            found = [c for c in dict.fromkeys([*mine, *theirs]) if mine.get(c) != theirs.get(c)]
            if found and mine.get("*rows") == theirs.get("*rows"):
                outcome.reordered, found = True, []
            found = [c for c in found if c != "*rows"]
        outcome.different += [c for c in found if c not in outcome.different]


def run_workload(
    workload: Workload, readers: list[Reader], pythons: dict[str, str], floor: str | None, args
) -> tuple[dict[str, Outcome], Floor | None]:
    path = workload.dataset.write(args.rows)
    outcomes = {r.key: Outcome() for r in readers}
    for run in range(args.runs):
        print(f"{workload.name}: round {run + 1}/{args.runs}", file=sys.stderr, flush=True)
        for reader in readers:
            outcome = outcomes[reader.key]
            if outcome.failure:
                continue
            try:
                report = measure(reader, workload, path, pythons[reader.key])
            except RuntimeError as e:
                outcome.failure = str(e)
                continue
            outcome.reports.append(report)
    if outcomes[OURS.key].reports:
        for outcome in outcomes.values():
            compare_values(outcome, outcomes[OURS.key].reports[0])
    if floor is None:
        return outcomes, None
    print(f"{workload.name}: floor", file=sys.stderr, flush=True)
    return outcomes, measure_floor(workload, path, floor)


# --- the report ---------------------------------------------------------------------------


def fmt_ms(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"


def fmt_ratio(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio < 1 else f"{ratio:.1f}x"


def fmt_mb(mb: float) -> str:
    return f"{mb:.1f} MB" if mb < 10 else f"{mb:,.0f} MB"


def anchor_cell(outcome: Outcome, ours: Outcome) -> str:
    if outcome.failure:
        return "failed"
    time = fmt_ms(outcome.ms)
    if outcome.different:
        return f"wrong values ({time})"
    return f"{time} ({fmt_ratio(outcome.ms / ours.ms)})" if ours.valid else time


def fastest_anchor_cell(outcomes: dict[str, Outcome], readers: list[Reader]) -> str:
    ours = outcomes[OURS.key]
    valid = [(outcomes[r.key].ms, r.name) for r in readers[1:] if outcomes[r.key].valid and not r.pinned]
    if not ours.valid or not valid:
        return ""
    ms, name = min(valid)
    return f"{fmt_ratio(ms / ours.ms)} ({name})"


def one_core_cell(outcomes: dict[str, Outcome]) -> str:
    """rugo's time over ours, both pinned to one core."""
    ours, rugo = outcomes.get(one_core(OURS).key), outcomes.get(one_core(RUGO).key)
    if not (ours and rugo and ours.valid and rugo.valid):
        return ""
    return f"{fmt_ms(ours.ms)} vs {fmt_ms(rugo.ms)} ({fmt_ratio(rugo.ms / ours.ms)})"


def floor_cell(floor: Floor | None, outcomes: dict[str, Outcome]) -> str:
    """The floor on one core and on every core, and ours over it (1 is the floor)."""
    if floor is None:
        return ""
    if floor.failure:
        return f"failed: `{floor.failure}`"
    ours, ours1 = outcomes[OURS.key], outcomes.get(one_core(OURS).key)
    cells = []
    for name, ms, mine in (("1 core", floor.one_core, ours1), ("all", floor.all_cores, ours)):
        ratio = f" ({fmt_ratio(mine.ms / ms)})" if mine and mine.valid and ms else ""
        cells.append(f"{name} {fmt_ms(ms)}{ratio}" if ms is not None else "")
    return ", ".join(cells)


def speed_up_row(name: str, floor: Floor | None, outcomes: dict[str, Outcome], projected: float | None) -> list[str]:
    """Ours and the floor on one core and on every core, each one's speed-up, ours' share of
    the floor's, and the speed-up serial.py projects on 16 threads."""
    ours, ours1 = outcomes[OURS.key], outcomes.get(one_core(OURS).key)
    mine = (ours1.ms, ours.ms) if ours1 and ours1.valid and ours.valid else (None, None)
    floors = (floor.one_core, floor.all_cores) if floor and not floor.failure else (None, None)
    ours_up = mine[0] / mine[1] if mine[0] and mine[1] else None
    floor_up = floors[0] / floors[1] if floors[0] and floors[1] else None
    share = f"{ours_up / floor_up:.2f}" if ours_up and floor_up else ""
    return [
        name,
        *(fmt_ms(ms) if ms else "" for ms in (*mine, *floors)),
        f"{ours_up:.2f}x" if ours_up else "",
        f"{floor_up:.2f}x" if floor_up else "",
        share,
        f"{projected:.1f}x" if projected else "",
    ]


def projected_speed_up(workload: Workload, args) -> float | None:
    """serial.py's projected speed-up of a whole read of the workload's file on 16 threads
    (the model reads with `read_avro`: other queries have none)."""
    if not args.model or workload.query != "read":
        return None
    path = workload.dataset.path(args.rows)
    command = [sys.executable, str(HERE / "serial.py"), "--projected", str(path), str(workload.dataset.rows(args.rows))]
    out = subprocess.run([*command, "16"], capture_output=True, text=True, check=True, timeout=TIMEOUT)
    return float(out.stdout.split()[-1])


def memory_cell(outcome: Outcome) -> str:
    if outcome.failure:
        return "failed"
    if not outcome.reports:
        return ""
    last = outcome.reports[-1]
    return f"{fmt_mb(outcome.rss_delta_mb)} / {fmt_mb(last['resident_mb'])} ({fmt_mb(last['size_mb'])})"


def listing(names: list[str], most: int = 4) -> str:
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def values_cell(outcome: Outcome, ours: Outcome) -> str:
    """identical / DIFFERENT (columns), and the columns typed otherwise than ours."""
    if outcome.failure or not outcome.reports or not ours.reports:
        return ""
    if outcome.different:
        return f"DIFFERENT ({listing(outcome.different)})"
    theirs, mine = outcome.reports[0]["dtypes"], ours.reports[0]["dtypes"]
    typed = [f"{c} {t}" if len(t) <= 20 else c for c, t in theirs.items() if mine.get(c) != t]
    notes = [f"typed otherwise: {listing(typed, 2)}"] if typed else []
    notes += ["rows in another order"] if outcome.reordered else []
    return "identical" + (f" ({'; '.join(notes)})" if notes else "")


def table(rows: list[list[str]], header: list[str]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line(results: dict[str, dict[str, Outcome]], readers: list[Reader], args) -> str:
    """Date, machine, the versions the children reported, and the settings."""
    versions = {}  # reader key: the versions of its first report
    for outcomes in results.values():
        for reader in readers:
            if outcomes[reader.key].reports:
                versions.setdefault(reader.key, outcomes[reader.key].reports[0]["versions"])
    polars = versions.get(OURS.key, {}).get("polars", "?")
    described = []
    for reader in readers:
        got = versions.get(reader.key, {})
        if reader.dists and reader.dists[0] in got:
            other = f" (on polars {got['polars']})" if got["polars"] != polars else ""
            described.append(f"{reader.name} {got[reader.dists[0]]}{other}")
    return (
        f"{datetime.date.today()}: {os.cpu_count()} CPUs ({cpu_model()}), {platform.system()}; "
        f"polars {polars}; {', '.join(described)}; --rows {args.rows:,}; "
        f"median of {args.runs} runs, each a fresh process."
    )


def report(
    results: dict[str, dict[str, Outcome]],
    floors: dict[str, Floor | None],
    readers: list[Reader],
    args,
    projected: dict[str, float | None],
) -> str:
    """The markdown: the main table, then failures, value checks, memory, workloads, statements."""
    anchors = readers[1:]
    lines = [
        "# Avro read benchmark",
        "",
        machine_line(results, readers, args),
        "",
        "Anchor cells: median time (its time / ours; above 1 ours is faster). Peers use every "
        "core; readers named '1 core' run pinned with `taskset -c 0` and POLARS_MAX_THREADS=1. "
        "Memory: peak RSS growth during the timed read / the RSS its result keeps (the result's "
        "estimated size, which leaves out string views). A reader whose allocator keeps freed "
        "memory (Polars' jemalloc, which ours and Polars' readers use; DataFusion's) reuses what "
        "the untimed run freed and can grow by less than its result: a first read's peak is "
        "benches/memory.py's. "
        "Floor: benches/floor.rs, a decoder written for the file's shape, values checked "
        "against ours, median of 9 reads in one process; in brackets ours / floor (ours "
        "pinned to one core for the first, on every core for the second; 1.0x is the floor).",
        "",
    ]
    lines += table(
        [
            [
                name,
                "failed" if outcomes[OURS.key].failure else f"{outcomes[OURS.key].ms:,.1f}",
                *(anchor_cell(outcomes[r.key], outcomes[OURS.key]) for r in anchors),
                fastest_anchor_cell(outcomes, readers),
                one_core_cell(outcomes),
                floor_cell(floors[name], outcomes),
                memory_cell(outcomes[OURS.key]),
            ]
            for name, outcomes in results.items()
        ],
        [
            "workload",
            "ours (ms)",
            *(r.name for r in anchors),
            "fastest peer / ours (ratio)",
            "1 core: ours vs rugo (rugo / ours)",
            "floor: 1 core, all cores (ours / floor)",
            "ours peak RSS Δ / result held (estimated)",
        ],
    )

    if any(one_core(OURS).key in outcomes for outcomes in results.values()):
        lines += [
            "",
            "## From one core to every core",
            "",
            "Ours and the floor pinned to one core and on every core, each one's speed-up, ours' over "
            "the floor's, and (with --model) what benches/serial.py's model projects for a whole read "
            "on 16 threads.",
            "",
        ]
        lines += table(
            [speed_up_row(name, floors[name], outcomes, projected[name]) for name, outcomes in results.items()],
            [
                "workload",
                "ours, 1 core",
                "ours, all cores",
                "floor, 1 core",
                "floor, all cores",
                "ours' speed-up",
                "the floor's",
                "ours' / the floor's",
                "projected, 16 threads",
            ],
        )

    notes = []
    for name, outcomes in results.items():
        for reader in readers:
            outcome = outcomes[reader.key]
            if outcome.failure:
                notes.append(f"- {reader.name} failed on {name}: `{outcome.failure}`")
            elif outcome.different:
                what = "values changing between runs" if reader is OURS else "DIFFERENT values"
                notes.append(f"- {reader.name} on {name}: {what} in {listing(outcome.different)}")
    if notes:
        lines += ["", "## Failures and wrong values", "", *notes]

    lines += ["", "## Values compared with ours (per-column checksums of normalized values)", ""]
    lines += table(
        [
            [name, *(values_cell(outcomes[r.key], outcomes[OURS.key]) for r in anchors)]
            for name, outcomes in results.items()
        ],
        ["workload", *(r.name for r in anchors)],
    )

    lines += ["", "## Peak RSS Δ / result held (estimated size), per reader", ""]
    lines += table(
        [[name, *(memory_cell(outcomes[r.key]) for r in readers)] for name, outcomes in results.items()],
        ["workload", *(r.name for r in readers)],
    )

    lines += ["", "## Workloads", ""]
    lines += table(
        [
            [
                name,
                f"{w.dataset.rows(args.rows):,}",
                str(len(w.dataset.schema["fields"])),
                w.dataset.codec,
                fmt_mb(w.dataset.path(args.rows).stat().st_size / 2**20),
                w.query + "".join(f" {k}={v}" for k, v in w.params.items()),
            ]
            for name, w in ((n, WORKLOADS[n]) for n in results)
        ],
        ["workload", "rows", "columns", "codec", "file", "query"],
    )

    lines += ["", "## Statements (timed; imports are not)", ""]
    queries = list(dict.fromkeys(WORKLOADS[name].query for name in results))
    lines += table([[r.name, *(f"`{r.statements[q]}`" for q in queries)] for r in readers], ["reader", *queries])
    return "\n".join(lines) + "\n"


def chart(results: dict[str, dict[str, Outcome]], readers: list[Reader], args) -> None:
    """Grouped horizontal bars: each anchor's time relative to ours, on a log scale."""
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no chart", file=sys.stderr)
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    anchors = readers[1:]
    names = list(results)
    height = 0.8 / len(anchors)
    fig, ax = plt.subplots(figsize=(10, 1.5 + 0.3 * len(names) * len(anchors)), layout="constrained")
    for j, name in enumerate(names):
        ours = results[name][OURS.key]
        for i, reader in enumerate(anchors):
            outcome = results[name][reader.key]
            y = j + (i - (len(anchors) - 1) / 2) * height
            if outcome.failure:
                ax.text(1, y, f" {reader.name}: failed", va="center", fontsize=7, color="gray")
            elif ours.valid and outcome.reports:
                ratio = outcome.ms / ours.ms
                wrong = bool(outcome.different)
                ax.barh(y, ratio, height=height, color=f"C{i}", hatch="//" if wrong else None, edgecolor="white")
                ax.text(ratio, y, f" {fmt_ratio(ratio)}" + (" wrong values" if wrong else ""), va="center", fontsize=7)
    ax.axvline(1, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlim(right=ax.get_xlim()[1] * 2)  # room for the labels
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(
        [
            f"{n}\n(ours {fmt_ms(results[n][OURS.key].ms)})" if results[n][OURS.key].valid else f"{n}\n(ours failed)"
            for n in names
        ],
        fontsize=8,
    )
    ax.set_ylim(len(names) - 0.5, -0.5)  # first workload on top
    ax.set_xlabel("time relative to polars-avro (this) = 1 (log scale); right of the line: ours is faster")
    ax.set_title(f"Avro read time relative to polars-avro (this): --rows {args.rows:,}, median of {args.runs} runs")
    legend = [Patch(color=f"C{i}", label=r.name) for i, r in enumerate(anchors)]
    legend.append(Patch(facecolor="gray", hatch="//", edgecolor="white", label="wrong values"))
    fig.legend(handles=legend, loc="outside lower center", ncol=len(legend), fontsize=8)
    fig.savefig(args.out / "latest.png", dpi=120)
    plt.close(fig)


def common_arguments(parser: argparse.ArgumentParser, workloads: list[str]) -> None:
    """The options both comparisons take: sizes, rounds, workloads and a baseline build."""
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the full-size data (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=5, help="rounds; the median is reported (default 5)")
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=workloads,
        default=workloads,
        metavar="NAME",
        help=f"a subset of: {', '.join(workloads)}",
    )
    parser.add_argument(
        "--baseline",
        metavar="PYTHON",
        help="a Python whose polars_avro is another build of this package (main before a change), "
        "measured beside ours in the same rounds",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common_arguments(parser, list(WORKLOADS))
    choice = [k for k in READERS if k != OURS.key]
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--readers",
        nargs="+",
        choices=choice,
        metavar="KEY",
        help=f"anchors to run besides ours, of: {', '.join(choice)}",
    )
    group.add_argument("--skip", nargs="+", choices=choice, default=[], metavar="KEY", help="anchors to leave out")
    parser.add_argument("--with-fastavro", action="store_true", help="add fastavro, as a check of the values")
    parser.add_argument("--no-floor", action="store_true", help="leave out the floor (benches/floor.rs, needs cargo)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where latest.md and latest.png go")
    parser.add_argument(
        "--model", action="store_true", help="add benches/serial.py's projected 16-thread speed-up of each whole read"
    )
    args = parser.parse_args()

    keys = args.readers or [k for k in choice if k != "fastavro" and k not in args.skip]
    if args.with_fastavro and "fastavro" not in keys:
        keys.append("fastavro")
    readers = [OURS, *(READERS[k] for k in choice if k in keys)]
    if args.baseline:
        baseline = replace(OURS, key="baseline", name="polars-avro (baseline)", python=lambda: args.baseline)
        readers.insert(1, baseline)
        if any(r.key == one_core(OURS).key for r in readers):
            readers.insert(2, one_core(baseline))
    pythons = {r.key: r.python() if r.python else sys.executable for r in readers}

    floor = None if args.no_floor else floor_binary()
    runs = {name: run_workload(WORKLOADS[name], readers, pythons, floor, args) for name in args.workloads}
    results = {name: outcomes for name, (outcomes, _) in runs.items()}
    floors = {name: measured for name, (_, measured) in runs.items()}
    projected = {name: projected_speed_up(WORKLOADS[name], args) for name in args.workloads}

    text = report(results, floors, readers, args, projected)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text)
    chart(results, readers, args)
    print(f"wrote {args.out / 'latest.md'} and {args.out / 'latest.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
