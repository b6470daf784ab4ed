"""A lab's try-it for its author: validate the draft, then play its solution and an idle run in the sandbox.

It uses the labs self-test (academy.labs.selftest) on two throwaway partitions, so the author sees each
check pass after the intended solution and fail when nothing was done, before any trainee meets the lab.
"""
from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

import sandbox
from academy import sandbox_link
from academy.authoring import publish, tree
from academy.labs import selftest

log = logging.getLogger(__name__)


@dataclass
class TryOut:
    problems: list[str] = field(default_factory=list)
    result: selftest.SelfTestResult | None = None
    error: str = ""


def run(session: Session, file, box: sandbox.Sandbox) -> TryOut:
    files = tree.current_files(session, file.organization_id)
    with tempfile.TemporaryDirectory(prefix="academy-try-") as folder:
        bundle = publish.load_files(files, Path(folder), publish.bundled_context(session))
        mine = Path(folder) / file.path
        problems = [publish.shown(p, Path(folder)) for p in bundle.problems if p.path == mine]
        lab = next((lab for lab in bundle.labs.values() if lab.path == mine), None)
    if problems or lab is None:
        return TryOut(problems=problems or [f"{file.path}: the lab does not load"])
    try:
        return TryOut(result=selftest.run(box, lab.spec.model_dump(mode="json", by_alias=True),
                                          hl7_port=sandbox_link.hl7_port(box)))
    except Exception as exc:  # noqa: BLE001  an author's lab must not take the page down; the log has the detail
        log.exception("try-it of %s failed", file.path)
        return TryOut(error=f"The sandbox could not run the lab ({type(exc).__name__}). Check the scenario and solution.")
