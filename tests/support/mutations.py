"""Break one thing in a rendered copy of the templates (the e2e mutation tests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path


def replace_once(path: str, old: str, new: str) -> Callable[[Path], None]:
    """A mutation: in ``<root>/<path>``, the one occurrence of ``old`` becomes ``new`` (not exactly one: fail)."""

    def apply(root: Path) -> None:
        file = root / path
        text = file.read_text()
        assert text.count(old) == 1, f"mutation target {old!r} not found exactly once in {path}"
        file.write_text(text.replace(old, new))

    return apply


def sub_once(path: str, pattern: str, new: str) -> Callable[[Path], None]:
    """A mutation: in ``<root>/<path>``, the one match of the regex ``pattern`` becomes ``new``."""

    def apply(root: Path) -> None:
        file = root / path
        text, count = re.subn(pattern, new, file.read_text())
        assert count == 1, f"mutation pattern {pattern!r} matched {count} times in {path}"
        file.write_text(text)

    return apply
