"""Many trainees on the hospital deployment at once: gunicorn workers, PostgreSQL, Redis and the sandbox
service (README, "Running it for a hospital"), with DICOM traffic into the trainees' partitions going on.

Each virtual trainee logs in, starts a mock exam and a lab, then loops over a weighted mix of pages with
a think time between them. Per page the figures are printed next to a bare /healthz, hammered by its own
thread against the same site in the same run: ratios, not absolute times, are what compare across machines.

Needs PostgreSQL (a database bench_<pid> is created for the run and dropped after; the server is taken
from ACADEMY_BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test) and Redis
(ACADEMY_BENCH_REDIS_URL, default redis://127.0.0.1:6379/0).

Usage: python benchmarks/web_load.py [--trainees 200] [--duration 60] [--workers N] [--threads 4]
"""
from __future__ import annotations

import argparse
import html
import logging
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.scale.stack import Browser, deployment, flask_command, free_port, site_env  # noqa: E402

PASSWORD = "load-test-password"
TRACK = "CPA"
LAB = "cpa-register-reading-workstation"
LESSONS = [("computer-hardware-and-storage", "01-inside-the-computer"), ("computer-hardware-and-storage", "02-disks-and-raid"),
           ("servers-storage-and-virtualisation", "01-das-nas-san-and-object-storage"),
           ("servers-storage-and-virtualisation", "04-capacity-planning")]
# page: (weight, statuses that count as served)
MIX = {"dashboard": (25, {200}), "lesson": (25, {200}), "practice question": (20, {200}),
       "practice answer": (0, {200, 400}), "exam page": (15, {200}), "lab page": (10, {200}),
       "lab check (grading)": (5, {302, 303})}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
ANSWER = re.compile(r'name="answer"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version_id" value="(\d+)"')


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.recording = False
        self.healthz_503 = 0

    def add(self, page: str, seconds: float, ok: bool) -> None:
        if not self.recording and not page.startswith("setup:"):
            return
        with self.lock:
            self.times[page].append(seconds)
            if not ok:
                self.errors[page] += 1


def timed(recorder: Recorder, page: str, call, expected: set[int]):
    started = time.perf_counter()
    try:
        result = call()
    except Exception:  # a refused or timed-out connection: an error, the trainee goes on
        recorder.add(page, time.perf_counter() - started, False)
        return None
    recorder.add(page, time.perf_counter() - started, result[0] in expected)
    return result


def setup_trainee(browser: Browser, n: int, recorder: Recorder, lab: bool) -> dict:
    _, page, _ = browser.get("/login")
    token = html.unescape(CSRF.search(page).group(1))
    status, _ = timed(recorder, "setup: log in", lambda: browser.post(
        "/login", {"email": f"t{n}@load.example.org", "password": PASSWORD}, "", token), {302})
    assert status == 302, f"login {status}"
    _, page, _ = browser.get("/exams")
    token = html.unescape(CSRF.search(page).group(1))
    status, location = timed(recorder, "setup: start mock exam", lambda: browser.post(
        f"/exams/{TRACK}/start", {}, "", token), {302})
    exam = re.search(r"/exams/(\d+)/1$", location)
    run = None
    if lab:
        status, location = timed(recorder, "setup: start lab run", lambda: browser.post(
            f"/labs/{LAB}/start", {}, "", token), {302})
        run = re.search(r"/runs/(\d+)$", location)
    code = None
    if run:
        _, page, _ = browser.get(f"/runs/{run.group(1)}")
        found = re.search(r"(R[0-9A-Z]{7})_PACS", page)
        code = found.group(1) if found else None
    return {"token": token, "exam": exam.group(1) if exam else None, "run": run.group(1) if run else None,
            "code": code}


def trainee(base: str, n: int, recorder: Recorder, stop: threading.Event, args, codes: list, problems: list,
            ready: list):
    browser, rng, think = Browser([base]), random.Random(n), args.think
    try:
        state = setup_trainee(browser, n, recorder, rng.random() < args.lab_share)
    except Exception as exc:
        problems.append(f"trainee {n} setup: {exc!r}")
        return
    finally:
        ready.append(n)
    if state["code"]:
        codes.append(state["code"])
    pages = [p for p, (w, _) in MIX.items() if w]
    weights = [MIX[p][0] for p in pages]
    token = state["token"]
    while not stop.is_set():
        page = rng.choices(pages, weights)[0]
        if page == "dashboard":
            timed(recorder, page, lambda: browser.get("/dashboard"), MIX[page][1])
        elif page == "lesson":
            module, lesson = rng.choice(LESSONS)
            timed(recorder, page, lambda: browser.get(f"/tracks/{TRACK}/modules/{module}/lessons/{lesson}"), MIX[page][1])
        elif page == "practice question":
            got = timed(recorder, page, lambda: browser.get(f"/practice/{TRACK}"), MIX[page][1])
            if got and got[0] == 200 and VERSION.search(got[1]):
                answer = ANSWER.search(got[1])
                data = {"version_id": VERSION.search(got[1]).group(1), "answer": answer.group(1) if answer else "1",
                        "confidence": "2"}
                time.sleep(rng.uniform(0.5, 1.5) * think)
                timed(recorder, "practice answer", lambda: browser.post(f"/practice/{TRACK}/answer", data, "", token),
                      MIX["practice answer"][1])
        elif page == "exam page" and state["exam"]:
            timed(recorder, page, lambda: browser.get(f"/exams/{state['exam']}/{rng.randint(1, 20)}"), MIX[page][1])
        elif page == "lab page" and state["run"]:
            timed(recorder, page, lambda: browser.get(f"/runs/{state['run']}"), MIX[page][1])
        elif page == "lab check (grading)" and state["run"]:
            timed(recorder, page, lambda: browser.post(f"/runs/{state['run']}/check", {}, "", token), MIX[page][1])
        stop.wait(rng.uniform(0.5, 1.5) * think)


def healthz(base: str, recorder: Recorder, stop: threading.Event, pause: float) -> None:
    browser = Browser([base])
    while not stop.is_set():
        # 503 is served too: a site using the sandbox *service* reports its (absent) local listener as down
        result = timed(recorder, "/healthz (reference)", lambda: browser.get("/healthz"), {200, 503})
        if result and result[0] == 503 and recorder.recording:
            recorder.healthz_503 += 1
        stop.wait(pause)


def dicom_traffic(port: int, codes: list, recorder: Recorder, stop: threading.Event, pause: float) -> None:
    """Modalities sending small studies into the trainees' partitions: one association per study."""
    from pynetdicom import AE, StoragePresentationContexts

    from sandbox import synth

    logging.getLogger("pynetdicom").setLevel(logging.WARNING)

    studies = [synth.generate_study(seed, "CT", rows=64, columns=64, images_per_series=2) for seed in range(20)]
    rng = random.Random(0)
    while not stop.is_set():
        if not codes:
            stop.wait(0.5)
            continue
        code = rng.choice(codes)
        ae = AE(ae_title=f"{code}_CT")
        ae.requested_contexts = StoragePresentationContexts[:100]
        started = time.perf_counter()
        ok = False
        try:
            assoc = ae.associate("127.0.0.1", port, ae_title=f"{code}_PACS")
            if assoc.is_established:
                statuses = [assoc.send_c_store(ds) for ds in rng.choice(studies)]
                assoc.release()
                ok = all(s and s.Status == 0 for s in statuses)
        except Exception:
            ok = False
        recorder.add("DICOM C-STORE study (2 images)", time.perf_counter() - started, ok)
        stop.wait(pause)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(recorder: Recorder, seconds: float) -> None:
    reference = recorder.times.get("/healthz (reference)") or [float("nan")]
    ref_p95 = percentile(reference, 0.95)
    print(f"{'page':<32} {'requests':>8} {'req/s':>7} {'median':>10} {'p95':>10} {'errors':>6} {'p95 / healthz p95':>18}")
    order = ["/healthz (reference)", *MIX, "DICOM C-STORE study (2 images)",
             "setup: log in", "setup: start mock exam", "setup: start lab run"]
    for page in order:
        times = recorder.times.get(page)
        if not times:
            continue
        p95 = percentile(times, 0.95)
        print(f"{page:<32} {len(times):>8} {len(times) / seconds:>7.1f} {statistics.median(times) * 1000:>7.1f} ms "
              f"{p95 * 1000:>7.1f} ms {recorder.errors.get(page, 0):>6} {p95 / ref_p95:>18.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainees", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60, help="measured seconds, after the ramp-up")
    parser.add_argument("--ramp", type=float, default=30, help="seconds over which the trainees log in")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--settle", type=float, default=180, help="at most this long for every trainee's set-up (s)")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time between a trainee's pages (s)")
    parser.add_argument("--lab-share", type=float, default=1.0, help="share of trainees who start a lab run")
    parser.add_argument("--dicom-pause", type=float, default=0.5, help="pause between DICOM studies sent (s)")
    args = parser.parse_args()

    import psycopg
    import sqlalchemy as sa

    server = sa.engine.make_url(os.environ.get("ACADEMY_BENCH_POSTGRES_URL",
                                               "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    redis_url = os.environ.get("ACADEMY_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    name = f"bench_{os.getpid()}"
    admin = dict(host=server.host, port=server.port or 5432, user=server.username, password=server.password,
                 dbname=server.database, autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = server.set(database=name).render_as_string(hide_password=False)
    folder = Path(tempfile.mkdtemp(prefix="academy-load-"))
    dicom_port = free_port()
    env = site_env(os.environ, database_url=database_url, data_dir=folder / "data", redis_url=redis_url,
                   dicom_port=dicom_port, hl7_port=free_port(),
                   # every virtual trainee comes from 127.0.0.1; a hospital's trainees come from many addresses
                   ACADEMY_LOGIN_LIMIT_ADDRESS="100000 per minute")
    try:
        started = time.monotonic()
        flask_command(env, "init")
        create_trainees(env, args.trainees)
        print(f"database, content and {args.trainees} accounts ready in {time.monotonic() - started:.0f} s", flush=True)
        gunicorn = ("-w", str(args.workers), "-k", args.worker_class, "--threads", str(args.threads))
        with deployment(env, [free_port()], gunicorn) as bases:
            run_load(bases[0], dicom_port, args)
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(folder, ignore_errors=True)


def create_trainees(env: dict, count: int) -> None:
    """The accounts, straight into the database (one password hash shared: argon2 is slow on purpose)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("ACADEMY_")})
    from academy import create_app
    from academy.auth import service
    from academy.extensions import db

    app = create_app()
    with app.app_context():
        org = service.get_or_create_organization(db.session, "Load Hospital")
        first = service.create_user(db.session, email="t0@load.example.org", password=PASSWORD, role="trainee",
                                    organization=org)
        service.hash_password = lambda password: first.password_hash  # this process only
        for n in range(1, count):
            service.create_user(db.session, email=f"t{n}@load.example.org", password=PASSWORD, role="trainee",
                                organization=org)
        db.session.commit()
        db.engine.dispose()


def run_load(base: str, dicom_port: int, args) -> None:
    recorder, stop, codes, problems, ready = Recorder(), threading.Event(), [], [], []
    threads = [threading.Thread(target=healthz, args=(base, recorder, stop, 0.05), daemon=True),
               threading.Thread(target=dicom_traffic, args=(dicom_port, codes, recorder, stop, args.dicom_pause),
                                daemon=True)]
    for thread in threads:
        thread.start()
    ramp_began = time.monotonic()
    for n in range(args.trainees):
        thread = threading.Thread(target=trainee, args=(base, n, recorder, stop, args, codes, problems, ready),
                                  daemon=True)
        thread.start()
        threads.append(thread)
        time.sleep(args.ramp / args.trainees)
    deadline = time.monotonic() + args.settle
    while len(ready) < args.trainees and time.monotonic() < deadline:  # they log in, start their exam and lab
        time.sleep(0.5)
    print(f"{len(ready)} of {args.trainees} trainees set up after {time.monotonic() - ramp_began:.0f} s ({len(codes)} lab runs, {len(problems)} setup problems); "
          f"measuring {args.duration:.0f} s", flush=True)
    recorder.recording = True
    began = time.monotonic()
    time.sleep(args.duration)
    recorder.recording = False
    elapsed = time.monotonic() - began
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    print(f"{args.trainees} trainees, think time {args.think} s mean; gunicorn -w {args.workers} -k {args.worker_class} "
          f"--threads {args.threads}; {os.cpu_count()} CPUs; {elapsed:.0f} s measured")
    if recorder.healthz_503:
        print(f"  note: {recorder.healthz_503} /healthz answers were 503 (listener 'down' in a sandbox client)")
    for problem in problems[:5]:
        print("  setup problem:", problem)
    report(recorder, elapsed)


if __name__ == "__main__":
    main()
