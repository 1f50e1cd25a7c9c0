"""One `cm` command's access to AWS: its one boto3 Session and the typed clients made from it.

Every command that calls AWS builds one ``Aws`` (``Aws.for_command()``) and passes it down; nothing below
the command makes a session or a client of its own. An assume-role or MFA profile therefore resolves its
credentials (an STS call, or a prompt) once per command. A new command does the same:
``def run(args, aws: Aws, out) -> int`` and ``aws.cloudformation(region)`` where it needs a client. Clients
are cached per (service, region), so a test that puts botocore's ``Stubber`` on ``aws.ecs(region)`` (where moto
lacks an API) has the command use the stubbed client.

The two requests the Lambda functions also make (the A record UPSERT, the knock) are built by functions here
whose copies in functions/cm_common/aws.py a test pins (tests/templates/test_rules_agree.py): the Lambda
bundle cannot import this package.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3

from container_manager.names import EDGE_REGION, KNOCK_DIMENSION, KNOCK_METRIC, KNOCK_NAMESPACE

if TYPE_CHECKING:
    from mypy_boto3_autoscaling import AutoScalingClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import PutMetricDataInputTypeDef
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_efs import EFSClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_route53 import Route53Client
    from mypy_boto3_route53.type_defs import ChangeResourceRecordSetsRequestTypeDef
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

C = TypeVar("C")


class Aws:
    """A command's session, and one client per (service, region), made on first use."""

    def __init__(self, session: boto3.session.Session) -> None:
        self.session = session
        self._clients: dict[tuple[str, str], Any] = {}

    @classmethod
    def for_command(cls) -> Aws:
        """The one session of a command, from the environment and the profile as boto3 finds them.

        AWS_REGION, when set, is the session's region: the AWS SDKs and the AWS CLI v2 read it before
        AWS_DEFAULT_REGION and the profile (AWS SDKs and Tools Reference Guide, "AWS Region",
        https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html); boto3 reads only those two.
        """
        return cls(boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None))

    @property
    def region(self) -> str | None:
        """The session's region (AWS_REGION, AWS_DEFAULT_REGION, the profile's), if any."""
        return self.session.region_name

    def _client(self, service: str, region: str, make: Callable[[], C]) -> C:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = make()
        return cast("C", self._clients[key])

    def autoscaling(self, region: str) -> AutoScalingClient:
        return self._client(
            "autoscaling", region, lambda: self.session.client("autoscaling", region_name=region)
        )

    def cloudformation(self, region: str) -> CloudFormationClient:
        return self._client(
            "cloudformation", region, lambda: self.session.client("cloudformation", region_name=region)
        )

    def cloudwatch(self, region: str) -> CloudWatchClient:
        return self._client(
            "cloudwatch", region, lambda: self.session.client("cloudwatch", region_name=region)
        )

    def ec2(self, region: str) -> EC2Client:
        return self._client("ec2", region, lambda: self.session.client("ec2", region_name=region))

    def ecs(self, region: str) -> ECSClient:
        return self._client("ecs", region, lambda: self.session.client("ecs", region_name=region))

    def efs(self, region: str) -> EFSClient:
        return self._client("efs", region, lambda: self.session.client("efs", region_name=region))

    def events(self, region: str) -> EventBridgeClient:
        return self._client("events", region, lambda: self.session.client("events", region_name=region))

    def lambda_(self, region: str) -> LambdaClient:
        return self._client("lambda", region, lambda: self.session.client("lambda", region_name=region))

    def sts(self, region: str) -> STSClient:
        return self._client("sts", region, lambda: self.session.client("sts", region_name=region))

    def logs(self, region: str) -> CloudWatchLogsClient:
        return self._client("logs", region, lambda: self.session.client("logs", region_name=region))

    def ssm(self, region: str) -> SSMClient:
        return self._client("ssm", region, lambda: self.session.client("ssm", region_name=region))

    def route53(self) -> Route53Client:
        # Route 53 is global; its endpoint is in us-east-1, where the sub-zones' query logs are too.
        return self._client(
            "route53", EDGE_REGION, lambda: self.session.client("route53", region_name=EDGE_REGION)
        )


def a_record_upsert(
    zone_id: str, name: str, address: str, ttl: int, comment: str
) -> ChangeResourceRecordSetsRequestTypeDef:
    """The ChangeResourceRecordSets request that points ``name``'s A record at ``address`` (idempotent)."""
    return {
        "HostedZoneId": zone_id,
        "ChangeBatch": {
            "Comment": comment[:256],  # Route 53's limit for a change batch comment
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": name,
                        "Type": "A",
                        "TTL": ttl,
                        "ResourceRecords": [{"Value": address}],
                    },
                }
            ],
        },
    }


def knock(container_id: str, count: int = 1) -> PutMetricDataInputTypeDef:
    """The PutMetricData request of ``count`` knocks on the container, as start-system writes them."""
    return {
        "Namespace": KNOCK_NAMESPACE,
        "MetricData": [
            {
                "MetricName": KNOCK_METRIC,
                "Dimensions": [{"Name": KNOCK_DIMENSION, "Value": container_id}],
                "Value": count,
                "Unit": "Count",
            }
        ],
    }
