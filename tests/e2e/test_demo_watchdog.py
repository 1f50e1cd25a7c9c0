"""End-to-end: the watchdog scenarios of `make demo` (issue 6, docs/watchdog.md) on a UDP game.

examples/factorio.yaml (UDP 34197, no threshold needed) is rendered, deployed into moto and played through the
W scenarios: the activity agent the launch template's user data installs - its own code, decoded from the
template - reports the simulated player counts once a minute; the template's alarms decide. Mutations break
one piece of the watchdog each and prove the scenario that depends on it fails.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from container_manager.rehearsal.runner import REPO, Report, Source, rehearse
from container_manager.rehearsal.scenarios import WATCHDOG_SCENARIOS

UDP_GAME = REPO / "examples" / "factorio.yaml"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    return rehearse(
        Source.rendered(tmp_path_factory.mktemp("watchdog"), UDP_GAME), scenarios=WATCHDOG_SCENARIOS
    )


def test_watchdog_scenarios_are_all_green(report: Report) -> None:
    assert report.deploy_error is None
    assert report.failed() == []
    assert {v.scenario.split(" ", 1)[0] for v in report.timeline.verdicts} == {"W1", "W2", "W3", "W4"}


def test_the_deployed_agent_reported_grace_players_and_zero(report: Report) -> None:
    assert report.cloud is not None
    agent = report.cloud.agent
    assert agent is not None
    values = {value for _, value in agent.published}
    assert {-1.0, 0.0, 3.0, 6.0} <= values  # startup grace, nobody, W1's three and W4's six UDP players
    # W1, W2 and W3 each stop the server once; W4 never
    assert len(report.cloud.autoscaling.scale_ins) == 3


def _mutate(root: Path, path: str, pattern: str, new: str) -> None:
    file = root / path
    text, count = re.subn(pattern, new, file.read_text())
    assert count == 1, f"mutation pattern {pattern!r} matched {count} times in {path}"
    file.write_text(text)


MUTATIONS = {
    # the idle expression forgets the agent's startup grace (-1): a booting server counts as idle
    "no startup grace": ("infra/watchdog.yaml", r" OR FILL\(players, -2\) == -1", "", "W2"),
    # minutes without an agent report count as idle instead of falling back to the traffic
    "no traffic fallback": (
        "infra/watchdog.yaml",
        r"IF\(FILL\(netin, 0\) / 60 - FILL\(efsread, 0\) / 60 >= \$\{ActivityThresholdBytesPerSecond\}, 1, 0\)",
        "0",
        "W3",
    ),
    # the agent-silent alarm's expression can never be 1: no alert
    "silent alarm never fires": (
        "infra/watchdog.yaml",
        r"AND FILL\(players, -2\) == -2, 1, 0\)",
        "AND FILL(players, -2) == -3, 1, 0)",
        "W3",
    ),
    # the agent publishes into a namespace the alarms do not read: the UDP players are invisible
    "agent writes elsewhere": (
        "infra/compute.yaml",
        r"CM_NAMESPACE=ContainerManager/Agent/\$\{ContainerId\}",
        "CM_NAMESPACE=ContainerManager/Elsewhere/${ContainerId}",
        "W1",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_watchdog_mutation_is_caught(name: str, tmp_path: Path) -> None:
    path, pattern, new, scenario = MUTATIONS[name]
    source = Source.rendered(tmp_path, UDP_GAME)
    _mutate(tmp_path, path, pattern, new)
    report = rehearse(
        source, scenarios=[s for s in WATCHDOG_SCENARIOS if s.title.split(" ", 1)[0] <= scenario]
    )
    assert report.failed(scenario), f"{name}: expected {scenario} to fail, failures: {report.failed()}"
    earlier = [f for f in report.failed() if f.split(" ", 1)[0] < scenario]
    assert earlier == [], f"{name}: scenarios before {scenario} should pass: {earlier}"
