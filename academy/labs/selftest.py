"""The labs self-test: every lab's intended solution reaches full marks, and doing nothing scores zero.

No platform database is involved: each lab gets two throwaway partitions in the sandbox.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import sandbox
from academy.labs import grading, placeholders, solutions
from academy.labs.context import CheckContext


@dataclass
class SelfTestResult:
    lab_id: str
    solved: int
    idle: int
    max_score: int
    failures: list[str]
    solved_outcomes: list = field(default_factory=list)  # each check's outcome after the solution
    idle_outcomes: list = field(default_factory=list)  # and on a partition nobody touched

    @property
    def ok(self) -> bool:
        return self.solved == self.max_score and self.idle == 0


def _partition(box: sandbox.Sandbox, spec: dict, host: str, port: int, hl7_port: int):
    code = "S" + "".join(secrets.choice("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(7))
    box.create_partition(code)
    values = placeholders.values_for(code, host, port, hl7_port)
    box.apply_scenario(code, placeholders.fill(spec.get("scenario") or {}, values))
    events = box.journal(code)
    return code, values, events[-1].id if events else 0


def run(box: sandbox.Sandbox, spec: dict, *, hl7_port: int) -> SelfTestResult:
    host, port = box.dicom_address
    max_score = sum(c["points"] for c in spec["checks"])
    solved_code, values, mark = _partition(box, spec, host, port, hl7_port)
    idle_code, idle_values, idle_mark = _partition(box, spec, host, port, hl7_port)
    try:
        answers = solutions.play(box, solved_code, placeholders.fill(spec["solution"], values))
        solved = grading.grade(spec, CheckContext(box, solved_code, mark, answers), {}, values)
        idle = grading.grade(spec, CheckContext(box, idle_code, idle_mark, {}), {}, idle_values)
    finally:
        box.delete_partition(solved_code)
        box.delete_partition(idle_code)
    failures = [f"solution fails '{o.check_id}': {o.message}" for o in solved if not o.passed]
    failures += [f"doing nothing passes '{o.check_id}'" for o in idle if o.passed]
    return SelfTestResult(spec["id"], grading.total(solved), grading.total(idle), max_score, failures, solved, idle)
