"""Regenerate src/container_manager/instance_type_table.py: the offline table `cm validate` and `cm render` use.

Usage: python scripts/make_instance_types.py   (a test fails when the table drifts from what this writes)

Source: the DescribeInstanceTypes records moto bundles (moto/ec2/resources/instance_types.json.gz, collected
from AWS's EC2 API by moto's maintainers and refreshed with each moto release; moto is pinned in pyproject's
dev extra). There is no AWS access here and botocore ships only the type *names* (the EC2 model's
InstanceType enum), not their memory or architecture. Kept per type: the architecture
(ProcessorInfo.SupportedArchitectures, reduced to the one the ECS-optimized AMI would use) and
MemoryInfo.SizeInMiB - see https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceTypeInfo.html.

Left out: the previous-generation families AWS lists on https://aws.amazon.com/ec2/previous-generation/ (T1,
M1, M2, M3, C1, C3, R3, I2, and the retired CC/CG/CR/G2/HI/HS ones). `cm validate` reports such a type as
"unknown offline" and `cm deploy` reads its specs from AWS, as for any type newer than the table. Types whose
architecture the ECS-optimized AMI does not run (mac) stay in, so validation can refuse them by name.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import moto

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "container_manager" / "instance_type_table.py"
MOTO_DATA = Path(moto.__file__).parent / "ec2" / "resources" / "instance_types.json.gz"
PREVIOUS_GENERATION = frozenset(
    {"t1", "m1", "m2", "m3", "c1", "c3", "r3", "i2", "cc1", "cc2", "cg1", "cr1", "g2", "hi1", "hs1"}
)


def architecture(record: dict[str, Any]) -> str:
    """The architecture an AMI is chosen for: arm64 or x86_64 when offered (i386+x86_64 types run x86_64)."""
    offered: list[str] = record["ProcessorInfo"]["SupportedArchitectures"]
    for preferred in ("arm64", "x86_64"):
        if preferred in offered:
            return preferred
    return offered[0]


def rows(records: dict[str, dict[str, Any]]) -> dict[str, tuple[str, int]]:
    return {
        name: (architecture(record), int(record["MemoryInfo"]["SizeInMiB"]))
        for name, record in sorted(records.items())
        if name.split(".", 1)[0] not in PREVIOUS_GENERATION
    }


def table_text(records: dict[str, dict[str, Any]], source: str) -> str:
    table = rows(records)
    families = sorted({name.split(".", 1)[0] for name in table})
    lines = [
        '"""Instance types known offline: architecture and memory (MiB). Generated - do not edit.',
        "",
        "Written by scripts/make_instance_types.py (which says where the data comes from and what it leaves out);",
        "src/container_manager/instance_types.py reads it. At deploy time AWS's DescribeInstanceTypes decides.",
        '"""',
        "",
        f"SOURCE = {json.dumps(source)}",
        f"FAMILIES = {len(families)}",
        "",
        "TABLE: dict[str, tuple[str, int]] = {",
        *(
            f"    {json.dumps(name)}: ({json.dumps(arch)}, {memory}),"
            for name, (arch, memory) in table.items()
        ),
        "}",
    ]
    return "\n".join(lines) + "\n"


def moto_records() -> dict[str, dict[str, Any]]:
    with gzip.open(MOTO_DATA, "rt", encoding="utf-8") as handle:
        data: dict[str, dict[str, Any]] = json.load(handle)
    return data


def source_label() -> str:
    return f"moto {moto.__version__} ec2/resources/instance_types.json.gz (EC2 DescribeInstanceTypes records)"


def main() -> None:
    TARGET.write_text(table_text(moto_records(), source_label()), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
