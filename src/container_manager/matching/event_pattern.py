"""Evaluate Amazon EventBridge event patterns offline, for the subset our templates use (and a bit more).

Semantics follow the EventBridge user guide ("Event patterns", "Arrays in event patterns", "Matching null values
and empty strings", "Content filtering in event patterns" / "Comparison operators"):

* Every field named in the pattern must match; fields the pattern does not name are ignored.
* A field's pattern is a list of alternatives (OR). An alternative is an exact JSON value (string, number, ``true``,
  ``false``, ``null``; types never coerce: ``"0"`` is not ``0``, ``true`` is not ``1``) or a one-key operator
  object: ``prefix``, ``suffix`` (both also as ``{"equals-ignore-case": ...}``), ``equals-ignore-case``,
  ``anything-but`` (a string, a number, a list of strings or of numbers, or ``{"prefix"|"suffix"|
  "equals-ignore-case": ...}``), ``numeric`` (``["=", 5]``, ``[">", 0, "<=", 5]``) and ``exists``.
* A nested pattern object matches a nested event object. ``"$or": [p1, p2, ...]`` matches when any ``p`` matches
  the same object (alongside the object's other fields).
* Arrays in the event: a field pattern matches when **any element** matches. For arrays of objects, a nested
  pattern must match within one element (``containers: {exitCode: [1]}`` matches
  ``containers: [{exitCode: 0}, {exitCode: 1}]``).
* Only leaf values (scalars, or scalars inside arrays) count as present: a field whose value is an object or an
  empty array matches ``{"exists": false}`` and nothing else, like a missing field.

Anything else - ``cidr``, ``wildcard``, unknown or misspelt operators, malformed operands - raises
``EventPatternError`` when the pattern is parsed, so a rule can never silently match or miss because of syntax this
module does not understand.

Known divergence: EventBridge compares exact numbers by their JSON text (``300.0`` and ``3.0e2`` differ); after
``json.loads`` only the int/float distinction survives, so here ``300`` differs from ``300.0`` but ``300.0`` equals
``3.0e2``. Use ``numeric`` to compare numbers by value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

Scalar = str | int | float | bool | None

SUPPORTED_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists")
_NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")


class EventPatternError(ValueError):
    """The pattern is malformed, or uses EventBridge syntax this matcher does not implement."""


@dataclass(frozen=True)
class _Alternative:
    """One element of a field's list: ``test`` is applied to each leaf value present."""

    test: Callable[[Scalar], bool]
    matches_absent: bool = False


@dataclass(frozen=True)
class _Leaf:
    alternatives: tuple[_Alternative, ...]


@dataclass(frozen=True)
class _Object:
    fields: tuple[tuple[str, _Leaf | _Object], ...]
    any_of: tuple[_Object, ...]  # from "$or"; empty when absent


class EventPattern:
    """A parsed, validated event pattern. ``EventPattern(p).matches(event)``."""

    __slots__ = ("_root", "pattern")

    def __init__(self, pattern: Mapping[str, object] | str) -> None:
        if isinstance(pattern, str):
            try:
                pattern = json.loads(pattern)
            except json.JSONDecodeError as error:
                raise EventPatternError(f"pattern is not valid JSON: {error}") from error
        self.pattern = pattern
        self._root = _compile_object(pattern, "")

    def matches(self, event: Mapping[str, object]) -> bool:
        """True when EventBridge would deliver ``event`` to a rule with this pattern."""
        return _match_object(self._root, event)

    def __repr__(self) -> str:
        return f"EventPattern({json.dumps(self.pattern, sort_keys=True)})"


def matches(pattern: Mapping[str, object] | str, event: Mapping[str, object]) -> bool:
    """Parse ``pattern`` and test one event (convenience for single use)."""
    return EventPattern(pattern).matches(event)


# ---------------------------------------------------------------------------------------------- evaluation


def _match_object(node: _Object, obj: Mapping[str, object]) -> bool:
    for name, child in node.fields:
        value = obj.get(name)
        present = name in obj
        if isinstance(child, _Leaf):
            if not _match_leaf(child, _leaves(value) if present else []):
                return False
        elif not any(_match_object(child, element) for element in _objects(value if present else None)):
            return False
    return not node.any_of or any(_match_object(alternative, obj) for alternative in node.any_of)


def _match_leaf(leaf: _Leaf, values: list[Scalar]) -> bool:
    if not values:
        return any(alternative.matches_absent for alternative in leaf.alternatives)
    return any(alternative.test(value) for alternative in leaf.alternatives for value in values)


def _leaves(value: object) -> list[Scalar]:
    """The scalar values a leaf pattern sees: a scalar, or the scalars inside (nested) arrays."""
    if isinstance(value, list):
        return [leaf for element in value for leaf in _leaves(element)]
    if value is None or isinstance(value, str | int | float | bool):
        return [value]
    return []  # objects are not leaves


def _objects(value: object) -> list[Mapping[str, object]]:
    """The objects a nested pattern is tried against: the object, or each object inside (nested) arrays."""
    found = list(_iter_objects(value))
    return found or [{}]  # no object there: only "exists: false" fields can match, as for a missing field


def _iter_objects(value: object) -> Iterator[Mapping[str, object]]:
    if isinstance(value, Mapping):
        yield value
    elif isinstance(value, list):
        for element in value:
            yield from _iter_objects(element)


def _same(left: Scalar, right: Scalar) -> bool:
    """JSON equality without Python's coercions (True == 1, 1 == 1.0)."""
    return type(left) is type(right) and left == right


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# ---------------------------------------------------------------------------------------------- compilation


def _compile_object(pattern: object, path: str) -> _Object:
    if not isinstance(pattern, Mapping):
        raise EventPatternError(f"{path or 'pattern'}: expected an object, got {pattern!r}")
    if not pattern:
        raise EventPatternError(f"{path or 'pattern'}: an empty object matches nothing useful; remove it")
    fields: list[tuple[str, _Leaf | _Object]] = []
    any_of: tuple[_Object, ...] = ()
    for name, value in pattern.items():
        if not isinstance(name, str):
            raise EventPatternError(f"{path}: field names must be strings, got {name!r}")
        where = f"{path}.{name}" if path else name
        if name == "$or":
            any_of = _compile_or(value, where)
        elif isinstance(value, list):
            fields.append((name, _compile_leaf(value, where)))
        elif isinstance(value, Mapping):
            fields.append((name, _compile_object(value, where)))
        else:
            raise EventPatternError(
                f"{where}: a field's pattern must be a list of alternatives or an object, got {value!r} "
                f"(write [{json.dumps(value)}] to match that value)"
            )
    return _Object(tuple(fields), any_of)


def _compile_or(value: object, where: str) -> tuple[_Object, ...]:
    if not isinstance(value, list) or not value:
        raise EventPatternError(f"{where}: $or takes a non-empty list of pattern objects, got {value!r}")
    return tuple(_compile_object(item, f"{where}[{index}]") for index, item in enumerate(value))


def _compile_leaf(alternatives: Sequence[object], where: str) -> _Leaf:
    if not alternatives:
        raise EventPatternError(f"{where}: an empty list matches nothing; list at least one value")
    compiled = []
    for index, item in enumerate(alternatives):
        at = f"{where}[{index}]"
        if isinstance(item, Mapping):
            compiled.append(_compile_operator(item, at))
        elif item is None or isinstance(item, str | int | float | bool):
            compiled.append(_exact(item))
        else:
            raise EventPatternError(f"{at}: expected a JSON scalar or an operator object, got {item!r}")
    return _Leaf(tuple(compiled))


def _compile_operator(item: Mapping[object, object], at: str) -> _Alternative:
    if len(item) != 1:
        raise EventPatternError(f"{at}: an operator object holds exactly one operator, got {dict(item)!r}")
    ((operator, operand),) = item.items()
    match operator:
        case "prefix" | "suffix":
            return _affix(str(operator), operand, at)
        case "equals-ignore-case":
            text = _string(operand, f"{at}.equals-ignore-case")
            return _Alternative(lambda v: isinstance(v, str) and v.casefold() == text.casefold())
        case "exists":
            if not isinstance(operand, bool):
                raise EventPatternError(f"{at}: exists takes true or false, got {operand!r}")
            return _Alternative(lambda _v: operand, matches_absent=not operand)
        case "numeric":
            return _numeric(operand, at)
        case "anything-but":
            return _anything_but(operand, at)
    raise EventPatternError(
        f"{at}: unsupported operator {operator!r}; this matcher implements {', '.join(SUPPORTED_OPERATORS)} "
        "(EventBridge also has cidr and wildcard: add them here, with tests, before a template uses them)"
    )


def _exact(expected: Scalar) -> _Alternative:
    return _Alternative(lambda v: _same(v, expected))


def _string(operand: object, at: str) -> str:
    if not isinstance(operand, str):
        raise EventPatternError(f"{at}: expected a string, got {operand!r}")
    return operand


def _affix(operator: str, operand: object, at: str) -> _Alternative:
    fold = False
    if isinstance(operand, Mapping) and set(operand) == {"equals-ignore-case"}:
        operand, fold = operand["equals-ignore-case"], True
    text = _string(operand, f"{at}.{operator}")
    wanted = text.casefold() if fold else text

    def test(value: Scalar) -> bool:
        if not isinstance(value, str):
            return False
        seen = value.casefold() if fold else value
        return seen.startswith(wanted) if operator == "prefix" else seen.endswith(wanted)

    return _Alternative(test)


def _anything_but(operand: object, at: str) -> _Alternative:
    where = f"{at}.anything-but"
    if isinstance(operand, Mapping):
        if len(operand) != 1:
            raise EventPatternError(f"{where}: expected one of prefix, suffix, equals-ignore-case")
        ((inner, value),) = operand.items()
        if inner in ("prefix", "suffix"):
            excluded = _affix(str(inner), _string(value, f"{where}.{inner}"), where)
            return _Alternative(lambda v: not excluded.test(v))
        if inner == "equals-ignore-case":
            texts = value if isinstance(value, list) else [value]
            folded = {_string(text, f"{where}.equals-ignore-case").casefold() for text in texts}
            return _Alternative(lambda v: not (isinstance(v, str) and v.casefold() in folded))
        raise EventPatternError(
            f"{where}: unsupported operator {inner!r} inside anything-but "
            "(supported: prefix, suffix, equals-ignore-case)"
        )
    values = operand if isinstance(operand, list) else [operand]
    all_strings = all(isinstance(value, str) for value in values)
    all_numbers = all(_is_number(value) for value in values)
    if not values or not (all_strings or all_numbers):
        raise EventPatternError(
            f"{where}: takes a string, a number, or a non-empty list of only strings or only numbers, "
            f"got {operand!r}"
        )
    excluded_values: list[Scalar] = [value for value in values if isinstance(value, str | int | float)]
    return _Alternative(lambda v: not any(_same(v, excluded) for excluded in excluded_values))


def _numeric(operand: object, at: str) -> _Alternative:
    where = f"{at}.numeric"
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise EventPatternError(
            f'{where}: expected [op, number] or [">"/">=", low, "<"/"<=", high], got {operand!r}'
        )
    conditions: list[tuple[str, float]] = []
    for op, bound in zip(operand[::2], operand[1::2], strict=True):
        if op not in _NUMERIC_OPERATORS:
            raise EventPatternError(f"{where}: unknown comparison {op!r}; use one of {_NUMERIC_OPERATORS}")
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise EventPatternError(f"{where}: {op} needs a number, got {bound!r}")
        conditions.append((str(op), float(bound)))
    if len(conditions) == 2:
        (low_op, low), (high_op, high) = conditions
        if low_op not in (">", ">=") or high_op not in ("<", "<="):
            raise EventPatternError(
                f"{where}: a range is a lower bound (> or >=) then an upper bound (< or <=)"
            )
        if not low < high:
            raise EventPatternError(f"{where}: empty range, {low} is not below {high}")

    def test(value: Scalar) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        return all(_compare(float(value), op, bound) for op, bound in conditions)

    return _Alternative(test)


def _compare(value: float, op: str, bound: float) -> bool:
    match op:
        case "=":
            return value == bound
        case "<":
            return value < bound
        case "<=":
            return value <= bound
        case ">":
            return value > bound
        case _:
            return value >= bound
