"""Makes tests/helpers.py importable as `helpers` under pytest's importlib mode, which
keeps the repository root off sys.path so the installed package is the one tested; and
the fixtures several test modules share."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
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


@pytest.fixture
def aws_profile(s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Where only an AWS profile gives keys: no AWS variable but ``AWS_PROFILE``, AWS's
    files in ``tmp_path``. The function it gives writes profile ``name`` with the S3 test
    server's region and keys (``secret`` in place of its secret key, where given) and
    names it in ``AWS_PROFILE``."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    config = tmp_path / "aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))

    def write(name: str, secret: str | None = None) -> None:
        config.write_text(
            f"[profile {name}]\nregion = {s3.REGION}\naws_access_key_id = {s3.access_key}\n"
            f"aws_secret_access_key = {secret or s3.secret_key}\n"
        )
        monkeypatch.setenv("AWS_PROFILE", name)

    return write
