"""Knowledge checks: the trainee answers a question in the lab page, from what they found in the sandbox.

The expected value lives in the lab file and on the server only; the page shows `question` and an
answer box.
"""
from __future__ import annotations

import re

from pydantic import field_validator

from academy.exams.scoring import parse_number
from academy.labs.context import CheckContext
from academy.labs.registry import Outcome, Params, check


class Question(Params):
    question: str


def _given(ctx: CheckContext) -> str | None:
    value = ctx.answers.get(ctx.check_id)
    return value.strip() if value and value.strip() else None


class Exact(Question):
    value: str
    case_sensitive: bool = False


@check("answer_exact", Exact, knowledge=True)
def answer_exact(ctx: CheckContext, p: Exact) -> Outcome:
    """The trainee's answer equals the expected text (spaces trimmed; case ignored unless asked)."""
    given = _given(ctx)
    if given is None:
        return Outcome(False, "Not answered yet.")
    same = given == p.value if p.case_sensitive else given.upper() == p.value.strip().upper()
    return Outcome(same, "Right." if same else f"'{given}' is not right.")


class OneOf(Question):
    values: list[str]


@check("answer_one_of", OneOf, knowledge=True)
def answer_one_of(ctx: CheckContext, p: OneOf) -> Outcome:
    """The trainee's answer is one of several accepted texts."""
    given = _given(ctx)
    if given is None:
        return Outcome(False, "Not answered yet.")
    ok = given.upper() in {v.strip().upper() for v in p.values}
    return Outcome(ok, "Right." if ok else f"'{given}' is not right.")


class Numeric(Question):
    value: float
    tolerance: float = 0.0
    unit: str = ""


@check("answer_numeric", Numeric, knowledge=True)
def answer_numeric(ctx: CheckContext, p: Numeric) -> Outcome:
    """The trainee's number is within the tolerance of the expected value."""
    given = _given(ctx)
    if given is None:
        return Outcome(False, "Not answered yet.")
    try:
        number = parse_number(given.removesuffix(p.unit).strip() if p.unit else given)
    except ValueError:
        return Outcome(False, f"'{given}' is not a number.")
    ok = abs(number - p.value) <= p.tolerance + 1e-9
    return Outcome(ok, "Right." if ok else f"{number:g}{(' ' + p.unit) if p.unit else ''} is not right.")


class Pattern(Question):
    pattern: str

    @field_validator("pattern")
    @classmethod
    def compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value


@check("answer_pattern", Pattern, knowledge=True)
def answer_pattern(ctx: CheckContext, p: Pattern) -> Outcome:
    """The trainee's answer matches a regular expression (whole answer, case ignored)."""
    given = _given(ctx)
    if given is None:
        return Outcome(False, "Not answered yet.")
    ok = re.fullmatch(p.pattern, given, flags=re.IGNORECASE) is not None
    return Outcome(ok, "Right." if ok else f"'{given}' is not right.")
