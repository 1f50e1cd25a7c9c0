"""Evaluate CloudWatch Logs filter patterns against unstructured log events, offline (term/phrase subset).

Semantics follow the CloudWatch Logs user guide, "Filter pattern syntax" (terms in unstructured log events):

* A term is a word of letters, digits and underscores, or a double-quoted phrase (any characters; ``\\"`` and
  ``\\\\`` escape a quote and a backslash). A term matches when it occurs anywhere in the message, case-sensitively
  (``ERROR`` matches ``Exiting with ERRORCODE: -1``). Spaces inside a phrase are part of it: ``" a.b A "`` needs
  the spaces on both sides.
* Several terms: all must occur (AND). ``-term`` / ``-"phrase"``: must not occur.
* ``?term ?"phrase"``: at least one must occur (OR).
* The empty pattern matches every event.

Anything else raises ``FilterPatternError``: JSON patterns ``{ $.x = ... }``, space-delimited patterns
``[a, b]``, regular expressions ``%...%``, unquoted terms with other characters (the guide says they must be
quoted), and mixing ``?`` terms with plain or ``-`` terms (the guide does not define that combination).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD = re.compile(r"[A-Za-z0-9_]+")


class FilterPatternError(ValueError):
    """The filter pattern is malformed, or uses syntax this matcher does not implement."""


@dataclass(frozen=True)
class FilterPattern:
    """A parsed term pattern: ``required`` all occur, ``excluded`` none occur, ``any_of`` (if set) one occurs."""

    text: str
    required: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> FilterPattern:
        """Parse ``text``; raise ``FilterPatternError`` naming the problem if it is outside the subset."""
        stripped = text.strip()
        _refuse_other_syntaxes(stripped)
        required: list[str] = []
        excluded: list[str] = []
        any_of: list[str] = []
        for marker, term in _tokens(stripped):
            {"": required, "-": excluded, "?": any_of}[marker].append(term)
        if any_of and (required or excluded):
            raise FilterPatternError(
                f"{text!r}: mixes ?-terms with plain or -terms; CloudWatch documents no meaning for that, "
                "so use only ?-terms, or no ?-terms"
            )
        return cls(text, tuple(required), tuple(excluded), tuple(any_of))

    def matches(self, message: str) -> bool:
        """True when CloudWatch Logs would pass this log event's message through the filter."""
        if self.any_of:
            return any(term in message for term in self.any_of)
        return all(term in message for term in self.required) and not any(
            term in message for term in self.excluded
        )


def matches(pattern: str, message: str) -> bool:
    """Parse ``pattern`` and test one message (convenience for single use)."""
    return FilterPattern.parse(pattern).matches(message)


def _refuse_other_syntaxes(text: str) -> None:
    if text.startswith("{"):
        raise FilterPatternError(f"{text!r}: JSON filter patterns {{ $.field ... }} are not supported")
    if text.startswith("["):
        raise FilterPatternError(f"{text!r}: space-delimited filter patterns [f1, f2, ...] are not supported")
    if text.startswith("%"):
        raise FilterPatternError(f"{text!r}: regular-expression filter patterns %...% are not supported")


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split into (marker, term) pairs; marker is "", "-" or "?"."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        marker = ""
        if text[position] in "-?":
            marker = text[position]
            position += 1
        if position < len(text) and text[position] == '"':
            term, position = _phrase(text, position)
        else:
            end = position
            while end < len(text) and not text[end].isspace():
                end += 1
            term = text[position:end]
            if not _WORD.fullmatch(term):
                raise FilterPatternError(_bad_word(text, marker, term))
            position = end
        if position < len(text) and not text[position].isspace():
            raise FilterPatternError(f"{text!r}: a quoted phrase must be followed by a space, at {position}")
        tokens.append((marker, term))
    return tokens


def _phrase(text: str, start: int) -> tuple[str, int]:
    """Read the quoted phrase opening at ``start``; return it and the index after its closing quote."""
    chars: list[str] = []
    position = start + 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text) and text[position + 1] in '"\\':
            chars.append(text[position + 1])
            position += 2
        elif char == '"':
            return "".join(chars), position + 1
        else:
            chars.append(char)
            position += 1
    raise FilterPatternError(f"{text!r}: unterminated quoted phrase starting at {start}")


def _bad_word(text: str, marker: str, term: str) -> str:
    if not term:
        return f"{text!r}: {marker!r} must be followed by a term or a quoted phrase"
    if term[0] in "-?":
        return f"{text!r}: {marker + term!r} combines markers; use one of ? or -"
    return (
        f"{text!r}: unquoted term {term!r} has characters other than letters, digits and underscore; "
        f'CloudWatch requires such terms in double quotes: "{term}"'
    )
