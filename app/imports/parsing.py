"""Reading CSV and XLSX files into rows of text, and parsing the text of one cell.

Every cell reaches the importers as text, whatever the file format, so one set
of parsers serves both. Spreadsheet cells that hold a formula arrive as
:class:`FormulaText`: free-text columns take the formula's text as it stands,
typed columns (dates, amounts, names to look up) refuse it. Formulas are never
evaluated, and cached results are not read either: a cached value is whatever
the spreadsheet last computed, and files written by programs other than Excel
or LibreOffice often carry none at all (the cell would silently read empty).
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import openpyxl

from app.exports.formulas import FORMULA_PREFIXES
from app.outputs.forms import parse_partial_date
from app.records.forms import parse_amount

E = TypeVar("E", bound=Enum)

# A zip that inflates past this is refused before openpyxl opens it (zip bombs).
MAX_XLSX_INFLATED = 400 * 1024 * 1024
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls format
CENT = Decimal("0.01")


class FileProblem(ValueError):
    """The file as a whole cannot be read (encoding, format, header)."""


class CellError(ValueError):
    """One cell's value is not acceptable; the message says why."""


class FormulaText(str):
    """The text of a spreadsheet formula ("=A1*2"), never evaluated."""

    __slots__ = ()


# --------------------------------------------------------------------------- names


def header_key(text: str) -> str:
    """Compare header names ignoring case, accents, spaces, underscores and punctuation."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isalnum() and ch.isascii())


def name_key(text: str) -> str:
    """Compare record names ignoring case and runs of spaces (punctuation still counts)."""
    return " ".join(text.split()).casefold()


# --------------------------------------------------------------------------- tables


@dataclass
class Table:
    """A header row and the data rows under it; row numbers as a spreadsheet shows them."""

    headers: list[str]
    rows: Iterator[tuple[int, list[str]]]
    file_format: str
    encoding: str | None = None
    delimiter: str | None = None


def read_table(data: bytes, filename: str = "") -> Table:
    """Open CSV or XLSX bytes (the format is recognised from the content)."""
    if data.startswith(_XLSX_MAGIC):
        return _read_xlsx(data)
    if data.startswith(_OLE_MAGIC):
        raise FileProblem(
            "This is an old-style Excel file (.xls). Save it as .xlsx or as CSV and try again."
        )
    if filename.lower().endswith((".xlsx", ".xlsm")):
        raise FileProblem("The file is named .xlsx but is not an Excel workbook.")
    return _read_csv(data)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode as UTF-8 (with or without BOM), else as Windows-1252; (text, encoding)."""
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError as error:
        raise FileProblem(
            "The file is neither UTF-8 nor Windows-1252 text. "
            "Save it as “CSV UTF-8” or as an Excel workbook."
        ) from error


def _delimiter(first_line: str) -> str:
    """The separator of the header line: the most frequent of , ; and tab outside quotes."""
    outside = re.sub(r'"[^"]*"', "", first_line)
    counts = {sep: outside.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_csv(data: bytes) -> Table:
    text, encoding = decode_text(data)
    if "\x00" in text:
        raise FileProblem("The file contains NUL bytes: it is not a text (CSV) file.")
    first_line = text.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise FileProblem("The file is empty.") from None
    except csv.Error as error:
        raise FileProblem(f"The header row cannot be read: {error}.") from error

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for number, cells in enumerate(reader, start=2):  # noqa: B007 (used in except)
                yield number, cells
        except csv.Error as error:
            raise FileProblem(f"Row {number + 1} cannot be read: {error}.") from error

    return Table(headers, rows(), "CSV", encoding=encoding, delimiter=delimiter)


def _cell_text(value: Any, data_type: str | None) -> str:
    if value is None:
        return ""
    if data_type == "f":
        return FormulaText(str(value))
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise FileProblem("The file looks like an Excel workbook but is damaged.") from error
    if inflated > MAX_XLSX_INFLATED:
        raise FileProblem("The workbook unpacks to more than 400 MB; split it into smaller files.")
    try:
        # openpyxl parses through defusedxml when it is installed (it is a dependency):
        # no entity expansion, no external entities. data_only=False: see the module doc.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many types for damaged files
        raise FileProblem(f"The Excel workbook cannot be opened ({error}).") from error
    sheet = workbook.worksheets[0]
    cells = sheet.iter_rows()
    try:
        header_cells = next(cells)
    except StopIteration:
        workbook.close()
        raise FileProblem("The first worksheet is empty.") from None
    headers = [_cell_text(c.value, getattr(c, "data_type", None)) for c in header_cells]
    while headers and not headers[-1].strip():
        headers.pop()

    def rows() -> Iterator[tuple[int, list[str]]]:
        try:
            for number, row in enumerate(cells, start=2):
                yield number, [_cell_text(c.value, getattr(c, "data_type", None)) for c in row]
        finally:
            workbook.close()

    return Table(headers, rows(), "XLSX")


# --------------------------------------------------------------------------- cell values


def refuse_formula(text: str) -> None:
    """Typed columns never take a formula."""
    if isinstance(text, FormulaText):
        raise CellError(
            "the cell holds a formula, which is never evaluated; "
            "type the value (or paste it as a value) instead"
        )


def clean_text(text: str, max_length: int | None = None) -> str | None:
    """Trimmed text, None if blank; refuses control characters and over-long text.

    Our exports put an apostrophe before text a spreadsheet would run as a
    formula ('=...); it is taken off again, so an export imports unchanged.
    """
    value = text.strip()
    if not value:
        return None
    if value[0] == "'" and value[1:2] and value[1] in FORMULA_PREFIXES:
        value = value[1:]
    if not value.isprintable() and any(not ch.isprintable() and ch not in "\r\n\t" for ch in value):
        raise CellError("remove the invisible control characters from this text")
    if max_length is not None and len(value) > max_length:
        raise CellError(f"at most {max_length} characters (this has {len(value)})")
    return value


_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?")


def parse_date(text: str) -> date | None:
    """A date written 2004-03-01 or 01/03/2004 (day first, also with . or -); None if blank."""
    refuse_formula(text)
    return _date(text.strip()) if text else None


@functools.lru_cache(maxsize=32_768)  # files repeat dates a lot; CellErrors are not cached
def _date(value: str) -> date | None:
    if not value:
        return None
    if len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    elif match := _DMY.fullmatch(value):
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            pass
    elif match := _ISO_TIME.fullmatch(value):
        return _date(match[1])
    raise CellError("not a date: write 2004-03-31 or 31/03/2004 (day first)")


def parse_partial(text: str) -> tuple[date, Any] | None:
    """A date known to the year (2004), the month (2004-03) or the day; None if blank."""
    value = text.strip()
    if not value:
        return None
    refuse_formula(text)
    if match := _ISO_TIME.fullmatch(value):
        value = match[1]
    parsed = parse_partial_date(value)
    if parsed is None:
        raise CellError("not a date: write 2004, 2004-03, 2004-03-31 or 31/03/2004")
    return parsed


_THOUSANDS_ONLY = re.compile(r"-?\d{1,3}(?:[.,]\d{3})+")


def parse_money(text: str) -> Decimal | None:
    """An amount with English or Italian separators, at most two decimals; None if blank.

    A lone separator followed by exactly three digits (150.000 or 150,000) is a
    thousands separator: money never has three decimals.
    """
    value = text.strip()
    if not value:
        return None
    refuse_formula(text)
    compact = value.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not (compact[0].isdigit() and compact[-1].isdigit()):
        for symbol in ("€", "EUR", "£", "$"):
            compact = compact.removeprefix(symbol).removesuffix(symbol)
        if not compact:
            raise CellError("not an amount: write 150000, 150,000.00 or 150.000,00")
    if _THOUSANDS_ONLY.fullmatch(compact) and len(set(re.sub(r"[\d-]", "", compact))) == 1:
        compact = compact.replace(".", "").replace(",", "")
    amount = parse_amount(compact)
    if amount is None:
        raise CellError("not an amount: write 150000, 150,000.00 or 150.000,00")
    if amount < 0:
        raise CellError("the amount cannot be negative")
    if amount != amount.quantize(CENT):
        raise CellError("use at most two decimals")
    return amount.quantize(CENT)  # as stored, so re-imports compare equal in the audit diff


def parse_int(text: str, minimum: int | None = 0) -> int | None:
    """A whole number; None if blank."""
    value = text.strip()
    if not value:
        return None
    refuse_formula(text)
    compact = value.replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", compact):
        compact = compact.replace(".", "").replace(",", "")
    if compact.endswith(".0"):
        compact = compact[:-2]
    try:
        number = int(compact)
    except ValueError:
        raise CellError("not a whole number") from None
    if minimum is not None and number < minimum:
        raise CellError(f"must be at least {minimum}")
    return number


SHARE_STEP = Decimal("0.0001")


def parse_share(text: str) -> Decimal | None:
    """A share of an output: 50%, 0.5 or 0,5 (a fraction); None if blank."""
    value = text.strip()
    if not value:
        return None
    refuse_formula(text)
    percent = value.endswith("%")
    number = parse_amount(value.rstrip("%").strip())
    if number is None:
        raise CellError("not a share: write 50% or 0.5")
    share = number / 100 if percent else number
    if not percent and share > 1:
        raise CellError("a share is at most 1 (100%); write 50% or 0.5")
    if share <= 0 or share > 1:
        raise CellError("the share must be more than 0% and at most 100%")
    if share != share.quantize(SHARE_STEP):
        raise CellError("give the share to at most two decimals of a percent (e.g. 33.33%)")
    return share.quantize(SHARE_STEP)


_TRUE = {"yes", "y", "true", "1", "si", "sì", "x", "ja", "oui", "vero"}
_FALSE = {"no", "n", "false", "0", "falso", "nein", "non"}


def parse_bool(text: str) -> bool | None:
    """yes/no, true/false, 1/0 (and sì); None if blank."""
    value = text.strip().casefold()
    if not value:
        return None
    refuse_formula(text)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError("write yes or no")


_ENUM_KEYS: dict[type[Enum], dict[str, Enum]] = {}


def enum_keys(enum_class: type[E]) -> dict[str, E]:
    """Lookup of an enum's members by value and by label, both compared as header names."""
    keys = _ENUM_KEYS.get(enum_class)
    if keys is None:
        keys = {}
        for member in enum_class:
            keys[str(member.value)] = member
            keys[header_key(str(member.value))] = member
            label = getattr(member, "label", None)
            if label:
                keys.setdefault(header_key(label), member)
        _ENUM_KEYS[enum_class] = keys
    return keys  # type: ignore[return-value]


def parse_enum(text: str, enum_class: type[E]) -> E | None:
    """An enum member named by its value or its label, tolerant of case and spacing."""
    keys = enum_keys(enum_class)
    member = keys.get(text)  # the exact value: the common case, and fast
    if member is not None and not isinstance(text, FormulaText):
        return member
    value = text.strip()
    if not value:
        return None
    refuse_formula(text)
    member = keys.get(header_key(value))
    if member is None:
        allowed = ", ".join(str(m.value) for m in enum_class)
        raise CellError(f"not one of: {allowed}")
    return member


_LIST_SEPARATOR = re.compile(r"[;\n]")


def split_list(text: str) -> list[str]:
    """A cell holding several values separated by semicolons (or new lines)."""
    return [part.strip() for part in _LIST_SEPARATOR.split(text) if part.strip()]
