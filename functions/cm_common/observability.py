"""One way for every handler to log and count what it decided."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from cm_common.outcome import Action, Outcome


def report(outcome: Outcome, logger: Logger, metrics: Metrics) -> None:
    """Log the decision with its reason and details; count it as metric ``Outcome<Action>``."""
    metrics.add_metric(
        name=f"Outcome{outcome.action.title().replace('_', '')}", unit=MetricUnit.Count, value=1
    )
    extra = {"action": str(outcome.action), "reason": outcome.reason, **outcome.details}
    if outcome.action is Action.REJECTED:
        logger.error(f"rejected: {outcome.reason}", extra=extra)
    else:
        logger.info(f"{outcome.action}: {outcome.reason}", extra=extra)
