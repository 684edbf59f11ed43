"""What ``ignore_errors=True`` leaves out.

One report per damaged block, and how reads hand them on (warnings for scan_avro and read_avro,
``.errors`` for AvroReader).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from polars_avro._callsite import CallSite, warn_user
from polars_avro.exceptions import AvroDataSkippedWarning


@dataclass(frozen=True)
class SkippedBlock:
    """A damaged block left out of a read."""

    #: The exception class a strict read would have raised (``"AvroDecodeError"``, ...).
    kind: str
    #: The file (path, URL or ``"<bytes>"``).
    file: str | None
    #: Index of the damaged block in the file.
    block: int | None
    #: Byte offset of the damage in the file.
    offset: int | None
    #: Records lost with the block; None when its framing was broken, so that the count
    #: it claims cannot be trusted.
    records: int | None
    #: The error message, with the file, block and offset.
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_reader(cls, report: dict[str, Any]) -> SkippedBlock:
        return cls(**report)


def warn(skipped: SkippedBlock, site: CallSite | None = None) -> None:
    """Reports a skipped block (or file) as a warning carrying the same fields.

    It points at the user's line: the read's call, else ``site`` (where the scan was made).
    """
    # A file whose header is damaged (or a zero-byte file) is left out whole: no block of it.
    what = "a damaged block" if skipped.block is not None else "a file"
    warning = AvroDataSkippedWarning(f"skipped {what}: {skipped.message}")
    for name, value in skipped.to_dict().items():
        setattr(warning, name, value)
    warn_user(warning, site)
