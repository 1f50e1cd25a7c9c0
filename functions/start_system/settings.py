"""start-system configuration, read once from the environment the template sets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from cm_common.config import (
    AWS_REGION_RE,
    DNS_QUERY_TYPES,
    METRIC_NAME_RE,
    EnvReader,
)

_LOG_GROUP_RE = re.compile(r"^[\w\-./#]{1,512}$")


@dataclass(frozen=True)
class Settings:
    container_id: str
    server_name: str
    start_query_types: tuple[str, ...]
    query_log_group: str
    container_region: str
    asg_name: str
    knock_namespace: str
    knock_metric: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = EnvReader(env)
        settings = cls(
            container_id=read.container_id(),
            server_name=read.dns_name(
                "SERVER_NAME", fix="set the server's DNS name, e.g. minecraft.example.com"
            ),
            start_query_types=read.words(
                "START_QUERY_TYPES",
                allowed=DNS_QUERY_TYPES,
                default="A",
                fix="list DNS query types that start the server, e.g. 'A' or 'A AAAA'",
            ),
            query_log_group=read.text(
                "QUERY_LOG_GROUP",
                pattern=_LOG_GROUP_RE,
                fix="set the Route 53 query-log group name, e.g. /aws/route53/minecraft.example.com",
            ),
            container_region=read.text(
                "CONTAINER_REGION",
                pattern=AWS_REGION_RE,
                fix="set the region of the container stack, e.g. eu-west-1",
            ),
            asg_name=read.asg_name(),
            knock_namespace=read.text(
                "KNOCK_METRIC_NAMESPACE", pattern=METRIC_NAME_RE, fix="set the knock metric namespace"
            ),
            knock_metric=read.text(
                "KNOCK_METRIC_NAME", pattern=METRIC_NAME_RE, fix="set the knock metric name"
            ),
        )
        read.finish()
        return settings
