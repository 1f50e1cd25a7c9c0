"""Lambda entry point: EC2 Auto Scaling event (EventBridge) -> the container's A record."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cm_common.aws import AutoScaling, AwsClients, Dns, Instances
from cm_common.observability import report
from instance_state_change.service import respond_to_state_change
from instance_state_change.settings import Settings

SETTINGS = Settings.from_env(os.environ)  # fails the cold start, naming every bad variable
_clients = AwsClients(SETTINGS.region)  # the group and its instances live in this function's region
GROUPS = AutoScaling(_clients)
INSTANCES = Instances(_clients)
DNS = Dns(_clients)  # Route 53 is global; any region's endpoint serves it

logger = Logger()
metrics = Metrics()
metrics.set_default_dimensions(ContainerId=SETTINGS.container_id)


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.EVENT_BRIDGE, clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Benign skips and bad events return normally (a raise would only buy retries); AWS errors propagate.
    outcome = respond_to_state_change(event, SETTINGS, GROUPS, INSTANCES, DNS)
    report(outcome, logger, metrics)
    return outcome.as_result()
