"""The names `cm selftest` / `cm timeline` look things up by are the templates' own (one source per fact).

The CLI reads a deployed container by names the templates give it; if a template renames one, these fail.
"""

from __future__ import annotations

from template_support import ROOT, ROOT_TEMPLATE, template

from container_manager import deployment, timeline
from container_manager.cfn import function_environment
from container_manager.deployment import Deployment
from container_manager.intrinsics import Resolver

FUNCTIONS = {
    deployment.START_SYSTEM: "StartSystemFunction",
    deployment.INSTANCE_STATE_CHANGE: "InstanceStateChangeFunction",
    deployment.CRASH_LOOP_BREAKER: "CrashLoopBreakerFunction",
}


def sample() -> Deployment:
    return Deployment("minecraft", "us-east-1", "minecraft.example.com", "Z1", "Z2", (), ())


def test_functions_are_recognised_by_variables_the_template_sets() -> None:
    doc = template(ROOT_TEMPLATE)
    for short, logical in FUNCTIONS.items():
        env = function_environment(doc, doc["Resources"][logical])
        assert env[deployment.FUNCTION_ROLE_VARIABLE] == short
        assert env[deployment.FUNCTION_ID_VARIABLE] == {"Ref": "ContainerId"}


def test_the_start_filter_pattern_is_the_templates() -> None:
    doc = template(ROOT_TEMPLATE)
    events = doc["Resources"]["StartSystemFunction"]["Properties"]["Events"]
    resolver = Resolver(doc, parameters={"ContainerId": "minecraft", "DomainName": "example.com"})
    assert (
        resolver.resolve(events["QueryLogged"]["Properties"]["FilterPattern"])
        == sample().start_filter_pattern
    )


def test_the_query_log_group_is_the_dns_templates() -> None:
    doc = template(ROOT / "infra" / "dns.yaml")
    resolver = Resolver(doc, parameters={"ContainerId": "minecraft", "DomainName": "example.com"})
    name = resolver.resolve(doc["Resources"]["QueryLogGroup"]["Properties"]["LogGroupName"])
    assert name == sample().query_log_group


def test_the_players_metric_is_the_watchdogs() -> None:
    parameters = template(ROOT / "infra" / "watchdog.yaml")["Parameters"]
    assert parameters["PlayersMetricNamespacePrefix"]["Default"] == timeline.PLAYERS_NAMESPACE_PREFIX
    assert parameters["PlayersMetricName"]["Default"] == timeline.PLAYERS_METRIC
