"""The site killed (SIGKILL, the whole gunicorn process group) while a trainee submits a mock exam and while a lab
run is graded. Whatever instant the kill lands, every record is complete or absent afterwards, and the trainee
can finish after a restart: an exam is submitted with one attempt per item and the score its answers give, or
not submitted at all; a lab run is submitted with exactly one final grading whose check results add up to the
score, or still active with none."""
from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import FIXTURE_CONTENT
from tests.scale.stack import ROOT, Browser, flask_command, free_port, site_env, wait_for, wait_for_port

pytestmark = pytest.mark.slow
TRIALS = 5
PASSWORD = "crash-test-password"


class Site:
    """One gunicorn instance in its own process group, so a kill takes master and worker at once."""

    def __init__(self, env: dict):
        self.env, self.port, self.process = env, free_port(), None

    def start(self) -> str:
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen([gunicorn, "-w", "1", "-b", f"127.0.0.1:{self.port}", "app:create_app()"],
                                        cwd=ROOT, env=self.env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(f"http://127.0.0.1:{self.port}/healthz")
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def crash_stack(postgres_url, tmp_path):
    env = site_env(os.environ, database_url=postgres_url, data_dir=tmp_path / "data", redis_url="memory://",
                   dicom_port=free_port(), hl7_port=free_port(),
                   ACADEMY_CURRICULA_DIR=str(FIXTURE_CONTENT / "curricula"),
                   ACADEMY_QUESTION_BANKS_DIR=str(FIXTURE_CONTENT / "question_banks"))
    flask_command(env, "init")
    for n in range(TRIALS):
        flask_command(env, "user", "create", f"c{n}@crash.example.org", "--role", "trainee", "--org", "Crash Hospital",
                      "--password-stdin", stdin=PASSWORD + "\n")
    service = subprocess.Popen([sys.executable, "-m", "sandbox", "serve", "--dicom-port", env["ACADEMY_DICOM_PORT"],
                                "--hl7-port", env["ACADEMY_HL7_PORT"], "--data-dir", str(tmp_path / "data" / "sandbox"),
                                "--database-url", postgres_url], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site = Site(env)
    try:
        wait_for_port(int(env["ACADEMY_DICOM_PORT"]))
        yield site, postgres_url
    finally:
        if site.process and site.process.poll() is None:
            site.kill()
        service.terminate()
        service.wait(timeout=15)


def post_then_kill(browser: Browser, site: Site, path: str, token_page: str, delay: float) -> bool:
    """POST, SIGKILL the site `delay` seconds later; True when the answer arrived before the kill."""
    token = browser.token(token_page)
    answered: list[int] = []

    def send():
        try:
            answered.append(browser.post(path, {}, token_page, token)[0])
        except OSError:  # the connection died with the site
            pass

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(delay)
    site.kill()
    sender.join(timeout=60)
    return bool(answered) and answered[0] < 500


def prepare(browser: Browser, n: int) -> tuple[str, str]:
    """Log in, answer a five-question mock exam and start a lab run with one echo done; return both ids."""
    status, _ = browser.post("/login", {"email": f"c{n}@crash.example.org", "password": PASSWORD}, "/login")
    assert status == 302
    _, location = browser.post("/exams/TST1/start", {}, "/exams")
    exam = re.search(r"/exams/(\d+)/1$", location).group(1)
    for position in range(1, 6):
        _, page, _ = browser.get(f"/exams/{exam}/{position}")
        choice = re.search(r'name="answer"[^>]*value="([a-z])"', page)
        browser.post(f"/exams/{exam}/{position}", {"answer": choice.group(1) if choice else "2"},
                     f"/exams/{exam}/{position}")
    _, location = browser.post("/labs/tst-echo/start", {}, "/labs/tst-echo")
    run = re.search(r"/runs/(\d+)$", location).group(1)
    _, page, _ = browser.get(f"/runs/{run}")
    code = re.search(r"(R[0-9A-Z]{7})_PACS", page).group(1)
    browser.post(f"/runs/{run}/console/dicom", {"action": "echo", "echo-device": "WS", "echo-node": f"{code}_PACS"},
                 f"/runs/{run}/console/dicom")
    return exam, run


def exam_state(conn, exam_id: str) -> str:
    submitted_at, score = conn.execute(sa.text("SELECT submitted_at, score FROM exam_session WHERE id = :id"),
                                       {"id": exam_id}).one()
    graded = conn.execute(sa.text("SELECT i.correct, (SELECT count(*) FROM attempt a WHERE a.exam_item_id = i.id) "
                                  "FROM exam_item i WHERE i.session_id = :id"), {"id": exam_id}).all()
    if submitted_at is None:
        assert score is None and all(correct is None and attempts == 0 for correct, attempts in graded), \
            f"exam {exam_id} is open but partly graded: {graded}"
        return "absent"
    assert len(graded) == 5 and all(attempts == 1 for _, attempts in graded), f"exam {exam_id}: {graded}"
    assert score == pytest.approx(sum(bool(correct) for correct, _ in graded) / 5)
    return "complete"


def run_state(conn, run_id: str) -> str:
    state, score = conn.execute(sa.text("SELECT state, score FROM lab_run WHERE id = :id"), {"id": run_id}).one()
    finals = conn.execute(sa.text("SELECT g.score, (SELECT coalesce(sum(points), 0) FROM check_result c "
                                  "WHERE c.grading_id = g.id), (SELECT count(*) FROM check_result c "
                                  "WHERE c.grading_id = g.id) FROM grading g WHERE g.run_id = :id AND g.final"),
                          {"id": run_id}).all()
    if state == "active":
        assert finals == [], f"run {run_id} is active but has a final grading"
        return "absent"
    assert state == "submitted" and len(finals) == 1, f"run {run_id}: {state}, {finals}"
    grading_score, points, checks = finals[0]
    assert checks > 0 and score == grading_score == points
    return "complete"


def test_sigkill_during_exam_submit_and_lab_grading_leaves_no_half_record(crash_stack):
    site, database_url = crash_stack
    engine = sa.create_engine(database_url)
    rng = random.Random(20261128)
    seen = {"exam": [], "run": []}
    try:
        for n in range(TRIALS):
            browser = Browser([site.start()])
            exam, run = prepare(browser, n)
            # The kill lands anywhere from before the request is read to after the answer: 0-80 ms.
            exam_answered = post_then_kill(browser, site, f"/exams/{exam}/submit", f"/exams/{exam}",
                                           rng.uniform(0, 0.08))
            site.start()  # same address; the session cookie outlives the process (one secret key)
            run_answered = post_then_kill(browser, site, f"/runs/{run}/submit", f"/runs/{run}", rng.uniform(0, 0.08))
            with engine.connect() as conn:
                exam_after, run_after = exam_state(conn, exam), run_state(conn, run)
            if exam_answered:
                assert exam_after == "complete"  # an answered submit is never lost
            if run_answered:
                assert run_after == "complete"
            seen["exam"].append(exam_after)
            seen["run"].append(run_after)

            # After a restart the trainee finishes whatever the kill interrupted, exactly once.
            site.start()
            assert browser.post(f"/exams/{exam}/submit", {}, "/dashboard")[0] == 302
            assert browser.post(f"/runs/{run}/submit", {}, "/dashboard")[0] == 302
            site.kill()
            with engine.connect() as conn:
                assert exam_state(conn, exam) == "complete" and run_state(conn, run) == "complete"
    finally:
        engine.dispose()
    print(f"after the kill: exams {seen['exam']}, lab runs {seen['run']}")
