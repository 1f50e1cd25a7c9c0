"""`cm render`: every example renders deterministically to templates that pass cfn-lint, the list blocks hold
the config's items, secrets stay references, and the Minecraft example reproduces the bundled templates."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from container_manager.cfn import load_template
from container_manager.config import logical_name, parse_config
from container_manager.render import RenderError, RenderResult, render_config, render_to, rewrite_blocks

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
CFN_LINT = Path(sys.executable).with_name("cfn-lint")


@pytest.fixture(scope="module")
def all_rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RenderResult]:
    base = tmp_path_factory.mktemp("rendered")
    return {path.stem: render_to(path, base / path.stem) for path in EXAMPLES}


def tree(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()
    }


def compute(result: RenderResult) -> dict[str, Any]:
    return load_template(result.out_dir / "infra" / "compute.yaml")


def container(result: RenderResult) -> dict[str, Any]:
    definition: dict[str, Any] = compute(result)["Resources"]["TaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ][0]
    return definition


def test_there_are_at_least_five_examples() -> None:
    assert {"minecraft", "valheim", "palworld", "factorio"} <= {p.stem for p in EXAMPLES}
    assert len(EXAMPLES) >= 5


def test_rendering_is_byte_identical_across_runs_and_directories(tmp_path: Path) -> None:
    # Given the same config rendered twice into different directories
    first = render_to(ROOT / "examples" / "valheim.yaml", tmp_path / "a")
    second = render_to(ROOT / "examples" / "valheim.yaml", tmp_path / "b")
    # Then every file is byte-identical
    assert tree(first.out_dir) == tree(second.out_dir)
    assert first.parameters == second.parameters


def test_minecraft_example_reproduces_the_bundled_templates(all_rendered: dict[str, RenderResult]) -> None:
    # Given the bundled default container's example, When rendered, Then each template equals the bundled one
    # (MEMORY: ${HeapMiB}M included: the placeholder is the compute template's own parameter)
    result = all_rendered["minecraft"]
    for relative in ["template.yaml", *(f"infra/{p.name}" for p in (ROOT / "infra").glob("*.yaml"))]:
        ours, bundled = load_template(result.out_dir / relative), load_template(ROOT / relative)
        assert ours == bundled, relative


def test_every_examples_blocks_hold_its_ports_environment_and_volumes(
    all_rendered: dict[str, RenderResult],
) -> None:
    for name, result in all_rendered.items():
        config = result.config
        definition = container(result)
        ports = [(m["Protocol"], m["ContainerPort"]) for m in definition["PortMappings"]]
        assert [p for _, p in ports][1:] == [p.number for p in config.Container.Ports][1:], name
        assert ports[0][1] == {"Ref": "GamePort"}, name
        assert result.parameters["GamePort"] == str(config.Container.Ports[0].number)
        assert [e["Name"] for e in definition["Environment"]] == list(config.Container.Environment), name
        paths = [m["ContainerPath"] for m in definition["MountPoints"]]
        assert paths == [p.Path for v in config.Volumes.values() for p in v.Paths], name
        resources = compute(result)["Resources"]
        ingress = [r for r in resources.values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
        assert len(ingress) == len(config.Container.Ports), name
        storage = load_template(result.out_dir / "infra" / "storage.yaml")["Resources"]
        file_systems = [k for k, r in storage.items() if r["Type"] == "AWS::EFS::FileSystem"]
        assert len(file_systems) == len(config.Volumes), name


def test_a_udp_and_tcp_port_on_the_same_number_get_separate_rules(
    all_rendered: dict[str, RenderResult],
) -> None:
    resources = compute(all_rendered["satisfactory"])["Resources"]
    rules = sorted(
        (r["Properties"]["IpProtocol"], str(r["Properties"]["FromPort"]))
        for r in resources.values()
        if r["Type"] == "AWS::EC2::SecurityGroupIngress"
    )
    assert rules == [("tcp", "8888"), ("tcp", "{'Ref': 'GamePort'}"), ("udp", "7777")]


def test_a_volume_with_several_paths_gets_one_owned_subdirectory_per_path(
    all_rendered: dict[str, RenderResult],
) -> None:
    result = all_rendered["valheim"]
    text = (result.out_dir / "infra" / "compute.yaml").read_text()
    assert (
        "install -d -m 0750 -o ${ContainerUid} -g ${ContainerGid} /mnt/container-manager/data/config" in text
    )
    volumes = compute(result)["Resources"]["TaskDefinition"]["Properties"]["Volumes"]
    assert [v["Host"]["SourcePath"] for v in volumes] == [
        "/mnt/container-manager/data/config",
        "/mnt/container-manager/data/opt-valheim",
    ]


def test_secrets_are_references_and_their_names_never_values(tmp_path: Path) -> None:
    # Given secrets by SSM name and by Secrets Manager ARN
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:container-manager/minecraft/rcon-AbCdEf"
    config = parse_config((ROOT / "examples" / "minecraft.yaml").read_text(), default_id="minecraft")
    data = config.model_dump()
    data["Container"]["Secrets"] = {"RCON_PASSWORD": "rcon-password", "OPS": arn}
    result = render_config(type(config).model_validate(data), tmp_path)
    secrets = container(result)["Secrets"]
    # Then each is a ValueFrom reference (the task reads it at start), never a value in the template
    assert secrets[0] == {
        "Name": "RCON_PASSWORD",
        "ValueFrom": {
            "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/container-manager/${ContainerId}/rcon-password"
        },
    }
    assert secrets[1] == {"Name": "OPS", "ValueFrom": arn}
    environment = [e["Name"] for e in container(result)["Environment"]]
    assert "RCON_PASSWORD" not in environment
    assert "OPS" not in environment
    assert "RconPasswordSecret" not in result.parameters


def _three_volumes(rcon_in_config: bool = False) -> Any:
    """The Minecraft example with volumes data (first), world-saves (deleted with the stack, no backups),
    mods (kept, no backups); optionally with the config's own RCON_PASSWORD secret."""
    config = parse_config((ROOT / "examples" / "minecraft.yaml").read_text(), default_id="minecraft")
    data = config.model_dump()
    data["Volumes"] = {
        "data": {"Paths": [{"Path": "/data"}]},
        "world-saves": {"Paths": [{"Path": "/saves"}], "KeepOnDelete": False, "EnableBackups": False},
        "mods": {"Paths": [{"Path": "/mods"}], "KeepOnDelete": True, "EnableBackups": False},
    }
    if rcon_in_config:
        data["Container"]["Secrets"] = {"RCON_PASSWORD": "rcon-password"}
    return type(config).model_validate(data)


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` with the volume's logical name and id replaced, as a per-volume copy should read."""
    text = json.dumps(value)
    return json.loads(text.replace(old.capitalize(), logical_name(new)).replace(old, new))


def test_every_volume_is_the_storage_templates_own_block_renamed(tmp_path: Path) -> None:
    # Given a config with three volumes, When rendered
    result = render_config(_three_volumes(), tmp_path)
    bundled = load_template(ROOT / "infra" / "storage.yaml")
    storage = load_template(result.out_dir / "infra" / "storage.yaml")
    prototype = {k: v for k, v in bundled["Resources"].items() if k.startswith("Data")}
    # Then each volume's resources are the bundled volume's, renamed; the first keeps the stack's switches
    for volume_id, keep, backup in (
        ("data", None, None),
        ("world-saves", "Delete", "DISABLED"),
        ("mods", "Retain", "DISABLED"),
    ):
        expected = _renamed(prototype, "data", volume_id)
        if keep is not None:
            expected[f"{logical_name(volume_id)}FileSystem"]["DeletionPolicy"] = keep
            expected[f"{logical_name(volume_id)}FileSystem"]["Properties"]["BackupPolicy"]["Status"] = backup
        assert {k: storage["Resources"][k] for k in expected} == expected, volume_id
    # And each volume has its three outputs; the primary file system is the first volume's
    for volume_id in ("data", "world-saves", "mods"):
        name = logical_name(volume_id)
        assert storage["Outputs"][f"{name}AccessPointId"] == {"Value": {"Ref": f"{name}AccessPoint"}}
    assert storage["Outputs"]["PrimaryFileSystemId"] == {"Value": {"Ref": "DataFileSystem"}}


def test_an_edit_to_the_storage_templates_volume_block_reaches_every_volume(tmp_path: Path) -> None:
    # Given a checkout whose storage.yaml volume block gained a property
    source = tmp_path / "source"
    shutil.copytree(ROOT / "infra", source / "infra")
    shutil.copy(ROOT / "template.yaml", source / "template.yaml")
    storage_yaml = source / "infra" / "storage.yaml"
    text = storage_yaml.read_text()
    anchor = "      PerformanceMode: generalPurpose\n"
    assert anchor in text
    storage_yaml.write_text(
        text.replace(anchor, anchor + "      LifecyclePolicies: [{TransitionToIA: AFTER_30_DAYS}]\n")
    )
    # When a three-volume config renders from it
    result = render_config(_three_volumes(), tmp_path / "out", source_root=source)
    # Then every volume's file system has it
    resources = load_template(result.out_dir / "infra" / "storage.yaml")["Resources"]
    for name in ("Data", "WorldSaves", "Mods"):
        assert resources[f"{name}FileSystem"]["Properties"]["LifecyclePolicies"] == [
            {"TransitionToIA": "AFTER_30_DAYS"}
        ], name


def test_two_region_config_plans_edge_then_container(all_rendered: dict[str, RenderResult]) -> None:
    deployments = all_rendered["valheim"].deployments
    assert [(d.part, d.stack_name, d.region) for d in deployments] == [
        ("edge", "container-manager-valheim-edge", "us-east-1"),
        ("container", "container-manager-valheim", "eu-central-1"),
    ]
    assert deployments[0].parameters["ContainerRegion"] == "eu-central-1"
    assert "HostedZoneId" not in deployments[1].parameters  # read from the edge stack at deploy time


def test_every_parameter_is_declared_by_the_root_template(all_rendered: dict[str, RenderResult]) -> None:
    declared = set(load_template(ROOT / "template.yaml")["Parameters"])
    for result in all_rendered.values():
        for deployment in result.deployments:
            assert set(deployment.parameters) <= declared


def test_a_template_whose_blocks_changed_fails_loudly() -> None:
    text = "a: 1\n# BEGIN PER-CONTAINER LIST: ports\nx: 1\n# END PER-CONTAINER LIST: ports\n"
    with pytest.raises(RenderError, match="differ"):
        rewrite_blocks(text, [("volumes", list)], "t.yaml")
    with pytest.raises(RenderError, match="no END"):
        rewrite_blocks("# BEGIN PER-CONTAINER LIST: ports\nx: 1\n", [("ports", list)], "t.yaml")


def test_rendered_templates_of_every_example_pass_cfn_lint(
    all_rendered: dict[str, RenderResult], tmp_path: Path
) -> None:
    # One batched cfn-lint run over the distinct rendered files (most infra files are identical copies),
    # plus three volumes and the config's own RCON_PASSWORD (the template's RCON condition must keep a user).
    unique: dict[str, Path] = {}
    extra = render_config(_three_volumes(rcon_in_config=True), tmp_path)
    for result in [*all_rendered.values(), extra]:
        for path in result.files:
            if path.suffix == ".yaml":
                unique.setdefault(hashlib.sha256(path.read_bytes()).hexdigest(), path)
    files = sorted(str(p) for p in unique.values())
    lint = str(CFN_LINT) if CFN_LINT.exists() else shutil.which("cfn-lint")
    assert lint, "cfn-lint is not installed (make venv)"
    run = subprocess.run(  # noqa: S603 - fixed argv
        [lint, *files, "-a", "cfn_lint_serverless.rules"], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_rendered_parameters_file_names_every_stack(all_rendered: dict[str, RenderResult]) -> None:
    text = all_rendered["valheim"].parameters_file.read_text()
    assert "[edge.deploy.parameters]" in text
    assert "[container.deploy.parameters]" in text
    assert "ContainerRegion=eu-central-1" in text
