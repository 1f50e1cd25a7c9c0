"""The Lambda service's part: run the real handler code as the template deploys it.

A function's cold start imports ``<package>.handler`` fresh with exactly the environment the template sets (plus
what Lambda itself sets: region, function name, the role's session credentials). Each invocation runs under
moto's IAM enforcement as the function's role, holding the template's statements (``iam`` says how). As Lambda
does for asynchronous invocations, a failed invocation is retried ``MaximumRetryAttempts`` times and then sent
to the ``OnFailure`` destination; every attempt counts in ``AWS/Lambda Invocations`` (what the crash-loop alarm
reads). Handler output (Powertools JSON log lines) is captured, not printed.
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from unittest import mock

import botocore.client
from botocore.exceptions import ClientError

from container_manager.rehearsal import iam
from container_manager.rehearsal.world import ACCOUNT, FunctionSpec, World


@dataclass
class LambdaContext:
    function_name: str = "container-manager-minecraft-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:container-manager-minecraft-test"
    )
    aws_request_id: str = "5f3c2b1a-7d4e-4a9b-8c6d-0e1f2a3b4c5d"
    log_group_name: str = "/container-manager/minecraft/test"
    log_stream_name: str = "2026/11/20/[$LATEST]0123456789abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (the rehearsal and pytest swap it)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def import_handler(package: str, service_name: str | None = None) -> ModuleType:
    """Import ``<package>.handler`` fresh, as a cold start does (the caller sets the environment first)."""
    sys.modules.pop(f"{package}.handler", None)
    module = importlib.import_module(f"{package}.handler")
    # Powertools reuses a named logger's handler, bound to the stdout of the first import in this process;
    # make it follow the current stdout, as a fresh Lambda process's would.
    for handler in logging.getLogger(service_name or "service_undefined").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(_CurrentStdout())
    return module


def log_lines(output: str) -> list[dict[str, Any]]:
    """Powertools JSON log lines from captured stdout (EMF metric blobs excluded)."""
    lines = []
    for raw in output.splitlines():
        if raw.startswith("{"):
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            if isinstance(data, dict) and "_aws" not in data:
                lines.append(data)
    return lines


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` = the process's non-AWS variables + ``variables``, restored afterwards."""
    saved = dict(os.environ)
    try:
        for key in list(os.environ):
            if key.startswith(("AWS_", "POWERTOOLS_")):
                del os.environ[key]
        os.environ.update(variables)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@dataclass
class Attempt:
    ok: bool
    result: dict[str, Any] | None
    error: str | None
    logs: list[dict[str, Any]]
    denied: bool = False


@dataclass
class Invocation:
    function: FunctionSpec
    source: str
    attempts: list[Attempt] = field(default_factory=list)
    dead_lettered: bool = False

    @property
    def ok(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].ok

    @property
    def result(self) -> dict[str, Any]:
        last = self.attempts[-1] if self.attempts else None
        return (last.result or {}) if last else {}

    @property
    def action(self) -> str:
        return str(self.result.get("action", "error" if not self.ok else "?"))


@dataclass
class _Loaded:
    module: ModuleType | None
    session: iam.RoleSession
    error: str | None = None


class LambdaService:
    def __init__(self, world: World, on_invoked: Callable[[Invocation], None] | None = None) -> None:
        self.world = world
        self.invocations: list[Invocation] = []
        self._loaded: dict[str, _Loaded] = {}
        self._on_invoked = on_invoked

    def _environment(self, spec: FunctionSpec, session: iam.RoleSession) -> dict[str, str]:
        return {
            **spec.environment,
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            **session.environment(),
        }

    def _cold_start(self, spec: FunctionSpec) -> _Loaded:
        session = iam.assume_role(spec.role_arn, spec.name[:64])
        buffer = io.StringIO()
        try:
            with environment(self._environment(spec, session)), redirect_stdout(buffer):
                module = import_handler(spec.package, spec.environment.get("POWERTOOLS_SERVICE_NAME"))
        except Exception as exc:
            return _Loaded(None, session, f"cold start failed: {type(exc).__name__}: {_first_line(exc)}")
        return _Loaded(module, session)

    def invoke(self, spec: FunctionSpec, event: dict[str, Any], source: str) -> Invocation:
        """Asynchronous invocation: attempts until one succeeds or the retries are spent."""
        invocation = Invocation(spec, source)
        for _ in range(1 + spec.max_retries):
            invocation.attempts.append(self._attempt(spec, event))
            if invocation.attempts[-1].ok:
                break
        if not invocation.ok and spec.on_failure in self.world.queues:
            url, region = self.world.queues[spec.on_failure]
            self.world.client("sqs", region).send_message(
                QueueUrl=url,
                MessageBody=json.dumps(
                    {
                        "requestContext": {"functionArn": spec.arn, "condition": "RetriesExhausted"},
                        "responseContext": {"functionError": "Unhandled"},
                        "requestPayload": event,
                    }
                ),
            )
            invocation.dead_lettered = True
        self.invocations.append(invocation)
        if self._on_invoked is not None:
            self._on_invoked(invocation)
        return invocation

    def _attempt(self, spec: FunctionSpec, event: dict[str, Any]) -> Attempt:
        self._publish_invocation(spec)
        loaded = self._loaded.get(spec.logical)
        if loaded is None or loaded.module is None:
            loaded = self._loaded[spec.logical] = self._cold_start(spec)
        if loaded.module is None:
            return Attempt(False, None, loaded.error, [])
        context = LambdaContext(
            function_name=spec.name,
            invoked_function_arn=spec.arn,
            aws_request_id=f"{len(self.invocations):08d}-0000-4000-8000-000000000000",
            log_group_name=f"/aws/lambda/{spec.name}",
        )
        buffer = io.StringIO()
        before = self._metric_count(spec.region)
        try:
            with (
                environment(self._environment(spec, loaded.session)),
                redirect_stdout(buffer),
                iam.iam_enforced(),
                offline_authorization(self.world, spec.statements, spec.role_arn),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")  # Powertools warns when a failing run published no metric
                result = loaded.module.lambda_handler(event, context)
        except Exception as exc:
            denied = iam.is_access_denied(exc)
            error = f"{type(exc).__name__}: {_first_line(exc)}"
            return Attempt(False, None, error, log_lines(buffer.getvalue()), denied=denied)
        finally:
            self._restamp(spec.region, before)
        return Attempt(True, dict(result or {}), None, log_lines(buffer.getvalue()))

    # --------------------------------------------------------------------------------- metrics, on the clock
    def _backend(self, region: str) -> Any:
        from moto.cloudwatch.models import cloudwatch_backends

        return cloudwatch_backends[ACCOUNT][region]

    def _metric_count(self, region: str) -> dict[str, int]:
        return {r: len(self._backend(r).metric_data) for r in self._regions(region)}

    def _regions(self, region: str) -> set[str]:
        return {region} | {a.region for a in self.world.alarms}

    def _restamp(self, region: str, before: Mapping[str, int]) -> None:
        """moto stamps a handler's PutMetricData with the wall clock; the datapoint belongs to the simulated
        instant of the invocation."""
        now = self.world.clock.now.replace(tzinfo=None)
        for name, count in before.items():
            for datum in self._backend(name).metric_data[count:]:
                datum.timestamp = now

    def _publish_invocation(self, spec: FunctionSpec) -> None:
        """What the Lambda service publishes for every invocation attempt."""
        self.world.client("cloudwatch", spec.region).put_metric_data(
            Namespace="AWS/Lambda",
            MetricData=[
                {
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "FunctionName", "Value": spec.name}],
                    "Value": 1.0,
                    "Unit": "Count",
                    "Timestamp": self.world.clock.now,
                }
            ],
        )


# ------------------------------------------------------------------------------ what moto's IAM cannot judge
@contextmanager
def offline_authorization(
    world: World, statements: list[iam.TemplateStatement], role_arn: str
) -> Iterator[None]:
    """Before each AWS call made inside the block (a handler's, a state machine task's): the template's Conditions
    and Resources (moto checks only the action). A call they do not allow fails as AWS fails it: AccessDenied,
    HTTP 403, nothing done."""
    original = getattr(botocore.client.BaseClient, "_make_api_call")  # noqa: B009 - private, untyped

    def authorize(client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        arn = resource_arn(world, service, operation, params, client.meta.region_name)
        denial = iam.offline_denial(statements, service, operation, params, arn)
        if denial is not None:
            response: Any = {
                "Error": {"Code": "AccessDenied", "Message": f"{role_arn}: {denial}"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
            raise ClientError(response, operation)
        return original(client, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", authorize):
        yield


def resource_arn(
    world: World, service: str, operation: str, params: Mapping[str, Any], region: str
) -> str | None:
    """The ARN a call acts on, for the operations our handlers and state machines make (Describe*,
    PutMetricData: ``*``)."""
    if operation.startswith(("Describe", "List", "Get")) or (service, operation) == (
        "cloudwatch",
        "PutMetricData",
    ):
        return "*"
    if service == "autoscaling" and operation in (
        "SetDesiredCapacity",
        "CompleteLifecycleAction",
        "CreateOrUpdateTags",
        "DeleteTags",
    ):
        # The tag calls name their group as the Tags' ResourceId (one group per call here).
        tagged = params.get("Tags") or [{}]
        name = params.get("AutoScalingGroupName") or tagged[0].get("ResourceId")
        group = world.groups.get(str(name))
        uuid = "00000000-0000-4000-8000-000000000000"
        return (
            group.arn
            if group
            else f"arn:aws:autoscaling:{region}:{ACCOUNT}:autoScalingGroup:{uuid}:autoScalingGroupName/{name}"
        )
    if (service, operation) == ("route53", "ChangeResourceRecordSets"):
        return f"arn:aws:route53:::hostedzone/{str(params['HostedZoneId']).split('/')[-1]}"
    if (service, operation) == ("stepfunctions", "StartExecution"):
        return str(params["stateMachineArn"])
    return None


def _first_line(exc: BaseException) -> str:
    """The error on one line (a settings error names every bad variable on its own line)."""
    return " ".join(str(exc).split())[:300]
