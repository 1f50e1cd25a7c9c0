"""Offline evaluators for the two AWS matching languages our templates use.

* ``event_pattern`` - EventBridge event patterns (the rules that route Auto Scaling and ECS events).
* ``filter_pattern`` - CloudWatch Logs filter patterns for unstructured text (the start subscription filter).

No library evaluates our rules correctly offline: moto's ``EventPattern`` (5.2.5) does not look inside arrays of
objects, so the crash rule's ``containers: {exitCode: [{anything-but: 0}]}`` misses an exit code of 1 that
EventBridge matches, and the ``event-ruler`` package rejects ``$or``, ``anything-but`` and ``numeric``. So
these implement the documented subset we need, and refuse - with an error naming the construct - anything
outside it, rather than guessing.
"""

from container_manager.matching.event_pattern import EventPattern, EventPatternError
from container_manager.matching.filter_pattern import FilterPattern, FilterPatternError

__all__ = ["EventPattern", "EventPatternError", "FilterPattern", "FilterPatternError"]
