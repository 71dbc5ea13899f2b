"""The mixed workload of `make loadtest`: staff browsing and saving, trustees reading reports.

Run by ``tests/load/run.py`` (never imported by pytest: locust monkeypatches
the standard library with gevent). The runner writes a plan (JSON, path in
``GRANTPATH_LOAD_PLAN``) with the accounts it created and the ids to visit:

- each **staff** user logs in with its own account and browses the grant list
  (filters, sorts, pages), grant and output pages, pathway pages with their
  timeline, the portfolio and the dashboard; and it saves: it opens the edit
  form of one of *its own* grants, changes the title and posts the whole form
  back (version field and CSRF token included), expecting the redirect to the
  grant. No two users share a grant, so a 409 (stale edit) is a failure here.
- each **trustee** logs in with its own account, downloads the issued reports
  (checking every byte against the stored SHA-256) and reads pages.

Every response is checked: an unexpected status, a page that lands on the
log-in form or a PDF that differs is a failure.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from locust import HttpUser, between, events
from locust.exception import StopUser

from tests.load.forms import csrf_token, form_fields, replace_field

PLAN_ENV = "GRANTPATH_LOAD_PLAN"
TIMINGS_ENV = "GRANTPATH_LOAD_TIMINGS"
TIMEOUT_S = 60  # past gunicorn's 30 s worker timeout: a stuck request shows in the server log
if PLAN_ENV not in os.environ:
    raise RuntimeError(f"{PLAN_ENV} is not set: run the load test with tests/load/run.py")
with open(os.environ[PLAN_ENV], encoding="utf-8") as plan_file:
    PLAN: dict[str, Any] = json.load(plan_file)

SORTS = ("award_date", "reference", "title", "institution", "amount_eur", "status")
STATUSES = ("awarded", "active", "completed", "terminated")
OUTPUT_TYPES = ("publication", "further_funding", "research_tool", "collaboration")
LOAD_SUFFIX = re.compile(r" \[load \d+\]$")
ERROR_TEXT = re.compile(r'class="(?:field-)?errors?[^"]*"[^>]*>\s*([^<]{1,200})')


class Browser(HttpUser):
    """A logged-in person with a browser: its own cookie jar, checked responses."""

    abstract = True
    wait_time = between(0.5, 2.5)
    role = ""
    accounts: itertools.count[int]

    def on_start(self) -> None:
        """Log in with this user's own account through the real form."""
        # One connection per request (sync workers close each connection after its
        # response anyway). With keep-alive, gunicorn's gthread worker (--threads) closes
        # a connection idle past its 2 s keepalive even as the next request arrives on
        # it: on a busy machine 2-4 % of requests got "connection reset" and no answer.
        # Browsers resend such a request on a new connection; requests does not. It is
        # gunicorn's connection handling, not the app, and masks nothing: a worker that
        # dies still resets its connections, and the runner checks the server's log.
        self.client.headers["Connection"] = "close"
        index = next(type(self).accounts)
        people = PLAN[self.role]
        self.account: dict[str, Any] = people[index % len(people)]
        self.rng = random.Random(f"{PLAN['seed']}-{self.role}-{index}")
        html = self.page("/login", "/login")
        if html is None:
            raise StopUser()
        form = {
            "email": self.account["email"],
            "password": PLAN["password"],
            "csrf_token": csrf_token(html),
        }
        with self.client.post(
            "/login",
            data=form,
            name="/login",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT_S,
        ) as response:
            target = urlsplit(response.headers.get("Location", "")).path
            if response.status_code != 302 or target == "/login":
                response.failure(f"log-in refused: HTTP {response.status_code} -> {target!r}")
                raise StopUser()
        self.first_task()

    def first_task(self) -> None:
        """What a user does right after logging in (so even a short run covers every kind)."""

    def page(self, path: str, name: str, kind: str = "text/html") -> str | None:
        """GET a page and check it: 200, the expected type, not bounced to the log-in form."""
        with self.client.get(path, name=name, catch_response=True, timeout=TIMEOUT_S) as response:
            problem = _problem(response, kind)
            if problem:
                response.failure(problem)
                return None
            return response.text if kind.startswith("text/") else ""

    # Pages both roles read.

    def grant_list(self) -> None:
        """The grant register with a random filter, sort and page."""
        args: dict[str, Any] = {}
        kind = self.rng.random()
        if kind < 0.4:
            args["year"] = self.rng.choice(PLAN["years"])
        elif kind < 0.55 and PLAN["programmes"]:
            args["programme"] = self.rng.choice(PLAN["programmes"])
        elif kind < 0.75:
            args["status"] = self.rng.choice(STATUSES)
            args["year"] = self.rng.choice(PLAN["years"])
        elif kind < 0.85:
            args["q"] = self.rng.choice(("stem", "myelin", "trial", "MRI", "cell"))
        if self.rng.random() < 0.5:
            args["sort"] = self.rng.choice(SORTS)
            args["dir"] = self.rng.choice(("asc", "desc"))
        args["page"] = self.rng.choice((1, 1, 1, 2, 3))
        self.page("/grants?" + urlencode(args), "/grants")

    def grant_detail(self) -> None:
        """A grant page (outputs, payments, downstream trials)."""
        self.page(f"/grants/{self.rng.choice(PLAN['grants'])}", "/grants/[id]")

    def pathway(self) -> None:
        """A trial's pathway page and the timeline image the browser then fetches."""
        trial = self.rng.choice(PLAN["trials"])
        if self.page(f"/outputs/{trial}/pathway", "/outputs/[id]/pathway") is not None:
            self.page(f"/outputs/{trial}/pathway.svg", "/outputs/[id]/pathway.svg", "image/svg+xml")

    def portfolio(self) -> None:
        """Portfolio figures for the default year or a random period."""
        if self.rng.random() < 0.5:
            self.page("/portfolio", "/portfolio")
        else:
            end = self.rng.choice(PLAN["years"])
            self.page(f"/portfolio?from={end - self.rng.choice((0, 2, 4))}&to={end}", "/portfolio")

    def dashboard(self) -> None:
        """The home page."""
        self.page("/", "/")


class Staff(Browser):
    """Staff: browse everything, save their own grants."""

    role = "staff"
    fixed_count = len(PLAN["staff"])
    accounts = itertools.count()

    def output_list(self) -> None:
        """The output register, sometimes filtered by type or year."""
        args: dict[str, Any] = {"page": self.rng.choice((1, 1, 2))}
        if self.rng.random() < 0.5:
            args["type"] = self.rng.choice(OUTPUT_TYPES)
        if self.rng.random() < 0.3:
            args["year"] = self.rng.choice(PLAN["years"])
        self.page("/outputs?" + urlencode(args), "/outputs")

    def output_detail(self) -> None:
        self.page(f"/outputs/{self.rng.choice(PLAN['outputs'])}", "/outputs/[id]")

    def first_task(self) -> None:
        self.save_grant()

    def save_grant(self) -> None:
        """Edit one of this user's own grants: change the title, post the whole form back."""
        grant = self.rng.choice(self.account["grants"])
        html = self.page(f"/grants/{grant}/edit", "/grants/[id]/edit")
        if html is None:
            return
        fields = form_fields(html)
        title = LOAD_SUFFIX.sub("", dict(fields)["title"])
        fields = replace_field(fields, "title", f"{title} [load {self.rng.randrange(10**6)}]")
        with self.client.post(
            f"/grants/{grant}/edit",
            data=fields,
            name="/grants/[id]/edit",
            allow_redirects=False,
            catch_response=True,
            timeout=TIMEOUT_S,
        ) as response:
            target = urlsplit(response.headers.get("Location", "")).path
            if response.status_code == 302 and target == f"/grants/{grant}":
                response.success()
            elif response.status_code == 409:
                response.failure("409 stale edit on a grant only this user edits")
                return
            else:
                errors = "; ".join(ERROR_TEXT.findall(response.text)[:3]) or target
                response.failure(f"save not accepted: HTTP {response.status_code} {errors}")
                return
        self.page(f"/grants/{grant}", "/grants/[id]")  # the browser follows the redirect

    # What staff do, and how often relative to each other.
    tasks = {
        Browser.grant_list: 6,
        Browser.grant_detail: 4,
        output_list: 2,
        output_detail: 2,
        Browser.pathway: 2,
        Browser.portfolio: 1,
        Browser.dashboard: 1,
        save_grant: 3,
    }


class Trustee(Browser):
    """Trustees: download the issued reports, read pages."""

    role = "trustees"
    fixed_count = len(PLAN["trustees"])
    accounts = itertools.count()

    def first_task(self) -> None:
        self.download_report()

    def download_report(self) -> None:
        """An issued report's PDF, byte for byte as issued."""
        report = self.rng.choice(PLAN["reports"])
        name = "/reports/issued/[id].pdf"
        with self.client.get(
            report["url"], name=name, catch_response=True, timeout=TIMEOUT_S
        ) as response:
            problem = _problem(response, "application/pdf")
            if problem is None and hashlib.sha256(response.content).hexdigest() != report["sha256"]:
                problem = "the PDF differs from the issued bytes"
            if problem:
                response.failure(problem)

    def reports_page(self) -> None:
        self.page("/reports", "/reports")

    # What trustees do, and how often relative to each other.
    tasks = {
        download_report: 4,
        reports_page: 1,
        Browser.dashboard: 1,
        Browser.grant_list: 2,
        Browser.grant_detail: 2,
        Browser.pathway: 2,
        Browser.portfolio: 1,
    }


def _problem(response: Any, kind: str) -> str | None:
    """Why a GET's response is wrong, or None."""
    if response.status_code == 0:  # no response: the connection failed or timed out
        return f"no response: {response.error!r}"[:300]
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    if response.history and urlsplit(response.url).path == "/login":
        return "sent to the log-in form"
    content_type = response.headers.get("Content-Type", "")
    if not content_type.startswith(kind):
        return f"Content-Type {content_type!r}, expected {kind}"
    return None


@events.test_stop.add_listener
def save_timings(environment: Any, **_: Any) -> None:
    """Each request type's counts and response-time histogram, for the runner's percentiles.

    Locust keeps response times rounded (ms, two significant digits from 100 ms
    on) with a count each; the runner merges them for the overall figures.
    """
    path = os.environ.get(TIMINGS_ENV)
    if not path:
        return
    entries = [
        {
            "method": entry.method,
            "name": entry.name,
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "total_ms": entry.total_response_time,
            "max_ms": entry.max_response_time,
            "response_times": entry.response_times,
        }
        for entry in environment.stats.entries.values()
    ]
    Path(path).write_text(json.dumps(entries), encoding="utf-8")
