"""Small builders of valid records for tests; each returns the flushed object."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import count
from typing import Any

from sqlalchemy import orm as so

from app.models import (
    ClinicalTrial,
    GrantStatus,
    Organisation,
    OrganisationKind,
    Output,
    OutputType,
    Person,
    TrialPhase,
    TrialStatus,
)
from app.models import Grant as GrantModel

_seq = count(1)


def organisation(session: so.Session, **fields: Any) -> Organisation:
    n = next(_seq)
    values: dict[str, Any] = {"name": f"Test Institute {n}", "kind": OrganisationKind.UNIVERSITY,
                              "country": "IT"}
    values.update(fields)
    org = Organisation(**values)
    session.add(org)
    session.flush()
    return org


def person(session: so.Session, **fields: Any) -> Person:
    n = next(_seq)
    values: dict[str, Any] = {"family_name": f"Rossi{n}", "given_names": "Anna"}
    values.update(fields)
    p = Person(**values)
    session.add(p)
    session.flush()
    return p


def grant(session: so.Session, **fields: Any) -> GrantModel:
    n = next(_seq)
    values: dict[str, Any] = {
        "reference": f"T-{n:05d}", "title": f"Test grant {n}", "status": GrantStatus.ACTIVE,
        "award_date": date(2010, 1, 1), "amount_awarded": Decimal("1000.00"), "currency": "EUR",
        "amount_eur": Decimal("1000.00"),
    }
    values.update(fields)
    if "host" not in values and "host_organisation_id" not in values:
        values["host"] = organisation(session)
    g = GrantModel(**values)
    session.add(g)
    session.flush()
    return g


def output(session: so.Session, **fields: Any) -> Output:
    n = next(_seq)
    values: dict[str, Any] = {"type": OutputType.PUBLICATION, "title": f"Output {n}",
                              "output_date": date(2012, 1, 1)}
    values.update(fields)
    o = Output(**values)
    session.add(o)
    session.flush()
    return o


def trial(session: so.Session, **fields: Any) -> Output:
    o = output(session, type=OutputType.MEDICAL_PRODUCT, **fields)
    o.trial = ClinicalTrial(phase=TrialPhase.PHASE_1, status=TrialStatus.COMPLETED)
    session.flush()
    return o
