"""Where a console works: a lab run's partition, or the trainee's practice partition."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, url_for
from flask_login import current_user

from academy import sandbox_link
from academy.extensions import db
from academy.labs import runs
from academy.models import LabRun


@dataclass
class Workspace:
    code: str
    title: str
    run: LabRun | None

    def url(self, endpoint: str, **values) -> str:
        if self.run is not None:
            return url_for(f"labs.run_{endpoint}", run_id=self.run.id, **values)
        return url_for(f"labs.practice_{endpoint}", **values)

    @property
    def back_url(self) -> str:
        return url_for("labs.run", run_id=self.run.id) if self.run else url_for("learn.dashboard")


def connection(code: str) -> runs.Connection:
    box = sandbox_link.get()
    host, port = box.dicom_address
    return runs.Connection(code, host, port, sandbox_link.hl7_port(box))


def for_run(run_id: int, *, active: bool = True) -> Workspace:
    """The current user's run (404 for anyone else's), optionally refusing finished runs."""
    run = runs.owned(db.session, current_user.id, run_id)
    if run is None:
        abort(404)
    if active and run.state != "active":
        abort(409, "This run is finished: its partition is read-only now. Start the lab again to practise more.")
    return Workspace(run.partition_code, run.lab.title, run)


def for_practice() -> Workspace:
    space = runs.practice_space(db.session, sandbox_link.get(), current_user.id, connection)
    db.session.commit()
    return Workspace(space.partition_code, "Practice partition", None)


