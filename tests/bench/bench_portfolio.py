"""Benchmark: portfolio figures for one year (quality bar: <= 200 ms at 100,000 grants)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

RUNS = 7


def bench_portfolio(session: so.Session) -> dict[str, Any]:
    """Median time of portfolio_figures for the latest complete award year, after a warm-up."""
    from app.models import Grant
    from app.portfolio.queries import portfolio_figures
    from app.visibility import ALL_LEVELS

    latest = session.scalar(
        sa.select(sa.func.max(Grant.award_date)).where(Grant.deleted_at.is_(None))
    )
    # The last year with a full year of awards, as the page's default does.
    year = latest.year - 1 if latest is not None else 2000
    portfolio_figures(session, year, year, ALL_LEVELS)
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        portfolio_figures(session, year, year, ALL_LEVELS)
        timings.append((time.perf_counter() - started) * 1000)
    return {"portfolio_ms": round(statistics.median(timings), 1)}


if __name__ == "__main__":  # python -m tests.bench.bench_portfolio, with DATABASE_URL set
    from app import create_app
    from app.extensions import db

    with create_app().app_context():
        print(bench_portfolio(db.session))
