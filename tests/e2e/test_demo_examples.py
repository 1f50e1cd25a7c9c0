"""Every example container survives the whole rehearsed lifecycle, not just the bundled Minecraft one.

valheim lives in eu-central-1 (edge stack in us-east-1 + container stack there: the two-region flow) and
serves UDP only; satisfactory serves TCP and UDP on one port; palworld and factorio are UDP games.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from container_manager.rehearsal.runner import REPO, Source, rehearse

EXAMPLES = sorted(
    p for p in (REPO / "examples").glob("*.yaml") if p.stem != "minecraft"
)  # minecraft: test_demo


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.stem)
def test_example_lifecycle_is_all_green(config: Path, tmp_path: Path) -> None:
    # Given the example rendered by cm render - When the six lifecycle scenarios play
    report = rehearse(Source.rendered(tmp_path, config), out=None)
    # Then it deployed and every check passed
    assert report.deploy_error is None
    assert report.ok, [f"{v.scenario}: {v.expected}: {v.observed}" for v in report.timeline.failed]


def test_two_region_example_deploys_edge_then_container(tmp_path: Path) -> None:
    # Given valheim, configured for eu-central-1 - When rendered for the rehearsal
    source = Source.rendered(tmp_path, REPO / "examples" / "valheim.yaml")
    # Then the edge stack (DNS + start-system) deploys first in us-east-1, the container stack in its region
    assert [(s.part, s.region) for s in source.stacks] == [
        ("edge", "us-east-1"),
        ("container", "eu-central-1"),
    ]
    report = rehearse(source, out=None)
    roots = [
        e.text.split(" as ")[1] for e in report.timeline.entries if e.text.startswith("template.yaml as ")
    ]
    assert len(roots) == 2
    assert roots[0].startswith("container-manager-valheim-edge:")
    assert roots[1].startswith("container-manager-valheim:")
    assert report.ok
