"""`grantpath export ...`."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TextIO

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.giving360 import export as giving360_export
from app.giving360 import queries as giving360_queries
from app.giving360.settings import Settings, SettingsProblem
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
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
@click.option(
    "--confidentiality",
    type=click.Choice(list(LEVEL_CHOICES)),
    default="internal",
    show_default=True,
    help="Most confidential level to include.",
)
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


@export_cli.command("360giving")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File to write (default: standard output).",
)
@click.option(
    "--prefix",
    default=None,
    help="Grant-id prefix from 360Giving, e.g. 360G-xyz (default: GIVING360_PREFIX).",
)
@click.option(
    "--funder-org-id", default=None, help="The foundation's org-id (default: FUNDER_ORG_ID)."
)
@click.option(
    "--funder-name",
    default=None,
    help="The foundation's name (default: FUNDER_NAME or FOUNDATION_NAME).",
)
@click.option(
    "--confidentiality",
    type=click.Choice(list(LEVEL_CHOICES)),
    default="public",
    show_default=True,
    help="Most confidential level to include.",
)
@with_appcontext
def export_360giving(
    fmt: str,
    output: str | None,
    prefix: str | None,
    funder_org_id: str | None,
    funder_name: str | None,
    confidentiality: str,
) -> None:
    """The grants as a 360Giving JSON package (valid against the standard's schema)."""
    levels = LEVEL_CHOICES[confidentiality]
    try:
        settings = Settings.current(
            prefix=prefix, funder_org_id=funder_org_id, funder_name=funder_name
        )
        who = giving360_export.publisher(db.session, settings)
    except SettingsProblem as problem:
        raise click.UsageError(str(problem)) from None
    if not giving360_queries.exportable_count(db.session, levels):
        click.echo(
            f"No {confidentiality} grants to export: a 360Giving file needs at least "
            "one grant. Nothing was written.",
            err=True,
        )
        sys.exit(1)
    if output is None:
        tally = giving360_export.write_package(db.session, who, levels, sys.stdout)
    else:
        tally = giving360_export.write_package_file(db.session, who, levels, Path(output))
    amounts = ", ".join(
        f"{total:,.2f} {currency}" for currency, total in sorted(tally.totals.items())
    )
    click.echo(
        f"Wrote {tally.grants} grants ({amounts}) as 360Giving JSON"
        f"{' to ' + output if output else ''}.",
        err=True,
    )
