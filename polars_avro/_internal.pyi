from typing import IO, Any, Callable

import polars as pl

__version__: str
MAX_DECIMAL_PRECISION: int

class FileReader:
    rows_read: int
    def __init__(
        self,
        source: str | bytes | IO[bytes],
        *,
        columns: list[str] | None = None,
        n_rows: int | None = None,
        batch_size: int | None = None,
        row_index: tuple[str, int] | None = None,
        file_path_column: tuple[str, str] | None = None,
        predicate: tuple[list[str], Callable[[pl.DataFrame], pl.Series]] | None = None,
        n_threads: int | None = None,
    ) -> None: ...
    def next_batch(self) -> tuple[pl.DataFrame, int] | None: ...
    def stats(self) -> dict[str, Any]: ...

def default_threads() -> int: ...
def read_header(source: str | bytes | IO[bytes]) -> dict[str, Any]: ...
