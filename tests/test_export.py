"""`grantpath export grants`: the plain grant register as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from sqlalchemy import orm as so

from app.exports.formulas import safe_cell
from app.exports.queries import GRANT_COLUMNS
from app.models import Confidentiality

from . import factories as f


def _export(runner, *args: str) -> list[dict[str, str]]:
    result = runner.invoke(args=["export", "grants", "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_register_has_one_row_per_grant(runner, session: so.Session) -> None:
    org = f.organisation(session, name="Istituto Demo")
    f.grant(session, reference="EXP-1", host=org, award_date=date(1995, 6, 1),
            amount_awarded=Decimal("150000000"), currency="ITL", amount_eur=Decimal("77468.53"))
    f.grant(session, reference="EXP-2", host=org, award_date=date(2010, 6, 1),
            amount_awarded=Decimal("99999.99"))
    session.commit()
    rows = {row["reference"]: row for row in _export(runner)}
    assert tuple(next(iter(rows.values())).keys()) == GRANT_COLUMNS
    assert rows["EXP-1"]["currency"] == "ITL"
    assert rows["EXP-1"]["amount"] == "150000000.00"
    assert rows["EXP-1"]["amount_eur"] == "77468.53"
    assert rows["EXP-1"]["institution"] == "Istituto Demo"
    assert rows["EXP-2"]["amount"] == "99999.99"


def test_confidentiality_is_respected(runner, session: so.Session) -> None:
    f.grant(session, reference="PUB-1")
    f.grant(session, reference="INT-1", confidentiality=Confidentiality.INTERNAL)
    session.commit()
    public = {row["reference"] for row in _export(runner, "--confidentiality", "public")}
    everything = {row["reference"] for row in _export(runner)}
    assert "PUB-1" in public and "INT-1" not in public
    assert {"PUB-1", "INT-1"} <= everything


def test_deleted_grants_are_left_out(runner, session: so.Session) -> None:
    from app.models import utcnow

    f.grant(session, reference="DEL-1", deleted_at=utcnow())
    session.commit()
    assert "DEL-1" not in {row["reference"] for row in _export(runner)}


def test_formulas_are_neutralised(runner, session: so.Session) -> None:
    f.grant(session, reference="FORM-1", title='=HYPERLINK("http://evil.example","x")')
    session.commit()
    rows = {row["reference"]: row for row in _export(runner)}
    assert rows["FORM-1"]["title"].startswith("'=")
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert safe_cell("-1") == "'-1"
    assert safe_cell("plain") == "plain"
    assert safe_cell(5) == 5


def test_export_to_file(runner, session: so.Session, tmp_path) -> None:
    f.grant(session, reference="FILE-1")
    session.commit()
    target = tmp_path / "grants.csv"
    result = runner.invoke(args=["export", "grants", "-o", str(target)])
    assert result.exit_code == 0
    assert "FILE-1" in target.read_text(encoding="utf-8")
