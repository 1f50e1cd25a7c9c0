"""Lambda entry point: CloudWatch Logs subscription (Route 53 query log) -> start the server."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cm_common.aws import AutoScaling, AwsClients, CustomMetrics
from cm_common.observability import report
from start_system.service import respond_to_queries
from start_system.settings import Settings

SETTINGS = Settings.from_env(os.environ)  # fails the cold start, naming every bad variable
_clients = AwsClients(SETTINGS.container_region)  # the ASG and the idle alarm live in the container's region
GROUPS = AutoScaling(_clients)
CUSTOM_METRICS = CustomMetrics(_clients)

logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(ContainerId=SETTINGS.container_id)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    result = respond_to_queries(event, SETTINGS, GROUPS, CUSTOM_METRICS)
    if result.correlation_id:
        logger.set_correlation_id(result.correlation_id)
    for reason, count in result.scan.ignored.items():
        logger.info(
            f"ignored {count} query line(s): {reason}",
            extra={"ignore_reason": str(reason), "count": count, "example": result.scan.examples[reason]},
        )
    metrics.add_metric(name="QueriesMatched", unit=MetricUnit.Count, value=len(result.scan.knocks))
    metrics.add_metric(name="QueriesIgnored", unit=MetricUnit.Count, value=result.scan.ignored.total())
    report(result.outcome, logger, metrics)
    return result.outcome.as_result()
