"""The game cannot reach the instance metadata service, whatever uid it runs as (issue 9, item 9).

Given infra/compute.yaml's user data, when the boot script it installs runs (against a recording stand-in for
iptables/ip6tables), then the rules it leaves reject IMDS - IPv4 and IPv6 - for every process of an ECS task
(the task's cgroup under ecstasks.slice) as root or any other uid, and keep it for the ECS agent's container,
the activity agent, the SSM agent and the EFS mount helper (system.slice); running it again adds nothing.
And the block is a systemd unit ecs.service requires, so it is applied at every boot before any task starts;
at first boot a failure keeps the instance out of the cluster; no uid-only rule is left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from container_manager.cfn import load_template
from support.user_data import COMPUTE, installed_files, user_data_text

SCRIPT = "/usr/local/lib/container-manager/imds-block.sh"
UNIT = "/etc/systemd/system/cm-imds-block.service"
IMDS = ("169.254.169.254", "fd00:ec2::254")
TASK = "/ecstasks.slice/ecstasks-0f1e2d3c4b5a69788796a5b4c3d2e1f0.slice/docker-4be0c2a1d3.scope"

# A stand-in for iptables/ip6tables: -C answers from the recorded rules, -I records one; anything else fails.
FAKE_IPTABLES = """\
import os, sys
args = sys.argv[1:]
if args[:1] == ["-w"]:
    args = args[1:]
state = os.path.join(os.environ["FAKE_STATE"], os.path.basename(sys.argv[0]))
rules = open(state).read().splitlines() if os.path.exists(state) else []
rule = " ".join(args[1:])
if args[0] == "-C":
    sys.exit(0 if rule in rules else 1)
if args[0] == "-I":
    open(state, "w").write("\\n".join([rule, *rules]) + "\\n")
    sys.exit(0)
sys.exit(2)
"""


@dataclass(frozen=True)
class Process:
    what: str
    cgroup: str  # cgroup v2 path, as /proc/<pid>/cgroup shows it
    uid: int


PROCESSES = {
    "game as root (itzg/minecraft-server before it drops privileges)": Process("task", TASK, 0),
    "game as its uid": Process("task", TASK, 1000),
    "game as another uid": Process("task", TASK, 4242),
    "ECS agent (container ecs-agent, Docker's default parent)": Process(
        "host", "/system.slice/docker-7ac1e0f2b9.scope", 0
    ),
    "activity agent (systemd oneshot, python as root)": Process(
        "host", "/system.slice/cm-activity-agent.service", 0
    ),
    "SSM agent": Process("host", "/system.slice/amazon-ssm-agent.service", 0),
    "EFS mount helper (cloud-init's user data)": Process("host", "/system.slice/cloud-final.service", 0),
}


def run_boot_script(tmp_path: Path) -> dict[str, list[str]]:
    """Run the installed script with iptables/ip6tables recorded; returns each tool's rules, first first."""
    script = tmp_path / "imds-block.sh"
    script.write_text(installed_files(user_data_text())[SCRIPT], encoding="utf-8")
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    for name in ("iptables", "ip6tables"):
        fake = tools / name
        fake.write_text(f"#!{sys.executable}\n{FAKE_IPTABLES}", encoding="utf-8")
        fake.chmod(0o755)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    env = {"PATH": f"{tools}{os.pathsep}/usr/bin{os.pathsep}/bin", "FAKE_STATE": str(state)}
    bash = shutil.which("bash")
    assert bash is not None
    subprocess.run([bash, str(script)], env=env, check=True, timeout=30)  # noqa: S603 - the script under test
    return {
        name: (state / name).read_text().splitlines() if (state / name).exists() else []
        for name in ("iptables", "ip6tables")
    }


def verdict(rules: list[str], process: Process, destination: str) -> str:
    """The OUTPUT chain's verdict for a packet of ``process`` to ``destination`` (policy ACCEPT), for the
    matches the rules use: -d, owner --uid-owner, cgroup --path (the path's whole sub-hierarchy matches,
    iptables-extensions(8)); any other option fails the test rather than being ignored."""
    for rule in rules:
        tokens = rule.split()
        assert tokens[0] == "OUTPUT", rule
        matched, negate, target, index = True, False, None, 1
        while index < len(tokens):
            token = tokens[index]
            if token == "!":
                negate, index = True, index + 1
                continue
            value = tokens[index + 1] if index + 1 < len(tokens) else ""
            if token == "-d":
                hit = destination == value.removesuffix("/32").removesuffix("/128")
            elif token == "-m":
                assert value in ("cgroup", "owner"), rule
                hit = True
            elif token == "--path":
                hit = process.cgroup == f"/{value}" or process.cgroup.startswith(f"/{value}/")
            elif token == "--uid-owner":
                hit = process.uid == int(value)
            elif token == "-j":
                target, hit = value, True
            else:
                raise AssertionError(f"option {token} of {rule!r} is not modelled")
            matched = matched and (hit != negate)
            negate, index = False, index + 2
        if matched and target in ("REJECT", "DROP", "ACCEPT"):
            return target
    return "ACCEPT"


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    return run_boot_script(tmp_path_factory.mktemp("imds"))


@pytest.mark.parametrize("name", list(PROCESSES))
def test_imds_is_rejected_for_every_task_process_and_kept_for_the_host(
    rules: dict[str, list[str]], name: str
) -> None:
    process = PROCESSES[name]
    for tool, address in zip(("iptables", "ip6tables"), IMDS, strict=True):
        expected = "REJECT" if process.what == "task" else "ACCEPT"
        assert verdict(rules[tool], process, address) == expected, (tool, address)
        # nothing else is blocked: the game still reaches the internet and AWS endpoints
        other = "203.0.113.7" if tool == "iptables" else "2001:db8::7"
        assert verdict(rules[tool], process, other) == "ACCEPT"


def test_processes_outside_the_known_host_cgroups_are_refused_too(rules: dict[str, list[str]]) -> None:
    # fail closed: a task in a cgroup nobody planned for (a renamed slice, a user session) gets no IMDS
    for cgroup in ("/ecstasks.slice", "/user.slice/user-1000.slice/session-1.scope", "/init.scope", "/"):
        assert verdict(rules["iptables"], Process("?", cgroup, 0), IMDS[0]) == "REJECT", cgroup


def test_no_rule_depends_on_the_uid(rules: dict[str, list[str]]) -> None:
    assert "--uid-owner" not in user_data_text()
    assert all("--uid-owner" not in rule for tool in rules.values() for rule in tool)


def test_running_the_script_again_adds_no_rule(tmp_path: Path) -> None:
    first = run_boot_script(tmp_path)
    again = run_boot_script(tmp_path)
    assert again == first
    assert {tool: len(found) for tool, found in first.items()} == {"iptables": 1, "ip6tables": 1}


def test_the_block_is_applied_at_every_boot_before_the_ecs_agent() -> None:
    text = user_data_text()
    unit = installed_files(text)[UNIT]
    assert f"ExecStart={SCRIPT}\n" in unit
    assert "Type=oneshot\n" in unit
    assert "RemainAfterExit=yes\n" in unit
    assert "WantedBy=multi-user.target\n" in unit  # enabled: runs at every boot, not only the first
    assert "ecs.service" in unit.split("Before=", 1)[1].splitlines()[0]
    # ecs.service will not start without it (a failed block keeps every task off the instance)
    drop_in = "'[Unit]\\nRequires=cm-imds-block.service\\nAfter=cm-imds-block.service\\n'"
    assert f"printf {drop_in}" in text
    assert "> /etc/systemd/system/ecs.service.d/cm-imds-block.conf" in text
    assert "systemctl enable --now cm-imds-block.service || imds_blocked=false" in text


def test_first_boot_joins_no_cluster_without_the_block() -> None:
    text = user_data_text()
    assert text.index("systemctl enable --now cm-imds-block.service") < text.index("ECS_CLUSTER=")
    assert 'if [ "$imds_blocked" != true ]; then' in text
    assert 'cluster="$cluster-imds-not-blocked"' in text


def test_tasks_always_get_their_own_cgroup() -> None:
    # the block relies on ECS placing task containers under ecstasks.slice; explicitly enabled, the agent
    # exits instead of silently running tasks in Docker's default system.slice
    ecs_config = installed_files(user_data_text())["/etc/ecs/ecs.config"]
    assert "ECS_ENABLE_TASK_CPU_MEM_LIMIT=true\n" in ecs_config.splitlines(keepends=True)


def test_metadata_options_require_tokens_and_keep_ipv6_imds_off() -> None:
    data = load_template(COMPUTE)["Resources"]["LaunchTemplate"]["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpProtocolIpv6"] == "disabled"
