"""Domain validation errors carried back to form fields."""

from __future__ import annotations

from typing import Any


class FieldErrors(ValueError):
    """One or more fields failed a domain rule: {field name: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def apply_to_form(form: Any, error: FieldErrors) -> None:
    """Attach domain errors to the matching form fields (or the form as a whole)."""
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)
