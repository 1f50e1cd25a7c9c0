"""CloudFormation's DeleteStack, played on the simulated clock over a deployed world.

CloudFormation deletes a resource only after every resource that references it (Ref, Fn::GetAtt, Fn::Sub) or
DependsOn it is deleted, and deletes independent resources in parallel ("DependsOn attribute",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html). A nested stack
resource is deleted by deleting its stack, the same way. ``DeletionPolicy: Retain`` keeps the resource.

Deleting a resource is what the simulated parts then see: a rule no longer matches, a state machine starts
nothing and its executions end at their next transition, a capacity provider that is gone no longer has ECS
complete its hook, a deleted ECS service stops its tasks, alarms stop being evaluated. The Auto Scaling group is
the slow one: whether CloudFormation deletes a group with ForceDelete (which "also deletes any outstanding
lifecycle actions", DeleteAutoScalingGroup,
https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DeleteAutoScalingGroup.html) is not documented,
so the slower path is modelled: capacity to 0, every instance terminates through its lifecycle hooks, then the
group is deleted. Which capacity provider hook survives the capacity provider is not documented either: the hook
stays on the group (DeleteLifecycleHook would complete its actions; nothing calls it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from container_manager.rehearsal.templates import NESTED_STACK_TYPES, dependencies
from container_manager.rehearsal.world import StackRecord, World

if TYPE_CHECKING:
    from container_manager.rehearsal.aws_parts import Cloud

POLL_SECONDS = 15  # how often CloudFormation looks again at a resource whose deletion takes time
RETAIN = ("Retain", "RetainExceptOnCreate")

Done = Callable[[], bool]  # polled until the resource is gone


@dataclass
class ResourceDeletion:
    stack: str
    logical: str
    kind: str
    started: datetime
    finished: datetime | None = None
    retained: bool = False


@dataclass
class StackDeletion:
    """DeleteStack of one stack (its nested stacks included)."""

    cloud: Cloud
    record: StackRecord
    on_done: Callable[[], None] | None = None
    started: datetime | None = None
    finished: datetime | None = None
    resources: dict[str, ResourceDeletion] = field(default_factory=dict)
    children: list[StackDeletion] = field(default_factory=list)
    _dependents: dict[str, set[str]] = field(default_factory=dict)

    @property
    def world(self) -> World:
        return self.cloud.world

    @property
    def done(self) -> bool:
        return self.finished is not None

    def all_resources(self) -> list[ResourceDeletion]:
        return list(self.resources.values()) + [r for c in self.children for r in c.all_resources()]

    def start(self) -> StackDeletion:
        self.started = self.world.clock.now
        existing = set(self.record.created) | set(self.record.declared)
        graph = dependencies(self.world_template())
        self._dependents = {name: set() for name in existing}
        for name in existing:
            for needed in graph.get(name, set()) & existing:
                self._dependents[needed].add(name)
        self.world.timeline.simulated("cloudformation", f"DELETE_IN_PROGRESS {self.record.name}")
        self._pump()
        return self

    def world_template(self) -> dict[str, Any]:
        from container_manager.cfn import load_template

        return load_template(self.record.template)

    # --------------------------------------------------------------------------------------- the walk
    def _pump(self) -> None:
        """Start every resource whose dependents are all deleted; finish the stack when none is left."""
        progressed = True
        while progressed:
            progressed = False
            for logical, dependents in sorted(self._dependents.items()):
                if logical in self.resources:
                    continue
                if all(self._finished(d) for d in dependents):
                    self._begin(logical)
                    progressed = True
        if (
            self.finished is None
            and all(r.finished for r in self.resources.values())
            and (len(self.resources) == len(self._dependents))
        ):
            self.finished = self.world.clock.now
            if self.record in self.world.stacks:
                self.world.stacks.remove(self.record)
            took = (self.finished - (self.started or self.finished)).total_seconds()
            self.world.timeline.simulated(
                "cloudformation", f"DELETE_COMPLETE {self.record.name} after {took / 60:.1f} min"
            )
            if self.on_done is not None:
                self.on_done()

    def _finished(self, logical: str) -> bool:
        resource = self.resources.get(logical)
        return resource is not None and resource.finished is not None

    def _begin(self, logical: str) -> None:
        kind = self.record.created.get(logical) or self.record.declared[logical]
        resource = ResourceDeletion(self.record.name, logical, kind, self.world.clock.now)
        self.resources[logical] = resource
        if self.record.deletion_policies.get(logical) in RETAIN:
            resource.retained = True
            self.world.timeline.simulated("cloudformation", f"DELETE_SKIPPED {logical} ({kind}): retained")
            self._finish(resource)
            return
        if kind in NESTED_STACK_TYPES:
            child_name = self.record.nested[logical]
            child = next(r for r in self.world.stacks if r.name == child_name)
            deletion = StackDeletion(self.cloud, child, on_done=lambda: self._finish(resource))
            self.children.append(deletion)
            deletion.start()
            return
        deleter = _DELETERS.get(kind)
        physical = self.record.physical.get(logical)
        pending = deleter(self.cloud, self.record, physical) if deleter is not None else None
        self.cloud.autoscaling.reconcile()  # the simulated services react at once
        if pending is None:
            self._finish(resource)
            return
        self.world.timeline.simulated("cloudformation", f"DELETE_IN_PROGRESS {logical} ({kind})")
        self._poll(resource, pending)

    def _poll(self, resource: ResourceDeletion, pending: Done) -> None:
        if pending():
            took = (self.world.clock.now - resource.started).total_seconds()
            self.world.timeline.simulated(
                "cloudformation", f"DELETE_COMPLETE {resource.logical} after {took / 60:.1f} min"
            )
            self._finish(resource)
            return
        self.world.clock.after(
            POLL_SECONDS, lambda: self._poll(resource, pending), f"{resource.logical} deleting"
        )

    def _finish(self, resource: ResourceDeletion) -> None:
        resource.finished = self.world.clock.now
        self._pump()


def delete_stack(cloud: Cloud, name: str) -> StackDeletion:
    """Start deleting the deployed stack ``name``; the clock carries it on."""
    record = next((r for r in cloud.world.stacks if r.name == name), None)
    if record is None:
        raise KeyError(f"no deployed stack {name!r} (have {[r.name for r in cloud.world.stacks]})")
    return StackDeletion(cloud, record).start()


def root_of(world: World, group_name: str) -> StackRecord:
    """The top-level stack that (through its nested stacks) holds the group ``group_name``."""
    parent = {child: record for record in world.stacks for child in record.nested.values()}
    for record in world.stacks:
        if group_name in record.physical.values():
            while record.name in parent:
                record = parent[record.name]
            return record
    raise KeyError(f"no stack holds the group {group_name}")


# ------------------------------------------------------------------------- what deleting each type does
Deleter = Callable[["Cloud", StackRecord, Any], Done | None]


def _group(cloud: Cloud, record: StackRecord, name: Any) -> Done:
    world = cloud.world
    group = world.groups[str(name)]
    autoscaling = world.client("autoscaling", group.region)
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=group.name, MinSize=0, MaxSize=0, DesiredCapacity=0
    )

    def gone() -> bool:
        members = [t for t in cloud.autoscaling.instances.values() if t.group is group]
        if any(t.phase != "Terminated" for t in members):
            return False
        world.groups.pop(group.name, None)
        autoscaling.delete_auto_scaling_group(AutoScalingGroupName=group.name, ForceDelete=True)
        return True

    return gone


def _service(cloud: Cloud, record: StackRecord, arn: Any) -> None:
    name = str(arn).rsplit("/", 1)[-1]
    service = next((s for s in cloud.world.services if s.name == name), None)
    if service is not None:
        cloud.ecs.service_deleted(service)


def _capacity_provider(cloud: Cloud, record: StackRecord, name: Any) -> None:
    cloud.world.capacity_providers.pop(str(name), None)


def _rule(cloud: Cloud, record: StackRecord, name: Any) -> None:
    world = cloud.world
    for rule in [r for r in world.rules if r.name == name and r.region == record.region]:
        world.rules.remove(rule)
        events = world.client("events", rule.region)
        with contextlib.suppress(ClientError):
            events.remove_targets(Rule=rule.name, Ids=[f"t{i}" for i in range(len(rule.targets))])
            events.delete_rule(Name=rule.name)


def _state_machine(cloud: Cloud, record: StackRecord, arn: Any) -> Done:
    world = cloud.world
    machine = world.state_machines[str(arn)]
    machine.deleting = True
    world.client("stepfunctions", machine.region).delete_state_machine(stateMachineArn=machine.arn)

    def gone() -> bool:  # "deleted only when all its executions are completed"
        if cloud.stepfunctions is not None and cloud.stepfunctions.running(machine):
            return False
        world.state_machines.pop(machine.arn, None)
        return True

    return gone


def _function(cloud: Cloud, record: StackRecord, name: Any) -> None:
    world = cloud.world
    spec = next((f for f in world.functions.values() if f.name == name), None)
    if spec is None:
        return
    world.functions.pop(spec.logical, None)
    world.subscriptions[:] = [s for s in world.subscriptions if s.function is not spec]
    world.rules[:] = [r for r in world.rules if not any(t.function is spec for t in r.targets)]


def _alarm(cloud: Cloud, record: StackRecord, name: Any) -> None:
    cloud.world.alarms[:] = [a for a in cloud.world.alarms if a.definition.name != name]


def _policy(cloud: Cloud, record: StackRecord, arn: Any) -> None:
    cloud.world.policies.pop(str(arn), None)


def _topic(cloud: Cloud, record: StackRecord, arn: Any) -> None:
    cloud.world.topics.pop(str(arn), None)


def _file_system(cloud: Cloud, record: StackRecord, fs: Any) -> None:
    cloud.world.file_systems[:] = [f for f in cloud.world.file_systems if f[0] != fs]


_DELETERS: dict[str, Deleter] = {
    "AWS::AutoScaling::AutoScalingGroup": _group,
    "AWS::ECS::Service": _service,
    "AWS::ECS::CapacityProvider": _capacity_provider,
    "AWS::Events::Rule": _rule,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Serverless::Function": _function,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::AutoScaling::ScalingPolicy": _policy,
    "AWS::SNS::Topic": _topic,
    "AWS::EFS::FileSystem": _file_system,
}
