"""Every option of every public function, given values of every kind (hypothesis): each
call either works or fails with the package's `AvroArgumentError` (or Python's own
`TypeError` / `ValueError` for a call Python itself refuses) naming the argument, never
with an internal name, an `AttributeError` or a Rust panic. The sources (a file, a frame)
stay valid: what is fuzzed is what users type beside them.

Seeds: a fixed set, and one drawn afresh each run; a failure names its seed and the
arguments. What the fuzzing found is kept as plain cases (`FOUND`).
"""

from __future__ import annotations

import inspect
import random
from pathlib import Path
from typing import Any, Callable

import polars as pl
import pytest

import polars_avro
from polars_avro._polars.interface import FILE_READERS

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: Values of every kind a user might pass by mistake.
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["", "a", "id", "snappy", "nope", "-1", "0", "1e3", "Int64", "*", "[]"]),
    st.binary(max_size=8),
    st.lists(st.one_of(st.integers(-3, 3), st.text(max_size=3), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.one_of(st.integers(-3, 3), st.text(max_size=3)), max_size=2),
    st.tuples(st.text(max_size=3), st.integers(-3, 3)),
    st.sampled_from([object(), pl.Int64, pl.col("id"), int, 1j, float("nan")]),
)

#: What a failure may be: the package's argument error, or Python's own for a call it
#: refuses; its message names the argument. The package's other errors are allowed where
#: the value is a valid one meaning something that cannot be done here (a reader schema
#: that does not resolve, a storage option an object store would take).
ARGUMENT_ERRORS = (polars_avro.AvroArgumentError, TypeError, ValueError)


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("arguments") / "small.avro"
    polars_avro.write_avro(pl.DataFrame({"id": [1, 2, 3], "s": ["a", "b", None]}), path)
    return path


def calls(small_file: Path, out: Path) -> dict[str, tuple[Callable[..., Any], list[str]]]:
    """Each public function, called with valid sources and one fuzzed option."""
    frame = pl.DataFrame({"id": [1, 2, 3], "s": ["a", "b", None]})
    target = str(out / "out.avro")
    functions: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
        "scan_avro": (polars_avro.scan_avro, lambda **kw: polars_avro.scan_avro(small_file, **kw).collect()),
        "read_avro": (polars_avro.read_avro, lambda **kw: polars_avro.read_avro(small_file, **kw)),
        "read_avro_schema": (polars_avro.read_avro_schema, lambda **kw: polars_avro.read_avro_schema(small_file, **kw)),
        "read_avro_header": (polars_avro.read_avro_header, lambda **kw: polars_avro.read_avro_header(small_file, **kw)),
        "AvroReader": (polars_avro.AvroReader, lambda **kw: list(polars_avro.AvroReader(small_file, **kw))),
        "write_avro": (polars_avro.write_avro, lambda **kw: polars_avro.write_avro(frame, target, **kw)),
        "sink_avro": (polars_avro.sink_avro, lambda **kw: polars_avro.sink_avro(frame.lazy(), target, **kw)),
        "list_avro_files": (polars_avro.list_avro_files, lambda **kw: polars_avro.list_avro_files(small_file, **kw)),
        "AvroBlockReader": (
            polars_avro.AvroBlockReader,
            lambda **kw: list(polars_avro.AvroBlockReader(small_file, **kw)),
        ),
        "AvroBlockWriter": (polars_avro.AvroBlockWriter, lambda **kw: _copy_blocks(small_file, target, **kw)),
        "AvroDatums.random": (
            polars_avro.AvroDatums.random,
            lambda **kw: _datums(small_file).random(**{"count": 2, **kw}),
        ),
        "AvroDatums.to_json": (polars_avro.AvroDatums.to_json, lambda **kw: _to_json(small_file, **kw)),
    }
    sources = {"source", "df", "lf", "file", "path", "self", "schema", "data"}
    return {
        name: (call, [p for p in inspect.signature(function).parameters if p not in sources])
        for name, (function, call) in functions.items()
    }


def _copy_blocks(source: Path, target: str, **kw: Any) -> None:
    with (
        polars_avro.AvroBlockReader(source, data="stored") as blocks,
        polars_avro.AvroBlockWriter(target, blocks.header, **kw) as writer,
    ):
        writer.write_blocks(blocks, blocks.header.codec)


def _datums(source: Path) -> polars_avro.AvroDatums:
    return polars_avro.AvroDatums(polars_avro.read_avro_header(source).schema)


def _to_json(source: Path, **kw: Any) -> bytes:
    (block,) = polars_avro.AvroBlockReader(source)
    return _datums(source).to_json(**{"data": block.data, "count": block.records, **kw})


def check_outcome(call: Callable[..., Any], option: str, value: Any) -> None:
    try:
        call(**{option: value})
    except ARGUMENT_ERRORS as e:
        text = str(e)
        assert option in text or option.replace("_", " ") in text, f"{option}={value!r}: {type(e).__name__}: {text}"
        assert "column_0" not in text and "__polars_avro" not in text, f"{option}={value!r}: {text}"
    except polars_avro.AvroError as e:
        # A value of the right type that cannot be honoured here (no such object store,
        # a reader schema that does not resolve): it names what it is about.
        assert not isinstance(e, polars_avro.AvroInternalError), f"{option}={value!r}: {e}"
        assert str(e), f"{option}={value!r}"
    except pl.exceptions.ComputeError as e:
        # Polars 1 raises what a scan's source raised as a ComputeError naming it.
        text = str(e)
        assert IO_PLUGINS and "exception: Avro" in text and "AvroInternalError" not in text, f"{option}={value!r}: {e}"


#: Whether scans are IO plugins (Polars 1), whose errors Polars raises again as a ComputeError
#: naming them (the file reader interface of Polars 2 raises them as they are).
IO_PLUGINS = not FILE_READERS

FUNCTIONS = [
    "scan_avro",
    "read_avro",
    "read_avro_schema",
    "read_avro_header",
    "AvroReader",
    "write_avro",
    "sink_avro",
    "list_avro_files",
    "AvroBlockReader",
    "AvroBlockWriter",
    "AvroDatums.random",
    "AvroDatums.to_json",
]


#: Options whose large values are valid and cost what they say: `random(count=10**9)` makes a
#: billion datums (a fresh seed once drew one and the run was killed for memory). The fuzzer
#: gives them small numbers only.
COSTLY = {("AvroDatums.random", "count")}


def too_costly(function: str, option: str, value: Any) -> bool:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return (function, option) in COSTLY and number and abs(value) > 1000


#: Fixed seeds, and one drawn afresh each run (named in the failure).
SEEDS = [0, 1, 2, random.randrange(2**32)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_option_takes_any_value_or_refuses_it_by_name(small_file: Path, tmp_path: Path, function: str) -> None:
    call, options = calls(small_file, tmp_path)[function]

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(option=st.sampled_from(options), value=VALUES)
    def fuzz(option: str, value: Any) -> None:
        assume(not too_costly(function, option, value))
        check_outcome(call, option, value)

    for chosen in SEEDS:
        try:
            seed(chosen)(fuzz)()
        except AssertionError as e:
            raise AssertionError(f"seed {chosen}: {e}") from e


#: What the fuzzing found, each kept as a plain case: (function, option, value).
FOUND = [
    ("read_avro", "row_index_name", "*"),  # cast every column to the index type (pl.col("*"))
    ("scan_avro", "reader_schema", b""),  # "Object of type bytes is not JSON serializable"
    ("write_avro", "schema", object()),
    ("write_avro", "metadata", True),  # "'bool' object is not a mapping"
    ("sink_avro", "metadata", pl.col("id")),  # "the truth value of an Expr is ambiguous"
    ("write_avro", "namespace", 5),  # "'int' object is not an instance of 'str'"
    ("sink_avro", "sync_interval", None),  # "'NoneType' object cannot be interpreted as an integer"
    ("read_avro", "missing_columns", pl.col("id")),
    ("read_avro", "rechunk", pl.col("id")),
    ("scan_avro", "low_memory", pl.col("id")),
    ("write_avro", "mkdir", pl.col("id")),
    ("read_avro", "credential_provider", pl.col("id")),
    ("write_avro", "partition_by", True),  # "partitioned output goes to a folder": which option asked?
    ("sink_avro", "max_rows_per_file", 0),
    ("read_avro", "include_file_paths", "id"),  # "'id' is already a column of the file": which option?
    ("AvroReader", "row_index_name", "id"),
    ("read_avro", "columns", [0, 0]),  # Polars 1.30: "the name 'id' is duplicate": which option?
    ("AvroReader", "columns", ["id", "id"]),
    # A fresh seed (1.36): a name holding NUL panicked crossing Polars' Arrow C interface.
    ("read_avro", "row_index_name", "a\x00b"),
    ("read_avro", "include_file_paths", "\x00"),
    ("AvroReader", "columns", ["id", "a\x00b"]),
    ("scan_avro", "row_index_name", "\x00"),
]


@pytest.mark.parametrize(("function", "option", "value"), FOUND)
def test_what_the_fuzzing_found(small_file: Path, tmp_path: Path, function: str, option: str, value: Any) -> None:
    call, _ = calls(small_file, tmp_path)[function]
    check_outcome(call, option, value)
    if option == "row_index_name" and value == "*":
        df = call(**{option: value})
        assert df.columns == ["*", "id", "s"] and df["*"].to_list() == [0, 1, 2]


def test_each_kind_of_option_is_checked_by_one_rule() -> None:
    """The checks every option of a kind gets (src/python/pychecks.rs), at their edges."""
    from polars_avro import _internal

    def refused(check: Any, *args: Any, **kwargs: Any) -> str:
        with pytest.raises(polars_avro.AvroArgumentError) as raised:
            check(*args, **kwargs)
        return str(raised.value)

    _internal.check_whole_number("n", 2**63 - 1, 0)
    _internal.check_whole_number("seed", 2**64 - 1, 0, 2**64 - 1)
    assert refused(_internal.check_whole_number, "n", 2**63, 0) == (
        "n must be at most 9,223,372,036,854,775,807, found 9,223,372,036,854,775,808"
    )
    assert refused(_internal.check_whole_number, "n", -(2**70), 1) == f"n must be at least 1, found {-(2**70)}"
    assert refused(_internal.check_whole_number, "n", True, 0) == "n must be a whole number, found bool True"
    assert refused(_internal.check_whole_number, "n", "3", 0) == "n must be a whole number, found str '3'"
    _internal.check_counts(a=None, b=1)
    assert refused(_internal.check_counts, a=1, b=0) == "b must be at least 1, found 0"
    _internal.check_flag("f", False)
    assert refused(_internal.check_flag, "f", 1) == "f must be True or False, found int 1"
    _internal.check_text("name", "a\x00b", "the record's name")
    assert refused(_internal.check_text, "col", "a\x00b") == (
        "col 'a\\x00b' holds a NUL character, which no column name crossing into Polars can hold"
    )
    assert refused(_internal.check_text, "col", b"a") == "col must be a column name (a str), found bytes b'a'"
