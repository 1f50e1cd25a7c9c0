"""Embed agent/cm_activity_agent.py into the launch template's user data (infra/compute.yaml).

A CloudFormation template cannot read a repository file, and user data is capped at 16 KB, so the agent
travels gzip-compressed and base64-encoded between the ``# BEGIN ACTIVITY AGENT`` and ``# END ACTIVITY AGENT``
lines. agent/cm_activity_agent.py stays the one source: `python agent/embed.py` rewrites the block,
`python agent/embed.py --check` (and tests/unit/test_agent_embedding.py) fails when the two differ.
"""

from __future__ import annotations

import base64
import gzip
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENT = ROOT / "agent" / "cm_activity_agent.py"
COMPUTE = ROOT / "infra" / "compute.yaml"
INSTALLED = "/usr/local/lib/container-manager/cm_activity_agent.py"
_BEGIN = re.compile(r"^(?P<indent>[ ]*)# BEGIN ACTIVITY AGENT\b")
_END = re.compile(r"^[ ]*# END ACTIVITY AGENT\b")
# Decodes the heredoc on the instance with AL2023's python3 (no other tool needed).
_DECODE = (
    "python3 -c 'import base64, gzip, sys; "
    "sys.stdout.buffer.write(gzip.decompress(base64.b64decode(sys.stdin.read())))'"
)
WIDTH = 100


def block(agent: bytes, indent: str) -> list[str]:
    """Script lines (YAML-indented by ``indent``, which is the script's column 0) that install ``agent``."""
    data = base64.b64encode(gzip.compress(agent, compresslevel=9, mtime=0)).decode("ascii")
    lines = [f"{indent}  {_DECODE} \\", f"{indent}    > {INSTALLED} <<'AGENT'"]
    lines += [f"{indent}{data[i : i + WIDTH]}" for i in range(0, len(data), WIDTH)]
    return [*lines, f"{indent}AGENT"]


def _span(lines: list[str]) -> tuple[int, int, str]:
    begins = [i for i, line in enumerate(lines) if _BEGIN.match(line)]
    ends = [i for i, line in enumerate(lines) if _END.match(line)]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise ValueError(f"{COMPUTE.name}: expected one BEGIN/END ACTIVITY AGENT pair")
    match = _BEGIN.match(lines[begins[0]])
    assert match is not None
    return begins[0], ends[0], match["indent"]


def embedded(compute_text: str) -> bytes:
    """The agent as the user data installs it: the heredoc between the markers, decoded."""
    lines = compute_text.splitlines()
    begin, end, _ = _span(lines)
    body = lines[begin + 1 : end]
    start = next(i for i, line in enumerate(body) if line.rstrip().endswith("<<'AGENT'")) + 1
    stop = next(i for i, line in enumerate(body) if line.strip() == "AGENT")
    return gzip.decompress(base64.b64decode("".join(line.strip() for line in body[start:stop])))


def rewrite(compute_text: str, agent: bytes) -> str:
    lines = compute_text.splitlines()
    begin, end, indent = _span(lines)
    out = [*lines[: begin + 1], *block(agent, indent), *lines[end:]]
    return "\n".join(out) + ("\n" if compute_text.endswith("\n") else "")


def main(argv: list[str]) -> int:
    text, agent = COMPUTE.read_text(encoding="utf-8"), AGENT.read_bytes()
    if "--check" in argv:
        if embedded(text) != agent:
            print(f"{COMPUTE} embeds a different agent: run python agent/embed.py", file=sys.stderr)
            return 1
        return 0
    COMPUTE.write_text(rewrite(text, agent), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
