"""The scale-out path for real: two site instances under gunicorn and one sandbox service, all on one
PostgreSQL (and Redis for rate limits). Trainees spread over both instances take exams and do labs at
the same time, double-submitting on purpose; afterwards nothing is lost or duplicated and every score
equals a recomputation from the stored answers."""
from __future__ import annotations

import os
import re
import threading

import pytest

from tests.conftest import FIXTURE_CONTENT
from tests.scale.stack import Browser, deployment, flask_command, free_port, site_env

REDIS_URL = os.environ.get("ACADEMY_TEST_REDIS_URL")
TRAINEES = 6
PASSWORD = "scale-test-password"

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(postgres_url, tmp_path):
    if not REDIS_URL:
        pytest.skip("ACADEMY_TEST_REDIS_URL is not set: no Redis for shared rate limits (CI sets it)")
    env = site_env(os.environ, database_url=postgres_url, data_dir=tmp_path / "data", redis_url=REDIS_URL,
                   dicom_port=free_port(), hl7_port=free_port(),
                   ACADEMY_CURRICULA_DIR=str(FIXTURE_CONTENT / "curricula"),
                   ACADEMY_QUESTION_BANKS_DIR=str(FIXTURE_CONTENT / "question_banks"))
    flask_command(env, "init")
    for n in range(TRAINEES):
        flask_command(env, "user", "create", f"t{n}@scale.example.org", "--role", "trainee", "--org", "Scale Hospital",
                      "--password-stdin", stdin=PASSWORD + "\n")
    with deployment(env, [free_port(), free_port()]) as bases:
        yield bases, postgres_url


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
