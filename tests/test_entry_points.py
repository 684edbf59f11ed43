"""Every read entry point takes the read keywords as polars_avro._keywords declares them:
the same names, types and defaults, so that one keyword means one thing everywhere. And the
compiled module's signatures are those its stub (`_internal.pyi`) declares."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path
from typing import Any, Callable

import pytest

import polars_avro
from polars_avro import _internal
from polars_avro._keywords import (
    ReaderKeywords,
    ReadKeywords,
    ReadOptions,
    ScanKeywords,
    SinkKeywords,
    WriteKeywords,
    declared,
)
from polars_avro._options import ScanOptions

#: Entry point: the ReadOptions keywords it takes (every one where None).
ENTRY_POINTS: dict[str, tuple[Callable[..., Any], set[str] | None]] = {
    "scan_avro": (polars_avro.scan_avro, None),
    "read_avro": (polars_avro.read_avro, None),
    "AvroReader": (polars_avro.AvroReader.__init__, None),
    "read_avro_schema": (polars_avro.read_avro_schema, None),
    "plan_splits": (
        polars_avro.plan_splits,
        {
            "storage_options",
            "retries",
            "glob",
            "hidden_file_prefix",
            "reader_schema",
            "schema_from",
            "missing_columns",
            "extra_columns",
            "allow_missing_columns",
            "include_file_paths",
            "hive_partitioning",
            "hive_schema",
            "try_parse_hive_dates",
            "ignore_errors",
            "files_in_flight",
        },
    ),
    # n_rows there counts rows after the split's predicate; the type and default are the same.
    "read_split": (polars_avro.read_split, {"n_rows", "batch_size", "storage_options", "n_threads"}),
    "read_avro_header": (polars_avro.read_avro_header, {"storage_options", "retries"}),
}

OPTIONS = declared(ReadOptions)


def assert_scan_keywords(name: str, function: Callable[..., Any], expected: set[str] | None) -> None:
    """`function` takes the ReadOptions keywords `expected` (all where None) as declared there.

    The Ray and Dask adapters' tests (their own session) check theirs with it too.
    """
    parameters = inspect.signature(function).parameters
    shared = {p for p in parameters if p in OPTIONS}
    assert shared == (set(OPTIONS) if expected is None else expected)
    for keyword in shared:
        parameter, (text, option) = parameters[keyword], OPTIONS[keyword]
        where = f"{name}({keyword}=...)"
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, where
        assert parameter.default == option.default, f"{where}: default {parameter.default!r}, not {option.default!r}"
        # Annotations are text (`from __future__ import annotations` everywhere).
        assert parameter.annotation == text, f"{where}: {parameter.annotation}, not {text}"


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_the_read_keywords_are_those_declared(name: str) -> None:
    assert_scan_keywords(name, *ENTRY_POINTS[name])


def test_scan_options_holds_each_read_keyword_as_declared() -> None:
    """ScanOptions, what the reader is told, has a field for each keyword, of the declared
    type; its defaults are the declared ones."""
    fields = {f.name: f.type for f in dataclasses.fields(ScanOptions)}
    assert fields == {name: text for name, (text, _) in OPTIONS.items()}
    given = ScanOptions.of({"n_rows": 3})
    assert given.n_rows == 3
    for name in set(fields) - {"n_rows"}:
        assert getattr(given, name) == OPTIONS[name][1].default, name


def test_an_unknown_keyword_raises_naming_the_nearest() -> None:
    with pytest.raises(
        polars_avro.AvroKeywordError,
        match=r"scan_avro\(\) got an unexpected keyword argument 'n_row': did you mean n_rows=",
    ):
        polars_avro.scan_avro(b"", n_row=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"AvroReader\(\) got an unexpected keyword argument 'colums'"):
        polars_avro.AvroReader(b"", colums=["a"])  # type: ignore[call-arg]
    # Its own parameters are keywords too.
    assert polars_avro.read_avro(source=polars_avro.sample_file(), n_rows=2).height == 2


#: Each function taking ``**options``, and the keywords it declares them by.
TAKING: dict[str, tuple[Callable[..., Any], type]] = {
    "scan_avro": (polars_avro.scan_avro, ScanKeywords),
    "read_avro": (polars_avro.read_avro, ReadKeywords),
    "read_avro_schema": (polars_avro.read_avro_schema, ReadOptions),
    "AvroReader": (polars_avro.AvroReader, ReaderKeywords),
    "write_avro": (polars_avro.write_avro, WriteKeywords),
    "sink_avro": (polars_avro.sink_avro, SinkKeywords),
    "df.avro.write": (polars_avro._namespaces.AvroFrameNamespace.write, WriteKeywords),
    "lf.avro.sink": (polars_avro._namespaces.AvroLazyFrameNamespace.sink, SinkKeywords),
}


@pytest.mark.parametrize("name", TAKING)
def test_help_documents_each_keyword_taken(name: str) -> None:
    """The signature lists the declared keywords after the function's own parameters, and
    the docstring documents exactly the signature's parameters, each keyword with its
    declared text."""
    function, keywords = TAKING[name]
    doc = inspect.getdoc(function) or ""
    documented = re.findall(r"^(\w+)$", doc.split("Parameters\n----------\n")[1].split("\n\n")[0], flags=re.M)
    taken = [p for p in inspect.signature(function).parameters if p != "self"]
    assert documented == taken
    listed = declared(keywords)
    assert taken[-len(listed) :] == list(listed)
    for keyword, (_, k) in listed.items():
        assert inspect.cleandoc(k.doc).split("\n")[0] in doc, keyword


def _parameters(args: ast.arguments, skip_self: bool = False) -> list[tuple[str, str, str | None]]:
    """(name, positional or keyword, default text or None) of each parameter."""
    positional = args.posonlyargs + args.args
    if skip_self:
        positional = positional[1:]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    listed = [(a.arg, "positional", d) for a, d in zip(positional, defaults)]
    listed += [(a.arg, "keyword", d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    return [(n, k, None if d is None else ast.unparse(d)) for n, k, d in listed]


def _stub_signatures() -> dict[str, list[tuple[str, str, str | None]]]:
    """The functions and constructors `_internal.pyi` declares: (name, kind, default text) per parameter."""
    stub = Path(_internal.__file__).with_name("_internal.pyi")
    if not stub.exists():  # installed without it: the source tree's
        stub = Path(__file__).resolve().parent.parent / "polars_avro" / "_internal.pyi"
    tree = ast.parse(stub.read_text())
    out: dict[str, list[tuple[str, str, str | None]]] = {}

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = _parameters(node.args)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    name = node.name if item.name == "__init__" else f"{node.name}.{item.name}"
                    out[name] = _parameters(item.args, skip_self=True)
    return out


def _runtime_signature(obj: Any) -> list[tuple[str, str, str | None]]:
    """What pyo3 says of a function or class (`__text_signature__`), in the stub's terms."""
    text = obj.__text_signature__
    assert text is not None, obj
    tree = ast.parse(f"def f{text.replace('$self, ', '').replace('$self', '')}: ...")
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    return _parameters(function.args)


def test_the_stub_declares_every_compiled_function_as_it_is() -> None:
    declared = _stub_signatures()
    compiled: dict[str, Any] = {}
    for name, obj in vars(_internal).items():
        if callable(obj) and getattr(obj, "__text_signature__", None) is not None:
            compiled[name] = obj
        if isinstance(obj, type):
            for method, member in vars(obj).items():
                if not method.startswith("_") and getattr(member, "__text_signature__", None) is not None:
                    compiled[f"{name}.{method}"] = member
    assert set(compiled) <= set(declared), f"not in _internal.pyi: {sorted(set(compiled) - set(declared))}"
    for name, obj in compiled.items():
        runtime = _runtime_signature(obj)
        stub = declared[name]
        # Defaults pyo3 cannot print show as `...`: only their presence is compared then.
        stub = [(n, k, "..." if r[2] == "..." and d is not None else d) for (n, k, d), r in zip(stub, runtime)]
        assert stub == runtime, f"{name}: the stub says {declared[name]}, the module {runtime}"


#: Each ``.avro`` namespace method, and the function it calls, whose keywords it repeats.
NAMESPACES: dict[str, tuple[Callable[..., Any], Callable[..., Any]]] = {
    "df.avro.write": (polars_avro._namespaces.AvroFrameNamespace.write, polars_avro.write_avro),
    "lf.avro.sink": (polars_avro._namespaces.AvroLazyFrameNamespace.sink, polars_avro.sink_avro),
    "Expr.avro.decode": (polars_avro._namespaces.AvroExprNamespace.decode, polars_avro.decode),
    "Expr.avro.decode_error": (polars_avro._namespaces.AvroExprNamespace.decode_error, polars_avro.decode_error),
    "Expr.avro.schema_id": (polars_avro._namespaces.AvroExprNamespace.schema_id, polars_avro.schema_id),
    "Expr.avro.encode": (polars_avro._namespaces.AvroExprNamespace.encode, polars_avro.encode),
}


@pytest.mark.parametrize("name", NAMESPACES)
def test_the_namespace_methods_take_their_functions_parameters(name: str) -> None:
    method, function = NAMESPACES[name]
    # The method's self stands where the function takes the frame or the column.
    own = list(inspect.signature(method).parameters.values())[1:]
    theirs = list(inspect.signature(function).parameters.values())[1:]
    assert [(p.name, p.kind, p.default, p.annotation) for p in own] == [
        (p.name, p.kind, p.default, p.annotation) for p in theirs
    ], name
