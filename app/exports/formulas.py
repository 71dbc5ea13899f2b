"""Neutralise spreadsheet formulas in exported cells."""

from __future__ import annotations

import re
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\0")
# Control characters XML 1.0 cannot carry (an XLSX cell would be refused); tab, LF, CR stay.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def safe_cell(value: Any) -> Any:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_text(value: str) -> str:
    """Text for a cell: control characters dropped first (so none hides a leading "="),
    then neutralised like safe_cell."""
    return safe_cell(CONTROL_CHARACTERS.sub("", value))  # type: ignore[no-any-return]
