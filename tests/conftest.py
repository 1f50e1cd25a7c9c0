"""Test-wide safety: no real AWS identity, no real endpoint, ever.

Runs before any test module is imported, so no boto3 client can be built with a real identity.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

import botocore.session
import pytest

from container_manager.rehearsal.runner import shared_loader

FAKE_KEY_IDS = {"testing", "AKIAIOSFODNN7EXAMPLE"}
# Variables through which botocore can find a real identity or a real endpoint.
DANGEROUS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)


def _refuse(reason: str) -> None:
    pytest.exit(
        f"REFUSING TO RUN TESTS: {reason}. Tests must never reach real AWS. "
        "Run them through `make test`, which removes AWS identity variables, or unset them.",
        returncode=3,
    )


def _check_environment() -> None:
    key = os.environ.get("AWS_ACCESS_KEY_ID")
    if key and key not in FAKE_KEY_IDS:
        _refuse(f"AWS_ACCESS_KEY_ID is set to a non-test value ({key[:4]}...)")
    for name in DANGEROUS:
        if os.environ.get(name):
            _refuse(f"{name} is set")
    for name, value in os.environ.items():
        if name.startswith("AWS_ENDPOINT_URL") and value and not _is_loopback_url(value):
            _refuse(f"{name}={value} points outside this machine")


def _is_loopback_url(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")
    return _is_loopback_host(host)


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_check_environment()
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # Point config/credential files at nothing, so ~/.aws is never read.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        # moto would otherwise load ~28,000 stock AMIs into every EC2 backend: seconds per test.
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
        "POWERTOOLS_DEV": "false",
        "POWERTOOLS_METRICS_DISABLED": "false",
    }
)

# Speed only: every botocore session (each handler cold start, each boto3.client) shares one loader of the
# service models instead of parsing the multi-MB JSON again.
botocore.session.create_loader = shared_loader  # type: ignore[assignment]

_real_connect = socket.socket.connect


def _loopback_only_connect(self: socket.socket, address: Any) -> Any:
    """Belt and braces: even a client moto does not intercept cannot leave this machine."""
    if self.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        if not _is_loopback_host(host):
            raise RuntimeError(f"test tried to connect to {host}: tests may only reach loopback addresses")
    return _real_connect(self, address)


socket.socket.connect = _loopback_only_connect  # type: ignore[method-assign]
