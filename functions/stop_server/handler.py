"""Lambda entry point: a CloudWatch alarm's Lambda action (idle, runaway guard) -> desired capacity 0."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from cm_common.aws import AutoScaling, AwsClients
from cm_common.observability import report
from stop_server.service import stop_on_alarm
from stop_server.settings import Settings

SETTINGS = Settings.from_env(os.environ)  # fails the cold start, naming every bad variable
GROUPS = AutoScaling(AwsClients(SETTINGS.region))

logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(ContainerId=SETTINGS.container_id)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    # Benign skips and bad events return normally (a raise would only buy retries); AWS errors propagate.
    outcome = stop_on_alarm(event, SETTINGS, GROUPS)
    report(outcome, logger, metrics)
    return outcome.as_result()
