"""One fact, one source: the templates make the names and enforce the rules; each copy must agree with them.

The Lambda code and the CLI package ship separately and cannot import each other, so each keeps the copies it
needs (functions/cm_common, src/container_manager/names.py and config.py); these tests fail when a copy drifts
from the template that a deploy enforces, or when the two builders of a request the CLI and a function both
make (the A record UPSERT, the knock) stop making the same request.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from cm_common import aws as function_aws
from cm_common import config as function_config
from container_manager import aws as cli_aws
from container_manager import config as cli_config
from container_manager import names
from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver
from stop_server.settings import Settings as StopServerSettings

ROOT = Path(__file__).resolve().parents[2]
PARAMETERS = load_template(ROOT / "template.yaml")["Parameters"]
TEMPLATES = {
    p.relative_to(ROOT).as_posix(): load_template(p)
    for p in [ROOT / "template.yaml", *sorted((ROOT / "infra").glob("*.yaml"))]
}


def _body(pattern: re.Pattern[str]) -> str:
    """A rule without its anchors, to compose the template's optional (``^$|``) and list forms."""
    return pattern.pattern.removeprefix("^").removesuffix("$")


SUBNET = _body(cli_config.SUBNET_PATTERN)
# Every template parameter of these names must carry exactly this rule (the CLI's; optional ones allow "").
RULES: dict[str, str] = {
    "ContainerId": cli_config.CONTAINER_ID_PATTERN.pattern,
    "DomainName": cli_config.DOMAIN_PATTERN.pattern,
    "ParentHostedZoneId": cli_config.ZONE_ID_PATTERN.pattern,
    "HostedZoneId": f"^$|{cli_config.ZONE_ID_PATTERN.pattern}",
    "ContainerRegion": f"^$|{cli_config.REGION_PATTERN.pattern}",
    "ExistingVpcId": f"^$|{cli_config.VPC_PATTERN.pattern}",
    "VpcId": cli_config.VPC_PATTERN.pattern,
    "ExistingSubnetIds": f"^$|^{SUBNET},{SUBNET}$",
    "SubnetIds": f"^{SUBNET},{SUBNET}$",
    "AdminAlertTopicArn": f"^$|{cli_config.SNS_ARN_PATTERN.pattern}",
}


@pytest.mark.parametrize(
    ("parameter", "copies"),
    [
        ("ContainerId", [function_config.CONTAINER_ID_RE, cli_config.CONTAINER_ID_PATTERN]),
        ("DomainName", [cli_config.DOMAIN_PATTERN]),
        ("ParentHostedZoneId", [function_config.HOSTED_ZONE_ID_RE, cli_config.ZONE_ID_PATTERN]),
    ],
)
def test_copies_of_a_parameter_rule_equal_the_template(parameter: str, copies: list[object]) -> None:
    pattern = PARAMETERS[parameter]["AllowedPattern"]
    for copy in copies:
        assert getattr(copy, "pattern", None) == pattern, f"{copy} drifted from {parameter}'s AllowedPattern"


def test_the_functions_region_rule_is_the_templates_container_region_rule() -> None:
    # ContainerRegion is optional in the template ("" = the stack's own region); the rule is what follows ^$|
    assert PARAMETERS["ContainerRegion"]["AllowedPattern"] == f"^$|{function_config.AWS_REGION_RE.pattern}"
    assert function_config.AWS_REGION_RE.pattern == cli_config.REGION_PATTERN.pattern


@pytest.mark.parametrize("template", TEMPLATES, ids=list(TEMPLATES))
def test_every_templates_copy_of_a_rule_is_the_same(template: str) -> None:
    # Given every parameter of a shared name in every template, Then it carries the one rule
    checked = {
        name: spec.get("AllowedPattern")
        for name, spec in TEMPLATES[template].get("Parameters", {}).items()
        if name in RULES
    }
    assert checked == {name: RULES[name] for name in checked}


@pytest.mark.parametrize("value", ["minecraft", "a", "x" * 32, "valheim-2"])
def test_ids_the_template_accepts_pass_every_check(value: str) -> None:
    assert function_config.CONTAINER_ID_RE.fullmatch(value)
    assert cli_config.CONTAINER_ID_PATTERN.fullmatch(value)


@pytest.mark.parametrize("value", ["x" * 33, "-minecraft", "Minecraft", "mine_craft", ""])
def test_ids_the_template_refuses_fail_every_check(value: str) -> None:
    assert not function_config.CONTAINER_ID_RE.fullmatch(value)
    assert not cli_config.CONTAINER_ID_PATTERN.fullmatch(value)


@pytest.mark.parametrize(
    "domain", ["example.com", "games.example.co.uk", ".".join(["a" * 49] * 4)[:196] + ".com"]
)
def test_every_server_name_the_template_allows_is_a_name_the_functions_accept(domain: str) -> None:
    # Given the longest id and a domain the template accepts, Then <id>.<domain> passes the functions' check
    assert re.fullmatch(PARAMETERS["DomainName"]["AllowedPattern"], domain)
    assert function_config.DNS_NAME_RE.fullmatch(f"{'x' * 32}.{domain}")


@pytest.mark.parametrize(
    "parameter",
    ["PlayersMetricNamespacePrefix", "PlayersMetricName", "KnockMetricNamespace", "KnockMetricName"],
)
def test_dashboard_plots_the_metrics_the_watchdog_alarms_on(parameter: str) -> None:
    watchdog = TEMPLATES["infra/watchdog.yaml"]["Parameters"]
    dashboard = TEMPLATES["infra/dashboard.yaml"]["Parameters"]
    assert dashboard[parameter]["Default"] == watchdog[parameter]["Default"]


# ---------------------------------------------------------------- names the templates make


def _resolved(template: str, value: Any, container_id: str = "valheim") -> Any:
    doc = TEMPLATES[template]
    given = {"ContainerId": container_id} if "ContainerId" in doc.get("Parameters", {}) else {}
    pseudo = {"AWS::Partition": "aws", "AWS::Region": "eu-central-1", "AWS::AccountId": "123456789012"}
    return Resolver(doc, parameters=given, refs=pseudo).resolve(value)


def _resource(template: str, logical: str) -> dict[str, Any]:
    resource: dict[str, Any] = TEMPLATES[template]["Resources"][logical]
    return resource


def test_the_stack_name_is_the_group_and_cluster_name_the_template_gives() -> None:
    compute = "infra/compute.yaml"
    group = _resource(compute, "AutoScalingGroup")["Properties"]["AutoScalingGroupName"]
    cluster = _resource(compute, "Cluster")["Properties"]["ClusterName"]
    assert _resolved(compute, group) == _resolved(compute, cluster) == names.stack_name("valheim")
    assert names.container_id_of(names.stack_name("valheim")) == "valheim"
    assert names.container_id_of(names.edge_stack_name("valheim")) == "valheim"


def test_the_alarm_names_cm_reads_are_the_watchdogs() -> None:
    watchdog = "infra/watchdog.yaml"
    alarms = {
        _resolved(watchdog, r["Properties"]["AlarmName"])
        for r in TEMPLATES[watchdog]["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert {f"{names.stack_name('valheim')}-{suffix}" for suffix in names.ALARM_SUFFIXES} <= alarms


def test_stop_server_knows_the_watchdogs_alarms_by_the_stacks_name() -> None:
    # stop-server keeps its own copy of the alarm naming (the bundle cannot import names.py)
    prefix = StopServerSettings(container_id="valheim", asg_name="unused", region="eu-central-1").alarm_prefix
    assert prefix == f"{names.stack_name('valheim')}-"
    watchdog = "infra/watchdog.yaml"
    for resource in TEMPLATES[watchdog]["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            assert _resolved(watchdog, resource["Properties"]["AlarmName"]).startswith(prefix)


def test_the_log_groups_cm_reads_are_the_templates() -> None:
    made = {
        _resolved(template, r["Properties"]["LogGroupName"])
        for template in ("template.yaml", "infra/compute.yaml", "infra/dns.yaml")
        for r in TEMPLATES[template]["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
        and "LogGroupName" in r.get("Properties", {})
        and "/aws/route53/" not in str(r["Properties"]["LogGroupName"])  # the query log: not a cm log source
    }
    expected = {names.log_group("valheim", s) for s in (names.CONTAINER_LOG, *names.FUNCTION_LOGS)}
    assert expected <= made


def test_the_secret_prefixes_are_what_the_task_may_read() -> None:
    statements = _resource("infra/compute.yaml", "TaskExecutionRole")["Properties"]["Policies"][0][
        "PolicyDocument"
    ]["Statement"]
    readable = {
        _resolved("infra/compute.yaml", s["Resource"]) for s in statements if "Fn::Sub" in s["Resource"]
    }
    assert f"arn:aws:ssm:eu-central-1:123456789012:parameter{names.parameter_prefix('valheim')}*" in readable
    assert (
        f"arn:aws:secretsmanager:eu-central-1:123456789012:secret:{names.secret_prefix('valheim')}*"
        in readable
    )


def test_the_edge_region_is_the_one_the_template_pins_the_edge_to() -> None:
    (assertion,) = load_template(ROOT / "template.yaml")["Rules"]["EdgeLivesInUsEast1"]["Assertions"]
    assert assertion["Assert"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, names.EDGE_REGION]}


def test_the_placeholder_and_the_knock_are_the_templates() -> None:
    mapping = TEMPLATES["template.yaml"]["Mappings"]["Names"]
    assert mapping["Dns"]["PlaceholderIp"] == names.PLACEHOLDER_IP
    assert TEMPLATES["infra/dns.yaml"]["Parameters"]["PlaceholderIp"]["Default"] == names.PLACEHOLDER_IP
    assert (mapping["Metrics"]["Namespace"], mapping["Metrics"]["KnockMetric"]) == (
        names.KNOCK_NAMESPACE,
        names.KNOCK_METRIC,
    )
    knock_query = next(
        m
        for r in TEMPLATES["infra/watchdog.yaml"]["Resources"].values()
        for m in r.get("Properties", {}).get("Metrics", [])
        if m.get("MetricStat", {}).get("Metric", {}).get("MetricName") == {"Ref": "KnockMetricName"}
    )
    assert [d["Name"] for d in knock_query["MetricStat"]["Metric"]["Dimensions"]] == [names.KNOCK_DIMENSION]


# ---------------------------------------------------------------- requests both bundles make


@pytest.mark.parametrize("comment", ["cm delete: reset", "x" * 300])
def test_the_cli_and_instance_state_change_write_the_same_a_record_upsert(comment: str) -> None:
    args = ("Z07432391BT2QKN8RXK1F", "minecraft.example.com", names.PLACEHOLDER_IP, 30, comment)
    assert cli_aws.a_record_upsert(*args) == function_aws.a_record_upsert(*args)


def test_cm_start_knocks_exactly_as_start_system_does() -> None:
    assert cli_aws.knock("minecraft", 3) == function_aws.knock(
        names.KNOCK_NAMESPACE, names.KNOCK_METRIC, "minecraft", 3
    )
