"""The scale-out path for real: two site instances under gunicorn and one sandbox service, all on one
PostgreSQL (and Redis for rate limits). Trainees spread over both instances take exams and do labs at
the same time, double-submitting on purpose; afterwards nothing is lost or duplicated and every score
equals a recomputation from the stored answers."""
from __future__ import annotations

import html
import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_CONTENT

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ACADEMY_TEST_REDIS_URL")
TRAINEES = 6
PASSWORD = "scale-test-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"port {port} did not open within {seconds} s")


class Browser:
    """A trainee's browser: cookies, CSRF tokens from the pages, no redirects followed for POSTs."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, bases: list[str]):
        self.bases = bases
        self.turn = 0
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), self.NoRedirect)

    def base(self) -> str:
        """Alternate between the site instances: any of them must serve any request."""
        self.turn += 1
        return self.bases[self.turn % len(self.bases)]

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with self.opener.open(self.base() + path, timeout=30) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace"), error.headers.get("Location", "")

    def token(self, page_path: str) -> str:
        _, page, _ = self.get(page_path)
        return html.unescape(CSRF.search(page).group(1))

    def post(self, path: str, data: dict, token_page: str, token: str | None = None) -> tuple[int, str]:
        token = token or self.token(token_page)
        body = urllib.parse.urlencode({"csrf_token": token, **data}, doseq=True).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base() + path, data=body), timeout=60) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("Location", "")


@pytest.fixture
def stack(postgres_url, tmp_path):
    if not REDIS_URL:
        pytest.skip("ACADEMY_TEST_REDIS_URL is not set: no Redis for shared rate limits (CI sets it)")
    dicom_port, hl7_port = free_port(), free_port()
    env = {**os.environ, "ACADEMY_DATABASE_URL": postgres_url, "ACADEMY_SANDBOX_DATABASE_URL": postgres_url,
           "ACADEMY_DATA_DIR": str(tmp_path / "data"), "ACADEMY_SECRET_KEY": "one-key-for-every-instance",
           "ACADEMY_RATELIMIT_STORAGE_URL": REDIS_URL, "ACADEMY_CURRICULA_DIR": str(FIXTURE_CONTENT / "curricula"),
           "ACADEMY_QUESTION_BANKS_DIR": str(FIXTURE_CONTENT / "question_banks"), "ACADEMY_SANDBOX_HOST": "127.0.0.1",
           "ACADEMY_DICOM_PORT": str(dicom_port), "ACADEMY_HL7_PORT": str(hl7_port), "PYTHONUNBUFFERED": "1"}
    python, gunicorn = sys.executable, str(Path(sys.executable).with_name("gunicorn"))
    subprocess.run([python, "-m", "flask", "--app", "app", "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    for n in range(TRAINEES):
        subprocess.run([python, "-m", "flask", "--app", "app", "user", "create", f"t{n}@scale.example.org", "--role",
                        "trainee", "--org", "Scale Hospital", "--password-stdin"], cwd=ROOT, env=env, check=True,
                       input=PASSWORD + "\n", text=True, capture_output=True)
    processes = [subprocess.Popen([python, "-m", "sandbox", "serve", "--dicom-port", str(dicom_port), "--hl7-port",
                                   str(hl7_port), "--data-dir", str(tmp_path / "data" / "sandbox"), "--database-url",
                                   postgres_url], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    wait_for_port(dicom_port)
    ports = [free_port(), free_port()]
    for port in ports:
        processes.append(subprocess.Popen([gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT,
                                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz")
        yield [f"http://127.0.0.1:{port}" for port in ports], postgres_url
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def double_click(browser: Browser, path: str, token_page: str) -> list[int]:
    """Two identical POSTs at once, each to another instance."""
    token, statuses = browser.token(token_page), []
    threads = [threading.Thread(target=lambda: statuses.append(browser.post(path, {}, token_page, token)[0]))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def trainee_session(bases: list[str], n: int, errors: list) -> None:
    try:
        browser = Browser(bases)
        status, _ = browser.post("/login", {"email": f"t{n}@scale.example.org", "password": PASSWORD}, "/login")
        assert status == 302, f"login {status}"
        status, location = browser.post("/exams/TST1/start", {}, "/exams")
        exam = re.search(r"/exams/(\d+)/1$", location).group(1)
        for position in range(1, 6):
            _, page, _ = browser.get(f"/exams/{exam}/{position}")
            choice = re.search(r'name="answer"[^>]*value="([a-z])"', page)
            data = {"answer": choice.group(1) if choice else "2"}
            status, _ = browser.post(f"/exams/{exam}/{position}", data, f"/exams/{exam}/{position}")
            assert status in (302, 303), f"answer {status}"
        assert sorted(double_click(browser, f"/exams/{exam}/submit", f"/exams/{exam}")) == [302, 302]
        status, location = browser.post("/labs/tst-echo/start", {}, "/labs/tst-echo")
        run = re.search(r"/runs/(\d+)$", location).group(1)
        _, page, _ = browser.get(f"/runs/{run}")
        code = re.search(r"(R[0-9A-Z]{7})_PACS", page).group(1)
        status, _ = browser.post(f"/runs/{run}/console/dicom", {"action": "echo", "echo-device": "WS",
                                                                "echo-node": f"{code}_PACS"}, f"/runs/{run}/console/dicom")
        assert status == 200, f"echo {status}"
        browser.post(f"/runs/{run}/check", {"answer-modality": "CT"}, f"/runs/{run}")
        assert sorted(double_click(browser, f"/runs/{run}/submit", f"/runs/{run}")) == [302, 302]
    except Exception as exc:  # reported to the test, which fails with it
        errors.append(f"trainee {n}: {exc!r}")


def test_two_instances_one_sandbox_one_database(stack):
    bases, database_url = stack
    errors: list = []
    threads = [threading.Thread(target=trainee_session, args=(bases, n, errors)) for n in range(TRAINEES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []

    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        exams = conn.execute(sa.text("SELECT id, score, submitted_at FROM exam_session")).all()
        assert len(exams) == TRAINEES and all(e.submitted_at is not None for e in exams)
        for exam_id, score, _ in exams:
            attempts = conn.execute(sa.text("SELECT a.correct FROM attempt a JOIN exam_item i ON a.exam_item_id = i.id "
                                            "WHERE i.session_id = :id"), {"id": exam_id}).scalars().all()
            assert len(attempts) == 5, f"exam {exam_id} has {len(attempts)} attempts"  # not lost, not doubled
            assert score == pytest.approx(sum(attempts) / 5)  # the score is what the answers say
        runs = conn.execute(sa.text("SELECT id, score, max_score, state FROM lab_run")).all()
        assert len(runs) == TRAINEES and {r.state for r in runs} == {"submitted"}
        for run_id, score, _, _ in runs:
            finals = conn.execute(sa.text("SELECT id, score FROM grading WHERE run_id = :id AND final"), {"id": run_id}).all()
            assert len(finals) == 1, f"run {run_id} was graded finally {len(finals)} times"
            points = conn.execute(sa.text("SELECT sum(points) FROM check_result WHERE grading_id = :g"),
                                  {"g": finals[0].id}).scalar()
            assert score == finals[0].score == points
            assert score >= 6  # the echo and the answer, seen by the sandbox service through the shared database
    engine.dispose()
