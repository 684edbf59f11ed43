"""A local file written by replacing it: a temporary file beside it, renamed over it once whole.

The temporary file is hidden (scans of the folder leave it out), named after the target
and its writer's process, and fits in a file name whenever the target's name does. A
writer killed before it could remove its temporary file (SIGKILL, a lost machine) leaves
it behind; the next write of the same target removes those whose writer is gone.
"""

from __future__ import annotations

import os
import re
import stat
import time
import uuid

#: The longest file name most file systems take, in bytes.
_NAME_MAX = 255

#: A temporary file not modified for this long, whose process is not running here, is
#: stale: a writer on another machine sharing the folder writes to it more often.
STALE_SECONDS = 60


def _name_max(folder: str) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, ValueError, OSError):
        return _NAME_MAX


def _prefix(path: str) -> str:
    """The start of the names of `path`'s temporary files.

    Its name, shortened to leave room for the rest (the process id and a random part)
    within a file name.
    """
    folder, name = os.path.split(path)
    # ".", then ".<pid up to 10 digits>.<12 hex digits>.tmp"
    room = _name_max(folder or ".") - 1 - 28
    encoded = os.fsencode(name)
    if len(encoded) > room:
        name = encoded[:room].decode("utf-8", "ignore")  # cut on a character boundary
    return os.path.join(folder, f".{name}.")


def temporary_name(path: str) -> str:
    """A new temporary file name beside `path`."""
    return f"{_prefix(path)}{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp"


def _running(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would signal it there: never removed by its process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # running, as another user
    return True


def remove_stale(path: str) -> list[str]:
    """Removes the temporary files of writes of `path` whose writer is gone; their names."""
    prefix = _prefix(path)
    folder, start = os.path.split(prefix)
    own = re.compile(re.escape(start) + r"(\d+)\.[0-9a-f]{12}\.tmp")
    removed: list[str] = []
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return removed
    for name in names:
        found = own.fullmatch(name)
        if found is None or _running(int(found.group(1))):
            continue
        temporary = os.path.join(folder, name)
        try:
            if time.time() - os.lstat(temporary).st_mtime > STALE_SECONDS:
                os.remove(temporary)
                removed.append(temporary)
        except OSError:
            continue  # removed meanwhile, or not ours to remove
    return removed


def keep_mode(temporary: str, path: str) -> None:
    """Gives a temporary file the mode of the file it will replace.

    Before anything is written to it: a private file stays private while it is written
    and after.
    """
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return  # a new file: the mode the umask gives
    os.chmod(temporary, mode)
