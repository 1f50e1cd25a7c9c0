"""stop-server configuration, read once from the environment the template sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cm_common.config import AWS_REGION_RE, EnvReader


@dataclass(frozen=True)
class Settings:
    container_id: str
    asg_name: str
    region: str  # the function's own region: the group and the alarms live there too

    @property
    def alarm_prefix(self) -> str:
        """The watchdog names every alarm ``container-manager-<id>-<what>`` (infra/watchdog.yaml)."""
        return f"container-manager-{self.container_id}-"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        read = EnvReader(env)
        settings = cls(
            container_id=read.container_id(),
            asg_name=read.asg_name(),
            # Set by the Lambda runtime itself ("Defined runtime environment variables", Lambda Developer Guide).
            region=read.text(
                "AWS_REGION", pattern=AWS_REGION_RE, fix="the Lambda runtime sets it, e.g. eu-west-1"
            ),
        )
        read.finish()
        return settings
