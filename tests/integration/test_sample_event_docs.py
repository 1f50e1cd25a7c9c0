"""docs/functions.md's `sam local invoke` tables are true: one row per sample event, each outcome what the handler returns.

Every row runs in the integration harness (moto holding a deployed-like container, the handler loaded with the
environment template.yaml gives it) from the row's *Given* state, with the row's event - the file, adjusted as
the handler tests adjust it to moto's instance id and cluster ARN, or what SAM CLI's own generator makes for
`sam local generate-event` - and must return the row's action, with the row's words in its reason; an
`ignored` or `rejected` row must make no changing AWS call. A new sample event without a row, a row without a
file, or a changed outcome fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest
from moto.autoscaling.models import autoscaling_backends

from integration.test_crash_loop_breaker import server_running, task_event
from integration.test_instance_state_change import container_env, scale_to, scenario
from support.deployed import (
    ACCOUNT,
    EDGE_REGION,
    EVENTS,
    ROOT,
    Deployed,
    event,
    invoke,
    load_handler,
    record_api_calls,
    set_lifecycle,
    template_env,
)

FUNCTIONS_DOC = ROOT / "docs" / "functions.md"
# sam local invoke <LogicalId> -> the handler's package and the region its stack part runs it in
PACKAGES = {
    "StartSystemFunction": "start_system",
    "InstanceStateChangeFunction": "instance_state_change",
    "CrashLoopBreakerFunction": "crash_loop_breaker",
    "StopServerFunction": "stop_server",
}


@dataclass(frozen=True)
class Row:
    function: str
    path: str  # relative to events/, or "<service> <event type>" of `sam local generate-event`
    given: str
    action: str
    reason: str
    generated: bool = False

    def __str__(self) -> str:
        return f"{self.function}:{self.path}" if self.generated else self.path


_TAIL = r" \| (\w+) \| `(\w+)` \| (.*?) \|$"
_FILE_ROW = re.compile(r"^\| `sam local invoke (\w+) -e events/(\S+?\.json)[^`]*`" + _TAIL, re.MULTILINE)
_GENERATED_ROW = re.compile(
    r"^\| `sam local generate-event (\w+ [\w-]+) \\\| sam local invoke (\w+) -e -[^`]*`" + _TAIL, re.MULTILINE
)


def documented_rows() -> list[Row]:
    text = FUNCTIONS_DOC.read_text()
    rows = [Row(*match.groups()) for match in _FILE_ROW.finditer(text)]
    for match in _GENERATED_ROW.finditer(text):
        generator, function, *outcome = match.groups()
        rows.append(Row(function, generator, *outcome, generated=True))
    return rows


def sample_events() -> set[str]:
    """Every event file a function can be invoked with (the readable *.decoded.json sources excluded)."""
    return {
        str(path.relative_to(EVENTS))
        for path in EVENTS.glob("*/*.json")
        if not path.name.endswith(".decoded.json")
    }


# ------------------------------------------------------------------------------------------ the Given states
def _stopped(row: Row, deployed: Deployed, handler: ModuleType) -> str | None:
    """The state a deploy leaves: desired 0, no instance, the record on the placeholder."""
    return None


def _starting(row: Row, deployed: Deployed, handler: ModuleType) -> str:
    """A knock set desired 1 and the group launched an instance (the record still on the placeholder)."""
    (instance,) = scale_to(deployed, 1)
    return instance


def _running(row: Row, deployed: Deployed, handler: ModuleType) -> str:
    """The server is up: its instance InService, the record pointing at it."""
    (instance,) = scale_to(deployed, 1)
    if row.function == "InstanceStateChangeFunction":
        assert invoke(handler, scenario("launch_successful", instance))["action"] == "dns_updated"
    else:
        server_running(deployed)
    return instance


def _stopping(row: Row, deployed: Deployed, handler: ModuleType) -> str:
    """The idle alarm scaled the running server to 0; ECS managed draining holds it in Terminating:Wait."""
    instance = _running(row, deployed, handler)
    group = autoscaling_backends[ACCOUNT][deployed.region].autoscaling_groups[deployed.asg_name]
    group.desired_capacity = 0
    set_lifecycle(deployed, instance, "Terminating:Wait")
    return instance


GIVEN: dict[str, Callable[[Row, Deployed, ModuleType], str | None]] = {
    "stopped": _stopped,
    "starting": _starting,
    "running": _running,
    "stopping": _stopping,
}


def _handler(row: Row, deployed: Deployed, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    if row.function == "StartSystemFunction":
        env = template_env(row.function, deployed, function_region=EDGE_REGION)
    elif row.function == "InstanceStateChangeFunction":
        env = container_env(deployed)
    else:
        env = template_env(row.function, deployed, function_region=deployed.region)
    return load_handler(PACKAGES[row.function], env, monkeypatch)


def _payload(row: Row, deployed: Deployed, instance: str | None) -> Any:
    if row.generated:
        from samcli.lib.generated_sample_events.events import Events

        service, kind = row.path.split()
        generators = Events()
        defaults = {
            tag: spec["default"] for tag, spec in generators.event_mapping[service][kind]["tags"].items()
        }
        return json.loads(generators.generate_event(service, kind, defaults))
    name = row.path.split("/", 1)[1].removesuffix(".json")
    if row.function == "InstanceStateChangeFunction":
        assert instance, (
            f"{row}: instance-state-change events are about an instance; Given starting/running/stopping"
        )
        return scenario(name, instance)
    if row.function == "CrashLoopBreakerFunction":
        return task_event(name, deployed)
    return event(row.path)


# ----------------------------------------------------------------------------------------------- the tests
def test_table_lists_every_sample_event_once() -> None:
    rows = documented_rows()
    paths = [row.path for row in rows if not row.generated]
    assert sorted(paths) == sorted(sample_events()), "docs/functions.md rows != events/*/*.json"
    assert [row for row in rows if row.generated], "the generate-event rows are gone"
    for row in rows:
        assert row.function in PACKAGES, f"{row}: no function {row.function}"
        assert row.generated or row.path.startswith(f"{PACKAGES[row.function].replace('_', '-')}/"), (
            f"{row}: an event of another function"
        )
        assert row.given in GIVEN, f"{row}: Given must be one of {sorted(GIVEN)}"


@pytest.mark.parametrize("row", documented_rows(), ids=str)
def test_documented_outcome_is_what_the_handler_returns(
    row: Row, deployed: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the row's state, and the function loaded with the environment template.yaml sets
    handler = _handler(row, deployed, monkeypatch)
    instance = GIVEN[row.given](row, deployed, handler)
    # When the row's sample event arrives
    payload = _payload(row, deployed, instance)
    with record_api_calls() as calls:
        result = invoke(handler, payload)
    # Then it returns the documented action, and its reason says the documented words
    assert result["action"] == row.action, result
    assert row.reason.strip() in result["reason"], f"{row}: reason is {result['reason']!r}"
    # And what the docs call harmless is: no changing AWS call
    if row.action in ("ignored", "rejected"):
        assert calls.mutations == [], f"{row}: {calls.mutations}"
