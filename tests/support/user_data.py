"""The launch template's user data as infra/compute.yaml writes it (the ``!Sub`` text, unresolved), and the
files its heredocs install on the instance."""

from __future__ import annotations

import re
from pathlib import Path

from container_manager.cfn import load_template

COMPUTE = Path(__file__).resolve().parents[2] / "infra" / "compute.yaml"
_HEREDOC = re.compile(r"^ *cat >>? (?P<path>\S+) <<'?(?P<end>\w+)'?\n(?P<body>.*?)\n(?P=end)$", re.M | re.S)


def user_data_text() -> str:
    data = load_template(COMPUTE)["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    sub = data["UserData"]["Fn::Base64"]["Fn::Sub"]
    assert isinstance(sub, str)
    return sub


def installed_files(text: str) -> dict[str, str]:
    """Path -> content of every ``cat > PATH <<EOF ... EOF`` (or ``>>``) in the user data."""
    return {m["path"]: m["body"] + "\n" for m in _HEREDOC.finditer(text)}
