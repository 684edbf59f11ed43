"""The ``polars-avro`` command line (also ``python -m polars_avro``): avro-tools' commands and more.

Each command reads and writes through the package's own Rust reader and writer, on paths,
globs, folders and object store URLs. ``polars-avro --help`` lists the commands, and
docs/cli.md shows each with its output.
"""

from polars_avro.cli._main import main

__all__ = ["main"]
