"""Benchmark: re-download of an issued report (quality bar: median <= 50 ms).

In the demo database a staff user made for the purpose issues the annual
report of the latest year with grants (rendered once, not timed), logs a test
client in through the real form, and times 50 GETs of
``/reports/issued/<id>.pdf``: load the stored bytes, write and commit the
DOWNLOAD audit event, send the PDF. Every response is checked byte for byte
against the stored sha256. Afterwards the rows it made (the issued report, the
user and every audit event of either) are deleted and committed, whatever
happened, so the shared database is left as it was.

Run alone: ``.venv/bin/python -m tests.bench.run --only redownload``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from typing import Any

import sqlalchemy as sa
from flask import Flask

from tests.bench import median, percentile

REQUESTS = 50
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def _latest_year_with_grants(session: Any) -> int:
    from app.models import Grant

    latest = session.scalar(
        sa.select(sa.func.max(Grant.award_date)).where(Grant.deleted_at.is_(None))
    )
    if latest is None:
        raise RuntimeError("no grants in the demo database")
    return int(latest.year)


def _clean_up(app: Flask, user_id: int | None, report_ids: list[int]) -> None:
    """Delete the benchmark's user, issued reports and their audit events; commit."""
    from app.extensions import db
    from app.models import AuditEvent, IssuedReport, User

    with app.app_context():
        session = db.session
        session.rollback()
        mine = [AuditEvent.entity_type == "issued_reports", AuditEvent.entity_id.in_(report_ids)]
        conditions = [sa.and_(*mine)] if report_ids else []
        if user_id is not None:
            conditions += [
                AuditEvent.user_id == user_id,
                sa.and_(AuditEvent.entity_type == "users", AuditEvent.entity_id == user_id),
            ]
        if conditions:
            session.execute(sa.delete(AuditEvent).where(sa.or_(*conditions)))
        if report_ids:
            session.execute(sa.delete(IssuedReport).where(IssuedReport.id.in_(report_ids)))
        if user_id is not None:
            session.execute(sa.delete(User).where(User.id == user_id))
        session.commit()


def bench_redownload(demo_app: Flask) -> dict[str, Any]:
    """Median and p95 of GET /reports/issued/<id>.pdf by a logged-in client, 50 requests."""
    from app.auth.services import create_user
    from app.extensions import db
    from app.models import Role
    from app.reports.issuing import issue_annual_report
    from reports.annual import default_foundation_name
    from reports.annual_data import Period

    email = f"bench-redownload-{secrets.token_hex(4)}@example.org"
    password = secrets.token_urlsafe(16)
    user_id: int | None = None
    report_ids: list[int] = []
    try:
        with demo_app.app_context():
            session = db.session
            user = create_user(session, email, password, Role.STAFF)
            user_id = user.id
            session.commit()
            year = _latest_year_with_grants(session)
            foundation = default_foundation_name(session, demo_app.config["FOUNDATION_NAME"])
            issued = issue_annual_report(
                session, Period(year, year), foundation=foundation, user=user
            )
            report_ids.append(issued.id)
            session.commit()
            report_id, digest, size = issued.id, issued.sha256, issued.size_bytes

        client = demo_app.test_client()
        token = CSRF.search(client.get("/login").get_data(as_text=True))
        if token is None:
            raise RuntimeError("no log-in form with a CSRF token at /login")
        login = client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token.group(1)}
        )
        if login.status_code != 302 or "/login" in login.headers.get("Location", ""):
            raise RuntimeError(f"log-in refused for the benchmark user ({login.status_code})")

        url = f"/reports/issued/{report_id}.pdf"
        client.get(url)  # warm-up: first-request costs are not a re-download's
        timings: list[float] = []
        for _ in range(REQUESTS):
            began = time.perf_counter()
            response = client.get(url)
            body = response.get_data()
            timings.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200 or hashlib.sha256(body).hexdigest() != digest:
                raise RuntimeError(f"{url}: HTTP {response.status_code} or bytes differ")
    finally:
        _clean_up(demo_app, user_id, report_ids)
    return {
        "redownload_ms": round(median(timings), 2),
        "redownload_p95_ms": round(percentile(timings, 0.95), 2),
        # Text, not figures: kept in the JSON only.
        "redownload_pdf": f"annual report {year}, {size / 1024:,.0f} KB",
    }
