"""Fixtures of the template tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from support.sam_cli import restored_yaml, write_sam_project


@pytest.fixture
def pristine_yaml() -> Iterator[None]:
    """For tests that run SAM CLI's code: PyYAML's global loaders as they were before (support.sam_cli)."""
    with restored_yaml():
        yield


@pytest.fixture
def sam_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pristine_yaml: None) -> Path:
    """``write_sam_project`` as the working directory of SAM CLI's commands run in-process (guided writes
    samconfig.toml beside the template); SAM keeps its own state out of ~/.aws-sam."""
    write_sam_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAM_CLI_TELEMETRY", "0")
    monkeypatch.setenv("__SAM_CLI_APP_DIR", str(tmp_path / ".aws-sam-cli"))
    return tmp_path
