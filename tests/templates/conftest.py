"""Fixtures of the template tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

_LOADERS = (yaml.SafeLoader, yaml.constructor.SafeConstructor)
_TABLES = ("yaml_constructors", "yaml_multi_constructors")


@pytest.fixture
def pristine_yaml() -> Iterator[None]:
    """Undo what SAM CLI's yaml_parse does to PyYAML globally (it registers CloudFormation tag constructors on
    yaml.SafeLoader and turns timestamps into strings), so later tests in this worker get PyYAML's safe_load."""
    saved = {
        (cls, table): dict(cls.__dict__[table]) if table in cls.__dict__ else None
        for cls in _LOADERS
        for table in _TABLES
    }
    yield
    for (cls, table), value in saved.items():
        if value is None:
            if table in cls.__dict__:
                delattr(cls, table)
        else:
            setattr(cls, table, value)
