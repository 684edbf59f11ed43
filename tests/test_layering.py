"""The Rust modules import each other one way: no module imports one that imports it back
(directly or through others), and data flows source, container, decode, read, python
(the write side: python, write, container, and sink, which takes the bytes; messages in
columns: python, message, decode and write). The command line sits on the Python package's
public functions. Read from the source tree beside the tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

SRC = Path(__file__).resolve().parent.parent / "src"

#: A module, as a graph of imports names it.
Node = TypeVar("Node", str, tuple[str, ...])

#: What each top-level module may use besides itself: the layers before it.
ALLOWED = {
    "error": set(),
    "frame_type": {"error"},
    "varint": set(),
    "time_zone": set(),
    "bufread": set(),
    "threads": {"error", "memory"},
    # Signal handlers in front of the ones already there (SIGBUS for maps, SIGINT for Ctrl-C).
    "signals": set(),
    # glibc's arena count under an address-space limit, bounded when the module loads.
    "arenas": set(),
    # Long loops' checks for a stop (Ctrl-C), which the python layer sets.
    "interrupt": {"error"},
    # Allocations the system refused, which the python layer's allocator notes.
    "memory": {"error"},
    "schema": {"error", "varint"},
    # Filters the reader evaluates, on decoded frames; read from Polars' serialized expressions.
    "filter": {"error"},
    "source": {"error", "bufread", "signals", "interrupt"},
    # Where writes go (local files replaced whole, pipes, uploads to the stores of source).
    "sink": {"error", "source"},
    "container": {"error", "varint", "bufread", "memory"},
    "decode": {"error", "varint", "schema", "frame_type", "time_zone"},
    "read": {
        "error",
        "schema",
        "source",
        "container",
        "decode",
        "filter",
        "threads",
        "frame_type",
        "interrupt",
        "memory",
    },
    "write": {"error", "varint", "schema", "container", "threads", "frame_type", "time_zone", "interrupt"},
    # Messages in columns: single datums decoded and encoded like a file's records.
    "message": {"error", "schema", "decode", "write", "threads", "frame_type", "interrupt"},
    # Whole files block by block, for the command line: read's opening of a source, container
    # framing, decode's check of a block's records, threads to recompress blocks on.
    "blocks": {"error", "schema", "source", "container", "decode", "read", "threads"},
    # Datums as JSON and back, and random datums (the command line's tojson, fromjson, random).
    "avro_json": {"error", "varint", "schema", "decode"},
    "python": {
        "error",
        "filter",
        "schema",
        "source",
        "sink",
        "container",
        "decode",
        "read",
        "write",
        "message",
        "blocks",
        "avro_json",
        "threads",
        "frame_type",
        "signals",
        "interrupt",
        "arenas",
        "memory",
    },
}

_USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M)
_INLINE = re.compile(r"\b(?:crate|super)(?:::\w+)+")


def _module_of(path: Path) -> tuple[str, ...]:
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[:-1] if parts[-1] in ("mod", "lib") else parts


def _modules() -> dict[tuple[str, ...], str]:
    return {_module_of(p): p.read_text() for p in SRC.rglob("*.rs")}


def _paths(text: str) -> list[str]:
    """The paths a file names: each `use` (its braces expanded) and inline `crate::`/`super::` paths."""
    code = re.sub(r'r#"[\s\S]*?"#', '""', text)
    code = re.sub(r'"(?:\\.|[^"\\])*"', '""', code)
    code = re.sub(r"//[^\n]*", "", code)
    code = code.split("#[cfg(test)]")[0]  # unit tests may reach anywhere
    out: list[str] = []
    for use in _USE.findall(code):
        out.extend(_expand(use))
    out.extend(_INLINE.findall(code))
    return out


def _expand(use: str) -> list[str]:
    use = re.sub(r"\s+", "", use)
    if "{" not in use:
        return [use]
    head, _, rest = use.partition("{")
    body = rest[: rest.rindex("}")]
    parts, depth, start = [], 0, 0
    for i, c in enumerate(body):
        depth += c == "{"
        depth -= c == "}"
        if c == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return [x for p in parts if p for x in _expand(head + p)]


def _target(module: tuple[str, ...], path: str, modules: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    """The module a path lands in: the longest module prefix of its absolute form."""
    segments = path.split("::")
    if segments[0] == "crate":
        absolute = segments[1:]
    elif segments[0] == "super":
        base = list(module[:-1])
        segments = segments[1:]
        while segments and segments[0] == "super":
            base, segments = base[:-1], segments[1:]
        absolute = base + segments
    elif segments[0] == "self":
        absolute = list(module) + segments[1:]
    elif (*module, segments[0]) in modules:
        absolute = list(module) + segments  # a child module named directly
    else:
        return None  # another crate, or std
    for end in range(len(absolute), 0, -1):
        if tuple(absolute[:end]) in modules:
            return tuple(absolute[:end])
    return None


def _graph() -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    modules = _modules()
    names = set(modules)
    graph: dict[tuple[str, ...], set[tuple[str, ...]]] = {m: set() for m in modules}
    for module, text in modules.items():
        for path in _paths(text):
            target = _target(module, path, names)
            if target is not None and target != module:
                graph[module].add(target)
    return graph


def test_no_module_imports_one_that_imports_it_back() -> None:
    cycles = _circles(_graph(), name="::".join)
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_data_flows_one_way() -> None:
    wrong = []
    for module, targets in _graph().items():
        if not module:
            continue  # lib.rs names every module
        for target in targets:
            if target and target[0] != module[0] and target[0] not in ALLOWED[module[0]]:
                wrong.append(f"{'::'.join(module)} uses {'::'.join(target)}")
    assert not wrong, "\n".join(sorted(wrong))


def test_the_check_sees_imports() -> None:
    # The parser itself: braces, super and children.
    assert _expand("crate::a::{b, c::{d, e}}") == ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    graph = _graph()
    assert ("decode", "read_type") in graph[("decode", "column")]
    assert ("error",) in graph[("read",)]


def test_every_top_level_module_has_a_layer() -> None:
    assert {m[0] for m in _graph() if m} == set(ALLOWED)


def _private_imports(source: str) -> list[str]:
    """The private names (a module or a name starting with "_") a Python module imports from polars_avro."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("polars_avro"):
            parts = (node.module or "").split(".")
            if parts[1:2] == ["cli"]:
                continue  # the command line's own modules
            if any(p.startswith("_") for p in parts):
                found.append(node.module or "")
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_") and a.name[:2] != "__"]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("polars_avro.") and "._" in a.name]
    return found


def test_the_command_line_runs_on_public_functions() -> None:
    """polars_avro/cli/ imports nothing private of the package: what it needs, users can call."""
    cli = SRC.parent / "polars_avro" / "cli"
    wrong = {p.name: _private_imports(p.read_text()) for p in sorted(cli.glob("*.py"))}
    assert not {k: v for k, v in wrong.items() if v}, wrong
    assert _private_imports("from polars_avro import _internal\nfrom polars_avro._io import x\n") == [
        "polars_avro._internal",
        "polars_avro._io",
    ]


#: The Python package beside the tests.
PACKAGE = SRC.parent / "polars_avro"


def _python_imports(source: str, module: str, modules: set[str]) -> set[str]:
    """The package's modules a Python module imports, wherever it imports them (at the top,
    in a function, for type checkers only): ``from polars_avro import x`` is the module x
    where there is one, else the package."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: len(module.split(".")) - node.level + (module in _PACKAGES)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            if base != "polars_avro" and not base.startswith("polars_avro."):
                continue
            named = {f"{base}.{a.name}" for a in node.names} & modules
            found |= named or ({base} & modules)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names} & modules
    found.discard(module)
    return found


#: The packages among the modules (their `__init__.py`).
_PACKAGES = {"polars_avro", "polars_avro._polars", "polars_avro.cli"}


def _python_graph() -> dict[str, set[str]]:
    files = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    # The compiled core, a module with no Python: a leaf.
    modules = {*files, "polars_avro._internal"}
    graph = {name: _python_imports(path.read_text(), name, modules) for name, path in files.items()}
    return {**graph, "polars_avro._internal": set()}


def _circles(graph: Mapping[Node, set[Node]], name: Callable[[Node], str] = str) -> list[str]:
    """The import circles of a graph, each as the path round it, its modules named by `name`."""
    circles: list[str] = []
    state: dict[Node, int] = {}
    stack: list[Node] = []

    def visit(m: Node) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                circles.append(" -> ".join(name(x) for x in [*stack[stack.index(n) :], n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return circles


def test_no_python_module_imports_one_that_imports_it_back() -> None:
    """The Python package has no import circle either, imports made in functions and for
    type checkers counted: each module sits on those it imports."""
    circles = _circles(_python_graph())
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_python_check_sees_imports() -> None:
    graph = _python_graph()
    # A type checker's import and a package's module named by `from polars_avro import ...`.
    assert "polars_avro._arguments" in graph["polars_avro._keywords"]
    assert "polars_avro._polars.facts" in graph["polars_avro._polars.release"]
    assert _circles({"a": {"b"}, "b": {"a"}}) == ["a -> b -> a"]


def test_the_keyword_table_depends_on_nothing_above_it() -> None:
    """The keyword table (every entry point's keywords, their types and texts) imports only
    leaves: modules that import nothing of the package but the compiled core and its
    exceptions."""
    graph = _python_graph()
    leaves = {"polars_avro._internal", "polars_avro.exceptions"}
    for module in graph["polars_avro._keywords"]:
        assert graph[module] <= leaves | {"polars_avro._polars.keywords"}, (module, graph[module])
    assert graph["polars_avro._polars.keywords"] <= leaves


def test_no_module_but_the_wing_mentions_a_polars_release() -> None:
    """What adapts to a Polars release lives in polars_avro/_polars/: no other module of the
    scan, read and write names a release ("Polars 1.x", "Polars 2.0") or asks its version."""
    wing = PACKAGE / "_polars"
    mentions = re.compile(r"Polars [12](\.\d+|\.x)?\b(?! to)|pl\.__version__|polars\.__version__")
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if wing in path.parents or path.parent.name == "cli" or path.name in ("ray.py", "dask.py"):
            continue
        found += [
            f"{path.name}:{i}: {line.strip()}"
            for i, line in enumerate(path.read_text().splitlines(), 1)
            if mentions.search(line)
        ]
    assert not found, "\n".join(found)
