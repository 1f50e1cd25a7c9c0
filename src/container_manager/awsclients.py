"""Typed boto3 clients of ONE session, one per (service, region), built on first use.

A command creates one ``boto3.session.Session`` and wraps it here; everything below it asks this object for a
client instead of building its own. Tests put botocore's ``Stubber`` on a client obtained here (clients are
cached, so the command then uses the stubbed one) where moto lacks an API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import boto3

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_route53 import Route53Client
    from mypy_boto3_sts import STSClient

# Route 53 is global; its API (and the container's query log, start-system) answer in us-east-1.
EDGE_REGION = "us-east-1"


class Clients:
    def __init__(self, session: boto3.session.Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, str], Any] = {}

    def _get(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._cache:
            self._cache[key] = self.session.client(service, region_name=region)  # type: ignore[call-overload]
        return self._cache[key]

    def autoscaling(self, region: str) -> AutoScalingClient:
        return cast("AutoScalingClient", self._get("autoscaling", region))

    def cloudformation(self, region: str) -> CloudFormationClient:
        return cast("CloudFormationClient", self._get("cloudformation", region))

    def cloudwatch(self, region: str) -> CloudWatchClient:
        return cast("CloudWatchClient", self._get("cloudwatch", region))

    def ec2(self, region: str) -> EC2Client:
        return cast("EC2Client", self._get("ec2", region))

    def ecs(self, region: str) -> ECSClient:
        return cast("ECSClient", self._get("ecs", region))

    def events(self, region: str) -> EventBridgeClient:
        return cast("EventBridgeClient", self._get("events", region))

    def lambda_(self, region: str) -> LambdaClient:
        return cast("LambdaClient", self._get("lambda", region))

    def logs(self, region: str) -> CloudWatchLogsClient:
        return cast("CloudWatchLogsClient", self._get("logs", region))

    def route53(self) -> Route53Client:
        return cast("Route53Client", self._get("route53", EDGE_REGION))

    def sts(self, region: str) -> STSClient:
        return cast("STSClient", self._get("sts", region))
