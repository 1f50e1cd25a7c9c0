"""Lambda entry point: EventBridge ECS Task State Change -> stop the server when its task crashes."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from cm_common.aws import AutoScaling, AwsClients
from cm_common.observability import report
from crash_loop_breaker.service import break_crash_loop
from crash_loop_breaker.settings import Settings

SETTINGS = Settings.from_env(os.environ)  # fails the cold start, naming every bad variable
GROUPS = AutoScaling(AwsClients(SETTINGS.region))

logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(ContainerId=SETTINGS.container_id)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    result = break_crash_loop(event, SETTINGS, GROUPS)
    if result.correlation_id:
        logger.set_correlation_id(result.correlation_id)
    if result.crash:
        # Counted whether or not we scaled: a second crash event is still a crash worth seeing.
        metrics.add_metric(name="TaskCrashes", unit=MetricUnit.Count, value=1)
    report(result.outcome, logger, metrics)
    return result.outcome.as_result()
