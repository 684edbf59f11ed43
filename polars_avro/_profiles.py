"""Polars' ``credential_provider="auto"`` for S3: the keys of the AWS profile boto3 finds.

object_store, which reaches the stores, reads keys from ``storage_options`` and the
environment only; Polars' scans also find a profile (``AWS_PROFILE``, else the default one,
in ``~/.aws/config`` and ``~/.aws/credentials``, SSO included) through boto3 where it is
installed. So does a read here, where nothing else gives keys. Nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

#: The scheme of URLs that name S3 objects, as the Rust sources take them.
_S3_SCHEMES = ("s3://", "s3a://")

#: storage_options keys and environment variables that give keys already.
_GIVEN_KEYS = ("aws_access_key_id", "access_key_id")
_ENVIRONMENT_KEYS = ("AWS_ACCESS_KEY_ID",)
_REGION_KEYS = ("aws_region", "region", "aws_default_region", "default_region")
_ENVIRONMENT_REGIONS = ("AWS_REGION", "AWS_DEFAULT_REGION")


def _has_profiles() -> bool:
    """Whether a profile is named, or AWS's configuration files are there to hold one."""
    if os.environ.get("AWS_PROFILE"):
        return True
    files = (
        os.environ.get("AWS_CONFIG_FILE", os.path.join("~", ".aws", "config")),
        os.environ.get("AWS_SHARED_CREDENTIALS_FILE", os.path.join("~", ".aws", "credentials")),
    )
    return any(os.path.isfile(os.path.expanduser(path)) for path in files)


def names_s3(urls: Iterable[str]) -> bool:
    """Whether any of these paths is an S3 URL."""
    return any(url.lower().startswith(_S3_SCHEMES) for url in urls)


def profile_credentials(storage_options: Mapping[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The profile's name and its keys as storage options, or None.

    Keys (and the region, where none is given) are looked for where neither
    ``storage_options`` nor the environment give keys and boto3 is installed.
    """
    given = {key.lower() for key in storage_options}
    if given.intersection(_GIVEN_KEYS) or any(os.environ.get(name) for name in _ENVIRONMENT_KEYS):
        return None
    if not _has_profiles():
        # Without a profile boto3 would go on to the instance metadata service, which the
        # store asks itself (and which takes seconds to fail outside a cloud).
        return None
    try:
        import boto3
    except ImportError:
        return None
    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None:
        return None
    frozen = credentials.get_frozen_credentials()
    found = {"aws_access_key_id": frozen.access_key, "aws_secret_access_key": frozen.secret_key}
    if frozen.token:
        found["aws_session_token"] = frozen.token
    region_given = given.intersection(_REGION_KEYS) or any(os.environ.get(name) for name in _ENVIRONMENT_REGIONS)
    if session.region_name and not region_given:
        found["aws_region"] = session.region_name
    return session.profile_name or "default", found
