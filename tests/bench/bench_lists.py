"""Benchmark: the register pages at scale (target: median <= 50 ms each, in-process).

A Flask test client, logged in as the benchmark's staff user through the real log-in
form, GETs each page once to warm up (imports, compiled SQL, the per-process read
cache) and then ``RUNS`` times; a figure is the median time to the whole response,
templating included. No server and no network: the pages' own cost. The same pages with
the read cache emptied before each request give ``list_slowest_after_change_ms``: the
slowest page's median as first seen after a change to the data.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.bench import median
from tests.bench.bench_pages import CSRF, EMAIL, PASSWORD, ensure_staff_user

RUNS = 9
# Figure name -> page, as people open them: each register unfiltered in its default order,
# sorted by its aggregate, filtered, and the dashboard.
PAGES = {
    "list_outputs_ms": "/outputs",
    "list_outputs_year_ms": "/outputs?year={year}",
    "list_outputs_type_ms": "/outputs?type=publication&sort=title",
    "list_organisations_ms": "/organisations",
    "list_organisations_by_grants_ms": "/organisations?sort=grants&dir=desc",
    "list_people_ms": "/people",
    "list_people_by_grants_ms": "/people?sort=grants&dir=desc",
    "list_programmes_ms": "/programmes",
    "list_programmes_by_total_ms": "/programmes?sort=total_eur&dir=desc",
    "list_dashboard_ms": "/",
}


def logged_in_client(app: Flask) -> FlaskClient:
    """A test client logged in as the benchmark's staff user (CSRF token and all)."""
    client = app.test_client()
    page = client.get("/login")
    token = CSRF.search(page.get_data(as_text=True))
    if token is None:
        raise RuntimeError("no log-in form with a CSRF token at /login")
    response = client.post(
        "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise RuntimeError("log-in refused for the benchmark staff user")
    return client


def time_page(client: FlaskClient, path: str, runs: int = RUNS, cold: bool = False) -> float:
    """Median ms of GET ``path`` after one warm-up request; any other status than 200 fails.

    ``cold``: the process's read cache is emptied before each request, as if the data had
    just changed (the first view after any write pays for the counts and sums again).
    """
    from app.records import cache

    timings = []
    for attempt in range(runs + 1):
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(path)
        response.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status_code}")
        if attempt:
            timings.append(elapsed)
    return median(timings)


def _a_year(app: Flask) -> int:
    """A year in the middle of the outputs' dates (a filter people use)."""
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Output

    with app.app_context():
        first, last = db.session.execute(
            sa.select(sa.func.min(Output.output_date), sa.func.max(Output.output_date))
        ).one()
        db.session.rollback()
    if first is None:
        raise RuntimeError("no dated outputs in the benchmark database")
    return (first.year + last.year) // 2


def bench_list_pages(app: Flask, url: str) -> dict[str, Any]:
    """Median ms of each register page (outputs, organisations, people, programmes, home)."""
    ensure_staff_user(url)
    year = _a_year(app)
    client = logged_in_client(app)
    figures: dict[str, Any] = {
        name: round(time_page(client, path.format(year=year)), 1) for name, path in PAGES.items()
    }
    after_change = {
        name: round(time_page(client, path.format(year=year), runs=3, cold=True), 1)
        for name, path in PAGES.items()
    }
    slowest = max(after_change, key=after_change.__getitem__)
    figures["list_slowest_after_change_ms"] = after_change[slowest]
    figures["list_after_change"] = after_change  # every page's, in the JSON only
    return figures


if __name__ == "__main__":  # python -m tests.bench.bench_lists, with DATABASE_URL set
    import os

    from app import create_app

    print(bench_list_pages(create_app(), os.environ["DATABASE_URL"]))
