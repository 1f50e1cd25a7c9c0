"""Every example container survives the whole rehearsed lifecycle, not just the bundled Minecraft one.

valheim lives in eu-central-1 (edge stack in us-east-1 + container stack there: the two-region flow) and
serves UDP only; satisfactory serves TCP and UDP on one port; palworld and factorio are UDP games.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from container_manager.instance_types import offline
from container_manager.rehearsal.runner import REPO, Report, Source, rehearse

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


def test_a_type_unknown_offline_deploys_with_describe_instance_types_specs(tmp_path: Path) -> None:
    # Given the Minecraft example on r3.large: not in the offline table (a previous-generation family)
    text = (REPO / "examples" / "minecraft.yaml").read_text()
    assert "InstanceType: t4g.medium" in text
    config = tmp_path / "minecraft.yaml"
    config.write_text(text.replace("InstanceType: t4g.medium", "InstanceType: r3.large"))
    assert offline("r3.large") is None
    seen: dict[str, Any] = {}

    def capture(report: Report) -> None:
        world = report.world
        assert world is not None
        (data,) = world.launch_templates.values()
        seen["instance_type"], seen["image"] = data["InstanceType"], data["ImageId"]
        (task,) = world.task_definitions.values()
        (server,) = task["ContainerDefinitions"]
        seen["reservation"] = server["MemoryReservation"]
        seen["memory_env"] = {e["Name"]: e["Value"] for e in server["Environment"]}["MEMORY"]
        seen["x86_ami"] = world.client("ssm", "us-east-1").get_parameter(
            Name="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
        )["Parameter"]["Value"]

    # When the rehearsal renders it the way cm deploy does (DescribeInstanceTypes, here moto's) and plays it
    source = Source.rendered(tmp_path / "out", config)
    report = rehearse(source, out=None, on_finish=capture)
    # Then AWS's facts (x86_64, 15360 MiB) became the parameters, the instance and task use them, all green
    parameters = source.stacks[-1].templates.parameters
    assert (parameters["InstanceArchitecture"], parameters["InstanceMemoryMiB"]) == ("x86_64", "15360")
    assert seen["instance_type"] == "r3.large"
    assert seen["image"] == seen["x86_ami"]  # IsArm64 false: the x86_64 ECS-optimized AMI
    assert int(seen["reservation"]) == 15360 - 1920
    assert seen["memory_env"] == f"{15360 - 1920 - 2048}M"
    assert report.ok, report.failed()
