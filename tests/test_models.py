"""Integrity lives in the database: constraints hold even against raw SQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy import orm as so
from sqlalchemy.orm.exc import StaleDataError

from app.models import (
    Attribution,
    EvidenceKind,
    Grant,
    GrantRelation,
    LinkRelation,
    OutputLink,
    Publication,
    TrialRegistry,
    TrialRegistryId,
)

from . import factories as f


def _fails(session: so.Session, statement: str, **params: object) -> None:
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.execute(sa.text(statement), params)


def test_grant_reference_is_unique(session: so.Session) -> None:
    f.grant(session, reference="DUP-1")
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        f.grant(session, reference="DUP-1")


def test_database_refuses_bad_grant_rows(session: so.Session) -> None:
    g = f.grant(session)
    update = "UPDATE grants SET {} WHERE id = :id"
    _fails(session, update.format("amount_awarded = -1"), id=g.id)
    _fails(session, update.format("status = 'dreaming'"), id=g.id)
    _fails(session, update.format("currency = 'eur'"), id=g.id)
    _fails(session, update.format("confidentiality = 'secret'"), id=g.id)
    _fails(session, update.format("start_date = '2020-01-02', end_date = '2020-01-01'"), id=g.id)
    _fails(session, update.format("previous_grant_id = id, relation_to_previous = 'renewal'"),
           id=g.id)
    # A predecessor without saying how it relates is refused too.
    other = f.grant(session)
    _fails(session, update.format("previous_grant_id = :other"), id=g.id, other=other.id)


def test_grant_continues_an_earlier_one(session: so.Session) -> None:
    first = f.grant(session, award_date=date(1995, 3, 1))
    second = f.grant(session, previous_grant=first, relation_to_previous=GrantRelation.RENEWAL)
    session.expire_all()
    assert session.get(Grant, first.id).continuations[0].id == second.id


def test_money_round_trips_exactly(session: so.Session) -> None:
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("1234567890.01")]
    for amount in amounts:
        f.grant(session, amount_awarded=amount, amount_eur=amount, reference=f"M-{amount}")
    session.expire_all()
    total = session.scalar(
        sa.select(sa.func.sum(Grant.amount_awarded)).where(Grant.reference.like("M-%"))
    )
    assert total == Decimal("1234567890.31")
    assert isinstance(total, Decimal)


def test_money_refuses_fractions_of_a_cent(session: so.Session) -> None:
    with pytest.raises(sa.exc.StatementError, match="decimal places"), session.begin_nested():
        f.grant(session, amount_awarded=Decimal("1.005"))


def test_timestamps_are_utc(session: so.Session) -> None:
    g = f.grant(session)
    session.expire_all()
    assert session.get(Grant, g.id).created_at.tzinfo == UTC
    with pytest.raises(sa.exc.StatementError, match="naive"), session.begin_nested():
        g.deleted_at = datetime(2020, 1, 1)
        session.flush()


def test_stale_edit_is_refused(app, session: so.Session) -> None:
    g = f.grant(session)
    session.commit()
    from app.extensions import db

    with app.app_context():
        other = db.sessionmaker()
        mine = other.get(Grant, g.id)
        g.title = "Changed by someone else"
        session.commit()
        mine.title = "My stale edit"
        with pytest.raises(StaleDataError):
            other.commit()
        other.rollback()
        other.close()


def test_identifiers_are_unique(session: so.Session) -> None:
    first = f.output(session)
    second = f.output(session)
    session.add(Publication(output=first, doi="10.1038/nature03889"))
    session.flush()
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.add(Publication(output=second, doi="10.1038/nature03889"))
        session.flush()
    t1, t2 = f.trial(session), f.trial(session)
    session.add(TrialRegistryId(trial=t1.trial, scheme=TrialRegistry.NCT, value="NCT03269071"))
    session.flush()
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.add(TrialRegistryId(trial=t2.trial, scheme=TrialRegistry.NCT, value="NCT03269071"))
        session.flush()


def test_attribution_share_and_confirmation(session: so.Session) -> None:
    g, o = f.grant(session), f.output(session)
    session.add(Attribution(grant=g, output=o, share=Decimal("0.3333"),
                            evidence=EvidenceKind.ACKNOWLEDGED))
    session.flush()
    insert = ("INSERT INTO attributions (grant_id, output_id, share, evidence, created_at, "
              "updated_at, version) VALUES (:g, :o, :share, 'acknowledged', :now, :now, 1)")
    now = datetime(2020, 1, 1)
    other = f.output(session)
    _fails(session, insert, g=g.id, o=other.id, share=0, now=now)
    _fails(session, insert, g=g.id, o=other.id, share=10001, now=now)
    _fails(session, insert, g=g.id, o=o.id, share=5000, now=now)  # duplicate pair
    _fails(session, "UPDATE attributions SET confirmed_at = :now WHERE grant_id = :g",
           g=g.id, now=now)


def test_output_cannot_link_to_itself(session: so.Session) -> None:
    o = f.output(session)
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.add(OutputLink(output=o, upstream=o, relation=LinkRelation.BUILDS_ON))
        session.flush()


def test_deleting_an_output_removes_its_links_and_details(session: so.Session) -> None:
    a, b = f.output(session), f.output(session)
    session.add(Publication(output=a, doi="10.1/x"))
    session.add(OutputLink(output=b, upstream=a, relation=LinkRelation.CITES))
    session.flush()
    session.execute(sa.delete(type(a)).where(type(a).id == a.id))
    assert session.scalar(sa.select(sa.func.count()).select_from(OutputLink)
                          .where(OutputLink.upstream_output_id == a.id)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Publication)
                          .where(Publication.output_id == a.id)) == 0
