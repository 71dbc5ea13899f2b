"""Benchmark: export the 100,000-grant database as a 360Giving JSON package.

Reads only (the package goes to a temporary file). Times
``write_package_file`` for the public grants, as ``grantpath export 360giving``
does, three times; the figure is the median. The first 500 grants of the last
package are validated against the standard's schema, to be sure the timed
output is a real 360Giving file. Target: at most 30 s.

Run alone: ``.venv/bin/python -m tests.bench.bench_360giving DATABASE_URL``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import orm as so

from app.giving360 import export, schema
from app.giving360.settings import Settings
from app.models import Confidentiality

RUNS = 3
TARGET_S = 30
CHECKED = 500
SETTINGS = Settings("360G-bench", "IT-CF-80012650158", "Benchmark foundation")


def bench_export_360giving(session: so.Session) -> dict[str, Any]:
    """Median seconds to export the public grants of the scale database."""
    who = export.publisher(session, SETTINGS)
    levels = (Confidentiality.PUBLIC,)
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="grantpath-bench-360g-") as folder:
        target = Path(folder) / "package.json"
        for _ in range(RUNS):
            started = time.perf_counter()
            tally = export.write_package_file(session, who, levels, target)
            times.append(time.perf_counter() - started)
            session.rollback()
        size = target.stat().st_size
        package = json.loads(target.read_text(encoding="utf-8"), parse_float=Decimal)
    grants = package["grants"]
    sample = {**package, "grants": grants[:CHECKED]}
    errors = schema.package_errors(sample)
    if errors:
        raise RuntimeError(f"the exported package is not valid: {errors[0].message}")
    if len(grants) != tally.grants:
        raise RuntimeError(f"{len(grants)} grants in the file, {tally.grants} counted")
    seconds = statistics.median(times)
    return {
        "name": "export 360Giving JSON (public grants)",
        "export_360giving_s": round(seconds, 2),
        "runs_s": [round(t, 2) for t in times],
        "grants": tally.grants,
        "grants_per_s": round(tally.grants / seconds),
        "megabytes": round(size / 1_048_576, 1),
        "validated_sample": min(CHECKED, len(grants)),
        "target_s": TARGET_S,
        "ok": seconds <= TARGET_S,
    }


if __name__ == "__main__":
    from app import create_app
    from app.extensions import db

    app = create_app({"DATABASE_URL": sys.argv[1], "SECRET_KEY": "bench"})
    with app.app_context():
        for key, value in bench_export_360giving(db.session).items():
            print(f"{key}: {value}")
