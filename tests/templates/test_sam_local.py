"""`sam local invoke` gets a working environment only with events/sam-local-env.json, and SAM's event
generators make no event our functions act on (docs/functions.md, "Trying a function").

SAM CLI's own code computes each function's environment as `sam local invoke` hands it to the container
(SamFunctionProvider resolves template.yaml with its parameter defaults; LocalLambdaRunner merges the
``--env-vars`` file) - everything but starting Docker, which this machine has not got.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from template_support import ROOT, ROOT_TEMPLATE, fabricating_resolver, template

from cm_common.config import ConfigError
from container_manager import names
from container_manager.awslogs import decode
from crash_loop_breaker.settings import Settings as CrashLoopBreakerSettings
from instance_state_change.settings import Settings as InstanceStateChangeSettings
from start_system.settings import Settings as StartSystemSettings
from stop_server.settings import Settings as StopServerSettings
from support.sam_cli import QUIET_SAM, command_lines, restored_yaml, write_sam_project

pytestmark = QUIET_SAM

ENV_FILE = ROOT / "events" / "sam-local-env.json"
SETTINGS: dict[str, Any] = {
    "StartSystemFunction": StartSystemSettings,
    "InstanceStateChangeFunction": InstanceStateChangeSettings,
    "CrashLoopBreakerFunction": CrashLoopBreakerSettings,
    "StopServerFunction": StopServerSettings,
}


@pytest.fixture(scope="module")
def sam_local_environment(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., dict[str, str]]:
    """The variables `sam local invoke <function> [-n <env vars file>] [--parameter-overrides ...]` starts the
    container with."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    root = write_sam_project(tmp_path_factory.mktemp("sam-local"))
    providers: dict[tuple[tuple[str, str], ...], Any] = {}

    def environment(
        function: str, env_vars: dict[str, Any], parameters: dict[str, str] | None = None
    ) -> dict[str, str]:
        key = tuple(sorted((parameters or {}).items()))
        if key not in providers:
            with restored_yaml():
                stacks, _ = SamLocalStackProvider.get_stacks(
                    str(root),
                    parameter_overrides=dict(key),
                    global_parameter_overrides={"AWS::Region": "us-east-1"},
                )
            providers[key] = SamFunctionProvider(stacks, ignore_code_extraction_warnings=True)
        runner = LocalLambdaRunner(
            local_runtime=None,  # never started: no Docker here
            function_provider=providers[key],
            cwd=str(root.parent),
            real_path=str(root.parent),
            aws_region="us-east-1",
            env_vars_values=env_vars,
        )
        resolved: dict[str, str] = runner._make_env_vars(providers[key].get(function)).resolve()
        return resolved

    return environment


def _missing(error: ConfigError) -> set[str]:
    return {problem.split(" ", 1)[0] for problem in error.problems}


@pytest.mark.parametrize("function", SETTINGS)
def test_env_file_supplies_exactly_what_sam_local_cannot_resolve(
    function: str, sam_local_environment: Callable[..., dict[str, str]]
) -> None:
    overrides = json.loads(ENV_FILE.read_text())
    # Given the template alone - When SAM computes the function's environment - Then the cold start fails,
    # naming exactly the variables the env file supplies (what comes from other resources' outputs)
    with pytest.raises(ConfigError) as refused:
        SETTINGS[function].from_env(sam_local_environment(function, {}))
    assert _missing(refused.value) == set(overrides[function])
    # Given `-n events/sam-local-env.json` - Then the environment is complete
    SETTINGS[function].from_env(sam_local_environment(function, overrides))
    assert set(overrides) == set(SETTINGS), "the env file names a function the template has not"


def test_env_file_values_are_the_deployed_names_and_the_sample_events_own() -> None:
    """The env file holds what a deployed default container has (deterministic names) and the ids the sample
    events carry, so docs/functions.md's outcomes are the ones `sam local invoke` sees."""
    overrides = json.loads(ENV_FILE.read_text())
    root = template(ROOT_TEMPLATE)
    container_id = str(root["Parameters"]["ContainerId"]["Default"])
    dns = template(ROOT / "infra" / "dns.yaml")
    query_log_group = fabricating_resolver(
        dns, {"ContainerId": container_id, "DomainName": str(root["Parameters"]["DomainName"]["Default"])}
    ).resolve(dns["Resources"]["QueryLogGroup"]["Properties"]["LogGroupName"])
    assert overrides["StartSystemFunction"]["QUERY_LOG_GROUP"] == query_log_group
    for function in ("InstanceStateChangeFunction", "CrashLoopBreakerFunction", "StopServerFunction"):
        assert overrides[function]["ASG_NAME"] == names.stack_name(container_id)
    assert re.fullmatch(
        root["Parameters"]["HostedZoneId"]["AllowedPattern"],
        overrides["InstanceStateChangeFunction"]["HOSTED_ZONE_ID"],
    )
    crash = json.loads((ROOT / "events" / "crash-loop-breaker" / "task_failed_to_start.json").read_text())
    assert overrides["CrashLoopBreakerFunction"]["CLUSTER_ARN"] == crash["detail"]["clusterArn"]
    launch = json.loads((ROOT / "events" / "instance-state-change" / "launch_successful.json").read_text())
    assert overrides["InstanceStateChangeFunction"]["ASG_NAME"] == launch["detail"]["AutoScalingGroupName"]


def test_sam_generates_no_auto_scaling_or_ecs_event() -> None:
    """`sam local generate-event` (SAM CLI 1.170) has generators for CloudWatch Logs and the scheduled
    EventBridge event, none for the Auto Scaling or ECS events two of our functions take: events/ holds those.
    What the functions return for the generated ones is a row of docs/functions.md, run by
    tests/integration/test_sample_event_docs.py."""
    from samcli.lib.generated_sample_events.events import Events

    generators = Events()
    services = set(generators.event_mapping)
    assert set(generators.event_mapping["cloudwatch"]) == {"logs", "scheduled-event"}
    assert services.isdisjoint({"autoscaling", "ecs", "eventbridge", "events", "ec2"})
    # And its CloudWatch Logs event has our start events' envelope and decoded keys (only the content differs)
    generated = json.loads(generators.generate_event("cloudwatch", "logs", {}))
    ours = json.loads((ROOT / "events" / "start-system" / "player_query_a.json").read_text())
    assert generated.keys() == ours.keys()
    assert generated["awslogs"].keys() == ours["awslogs"].keys()
    assert decode(generated).keys() == decode(ours).keys()
    assert decode(generated)["logEvents"][0].keys() == decode(ours)["logEvents"][0].keys()


def test_start_system_acts_in_the_container_region_given_as_a_parameter(
    sam_local_environment: Callable[..., dict[str, str]],
) -> None:
    """docs/sam.md: for the two-region flow `--parameter-overrides ContainerRegion=...` makes start-system act
    where the container lives, as the edge stack sets it; without it, in the invoke's own region."""
    overrides = json.loads(ENV_FILE.read_text())
    plain = sam_local_environment("StartSystemFunction", overrides)
    edge = sam_local_environment("StartSystemFunction", overrides, {"ContainerRegion": "eu-central-1"})
    assert (plain["CONTAINER_REGION"], edge["CONTAINER_REGION"]) == ("us-east-1", "eu-central-1")
    assert StartSystemSettings.from_env(edge).container_region == "eu-central-1"


def test_docs_sam_local_lines_are_rows_of_the_functions_table() -> None:
    """The `sam local` examples of docs/sam.md are commands of docs/functions.md's tested tables."""
    lines = [
        line for line in command_lines((ROOT / "docs" / "sam.md").read_text()) if line.startswith("sam local")
    ]
    table = (ROOT / "docs" / "functions.md").read_text().replace("\\|", "|")
    assert lines
    for line in lines:
        assert f"`{line}`" in table, f"{line} is not a row of docs/functions.md"
