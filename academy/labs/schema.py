"""The lab file format as pydantic models (docs/CONTENT_FORMAT.md, "Labs")."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from academy.content.schema import Key, Line, Strict, Text, TrackCode


class HintSpec(Strict):
    text: Text
    cost: int = Field(ge=0, le=100)


class CheckSpec(Strict):
    id: Key
    type: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)
    params: dict = {}
    points: int = Field(ge=0, le=100)
    pass_: Text = Field(alias="pass")
    fail: Text
    hint: HintSpec | None = None

    @model_validator(mode="after")
    def hint_costs_no_more_than_the_check(self):
        if self.hint and self.hint.cost > self.points:
            raise ValueError(f"the hint costs {self.hint.cost} points but the check is worth only {self.points}")
        return self


class LabSpec(Strict):
    id: Key
    track: TrackCode
    domain: Key
    title: Text
    level: Literal["guided", "practice", "break-fix"]
    minutes: int = Field(ge=1, le=600)
    prerequisites: list[Key] = []
    objectives: list[Line] = Field(min_length=1)
    scenario: dict = {}
    instructions: Text
    checks: list[CheckSpec] = Field(min_length=1)
    # The intended solution, as steps the self-test plays through the sandbox API (never shown to trainees).
    solution: list[dict] = Field(min_length=1)

    @model_validator(mode="after")
    def check_ids_unique(self):
        ids = [c.id for c in self.checks]
        if len(ids) != len(set(ids)):
            raise ValueError("two checks share an id")
        if sum(c.points for c in self.checks) <= 0:
            raise ValueError("the checks are worth no points")
        return self
