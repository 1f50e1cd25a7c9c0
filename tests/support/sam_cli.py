"""Running SAM CLI's own code in-process in tests: a scratch project it can read, and PyYAML left as found."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from container_manager.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
_LOADERS = (yaml.SafeLoader, yaml.constructor.SafeConstructor)
_TABLES = ("yaml_constructors", "yaml_multi_constructors")


@contextmanager
def restored_yaml() -> Iterator[None]:
    """Undo what SAM CLI's yaml_parse does to PyYAML globally (it registers CloudFormation tag constructors on
    yaml.SafeLoader and turns timestamps into strings), so later tests in the worker get PyYAML's safe_load."""
    saved = {
        (cls, table): dict(cls.__dict__[table]) if table in cls.__dict__ else None
        for cls in _LOADERS
        for table in _TABLES
    }
    try:
        yield
    finally:
        for (cls, table), value in saved.items():
            if value is not None:
                setattr(cls, table, value)
            elif table in cls.__dict__:
                delattr(cls, table)


def write_sam_project(directory: Path) -> Path:
    """A fresh clone's SAM files (templates, samconfig.toml) in ``directory``; returns the root template.

    The templates are written in their JSON form - exactly what SAM's YAML parser makes of them, intrinsic tags
    included - because SAM parses YAML in pure Python, seconds per run for our templates, and JSON in
    milliseconds; `sam validate` and `sam build` in `make test` parse the YAML files themselves.
    """
    shutil.copy(ROOT / "samconfig.toml", directory / "samconfig.toml")
    (directory / "infra").mkdir()
    for path in (ROOT / "template.yaml", *(ROOT / "infra").glob("*.yaml")):
        (directory / path.relative_to(ROOT)).write_text(json.dumps(load_template(path)))
    return directory / "template.yaml"
