"""Hostile text in every field a report prints: nothing fetched, attached or rendered as markup.

A local HTTP server runs for the test; the hostile strings point at it, at
``file://`` paths and at attachments. The PDFs must render, the server must
see no request, the PDF must embed no file, and the strings must appear as
text. The URL fetcher is also tested on its own.
"""

from __future__ import annotations

import base64
import http.server
import io
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import orm as so

from app.models import (
    Attribution,
    ClinicalTrial,
    Donation,
    Donor,
    DonorKind,
    EvidenceKind,
    Fund,
    GrantStatus,
    LinkRelation,
    OutputLink,
    OutputType,
    Programme,
    ProgrammeKind,
    ResearchArea,
    Role,
    TrialPhase,
    TrialStatus,
)
from reports.annual import annual_html, build_annual_report
from reports.annual_data import Period
from reports.pdf import ASSETS_DIR, AssetFetcher, URLRefused, render_pdf
from reports.trial import build_trial_report, trial_html

from . import factories

YEAR = 2023


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a stylesheet and records the path."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        body = b"body { background: red }"
        self.send_response(200)
        self.send_header("Content-Type", "text/css")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server on a free port: (base URL, paths requested)."""
    seen: list[str] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def hostile(base: str) -> dict[str, str]:
    return {
        "img_file": '<img src="file:///etc/passwd">',
        "attachment": '<link rel="attachment" href="file:///etc/hostname">',
        "import": f"<style>@import url({base}/import.css)</style>",
        "img_http": f'<img src="{base}/pixel.png">',
        "css_url": f'<p style="background: url({base}/bg.png)">x</p>',
        "stylesheet": f'<link rel="stylesheet" href="{base}/sheet.css">',
    }


@pytest.fixture
def hostile_data(session: so.Session, server: tuple[str, list[str]]) -> dict[str, Any]:
    """A trial of the period, its grant, institution, people and donors, all with hostile text."""
    base, _ = server
    h = hostile(base)
    host = factories.organisation(session, name=f"Institute {h['attachment']} {h['img_http']}")
    pi = factories.person(session, given_names=h["img_file"][:120], family_name="Evil")
    programme = Programme(
        name=f"Call {h['css_url']}"[:200], kind=ProgrammeKind.ANNUAL_CALL, year=YEAR
    )
    area = ResearchArea(name=h["stylesheet"][:120])
    session.add_all([programme, area])
    session.flush()
    grant = factories.grant(
        session,
        reference="EVIL-001",
        title=f"Grant {h['img_file']} {h['img_http']}",
        summary=f"{h['attachment']} {h['import']}",
        award_date=date(YEAR, 3, 1),
        status=GrantStatus.ACTIVE,
        host=host,
        principal_investigator=pi,
        programme=programme,
        amount_awarded=Decimal("12345.67"),
        amount_eur=Decimal("12345.67"),
    )
    grant.areas.append(area)
    earlier = factories.output(
        session, title=f"Paper {h['import']} {h['stylesheet']}", output_date=date(2020, 1, 1)
    )
    trial = factories.output(
        session,
        type=OutputType.MEDICAL_PRODUCT,
        title=f"Trial {h['css_url']} {h['img_file']}",
        output_date=date(2022, 1, 1),
    )
    trial.trial = ClinicalTrial(
        phase=TrialPhase.PHASE_2,
        status=TrialStatus.RECRUITING,
        acronym="<b>EVIL</b>",
        start_date=date(2022, 1, 1),
    )
    session.add(
        OutputLink(
            output_id=trial.id, upstream_output_id=earlier.id, relation=LinkRelation.BUILDS_ON
        )
    )
    session.add(
        Attribution(
            grant_id=grant.id,
            output_id=earlier.id,
            evidence=EvidenceKind.ACKNOWLEDGED,
            evidence_text=h["attachment"],
        )
    )
    fund = Fund(name=f"Fund {h['attachment']}"[:200])
    donor = Donor(name=f"Donor {h['img_http']}", kind=DonorKind.INDIVIDUAL)
    session.add_all([fund, donor])
    session.flush()
    session.add(
        Donation(
            donor_id=donor.id,
            fund_id=fund.id,
            received_on=date(YEAR, 4, 1),
            amount=Decimal("100.00"),
            currency="EUR",
            amount_eur=Decimal("100.00"),
        )
    )
    session.commit()
    return {"hostile": h, "trial_id": trial.id}


def no_embedded_files(pdf: bytes) -> bool:
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    names = root.get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        return False
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                return False
    return True


def squeezed(text: str) -> str:
    return "".join(text.split())


def check_pdf(html: str, server: tuple[str, list[str]], expected: list[str]) -> None:
    _, seen = server
    fetcher = AssetFetcher()
    pdf = render_pdf(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert seen == []  # the local server was never asked for anything
    assert fetcher.refused == []  # nothing hostile even reached the fetcher
    assert no_embedded_files(pdf)
    pages = PdfReader(io.BytesIO(pdf)).pages
    text = squeezed(" ".join(page.extract_text() or "" for page in pages))
    for literal in expected:
        assert squeezed(literal) in text, literal


def test_hostile_text_in_the_annual_report_is_inert(
    session: so.Session, hostile_data: dict[str, Any], server: tuple[str, list[str]]
) -> None:
    h = hostile_data["hostile"]
    report = build_annual_report(session, Period(YEAR, YEAR), foundation=h["import"])
    html = annual_html(report)
    # Escaped in the HTML: no element is made of user text.
    for value in h.values():
        assert value not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "&lt;b&gt;EVIL&lt;/b&gt;" in html
    check_pdf(
        html, server, [h["img_file"], h["img_http"], "<b>EVIL</b>", f"Institute {h['attachment']}"]
    )


def test_hostile_text_in_the_trial_report_is_inert(
    session: so.Session, hostile_data: dict[str, Any], server: tuple[str, list[str]]
) -> None:
    h = hostile_data["hostile"]
    report = build_trial_report(session, hostile_data["trial_id"], foundation="Foundation")
    html = trial_html(report)
    for value in h.values():
        assert value not in html
    check_pdf(html, server, [h["css_url"], h["import"], "<b>EVIL</b>"])


def test_hostile_text_is_escaped_in_the_preview(
    hostile_data: dict[str, Any], client: FlaskClient, logged_in: Any
) -> None:
    logged_in(Role.TRUSTEE)
    html = client.get(f"/reports/annual/{YEAR}/preview").get_data(as_text=True)
    for value in hostile_data["hostile"].values():
        assert value not in html
    assert "&lt;link rel=&#34;attachment&#34;" in html


def test_even_raw_markup_cannot_fetch_or_attach(server: tuple[str, list[str]]) -> None:
    """Defence in depth: were markup ever to slip through, the fetcher still refuses it."""
    base, seen = server
    h = hostile(base)
    html = (
        f"<html><head>{h['attachment']}{h['stylesheet']}{h['import']}</head><body>"
        f"{h['img_file']}{h['img_http']}{h['css_url']}"
        f'<a rel="attachment" href="file:///etc/hostname">a</a>'
        f'<svg xmlns="http://www.w3.org/2000/svg"><image href="{base}/svg.png"/></svg>'
        "</body></html>"
    )
    fetcher = AssetFetcher()
    pdf = render_pdf(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert seen == []
    assert no_embedded_files(pdf)
    assert "file:///etc/passwd" in fetcher.refused
    assert "file:///etc/hostname" in fetcher.refused
    assert any(url.startswith(base) for url in fetcher.refused)


# --------------------------------------------------------------------------- the fetcher


def test_fetcher_refuses_everything_but_assets_and_data(
    server: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, seen = server
    fetcher = AssetFetcher()
    refused = [
        "file:///etc/passwd",
        f"{base}/x.css",
        "http://127.0.0.1/",
        "https://example.org/font.ttf",
        "ftp://127.0.0.1/x",
        f"{ASSETS_DIR.as_uri()}/../pdf.py",
        f"{ASSETS_DIR.as_uri()}/fonts/../../pdf.py",
        f"{ASSETS_DIR.as_uri()}/%2e%2e/pdf.py",
        f"{ASSETS_DIR.as_uri()}/missing.css",
        f"{ASSETS_DIR.as_uri()}/fonts",  # a folder, not a file
        f"file://evil.example{ASSETS_DIR}/print.css",  # a remote host
        "javascript:alert(1)",
        "about:blank",
    ]
    for url in refused:
        with pytest.raises(URLRefused):
            fetcher.fetch(url)
    assert seen == []
    assert fetcher.refused == refused

    css = fetcher.fetch(f"{ASSETS_DIR.as_uri()}/print.css")
    assert css.content_type == "text/css"
    assert b"@page" in css.read()
    font = fetcher.fetch(f"{ASSETS_DIR.as_uri()}/fonts/DejaVuSansCondensed.ttf")
    assert font.content_type == "font/ttf"
    font.close()
    svg = "<svg xmlns='http://www.w3.org/2000/svg'/>"
    data = fetcher.fetch("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())
    assert data.read() == svg.encode()


def test_fetcher_refuses_symbolic_links_out_of_its_folder(tmp_path: Path) -> None:
    root = tmp_path / "assets"
    root.mkdir()
    (root / "ok.css").write_text("p {}")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    (root / "link.css").symlink_to(outside)
    (root / "dir").symlink_to(tmp_path)
    fetcher = AssetFetcher(root)
    assert fetcher.fetch((root / "ok.css").as_uri()).read() == b"p {}"
    for url in ((root / "link.css").as_uri(), (root / "dir" / "secret.txt").as_uri()):
        with pytest.raises(URLRefused):
            fetcher.fetch(url)
