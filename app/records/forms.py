"""Form pieces shared by record forms: pickers, optional selects, the version field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from wtforms import Field, HiddenField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import Input

_ID_IN_TEXT = re.compile(r"^#?(\d+)\b")


def picked_id(id_field: Field, text_field: Field) -> int | None:
    """The id chosen in a typeahead picker (or typed as '#123' without JavaScript)."""
    for raw in (id_field.data, text_field.data):
        match = _ID_IN_TEXT.match(str(raw or "").strip())
        if match:
            return int(match.group(1))
    return None


class _PickerIdInput(Input):
    # Not a HiddenInput subclass on purpose: form.hidden_tag() renders every
    # HiddenInput field, and the picker's id input belongs inside its picker.
    input_type = "hidden"
    validation_attrs: list[str] = []


class PickerIdField(StringField):
    """The id half of a typeahead picker (rendered by the typeahead macro)."""

    widget = _PickerIdInput()


class VersionField(HiddenField):
    """The version of the record the form was loaded from (optimistic locking)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            self.data = int(valuelist[0]) if valuelist and valuelist[0] else None
        except ValueError:
            self.data = None


class MoneyField(StringField):
    """An amount typed with English or Italian separators (1,234.56 or 1.234,56)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = valuelist[0].strip() if valuelist else ""
        self.data = parse_amount(self.raw) if self.raw else None
        if self.raw and self.data is None:
            raise ValueError(f"'{self.raw}' is not an amount (e.g. 150000 or 150,000.00)")

    def _value(self) -> str:
        if self.data is None:
            return getattr(self, "raw", "")  # what the user typed, to correct it
        return f"{self.data:f}"


def parse_amount(text: str) -> Decimal | None:
    """Parse 1234.5, 1,234.50, 1.234,50 or 1 234,50 into a Decimal; None if not a number."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if "," in cleaned and "." in cleaned:
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
    elif cleaned.count(".") > 1:
        decimal_mark = ","  # 150.000.000: dots can only be thousands separators
    elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
        decimal_mark = ","
    else:
        decimal_mark = "."
    thousands = "." if decimal_mark == "," else ","
    cleaned = cleaned.replace(thousands, "").replace(decimal_mark, ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def optional_int(value: Any) -> int | None:
    """Coerce a select's value to int, '' to None."""
    if value in (None, "", "None"):
        return None
    return int(value)


def no_control_characters(form: Any, field: Field) -> None:
    """Refuse control characters other than newlines and tabs in free text."""
    if isinstance(field.data, str) and any(
        not ch.isprintable() and ch not in "\r\n\t" for ch in field.data
    ):
        raise ValidationError("Remove the invisible control characters from this text.")


def options(pairs: Iterable[tuple[Any, str]], blank: str | None = None) -> list[SelectChoice]:
    """Select options from (value, label) pairs, optionally after a blank one."""
    choices = [SelectChoice("", blank)] if blank is not None else []
    return choices + [SelectChoice(str(value), label) for value, label in pairs]
