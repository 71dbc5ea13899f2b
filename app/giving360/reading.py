"""Reading a 360Giving file: a JSON package, or a CSV/XLSX sheet with the standard's titles.

Both forms become the same thing: a list of grant objects in the shape of the
JSON schema, each remembering where it came from so an error can name the row
and the column (or the grant's position and the JSON path).

A flattened sheet is read with the other imports' reader (UTF-8 with or
without a byte-order mark, else Windows-1252; comma, semicolon or tab; XLSX
through defusedxml, formulas never evaluated), one grant per row, the first
item of each list in "List Title:Field Title" columns as the standard's
templates have them. Cells are typed by the schema: blank cells are left out,
text is trimmed, numbers may use thousands commas, and dates may be written
day first (24/07/2014) as the other imports accept; they become ISO dates (and
midnight UTC where the schema wants a date-time). Anything else is passed on
unchanged for the schema to judge.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.imports.parsing import CellError, FileProblem, header_key, parse_date, read_table

from . import schema

Path = tuple[str | int, ...]

_THOUSANDS = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SHEET_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")


def dotted(path: Path) -> str:
    """A field path as people read it: recipientOrganization[0].id."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


@dataclass
class Source:
    """One grant as read, and how to point at its parts in an error report."""

    row: int  # the sheet's row number, or the grant's position in the list (1 = first)
    data: Any
    headers: dict[Path, str] | None = None  # flattened files: field path -> header as written

    def column(self, path: Path) -> str:
        """The column (sheet) or JSON path (package) of a field, for the error report."""
        if self.headers is None:
            return dotted(path) or "grant"
        if path in self.headers:
            return self.headers[path]
        return schema.path_titles().get(path) or dotted(path) or "row"


@dataclass
class Read:
    """What a file held: its grants, the package around them (JSON), and notes."""

    file_format: str
    grants: list[Source]
    package: dict[str, Any] | None = None
    skipped: int = 0
    header_errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read(data: bytes, filename: str = "") -> Read:
    """A JSON package (recognised by its first character) or a flattened CSV/XLSX file."""
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"[") or filename.lower().endswith(".json"):
        return _read_json(data)
    return _read_sheet(data, filename)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _read_json(data: bytes) -> Read:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileProblem(
            "The file is not UTF-8 text, as a 360Giving JSON file must be "
            f"(byte {error.start + 1} cannot be read)."
        ) from error
    try:
        package = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise FileProblem(
            f"The file is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}. Correct it (or export it again) and retry."
        ) from error
    except (ValueError, RecursionError) as error:
        raise FileProblem(f"The file is not valid JSON: {error}.") from error
    if not isinstance(package, dict):
        raise FileProblem(
            'A 360Giving JSON file is an object holding a "grants" list ({"grants": [...]}); '
            "this file holds something else at the top level."
        )
    grants = package.get("grants")
    sources = (
        [Source(position, grant) for position, grant in enumerate(grants, start=1)]
        if isinstance(grants, list)
        else []
    )
    return Read(
        "JSON",
        sources,
        package,
        notes=["Row numbers are the grants' positions in the file's grants list (1 = first)."],
    )


def _number(text: str) -> Any:
    compact = text.replace(" ", "").replace("\u00a0", "")
    if _THOUSANDS.fullmatch(compact):
        compact = compact.replace(",", "")
    try:
        value = Decimal(compact)
    except InvalidOperation:
        return text
    if not value.is_finite():
        return text
    return int(value) if value == value.to_integral_value() and "." not in compact else value


def _date(text: str, kind: str) -> str:
    """An ISO date (or date-time at midnight UTC) from the spreadsheet forms we accept."""
    if match := _SHEET_DATE_TIME.fullmatch(text):  # an XLSX date cell with a time
        return f"{match[1]}T{match[2]}+00:00" if kind == "date-time" else match[1]
    try:
        day = parse_date(text)
    except CellError:
        return text  # partial dates (2014, 2014-03) and the like: the schema decides
    if day is None:
        return text
    return f"{day.isoformat()}T00:00:00+00:00" if kind == "date-time" else day.isoformat()


def cell_value(text: str, kind: str) -> Any:
    """A sheet cell as the JSON value the schema expects; None for a blank cell."""
    value = text.strip()
    if not value:
        return None
    if kind == "number":
        return _number(value)
    if kind in ("date", "date-time") and not (kind == "date" and _ISO_DATE.fullmatch(value)):
        return _date(value, kind)
    return value


def _put(grant: dict[str, Any], path: Path, value: Any) -> None:
    if len(path) == 1:
        grant[str(path[0])] = value
    elif len(path) == 2:
        grant.setdefault(str(path[0]), {})[path[1]] = value
    else:
        grant.setdefault(str(path[0]), [{}])[0][path[2]] = value


def _read_sheet(data: bytes, filename: str) -> Read:
    table = read_table(data, filename)
    paths = schema.column_paths()
    columns: list[tuple[int, Path, str]] = []
    taken: dict[Path, str] = {}
    ignored: list[str] = []
    result = Read(table.file_format, [])
    for index, raw in enumerate(table.headers):
        title = raw.strip()
        if not header_key(title):
            continue
        path = paths.get(header_key(title))
        if path is None:
            ignored.append(title)
        elif path in taken:
            result.header_errors.append(
                (title, f"two columns mean {dotted(path)}: “{taken[path]}” and “{title}”")
            )
        else:
            taken[path] = title
            columns.append((index, path, schema.kind_of(path)))
    if not columns:
        raise FileProblem(
            "None of the header names is a 360Giving column title (Identifier, Title, "
            "Amount Awarded, Recipient Org:Identifier ...): is row 1 the header row?"
        )
    if ignored:
        result.notes.append(
            "Columns that are not 360Giving fields, ignored: " + ", ".join(ignored) + "."
        )
    for number, cells in table.rows:
        grant: dict[str, Any] = {}
        for index, path, kind in columns:
            if index < len(cells):
                value = cell_value(cells[index], kind)
                if value is not None:
                    _put(grant, path, value)
        if grant:
            result.grants.append(Source(number, grant, taken))
        else:
            result.skipped += 1
    return result
