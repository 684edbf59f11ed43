"""The wing: everything that adapts the package to the running Polars release.

No other module of the package mentions a release: each asks here.

- ``features``: what the release's API offers (Map, batches handed out, ...), read from the
  API itself;
- ``facts``: what the release does that its API does not tell, the table ``releases.json``
  of every release tested, which CI writes and checks with the probes (``probes``);
- ``release``: the running release's facts (its row, or for a release not tested, the
  probes' answers, found once in memory and warned of), and the interface adapted to them;
- ``interface``: how a scan becomes a LazyFrame (Polars' file reader interface, else an IO
  plugin), and how a query's batches reach a writer;
- ``keywords``: Polars' keywords that the entry points take, refuse or translate;
- ``pyarrow_import``: where a release imports pyarrow on a scan's path, that import refused.
"""
