"""Auto Scaling's lifecycle actions for terminating instances, which moto does not play.

An instance the group terminates waits in ``Terminating:Wait`` with one lifecycle action per termination hook.
Each action ends when someone completes it (``CompleteLifecycleAction``, with its token or the instance id) or
when the hook's ``HeartbeatTimeout`` passes without a heartbeat: then the hook's ``DefaultResult`` applies
(LifecycleHook, https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_LifecycleHook.html). For a
terminating instance both results terminate it (unless the group's RetentionTriggers retain abandoned ones, which
ours does not set: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RetentionTriggers.html);
ABANDON skips the remaining hooks, CONTINUE waits for them (AWS re:Post, "Meaning of CONTINUE vs ABANDON in
lifecycle hooks"; "Complete a lifecycle action",
https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html). Nobody records
heartbeats in the rehearsal, so no action outlives its heartbeat timeout (the global timeout, at most 48 h, never
matters).

moto 5.2.5 has no ``CompleteLifecycleAction``: ``completion_api`` adds it to moto's Auto Scaling responses, so
every caller (ECS's managed draining, a state machine's Task, a handler) completes an action through the real
API call, IAM enforcement included. An unknown token or instance answers as Auto Scaling does: ValidationError
"No active Lifecycle Action found with ..." (the text AWS returns, as clients match it; the API reference does
not quote it).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from unittest import mock

from container_manager.rehearsal.world import ACCOUNT, GroupSpec, HookSpec, World

# moto's Auto Scaling modules are imported where used: importing them builds boto3 sessions, which must not
# happen before the test suite's safety guard has checked the environment (tests/conftest.py).

TERMINATING = "autoscaling:EC2_INSTANCE_TERMINATING"
RESULTS = ("CONTINUE", "ABANDON")
_BACKEND_ATTRIBUTE = "rehearsal_lifecycle_actions"  # where moto's backend finds the actions of its region


class NoActiveLifecycleAction(LookupError):
    pass


@dataclass
class LifecycleAction:
    group: GroupSpec
    hook: HookSpec
    instance_id: str
    token: str
    started: datetime
    result: str | None = None
    completed_by: str | None = None  # who: an API caller, or "heartbeat timeout"
    completed_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.result is None


class LifecycleActions:
    """The pending and finished lifecycle actions of every terminating instance."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.actions: list[LifecycleAction] = []
        self._proceed: dict[str, Callable[[], None]] = {}  # instance id -> terminate it

    def begin(self, group: GroupSpec, instance_id: str, proceed: Callable[[], None]) -> list[LifecycleAction]:
        """The instance enters Terminating:Wait: one action per termination hook; ``proceed`` terminates it."""
        from moto.autoscaling.models import autoscaling_backends

        setattr(autoscaling_backends[ACCOUNT][group.region], _BACKEND_ATTRIBUTE, self)
        now = self.world.clock.now
        started = []
        for name in group.termination_hooks:
            hook = group.hooks.get(name, HookSpec(name, TERMINATING))
            seed = f"{instance_id}/{name}/{now.isoformat()}".encode()
            token = str(uuid.UUID(bytes=hashlib.sha256(seed).digest()[:16], version=4))
            action = LifecycleAction(group, hook, instance_id, token, now)
            self.actions.append(action)
            started.append(action)
            self.world.clock.after(
                hook.heartbeat_timeout, functools.partial(self._timed_out, action), f"{name} times out"
            )
        self._proceed[instance_id] = proceed
        return started

    def pending(self, instance_id: str) -> list[LifecycleAction]:
        return [a for a in self.actions if a.instance_id == instance_id and a.active]

    def complete(
        self,
        group_name: str,
        hook_name: str,
        result: str,
        *,
        token: str | None = None,
        instance_id: str | None = None,
        by: str = "CompleteLifecycleAction",
    ) -> LifecycleAction:
        if result not in RESULTS:
            raise ValueError(f"LifecycleActionResult must be CONTINUE or ABANDON, not {result!r}")
        for action in self.actions:
            if (
                action.active
                and action.group.name == group_name
                and action.hook.name == hook_name
                and (token is None or action.token == token)
                and (instance_id is None or action.instance_id == instance_id)
                and (token is not None or instance_id is not None)
            ):
                self._finish(action, result, by)
                return action
        what = f"token {token}" if token is not None else f"instance ID {instance_id}"
        raise NoActiveLifecycleAction(f"No active Lifecycle Action found with {what}")

    def _timed_out(self, action: LifecycleAction) -> None:
        if action.active:
            self._finish(action, action.hook.default_result, "heartbeat timeout")

    def _finish(self, action: LifecycleAction, result: str, by: str) -> None:
        action.result, action.completed_by, action.completed_at = result, by, self.world.clock.now
        waited = (self.world.clock.now - action.started).total_seconds()
        self.world.timeline.simulated(
            "autoscaling",
            f"{action.group.name}: {action.instance_id} lifecycle action of {action.hook.name} completed "
            f"{result} by {by} after {waited / 60:.1f} min",
        )
        remaining = self.pending(action.instance_id)
        if result == "ABANDON" or not remaining:
            for other in remaining:  # ABANDON: the instance terminates without the other hooks
                other.result, other.completed_by, other.completed_at = (
                    "ABANDON",
                    "ABANDON",
                    self.world.clock.now,
                )
            proceed = self._proceed.pop(action.instance_id, None)
            if proceed is not None:  # Auto Scaling terminates it after the call returns, not inside it
                self.world.clock.after(0, proceed, f"{action.instance_id} terminates")


# ------------------------------------------------------------------------------ the API moto does not have
def _complete_lifecycle_action(self: Any) -> Any:
    """CompleteLifecycleAction for moto's Auto Scaling (request parameters as the API reference names them)."""
    from moto.autoscaling.exceptions import ValidationError
    from moto.core.responses import EmptyResult

    instance_id = self._get_param("InstanceId")
    token = self._get_param("LifecycleActionToken")
    actions: Any = getattr(self.autoscaling_backend, _BACKEND_ATTRIBUTE, None)
    try:
        if actions is None:
            what = f"token {token}" if token else f"instance ID {instance_id}"
            raise NoActiveLifecycleAction(f"No active Lifecycle Action found with {what}")
        actions.complete(
            self._get_param("AutoScalingGroupName"),
            self._get_param("LifecycleHookName"),
            self._get_param("LifecycleActionResult"),
            token=token,
            instance_id=instance_id,
            by=f"CompleteLifecycleAction ({_caller(self)})",
        )
    except (NoActiveLifecycleAction, ValueError) as exc:
        raise ValidationError(str(exc)) from exc
    return EmptyResult()


def _caller(response: Any) -> str:
    """Who called: the role whose session signed the request, else an AWS service (the rehearsal's own clients,
    as ECS's managed draining calls it)."""
    from moto.sts.models import sts_backends

    assumed = sts_backends[ACCOUNT]["aws"].get_assumed_role_from_access_key(response.get_access_key())
    return "an AWS service" if assumed is None else str(assumed.role_arn).rsplit("/", 1)[-1]


@contextmanager
def completion_api() -> Iterator[None]:
    """moto answers CompleteLifecycleAction while the block runs."""
    from moto.autoscaling.responses import AutoScalingResponse

    with mock.patch.object(
        AutoScalingResponse, "complete_lifecycle_action", _complete_lifecycle_action, create=True
    ):
        yield
