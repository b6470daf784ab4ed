"""Reading labs for the pages: the catalogue with a trainee's scores, prerequisites, a run's state."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from academy.content import visibility
from academy.labs import placeholders, registry
from academy.models import Lab, LabRun, Track


@dataclass
class LabScore:
    lab: Lab
    best: int | None
    latest: int | None
    attempts: int
    seconds: int
    hints: int
    active_run: LabRun | None


def catalogue(session: Session, user_id: int) -> dict[Track, list[LabScore]]:
    # The page names each lab's domain and track: load them with the labs, not one query per lab.
    labs = session.scalars(select(Lab).where(Lab.retired.is_(False)).join(Track)
                           .where(visibility.visible(visibility.organization_of(session, user_id)))
                           .options(joinedload(Lab.domain), joinedload(Lab.track))
                           .order_by(Track.position, Lab.position)).all()
    mine = session.scalars(select(LabRun).where(LabRun.user_id == user_id).order_by(LabRun.started_at)).all()
    by_lab: dict[int, list[LabRun]] = {}
    for run in mine:
        by_lab.setdefault(run.lab_id, []).append(run)
    result: dict[Track, list[LabScore]] = {}
    for lab in labs:
        result.setdefault(lab.track, []).append(score_of(lab, by_lab.get(lab.id, [])))
    return result


def score_of(lab: Lab, lab_runs: list[LabRun]) -> LabScore:
    submitted = [r for r in lab_runs if r.state == "submitted"]
    return LabScore(lab, max((r.score for r in submitted), default=None),
                    submitted[-1].score if submitted else None, len(lab_runs),
                    sum(r.seconds for r in lab_runs if r.state != "active"),
                    sum(len(r.hints) for r in lab_runs),
                    next((r for r in lab_runs if r.state == "active"), None))


def unmet_prerequisites(session: Session, user_id: int, lab: Lab) -> list[Lab]:
    keys = lab.spec.get("prerequisites") or []
    if not keys:
        return []
    seen = visibility.visible(lab.track.organization_id)  # a bundled lab or one of the same organisation
    done = set(session.scalars(select(Lab.key).join(LabRun, LabRun.lab_id == Lab.id).join(Track, Lab.track_id == Track.id)
                               .where(LabRun.user_id == user_id, LabRun.state == "submitted", Lab.key.in_(keys), seen)))
    return list(session.scalars(select(Lab).join(Track, Lab.track_id == Track.id).where(Lab.key.in_(set(keys) - done), seen)))


def knowledge_checks(spec: dict, values: dict[str, str] | None = None) -> list[dict]:
    """The questions a run page asks (the check's question only: never its expected value)."""
    return [{"id": c["id"], "question": placeholders.fill(c["params"]["question"], values or {})}
            for c in spec["checks"] if registry.get(c["type"]).knowledge]


def shown_checks(spec: dict, values: dict[str, str]) -> list[dict]:
    """The checks as the run page lists them: id, points and the hint (placeholders filled); never
    the parameters, which hold expected values."""
    return [{"id": c["id"], "points": c["points"],
             "hint": {"text": placeholders.fill(c["hint"]["text"], values), "cost": c["hint"]["cost"]} if c.get("hint") else None}
            for c in spec["checks"]]


def latest_results(run: LabRun) -> dict[str, object]:
    return {r.check_id: r for r in run.gradings[-1].results} if run.gradings else {}
