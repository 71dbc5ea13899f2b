"""File downloads as attachments: list exports, job results, issued reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, request

from app.audit.services import record
from app.db import write_transaction
from app.extensions import db
from app.models import AuditAction


def attachment(
    body: bytes | Iterable[str], filename: str, mimetype: str, *, sha256: str | None = None
) -> Response:
    """A file to save, not to show; private to the browser that asked.

    Stored files that never change (issued reports) name their hash as the ETag, so a
    browser's copy is re-validated without sending the file again; the rest is not cached.
    """
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if sha256 is None:
        response.headers["Cache-Control"] = "private, no-store"
        return response
    response.headers["Cache-Control"] = "private"
    response.set_etag(sha256)
    response.make_conditional(request)  # a 304 when the browser's copy is this one
    return response


def audited_attachment(
    summary: str,
    content: bytes,
    filename: str,
    mimetype: str,
    *,
    entity: Any = None,
    sha256: str | None = None,
) -> Response:
    """Record the download in the audit trail (a GET: in a write transaction of its own),
    then send the file."""
    with write_transaction(db.session):
        record(db.session, AuditAction.DOWNLOAD, entity=entity, summary=summary)
    return attachment(content, filename, mimetype, sha256=sha256)
