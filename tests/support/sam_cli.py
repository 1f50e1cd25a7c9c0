"""Running SAM CLI's own code in-process in tests: a scratch project it can read, and PyYAML left as found."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from container_manager.cfn import load_template

ROOT = Path(__file__).resolve().parents[2]
# SAM CLI 1.170 calls samtranslator APIs that samtranslator itself marks deprecated: their noise, not ours.
QUIET_SAM = pytest.mark.filterwarnings("ignore:.*is deprecated:DeprecationWarning")
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


def command_lines(markdown: str) -> list[str]:
    """The shell lines of a page's fenced bash blocks, backslash continuations joined, comments dropped."""
    return [line for block in command_blocks(markdown) for line in block]


def command_blocks(markdown: str) -> list[list[str]]:
    blocks = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", markdown, flags=re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        blocks.append(
            [
                line.strip()
                for line in joined.splitlines()
                if line.strip() and not line.strip().startswith("#")
            ]
        )
    return blocks


def flag(line: str, name: str) -> str | None:
    found = re.search(rf"(?:^| ){re.escape(name)} (\S+)", line)
    return found.group(1) if found else None


def settings_of(line: str, *commands: str) -> dict[str, str]:
    """The stack_name, region, s3_prefix... a `sam` command line acts with: its own flags, else samconfig.toml's
    env (``--config-env``, else ``default``) - the env's global table overridden by the tables of ``commands``
    (the ones the command reads: `sam logs` its own, `sam delete` deploy's)."""
    env = tomllib.loads((ROOT / "samconfig.toml").read_text()).get(
        flag(line, "--config-env") or "default", {}
    )
    values: dict[str, str] = {}
    for table in ("global", *commands):
        values.update(env.get(table, {}).get("parameters", {}))
    for key in ("stack_name", "region", "s3_prefix"):
        given = flag(line, "--" + key.replace("_", "-"))
        if given:
            values[key] = given
    return values
