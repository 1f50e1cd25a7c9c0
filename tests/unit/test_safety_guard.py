"""The test suite refuses to run where a real AWS identity or endpoint could be reached."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_pytest_with(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A child pytest on one tiny test file, with ``extra_env`` added to a clean environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(extra_env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "tests/unit/test_start_decision.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "danger",
    [
        {"AWS_ACCESS_KEY_ID": "AKIAREALLOOKINGKEY01", "AWS_SECRET_ACCESS_KEY": "x"},
        {"AWS_PROFILE": "production"},
        {"AWS_SESSION_TOKEN": "IQoJb3JpZ2luX2VjEXAMPLE"},
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"},
        {"AWS_ENDPOINT_URL": "https://autoscaling.us-east-1.amazonaws.com"},
    ],
    ids=["real key", "profile", "session token", "container credentials", "real endpoint"],
)
def test_suite_refuses_a_real_identity_or_endpoint(danger: dict[str, str]) -> None:
    result = run_pytest_with(danger)
    output = result.stdout + result.stderr
    # pytest.exit() while the conftest loads ends the run before collection, reported as a usage error.
    assert result.returncode != 0
    assert "REFUSING TO RUN TESTS" in output
    assert "passed" not in output


def test_suite_runs_with_fake_credentials_and_a_loopback_endpoint() -> None:
    result = run_pytest_with({"AWS_ACCESS_KEY_ID": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert result.returncode == 0, result.stdout[-2000:]


def test_no_test_can_open_a_connection_off_this_machine() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(RuntimeError, match="loopback"),
    ):
        sock.connect(("192.0.2.10", 443))  # TEST-NET-1: never routed, and refused before any packet leaves
