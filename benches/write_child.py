"""One write measurement, in a fresh interpreter: `python -I write_child.py SPEC_JSON`.

Run by write_compare.py with each writer's own Python. The frame is read from Parquet and
the writer's imports run first, untimed; the statement is run once untimed (one-time costs
of the process), then timed, writing a new file (the first one is removed, untimed). It
depends on nothing but Polars. The last line of stdout is a JSON report: seconds, peak RSS
growth, the file's size and the writer's versions.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import resource
import sys
import time

import polars as pl


def main() -> None:
    spec = json.loads(sys.argv[1])
    namespace = {"pl": pl, "DF": pl.read_parquet(spec["frame"]), "FRAME": spec["frame"], "OUT": spec["out"]}
    with open(spec["schema"]) as f:
        namespace["SCHEMA"] = json.load(f)
    exec(spec["setup"], namespace)
    statement = compile(spec["statement"], "<statement>", "exec")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    exec(statement, namespace)
    # Each write makes a new file: replacing an existing one makes ext4 flush the new data
    # to disk at once (auto_da_alloc), which would time the disk, not the writer.
    os.remove(spec["out"])

    start = time.perf_counter()
    exec(statement, namespace)
    seconds = time.perf_counter() - start

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_delta_mb": (peak - baseline) / 1024,
                "file_mb": os.path.getsize(spec["out"]) / 2**20,
                "versions": {dist: importlib.metadata.version(dist) for dist in ["polars", *spec["dists"]]},
            }
        )
    )


if __name__ == "__main__":
    main()
