"""Compressed writes against the compressor, and the size/time curve of each level (issue 43,
item 3).

For a dataset's frame (workloads.py), for deflate and zstandard at each level, and snappy:

- ours: the median time of --runs writes by ``write_avro`` (after one untimed write), and
  the file's size;
- the floor: our null-codec write of the same frame (the encoding), plus the time the
  codec's own crate takes to compress exactly our blocks at that level
  (benches/write_floor.rs, on our null-codec file);
- rugo's write of the same frame, at the fixed level each of its codecs uses, in 1 MiB
  blocks (ours: 64,000 bytes), and the level of ours that writes a file no larger than rugo's.

Every file written is read back by this package and its values compared with the frame.
Run it on one core, as the floor runs on one thread:

    POLARS_MAX_THREADS=1 taskset -c 0 python benches/write_levels.py [--dataset primitives-null]
        [--rows 1000000] [--runs 5] [--out benches/results]

Writes the table to OUT/write-levels.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

import polars as pl
from child import checksums
from compare import cpu_model, floor_binary, fmt_ms, table
from timing import median_time
from workloads import DATASETS
from write_compare import frame_for

import polars_avro

#: The levels of each codec on the curve (deflate's 0 stores, and is left out).
LEVELS = {"deflate": [1, 3, 5, 6, 7, 9], "zstandard": [1, 2, 3, 5, 7, 9, 12, 15, 19], "snappy": [None]}
DEFAULT_LEVEL = {name: levels[2] for name, levels in polars_avro._internal.COMPRESSION_LEVELS}
DEFAULT_SYNC_INTERVAL = polars_avro._internal.DEFAULT_SYNC_INTERVAL
#: rugo's block size (its write_avro's block_bytes).
RUGO_BLOCK = 1 << 20


def fmt_size(size: int) -> str:
    """Bytes as MB to two decimals: levels differ by less than a megabyte."""
    return f"{size / 1e6:.2f} MB"


def median_ms(work: Callable[[], Any], runs: int) -> float:
    """Median milliseconds of `runs` calls of `work`, after an untimed one (which pays for
    imports and the allocator's first pages)."""
    work()
    return median_time(work, runs)[0] * 1e3


def checked(path: Path, expected: dict[str, str], who: str) -> None:
    """The file's values equal the frame's, or the run stops: a fast wrong writer does not count."""
    got = checksums(polars_avro.read_avro(path))
    if got != expected:
        raise SystemExit(f"{who} wrote different values to {path}")


def compress_floor(binary: str, blocks_of: Path, codec: str, level: int | None, runs: int) -> dict:
    """The codec's crate compressing the blocks of `blocks_of` at `level` (write_floor.rs)."""
    command = [binary, str(blocks_of), codec, str(level or 0), "--runs", str(runs)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def rugo_writes(frame: Path, expected: dict[str, str], runs: int, tmp: Path) -> dict[str, tuple[float, int]]:
    """rugo's (time, size) per codec; empty where rugo is not installed."""
    try:
        import draken
        import rugo.avro
        import rugo.parquet
    except ImportError:
        return {}
    with rugo.parquet.read_parquet(str(frame)) as reader:
        morsel = draken.Morsel.combine(list(reader))
    out = tmp / "rugo.avro"
    results = {}
    for codec in LEVELS:

        def write(codec: str = codec) -> None:
            with open(out, "wb") as f:
                f.write(rugo.avro.write_avro(morsel, codec=codec))

        ms = median_ms(write, runs)
        checked(out, expected, f"rugo ({codec})")
        results[codec] = (ms, out.stat().st_size)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="primitives-null")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()

    binary = floor_binary("write_floor")
    if binary is None:
        raise SystemExit("no write floor: cargo is needed to build benches/write_floor.rs")
    frame, _, expected = frame_for(args.dataset, args.rows)
    # Ours writes the dataset as read from its Avro file, whose schema it keeps: a column
    # without nulls stays a plain type, as rugo writes one. (The Parquet frame would be
    # written as Polars columns are, each in a ["null", T] union: a byte more per value.)
    df = polars_avro.read_avro(DATASETS[args.dataset].write(args.rows))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ours_out = tmp / "ours.avro"
        encoded = tmp / "encoded.avro"

        def ours(codec: str, level: int | None, sync_interval: int = DEFAULT_SYNC_INTERVAL) -> float:
            def write() -> None:
                polars_avro.write_avro(
                    df, ours_out, compression=codec, compression_level=level, sync_interval=sync_interval
                )

            ms = median_ms(write, args.runs)
            checked(ours_out, expected, f"ours ({codec}, level {level})")
            return ms

        encode_ms = ours("uncompressed", None)
        ours_out.rename(encoded)
        rows = []
        #: Per codec: (level as shown, ours' ms, our file's bytes).
        curve: dict[str, list[tuple[str, float, int]]] = {}
        for codec, levels in LEVELS.items():
            for level in levels:
                ms = ours(codec, level)
                size = ours_out.stat().st_size
                floor = compress_floor(binary, encoded, codec, level, args.runs)
                assert floor["records"] == df.height, floor
                floor_ms = encode_ms + floor["compress_ms"]
                curve.setdefault(codec, []).append(("-" if level is None else str(level), ms, size))
                rows.append(
                    [
                        codec,
                        "-" if level is None else str(level),
                        fmt_size(size),
                        fmt_ms(ms),
                        f"{fmt_ms(encode_ms)} + {fmt_ms(floor['compress_ms'])}",
                        f"{ms / floor_ms:.2f}x",
                    ]
                )
            # The default level in blocks as large as rugo's: what the block size is worth.
            level = DEFAULT_LEVEL.get(codec)
            ms = ours(codec, level, sync_interval=RUGO_BLOCK)
            size = ours_out.stat().st_size
            shown = f"{'-' if level is None else level}, 1 MiB blocks"
            curve[codec].append((shown, ms, size))
            rows.append([codec, shown, fmt_size(size), fmt_ms(ms), "-", "-"])
        rugo = rugo_writes(frame, expected, args.runs, tmp)

    lines = [
        "# Compressed writes against the compressor, level by level",
        "",
        f"{datetime.date.today()}: {cpu_model()}, {platform.system()}; polars {pl.__version__}; "
        f"cores allowed: {len(os.sched_getaffinity(0))}; POLARS_MAX_THREADS={os.environ.get('POLARS_MAX_THREADS')}; "
        f"{args.dataset}, {df.height:,} rows; median of {args.runs} writes after one untimed.",
        "",
        "The floor is our null-codec write (the encoding) plus the codec's crate compressing our "
        "blocks at that level (benches/write_floor.rs). Our default levels: "
        + ", ".join(f"{codec} {level}" for codec, level in DEFAULT_LEVEL.items() if codec in LEVELS)
        + ".",
        "",
        *table(rows, ["codec", "level", "our file", "ours", "floor: encode + compress", "ours / floor"]),
        "",
        "## rugo at equal size",
        "",
    ]
    if not rugo:
        lines.append("rugo is not installed: `pip install rugo`.")
    else:
        rugo_rows = []
        for codec, (ms, size) in rugo.items():
            points = curve[codec]
            fitting = [p for p in points if p[2] <= size]
            match = min(fitting, key=lambda p: p[1]) if fitting else min(points, key=lambda p: p[2])
            level, our_ms, our_size = match
            rugo_rows.append(
                [
                    codec,
                    fmt_size(size),
                    fmt_ms(ms),
                    f"{level}: {fmt_size(our_size)} in {fmt_ms(our_ms)}"
                    + ("" if fitting else " (none as small: our smallest)"),
                    f"{ms / our_ms:.2f}x",
                ]
            )
        lines += table(
            rugo_rows, ["codec", "rugo's file", "rugo", "our fastest level as small", "rugo / ours at that level"]
        )
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "write-levels.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
