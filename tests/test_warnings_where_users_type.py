"""A warning reaches the user wherever they type: a script, the interactive interpreter,
``python -c`` and a Jupyter kernel.

In the interpreter and under ``python -c`` every warning raised ``ImportError: '__main__' is
not a built-in module`` instead: a lazy scan warns from Polars' threads at the line that made
the scan, and that line's module (``__main__``) could give the warnings machinery no source.
The warning here is a zero-byte file left out under ``ignore_errors=True``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import polars_avro

#: A user's lines: a lazy scan that warns while collecting, the warning caught and printed
#: (the blank line ends the block, as the interactive interpreter needs).
CODE = """
import warnings
import polars as pl
import polars_avro
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    rows = pl.scan_avro("FOLDER", ignore_errors=True).collect().height

# (Leaving out the warnings of the running Polars' bugs, which some releases give at a first scan.)
names = [type(w.message).__name__ for w in caught if w.category is not polars_avro.AvroPolarsBugWarning]
print("rows", rows, "warnings", names)
"""
EXPECTED = "rows 2 warnings ['AvroDataSkippedWarning']"


@pytest.fixture
def folder(tmp_path: Path) -> str:
    polars_avro.write_avro(pl.DataFrame({"a": [1, 2]}), tmp_path / "x.avro")
    (tmp_path / "y.avro").write_bytes(b"")
    return str(tmp_path)


def _code(folder: str) -> str:
    return CODE.replace("FOLDER", folder)


def _run(args: list[str], folder: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args], input=stdin, capture_output=True, text=True, timeout=120, cwd=folder, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_script(folder: str, tmp_path: Path) -> None:
    script = tmp_path / "user_script.py"
    script.write_text(_code(folder))
    assert EXPECTED in _run([str(script)], folder)


def test_python_c(folder: str) -> None:
    assert EXPECTED in _run(["-c", _code(folder)], folder)


def test_interactive_interpreter(folder: str) -> None:
    # `-i` with the lines on stdin: the interactive loop, whose __main__ is the built-in one.
    out = _run(["-i"], folder, stdin=_code(folder))
    assert EXPECTED in out
    assert "ImportError" not in out


def test_warning_shown_in_interactive_interpreter(folder: str) -> None:
    """Not caught: printed to stderr with the line it points at."""
    code = f'import polars as pl, polars_avro\nprint(pl.scan_avro("{folder}", ignore_errors=True).collect().height)\n'
    out = _run(["-i"], folder, stdin=code)
    assert "AvroDataSkippedWarning: skipped a file" in out
    assert "ImportError" not in out


def test_jupyter_kernel(folder: str) -> None:
    """An ipykernel kernel, started headless, runs the lines as a notebook cell would."""
    manager = pytest.importorskip("jupyter_client.manager")
    pytest.importorskip("ipykernel")
    km, kc = manager.start_new_kernel(
        kernel_name="python3", extra_arguments=["--HistoryManager.enabled=False"], cwd=folder
    )
    try:
        outputs: list[str] = []

        def keep(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                outputs.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                outputs.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

        reply = kc.execute_interactive(_code(folder), timeout=120, output_hook=keep)
        assert reply["content"]["status"] == "ok", outputs
        assert EXPECTED in "".join(outputs)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
