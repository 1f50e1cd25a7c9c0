"""The rehearsal's offline IAM judgement: what moto cannot evaluate (conditions, resources)."""

from __future__ import annotations

from container_manager.rehearsal.iam import (
    TemplateStatement,
    arn_matches,
    condition_holds,
    moto_copy,
    offline_denial,
)

ZONE = "arn:aws:route53:::hostedzone/Z050AE894324C2XQ7"
GROUP = (
    "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:5d8c1a0e-7b2f-4c3a-9e61-0f4b2d7c8a93:"
    "autoScalingGroupName/container-manager-minecraft"
)
STATEMENTS = [
    TemplateStatement(
        "PointRecordAtServer",
        ("route53:ChangeResourceRecordSets",),
        {
            "Effect": "Allow",
            "Action": "route53:ChangeResourceRecordSets",
            "Resource": ZONE,
            "Condition": {
                "ForAllValues:StringEquals": {
                    "route53:ChangeResourceRecordSetsNormalizedRecordNames": ["minecraft.example.com"],
                    "route53:ChangeResourceRecordSetsRecordTypes": ["A"],
                    "route53:ChangeResourceRecordSetsActions": ["UPSERT"],
                }
            },
        },
    ),
    TemplateStatement(
        "StartServer",
        ("autoscaling:SetDesiredCapacity",),
        {
            "Effect": "Allow",
            "Action": "autoscaling:SetDesiredCapacity",
            "Resource": [
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/container-manager-minecraft"
            ],
        },
    ),
]


def upsert(
    name: str = "minecraft.example.com.", kind: str = "A", action: str = "UPSERT"
) -> dict[str, object]:
    record = {"Name": name, "Type": kind, "TTL": 30, "ResourceRecords": [{"Value": "192.0.2.1"}]}
    return {
        "HostedZoneId": "Z050AE894324C2XQ7",
        "ChangeBatch": {"Changes": [{"Action": action, "ResourceRecordSet": record}]},
    }


def test_allowed_when_action_condition_and_resource_hold() -> None:
    assert offline_denial(STATEMENTS, "route53", "ChangeResourceRecordSets", upsert(), ZONE) is None
    assert offline_denial(STATEMENTS, "autoscaling", "SetDesiredCapacity", {}, GROUP) is None


def test_condition_that_does_not_hold_denies() -> None:
    assert "condition" in str(
        offline_denial(STATEMENTS, "route53", "ChangeResourceRecordSets", upsert(kind="TXT"), ZONE)
    )
    assert offline_denial(
        STATEMENTS, "route53", "ChangeResourceRecordSets", upsert(name="evil.example.com"), ZONE
    )
    assert offline_denial(STATEMENTS, "route53", "ChangeResourceRecordSets", upsert(action="DELETE"), ZONE)


def test_resource_outside_the_statement_denies() -> None:
    other_zone = "arn:aws:route53:::hostedzone/ZOTHER"
    assert "outside the Resource" in str(
        offline_denial(STATEMENTS, "route53", "ChangeResourceRecordSets", upsert(), other_zone)
    )
    other_group = GROUP.replace("container-manager-minecraft", "container-manager-valheim")
    assert offline_denial(STATEMENTS, "autoscaling", "SetDesiredCapacity", {}, other_group)


def test_action_not_granted_denies() -> None:
    assert "no statement" in str(offline_denial(STATEMENTS, "ec2", "TerminateInstances", {}, "*"))


def test_moto_copy_widens_resources_and_renames_cloudwatch() -> None:
    metric = TemplateStatement(
        "Knock",
        ("cloudwatch:PutMetricData",),
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "ContainerManager"}},
        },
    )
    copied = moto_copy([*STATEMENTS, metric])["Statement"]
    assert all(s["Resource"] == "*" and "Condition" not in s for s in copied)
    assert copied[-1]["Action"] == ["monitoring:PutMetricData"]


def test_arn_conditions_match_each_arn_part_with_wildcards() -> None:
    # IAM's ArnEquals/ArnLike: the six colon-separated parts compared one by one, * and ? within a part
    rule = "arn:aws:events:us-east-1:123456789012:rule/container-manager-minecraft-Notice-1A2B"
    context = {"aws:SourceArn": [rule]}
    assert condition_holds({"ArnEquals": {"aws:SourceArn": [rule]}}, context)
    assert condition_holds({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:123456789012:rule/*"}}, context)
    assert not condition_holds({"ArnLike": {"aws:SourceArn": "arn:aws:events:*:*:rule/other-*"}}, context)
    assert not condition_holds({"ArnEquals": {"aws:SourceArn": [rule.upper()]}}, context)  # case-sensitive
    assert not arn_matches("arn:aws:events:*", rule)  # not six parts: never a match
