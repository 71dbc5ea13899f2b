"""`grantpath import grants|outputs|links|donations|priceindex|360giving FILE [--dry-run]`."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.models import ImportStatus

from .services import KINDS, counts_text, run_import


@click.group("import")
def import_cli() -> None:
    """Import records from CSV or XLSX files, or 360Giving JSON (all or nothing; see --dry-run)."""


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name in some containers
        return "cli"


def _command(kind: str) -> click.Command:
    @click.command(kind, help=f"{KINDS[kind].label} from {KINDS[kind].formats}. {KINDS[kind].help}")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
    @with_appcontext
    def command(file: Path, dry_run: bool) -> None:
        session = db.session
        try:
            result = run_import(
                session, kind, file.name, file.read_bytes(), dry_run=dry_run, actor=_actor()
            )
            session.commit()
        except Exception:
            session.rollback()
            raise
        run, outcome = result.run, result.outcome
        for note in outcome.notes:
            click.echo(note, err=True)
        if run.status == ImportStatus.FAILED:
            for error in outcome.errors:
                click.echo(error.line(), err=True)
            if outcome.error_count > len(outcome.errors):
                click.echo(
                    f"... and {outcome.error_count - len(outcome.errors)} more errors.", err=True
                )
            click.echo(
                f"Import #{run.id} refused: {outcome.error_count} error(s); nothing was written.",
                err=True,
            )
            sys.exit(1)
        verb = "Checked" if dry_run else "Imported"
        click.echo(f"{verb} {file.name} as import #{run.id}: {counts_text(run)}.")

    return command


for _kind in KINDS:
    import_cli.add_command(_command(_kind))
