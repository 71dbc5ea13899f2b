"""Benchmark: lineage of a trial at scale (quality bar: median <= 20 ms at 100,000 grants)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from tests.bench import median, percentile

SAMPLE = 50


def sample_trials(session: so.Session, count: int = SAMPLE) -> list[int]:
    """``count`` live trials spread evenly over the database by id, plus the STEMS trial."""
    from app.demo import find_stems_trial
    from app.models import ClinicalTrial, Output

    ids = list(
        session.scalars(
            sa.select(ClinicalTrial.output_id)
            .join(Output, Output.id == ClinicalTrial.output_id)
            .where(Output.deleted_at.is_(None))
            .order_by(ClinicalTrial.output_id)
        )
    )
    if not ids:
        raise RuntimeError("no clinical trials in the benchmark database")
    step = max(1, len(ids) // count)
    picked = ids[::step][:count]
    stems = find_stems_trial(session)
    if stems is not None and stems not in picked:
        picked.append(stems)
    return picked


def bench_lineage(session: so.Session) -> dict[str, Any]:
    """Median and p95 of ``lineage()`` over 50 trials and STEMS, all confidentiality levels."""
    from app.lineage.queries import lineage
    from app.visibility import ALL_LEVELS

    trials = sample_trials(session)
    # One warm-up: imports, SQL compilation caches and the connection pool.
    lineage(session, trials[-1], ALL_LEVELS)
    timings = []
    for output_id in trials:
        started = time.perf_counter()
        lineage(session, output_id, ALL_LEVELS)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "lineage_ms": round(median(timings), 2),
        "lineage_p95_ms": round(percentile(timings, 0.95), 2),
    }


if __name__ == "__main__":  # python -m tests.bench.bench_lineage, with DATABASE_URL set
    from app import create_app
    from app.extensions import db

    with create_app().app_context():
        print(bench_lineage(db.session))
