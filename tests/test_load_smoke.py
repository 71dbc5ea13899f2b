"""The load test's runner, briefly, on the test engine: no error under concurrency.

``tests/load/run.py`` sets up a fresh database (SQLite WAL, or a scratch
PostgreSQL database next to TEST_DATABASE_URL's), serves it with gunicorn and
runs locust in a subprocess (never imported here: it monkeypatches the standard
library with gevent). Staff users save their own grants from the first second
and trustees download an issued report, so even a short run covers the writes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.load import run

pytestmark = pytest.mark.slow


def test_a_short_mixed_load_has_no_errors(tmp_path: Path) -> None:
    engine = (
        "postgresql"
        if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")
        else "sqlite"
    )
    status = run.main(
        [
            "--engine", engine,
            "--duration", "6",
            "--users", "6",
            "--workers", "2",
            "--scale", "0",
            "--reports", "1",
            "--out", str(tmp_path),
        ]
    )  # fmt: skip
    result = json.loads((tmp_path / f"load-{engine}.json").read_text())
    assert result["problems"] == [], result["problems"]
    assert status == 0
    assert result["failures"] == 0 and result["requests"] > 20
    assert result["server_log"]["database_is_locked"] == 0
    assert result["server_log"]["tracebacks"] == 0
    assert result["server_log"]["http_5xx"] == 0
    done = {(row["method"], row["name"]) for row in result["by_request"] if row["requests"]}
    assert ("POST", "/grants/[id]/edit") in done  # every staff user saves first
    assert ("GET", "/reports/issued/[id].pdf") in done  # every trustee downloads first
    assert result["overall"]["p95_ms"] is not None
