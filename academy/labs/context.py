"""What a check may read: the trainee's partition through the sandbox API, since the run started."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
import sandbox

LIMIT = 5_000  # events of one kind a check looks at: the newest


@dataclass
class CheckContext:
    box: sandbox.Sandbox
    code: str
    since: datetime | int  # journal events after this (an event id, or a time) are the trainee's
    answers: dict[str, str] = field(default_factory=dict)  # knowledge check id -> the trainee's answer
    check_id: str = ""

    _by_kind: dict = field(default_factory=dict, repr=False)

    def of_kind(self, kind: str) -> list[sandbox.JournalEvent]:
        """The run's events of one kind (or a prefix ending in '.'), oldest first; one indexed query per
        kind per grading, and the newest ones when a busy run has more than the read limit."""
        if kind not in self._by_kind:
            self._by_kind[kind] = self.box.journal(self.code, kind=kind, since=self.since, limit=LIMIT, latest=True)
        return self._by_kind[kind]

    def find_events(self, kind: str, **details) -> list[sandbox.JournalEvent]:
        """Events of `kind` whose details match (AE titles compared without case)."""
        def matches(event) -> bool:
            for key, wanted in details.items():
                if wanted in (None, ""):
                    continue
                value = event.details.get(key)
                if isinstance(wanted, str) and isinstance(value, str):
                    if value.strip().upper() != wanted.strip().upper():
                        return False
                elif value != wanted:
                    return False
            return True

        return [e for e in self.of_kind(kind) if matches(e)]
