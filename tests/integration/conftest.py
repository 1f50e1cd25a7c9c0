"""Fixtures every handler integration test shares: a moto cloud holding a deployed-like container."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from support.deployed import CONTAINER_REGION, Deployed, deploy


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def deployed(aws: None) -> Deployed:
    """The container stack in eu-west-1 (its functions there; start-system in us-east-1)."""
    return deploy(CONTAINER_REGION)
