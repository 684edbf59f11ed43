"""``python -m polars_avro``: the command line."""

from polars_avro.cli import main

raise SystemExit(main())
