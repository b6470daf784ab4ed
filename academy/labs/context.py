"""What a check may read: the trainee's partition through the sandbox API, since the run started."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import sandbox


@dataclass
class CheckContext:
    box: sandbox.Sandbox
    code: str
    since: datetime | int  # journal events after this (an event id, or a time) are the trainee's
    answers: dict[str, str] = field(default_factory=dict)  # knowledge check id -> the trainee's answer
    check_id: str = ""

    @cached_property
    def events(self) -> list[sandbox.JournalEvent]:
        """The partition's journal since the run began, oldest first (read once per grading)."""
        return self.box.journal(self.code, since=self.since)

    def find_events(self, prefix: str, **details) -> list[sandbox.JournalEvent]:
        """Events whose kind starts with `prefix` and whose details match (AE titles compared without case)."""
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

        return [e for e in self.events if e.kind.startswith(prefix) and matches(e)]
