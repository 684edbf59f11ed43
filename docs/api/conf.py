"""The API reference's Sphinx configuration (`nox -s docs`).

Rendered from the installed package's docstrings, numpy style, by numpydoc: the tools of
Polars' own reference. The cluster adapters' engines (Ray, Dask) are imported as stand-ins,
so that the reference builds without them.
"""

from __future__ import annotations

import polars_avro

project = "polars-avro"
copyright = "2026, the polars-avro authors"
version = release = polars_avro.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "numpydoc"]
autosummary_generate = True
# A class lists the members it documents itself, not those of str, Enum or Exception.
templates_path = ["_templates"]
autodoc_mock_imports = ["ray", "dask", "distributed", "pandas", "pyarrow"]
autodoc_typehints = "none"  # numpydoc's Parameters sections give the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
html_theme = "pydata_sphinx_theme"
html_title = f"polars-avro {release}"
html_theme_options = {"navigation_with_keys": False}
