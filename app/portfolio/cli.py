"""`grantpath priceindex import FILE [--dry-run]`: load annual price-index values."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.extensions import db

from .priceindex import import_price_index

MAX_ERRORS_SHOWN = 50


@click.group("priceindex")
def priceindex_cli() -> None:
    """The price index used for real-terms figures."""


@priceindex_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
@with_appcontext
def import_command(file: Path, dry_run: bool) -> None:
    """Load a CSV of price-index values (columns: year, value, source); all or nothing.

    Comma or semicolon separated, UTF-8 with or without BOM. Years already
    loaded are updated; importing the same file again changes nothing.
    """
    session = db.session
    try:
        done = import_price_index(session, file.name, file.read_bytes(), dry_run=dry_run)
        session.commit()
    except Exception:
        session.rollback()
        raise
    result = done.result
    if not result.ok:
        for error in result.errors[:MAX_ERRORS_SHOWN]:
            click.echo(f"{file.name}: {error}", err=True)
        if len(result.errors) > MAX_ERRORS_SHOWN:
            click.echo(f"... and {len(result.errors) - MAX_ERRORS_SHOWN} more errors", err=True)
        click.echo(
            f"Nothing imported: {len(result.errors)} error(s) (import run {done.run.id}).", err=True
        )
        raise SystemExit(1)
    counts = result.counts
    verb = "Would import" if dry_run else "Imported"
    click.echo(
        f"{verb} {counts['rows']} row(s): {counts['inserted']} added, {counts['updated']} "
        f"changed, {counts['unchanged']} unchanged (import run {done.run.id})."
    )
