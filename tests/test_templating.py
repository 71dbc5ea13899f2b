"""Jinja helpers that list pages call many times: numbers, options, row links, badges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from app.models.enums import Confidentiality
from app.templating import (
    confidentiality_badge,
    format_money,
    format_number,
    grouped,
    id_url,
    select_options,
)


@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False),
    st.sampled_from([0, 2]),
)
def test_grouped_numbers_are_what_babel_writes_for_en_gb(value: Decimal, digits: int) -> None:
    pattern = "#,##0" if digits == 0 else "#,##0.00"
    assert grouped(value, digits) == format_decimal(value, format=pattern, locale="en_GB")


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (Decimal("1234567.5"), 0, "1,234,568"),
        (Decimal("2.5"), 0, "2"),  # half to even, as Babel
        (Decimal("3750520.31"), 2, "3,750,520.31"),
        (Decimal("0"), 0, "0"),
        (999, 0, "999"),
        (1000, 0, "1,000"),
    ],
)
def test_grouped_examples(value: Decimal | int, digits: int, text: str) -> None:
    assert grouped(value, digits) == text


def test_money_and_number_filters() -> None:
    assert format_money(Decimal("3750520.31")) == "3,750,520 EUR"
    assert format_money(Decimal("1500000000"), "ITL") == "1,500,000,000 ITL"
    assert format_money(Decimal("12.5"), "GBP", digits=2) == "12.50 GBP"
    assert format_money(None) == "–"
    assert format_number(12345) == "12,345"
    assert format_number(None) == "–"


def test_select_options_marks_the_chosen_value_and_escapes() -> None:
    choices = [(1, "Pilot <grants>"), (2, 'Call "2020"'), (12, "Fellowships")]
    html = str(select_options(choices, "2"))
    assert html == (
        '<option value="1">Pilot &lt;grants&gt;</option>'
        '<option value="2" selected>Call &#34;2020&#34;</option>'
        '<option value="12">Fellowships</option>'
    )
    # Another choice of the same (cached) list, then none: only that one is marked.
    assert str(select_options(choices, 12)).count(" selected") == 1
    assert 'value="12" selected' in str(select_options(choices, 12))
    assert " selected" not in str(select_options(choices, None))
    assert " selected" not in str(select_options(choices, "99"))


def test_select_options_takes_plain_values_and_any_iterable() -> None:
    assert str(select_options(reversed([2023, 2024]), 2024)) == (
        '<option value="2024" selected>2024</option><option value="2023">2023</option>'
    )
    # Unhashable choices are made without the cache.
    assert str(select_options([["a", "A"]], "a")) == '<option value="a" selected>A</option>'


def test_id_url_builds_what_url_for_builds(app: Flask) -> None:
    from flask import url_for

    with app.test_request_context("/"):
        grant_url = id_url("grants.detail", "grant_id")
        for grant_id in (1, 7, 10, 918, 123456):
            assert grant_url(grant_id) == url_for("grants.detail", grant_id=grant_id)
        history_url = id_url("grants.history", "grant_id")
        assert history_url(40) == url_for("grants.history", grant_id=40)
        with pytest.raises(ValueError, match="does not put"):
            id_url("grants.index", "grant_id")  # the id would be a query argument


def test_confidentiality_badge() -> None:
    assert str(confidentiality_badge(Confidentiality.PUBLIC)) == ""
    assert str(confidentiality_badge(Confidentiality.INTERNAL)) == (
        '<span class="badge badge-internal">Internal (staff only)</span>'
    )
