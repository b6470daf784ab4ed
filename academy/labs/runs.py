"""Lab runs: start, check my work, hints, answers, reset, submit, abandon, clean up.

Each run gets a partition of its own, named from the run's id, set up from the lab's scenario. The
journal events after `journal_mark` are the trainee's; setting the scenario up does not count.
Submission is claimed with one conditional UPDATE, so a double click yields one result.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import sandbox
from academy.labs import grading, placeholders, registry
from academy.labs.context import CheckContext
from academy.lti import scores as lti_scores
from academy.models import CheckResult, Grading, HintTaken, Lab, LabAnswer, LabRun, PracticeSpace

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_ANSWER = 500
CODE_TRIES = 5


class LabError(Exception):
    """Something the trainee asked for cannot be done; the message says why."""


def new_partition(box: sandbox.Sandbox, prefix: str) -> str:
    """Create a partition with a fresh random code: the prefix and 7 base-36 characters (78 billion
    codes), so codes never depend on this database's ids and never collide with a partition that
    another site instance, or an older database, already made in the same sandbox."""
    for _ in range(CODE_TRIES):
        code = prefix + "".join(secrets.choice(DIGITS) for _ in range(7))
        try:
            box.create_partition(code)
            return code
        except ValueError:  # taken: draw again
            continue
    raise LabError("No free partition code could be found; try again.")


@dataclass(frozen=True)
class Connection:
    """Where the trainee's own tools should point."""

    code: str
    host: str
    dicom_port: int
    hl7_port: int

    @property
    def values(self) -> dict[str, str]:
        return placeholders.values_for(self.code, self.host, self.dicom_port, self.hl7_port)


def _mark(box: sandbox.Sandbox, code: str) -> int:
    events = box.journal(code)
    return events[-1].id if events else 0


def _provision(box: sandbox.Sandbox, run: LabRun, connection: Connection) -> None:
    scenario = placeholders.fill(run.spec.get("scenario") or {}, connection.values)
    try:
        box.apply_scenario(run.partition_code, scenario)
    except sandbox.ScenarioError as exc:
        raise LabError(f"This lab's scenario cannot be built: {exc}") from None
    run.journal_mark = _mark(box, run.partition_code)


def active_run(session: Session, user_id: int, lab: Lab) -> LabRun | None:
    return session.scalar(select(LabRun).where(LabRun.user_id == user_id, LabRun.lab_id == lab.id,
                                               LabRun.state == "active"))


def start(session: Session, box: sandbox.Sandbox, user_id: int, lab: Lab, now: datetime,
          connection_for) -> LabRun:
    """A fresh run with a fresh partition; a trainee with an active run of this lab gets that one."""
    existing = active_run(session, user_id, lab)
    if existing is not None:
        return existing
    run = LabRun(user_id=user_id, lab=lab, lab_version=lab.version, spec=lab.spec, started_at=now,
                 max_score=lab.max_score)
    session.add(run)
    session.flush()
    run.partition_code = new_partition(box, "R")
    try:
        _provision(box, run, connection_for(run.partition_code))
    except Exception:
        box.delete_partition(run.partition_code)
        raise
    return run


def owned(session: Session, user_id: int, run_id: int) -> LabRun | None:
    run = session.get(LabRun, run_id)
    return run if run is not None and run.user_id == user_id else None


def _require_active(run: LabRun) -> None:
    if run.state != "active":
        raise LabError("This run is finished; start the lab again to try once more.")


def save_answers(session: Session, run: LabRun, answers: dict[str, str], now: datetime) -> None:
    """Store the trainee's answers to the lab's knowledge checks (others are ignored)."""
    _require_active(run)
    knowledge = {c["id"] for c in run.spec["checks"] if registry.get(c["type"]).knowledge}
    stored = {a.check_id: a for a in run.answers}
    for check_id, value in answers.items():
        if check_id not in knowledge:
            continue
        value = (value or "").strip()
        if len(value) > MAX_ANSWER:
            raise LabError(f"An answer can have at most {MAX_ANSWER} characters.")
        if check_id in stored:
            stored[check_id].value, stored[check_id].at = value, now
        elif value:
            run.answers.append(LabAnswer(check_id=check_id, value=value, at=now))


def take_hint(session: Session, run: LabRun, check_id: str, now: datetime) -> str:
    """Record the hint as taken (it costs its points on that check) and return its text."""
    _require_active(run)
    check = next((c for c in run.spec["checks"] if c["id"] == check_id), None)
    if check is None or not check.get("hint"):
        raise LabError("That check has no hint.")
    if not any(h.check_id == check_id for h in run.hints):
        run.hints.append(HintTaken(check_id=check_id, cost=check["hint"]["cost"], at=now))
    return check["hint"]["text"]


def grade(session: Session, box: sandbox.Sandbox, run: LabRun, now: datetime, connection: Connection,
          *, final: bool = False) -> Grading:
    """Check the trainee's work now and store the grading with each check's result."""
    ctx = CheckContext(box, run.partition_code, run.journal_mark,
                       answers={a.check_id: a.value for a in run.answers})
    outcomes = grading.grade(run.spec, ctx, {h.check_id: h.cost for h in run.hints}, connection.values)
    result = Grading(run=run, at=now, score=grading.total(outcomes), max_score=run.max_score, final=final,
                     results=[CheckResult(check_id=o.check_id, passed=o.passed, points=o.points,
                                          message=o.message, event_id=o.event_id) for o in outcomes])
    session.add(result)
    return result


def submit(session: Session, box: sandbox.Sandbox, run: LabRun, now: datetime, connection: Connection) -> bool:
    """Final grading. Returns False (and changes nothing) when the run was already finished."""
    claimed = session.execute(update(LabRun).where(LabRun.id == run.id, LabRun.state == "active")
                              .values(state="submitted", finished_at=now)).rowcount
    session.refresh(run)
    if claimed != 1:
        return False
    final = grade(session, box, run, now, connection, final=True)
    run.score = final.score
    lti_scores.queue_for_run(session, run, now)  # the LMS the trainee launched this lab from gets the score
    return True


def abandon(session: Session, run: LabRun, now: datetime) -> bool:
    claimed = session.execute(update(LabRun).where(LabRun.id == run.id, LabRun.state == "active")
                              .values(state="abandoned", finished_at=now)).rowcount
    session.refresh(run)
    return claimed == 1


def reset(session: Session, box: sandbox.Sandbox, run: LabRun, connection: Connection) -> None:
    """Back to a fresh partition for the same lab; hints already taken stay taken."""
    _require_active(run)
    box.reset_partition(run.partition_code)
    _provision(box, run, connection)


def release_finished(session: Session, box: sandbox.Sandbox, now: datetime, *, after: timedelta) -> int:
    """Free the images of partitions whose runs finished long enough ago; their journal stays for the trace."""
    runs = session.scalars(select(LabRun).where(LabRun.state != "active", LabRun.partition_released.is_(False),
                                                LabRun.finished_at < now - after)).all()
    for run in runs:
        box.release_partition_data(run.partition_code)
        run.partition_released = True
        session.commit()
    return len(runs)


def practice_space(session: Session, box: sandbox.Sandbox, user_id: int, connection_for) -> PracticeSpace:
    """The trainee's own partition for "try it" links, made on first use with a few studies in it."""
    space = session.scalar(select(PracticeSpace).where(PracticeSpace.user_id == user_id))
    if space is not None:
        return space
    space = PracticeSpace(user_id=user_id, partition_code=new_partition(box, "P"))
    session.add(space)
    session.flush()
    values = connection_for(space.partition_code).values
    box.apply_scenario(space.partition_code, {
        "studies": [{"modality": "CT", "seed": user_id, "images": 4, "description": "CT CHEST"},
                    {"modality": "MR", "seed": user_id + 1, "images": 3, "description": "MR BRAIN"},
                    {"modality": "CR", "seed": user_id + 2, "images": 1, "description": "CR CHEST 2 VIEWS"}],
        "nodes": [{"ae_title": values[ae], "host": "127.0.0.1", "port": int(values["DICOM_PORT"]),
                   "description": description}
                  for ae, description in (("WS_AE", "reading workstation"), ("CT_AE", "CT scanner"))],
    })
    return space
