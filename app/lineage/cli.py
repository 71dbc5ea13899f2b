"""`grantpath lineage ID [--json] [--confirmed-only]`: the pathway behind a trial."""

from __future__ import annotations

import json
import textwrap
from datetime import date
from decimal import Decimal
from typing import Any

import click
from flask.cli import with_appcontext

from app.extensions import db
from app.visibility import ALL_LEVELS

from .queries import CENT, Lineage, OutputNotFound, lineage, resolve_output_id


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value.quantize(CENT))


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def lineage_to_json(result: Lineage) -> dict[str, Any]:
    """The documented JSON shape of a lineage: output, grants, outputs, summary."""
    root = result.output
    trial = None
    if root.trial is not None:
        trial = {
            "acronym": root.trial.acronym,
            "phase": root.trial.phase.value,
            "status": root.trial.status.value,
            "registry_ids": [
                {"scheme": r.scheme.value, "value": r.value} for r in root.trial.registry_ids
            ],
            "start_date": _day(root.trial.start_date),
            "first_patient_date": _day(root.trial.first_patient_date),
            "completion_date": _day(root.trial.completion_date),
        }
    summary = result.summary
    return {
        "output": {
            "id": root.id,
            "title": root.title,
            "type": root.type.value,
            "date": _day(root.date),
            "trial": trial,
        },
        "grants": [
            {
                "reference": g.reference,
                "title": g.title,
                "award_date": _day(g.award_date),
                "amount": _money(g.amount),
                "currency": g.currency,
                "amount_eur": _money(g.amount_eur),
                "institution": g.institution,
                "investigators": list(g.investigators),
                "depth": g.depth,
            }
            for g in result.grants
        ],
        "outputs": [
            {"id": o.id, "title": o.title, "type": o.type.value, "year": o.year, "depth": o.depth}
            for o in result.outputs
        ],
        "summary": {
            "grant_count": summary.grant_count,
            "total_awarded_eur": _money(summary.total_awarded_eur),
            "attributed_eur": _money(summary.attributed_eur),
            "first_grant_year": summary.first_grant_year,
            "trial_start_year": summary.trial_start_year,
            "years_to_trial": summary.years_to_trial,
            "institution_count": summary.institution_count,
            "researcher_count": summary.researcher_count,
        },
    }


def _eur(value: Decimal | None) -> str:
    return "—" if value is None else f"EUR {value:,.2f}"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def format_lineage(result: Lineage) -> str:
    """A readable summary and grant table for the terminal."""
    root, summary = result.output, result.summary
    heading = root.title
    if root.trial is not None and root.trial.acronym and not root.title.startswith(
        root.trial.acronym
    ):
        heading = f"{root.trial.acronym}: {root.title}"
    lines = [f"{heading} (output {root.id})"]
    if root.trial is not None:
        trial = root.trial
        ids = ", ".join(r.label for r in trial.registry_ids) or "no registry id"
        lines.append(f"{trial.phase.label}, {trial.status.label}; {ids}")
        if trial.first_patient_date:
            lines.append(f"First patient: {trial.first_patient_date.isoformat()}")
        elif trial.start_date:
            lines.append(f"Started: {trial.start_date.isoformat()}")
    scope = "confirmed links and attributions only" if result.confirmed_only else "all links"
    lines.append(
        f"Pathway: {len(result.outputs)} upstream outputs, {len(result.edges)} links ({scope})"
    )
    lines.append("")
    years = "—"
    if summary.years_to_trial is not None:
        years = f"{summary.first_grant_year} → {summary.trial_start_year} " \
                f"({summary.years_to_trial} years)"
    attributed = _eur(summary.attributed_eur)
    if summary.attributed_eur is not None:
        attributed += f" ({summary.shared_grant_count} of {summary.grant_count} grants have shares)"
    total = _eur(summary.total_awarded_eur)
    if summary.unconverted_grant_count:
        total += f" ({summary.unconverted_grant_count} grants without a euro amount)"
    for label, value in (
        ("Grants", str(summary.grant_count)),
        ("Total awarded", total),
        ("Attributed", attributed),
        ("First grant to first patient", years),
        ("Institutions", str(summary.institution_count)),
        ("Researchers", str(summary.researcher_count)),
    ):
        lines.append(f"  {label:<30}{value}")
    if result.grants:
        lines.append("")
        header = (f"  {'Reference':<14}{'Awarded':<12}{'Amount':>22}{'EUR':>16}  {'Depth':>5}  "
                  f"{'Institution':<30}  Investigators")
        lines.append(header)
        lines.append("  " + "-" * (len(header) + 8))
        for g in result.grants:
            amount = f"{g.currency} {g.amount:,.2f}"
            eur = "—" if g.amount_eur is None else f"{g.amount_eur:,.2f}"
            people = ", ".join(g.investigators) or "—"
            lines.append(
                f"  {_shorten(g.reference, 13):<14}{g.award_date.isoformat():<12}{amount:>22}"
                f"{eur:>16}  {g.depth:>5}  {_shorten(g.institution, 30):<30}  {people}"
            )
    lines.append("")
    lines.extend(textwrap.wrap("Method: " + result.method_note, width=100))
    return "\n".join(lines)


@click.command("lineage")
@click.argument("identifier", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--confirmed-only", is_flag=True,
              help="Follow only confirmed links and count only confirmed attributions.")
@with_appcontext
def lineage_command(identifier: str, as_json: bool, confirmed_only: bool) -> None:
    """The pathway behind a trial: ID is an output id or a trial registry id
    (NCT, EudraCT, EU CT, ISRCTN, WHO UTN)."""
    session = db.session
    try:
        output_id = resolve_output_id(session, identifier)
        result = lineage(session, output_id, ALL_LEVELS, confirmed_only=confirmed_only)
    except OutputNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(lineage_to_json(result), indent=2, ensure_ascii=False))
    else:
        click.echo(format_lineage(result))
