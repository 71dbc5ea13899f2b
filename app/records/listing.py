"""List pages: search, filters, sort and pagination from the query string."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import orm as so

T = TypeVar("T")

MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class ListParams:
    """What the user asked a list page for."""

    q: str = ""
    sort: str = ""
    descending: bool = False
    page: int = 1
    per_page: int = 50
    filters: Mapping[str, str] = field(default_factory=dict)
    show_deleted: bool = False

    @classmethod
    def from_args(
        cls,
        args: Mapping[str, str],
        filter_names: Sequence[str],
        sort_names: Sequence[str],
        default_sort: str,
        per_page: int = 50,
    ) -> ListParams:
        """Parse request.args, ignoring anything unknown or malformed."""
        sort = args.get("sort", default_sort)
        if sort not in sort_names:
            sort = default_sort
        try:
            page = max(1, int(args.get("page", "1")))
        except ValueError:
            page = 1
        try:
            size = min(MAX_PAGE_SIZE, max(1, int(args.get("per_page", str(per_page)))))
        except ValueError:
            size = per_page
        filters = {name: args[name].strip() for name in filter_names if args.get(name, "").strip()}
        return cls(
            q=args.get("q", "").strip()[:200],
            sort=sort,
            descending=args.get("dir") == "desc",
            page=page,
            per_page=size,
            filters=filters,
            show_deleted=args.get("deleted") == "1",
        )

    def url_args(self, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link that keeps this state but for the changes."""
        args: dict[str, Any] = {
            "q": self.q,
            "sort": self.sort,
            "dir": "desc" if self.descending else "asc",
            "page": self.page,
            **self.filters,
        }
        if self.show_deleted:
            args["deleted"] = "1"
        args.update(changes)
        return {key: value for key, value in args.items() if value not in ("", None)}

    def filter_int(self, name: str) -> int | None:
        try:
            return int(self.filters[name])
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and what the pager needs."""

    items: list[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def paginate(
    session: so.Session,
    query: sa.Select[*tuple[Any, ...]],
    params: ListParams,
    scalars: bool = True,
) -> Page[Any]:
    """Run a select for one page, with a COUNT of the whole result."""
    total = (
        session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    )
    page = min(params.page, max(1, math.ceil(total / params.per_page)))
    paged = query.limit(params.per_page).offset((page - 1) * params.per_page)
    result = session.scalars(paged) if scalars else session.execute(paged)
    return Page(items=list(result.all()), page=page, per_page=params.per_page, total=total)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching text anywhere, with LIKE's wildcards escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
