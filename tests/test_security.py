"""Security across features: sessions, cookies, headers, logs, upload limits, dependency floors.

The per-feature checks live with their features (CSRF and lockout in
test_auth, hostile text in test_report_safety, the 413 of /imports in
test_imports, every route for every role in test_permissions).
"""

from __future__ import annotations

import io
import json
import logging
import tomllib
import uuid
import zipfile
from importlib.metadata import version
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from packaging.requirements import Requirement
from packaging.version import Version

from app.config import load_config
from app.imports import grants as grant_import
from app.imports.services import run_import
from app.models import AuditEvent, ImportStatus, Role, User
from app.reports.issuing import ANNUAL, issue_report
from app.security import one_line

from .conftest import TEST_PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def _login(client, email: str, password: str = TEST_PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


# ---------------------------------------------------------------- sessions and cookies


def test_login_starts_a_fresh_session(app: Flask, client, make_user) -> None:
    """Session fixation: nothing from before the log-in survives it, and the cookie changes."""
    user = make_user(Role.STAFF)
    with client.session_transaction() as planted:
        planted["planted"] = "by an attacker"
    before = client.get_cookie("session").value
    assert _login(client, user.email).status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as fresh:
        assert "planted" not in fresh
        assert fresh["_user_id"] == user.get_id()
    # Whoever planted the first cookie holds an anonymous session still.
    attacker = app.test_client()
    attacker.set_cookie("session", before)
    assert attacker.get("/").status_code == 302


def test_a_session_cookie_replayed_from_another_browser_is_dropped(client, logged_in) -> None:
    """Flask-Login's strong session protection ties the session to the browser that logged in."""
    logged_in(Role.STAFF)
    assert client.get("/").status_code == 200
    replayed = client.get("/", headers={"User-Agent": "Mozilla/5.0 (somewhere else)"})
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_a_session_cookie_is_worthless_after_logout(app: Flask, client, logged_in) -> None:
    logged_in(Role.STAFF)
    stolen = client.get_cookie("session").value
    copy = app.test_client()
    copy.set_cookie("session", stolen)
    assert copy.get("/").status_code == 200  # the copy works while the user is logged in
    assert client.post("/logout").status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/").status_code == 302


def test_a_password_reset_logs_the_user_out_everywhere(
    app: Flask, client, make_user, session
) -> None:
    from app.admin.services import reset_password

    user = make_user(Role.TRUSTEE)
    assert _login(client, user.email).status_code == 302
    assert client.get("/").status_code == 200
    reset_password(session, session.get(User, user.id), "a brand new long passphrase")
    session.commit()
    assert client.get("/").status_code == 302
    events = session.scalars(sa.select(AuditEvent).where(AuditEvent.entity_id == user.id)).all()
    assert all("session_token" not in (event.changes or {}) for event in events)


def test_production_cookies_are_secure(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    production = load_config(str(tmp_path), {"ENV_NAME": "production", "SECRET_KEY": "k"})
    development = load_config(str(tmp_path), {"ENV_NAME": "development", "SECRET_KEY": "k"})
    for cookie in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert production[f"{cookie}_SECURE"] is True
        assert development[f"{cookie}_SECURE"] is False  # http://127.0.0.1 must work
        for config in (production, development):
            assert config[f"{cookie}_HTTPONLY"] is True
            assert config[f"{cookie}_SAMESITE"] == "Lax"


def test_login_cookie_carries_every_flag_when_secure(
    app: Flask, client, make_user, monkeypatch
) -> None:
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    user = make_user(Role.STAFF)
    response = _login(client, user.email, base_url="https://grantpath.example")
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


# ---------------------------------------------------------------- headers


def _assert_security_headers(response, *, html: bool = False) -> None:
    headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    if html:
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy


def test_security_headers_on_pages_redirects_and_errors(client, logged_in) -> None:
    _assert_security_headers(client.get("/login"), html=True)
    redirect = client.get("/grants")
    assert redirect.status_code == 302
    _assert_security_headers(redirect)
    logged_in(Role.STAFF)
    _assert_security_headers(client.get("/grants"), html=True)
    missing = client.get("/grants/999999999")
    assert missing.status_code == 404
    _assert_security_headers(missing, html=True)
    static = client.get("/static/app.css")
    _assert_security_headers(static)
    static.close()


def test_security_headers_on_json_and_pdf(client, logged_in, session) -> None:
    user = logged_in(Role.STAFF)
    lookup = client.get("/lookup/grants?q=te")
    assert lookup.status_code == 200 and lookup.mimetype == "application/json"
    _assert_security_headers(lookup)
    issued = issue_report(
        session,
        ANNUAL,
        {"start_year": 2023, "end_year": 2023},
        b"%PDF-1.7\n%%EOF\n",
        title="Annual impact report 2023",
        year=2023,
        user=session.get(User, user.id),
        data={"total": "0"},
    )
    session.commit()
    pdf = client.get(f"/reports/issued/{issued.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    _assert_security_headers(pdf)


def test_security_headers_on_a_server_error(app: Flask, client, logged_in, monkeypatch) -> None:
    logged_in(Role.STAFF)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken(kind: str) -> str:
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "lookup.search", broken)
    response = client.get("/lookup/grants")
    assert response.status_code == 500
    _assert_security_headers(response, html=True)
    assert "boom" not in response.get_data(as_text=True)


# ---------------------------------------------------------------- logs


def test_passwords_and_the_secret_key_never_reach_the_logs(
    app: Flask, client, make_user, runner, session, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = uuid.uuid4().hex[:8]
    wrong, initial, reset, typed = (f"{kind} password {marker}!" for kind in "wirc")
    admin = make_user(Role.ADMIN)
    assert _login(client, admin.email).status_code == 302
    assert _login(app.test_client(), admin.email, wrong).status_code == 200  # failed log-in
    created = client.post(
        "/admin/users/new",
        data={
            "email": f"new-{marker}@example.org",
            "name": "",
            "role": "staff",
            "password": initial,
            "confirm": initial,
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    new_user = session.scalar(sa.select(User).where(User.email == f"new-{marker}@example.org"))
    reset_page = client.post(
        f"/admin/users/{new_user.id}/password", data={"password": reset, "confirm": reset}
    )
    assert reset_page.status_code == 302
    assert _login(app.test_client(), new_user.email, reset).status_code == 302
    result = runner.invoke(
        args=[
            "users",
            "create",
            f"cli-{marker}@example.org",
            "--role",
            "staff",
            "--password-stdin",
        ],
        input=typed + "\n",
    )
    assert result.exit_code == 0, result.output

    logged = caplog.text + result.output
    for secret in (TEST_PASSWORD, wrong, initial, reset, typed, app.config["SECRET_KEY"]):
        assert secret not in logged
    # Nor in the audit trail, which records each of these events, nor their hashes.
    session.expire_all()
    trail = json.dumps(
        [(e.actor, e.summary, e.changes) for e in session.scalars(sa.select(AuditEvent))],
        default=str,
    )
    for secret in (TEST_PASSWORD, wrong, initial, reset, typed, "$argon2", "$scrypt"):
        assert secret not in trail


def test_line_breaks_in_logged_values_are_escaped() -> None:
    assert one_line("eve\r\n2026-01-01 INFO forged") == "eve\\r\\n2026-01-01 INFO forged"
    assert one_line("a\x1b[2Jb\u2028c\x85d\x00e\tf") == "a\\x1b[2Jb\\u2028c\\x85d\\x00e\tf"
    record = logging.getLogRecordFactory()(
        "app", logging.WARNING, __file__, 1, "login failed for %s", ("eve\nforged",), None
    )
    assert record.getMessage() == "login failed for eve\\nforged"


def test_a_url_with_crlf_cannot_forge_a_log_line(
    app: Flask, client, logged_in, monkeypatch, caplog
) -> None:
    """Flask logs 'Exception on <path>' with the decoded path: %0D%0A must stay on the line."""
    logged_in(Role.STAFF)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def broken(kind: str) -> str:
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "lookup.search", broken)
    with caplog.at_level(logging.ERROR):
        response = client.get("/lookup/x%0D%0A2026-01-01%20CRITICAL%20forged")
    assert response.status_code == 500
    assert not any(line.startswith("2026-01-01") for line in caplog.text.splitlines())
    assert "/lookup/x\\r\\n2026-01-01 CRITICAL forged [GET]" in caplog.text
    # Tracebacks keep their lines.
    assert "Traceback (most recent call last):" in caplog.text
    assert "RuntimeError: boom" in caplog.text


def test_a_file_name_with_crlf_cannot_forge_a_log_line(session, monkeypatch, caplog) -> None:
    """The import logs the uploaded file's name when it fails; names can hold line breaks."""

    def failing(self, rows) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(grant_import.GrantImport, "run", failing)
    name = "grants.csv\r\n2026-01-01 CRITICAL forged.csv"
    data = (ROOT / "tests" / "data" / "imports" / "grants_utf8_bom.csv").read_bytes()
    with caplog.at_level(logging.ERROR):
        result = run_import(session, "grants", name, data, dry_run=False, actor="test")
    assert result.run.status == ImportStatus.FAILED
    assert "import of grants.csv\\r\\n2026-01-01 CRITICAL forged.csv" in caplog.text
    assert not any(line.startswith("2026-01-01") for line in caplog.text.splitlines())


# ---------------------------------------------------------------- uploads


def test_every_form_is_capped_in_size_even_before_login(app: Flask, client, monkeypatch) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 20 * 1024 * 1024
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = client.post("/login", data={"email": "x@example.org", "password": "x" * 4096})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Request Entity Too Large" in page and "Traceback" not in page
    _assert_security_headers(response, html=True)


XLSX_HEADER = ["reference", "title", "institution", "status", "award_date", "amount", "currency"]


def _xlsx_with_entity(entity: str) -> bytes:
    """A valid grants workbook whose worksheet declares an XML entity and uses it as a title."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(XLSX_HEADER)
    sheet.append(["X-1", "PLACEHOLDER", "Somewhere", "active", "2020-01-01", "1000", "EUR"])
    plain = io.BytesIO()
    workbook.save(plain)
    hostile = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(hostile, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert b"<t>PLACEHOLDER</t>" in content
                prologue = f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [{entity}]>'
                content = prologue.encode() + content.replace(b"<t>PLACEHOLDER</t>", b"<t>&x;</t>")
            target.writestr(item, content)
    return hostile.getvalue()


@pytest.mark.parametrize("kind", ["internal", "external file"])
def test_xlsx_entities_are_never_expanded(session, tmp_path: Path, kind: str) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    if kind == "internal":
        entity = '<!ENTITY x "EXPANDED-ENTITY">'
    else:
        entity = f'<!ENTITY x SYSTEM "{secret.as_uri()}">'
    data = _xlsx_with_entity(entity)
    result = run_import(session, "grants", "hostile.xlsx", data, dry_run=True, actor="test")
    assert result.run.status == ImportStatus.FAILED
    assert "cannot be opened" in result.run.errors[0]["reason"]  # defusedxml refused the DTD
    shown = json.dumps(result.run.errors) + json.dumps(result.outcome.notes)
    assert "TOP-SECRET-CONTENT" not in shown and "EXPANDED-ENTITY" not in shown
    assert not any(row.label.startswith(("EXPANDED", "TOP")) for row in result.outcome.preview)


# ---------------------------------------------------------------- dependencies

# The oldest versions we accept, each for a reason that matters to this app.
SECURITY_FLOORS = {
    "weasyprint": ("70", "earlier versions let stylesheets and metadata bypass the URL fetcher"),
    "werkzeug": ("3.0.6", "CVE-2024-49767: multipart uploads could exhaust memory"),
    "jinja2": ("3.1.6", "CVE-2024-34064 (xmlattr), CVE-2024-56326, CVE-2025-27516 (sandbox)"),
    "flask": ("3.1.1", "CVE-2025-47278: sessions signed with the wrong fallback key"),
    "flask-wtf": ("1.2", "CSRF protection on every POST, the version our CSRF tests cover"),
    "defusedxml": ("0.7.1", "XLSX parsed without entity expansion (openpyxl uses it)"),
    "openpyxl": ("3.1", "reads worksheets through defusedxml when it is installed"),
    "gunicorn": ("23.0", "CVE-2024-1135 and CVE-2024-6827: HTTP request smuggling"),
    "pillow": ("10.3", "CVE-2024-28219 and CVE-2023-50447, in images WeasyPrint decodes"),
    "fonttools": ("4.43", "CVE-2023-45139: XXE in font subsetting, which WeasyPrint runs"),
}


@pytest.mark.parametrize("package", sorted(SECURITY_FLOORS))
def test_installed_dependencies_meet_their_security_floor(package: str) -> None:
    floor, reason = SECURITY_FLOORS[package]
    installed = Version(version(package))
    assert installed >= Version(floor), f"{package} {installed} < {floor}: {reason}"


def test_openpyxl_parses_through_defusedxml() -> None:
    from openpyxl.xml import DEFUSEDXML
    from openpyxl.xml.functions import iterparse

    assert DEFUSEDXML is True
    assert iterparse.__module__.startswith("defusedxml")


def test_pyproject_refuses_weasyprint_before_70() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    weasyprint = next(
        Requirement(text)
        for text in project["dependencies"]
        if Requirement(text).name.lower() == "weasyprint"
    )
    assert not weasyprint.specifier.contains("69.9") and weasyprint.specifier.contains("70")
