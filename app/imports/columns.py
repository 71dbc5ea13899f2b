"""Columns of each import kind, header matching, and the per-row report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .parsing import FileProblem, header_key


@dataclass(frozen=True)
class Column:
    """One column of an import file."""

    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    help: str = ""
    example: str = ""


@dataclass(frozen=True)
class RowError:
    """Why one cell (or row, or the file) was refused; row 1 is the header."""

    row: int | None
    column: str | None
    value: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "reason": self.reason}

    def line(self) -> str:
        """The error as one line of the command-line report."""
        where = [f"row {self.row}" if self.row is not None else "file"]
        if self.column:
            where.append(f"column {self.column}")
        if self.value not in (None, ""):
            shown = self.value if len(self.value) <= 60 else self.value[:59] + "…"
            where.append(f"value {shown!r}")
        return f"{', '.join(where)}: {self.reason}"


@dataclass(frozen=True)
class PreviewRow:
    """What the import does (or would do) with one row."""

    row: int
    action: str  # created, updated, unchanged
    key: str
    label: str
    detail: str = ""


PREVIEW_LIMIT = 500
ERROR_LIMIT = 1000  # stored on the run and shown; the count says how many in all


@dataclass
class Outcome:
    """Counts, errors and a capped preview of one import run."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    )
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    preview: list[PreviewRow] = field(default_factory=list)  # rows to create or update
    unchanged: list[PreviewRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, row: int | None, column: str | None, value: Any, reason: str) -> None:
        """Record a refusal (only the first ERROR_LIMIT are kept in full)."""
        self.error_count += 1
        if len(self.errors) < ERROR_LIMIT:
            text = None if value is None else str(value)
            self.errors.append(RowError(row, column, text, reason))

    def done(self, row: int, action: str, key: str, label: str, detail: str = "") -> None:
        """Count a row by what happens to it and keep it for the preview."""
        self.counts[action] += 1
        rows = self.unchanged if action == "unchanged" else self.preview
        if len(rows) < PREVIEW_LIMIT:
            rows.append(PreviewRow(row, action, key, label, detail))

    @property
    def ok(self) -> bool:
        return self.error_count == 0


class Header:
    """The file's header row bound to an import kind's columns."""

    def __init__(self, headers: list[str], columns: tuple[Column, ...], outcome: Outcome) -> None:
        self.columns = columns
        self.position: dict[str, int] = {}
        by_key: dict[str, Column] = {}
        for column in columns:
            for name in (column.name, *column.aliases):
                by_key[header_key(name)] = column
        ignored: list[str] = []
        for index, raw in enumerate(headers):
            key = header_key(raw)
            if not key:
                continue
            match = by_key.get(key)
            if match is None:
                ignored.append(raw.strip())
            elif match.name in self.position:
                first = headers[self.position[match.name]].strip()
                outcome.error(
                    1,
                    raw.strip(),
                    None,
                    f"two columns mean {match.name}: “{first}” and “{raw.strip()}”",
                )
            else:
                self.position[match.name] = index
        for column in columns:
            if column.required and column.name not in self.position:
                outcome.error(1, column.name, None, "this column is missing from the header row")
        if ignored:
            outcome.notes.append("Columns not recognised and ignored: " + ", ".join(ignored) + ".")
        if not self.position:
            raise FileProblem(
                "None of the header names is a known column: is row 1 the header row?"
            )

    def has(self, name: str) -> bool:
        return name in self.position

    def cell(self, cells: list[str], name: str) -> str:
        """The text of a column in a row ('' if the column is absent or the row short)."""
        index = self.position.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index]

    def getter(self, name: str) -> Any:
        """A fast cell reader for one column (used in the 100,000-row loops)."""
        index = self.position.get(name)
        if index is None:
            return lambda cells: ""
        return lambda cells: cells[index] if index < len(cells) else ""


def is_blank(cells: list[str]) -> bool:
    """A row with nothing in it (spreadsheets leave many)."""
    return not "".join(cells).strip()
