"""The rehearsal's termination lifecycle (issue 9 item 4), against the repo's templates deployed into moto.

Given a scale-in, an instance waits in Terminating:Wait with one lifecycle action per termination hook; ECS's
managed draining completes its hook only for a container instance of the cluster while its capacity provider
exists; anyone may complete an action through CompleteLifecycleAction; an action nobody completes ends at the
hook's HeartbeatTimeout with its DefaultResult. The template's releaser (infra/compute.yaml) completes what ECS
does not. CloudFormation's stack delete removes dependents first.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from container_manager.rehearsal.aws_parts import Cloud, Tracked
from container_manager.rehearsal.deletion import delete_stack, root_of
from container_manager.rehearsal.lifecycle import LifecycleAction
from container_manager.rehearsal.world import GroupSpec, HookSpec
from support.rehearsal_world import in_world

HOOK = "ecs-managed-draining-termination-hook"


def start_server(cloud: Cloud, *, mounts_fail: bool = False) -> tuple[GroupSpec, Tracked]:
    (group,) = cloud.world.groups.values()
    cloud.ecs.mount_failures = int(mounts_fail)
    autoscaling = cloud.world.client("autoscaling", group.region)
    autoscaling.set_desired_capacity(AutoScalingGroupName=group.name, DesiredCapacity=1)
    cloud.autoscaling.reconcile()
    cloud.advance(180)  # boot, then the DAEMON task starts (if the instance joined the cluster)
    (tracked,) = cloud.autoscaling.instances.values()
    assert tracked.phase == "InService"
    assert (cloud.ecs.running(tracked.instance_id) is None) == mounts_fail
    return group, tracked


def stop_server(cloud: Cloud, group: GroupSpec) -> None:
    cloud.world.client("autoscaling", group.region).set_desired_capacity(
        AutoScalingGroupName=group.name, DesiredCapacity=0
    )
    cloud.autoscaling.reconcile()


def without_releaser(cloud: Cloud) -> None:
    cloud.world.rules[:] = [r for r in cloud.world.rules if not r.origin.endswith("TerminatingInstanceRule")]


def only_action(cloud: Cloud) -> LifecycleAction:
    (action,) = cloud.autoscaling.lifecycle.actions
    return action


def by_the_releaser(action: LifecycleAction) -> bool:
    """Completed by a CompleteLifecycleAction call signed by the state machine's role."""
    return "TerminatingInstanceReleaserRole" in str(action.completed_by)


def releaser_outcome(cloud: Cloud) -> tuple[str, str]:
    assert cloud.stepfunctions is not None
    (execution,) = cloud.stepfunctions.executions
    return execution.status, execution.state


def test_an_action_nobody_completes_ends_at_the_hooks_heartbeat_timeout_with_its_default_result() -> None:
    def check(cloud: Cloud) -> None:
        # Given an instance that never joined the cluster, and no releaser
        without_releaser(cloud)
        group, tracked = start_server(cloud, mounts_fail=True)
        # When the group scales it in
        stop_server(cloud, group)
        assert tracked.phase == "Terminating:Wait"
        # Then it waits the managed-draining hook's whole heartbeat timeout (3600 s), then CONTINUE terminates it
        cloud.advance(3599)
        assert tracked.phase == "Terminating:Wait"
        cloud.advance(2)
        assert tracked.phase == "Terminated"
        action = only_action(cloud)
        assert (action.hook.name, action.result, action.completed_by) == (
            HOOK,
            "CONTINUE",
            "heartbeat timeout",
        )

    in_world(check)


def test_the_releaser_completes_what_ecs_does_not_stop_timeout_plus_60_seconds_later() -> None:
    def check(cloud: Cloud) -> None:
        group, tracked = start_server(cloud, mounts_fail=True)
        stop_server(cloud, group)
        stop_timeout = 120  # the template's default
        cloud.advance(stop_timeout + 59)
        assert tracked.phase == "Terminating:Wait"
        cloud.advance(2)
        assert tracked.phase == "Terminated"
        assert only_action(cloud).result == "CONTINUE"
        assert by_the_releaser(only_action(cloud))
        assert releaser_outcome(cloud) == ("SUCCEEDED", "Released")

    in_world(check)


def test_ecs_releases_a_container_instance_and_the_releaser_then_finds_nothing_to_do() -> None:
    def check(cloud: Cloud) -> None:
        group, tracked = start_server(cloud)
        stop_server(cloud, group)
        cloud.advance(61)  # managed draining: the task stops, ECS completes its hook
        assert tracked.phase == "Terminated"
        assert only_action(cloud).completed_by == "CompleteLifecycleAction (an AWS service)"
        cloud.advance(240)
        assert releaser_outcome(cloud) == ("SUCCEEDED", "AlreadyReleased")

    in_world(check)


def test_complete_lifecycle_action_by_token_or_instance_and_abandon_skips_the_other_hooks() -> None:
    def check(cloud: Cloud) -> None:
        without_releaser(cloud)
        (group,) = cloud.world.groups.values()
        group.termination_hooks.append("backup-hook")
        group.hooks["backup-hook"] = HookSpec("backup-hook", "autoscaling:EC2_INSTANCE_TERMINATING")
        _, tracked = start_server(cloud, mounts_fail=True)
        stop_server(cloud, group)
        ecs_action, backup_action = cloud.autoscaling.lifecycle.pending(tracked.instance_id)
        autoscaling = cloud.world.client("autoscaling", group.region)
        common = {"AutoScalingGroupName": group.name, "LifecycleActionResult": "CONTINUE"}
        # an unknown token or instance: the error Auto Scaling gives, nothing changes
        with pytest.raises(
            ClientError,
            match="No active Lifecycle Action found with token 00000000-0000-4000-8000-000000000000",
        ):
            autoscaling.complete_lifecycle_action(
                LifecycleHookName=HOOK, LifecycleActionToken="00000000-0000-4000-8000-000000000000", **common
            )
        with pytest.raises(ClientError, match="No active Lifecycle Action found with instance ID i-0"):
            autoscaling.complete_lifecycle_action(LifecycleHookName=HOOK, InstanceId="i-0", **common)
        # CONTINUE on one hook by token: the instance still waits for the other
        autoscaling.complete_lifecycle_action(
            LifecycleHookName=HOOK, LifecycleActionToken=ecs_action.token, **common
        )
        cloud.advance(1)
        assert tracked.phase == "Terminating:Wait"
        with pytest.raises(ClientError, match="No active Lifecycle Action"):  # completed already
            autoscaling.complete_lifecycle_action(
                LifecycleHookName=HOOK, InstanceId=tracked.instance_id, **common
            )
        # ABANDON on the other, by instance id: terminated
        autoscaling.complete_lifecycle_action(
            AutoScalingGroupName=group.name,
            LifecycleHookName="backup-hook",
            InstanceId=tracked.instance_id,
            LifecycleActionResult="ABANDON",
        )
        cloud.advance(1)
        assert tracked.phase == "Terminated"
        assert backup_action.result == "ABANDON"

    in_world(check)


def test_stack_delete_removes_dependents_first_and_the_group_before_the_releaser() -> None:
    def check(cloud: Cloud) -> None:
        group, tracked = start_server(cloud)
        root = root_of(cloud.world, group.name)
        # When the stack is deleted while the server runs
        deletion = delete_stack(cloud, root.name)
        cloud.advance(600)
        # Then it is gone, and the world's file system is kept (DeletionPolicy Retain)
        assert deletion.finished is not None
        assert cloud.world.stacks == []
        assert cloud.world.groups == {}
        assert cloud.world.rules == []
        assert cloud.world.state_machines == {}
        resources = {r.logical: r for r in deletion.all_resources()}
        assert [name for name, r in resources.items() if r.retained] == ["DataFileSystem"]
        # The capacity provider went first (it references the group): ECS could not release the instance ...
        assert resources["CapacityProvider"].finished is not None
        assert resources["CapacityProvider"].finished <= resources["AutoScalingGroup"].started
        # ... the releaser did, while it still existed: the group was deleted before it
        assert resources["AutoScalingGroup"].finished is not None
        assert resources["AutoScalingGroup"].finished <= resources["TerminatingInstanceReleaser"].started
        assert tracked.terminated_at is not None
        assert by_the_releaser(only_action(cloud))

    in_world(check)
