"""samconfig.toml drives SAM CLI's own commands to the right stack, region and values, in both region flows.

SAM CLI's real click commands run in-process (their option parsing, samconfig reading, `--guided` prompts and
the saving of the answers); only the steps that need an AWS account are replaced by recorders: the
managed-bucket stack (``manage_stack``), the ECR companion stack (we deploy no image functions), packaging
(uploads) and the deploy/delete contexts, which receive exactly the arguments a real run would act on.
The project is a scratch copy of the repository's SAM files (the ``sam_project`` fixture).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from click.testing import CliRunner
from template_support import ROOT, ROOT_TEMPLATE, template

from container_manager import names
from container_manager import operations as ops
from container_manager.rehearsal.world import parameter_problems
from support.sam_cli import QUIET_SAM, command_blocks, settings_of

pytestmark = QUIET_SAM

MANAGED_BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-1a2b3c4d5e6f"
CONTAINER_REGION = "eu-central-1"


class Recorder:
    """Stands in for DeployContext/DeleteContext: records the keyword arguments, does nothing."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> Recorder:
        self.calls.append(kwargs)
        return self

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def run(self) -> None:
        return None


@pytest.fixture
def deploys() -> Iterator[Recorder]:
    recorder = Recorder()
    with (
        mock.patch("samcli.commands.deploy.deploy_context.DeployContext", recorder),
        mock.patch("samcli.commands.package.package_context.PackageContext"),
        mock.patch("samcli.commands.deploy.guided_context.manage_stack", return_value=MANAGED_BUCKET),
        mock.patch("samcli.commands.deploy.command.manage_stack", return_value=MANAGED_BUCKET),
        mock.patch("samcli.commands.deploy.guided_context.CompanionStackManager"),
        mock.patch("samcli.lib.utils.version_checker._inform_newer_version"),
    ):
        yield recorder


def sam(command: Any, *args: str, answers: str = "") -> str:
    result = CliRunner().invoke(command, list(args), input=answers, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def deploy_cli() -> Any:
    from samcli.commands.deploy.command import cli

    return cli


SAVED = (
    "stack_name",
    "region",
    "parameter_overrides",
    "capabilities",
    "confirm_changeset",
    "s3_prefix",
    "tags",
)


def test_guided_deploy_from_a_fresh_clone_saves_what_the_next_deploy_uses(
    sam_project: Path, deploys: Recorder
) -> None:
    # Given a fresh clone - When a user runs `sam deploy --guided` and presses Enter at every prompt
    before = tomllib.loads((sam_project / "samconfig.toml").read_text())
    shown = sam(deploy_cli(), "--guided", answers="\n" * 200)
    # Then every template parameter was asked for, offering samconfig.toml's values, else the template's default
    parameters = template(ROOT_TEMPLATE)["Parameters"]
    saved = dict(
        pair.split("=", 1)
        for pair in before["default"]["deploy"]["parameters"]["parameter_overrides"].split()
    )
    offered = dict(re.findall(r"Parameter (\w+) \[([^\]]*)\]:", shown))
    assert offered == {name: saved.get(name, str(spec["Default"])) for name, spec in parameters.items()}
    # And it deploys the one-stack flow: the container's stack, in us-east-1, with nested-stack capabilities
    (guided,) = deploys.calls
    assert guided["stack_name"] == names.stack_name("minecraft")
    assert guided["region"] == names.EDGE_REGION
    assert guided["s3_bucket"] == MANAGED_BUCKET
    assert set(guided["capabilities"]) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}
    values = guided["parameter_overrides"]
    assert values["DeployPart"] == "all"
    # And every value it will deploy is one CloudFormation accepts
    assert set(values) == set(parameters)
    refused = {name: parameter_problems(parameters[name], value) for name, value in values.items()}
    assert {name: problems for name, problems in refused.items() if problems} == {}
    # And the answers went into the default env, the other envs untouched
    after = tomllib.loads((sam_project / "samconfig.toml").read_text())
    assert {env: after[env] for env in before if env != "default"} == {
        env: before[env] for env in before if env != "default"
    }
    assert after["default"]["deploy"]["parameters"]["s3_prefix"] == guided["stack_name"]
    # When the user later runs plain `sam deploy` - Then it deploys exactly what guided deployed
    sam(deploy_cli())
    later = deploys.calls[1]
    assert {key: later[key] for key in SAVED} == {key: guided[key] for key in SAVED}


# env -> (stack, region, DeployPart) a plain `sam <command> --config-env <env>` acts on
ENVS = {
    "default": (names.stack_name("minecraft"), names.EDGE_REGION, "all"),
    "edge": (ops.Target("minecraft", CONTAINER_REGION).edge_stack, names.EDGE_REGION, "edge"),
    "container": (ops.Target("minecraft", CONTAINER_REGION).name, CONTAINER_REGION, "container"),
}


@pytest.mark.parametrize("env", ENVS)
def test_each_env_deploys_logs_and_deletes_the_same_stack(
    env: str, sam_project: Path, deploys: Recorder
) -> None:
    """Given samconfig.toml's env - When `sam deploy`, `sam logs` and `sam delete` run with --config-env <env>
    Then all three address the stack `cm` names for that part, in the region it lives in."""
    from samcli.commands.delete.command import cli as delete_cli
    from samcli.commands.logs.command import cli as logs_cli

    stack, region, part = ENVS[env]
    sam(deploy_cli(), "--config-env", env)
    (deployed,) = deploys.calls
    assert (deployed["stack_name"], deployed["region"]) == (stack, region)
    assert deployed["parameter_overrides"]["DeployPart"] == part
    assert deployed["s3_prefix"] == stack

    with mock.patch("samcli.commands.logs.command.do_cli") as logs:
        sam(logs_cli, "--config-env", env, "--tail")
    args = logs.call_args.args
    assert (args[1], args[9]) == (stack, region)  # do_cli(names, stack_name, ..., region, profile)

    deletes = Recorder()
    with mock.patch("samcli.commands.delete.delete_context.DeleteContext", deletes):
        sam(delete_cli, "--config-env", env)
    (deleted,) = deletes.calls
    assert (deleted["stack_name"], deleted["region"], deleted["s3_prefix"]) == (stack, region, stack)


def test_docs_sam_delete_lines_delete_each_stack_with_its_own_artifacts_container_first() -> None:
    """Every `sam delete` line in docs/sam.md deletes a stack of a flow (or the account stack) in its region and
    offers that stack's own artifacts folder (s3_prefix = its name - sam delete takes the env's prefix even
    beside --stack-name); in a block deleting both stacks of the two-region flow, the container stack goes
    first."""
    stacks = {(stack, region) for stack, region, _ in ENVS.values()} | {
        ("container-manager-account", names.EDGE_REGION)
    }
    edge_stack, _, _ = ENVS["edge"]
    deletes = 0
    for block in command_blocks((ROOT / "docs" / "sam.md").read_text()):
        order = []
        for line in (line for line in block if line.startswith("sam delete")):
            settings = settings_of(line, "deploy")
            assert (settings["stack_name"], settings["region"]) in stacks, line
            assert settings["s3_prefix"] == settings["stack_name"], (
                f"{line}: offers another stack's artifacts"
            )
            order.append(settings["stack_name"])
            deletes += 1
        for index, stack in enumerate(order):
            if stack == edge_stack:
                assert order[index - 1 : index] == [ENVS["container"][0]], (
                    f"delete the container stack first: {block}"
                )
    assert deletes >= 5
