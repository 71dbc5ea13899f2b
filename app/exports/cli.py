"""`grantpath export ...`."""

from __future__ import annotations

import csv
import sys
from typing import TextIO

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.models import Confidentiality
from app.visibility import ALL_LEVELS

from .formulas import safe_cell
from .queries import GRANT_COLUMNS, grant_register_rows

LEVEL_CHOICES = {
    "public": (Confidentiality.PUBLIC,),
    "trustees": (Confidentiality.PUBLIC, Confidentiality.TRUSTEES),
    "internal": ALL_LEVELS,
}


@click.group("export")
def export_cli() -> None:
    """Export registers for use outside grantpath."""


def _write_csv(out: TextIO, columns: tuple[str, ...], rows: object) -> int:
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:  # type: ignore[attr-defined]
        writer.writerow({key: safe_cell(value) for key, value in row.items()})
        count += 1
    return count


@export_cli.command("grants")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="File to write (default: standard output).")
@click.option("--confidentiality", type=click.Choice(list(LEVEL_CHOICES)), default="internal",
              show_default=True, help="Most confidential level to include.")
@with_appcontext
def export_grants(fmt: str, output: str | None, confidentiality: str) -> None:
    """The grant register, one row per grant."""
    rows = grant_register_rows(db.session, LEVEL_CHOICES[confidentiality])
    if output is None:
        count = _write_csv(sys.stdout, GRANT_COLUMNS, rows)
    else:
        with open(output, "w", newline="", encoding="utf-8") as fh:
            count = _write_csv(fh, GRANT_COLUMNS, rows)
        click.echo(f"Wrote {count} grants to {output}.", err=True)
