"""instance-state-change configuration, read once from the environment the template sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cm_common.config import AWS_REGION_RE, HOSTED_ZONE_ID_RE, EnvReader

# Route 53 accepts far longer TTLs, but a record that outlives a stop by minutes strands players; the
# template's DnsRecordTtl parameter allows 1-300 and this check mirrors it.
MAX_RECORD_TTL = 300


@dataclass(frozen=True)
class Settings:
    container_id: str
    region: str
    asg_name: str
    hosted_zone_id: str
    record_name: str
    record_ttl: int
    placeholder_ip: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = EnvReader(env)
        settings = cls(
            container_id=read.container_id(),
            # Lambda sets AWS_REGION: the function runs in the container's region, beside its ASG and instances.
            region=read.text("AWS_REGION", pattern=AWS_REGION_RE, fix="set the region, e.g. eu-west-1"),
            asg_name=read.asg_name(),
            hosted_zone_id=read.text(
                "HOSTED_ZONE_ID",
                pattern=HOSTED_ZONE_ID_RE,
                fix="set the id of the container's hosted zone, e.g. Z07432391BT2QKN8RXK1F",
            ),
            record_name=read.dns_name(
                "RECORD_NAME", fix="set the server's DNS name, e.g. minecraft.example.com"
            ),
            record_ttl=read.integer(
                "RECORD_TTL", low=1, high=MAX_RECORD_TTL, fix="set the A record's TTL in seconds, e.g. 30"
            ),
            placeholder_ip=read.ipv4(
                "PLACEHOLDER_IP", fix="set the address the record holds while stopped, e.g. 0.0.0.0"
            ),
        )
        read.finish()
        return settings
