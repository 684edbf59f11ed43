"""Makes tests/helpers.py importable as `helpers` under pytest's importlib mode, which
keeps the repository root off sys.path so the installed package is the one tested; and
the fixtures several test modules share."""

import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from servers import S3Server  # noqa: E402

from polars_avro._polars.release import warn_of_bugs  # noqa: E402
from polars_avro.exceptions import AvroPolarsBugWarning  # noqa: E402

# The first scan of a process warns of the running Polars' bugs: done here, quietly, so that
# no test counting its warnings meets it (tests/test_polars_quirks.py checks those warnings
# in processes of their own).
with warnings.catch_warnings():
    warnings.simplefilter("ignore", AvroPolarsBugWarning)
    warn_of_bugs()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3 server on loopback, one per test module."""
    server = S3Server(tmp_path_factory.mktemp("moto"))
    yield server
    server.close()
