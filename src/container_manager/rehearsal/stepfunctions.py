"""The Step Functions service's part: a state machine's executions, run on the simulated clock.

moto stores state machines but does not run their definitions. This is a small interpreter of the Amazon States
Language with the JSONPath query language (specification: https://states-language.net/spec.html; the Step
Functions Developer Guide, "Amazon States Language"): the states Pass, Wait (``Seconds``, ``SecondsPath``,
``Timestamp``, ``TimestampPath``), Task, Choice, Succeed and Fail; ``InputPath``, ``Parameters`` (a key ending
in ``.$`` takes the value at a path of the input, ``$$.`` of the context object), ``ResultSelector``,
``ResultPath`` and ``OutputPath``; ``Retry`` and ``Catch``. A Task is an AWS SDK integration,
``arn:aws:states:::aws-sdk:<service>:<apiAction>`` ("AWS SDK service integrations":
https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html): the call is made in moto
as the state machine's role, under moto's IAM enforcement and the offline checks of the role's Conditions and
Resources (``lambdas.offline_authorization``). Its errors are named ``ServiceName.ErrorName`` with the
``Exception`` suffix, as that page documents; a call AWS would deny is denied.

Anything else (Map, Parallel, intrinsic functions, JSONata, ``.sync``/``.waitForTaskToken``) fails the execution
with ``States.Runtime`` instead of being guessed. A deleted state machine's executions end at their next state
transition (DeleteStateMachine, https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachine.html).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import ClientError

from container_manager.rehearsal import iam
from container_manager.rehearsal.lambdas import offline_authorization
from container_manager.rehearsal.world import ACCOUNT, RuleTarget, StateMachineSpec, World

SDK_TASK = re.compile(r"^arn:aws:states:::aws-sdk:(?P<service>[a-z0-9]+):(?P<action>[A-Za-z0-9]+)$")
SDK_SERVICE_TO_BOTO3 = {"sfn": "stepfunctions"}  # the integration's service names where boto3's differ
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_counter = itertools.count(1)


class StatesError(Exception):
    """An error as Step Functions names it: ``name`` (e.g. ``AutoScaling.ValidationErrorException``), ``cause``."""

    def __init__(self, name: str, cause: str) -> None:
        super().__init__(f"{name}: {cause}")
        self.name = name
        self.cause = cause


# --------------------------------------------------------------------------------------------------- JSONPath
_MISSING = object()


def _walk(path: str, root: Any) -> Any:
    rest = path[1:]
    steps = _STEP.findall(rest)
    if "".join(f".{n}" if n else f"[{i}]" for n, i in steps) != rest:
        raise StatesError("States.Runtime", f"unsupported path {path!r} (only $.name.name[0] paths)")
    value = root
    for name, index in steps:
        if name and isinstance(value, dict) and name in value:
            value = value[name]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def read_path(path: str, data: Any, context: Mapping[str, Any]) -> Any:
    """The value at a reference path (``$...`` of the data, ``$$...`` of the context object)."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise StatesError("States.Runtime", f"{path!r} is not a path")
    if path.startswith("States."):
        raise StatesError("States.Runtime", f"intrinsic functions are not emulated: {path}")
    value = _walk(path[1:], context) if path.startswith("$$") else _walk(path, data)
    if value is _MISSING:
        raise StatesError("States.Runtime", f"the path {path!r} matches nothing in the input")
    return copy.deepcopy(value)


def path_exists(path: str, data: Any) -> bool:
    return _walk(path, data) is not _MISSING


def resolve_template(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """``Parameters``/``ResultSelector``: keys ending in ``.$`` take the value of their path, recursively."""
    if isinstance(template, dict):
        resolved = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if isinstance(value, str) and value.startswith("States."):
                    raise StatesError("States.Runtime", f"intrinsic functions are not emulated: {value}")
                resolved[key[:-2]] = read_path(value, data, context)
            else:
                resolved[key] = resolve_template(value, data, context)
        return resolved
    if isinstance(template, list):
        return [resolve_template(v, data, context) for v in template]
    return copy.deepcopy(template)


def apply_result_path(raw: Any, result: Any, result_path: Any) -> Any:
    """``ResultPath``: ``$`` replaces the input, ``null`` discards the result, ``$.a.b`` sets it inside a copy."""
    if result_path is None:
        return copy.deepcopy(raw)
    if result_path == "$":
        return result
    steps = _STEP.findall(str(result_path)[1:])
    if not str(result_path).startswith("$.") or any(index for _, index in steps):
        raise StatesError("States.Runtime", f"unsupported ResultPath {result_path!r}")
    out = copy.deepcopy(raw) if isinstance(raw, dict) else {}
    node = out
    for name, _ in steps[:-1]:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):
            raise StatesError("States.Runtime", f"ResultPath {result_path!r} crosses a non-object")
    node[steps[-1][0]] = result
    return out


def _filter(path: Any, data: Any, context: Mapping[str, Any]) -> Any:
    """``InputPath``/``OutputPath``: ``null`` gives ``{}``, a path selects."""
    if path is None:
        return {}
    return read_path(str(path), data, context)


# ------------------------------------------------------------------------------------------------- Choice
def string_matches(value: str, pattern: str) -> bool:
    """``StringMatches``: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are literal."""
    regex = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            regex += re.escape(pattern[index + 1])
            index += 2
            continue
        regex += ".*" if char == "*" else re.escape(char)
        index += 1
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_COMPARE: dict[str, tuple[Any, Any]] = {
    # operator -> (type test of both sides, comparison)
    "StringEquals": (lambda v: isinstance(v, str), lambda a, b: a == b),
    "StringLessThan": (lambda v: isinstance(v, str), lambda a, b: a < b),
    "StringGreaterThan": (lambda v: isinstance(v, str), lambda a, b: a > b),
    "StringLessThanEquals": (lambda v: isinstance(v, str), lambda a, b: a <= b),
    "StringGreaterThanEquals": (lambda v: isinstance(v, str), lambda a, b: a >= b),
    "NumericEquals": (_is_number, lambda a, b: a == b),
    "NumericLessThan": (_is_number, lambda a, b: a < b),
    "NumericGreaterThan": (_is_number, lambda a, b: a > b),
    "NumericLessThanEquals": (_is_number, lambda a, b: a <= b),
    "NumericGreaterThanEquals": (_is_number, lambda a, b: a >= b),
    "BooleanEquals": (lambda v: isinstance(v, bool), lambda a, b: a == b),
}
_TYPE_TESTS: dict[str, Any] = {
    "IsNull": lambda v: v is None,
    "IsString": lambda v: isinstance(v, str),
    "IsNumeric": _is_number,
    "IsBoolean": lambda v: isinstance(v, bool),
}


def choice_matches(rule: Mapping[str, Any], data: Any, context: Mapping[str, Any]) -> bool:
    if "And" in rule:
        return all(choice_matches(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(choice_matches(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not choice_matches(rule["Not"], data, context)
    variable = str(rule["Variable"])
    operators = [k for k in rule if k not in ("Variable", "Next", "Comment")]
    if len(operators) != 1:
        raise StatesError("States.Runtime", f"a choice rule needs one comparison, has {operators}")
    (operator,) = operators
    expected = rule[operator]
    if operator == "IsPresent":
        return path_exists(variable, data) == bool(expected)
    value = read_path(variable, data, context)  # a missing variable is a runtime error, as in AWS
    if operator in _TYPE_TESTS:
        return bool(_TYPE_TESTS[operator](value)) == bool(expected)
    if operator.endswith("Path") and operator[:-4] in _COMPARE | {"StringMatches": None}:
        operator, expected = operator[:-4], read_path(str(expected), data, context)
    if operator == "StringMatches":
        return isinstance(value, str) and string_matches(value, str(expected))
    if operator not in _COMPARE:
        raise StatesError("States.Runtime", f"choice operator {operator} is not emulated")
    is_type, compare = _COMPARE[operator]
    return bool(is_type(value) and is_type(expected) and compare(value, expected))


# --------------------------------------------------------------------------------------------- executions
def error_name(service: str, code: str) -> str:
    """``ServiceName.ErrorName``: the service in PascalCase, the error with an ``Exception`` suffix (the AWS SDK
    integrations page: "include the Exception suffix even if it isn't part of the error name")."""
    from botocore.session import get_session

    service_id = get_session().get_service_model(service).service_id
    words = str(service_id).split()
    pascal = "".join(w.capitalize() if w.isupper() else w[0].upper() + w[1:] for w in words)
    return f"{pascal}.{code if code.endswith('Exception') else code + 'Exception'}"


def matches_error(names: list[str], error: str) -> bool:
    """``ErrorEquals``: ``States.ALL`` matches any error but ``States.Runtime``; ``States.TaskFailed`` any Task
    error but ``States.Timeout``."""
    if error in names:
        return True
    if error == "States.Runtime":
        return False
    return "States.ALL" in names or ("States.TaskFailed" in names and error != "States.Timeout")


@dataclass
class Execution:
    arn: str
    name: str
    machine: StateMachineSpec
    input: Any
    started: datetime
    origin: str
    status: str = "RUNNING"  # RUNNING | SUCCEEDED | FAILED | ABORTED
    state: str = ""
    data: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    stopped: datetime | None = None
    history: list[tuple[datetime, str]] = field(default_factory=list)
    attempts: dict[tuple[str, int], int] = field(default_factory=dict)  # (state, retrier index) -> retries

    @property
    def short(self) -> str:
        return f"{self.machine.name}:{self.name[:8]}"


class StepFunctions:
    def __init__(self, world: World) -> None:
        self.world = world
        self.executions: list[Execution] = []
        self._sessions: dict[str, iam.RoleSession] = {}

    # ------------------------------------------------------------------------------------- starting one
    def start_from_rule(self, target: RuleTarget, event: Mapping[str, Any], origin: str) -> Execution | None:
        """EventBridge starts the target state machine with the event as input, as the target's role: a role
        without ``states:StartExecution`` on the machine (or no role: a state machine target needs one) starts
        nothing ("IAM roles for sending events to targets",
        https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-iam-roles.html)."""
        machine = self.world.state_machines[target.arn]
        if machine.deleting:
            self.world.timeline.simulated("eventbridge", f"cannot start {machine.name}: StateMachineDeleting")
            return None
        role = target.role_arn
        statements = self.world.role_statements.get(role or "", [])
        params = {"stateMachineArn": target.arn, "input": json.dumps(event)}
        denial = (
            "the target has no RoleArn"
            if role is None
            else iam.offline_denial(statements, "stepfunctions", "StartExecution", params, target.arn)
        )
        if denial is not None:
            self.world.timeline.simulated("eventbridge", f"cannot start {target.arn}: {denial}")
            return None
        return self.start(target.arn, dict(event), origin)

    def start(self, arn: str, data: Any, origin: str) -> Execution:
        machine = self.world.state_machines[arn]
        name = str(uuid.UUID(int=next(_counter) << 96 | 0x4000_8000_0000_0000_0000 | 0xE0EC))
        execution = Execution(
            f"arn:aws:states:{machine.region}:{ACCOUNT}:execution:{machine.name}:{name}",
            name,
            machine,
            copy.deepcopy(data),
            self.world.clock.now,
            origin,
            state=str(machine.definition["StartAt"]),
            data=copy.deepcopy(data),
        )
        self.executions.append(execution)
        self._log(execution, f"started by {origin}")
        self._run(execution)
        return execution

    def running(self, machine: StateMachineSpec | None = None) -> list[Execution]:
        return [e for e in self.executions if e.status == "RUNNING" and machine in (None, e.machine)]

    # ------------------------------------------------------------------------------------------ the loop
    def _context(self, execution: Execution) -> dict[str, Any]:
        return {
            "Execution": {
                "Id": execution.arn,
                "Name": execution.name,
                "Input": execution.input,
                "StartTime": execution.started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "RoleArn": execution.machine.role_arn,
            },
            "State": {"Name": execution.state},
            "StateMachine": {"Id": execution.machine.arn, "Name": execution.machine.name},
        }

    def _run(self, execution: Execution) -> None:
        """Transition from state to state until the execution waits (on the clock) or ends."""
        states = execution.machine.definition.get("States", {})
        while execution.status == "RUNNING":
            if execution.machine.deleting:
                self._end(execution, "ABORTED", error="States.Aborted", cause="the state machine was deleted")
                return
            state = states.get(execution.state)
            try:
                if state is None:
                    raise StatesError("States.Runtime", f"no state {execution.state!r}")
                waited = self._enter(execution, state)
            except StatesError as error:
                self._end(execution, "FAILED", error=error.name, cause=error.cause)
                return
            if waited:
                return

    def _enter(self, execution: Execution, state: Mapping[str, Any]) -> bool:
        """Run one state; True when the execution now waits on the clock."""
        context = self._context(execution)
        raw = execution.data
        kind = state.get("Type")
        if kind == "Fail":
            self._end(execution, "FAILED", error=state.get("Error"), cause=state.get("Cause"))
            return False
        effective = _filter(state.get("InputPath", "$"), raw, context)
        if kind == "Succeed":
            self._end(
                execution, "SUCCEEDED", output=_filter(state.get("OutputPath", "$"), effective, context)
            )
            return False
        if kind == "Pass":
            if "Parameters" in state:
                effective = resolve_template(state["Parameters"], effective, context)
            result = copy.deepcopy(state["Result"]) if "Result" in state else effective
            self._next(
                execution, state, apply_result_path(raw, result, state.get("ResultPath", "$")), context
            )
            return False
        if kind == "Choice":
            for rule in state.get("Choices", []):
                if choice_matches(rule, effective, context):
                    self._goto(execution, str(rule["Next"]), effective, context, state, "choice")
                    return False
            if "Default" not in state:
                raise StatesError("States.NoChoiceMatched", f"no choice of {execution.state} matched")
            self._goto(execution, str(state["Default"]), effective, context, state, "default")
            return False
        if kind == "Wait":
            return self._wait(execution, state, effective, context)
        if kind == "Task":
            return self._task(execution, state, raw, effective, context)
        raise StatesError("States.Runtime", f"state type {kind} is not emulated")

    def _next(
        self, execution: Execution, state: Mapping[str, Any], data: Any, context: Mapping[str, Any]
    ) -> None:
        output = _filter(state.get("OutputPath", "$"), data, context)
        if state.get("End"):
            self._end(execution, "SUCCEEDED", output=output)
        else:
            self._goto(execution, str(state["Next"]), output, context, state, "next")

    def _goto(
        self,
        execution: Execution,
        name: str,
        data: Any,
        context: Mapping[str, Any],
        state: Mapping[str, Any],
        why: str,
    ) -> None:
        if why != "next":
            data = _filter(state.get("OutputPath", "$"), data, context)
        self._log(execution, f"{execution.state} -> {name}")
        self._leave(execution)
        execution.state, execution.data = name, data

    @staticmethod
    def _leave(execution: Execution) -> None:
        """Retry counts belong to one visit of a state."""
        execution.attempts = {k: v for k, v in execution.attempts.items() if k[0] != execution.state}

    def _wait(
        self, execution: Execution, state: Mapping[str, Any], effective: Any, context: Mapping[str, Any]
    ) -> bool:
        if "Seconds" in state:
            seconds = float(state["Seconds"])
        elif "SecondsPath" in state:
            value = read_path(str(state["SecondsPath"]), effective, context)
            if not _is_number(value) or value < 0:
                raise StatesError("States.Runtime", f"SecondsPath gave {value!r}, not a non-negative number")
            seconds = float(value)
        else:
            stamp = (
                state["Timestamp"]
                if "Timestamp" in state
                else read_path(str(state["TimestampPath"]), effective, context)
            )
            due = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
            seconds = max(0.0, (due - self.world.clock.now).total_seconds())
        self._log(execution, f"{execution.state}: waits {seconds:g} s")

        def resume() -> None:
            if execution.status != "RUNNING":
                return
            if execution.machine.deleting:  # the next transition ends a deleted machine's execution
                self._run(execution)
                return
            self._next(execution, state, effective, context)
            self._run(execution)

        self.world.clock.after(seconds, resume, f"{execution.short} after {execution.state}")
        return True

    # ------------------------------------------------------------------------------------------ a Task
    def _task(
        self,
        execution: Execution,
        state: Mapping[str, Any],
        raw: Any,
        effective: Any,
        context: Mapping[str, Any],
    ) -> bool:
        current = execution.state
        try:
            arguments = (
                resolve_template(state.get("Parameters", {}), effective, context)
                if "Parameters" in state
                else effective
            )
            result = self._call(execution.machine, str(state["Resource"]), arguments)
            if "ResultSelector" in state:
                result = resolve_template(state["ResultSelector"], result, context)
        except StatesError as error:
            if error.name == "States.Runtime":
                raise
            return self._handle_error(execution, state, raw, error, context)
        self._log(execution, f"{current}: {':'.join(str(state['Resource']).rsplit(':', 2)[-2:])} succeeded")
        self._next(execution, state, apply_result_path(raw, result, state.get("ResultPath", "$")), context)
        return False

    def _handle_error(
        self,
        execution: Execution,
        state: Mapping[str, Any],
        raw: Any,
        error: StatesError,
        context: Mapping[str, Any],
    ) -> bool:
        current = execution.state
        self._log(execution, f"{current}: {error.name}: {error.cause}")
        for index, retrier in enumerate(state.get("Retry", [])):
            if not matches_error(list(retrier.get("ErrorEquals", [])), error.name):
                continue
            done = execution.attempts.get((current, index), 0)
            if done >= int(retrier.get("MaxAttempts", 3)):
                break
            execution.attempts[(current, index)] = done + 1
            delay = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** done
            if "MaxDelaySeconds" in retrier:
                delay = min(delay, float(retrier["MaxDelaySeconds"]))
            self._log(execution, f"{current}: retry {done + 1} in {delay:g} s")

            def retry() -> None:
                if execution.status == "RUNNING":
                    self._run(execution)

            self.world.clock.after(delay, retry, f"{execution.short} retries {current}")
            return True
        for catcher in state.get("Catch", []):
            if matches_error(list(catcher.get("ErrorEquals", [])), error.name):
                output = {"Error": error.name, "Cause": error.cause}
                data = apply_result_path(raw, output, catcher.get("ResultPath", "$"))
                self._log(execution, f"{current}: caught {error.name} -> {catcher['Next']}")
                self._leave(execution)
                execution.state, execution.data = str(catcher["Next"]), data
                return False
        raise error

    def _call(self, machine: StateMachineSpec, resource: str, arguments: Any) -> Any:
        """The AWS SDK integration: the API action in moto, as the state machine's role."""
        match = SDK_TASK.match(resource)
        if match is None:
            raise StatesError(
                "States.Runtime", f"Task resource {resource} is not an emulated AWS SDK integration"
            )
        sdk_service, action = match["service"], match["action"]
        service = SDK_SERVICE_TO_BOTO3.get(sdk_service, sdk_service)
        operation = action[0].upper() + action[1:]
        session = self._session(machine)
        client = boto3.client(  # type: ignore[call-overload]
            service,
            region_name=machine.region,
            aws_access_key_id=session.access_key_id,
            aws_secret_access_key=session.secret_access_key,
            aws_session_token=session.session_token,
        )
        try:
            with iam.iam_enforced(), offline_authorization(self.world, machine.statements, machine.role_arn):
                response = getattr(client, xform_name(operation))(**dict(arguments or {}))
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code") or "AccessDenied")
            message = str(exc.response.get("Error", {}).get("Message", ""))
            raise StatesError(error_name(service, code), message) from exc
        response.pop("ResponseMetadata", None)
        return json.loads(json.dumps(response, default=str))

    def _session(self, machine: StateMachineSpec) -> iam.RoleSession:
        if machine.role_arn not in self._sessions:
            self._sessions[machine.role_arn] = iam.assume_role(machine.role_arn, machine.name[:64])
        return self._sessions[machine.role_arn]

    # ------------------------------------------------------------------------------------------- ending
    def _end(
        self,
        execution: Execution,
        status: str,
        *,
        output: Any = None,
        error: str | None = None,
        cause: str | None = None,
    ) -> None:
        execution.status, execution.output, execution.error, execution.cause = status, output, error, cause
        execution.stopped = self.world.clock.now
        took = (execution.stopped - execution.started) / timedelta(seconds=1)
        detail = f" in {execution.state}" if status != "SUCCEEDED" else f" ({execution.state})"
        reason = f": {error}: {cause}" if error else ""
        self._log(execution, f"{status}{detail} after {took:g} s{reason}")

    def _log(self, execution: Execution, text: str) -> None:
        execution.history.append((self.world.clock.now, text))
        self.world.timeline.simulated("stepfunctions", f"{execution.short} {text}")
