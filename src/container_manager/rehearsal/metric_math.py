"""CloudWatch metric math, offline, for the subset alarm templates use (and a little more).

Semantics follow the CloudWatch user guide ("Using metric math", "Metric math syntax and functions"):

* Values are scalars, time series (timestamp -> value) or arrays of time series.
* Arithmetic ``+ - * / ^`` and comparisons ``== != < <= > >=`` (true = 1, false = 0), logical ``AND``/``&&``,
  ``OR``/``||``, ``NOT``/``!``: scalar with series applies to every point; series with series keeps only the
  timestamps both have (a missing point stays missing - that is what ``FILL`` is for); an array applies the
  operation to each of its series. A division by zero yields no point.
* ``FILL(x, value)`` gives every timestamp of the evaluation window a point (``value`` where ``x`` has none);
  ``FILL(x, REPEAT)`` repeats the last earlier point.
* ``IF(condition, a[, b])``: for each timestamp of ``condition``, ``a`` where it is non-zero, else ``b``; with no
  ``b``, no point at all (the documented way to emit nothing).
* ``METRICS()`` / ``METRICS("text")``: the array of every metric (not expression) in the request, or of those
  whose id contains ``text``.
* ``SUM AVG MIN MAX`` of an array: one series, per timestamp over the series that have a point; of a single
  series: one scalar over its points. ``ABS`` applies point-wise.

Anything else - another function, ``LINEAR`` fill, a keyword this module does not know - raises
``MetricMathError`` when the expression is parsed, so an alarm can never silently evaluate differently here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Union

Series = dict[float, float]  # timestamp (epoch seconds of the period start) -> value
Value = Union[float, Series, list[Series], str]  # noqa: UP007 - recursive-friendly alias

FUNCTIONS = ("IF", "FILL", "METRICS", "SUM", "AVG", "MIN", "MAX", "ABS")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
    r"|(?P<str>\"[^\"]*\"|'[^']*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[-+*/^()<>!,\[\]]))"
)


class MetricMathError(ValueError):
    """The expression is malformed or uses metric math this evaluator does not implement."""


# ------------------------------------------------------------------------------------------------ syntax tree
@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Ident:
    name: str


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class ArrayOf:
    items: tuple[Node, ...]


Node = Num | Text | Ident | Call | Unary | Binary | ArrayOf


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MetricMathError(f"cannot read {text[position : position + 20]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("OR", "||"),
        ("AND", "&&"),
        ("==", "!=", "<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "/"),
        ("^",),
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.position = 0

    def peek(self) -> str | None:
        if self.position >= len(self.tokens):
            return None
        kind, value = self.tokens[self.position]
        return value.upper() if kind == "name" and value.upper() in ("AND", "OR", "NOT") else value

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise MetricMathError(f"unexpected end of {self.text!r}")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise MetricMathError(f"expected {expected!r}, found {token[1]!r} in {self.text!r}")
        self.position += 1
        return token

    def parse(self) -> Node:
        node = self.level(0)
        if self.position != len(self.tokens):
            raise MetricMathError(f"unexpected {self.tokens[self.position][1]!r} in {self.text!r}")
        return node

    def level(self, depth: int) -> Node:
        if depth == len(self._LEVELS):
            return self.unary()
        node = self.level(depth + 1)
        while self.peek() in self._LEVELS[depth]:
            op = self.take()[1].upper()
            op = {"AND": "&&", "OR": "||"}.get(op, op)
            right = self.level(depth + 1)
            node = Binary(op, node, right)
        return node

    def unary(self) -> Node:
        symbol = self.peek()
        if symbol in ("-", "!", "NOT"):
            self.take()
            return Unary("-" if symbol == "-" else "!", self.unary())
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Num(float(value))
        if kind == "str":
            return Text(value[1:-1])
        if value == "(":
            node = self.level(0)
            self.take(")")
            return node
        if value == "[":
            return ArrayOf(tuple(self.arguments("]")))
        if kind == "name":
            if self.peek() == "(":
                name = value.upper()
                if name not in FUNCTIONS:
                    raise MetricMathError(f"function {value} is not implemented here (known: {FUNCTIONS})")
                self.take("(")
                return Call(name, tuple(self.arguments(")")))
            if value.upper() == "REPEAT":
                return Text("REPEAT")
            if not value[0].islower():
                raise MetricMathError(f"{value!r}: ids start with a lower-case letter (or unknown keyword)")
            return Ident(value)
        raise MetricMathError(f"unexpected {value!r} in {self.text!r}")

    def arguments(self, closing: str) -> list[Node]:
        items: list[Node] = []
        if self.peek() == closing:
            self.take(closing)
            return items
        while True:
            items.append(self.level(0))
            if self.peek() == ",":
                self.take(",")
                continue
            self.take(closing)
            return items


def parse(expression: str) -> Node:
    """Parse (and so validate) one metric math expression."""
    return _Parser(expression).parse()


def references(node: Node) -> set[str]:
    """Ids an expression reads (METRICS() reads all metrics: reported as ``"*"``)."""
    match node:
        case Ident(name):
            return {name}
        case Call("METRICS", _):
            return {"*"}
        case Call(_, args) | ArrayOf(args):
            return set().union(*(references(a) for a in args)) if args else set()
        case Unary(_, operand):
            return references(operand)
        case Binary(_, left, right):
            return references(left) | references(right)
    return set()


# --------------------------------------------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Window:
    """The evaluation's timestamps (period starts, ascending) and the series each id stands for."""

    timestamps: Sequence[float]
    series: Mapping[str, Series]
    metric_ids: Sequence[str] = ()  # the ids that are metrics, not expressions (what METRICS() returns)


def evaluate(node: Node | str, window: Window) -> Value:
    if isinstance(node, str):
        node = parse(node)
    match node:
        case Num(value):
            return value
        case Text(value):
            return value
        case Ident(name):
            if name not in window.series:
                raise MetricMathError(f"id {name!r} is not defined in this alarm")
            return dict(window.series[name])
        case ArrayOf(items):
            values = [evaluate(i, window) for i in items]
            return [_series(v, "an array item") for v in values]
        case Unary(op, operand):
            return _map(evaluate(operand, window), (lambda v: -v) if op == "-" else (lambda v: float(v == 0)))
        case Binary(op, left, right):
            return _binary(op, evaluate(left, window), evaluate(right, window))
        case Call(function, args):
            return _call(function, args, window)
    raise MetricMathError(f"cannot evaluate {node!r}")


def _series(value: Value, what: str) -> Series:
    if not isinstance(value, dict):
        raise MetricMathError(f"{what} must be a time series, got {type(value).__name__}")
    return value


def _map(value: Value, fn: Callable[[float], float]) -> Value:
    if isinstance(value, float | int):
        return fn(float(value))
    if isinstance(value, dict):
        return {t: fn(v) for t, v in value.items()}
    if isinstance(value, list):
        return [{t: fn(v) for t, v in s.items()} for s in value]
    raise MetricMathError(f"cannot apply arithmetic to {value!r}")


_OPS: dict[str, Callable[[float, float], float | None]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b if b != 0 else None,
    "^": lambda a, b: math.pow(a, b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "&&": lambda a, b: float(a != 0 and b != 0),
    "||": lambda a, b: float(a != 0 or b != 0),
}


def _binary(op: str, left: Value, right: Value) -> Value:
    fn = _OPS[op]
    if isinstance(left, str) or isinstance(right, str):
        raise MetricMathError(f"operator {op} does not apply to text")
    if isinstance(left, list):
        return [_series(_binary(op, s, right), "result") for s in left]
    if isinstance(right, list):
        return [_series(_binary(op, left, s), "result") for s in right]
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = ((t, left[t], right[t]) for t in left if t in right)
    elif isinstance(left, dict):
        scalar = float(right)  # type: ignore[arg-type]  # right is a number here
        pairs = ((t, v, scalar) for t, v in left.items())
    elif isinstance(right, dict):
        scalar = float(left)
        pairs = ((t, scalar, v) for t, v in right.items())
    else:
        result = fn(float(left), float(right))
        if result is None:
            raise MetricMathError(f"division by zero: {left} {op} {right}")
        return result
    out: Series = {}
    for t, a, b in pairs:
        value = fn(a, b)
        if value is not None:
            out[t] = value
    return out


def _call(function: str, args: tuple[Node, ...], window: Window) -> Value:
    if function == "METRICS":
        if len(args) > 1:
            raise MetricMathError("METRICS takes at most one text argument")
        text = evaluate(args[0], window) if args else ""
        if not isinstance(text, str):
            raise MetricMathError("METRICS takes a text argument")
        return [dict(window.series[i]) for i in window.metric_ids if text in i]
    values = [evaluate(a, window) for a in args]
    if function == "IF":
        if len(values) not in (2, 3):
            raise MetricMathError("IF takes a condition and one or two values")
        return _if(values[0], values[1], values[2] if len(values) == 3 else None)
    if function == "FILL":
        if len(values) != 2:
            raise MetricMathError("FILL takes a series and a value")
        return _fill(values[0], values[1], window.timestamps)
    if len(values) != 1:
        raise MetricMathError(f"{function} takes one argument")
    (value,) = values
    if function == "ABS":
        return _map(value, abs)
    return _aggregate(function, value)


def _at(value: Value, t: float) -> float | None:
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, dict):
        return value.get(t)
    raise MetricMathError("IF's values must be scalars or time series")


def _if(condition: Value, yes: Value, no: Value | None) -> Value:
    if isinstance(condition, float | int):
        chosen = yes if condition != 0 else no
        if chosen is None:
            return {}
        return chosen
    cond = _series(condition, "IF's condition")
    out: Series = {}
    for t, c in cond.items():
        branch = yes if c != 0 else no
        if branch is None:
            continue
        value = _at(branch, t)
        if value is not None:
            out[t] = value
    return out


def _fill(value: Value, filler: Value, timestamps: Sequence[float]) -> Value:
    if isinstance(value, list):
        return [_series(_fill(s, filler, timestamps), "FILL") for s in value]
    series = _series(value, "FILL's first argument")
    if filler == "REPEAT":
        out: Series = {}
        last: float | None = None
        for t in timestamps:
            last = series.get(t, last)
            if last is not None:
                out[t] = last
        return out
    if not isinstance(filler, float | int):
        raise MetricMathError(f"FILL value {filler!r} is not implemented here (a number or REPEAT)")
    return {t: series.get(t, float(filler)) for t in timestamps}


def _aggregate(function: str, value: Value) -> Value:
    reducers: dict[str, Callable[[list[float]], float]] = {
        "SUM": sum,
        "AVG": lambda v: sum(v) / len(v),
        "MIN": min,
        "MAX": max,
    }
    reduce = reducers[function]
    if isinstance(value, list):
        stamps = sorted({t for s in value for t in s})
        return {t: reduce([s[t] for s in value if t in s]) for t in stamps}
    if isinstance(value, dict):
        if not value:
            return {}
        return reduce(list(value.values()))
    raise MetricMathError(f"{function} takes a time series or an array of them")
