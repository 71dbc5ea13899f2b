"""Read an HTML form's fields the way a browser submits them (stdlib only).

The locustfile runs under gevent, the runner and the tests do not: this module
imports nothing but the standard library so all of them can use it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The first CSRF token in a page (every form of the app carries one)."""
    found = CSRF.search(html)
    if found is None:
        raise ValueError("no CSRF token in the page")
    return found.group(1)


class _FormParser(HTMLParser):
    """Collects the successful controls of the first form whose ``action`` matches."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.wanted_action = action
        self.in_form = False
        self.done = False
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._multiple = False
        self._options: list[tuple[str, bool]] = []
        self._option: list[str] | None = None
        self._option_value: str | None = None
        self._option_selected = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form" and not self.done and not self.in_form:
            method = attributes.get("method", "get").lower()
            action = attributes.get("action", "")
            wanted = self.wanted_action
            self.in_form = method == "post" and (wanted is None and not action or action == wanted)
            return
        if not self.in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name and "disabled" not in attributes:
            kind = attributes.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attributes:
                    self.fields.append((name, attributes.get("value", "on")))
            elif kind not in ("submit", "button", "reset", "image", "file"):
                self.fields.append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select, self._multiple, self._options = name, "multiple" in attributes, []
        elif tag == "option" and self._select is not None:
            self._option, self._option_value = [], attributes.get("value")
            self._option_selected = "selected" in attributes
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def _close_option(self) -> None:
        if self._option is not None:
            text = "".join(self._option).strip()
            value = self._option_value if self._option_value is not None else text
            self._options.append((value, self._option_selected))
            self._option = None

    def handle_endtag(self, tag: str) -> None:
        if not self.in_form:
            return
        if tag == "option":
            self._close_option()
        elif tag == "select" and self._select is not None:
            self._close_option()
            chosen = [value for value, selected in self._options if selected]
            if not chosen and not self._multiple and self._options:
                chosen = [self._options[0][0]]  # a browser submits the first option
            if not self._multiple:
                chosen = chosen[-1:]
            self.fields.extend((self._select, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop one line break right after <textarea> (WTForms writes "\r\n").
            text = re.sub(r"^\r?\n", "", "".join(self._text))
            self.fields.append((self._textarea, text))
            self._textarea = None
        elif tag == "form":
            self.in_form, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)
        elif self._option is not None:
            self._option.append(data)


def form_fields(html: str, action: str | None = None) -> list[tuple[str, str]]:
    """The (name, value) pairs a browser would post for a page's form.

    ``action=None`` picks the first POST form without an ``action`` attribute
    (the record forms post to their own URL); otherwise the first POST form
    with exactly that action.
    """
    parser = _FormParser(action)
    parser.feed(html)
    parser.close()
    if not parser.done and not parser.fields:
        raise ValueError(f"no POST form (action {action!r}) in the page")
    return parser.fields


def replace_field(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    """The fields with ``name`` set to ``value`` (exactly one such field must exist)."""
    if sum(1 for field, _ in fields if field == name) != 1:
        raise ValueError(f"the form has no single field {name!r}")
    return [(field, value if field == name else old) for field, old in fields]
