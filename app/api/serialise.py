"""The JSON shapes of the API, built from what the read queries return.

Money is always ``{"amount": "1234.50", "currency": "EUR"}``: the exact
decimal as a string, never a float. Dates are ISO 8601 strings. Enumerations
are their stored values (``"phase_1"``), not their labels.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from flask import url_for

from app.grants.queries import AttributedOutput, GrantRow
from app.lineage.queries import DownstreamTrial
from app.models import (
    Confidentiality,
    EvidenceKind,
    Grant,
    Output,
    OutputType,
)
from app.outputs.queries import AttributionRow, LinkRow, OutputRow, registry_url
from app.portfolio.queries import CountRow, GroupFunding, PortfolioFigures
from app.records.listing import Page

from .queries import OutputDates, RegistryId, TrialRow

E = TypeVar("E", bound=enum.Enum)
CENT = Decimal("0.01")


def money(amount: Decimal | None, currency: str = "EUR") -> dict[str, str] | None:
    """An exact amount and its ISO 4217 currency; None stays None."""
    if amount is None:
        return None
    return {"amount": format(amount.quantize(CENT), "f"), "currency": currency}


def decimal(value: Decimal | None) -> str | None:
    """An exact decimal (a share, a ratio) as a string."""
    return None if value is None else format(value, "f")


def day(value: date | datetime | None) -> str | None:
    """An ISO 8601 date (or timestamp); None stays None."""
    return None if value is None else value.isoformat()


def from_label(enum_class: type[E], label: str) -> E:
    """The member with this label (the pages' queries give labels; the API gives values)."""
    for member in enum_class:
        if member.label == label:  # type: ignore[attr-defined]
            return member
    raise ValueError(f"no {enum_class.__name__} labelled {label!r}")


def _grant_urls(grant_id: int, reference: str) -> dict[str, str]:
    return {
        "url": url_for("api.grant", reference=reference, _external=True),
        "html_url": url_for("grants.detail", grant_id=grant_id, _external=True),
    }


def _output_urls(output_id: int) -> dict[str, str]:
    return {
        "url": url_for("api.output", output_id=output_id, _external=True),
        "html_url": url_for("outputs.detail", output_id=output_id, _external=True),
    }


# --------------------------------------------------------------------------- pages


def page(
    result: Page[Any], items: list[dict[str, Any]], endpoint: str, echo: dict[str, Any]
) -> dict[str, Any]:
    """The envelope of every list: items, counts and links to the neighbouring pages."""

    def link(number: int) -> str:
        return url_for(endpoint, _external=True, **echo, page=number)

    return {
        "items": items,
        "page": result.page,
        "per_page": result.per_page,
        "total": result.total,
        "pages": result.pages,
        "links": {
            "self": link(result.page),
            "first": link(1),
            "last": link(result.pages),
            "prev": link(result.page - 1) if result.page > 1 else None,
            "next": link(result.page + 1) if result.page < result.pages else None,
        },
    }


# --------------------------------------------------------------------------- grants


def grant_summary(row: GrantRow, fictional: bool) -> dict[str, Any]:
    """A grant as the list gives it."""
    return {
        "id": row.id,
        "reference": row.reference,
        "title": row.title,
        "status": row.status.value,
        "programme": row.programme,
        "institution": row.institution,
        "award_date": day(row.award_date),
        "amount": money(row.amount_awarded, row.currency),
        "amount_eur": money(row.amount_eur),
        "confidentiality": row.confidentiality.value,
        "is_fictional": fictional,
        **_grant_urls(row.id, row.reference),
    }


def _visible(grant: Grant | None, levels: Sequence[Confidentiality]) -> bool:
    return grant is not None and grant.deleted_at is None and grant.confidentiality in levels


def _attributed(output: AttributedOutput) -> dict[str, Any]:
    return {
        "id": output.output_id,
        "title": output.title,
        "type": from_label(OutputType, output.type_label).value,
        "year": output.year,
        "share": decimal(output.share),
        "evidence": from_label(EvidenceKind, output.evidence_label).value,
        "confirmed": output.confirmed,
        "is_trial": output.is_trial,
        **_output_urls(output.output_id),
    }


def _registry(ids: Iterable[Any]) -> list[dict[str, Any]]:
    return [
        {"scheme": r.scheme.value, "value": r.value, "url": registry_url(r.scheme, r.value)}
        for r in ids
    ]


def _downstream(trial: DownstreamTrial) -> dict[str, Any]:
    return {
        "id": trial.output_id,
        "title": trial.title,
        "acronym": trial.acronym,
        "phase": trial.phase.value,
        "status": trial.status.value,
        "registry_ids": _registry(trial.registry_ids),
        "start_date": day(trial.start_date),
        "first_patient_date": day(trial.first_patient_date),
        "depth": trial.depth,
        **_output_urls(trial.output_id),
    }


def grant_detail(
    grant: Grant,
    outputs: Sequence[AttributedOutput],
    trials: Sequence[DownstreamTrial],
    levels: Sequence[Confidentiality],
) -> dict[str, Any]:
    """A grant with its people, money, outputs and the trials downstream of it."""
    pi = grant.principal_investigator
    previous = grant.previous_grant if _visible(grant.previous_grant, levels) else None
    return {
        "id": grant.id,
        "reference": grant.reference,
        "title": grant.title,
        "summary": grant.summary,
        "status": grant.status.value,
        "programme": grant.programme.name if grant.programme else None,
        "programme_id": grant.programme_id,
        "research_areas": sorted(area.name for area in grant.areas),
        "institution": {
            "id": grant.host.id,
            "name": grant.host.name,
            "country": grant.host.country,
            "ror_id": grant.host.ror_id,
        },
        "principal_investigator": {
            "name": f"{pi.given_names} {pi.family_name}".strip(),
            "orcid": pi.orcid,
        }
        if pi
        else None,
        "investigators": [
            {
                "name": f"{i.person.given_names} {i.person.family_name}".strip(),
                "orcid": i.person.orcid,
                "role": i.role.value,
            }
            for i in sorted(grant.investigators, key=lambda i: (i.person.family_name, i.person_id))
        ],
        "award_date": day(grant.award_date),
        "start_date": day(grant.start_date),
        "end_date": day(grant.end_date),
        "amount": money(grant.amount_awarded, grant.currency),
        "amount_eur": money(grant.amount_eur),
        "payments": [
            {
                "due_date": day(p.due_date),
                "paid_date": day(p.paid_date),
                "amount": money(p.amount, p.currency),
                "amount_eur": money(p.amount_eur),
            }
            for p in grant.payments
        ],
        "co_funding": [
            {
                "funder": c.funder.name,
                "amount": money(c.amount, c.currency),
                "amount_eur": money(c.amount_eur),
            }
            for c in sorted(grant.co_fundings, key=lambda c: (c.funder.name, c.id))
        ],
        "previous_grant": {
            "reference": previous.reference,
            "relation": grant.relation_to_previous.value if grant.relation_to_previous else None,
            "url": url_for("api.grant", reference=previous.reference, _external=True),
        }
        if previous
        else None,
        "continued_by": [
            {
                "reference": c.reference,
                "url": url_for("api.grant", reference=c.reference, _external=True),
            }
            for c in sorted(grant.continuations, key=lambda c: c.reference)
            if _visible(c, levels)
        ],
        "outputs": [_attributed(o) for o in outputs],
        "trials": [_downstream(t) for t in trials],
        "confidentiality": grant.confidentiality.value,
        "is_fictional": grant.is_fictional,
        **_grant_urls(grant.id, grant.reference),
    }


# --------------------------------------------------------------------------- outputs


def output_summary(row: OutputRow, dates: OutputDates) -> dict[str, Any]:
    """An output as the list gives it."""
    return {
        "id": row.id,
        "type": row.type.value,
        "title": row.title,
        "date": day(dates.date),
        "date_precision": dates.precision.value,
        "doi": row.doi,
        "journal": row.journal,
        "is_trial": row.is_trial,
        "phase": row.phase.value if row.phase else None,
        "registry_ids": row.registry_ids,
        "grant_count": row.grants,
        "confidentiality": row.confidentiality.value,
        "is_fictional": dates.is_fictional,
        **_output_urls(row.id),
    }


def _link(row: LinkRow) -> dict[str, Any]:
    return {
        "id": row.other_id,
        "title": row.other_title,
        "type": row.other_type.value,
        "relation": row.relation.value,
        "evidence": row.evidence.value,
        "confirmed": row.confirmed_at is not None,
        "is_trial": row.other_is_trial,
        **_output_urls(row.other_id),
    }


def output_detail(
    output: Output,
    attributions: Sequence[AttributionRow],
    upstream: Sequence[LinkRow],
    downstream: Sequence[LinkRow],
) -> dict[str, Any]:
    """An output with its typed details, the grants credited and its links."""
    publication = output.publication
    trial = output.trial
    funding = output.further_funding
    patent = output.patent
    return {
        "id": output.id,
        "type": output.type.value,
        "title": output.title,
        "date": day(output.output_date),
        "date_precision": output.date_precision.value,
        "description": output.description,
        "external_url": output.url,
        "publication": {
            "doi": publication.doi,
            "pmid": publication.pmid,
            "pmcid": publication.pmcid,
            "journal": publication.journal,
            "year": publication.year,
            "volume": publication.volume,
            "pages": publication.pages,
            "authors": publication.authors,
        }
        if publication
        else None,
        "trial": {
            "acronym": trial.acronym,
            "phase": trial.phase.value,
            "status": trial.status.value,
            "registry_ids": _registry(trial.registry_ids),
            "enrolment_planned": trial.enrolment_planned,
            "enrolment_actual": trial.enrolment_actual,
            "condition": trial.condition,
            "intervention": trial.intervention,
            "sponsor": trial.sponsor.name if trial.sponsor else None,
            "start_date": day(trial.start_date),
            "first_patient_date": day(trial.first_patient_date),
            "completion_date": day(trial.completion_date),
            "lineage_url": url_for("api.trial_lineage", identifier=output.id, _external=True),
        }
        if trial
        else None,
        "further_funding": {
            "funder": funding.funder.name if funding.funder else funding.funder_name,
            "amount": money(funding.amount, funding.currency),
            "amount_eur": money(funding.amount_eur),
        }
        if funding
        else None,
        "patent": {"number": patent.number, "office": patent.office, "status": patent.status.value}
        if patent
        else None,
        "grants": [
            {
                "reference": a.reference,
                "title": a.grant_title,
                "share": decimal(a.share),
                "evidence": a.evidence.value,
                "confirmed": a.confirmed_at is not None,
                **_grant_urls(a.grant_id, a.reference),
            }
            for a in attributions
            if not a.grant_deleted
        ],
        "stands_on": [_link(row) for row in upstream if not row.other_deleted],
        "built_on_by": [_link(row) for row in downstream if not row.other_deleted],
        "confidentiality": output.confidentiality.value,
        "is_fictional": output.is_fictional,
        **_output_urls(output.id),
    }


# --------------------------------------------------------------------------- trials


def _registry_ids(ids: Sequence[RegistryId]) -> list[dict[str, Any]]:
    return _registry(ids)


def trial_summary(row: TrialRow) -> dict[str, Any]:
    """A clinical trial as the trial list gives it."""
    return {
        "id": row.id,
        "title": row.title,
        "acronym": row.acronym,
        "phase": row.phase.value,
        "status": row.status.value,
        "registry_ids": _registry_ids(row.registry_ids),
        "enrolment_planned": row.enrolment_planned,
        "enrolment_actual": row.enrolment_actual,
        "condition": row.condition,
        "intervention": row.intervention,
        "sponsor": row.sponsor,
        "start_date": day(row.start_date),
        "first_patient_date": day(row.first_patient_date),
        "completion_date": day(row.completion_date),
        "confidentiality": row.confidentiality.value,
        "is_fictional": row.is_fictional,
        "lineage_url": url_for("api.trial_lineage", identifier=row.id, _external=True),
        **_output_urls(row.id),
    }


# --------------------------------------------------------------------------- portfolio


def _group(group: GroupFunding) -> dict[str, Any]:
    return {
        "id": group.id,
        "key": group.key,
        "label": group.label,
        "grant_count": group.grant_count,
        "amount": money(group.amount_eur),
    }


def _counts(rows: Sequence[CountRow]) -> list[dict[str, Any]]:
    return [{"key": r.key, "label": r.label, "count": r.count} for r in rows]


def portfolio(figures: PortfolioFigures) -> dict[str, Any]:
    """Portfolio figures of a period: funding, outputs, trials, time to output, leverage."""
    return {
        "from": figures.start_year,
        "to": figures.end_year,
        "grant_count": figures.grant_count,
        "total_awarded": money(figures.total_awarded_eur),
        "unconverted_grant_count": figures.unconverted_grant_count,
        "real_terms": {
            "base_year": figures.real_terms_base_year,
            "total": money(figures.real_terms_total_eur),
            "missing_years": list(figures.real_terms_missing_years),
        }
        if figures.real_terms_base_year is not None
        else None,
        "funding_by_year": [
            {"year": y.year, "grant_count": y.grant_count, "amount": money(y.amount_eur)}
            for y in figures.funding_by_year
        ],
        "by_programme": [_group(g) for g in figures.by_programme],
        "by_area": [_group(g) for g in figures.by_area],
        "by_institution": [_group(g) for g in figures.by_institution],
        "other_institutions": _group(figures.other_institutions)
        if figures.other_institutions
        else None,
        "institution_count": figures.institution_count,
        "by_country": [_group(g) for g in figures.by_country],
        "output_count": figures.output_count,
        "outputs_by_type": _counts(figures.outputs_by_type),
        "outputs_by_year": [{"year": y.year, "count": y.count} for y in figures.outputs_by_year],
        "trial_count": figures.trial_count,
        "trials_by_phase": _counts(figures.trials_by_phase),
        "trials_by_status": _counts(figures.trials_by_status),
        "grants_with_outputs": figures.grants_with_outputs,
        "median_months_to_first_output": decimal(figures.median_months_to_first_output),
        "mean_months_to_first_output": decimal(figures.mean_months_to_first_output),
        "further_funding": money(figures.further_funding_eur),
        "leverage": decimal(figures.leverage),
        "completed_grant_count": figures.completed_grant_count,
        "completed_with_outputs_count": figures.completed_with_outputs_count,
        "completed_with_outputs_share": decimal(figures.completed_with_outputs_share),
        "overdue_report_count": figures.overdue_count,
        "has_fictional_data": figures.has_fictional_data,
        "method_notes": list(figures.method_notes),
    }
