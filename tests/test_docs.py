"""Docs that cannot go stale: every Python and shell example of README.md, CONTRIBUTING.md,
CHANGELOG.md and docs/*.md runs against the installed package, every relative link
resolves, and every exception class the docs name exists.

What runs, and how:

- Fenced blocks of ```python, ```console (and ```bash, ```sh, ```shell, written the same
  way). Indented blocks are not run: they hold installation and development commands
  (pip, nox, cargo) and layouts of folders. ```rust (docs/rust.md, docs/architecture.md,
  docs/reading.md, docs/writing.md) and ```text blocks are out of scope.
- A page's Python blocks run in order in one namespace, as a reader follows the page, in a
  fresh, empty temporary directory; tests/docs_pages.py writes what a page's examples read
  and do not write themselves, and starts the servers they talk to (the S3 test server for
  `s3://bucket/...`, the schema registry and a Kafka broker for the Kafka examples).
- A Python statement whose last line ends with `# raises SomeError` must raise that class (one
  of polars_avro's, Polars' or a builtin), and one ending with `# warns SomeWarning` must warn
  it. A `print(...)` statement followed by a comment, on its last line or on the comment
  lines right below it, must print that comment.
- In a console block, a line starting with `$ ` is a command (a trailing `\\` continues it),
  run with bash in the page's directory with this Python's scripts first on PATH; the lines
  up to the next command are what it prints: its standard output, then its standard error
  where the doc shows that. A line `...` stands for any lines, and `...` within a line for any
  text. A command exits with 0, unless it ends with a comment `# exit status N`, or the doc
  shows an `error:` line (then with anything but 0).
- `<!-- not run: REASON -->` on the line before a fence leaves that block out, and says why;
  `<!-- runs on Polars 2 -->` runs it on Polars 2 only.
- The docs show what Polars 2 prints. On Polars 1 a Map dtype is expected as Polars 1 prints
  it (a list of key-value structs); other parts that differ between releases are `...`.

Each page is one test case, so a failure names the page, and the message gives the line of
the block (or statement, or command) in the page.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import os
import re
import subprocess
import sys
import tokenize
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from docs_pages import SETUPS, Page

import polars_avro
import polars_avro.exceptions

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "README.md",
    "CONTRIBUTING.md",
    "CHANGELOG.md",
    *sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")),
]
RUN = {"python", "console", "bash", "sh", "shell"}
#: Every fence must say its language: a block cannot slip past the test unnoticed.
LANGUAGES = RUN | {"rust", "text"}
POLARS_2 = int(pl.__version__.split(".")[0]) >= 2

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)")
MARKER = re.compile(r"^<!--\s*(?P<what>not run|runs on Polars 2)\s*(?::(?P<reason>.*?))?\s*-->\s*$")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]*)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.S)
ERROR_NAME = re.compile(r"\bAvro[A-Za-z]*(?:Error|Warning)\b")
SAYS = re.compile(r"#\s*(?P<how>raises|warns)\s+(?P<name>[A-Za-z_]\w*)")
EXIT_STATUS = re.compile(r"#\s*exit status (\d+)\s*$")


@dataclass
class Block:
    page: str
    line: int  # the opening fence's line in the page, from 1
    lang: str
    lines: list[str]
    marker: str | None = None  # "not run" or "runs on Polars 2"
    reason: str = ""

    @property
    def first_line(self) -> int:
        return self.line + 1


@dataclass
class Parsed:
    blocks: list[Block] = field(default_factory=list)
    #: The page with its fenced blocks blanked out (lines kept, so line numbers hold).
    prose: str = ""


@functools.cache
def parse(page: str) -> Parsed:
    lines = (ROOT / page).read_text(encoding="utf-8").splitlines()
    parsed = Parsed()
    prose: list[str] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            prose.append(lines[i])
            i += 1
            continue
        fence, lang = m.group(1), m.group(2).lower()
        start = i
        i += 1
        body = []
        while i < len(lines) and not lines[i].lstrip().startswith(fence):
            body.append(lines[i])
            i += 1
        block = Block(page, start + 1, lang, body)
        marker = MARKER.match(lines[start - 1]) if start else None
        if marker:
            block.marker, block.reason = marker.group("what"), (marker.group("reason") or "").strip()
        parsed.blocks.append(block)
        prose.extend([""] * (i + 1 - start))
        i += 1
    parsed.prose = "\n".join(prose)
    return parsed


# --- links -------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text lowercased, characters other than letters,
    digits, spaces, hyphens and underscores dropped, spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link shows its text
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


@functools.cache
def anchors(page: str) -> frozenset[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in parse(page).prose.splitlines():
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return frozenset(out)


def links(page: str) -> Iterator[tuple[int, str]]:
    """(line, target) of each Markdown link outside code."""
    prose = parse(page).prose
    # Code spans may hold brackets and parentheses; they keep their line breaks.
    prose = CODE_SPAN.sub(lambda m: "\n" * m.group(0).count("\n"), prose)
    for m in LINK.finditer(prose):
        yield prose.count("\n", 0, m.start()) + 1, m.group("target")


def test_github_slugs_are_made_as_github_makes_them() -> None:
    assert slug("Which files: directories, globs and `hidden_file_prefix`") == (
        "which-files-directories-globs-and-hidden_file_prefix"
    )
    assert slug("`ignore_errors=True`: every intact block, and a report") == (
        "ignore_errorstrue-every-intact-block-and-a-report"
    )
    assert slug("From polars-avro 0.13 (PyPI)") == "from-polars-avro-013-pypi"
    assert slug("Polars' keywords") == "polars-keywords"


@pytest.mark.parametrize("page", PAGES)
def test_every_relative_link_resolves(page: str) -> None:
    broken = []
    for line, target in links(page):
        if re.match(r"(https?|mailto):", target):
            continue
        path, _, anchor = target.partition("#")
        file = (ROOT / page).parent / path if path else ROOT / page
        if not file.exists():
            broken.append(f"{page}:{line}: {target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(str(file.resolve().relative_to(ROOT))):
            broken.append(f"{page}:{line}: {target}: no heading makes the anchor #{anchor}")
        elif not target:
            broken.append(f"{page}:{line}: an empty link")
    assert not broken, "\n".join(broken)


# --- exception classes -------------------------------------------------------------------


def exception_class(name: str) -> type[BaseException]:
    """The class a doc names: polars_avro's, Polars' or a builtin."""
    for module in (polars_avro, polars_avro.exceptions, pl.exceptions, builtins):
        found = getattr(module, name, None)
        if isinstance(found, type) and issubclass(found, BaseException):
            return found
    msg = f"no exception class {name!r} in polars_avro, polars.exceptions or builtins"
    raise LookupError(msg)


#: Classes of other packages that the docs name as theirs.
OTHERS = {"AvroSpecError": "hafaio's polars-avro 0.13 raises it (docs/migrating.md)"}


@pytest.mark.parametrize("page", PAGES)
def test_every_exception_class_the_docs_name_exists(page: str) -> None:
    names = set(ERROR_NAME.findall((ROOT / page).read_text(encoding="utf-8"))) - set(OTHERS)
    missing = sorted(n for n in names if not hasattr(polars_avro, n) and not hasattr(polars_avro.exceptions, n))
    assert not missing, f"{page} names exception classes polars_avro does not have: {missing}"


def named_class(name: str) -> type[BaseException]:
    if name.startswith("polars.exceptions."):
        return exception_class(name.rpartition(".")[2])
    return exception_class(name)


def test_the_table_of_exceptions_gives_each_its_classes_and_leaves_none_out() -> None:
    rows = re.findall(r"^\| `(Avro\w+)` \| ([^|]+) \|", (ROOT / "docs/errors.md").read_text(encoding="utf-8"), re.M)
    assert rows, "docs/errors.md's table of exceptions"
    for name, bases in rows:
        for base in re.findall(r"`([\w.]+)`", bases):
            assert issubclass(exception_class(name), named_class(base)), f"docs/errors.md: {name} is no {base}"
    errors = {
        name
        for name, cls in vars(polars_avro.exceptions).items()
        if isinstance(cls, type) and issubclass(cls, polars_avro.AvroError) and cls is not polars_avro.AvroError
    }
    assert errors == {name for name, _ in rows}, "docs/errors.md lists every subclass of AvroError"


# --- which blocks run --------------------------------------------------------------------


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in parse(page).blocks]


def test_every_fenced_block_says_its_language() -> None:
    unknown = [f"{b.page}:{b.line}: {b.lang or 'no language'}" for b in all_blocks() if b.lang not in LANGUAGES]
    assert not unknown, "fences of no language the docs test knows:\n" + "\n".join(unknown)


def test_blocks_left_out_say_why_and_are_few() -> None:
    left_out = [b for b in all_blocks() if b.marker == "not run"]
    assert all(b.reason for b in left_out), [f"{b.page}:{b.line}" for b in left_out if not b.reason]
    assert all(b.lang in RUN for b in left_out), "only blocks that would run are marked"
    # Examples are made to run; the few that cannot (a real cloud account, a loop that
    # never ends) are listed here by the test's output when it fails.
    assert len(left_out) < 10, [f"{b.page}:{b.line}: {b.reason}" for b in left_out]


# --- matching printed output -------------------------------------------------------------


def as_polars_prints(line: str) -> str:
    """A line of output as the running Polars prints it: the docs show Polars 2, whose Map
    dtype Polars 1 prints as a list of key-value structs (docs/versions.md)."""
    if POLARS_2:
        return line
    return re.sub(r"Map\(String, (\w+)\)", r"List(Struct({'key': String, 'value': \1}))", line)


def without_blank_end(lines: list[str]) -> list[str]:
    lines = list(lines)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def matches(expected: list[str], actual: str) -> bool:
    """Whether `actual` is what `expected` shows: lines compared without trailing spaces,
    a line `...` standing for any lines (none too), `...` within a line for any text."""
    pattern = []
    for line in map(as_polars_prints, without_blank_end(expected)):
        if line.strip() == "...":
            pattern.append(r"(?:[^\n]*\n)*?")
        else:
            pattern.append(r"[^\n]*".join(map(re.escape, line.rstrip().split("..."))) + r"\n")
    # Lines end at line breaks only: a JSON string may hold U+2028, which splitlines() splits at.
    text = "".join(line.rstrip() + "\n" for line in without_blank_end(actual.split("\n")))
    return re.fullmatch("".join(pattern), text, re.S) is not None


def test_ellipses_match_any_lines_and_any_text() -> None:
    assert matches(["a", "...", "d"], "a\nb\nc\nd\n")
    assert matches(["a", "...", "b"], "a\nb")
    assert matches(["x ... z"], "x y z  \n")
    assert not matches(["a", "b"], "a\nb\nc")
    assert not matches(["a..."], "a\nb")
    assert matches([], "")


def test_the_docs_map_dtype_is_spelled_as_the_running_polars_prints_it() -> None:
    expected = "Map(String, Int32)" if POLARS_2 else "List(Struct({'key': String, 'value': Int32}))"
    shown = pl.DataFrame(
        {"m": [[{"key": "a", "value": 1}]]}, schema={"m": pl.List(pl.Struct({"key": pl.String, "value": pl.Int32}))}
    )
    if POLARS_2:
        shown = shown.select(pl.col("m").cast(pl.Map(pl.String, pl.Int32)))
    assert str(shown.schema["m"]) == expected == as_polars_prints("Map(String, Int32)")


# --- running the examples ----------------------------------------------------------------


def comments(source: str) -> dict[int, str]:
    """Each comment's text by its line (from 1)."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            found[token.start[0]] = token.string
    return found


def is_print(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "print"
    )


def doc_line(error: BaseException, page: str) -> int | None:
    """The page's line where `error` was raised: the innermost frame of the page's code."""
    line = None
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(ROOT / page):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def run_python(block: Block, namespace: dict[str, Any]) -> None:
    """Runs the block, statement by statement where a statement says what it raises, warns
    or prints, with the page's line numbers in tracebacks."""
    source = "\n".join(block.lines) + "\n"
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        pytest.fail(f"{block.page}:{block.first_line - 1 + (e.lineno or 1)}: {e.msg}")
    notes = comments(source)
    lines = source.splitlines()
    checked = set()
    done = 0  # lines of the block run so far

    def run(first: int, last: int) -> None:  # lines first..last of the block, from 1
        padding = "\n" * (block.first_line - 1 + first - 1)
        code = compile(padding + "\n".join(lines[first - 1 : last]) + "\n", str(ROOT / block.page), "exec")
        exec(code, namespace)

    def run_plainly(first: int, last: int) -> None:
        if last < first:
            return
        try:
            run(first, last)
        except Exception as e:
            line = doc_line(e, block.page) or block.first_line - 1 + first
            pytest.fail(f"{block.page}:{line} (the block at line {block.line}): {type(e).__name__}: {e}")

    for node in tree.body:
        end = node.end_lineno or node.lineno
        said = SAYS.search(notes.get(end, ""))
        expected: list[str] = []
        if is_print(node):
            if end in notes:
                expected.append(notes[end].lstrip("#").strip())
            below = end + 1
            while below <= len(lines) and lines[below - 1].lstrip().startswith("#"):
                expected.append(lines[below - 1].lstrip()[1:].strip())
                below += 1
        if not said and not expected:
            continue
        checked.add(end)
        run_plainly(done + 1, node.lineno - 1)
        where = f"{block.page}:{block.first_line - 1 + node.lineno}"
        if said and said.group("how") == "raises":
            cls = exception_class(said.group("name"))
            try:
                run(node.lineno, end)
            except cls:
                pass
            except Exception as e:
                pytest.fail(f"{where}: raised {type(e).__name__}, not {cls.__name__}: {e}")
            else:
                pytest.fail(f"{where}: raised nothing, where the doc says {cls.__name__}")
        elif said:
            cls = exception_class(said.group("name"))
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                run_plainly(node.lineno, end)
            if not any(issubclass(w.category, cls) for w in caught):
                pytest.fail(f"{where}: warned {[w.category.__name__ for w in caught]}, not {cls.__name__}")
        else:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                run_plainly(node.lineno, end)
            if not matches(expected, out.getvalue()):
                pytest.fail(f"{where}: printed\n{out.getvalue()}\nwhere the doc shows\n" + "\n".join(expected))
        done = end
    run_plainly(done + 1, len(lines))
    stray = [block.first_line - 1 + n for n, text in notes.items() if SAYS.search(text) and n not in checked]
    assert not stray, f"{block.page}: `# raises` or `# warns` on lines {stray}, which end no top-level statement"


@dataclass
class Command:
    line: int  # in the page
    text: str
    expected: list[str]
    status: int | None  # None: any but 0


def commands(block: Block) -> list[Command]:
    found: list[Command] = []
    lines = iter(enumerate(block.lines, block.first_line))
    for number, line in lines:
        if line.startswith("$ "):
            text = line[2:]
            while text.endswith("\\"):
                text += "\n" + next(lines)[1]  # bash reads the backslash and line break as a space
            found.append(Command(number, text, [], 0))
        elif found:
            found[-1].expected.append(line)
        else:
            pytest.fail(f"{block.page}:{number}: a shell block starts with a `$ ` command")
    for command in found:
        stated = EXIT_STATUS.search(command.text)
        if stated:
            command.status = int(stated.group(1))
        elif any("error:" in line for line in command.expected):
            command.status = None
    return found


def run_console(block: Block, cwd: Path) -> None:
    env = dict(os.environ)
    # The installed `polars-avro` and `python` come first.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["LC_COLLATE"] = "C"  # `sort` in bytes' order
    for command in commands(block):
        result = subprocess.run(
            ["bash", "-c", command.text], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
        where = f"{block.page}:{command.line}: $ {command.text}"
        shown = matches(command.expected, result.stdout) or matches(command.expected, result.stdout + result.stderr)
        if not shown:
            pytest.fail(
                f"{where}\nprinted\n{result.stdout}\nand on standard error\n{result.stderr}\n"
                "where the doc shows\n" + "\n".join(command.expected)
            )
        if (result.returncode != command.status) if command.status is not None else result.returncode == 0:
            wanted = "a failure" if command.status is None else command.status
            pytest.fail(f"{where}\nexited with {result.returncode}, not {wanted}: {result.stderr}")


def test_a_python_statement_must_raise_warn_and_print_what_the_doc_says() -> None:
    said = [
        "import warnings",
        "print(1 + 1)  # 2",
        "print('a')",
        "# a",
        'int("x")  # raises ValueError',
        'warnings.warn("w")  # warns UserWarning',
    ]
    run_python(Block("docs/x.md", 1, "python", said), {})
    for wrong in (
        ["print(1)  # 2"],
        ["print(1, 2)", "# 1 ...", "# 3"],
        ['int("1")  # raises ValueError'],
        ['int("x")  # raises KeyError'],
        ["x = 1  # warns UserWarning"],
        ["try:", "    int('x')  # raises ValueError", "except ValueError:", "    pass"],
        ["1 / 0"],
    ):
        with pytest.raises((pytest.fail.Exception, AssertionError)):
            run_python(Block("docs/x.md", 1, "python", wrong), {})


def test_a_command_must_print_and_exit_as_the_doc_shows(tmp_path: Path) -> None:
    shown = ["$ echo a; echo b >&2", "a", "b", "$ echo a \\", "  c", "a c", "$ exit 3  # exit status 3"]
    run_console(Block("docs/x.md", 1, "console", shown), tmp_path)
    run_console(Block("docs/x.md", 1, "console", ["$ echo a; echo b >&2", "a"]), tmp_path)  # stderr not shown
    for wrong in (["$ echo a", "b"], ["$ false"], ["$ true  # exit status 1"], ["$ echo 'x: error: y'", "x: error: y"]):
        with pytest.raises(pytest.fail.Exception):
            run_console(Block("docs/x.md", 1, "console", wrong), tmp_path)


def runs_here(block: Block) -> bool:
    return block.lang in RUN and block.marker != "not run" and (block.marker != "runs on Polars 2" or POLARS_2)


RUN_PAGES = [page for page in PAGES if any(b.lang in RUN for b in parse(page).blocks)]
#: A page's blocks of Ray or Dask run in a case of their own, where that engine is installed.
ENGINES = {"ray": "polars_avro.ray", "dask": "polars_avro.dask"}
CASES = [pytest.param(page, None, id=page) for page in RUN_PAGES] + [
    pytest.param(page, engine, id=f"{page}-{engine}")
    for page in RUN_PAGES
    for engine, module in ENGINES.items()
    if any(module in "\n".join(b.lines) for b in parse(page).blocks)
]


@pytest.mark.parametrize(("page", "engine"), CASES)
def test_the_examples_of_a_page_run_as_shown(
    page: str, engine: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if engine is not None:
        pytest.importorskip(engine, reason=f"{engine} is not installed (the `{engine}` extra)")
    workdir = tmp_path / "page"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    with contextlib.ExitStack() as stack:
        context = Page(workdir, monkeypatch, request, stack, namespace, engine)
        setup = SETUPS.get(page)
        if setup is not None:
            setup(context)
        for block in parse(page).blocks:
            if not runs_here(block) or not context.runs(block.lines):
                continue
            if block.lang == "python":
                run_python(block, namespace)
            else:
                run_console(block, workdir)
        for check in context.checks:
            check()
