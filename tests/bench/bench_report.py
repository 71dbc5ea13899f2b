"""Benchmark: the demo annual report (quality bars: <= 3 s median, <= 300 MB peak RSS, our own
queries and templating <= 15 % of WeasyPrint's layout time for the same HTML).

The report is the annual report of the demo's last complete award year, for the
trustees and without the register appendix (DESIGN.md section 6: the register
of a long period is rendered in the background). Each run times three steps:

- ``build_annual_report``: the queries, the lineage of each featured trial and
  the charts (matplotlib) — our code (``report_sql_s`` is the part spent in the
  database driver, measured with engine events);
- ``annual_html``: the Jinja templating — our code;
- ``render_pdf`` of that HTML: WeasyPrint's layout and PDF writing.

``report_render_s`` is the median of the three together (what a download
costs). ``report_overhead_ratio`` is DESIGN.md's "our own overhead (queries +
templating)": median(ours) / median(WeasyPrint), ours being the queries, our
Python that assembles the report and the templating, without matplotlib's
drawing of the charts (``report_charts_s``), which is a plotting library's
layout as WeasyPrint's is a typesetter's. ``report_overhead_with_charts_ratio``
counts the charts as ours too (no bar; shown so nothing is hidden). The
peak RSS is measured in a fresh Python process that renders the report once
and reads its own high-water mark (``VmHWM``; ``ru_maxrss`` is inherited from
the parent on Linux), so it is the render's peak and not the benchmark
runner's. The page counts of that report and of the 2015-2024 range
report (with its register, rendered once) are kept as figures too.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from typing import Any

import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy import orm as so

from tests.bench import median


class ChartTimer:
    """Seconds matplotlib spends drawing the report's charts (reports.charts._svg)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __enter__(self) -> ChartTimer:
        from reports import annual_charts, charts

        self._modules = (charts, annual_charts)  # each holds its own name for _svg
        self._original = charts._svg

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return self._original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        for module in self._modules:
            module._svg = timed  # type: ignore[attr-defined]
        return self

    def __exit__(self, *exc: object) -> None:
        for module in self._modules:
            module._svg = self._original  # type: ignore[attr-defined]


class SqlTimer:
    """Seconds spent executing SQL on an engine while attached."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started: list[float] = []

    def before(self, *args: Any) -> None:
        self._started.append(time.perf_counter())

    def after(self, *args: Any) -> None:
        self.seconds += time.perf_counter() - self._started.pop()


RUNS = 5
RANGE = "2015-2024"

# Run by a child process: argv = database URL, year. Prints one JSON line.
CHILD = """
import json, resource, sys, time
import sqlalchemy as sa
from sqlalchemy import orm as so
from reports.annual import annual_pdf, build_annual_report
from reports.annual_data import Period
session = so.Session(sa.create_engine(sys.argv[1]))
year = int(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
report = build_annual_report(session, Period(year, year), foundation="Benchmark foundation",
                             include_register=False)
pdf = annual_pdf(report)
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and
# exec, so a child of a large benchmark runner reported the runner's size.
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))  # KiB
print(json.dumps({"peak_kib": peak, "before_kib": before, "seconds": seconds, "bytes": len(pdf)}))
"""


def _report_year(session: so.Session) -> int:
    """The last complete award year of the demo, as the reports page offers by default."""
    from app.models import Grant

    latest = session.scalar(
        sa.select(sa.func.max(Grant.award_date)).where(Grant.deleted_at.is_(None))
    )
    if latest is None:
        raise RuntimeError("no grants in the demo database")
    return int(latest.year) - 1


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _peak_in_child(url: str, year: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(year)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the peak-memory child failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_report(demo_session: so.Session, demo_url: str) -> dict[str, Any]:
    """Median render time, peak RSS, our overhead against WeasyPrint, page counts."""
    from reports.annual import annual_html, annual_pdf, build_annual_report, period_from_text
    from reports.annual_data import Period
    from reports.pdf import render_pdf

    year = _report_year(demo_session)
    period = Period(year, year)

    def build() -> Any:
        return build_annual_report(
            demo_session, period, foundation="Benchmark foundation", include_register=False
        )

    # Warm-up: template compilation, fonts, matplotlib and WeasyPrint imports.
    pdf = annual_pdf(build())
    ours: list[float] = []
    weasyprint: list[float] = []
    totals: list[float] = []
    queries: list[float] = []
    sql: list[float] = []
    drawing: list[float] = []
    engine = demo_session.get_bind()
    timer = SqlTimer()
    sa.event.listen(engine, "before_cursor_execute", timer.before)
    sa.event.listen(engine, "after_cursor_execute", timer.after)
    for _ in range(RUNS):
        timer.seconds = 0.0
        started = time.perf_counter()
        with ChartTimer() as charts:
            report = build()
        built = time.perf_counter()
        drawing.append(charts.seconds)
        html = annual_html(report)
        templated = time.perf_counter()
        pdf = render_pdf(html, metadata=report.metadata)
        finished = time.perf_counter()
        queries.append(built - started)
        sql.append(timer.seconds)
        ours.append(templated - started)
        weasyprint.append(finished - templated)
        totals.append(finished - started)
    sa.event.remove(engine, "before_cursor_execute", timer.before)
    sa.event.remove(engine, "after_cursor_execute", timer.after)
    pages = _pages(pdf)

    child = _peak_in_child(demo_url, year)

    started = time.perf_counter()
    ranged = annual_pdf(
        build_annual_report(demo_session, period_from_text(RANGE), foundation="Benchmark")
    )
    range_seconds = time.perf_counter() - started

    return {
        "report_render_s": round(median(totals), 3),
        "report_peak_mb": round(child["peak_kib"] / 1024, 1),
        "report_overhead_ratio": round(
            median([o - d for o, d in zip(ours, drawing, strict=True)]) / median(weasyprint), 3
        ),
        "report_overhead_with_charts_ratio": round(median(ours) / median(weasyprint), 3),
        "report_charts_s": round(median(drawing), 3),
        "report_build_s": round(median(queries), 3),
        "report_sql_s": round(median(sql), 3),
        "report_templating_s": round(median(ours) - median(queries), 3),
        "report_weasyprint_s": round(median(weasyprint), 3),
        "report_pages_count": pages,
        "report_range_s": round(range_seconds, 2),
        "report_range_pages_count": _pages(ranged),
        # Text, not figures: kept in the JSON only.
        "report_subject": (
            f"annual report {year} without the register ({pages} pages, "
            f"{len(pdf) / 1024:,.0f} KB); {RANGE} with the register"
        ),
    }


if __name__ == "__main__":  # python -m tests.bench.bench_report, with DATABASE_URL set
    from app import create_app
    from app.extensions import db

    application = create_app()
    with application.app_context():
        print(bench_report(db.session, application.config["DATABASE_URL"]))
