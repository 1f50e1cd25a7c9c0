"""The rehearsal's start as a simulated waterfall, from its timeline entries alone."""

from __future__ import annotations

from container_manager.rehearsal.clock import SimClock
from container_manager.rehearsal.rehearsal_timeline import start_waterfall
from container_manager.rehearsal.timeline import Timeline


def test_scenario_three_entries_become_the_start_phases() -> None:
    # Given a rehearsal timeline with scenario 2, then 3's start, then 4
    clock = SimClock()
    timeline = Timeline(clock, out=None)
    timeline.heading("2 bots resolve other names")
    timeline.simulated("autoscaling", "container-manager-x: launching i-0bot (Pending), public IP none")
    timeline.heading("3 a player starts the server")
    timeline.simulated("route53 query log", "1.0 ... x.example.com A NOERROR ...")
    timeline.real("λ start-system", "started: desired 0 -> 1")
    timeline.simulated("autoscaling", "container-manager-x: launching i-0abc (Pending), public IP 192.0.2.9")
    clock.advance(95)
    timeline.simulated("autoscaling", "container-manager-x: i-0abc InService")
    timeline.real("λ instance-state-change", "dns_updated: A -> 192.0.2.9")
    clock.advance(40)
    timeline.simulated("ecs", "task 1234abcd on i-0abc: RUNNING")
    timeline.heading("4 players play, leave: idle stop")
    timeline.simulated("ecs", "task 1234abcd on i-0abc: RUNNING")
    # When
    fall = start_waterfall(timeline)
    # Then only scenario 3's entries count, and every phase has its simulated duration
    assert fall is not None
    seconds = {s.phase: s.seconds for s in fall.spans}
    assert seconds["instance boot -> InService"] == 95
    assert seconds["task start (pull + start)"] == 40
    assert fall.total_seconds == 135
    assert fall.label == "simulated"


def test_no_scenario_three_no_waterfall() -> None:
    timeline = Timeline(SimClock(), out=None)
    timeline.heading("W1 players connect")
    assert start_waterfall(timeline) is None
