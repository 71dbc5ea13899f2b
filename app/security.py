"""HTTP security headers on every response, and log records that cannot forge lines."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

# Characters that end a line in a log file or a log viewer (str.splitlines' set), and
# the other controls, ESC included, which can rewrite what a terminal shows. Tab stays.
_LOG_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, 0x85) if code != 0x09}
_LOG_ESCAPES |= {0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _set_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def one_line(text: str) -> str:
    """The text with CR, LF and other control characters escaped (\\r, \\n, \\x1b...)."""
    return text.translate(_LOG_ESCAPES)


class OneLineLogRecord(logging.LogRecord):
    """A log record whose message stays on one line, whatever values were put in it.

    A user-supplied value (a URL path, a file name, an email) holding CR/LF would
    otherwise start a forged line in the log. Only the message is escaped: a
    traceback is formatted separately and keeps its lines.
    """

    def getMessage(self) -> str:
        return one_line(super().getMessage())


def _one_line_factory(previous: Any) -> Any:
    """Wrap a record factory someone else installed: escape its records' messages."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # bad format arguments: logging itself reports them on emit
            return record
        record.msg, record.args = one_line(message), None
        return record

    factory.one_line = True  # type: ignore[attr-defined]
    return factory


def install_one_line_log_records() -> None:
    """Make every log record of this process one line (idempotent).

    Process-wide on purpose: records of Flask ("Exception on <path>"), Werkzeug,
    gunicorn and our modules all reach handlers we do not configure ourselves.
    """
    current = logging.getLogRecordFactory()
    if current is OneLineLogRecord or getattr(current, "one_line", False):
        return
    if current is logging.LogRecord:
        logging.setLogRecordFactory(OneLineLogRecord)
    else:
        logging.setLogRecordFactory(_one_line_factory(current))


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
    install_one_line_log_records()
