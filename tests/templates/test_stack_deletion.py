"""Deleting a container's stack never fails on DNS, and never deletes the world unless configured to.

The record-reset helper's inline code (infra/dns.yaml) is executed here against moto exactly as CloudFormation
would call it: on Delete it must put back the record the template declares, so the record and zone delete.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from container_manager.cfn import load_template
from container_manager.intrinsics import Resolver

ROOT = Path(__file__).resolve().parents[2]
DNS = load_template(ROOT / "infra" / "dns.yaml")
STORAGE = load_template(ROOT / "infra" / "storage.yaml")
ZONE_NAME = "minecraft.example.com"
PARAMS = {
    "ContainerId": "minecraft",
    "DomainName": "example.com",
    "ParentHostedZoneId": "Z0123456789PARENT",
    "RecordTtl": "30",
}


class Responses:
    """Captures the PUT the helper sends to CloudFormation's pre-signed response URL."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def urlopen(self, request: Any, timeout: float = 0) -> Any:
        assert request.get_method() == "PUT"
        assert request.full_url.startswith("https://cloudformation-custom-resource-response-useast1")
        self.bodies.append(json.loads(request.data))
        return mock.MagicMock()


def helper_module() -> types.ModuleType:
    code = DNS["Resources"]["RecordResetFunction"]["Properties"]["Code"]["ZipFile"]
    module = types.ModuleType("record_reset")
    exec(compile(code, "infra/dns.yaml:RecordResetFunction", "exec"), module.__dict__)  # noqa: S102 - our own template's code
    return module


def cfn_event(request_type: str, zone_id: str) -> dict[str, Any]:
    resolver = Resolver(DNS, PARAMS, refs={"HostedZone": zone_id})
    declared = dict(DNS["Resources"]["RecordResetOnDelete"]["Properties"])
    declared.pop("ServiceToken")  # the function's ARN; CloudFormation passes it, the helper ignores it
    props = resolver.resolve(declared)
    return {
        "RequestType": request_type,
        "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x?sig=1",
        "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/container-manager-minecraft-Dns/1",
        "RequestId": "b3c1e2f4-0000-4000-8000-000000000001",
        "LogicalResourceId": "RecordResetOnDelete",
        "PhysicalResourceId": "2026/11/20/[$LATEST]abc",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x", **props},
    }


def declared_record(zone_id: str) -> dict[str, Any]:
    """ServerRecord as the template declares it: what CloudFormation's delete must find."""
    props = Resolver(DNS, PARAMS, refs={"HostedZone": zone_id}).resolve(
        DNS["Resources"]["ServerRecord"]["Properties"]
    )
    return {
        "Name": props["Name"],
        "Type": props["Type"],
        "TTL": int(props["TTL"]),
        "ResourceRecords": [{"Value": v} for v in props["ResourceRecords"]],
    }


@pytest.fixture
def zone() -> Any:
    with mock_aws():
        route53 = boto3.client("route53", region_name="us-east-1")
        zone_id = route53.create_hosted_zone(Name=ZONE_NAME, CallerReference="t")["HostedZone"]["Id"].split(
            "/"
        )[-1]
        yield route53, zone_id


def current_a(route53: Any, zone_id: str) -> dict[str, Any]:
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    return next(r for r in records if r["Type"] == "A")


def test_delete_resets_a_running_servers_record_so_cloudformation_can_delete_it(zone: Any) -> None:
    route53, zone_id = zone
    # Given the stack was deployed and the server runs: the function moved the record to the instance's IP
    record = declared_record(zone_id)
    route53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {**record, "ResourceRecords": [{"Value": "203.0.113.10"}]},
                }
            ]
        },
    )
    responses = Responses()
    # When CloudFormation deletes the helper (it depends on ServerRecord, so it goes first)
    with mock.patch("urllib.request.urlopen", responses.urlopen):
        helper_module().handler(cfn_event("Delete", zone_id), mock.Mock(log_stream_name="s"))
    # Then the record is exactly what the template declares, so deleting it (and the zone) succeeds
    assert current_a(route53, zone_id) == record
    route53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": record}]}
    )
    # And CloudFormation was told SUCCESS
    assert responses.bodies[0]["Status"] == "SUCCESS"
    assert responses.bodies[0]["Reason"] == "record reset to placeholder"


def test_helper_never_fails_a_delete(zone: Any) -> None:
    route53, zone_id = zone
    route53.delete_hosted_zone(Id=zone_id)  # Given the zone is already gone
    responses = Responses()
    with mock.patch("urllib.request.urlopen", responses.urlopen):
        helper_module().handler(cfn_event("Delete", zone_id), mock.Mock(log_stream_name="s"))
    # Then it still reports SUCCESS, with the reason
    assert responses.bodies[0]["Status"] == "SUCCESS"
    assert responses.bodies[0]["Reason"].startswith("reset skipped")


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_change_nothing(zone: Any, request_type: str) -> None:
    route53, zone_id = zone
    record = {**declared_record(zone_id), "ResourceRecords": [{"Value": "203.0.113.10"}]}
    route53.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": record}]}
    )
    responses = Responses()
    with mock.patch("urllib.request.urlopen", responses.urlopen):
        helper_module().handler(cfn_event(request_type, zone_id), mock.Mock(log_stream_name="s"))
    assert current_a(route53, zone_id)["ResourceRecords"] == [{"Value": "203.0.113.10"}]
    assert responses.bodies[0]["Status"] == "SUCCESS"


def test_helper_is_deleted_before_the_record() -> None:
    # CloudFormation deletes dependents first: the reset must depend on the record it resets.
    depends = DNS["Resources"]["RecordResetOnDelete"].get("DependsOn")
    assert "ServerRecord" in ([depends] if isinstance(depends, str) else depends)


@pytest.mark.parametrize(
    "name", [n for n, r in STORAGE["Resources"].items() if r["Type"] == "AWS::EFS::FileSystem"]
)
def test_world_is_retained_unless_configured(name: str) -> None:
    fs = STORAGE["Resources"][name]
    # The policy follows RetainDataOnDelete, whose default keeps the data; a replacement never deletes it.
    assert fs["DeletionPolicy"] == {"Fn::If": ["RetainData", "Retain", "Delete"]}
    assert fs["UpdateReplacePolicy"] == "Retain"
    assert STORAGE["Conditions"]["RetainData"] == {"Fn::Equals": [{"Ref": "RetainDataOnDelete"}, "true"]}
    assert STORAGE["Parameters"]["RetainDataOnDelete"]["Default"] == "true"
    root = load_template(ROOT / "template.yaml")
    assert root["Parameters"]["RetainDataOnDelete"]["Default"] == "true"
