"""``python -m polars_avro``: the command line."""

from polars_avro.cli import main

# Only when run: importing the module (pytest's doctest collection does) runs nothing.
if __name__ == "__main__":
    raise SystemExit(main())
