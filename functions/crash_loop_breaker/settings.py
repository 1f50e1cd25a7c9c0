"""crash-loop-breaker configuration, read once from the environment the template sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cm_common.config import ECS_CLUSTER_ARN_RE, EnvReader


@dataclass(frozen=True)
class Settings:
    container_id: str
    asg_name: str
    cluster_arn: str

    @property
    def region(self) -> str:
        """The cluster's region. The ASG comes from the same Compute stack, so it lives there too."""
        return self.cluster_arn.split(":")[3]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = EnvReader(env)
        settings = cls(
            container_id=read.container_id(),
            asg_name=read.asg_name(),
            cluster_arn=read.text(
                "CLUSTER_ARN",
                pattern=ECS_CLUSTER_ARN_RE,
                fix="set the ECS cluster ARN, e.g. arn:aws:ecs:eu-west-1:111122223333:cluster/container-manager-minecraft",
            ),
        )
        read.finish()
        return settings
