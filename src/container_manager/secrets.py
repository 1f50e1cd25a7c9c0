"""`cm secrets`: the container's secrets as SSM SecureString parameters, where its task reads them.

A ``Container.Secrets`` reference ``NAME`` means SSM parameter ``/container-manager/<id>/NAME`` in the
container's region (config.ssm_parameter_name; infra/compute.yaml's execution role may read that prefix
only). SecureString with the AWS-managed key ``aws/ssm``: the execution role needs no kms:Decrypt for it
("Required IAM permissions for Amazon ECS secrets", Amazon ECS developer guide, task execution IAM role).
Values go in and never come out: listing uses DescribeParameters, which returns no values.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from container_manager.aws import Aws
from container_manager.config import secret_problem, ssm_parameter_name
from container_manager.errors import USAGE, CmError
from container_manager.operations import Target

# SSM standard-tier parameters hold up to 4 KB (https://docs.aws.amazon.com/systems-manager/latest/userguide/
# parameter-store-advanced-parameters.html); advanced ones cost money, so larger values are refused.
MAX_VALUE_BYTES = 4096


def prefix(container_id: str) -> str:
    return ssm_parameter_name(container_id, "")


def short_name(container_id: str, name: str, region: str) -> str:
    """``name`` as written in Container.Secrets (under the container's prefix); refuses any other place."""
    problem = secret_problem(name, name, container_id, region)
    if name.startswith("arn:"):
        problem = "cm secrets stores SSM parameters; a Secrets Manager ARN is managed in Secrets Manager"
    if problem:
        raise CmError(problem.split(": ", 1)[-1], code=USAGE, hint="write a name such as server-password")
    return ssm_parameter_name(container_id, name).removeprefix(prefix(container_id))


def put(aws: Aws, target: Target, name: str, value: str) -> dict[str, Any]:
    """Create or update ``/container-manager/<id>/<name>`` as a SecureString; returns what was done."""
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        raise CmError(
            f"the value of {name} is over {MAX_VALUE_BYTES} bytes; nothing stored",
            code=USAGE,
            hint="SSM standard parameters hold 4 KB; store a larger value in Secrets Manager",
        )
    ssm = aws.ssm(target.region)
    parameter = ssm_parameter_name(target.container_id, name)
    description = f"Container Manager {target.container_id}: Container.Secrets {name} (cm secrets put)"
    try:
        # Tags can only be given on create (PutParameter refuses Tags with Overwrite).
        response = ssm.put_parameter(
            Name=parameter,
            Value=value,
            Type="SecureString",
            Description=description,
            Overwrite=False,
            Tags=[{"Key": "container-manager:container-id", "Value": target.container_id}],
        )
        action = "created"
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ParameterAlreadyExists":
            raise
        response = ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
        action = "updated"
    return {
        "id": target.container_id,
        "region": target.region,
        "name": name,
        "parameter": parameter,
        "version": response["Version"],
        "action": action,
    }


def list_names(aws: Aws, target: Target) -> list[dict[str, Any]]:
    """The names (never values) of the parameters under the container's prefix, sorted."""
    ssm = aws.ssm(target.region)
    base = prefix(target.container_id)
    found = []
    for page in ssm.get_paginator("describe_parameters").paginate(
        ParameterFilters=[{"Key": "Path", "Option": "Recursive", "Values": [base.rstrip("/")]}]
    ):
        for item in page["Parameters"]:
            found.append(
                {
                    "name": item["Name"].removeprefix(base),
                    "parameter": item["Name"],
                    "type": item.get("Type"),
                    "version": item.get("Version"),
                    "last_modified": item.get("LastModifiedDate"),
                }
            )
    return sorted(found, key=lambda item: str(item["name"]))
