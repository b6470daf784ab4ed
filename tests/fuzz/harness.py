"""The web-forms fuzzing harness, shared by tests/fuzz/test_forms_fuzz.py and benchmarks/fuzz_long.py."""
from __future__ import annotations

import io
import logging
import re

import sqlalchemy as sa
from hypothesis import strategies as st

from tests.conftest import Auth, csrf_from
from tests.fuzz.strategies import (
    MAY_CHANGE_ON_REFUSAL,
    NAME_PATTERN,
    SKIP_ENDPOINTS,
    VALUE_PATTERN,
    form_case,
    request_case,
    scrape_forms,
)


class Captured(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        self.records.append(record)


def row_counts(app) -> dict[str, int]:
    from academy.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in db.metadata.sorted_tables}


class Session:
    """A logged-in client with what it knows: good path values, form field names and values."""

    def __init__(self, app, client, account):
        self.app, self.client, self.account = app, client, account
        assert Auth(client).login(account).status_code == 302
        page = client.get("/dashboard").get_data(as_text=True)
        self.csrf = csrf_from(page)
        self.known = self._known()
        self.names, self.values, self.forms = set(), set(), []
        for url in self._pages():
            html = client.get(url).get_data(as_text=True)
            self.forms += [(action or url, fields) for action, fields in scrape_forms(html)
                           if not action.startswith("/logout")]
            self.names.update(n for n in re.findall(NAME_PATTERN, html) if n != "csrf_token")
            self.values.update(re.findall(VALUE_PATTERN, html))
        self.rules = [r for r in app.url_map.iter_rules() if r.endpoint not in SKIP_ENDPOINTS
                      and r.methods & {"GET", "POST"}]

    def _known(self) -> dict:
        from academy.extensions import db
        from academy.models import (
            Assignment,
            Certificate,
            Cohort,
            ExamSession,
            LabRun,
            QuestionVersion,
            User,
        )

        c = self.client
        c.post("/exams/TST1/start", data={"csrf_token": self.csrf})
        c.post("/labs/tst-echo/start", data={"csrf_token": self.csrf})
        with self.app.app_context():
            ids = lambda model: list(db.session.scalars(sa.select(model.id).limit(20)))
            known = {"exam_id": ids(ExamSession), "run_id": ids(LabRun), "cohort_id": ids(Cohort),
                     "assignment_id": ids(Assignment), "user_id": ids(User), "version_id": ids(QuestionVersion),
                     "certificate_id": ids(Certificate), "position": [1, 2, 5, 6]}
        known.update(code=["TST1", "TST2"], module=["basics"], lesson=["01-ports", "02-bytes"],
                     key=["tst-echo", "tst-order", "tst-first-week"], check_id=["node", "echo", "modality"],
                     name=["flow.svg"], token=["x"], uid=["1.2.3"], filename=["academy.css"])
        return known

    def _pages(self) -> list[str]:
        run = (self.known["run_id"] or [0])[0]
        exam = (self.known["exam_id"] or [0])[0]
        cohort = (self.known["cohort_id"] or [0])[0]
        return ["/practice/TST1", "/review", f"/exams/{exam}/1", f"/exams/{exam}", f"/runs/{run}",
                "/tracks/TST1/modules/basics/lessons/01-ports", "/organization", f"/organization/cohorts/{cohort}",
                "/account/password", "/certificates", "/console/dicom", "/console/admin", "/console/ris",
                f"/runs/{run}/console/admin"]

    def send(self, rule, params, method, fields, query):
        url = rule if isinstance(rule, str) else self.app.url_map.bind("localhost").build(rule.endpoint, params)
        before = row_counts(self.app)
        if method == "POST":
            from werkzeug.datastructures import MultiDict

            data = MultiDict([(name, (io.BytesIO(value), "upload.bin") if isinstance(value, bytes) else value)
                              for name, items in fields.items() for value in (items or [""])])
            data.setlist("csrf_token", [self.csrf])
            response = self.client.post(url, query_string=query, data=data)
        else:
            response = self.client.get(url, query_string=query)
        return url, before, response


def case_problems(app, session, errors, case, statuses=None) -> list[str]:
    """Send one case; what is wrong with the answer (empty: nothing)."""
    errors.records.clear()
    url, before, response = session.send(*case)
    body = response.get_data(as_text=True)
    method, problems = case[2], []
    if statuses is not None:
        statuses[(method, response.status_code)] += 1
    if response.status_code in (500, 503):
        problems.append(f"{response.status_code} on {method} {url} {case[3]!r}"[:2000])
    for record in errors.records:
        problems.append(f"logged error on {method} {url}: {record.getMessage()} {record.exc_info and record.exc_info[1]!r}")
    if "Traceback (most recent call last)" in body:
        problems.append(f"traceback in the page of {method} {url}")
    if method == "POST" and response.status_code >= 400:
        after = row_counts(app)
        changed = {t for t in before if before[t] != after[t]} - MAY_CHANGE_ON_REFUSAL
        if changed:
            problems.append(f"refused {method} {url} ({response.status_code}) wrote to {sorted(changed)}")
    if method == "POST" and url.endswith(("/answer",)) and response.status_code != 200:
        # a refused practice or review answer (bad response, expired form) stores no attempt, even when
        # the refusal is a redirect with a message
        after = row_counts(app)
        if after["attempt"] != before["attempt"] or after["review_card"] != before["review_card"]:
            problems.append(f"refused answer {url} ({response.status_code}) stored an attempt")
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        # the session ended (e.g. the fuzzer deactivated someone): log in again
        Auth(session.client).login(session.account)
    return problems


def strategy_for(session):
    random_route = request_case(session.rules, session.known, sorted(session.names), sorted(session.values))
    real_form = form_case(session.forms).map(lambda f: (f[0], {}, "POST", f[1], {}))
    return st.one_of(random_route, real_form) if session.forms else random_route


def database_problems(app) -> list[str]:
    from academy.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        problems = [] if conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok" else ["integrity"]
        problems += [f"foreign key: {row}" for row in conn.exec_driver_sql("PRAGMA foreign_key_check")]
    return problems

