"""Instance types a container may run on: CPU architecture and memory.

This table and the ``InstanceTypes`` mapping (and the ``InstanceType`` AllowedValues) of infra/compute.yaml
describe the same rows; tests/templates/test_render_instance_types.py fails when they drift apart. The config
validator reads it offline so a wrong type is caught before a deploy (the AMI follows the architecture).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Well-formed: family (letters, generation digit, attribute letters) dot size, e.g. t4g.medium, m7i.2xlarge.
INSTANCE_TYPE_PATTERN = re.compile(
    r"^[a-z]+[0-9][a-z0-9-]*\.(nano|micro|small|medium|large|[0-9]*xlarge|metal)$"
)
# Below this the JVM/game plus the ECS and SSM agents do not fit (the reservation keeps max(512 MiB, 1/8)).
MIN_MEMORY_MIB = 3072


@dataclass(frozen=True)
class InstanceType:
    arch: str  # "arm64" (Graviton) or "x86_64": picks the ECS-optimized AMI
    memory_mib: int
    reservation_mib: int  # memory minus host headroom: the container's MemoryReservation
    heap_mib: int  # a JVM heap that fits the reservation (the ${HeapMiB} environment placeholder)


def _row(arch: str, memory_mib: int) -> InstanceType:
    reservation = memory_mib - max(512, memory_mib // 8)
    # JVM overhead beyond the heap (metaspace, threads, buffers): about 1 GiB, 1.5 GiB on the big ones.
    heap = reservation - (
        512 if memory_mib <= 2048 else 1024 if memory_mib <= 4096 else 1536 if memory_mib <= 8192 else 2048
    )
    return InstanceType(arch, memory_mib, reservation, heap)


INSTANCE_TYPES: dict[str, InstanceType] = {
    "t4g.small": _row("arm64", 2048),
    "t4g.medium": _row("arm64", 4096),
    "t4g.large": _row("arm64", 8192),
    "t4g.xlarge": _row("arm64", 16384),
    "m7g.medium": _row("arm64", 4096),
    "m7g.large": _row("arm64", 8192),
    "m7g.xlarge": _row("arm64", 16384),
    "c7g.large": _row("arm64", 4096),
    "c7g.xlarge": _row("arm64", 8192),
    "r7g.medium": _row("arm64", 8192),
    "r7g.large": _row("arm64", 16384),
    "t3.small": _row("x86_64", 2048),
    "t3.medium": _row("x86_64", 4096),
    "t3.large": _row("x86_64", 8192),
    "t3.xlarge": _row("x86_64", 16384),
    "t3a.medium": _row("x86_64", 4096),
    "t3a.large": _row("x86_64", 8192),
    "m7i.large": _row("x86_64", 8192),
    "m7i.xlarge": _row("x86_64", 16384),
    "c7i.large": _row("x86_64", 4096),
    "c7i.xlarge": _row("x86_64", 8192),
    "r7i.large": _row("x86_64", 16384),
}
