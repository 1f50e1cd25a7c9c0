"""Builders of AWS events in their documented shapes: they live in the rehearsal (``make demo`` emits the same
events), tests import them from here."""

from __future__ import annotations

from container_manager.rehearsal.aws_events import (
    ACCOUNT,
    ASG_DETAIL_TYPES,
    CLUSTER_ARN,
    ECS_TASK_KINDS,
    GROUP_NAME,
    INSTANCE_ID,
    REGION,
    ROUTE53_DOCUMENTED_LINES,
    TIME,
    Event,
    asg_event,
    clone,
    ecs_task_event,
    query_log_line,
)

__all__ = [
    "ACCOUNT",
    "ASG_DETAIL_TYPES",
    "CLUSTER_ARN",
    "ECS_TASK_KINDS",
    "GROUP_NAME",
    "INSTANCE_ID",
    "REGION",
    "ROUTE53_DOCUMENTED_LINES",
    "TIME",
    "Event",
    "asg_event",
    "clone",
    "ecs_task_event",
    "query_log_line",
]
