"""Running a lab's checks against the trainee's partition and turning the outcomes into a score.

No database and no HTTP here: `grade` takes the lab's spec, a CheckContext and the hints taken, and
returns plain results; runs.py stores them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import academy.labs.checks  # noqa: F401  (registers every check type)
from academy.labs import placeholders
from academy.labs.context import CheckContext
from academy.labs.registry import Outcome, get

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckOutcome:
    check_id: str
    passed: bool
    points: int       # awarded, after the hint's cost
    max_points: int
    message: str
    event_id: int | None


def run_check(check: dict, ctx: CheckContext, values: dict[str, str]) -> Outcome:
    """One check; a check that breaks fails with a message instead of breaking the grading."""
    check_type = get(check["type"])
    params = check_type.params.model_validate(placeholders.fill(check.get("params") or {}, values))
    ctx.check_id = check["id"]
    try:
        return check_type.run(ctx, params)
    except Exception:  # a broken check must not cost the trainee the other checks
        log.exception("check %s (%s) failed to run", check["id"], check["type"])
        return Outcome(False, "This check could not run just now; try again in a moment.")


def grade(spec: dict, ctx: CheckContext, hints: dict[str, int], values: dict[str, str]) -> list[CheckOutcome]:
    """Every check of the lab; a passed check earns its points less the cost of a hint taken for it."""
    outcomes = []
    for check in spec["checks"]:
        outcome = run_check(check, ctx, values)
        points = max(0, check["points"] - hints.get(check["id"], 0)) if outcome.passed else 0
        message = placeholders.fill(check["pass"] if outcome.passed else check["fail"], values)
        outcomes.append(CheckOutcome(check["id"], outcome.passed, points, check["points"],
                                     f"{message} {outcome.message}".strip(), outcome.event_id))
    return outcomes


def total(outcomes: list[CheckOutcome]) -> int:
    return sum(o.points for o in outcomes)
