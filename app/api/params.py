"""Query-string parameters of the API, checked strictly: a bad value is a 400, not ignored."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.records.listing import ListParams

from .errors import ApiError

DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 100
MAX_TEXT = 200
# Largest id a path or filter may name (PostgreSQL integer): bigger ones are 404s, not overflows.
MAX_ID = 2**31 - 1
FIRST_YEAR, LAST_YEAR = 1, 9998
# Portfolio periods: the years the price index may cover.
PORTFOLIO_FIRST, PORTFOLIO_LAST = 1900, 2200


def _bad(name: str, message: str) -> ApiError:
    return ApiError(400, f"Query parameter '{name}': {message}")


def integer(args: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    """An optional whole number between low and high."""
    raw = args.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        raise _bad(name, f"expected a whole number from {low} to {high}.")
    value = int(raw)
    if not low <= value <= high:
        raise _bad(name, f"expected a whole number from {low} to {high}.")
    return value


def text(args: Mapping[str, str], name: str) -> str:
    """Optional free text of at most MAX_TEXT characters, without C0 control characters."""
    value = args.get(name, "")
    if len(value) > MAX_TEXT:
        raise _bad(name, f"at most {MAX_TEXT} characters.")
    # NUL would make PostgreSQL refuse the query; the other controls are never meant.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise _bad(name, "control characters are not allowed.")
    return value.strip()


def choice(args: Mapping[str, str], name: str, allowed: Any) -> str | None:
    """An optional value from a fixed list (an enum or any iterable of strings)."""
    raw = args.get(name)
    if raw is None:
        return None
    values = (
        [m.value for m in allowed]
        if isinstance(allowed, type) and issubclass(allowed, enum.Enum)
        else list(allowed)
    )
    if raw not in values:
        raise _bad(name, "expected one of " + ", ".join(values) + ".")
    return raw


@dataclass(frozen=True)
class ListQuery:
    """A list request: the ListParams for the shared queries, and the arguments to echo."""

    params: ListParams
    # What the caller asked for, as it goes back into the pagination links.
    echo: dict[str, Any] = field(default_factory=dict)


def list_query(
    args: Mapping[str, str],
    filters: dict[str, str | int | None],
    sorts: Any,
    default_sort: str,
) -> ListQuery:
    """Page, page size, search, sort and filters of a list endpoint."""
    page = integer(args, "page", 1, MAX_ID) or 1
    per_page = integer(args, "per_page", 1, MAX_PER_PAGE) or DEFAULT_PER_PAGE
    q = text(args, "q")
    sort = choice(args, "sort", list(sorts)) or default_sort
    direction = choice(args, "dir", ("asc", "desc")) or "asc"
    chosen = {name: str(value) for name, value in filters.items() if value is not None}
    params = ListParams(
        q=q,
        sort=sort,
        descending=direction == "desc",
        page=page,
        per_page=per_page,
        filters=chosen,
    )
    echo: dict[str, Any] = {"q": q or None, "sort": sort, "dir": direction, **chosen}
    echo["per_page"] = per_page
    return ListQuery(params, {key: value for key, value in echo.items() if value is not None})
