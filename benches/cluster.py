"""Reading Avro on a cluster engine, ours against the engine's own reader, on the same cluster.

One generated file of --gb GB (benches/data, git-ignored; deflate-free, 64 KiB blocks as Java
writes them) is read by polars_avro.ray against ray.data.read_avro, and by polars_avro.dask
against dask.bag.read_avro(...).to_dataframe(), on one local cluster size: Ray with
``num_cpus=WORKERS``, Dask with a LocalCluster of WORKERS single-threaded worker processes
(fastavro holds the GIL, so processes are its best case). Two queries each:

- ``all``: every column materialized in the cluster (Ray's ``materialize``, Dask's ``persist``);
- ``one column``: one column alone, materialized in Ray and summed in Dask (our readers
  decode that column alone; the engines' own readers decode every column).

Medians of --runs (the engines' own readers once: they take minutes). Every materialized
result is checked where it lies, partition by partition, against ``scan_avro`` of the file:
the row count and, per column, the sum of the values' hashes (order-free, so the engines
may hand partitions on in any order) and the null count; every sum against Polars' sum.
Then read_split's scaling: the file's splits (--target-mb each) read by 1, 2, ... worker
processes, one thread each.

    python benches/cluster.py [--gb 1.0] [--workers 2] [--runs 3] [--target-mb 32]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
from timing import median_time
from workloads import DATA

import polars_avro

#: Records of about 55 bytes of Avro: --gb 1.0 makes a file of a little over 1 GiB.
ROWS_PER_GB = 19_600_000
_PRIME = 1_000_000_007


def generate(gb: float) -> Path:
    """The benchmark file, written once by this package from a query made on the fly."""
    path = DATA / f"cluster-{gb:g}gb.avro"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rows = int(ROWS_PER_GB * gb)
    lf = pl.LazyFrame({"id": range(rows)}).with_columns(
        user=pl.format("user-{}", pl.col("id") % 1_000_003),
        amount=pl.when(pl.col("id") % 11 == 0).then(None).otherwise(pl.col("id") * 0.25),
        score=(pl.col("id") % 1000).cast(pl.Int32),
        tags=pl.concat_list(pl.format("tag-{}", pl.col("id") % 7), pl.format("t{}", pl.col("id") % 3)),
        country=pl.format("country-{}", pl.col("id") % 190),
    )
    polars_avro.sink_avro(lf, str(path) + ".part", sync_interval=64 << 10)
    os.replace(str(path) + ".part", path)
    return path


def fingerprint(df: pl.DataFrame) -> dict[str, int]:
    """Rows, and per column the null count and the sum of the values' hashes (mod a prime:
    order-free and without overflow), of a part in the file's types."""
    casts = {"id": pl.Int64, "score": pl.Int32, "amount": pl.Float64, "user": pl.String, "country": pl.String}
    df = df.select("id", "user", "amount", "score", "tags", "country")
    df = df.with_columns(pl.col("amount").fill_nan(None), pl.col("tags").cast(pl.List(pl.String))).cast(casts)  # type: ignore[arg-type]
    sums = df.select(
        pl.len().alias("rows"),
        *[(pl.col(c).hash(seed=0) % _PRIME).sum().alias(f"{c} hash") for c in df.columns],
        *[pl.col(c).null_count().alias(f"{c} nulls") for c in df.columns],
    )
    return combined([{name: int(value) for name, value in sums.row(0, named=True).items()}])


def combined(parts: list[dict[str, int]]) -> dict[str, int]:
    """The fingerprint of the parts together."""
    return {name: sum(p[name] for p in parts) % (_PRIME if "hash" in name else 2**63) for name in parts[0]}


def ray_rows(path: Path, workers: int, runs: int, target: int, want: dict[str, str], total: float) -> list[list[Any]]:
    import pyarrow as pa
    import ray

    import polars_avro.ray

    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)

    @ray.remote
    def ray_fingerprint(table: pa.Table) -> dict[str, int]:
        return fingerprint(pl.DataFrame(pl.from_arrow(table)))

    @ray.remote
    def ray_sum(table: pa.Table) -> float:
        return pl.DataFrame(pl.from_arrow(table))["amount"].fill_nan(None).sum()

    try:
        ray.data.range(workers * 4).map_batches(lambda b: b).materialize()  # workers started, untimed
        readers = {
            "polars_avro.ray.read_avro": lambda: polars_avro.ray.read_avro(str(path), target_bytes=target),
            "ray.data.read_avro": lambda: ray.data.read_avro(str(path)),
        }
        out = []
        for name, read in readers.items():
            n = runs if name.startswith("polars") else 1
            seconds, ds = median_time(lambda read=read: read().materialize(), n)
            found = combined(ray.get([ray_fingerprint.remote(ref) for ref in ds.to_arrow_refs()]))
            same = "same" if found == want else "DIFFERENT"
            del ds
            one, ds = median_time(lambda read=read: read().select_columns(["amount"]).materialize(), n)
            value = sum(ray.get([ray_sum.remote(ref) for ref in ds.to_arrow_refs()]))
            del ds
            same_sum = "same" if abs(value - total) <= 1e-9 * abs(total) else "DIFFERENT"
            out.append([name, seconds, one, f"{same} / {same_sum}"])
        return out
    finally:
        ray.shutdown()


def dask_rows(path: Path, workers: int, runs: int, target: int, want: dict[str, str], total: float) -> list[list[Any]]:
    import dask
    import dask.bag
    from distributed import Client, LocalCluster, wait

    import polars_avro.dask

    readers = {
        "polars_avro.dask.read_avro": lambda: polars_avro.dask.read_avro(str(path), target_bytes=target),
        "dask.bag.read_avro().to_dataframe()": lambda: dask.bag.read_avro(str(path)).to_dataframe(),
    }
    out = []
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        for name, read in readers.items():
            n = runs if name.startswith("polars") else 1
            persisted: list[Any] = []

            def persist(read: Callable[[], Any] = read, persisted: list[Any] = persisted) -> Any:
                # The same graph again would find the last run's partitions still in memory.
                for old in persisted:
                    client.cancel(old)
                persisted.clear()
                ddf = read().persist()
                wait(ddf)
                persisted.append(ddf)
                return ddf

            seconds, ddf = median_time(persist, n)
            parts = dask.compute(*[dask.delayed(_pandas_fingerprint)(part) for part in ddf.to_delayed()])
            same = "same" if combined(list(parts)) == want else "DIFFERENT"
            # Gone before the next query, which would otherwise reuse the persisted partitions.
            client.cancel(ddf)
            del ddf
            one, value = median_time(lambda read=read: float(read()["amount"].sum().compute()), n)
            same_sum = "same" if abs(value - total) <= 1e-9 * abs(total) else "DIFFERENT"
            out.append([name, seconds, one, f"{same} / {same_sum}"])
    return out


def _pandas_fingerprint(part: Any) -> dict[str, int]:
    return fingerprint(pl.from_pandas(part.reset_index(drop=True)))


def _read_some(splits: list[polars_avro.AvroSplit]) -> int:
    return sum(df.height for split in splits for df in polars_avro.read_split(split, n_threads=1))


def scaling(path: Path, target: int, max_workers: int, runs: int) -> list[tuple[int, float, int]]:
    """read_split over the file's splits by 1, 2, 4, ... processes (one thread each)."""
    splits = polars_avro.plan_splits(str(path), target_bytes=target)
    out = []
    workers = 1
    while workers <= max_workers:
        shares = [splits[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_read_some, [s[:1] for s in shares]))  # start the processes untimed
            seconds, rows = median_time(lambda shares=shares, pool=pool: sum(pool.map(_read_some, shares)), runs)
        out.append((workers, seconds, rows))
        workers *= 2
    return out


def table(rows: list[list[Any]], ours: str) -> None:
    base = {r[0]: r for r in rows}[ours]
    print("| reader | all columns (s) | one column (s) | ours is x faster | values |\n|---|---|---|---|---|")
    for name, seconds, one, same in rows:
        ratio = "" if name == ours else f"{seconds / base[1]:.1f}x / {one / base[2]:.1f}x"
        print(f"| {name} | {seconds:.2f} | {one:.2f} | {ratio} | {same} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--target-mb", type=int, default=32)
    parser.add_argument("--skip", nargs="*", default=[], choices=["ray", "dask", "scaling"])
    args = parser.parse_args()
    path = generate(args.gb).resolve()
    # Ray's workers import from the driver's directory: out of the repository, so that they
    # import the installed package, not its source tree.
    os.chdir(tempfile.gettempdir())
    target = args.target_mb << 20
    want = fingerprint(pl.scan_avro(str(path)).collect())  # type: ignore[attr-defined]
    total = pl.scan_avro(str(path)).select(pl.col("amount").sum()).collect().item()  # type: ignore[attr-defined]
    size = path.stat().st_size / 2**30
    print(
        f"\n{path.name}: {size:.2f} GiB, splits of {args.target_mb} MiB, {args.workers} workers, median of {args.runs}"
    )
    if "ray" not in args.skip:
        print("\nRay Data")
        table(ray_rows(path, args.workers, args.runs, target, want, total), "polars_avro.ray.read_avro")
    if "dask" not in args.skip:
        print("\nDask")
        table(dask_rows(path, args.workers, args.runs, target, want, total), "polars_avro.dask.read_avro")
    if "scaling" not in args.skip:
        print("\nread_split over worker processes (one thread each)")
        print("| workers | seconds | speed-up | rows |\n|---|---|---|---|")
        results = scaling(path, target, args.workers, args.runs)
        for workers, seconds, rows in results:
            print(f"| {workers} | {seconds:.2f} | {results[0][1] / seconds:.2f}x | {rows:,} |")


if __name__ == "__main__":
    main()
