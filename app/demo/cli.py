"""`grantpath demo load [--scale N]`."""

from __future__ import annotations

import time
from collections import Counter

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.extensions import db

from .foundation import FOUNDATION_NAME, load_foundation
from .synthetic import load_synthetic, table_counts


@click.group("demo")
def demo_cli() -> None:
    """Demonstration data."""


@demo_cli.command("load")
@click.option("--scale", type=click.IntRange(min=0), default=0, show_default=True,
              help="Also make sure N synthetic grants (SYN-0000001 ...) with proportional "
                   "outputs exist, for benchmarks.")
@with_appcontext
def load(scale: int) -> None:
    """Load the demo foundation (fictional, around a few real trials). Idempotent."""
    started = time.perf_counter()
    session = db.session
    added: Counter[str] = Counter()
    try:
        curated = load_foundation(session, echo=click.echo)
        if curated is not None:
            click.echo(f"Loaded the demo foundation: {FOUNDATION_NAME}.")
            added.update(curated)
        if scale:
            added.update(load_synthetic(session, scale, echo=click.echo))
        session.commit()
    except Exception:
        session.rollback()
        raise
    if sum(added.values()) and session.get_bind().dialect.name == "postgresql":
        # Planner statistics for the tables just filled: until autovacuum gets round to it,
        # plans made for empty tables took a portfolio query 20 s at 10,000 grants.
        session.execute(sa.text("ANALYZE"))
        session.commit()
    elapsed = time.perf_counter() - started
    totals = table_counts(session)
    width = max(len(name) for name in totals)
    click.echo(f"{'table':<{width}}  {'added':>10}  {'total':>10}")
    for name, total in totals.items():
        if total or added[name]:
            click.echo(f"{name:<{width}}  {added[name]:>10,}  {total:>10,}")
    click.echo(f"{'all rows':<{width}}  {sum(added.values()):>10,}  "
               f"{sum(totals.values()):>10,}")
    click.echo(f"Done in {elapsed:.1f} s.")
