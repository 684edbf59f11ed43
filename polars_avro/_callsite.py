"""Where a warning points: the user's line, not a line of this package or of Polars.

``warnings.warn``'s ``stacklevel`` counts frames, which differ by entry point (a wrapper, a
scan's generator, an expression's batch function): the user's frame is found by walking the
stack instead. When Polars runs a query's Python callbacks on its own threads, no frame of
the user's is on the stack; the warning then points at the line that built the scan or the
expression (its :class:`CallSite`, kept when it was made).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from types import FrameType

import polars as pl

#: Code that is not the user's: this package, Polars, the thread pools Polars runs Python
#: callbacks on (a thread of its own starts with their frames), and contextlib, between a
#: ``with`` of this package's and the code it runs.
_NOT_USERS = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(pl.__file__)) + os.sep,
    os.path.dirname(os.path.abspath(concurrent.futures.__file__)) + os.sep,
    os.path.abspath(threading.__file__),
    os.path.abspath(contextlib.__file__),
)


def _is_ours(frame: FrameType) -> bool:
    """Whether a frame runs code that is not the user's."""
    return frame.f_code.co_filename.startswith(_NOT_USERS)


def _users_frame(frame: FrameType | None) -> tuple[FrameType | None, int]:
    """The first frame from `frame` outwards that is the user's, and how many frames out it is."""
    level = 0
    while frame is not None and _is_ours(frame):
        frame = frame.f_back
        level += 1
    return frame, level


@dataclass(frozen=True)
class CallSite:
    """A line of the user's code: where a scan or an expression was made (it pickles as text)."""

    filename: str
    lineno: int
    module: str | None

    @classmethod
    def of_caller(cls) -> CallSite | None:
        """The user's line that called into this package; None where there is none."""
        frame, _ = _users_frame(sys._getframe(1))
        if frame is None:
            return None
        return cls(frame.f_code.co_filename, frame.f_lineno, frame.f_globals.get("__name__"))


def warn_user(warning: Warning, site: CallSite | None = None) -> None:
    """Warns at the user's line on the stack, else at ``site`` (else here)."""
    frame, level = _users_frame(sys._getframe(0))
    if frame is not None or site is None:
        # stacklevel 1 is this function's frame, which _users_frame counted as ours.
        warnings.warn(warning, stacklevel=level + 1 if frame is not None else 1)
        return
    module = sys.modules.get(site.module) if site.module is not None else None
    module_globals = vars(module) if module is not None else None
    registry = module_globals.setdefault("__warningregistry__", {}) if module_globals is not None else None
    # The module's globals let the warning show its source line through the module's loader
    # (a zipped module's too). A module without a spec's loader (`__main__` of a script, of
    # `python -c` or the interactive interpreter) has none to give: passing its globals
    # raised ImportError ('__main__' is not a built-in module) and, on Python 3.13, a
    # DeprecationWarning (missing a __spec__.loader). Without them a script's line is still
    # read from its file.
    loader = getattr(module_globals.get("__spec__"), "loader", None) if module_globals is not None else None
    warnings.warn_explicit(
        warning,
        type(warning),
        site.filename,
        site.lineno,
        site.module,
        registry,
        module_globals=module_globals if loader is not None else None,
    )
