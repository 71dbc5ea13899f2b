"""Shared form and listing helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.models import Role
from app.records.forms import parse_amount
from app.records.listing import ListParams, like_pattern


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("150000000", Decimal("150000000")),
        ("150.000.000", Decimal("150000000")),
        ("150,000,000", Decimal("150000000")),
        ("1,234.56", Decimal("1234.56")),
        ("1.234,56", Decimal("1234.56")),
        ("1 234,56", Decimal("1234.56")),
        ("250.000,00", Decimal("250000.00")),
        ("12,5", Decimal("12.5")),
        ("12.5", Decimal("12.5")),
        ("1,500", Decimal("1500")),
    ],
)
def test_amounts_in_english_or_italian_notation(text: str, expected: Decimal) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize("text", ["12abc", "", "1.2.3,4,5", "NaN", "Infinity"])
def test_not_amounts(text: str) -> None:
    assert parse_amount(text) is None


def test_list_params_ignore_malformed_input() -> None:
    params = ListParams.from_args(
        {"page": "-3", "per_page": "100000", "sort": "drop table", "year": " 2004 ", "x": "1"},
        filter_names=["year"], sort_names=["title"], default_sort="title")
    assert params.page == 1 and params.per_page == 200 and params.sort == "title"
    assert params.filters == {"year": "2004"}
    assert params.filter_int("year") == 2004


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("100%_a\\b") == "%100\\%\\_a\\\\b%"


@pytest.mark.parametrize(
    "url",
    [
        "/grants?q=stem%00cells&status=%00",
        "/outputs?q=a%00b",
        "/organisations?q=%00",
        "/lookup/organisations?q=Un%00i",
        "/donors/lookup?q=Ro%00ss",
    ],
)
def test_control_characters_in_searches_are_ignored(client, logged_in, url: str) -> None:
    """PostgreSQL refuses NUL in text: a search with one is a search without it, not a 500."""
    logged_in(Role.STAFF)
    assert client.get(url).status_code == 200
