"""`grantpath report annual YEAR|FROM-TO|trial ID|grant REF|donor ID|fund ID [-o FILE] [--html]`."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.jobs import render
from app.lineage.queries import OutputNotFound, resolve_output_id
from app.models import Confidentiality
from app.visibility import ALL_LEVELS
from reports.annual import (
    TRUSTEE_LEVELS,
    annual_archive_pdf,
    annual_html,
    annual_pdf,
    build_annual_report,
    default_foundation_name,
    period_from_text,
)
from reports.dossier import (
    GrantNotFound,
    build_dossier,
    dossier_archive_pdf,
    dossier_html,
    dossier_pdf,
    find_grant_id,
)
from reports.pdf import ASSETS_DIR
from reports.statement import (
    StatementNotFound,
    build_donor_statement,
    build_fund_statement,
    statement_archive_pdf,
    statement_html,
    statement_pdf,
)
from reports.trial import build_trial_report, trial_archive_pdf, trial_html, trial_pdf

LEVELS = {
    "public": (Confidentiality.PUBLIC,),
    "trustees": TRUSTEE_LEVELS,
    "internal": ALL_LEVELS,
}


def _foundation() -> str:
    return default_foundation_name(db.session, current_app.config["FOUNDATION_NAME"])


def _write(output: str, content: str | bytes) -> None:
    path = Path(output)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    size = path.stat().st_size
    click.echo(f"Wrote {path} ({size / 1024:,.0f} KB).", err=True)


# The HTML written by --html refers to the assets by absolute file URL, so it
# opens in a browser from anywhere.
ASSET_URL = ASSETS_DIR.as_uri() + "/"

LABEL_WIDTH = max(len(stage) for stage in render.STAGES)


@contextmanager
def progress_bar() -> Iterator[render.Progress]:
    """The renders' progress(stage, percent) callable for the CLI, on stderr.

    A bar on a terminal; elsewhere (logs, pipes) one line per stage.
    """
    stream = sys.stderr
    if not stream.isatty():
        shown: list[str] = []

        def lines(stage: str, percent: int) -> None:
            if not shown or shown[-1] != stage:
                shown.append(stage)
                click.echo(f"{stage}…", err=True)

        yield lines
        return
    with click.progressbar(
        length=100, label=render.COLLECT.ljust(LABEL_WIDTH), file=stream, show_eta=False
    ) as bar:

        def update(stage: str, percent: int) -> None:
            bar.label = stage.ljust(LABEL_WIDTH)
            bar.update(max(0, percent - bar.pos))

        yield update
        bar.label = render.DONE.ljust(LABEL_WIDTH)
        bar.update(100 - bar.pos)


def _render(
    build: Callable[[], Any],
    html: Callable[..., str],
    pdf: Callable[[Any], bytes],
    as_html: bool,
    expected_pages: Callable[[Any], int | None] = lambda _: None,
) -> str | bytes:
    """Build and render a document in the foreground, with a progress bar over its stages."""
    with progress_bar() as progress:
        if as_html:
            return render.staged_html(build, lambda d: html(d, asset_url=ASSET_URL), progress)[1]
        return render.staged_pdf(build, pdf, progress, expected_pages=expected_pages)[1]


level_option = click.option(
    "--confidentiality",
    type=click.Choice(list(LEVELS)),
    default="trustees",
    show_default=True,
    help="Most confidential level of records to include.",
)


html_option = click.option(
    "--html", "as_html", is_flag=True, help="Write the HTML preview instead of a PDF."
)
archive_option = click.option(
    "--archive",
    is_flag=True,
    help="Write the archive variant: PDF/A-3u with the report's figures attached as CSV.",
)


def _suffix(as_html: bool, archive: bool) -> str:
    return "html" if as_html else "pdfa.pdf" if archive else "pdf"


@click.group("report")
def report_cli() -> None:
    """Render reports as PDF (or their HTML preview)."""


@report_cli.command("annual")
@click.argument("period")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: annual-PERIOD.pdf, or .html with --html).",
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML preview instead of a PDF.")
@click.option(
    "--register/--no-register",
    default=True,
    show_default=True,
    help="Include the appendix register of the grants awarded in the period.",
)
@level_option
@archive_option
@with_appcontext
def annual(
    period: str,
    output: str | None,
    as_html: bool,
    register: bool,
    confidentiality: str,
    archive: bool,
) -> None:
    """The annual impact report of YEAR or FROM-TO (e.g. 2023 or 2015-2024), as a draft."""
    try:
        chosen = period_from_text(period)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="PERIOD") from None
    content = _render(
        lambda: build_annual_report(
            db.session,
            chosen,
            foundation=_foundation(),
            levels=LEVELS[confidentiality],
            include_register=register,
        ),
        annual_html,
        annual_archive_pdf if archive else annual_pdf,
        as_html,
        expected_pages=render.annual_pages,
    )
    name = f"annual-{chosen.start_year}" + ("" if chosen.is_single_year else f"-{chosen.end_year}")
    _write(output or f"{name}.{_suffix(as_html, archive)}", content)


@report_cli.command("trial")
@click.argument("trial_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: trial-ID.pdf, or .html with --html).",
)
@click.option("--html", "as_html", is_flag=True, help="Write the HTML preview instead of a PDF.")
@level_option
@archive_option
@with_appcontext
def trial(
    trial_id: str, output: str | None, as_html: bool, confidentiality: str, archive: bool
) -> None:
    """The pathway report of one trial, by registry id (NCT..., EudraCT...) or output id."""
    try:
        output_id = resolve_output_id(db.session, trial_id)
        content = _render(
            lambda: build_trial_report(
                db.session, output_id, foundation=_foundation(), levels=LEVELS[confidentiality]
            ),
            trial_html,
            trial_archive_pdf if archive else trial_pdf,
            as_html,
        )
    except OutputNotFound as exc:
        raise click.ClickException(str(exc)) from None
    _write(output or f"trial-{output_id}.{_suffix(as_html, archive)}", content)


def _output_option(default: str) -> Any:
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, writable=True),
        help=f"File to write (default: {default}.pdf, or .html with --html).",
    )


@report_cli.command("grant")
@click.argument("reference")
@_output_option("grant-REF")
@html_option
@level_option
@archive_option
@with_appcontext
def grant(
    reference: str, output: str | None, as_html: bool, confidentiality: str, archive: bool
) -> None:
    """The dossier of one grant, by reference (e.g. FMR-2014-001) or id, as a draft."""
    levels = LEVELS[confidentiality]
    try:
        grant_id = find_grant_id(db.session, reference, levels)
    except GrantNotFound as exc:
        raise click.ClickException(str(exc)) from None
    content = _render(
        lambda: build_dossier(db.session, grant_id, foundation=_foundation(), levels=levels),
        dossier_html,
        dossier_archive_pdf if archive else dossier_pdf,
        as_html,
    )
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", reference.strip())
    _write(output or f"grant-{name}.{_suffix(as_html, archive)}", content)


@report_cli.command("donor")
@click.argument("donor_id", type=int)
@_output_option("donor-ID")
@html_option
@level_option
@archive_option
@with_appcontext
def donor(
    donor_id: int, output: str | None, as_html: bool, confidentiality: str, archive: bool
) -> None:
    """A donor's impact statement, by donor id, as a draft.

    An anonymous donor is named only with --confidentiality internal (a statement
    for staff to send to the donor); at other levels the name reads "Anonymous donor".
    """
    levels = LEVELS[confidentiality]
    try:
        content = _render(
            lambda: build_donor_statement(
                db.session, donor_id, foundation=_foundation(), levels=levels
            ),
            statement_html,
            statement_archive_pdf if archive else statement_pdf,
            as_html,
        )
    except StatementNotFound as exc:
        raise click.ClickException(str(exc)) from None
    _write(output or f"donor-{donor_id}.{_suffix(as_html, archive)}", content)


@report_cli.command("fund")
@click.argument("fund_id", type=int)
@_output_option("fund-ID")
@html_option
@level_option
@archive_option
@with_appcontext
def fund(
    fund_id: int, output: str | None, as_html: bool, confidentiality: str, archive: bool
) -> None:
    """A fund's impact statement, by fund id, as a draft."""
    levels = LEVELS[confidentiality]
    try:
        content = _render(
            lambda: build_fund_statement(
                db.session, fund_id, foundation=_foundation(), levels=levels
            ),
            statement_html,
            statement_archive_pdf if archive else statement_pdf,
            as_html,
        )
    except StatementNotFound as exc:
        raise click.ClickException(str(exc)) from None
    _write(output or f"fund-{fund_id}.{_suffix(as_html, archive)}", content)
