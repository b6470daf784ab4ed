"""Work done on a schedule rather than on a request: closing mock exams at their deadline even when no
browser is open, freeing finished lab runs' images (their traces stay), sending learning records to
organisations' learning record stores, and sending scores back to the LMSs trainees launched from (LTI AGS).

`python app.py` runs `Maintenance` on a thread; a scaled-out site runs `flask --app app maintenance`
from cron instead (both are safe to run in several places at once: every step is a conditional update).
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from flask import Flask

from academy import clock, sandbox_link
from academy.exams import mock_exams
from academy.extensions import db
from academy.labs import runs
from academy.lti import scores as lti_scores
from academy.records import lrs

log = logging.getLogger(__name__)
RELEASE_AFTER = timedelta(hours=24)


def run_once(app: Flask) -> dict:
    with app.app_context():
        now = clock.now()
        closed = mock_exams.expire_overdue(db.session, now)
        released = runs.release_finished(db.session, sandbox_link.get(), now, after=RELEASE_AFTER)
        records = lrs.run(db.session, now, app.config.get("ACADEMY_PUBLIC_URL") or
                          f"http://{app.config['ACADEMY_HOST']}:{app.config['ACADEMY_PORT']}")
        grades = lti_scores.run(db.session, now)  # after closing exams, so their scores go out this round
        db.session.remove()
    return {"exams_closed": closed, "partitions_released": released, **records, **grades}


class Maintenance(threading.Thread):
    def __init__(self, app: Flask, every: float = 30.0):
        super().__init__(name="academy-maintenance", daemon=True)
        self.app, self.every, self.stopped = app, every, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                done = run_once(self.app)
                if any(done.values()):
                    log.info("maintenance: %s", done)
            except Exception:  # the next round tries again; a request never depends on this thread
                log.exception("maintenance round failed")

    def stop(self) -> None:
        self.stopped.set()
