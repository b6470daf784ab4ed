"""The shape of every content file, as pydantic models: one place that says what is allowed.

pydantic reports every problem with the path to the offending value; the loader turns that path into a
file and line. Rules that span files (unique ids, answer spread, counts) live in rules.py.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

Key = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=100)]
QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
TrackCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,15}$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
QUESTION_TYPES = ("single", "truefalse", "multiple", "ordering", "numeric")


def _mapping_as_text(item):
    if isinstance(item, dict) and len(item) == 1:
        key, text = next(iter(item.items()))
        return f"{key}: {text}"
    return item


# A line of text in a YAML list; "IHE RAD TF-2: RAD-5" unquoted arrives as {"IHE RAD TF-2": "RAD-5"}.
Line = Annotated[Text, BeforeValidator(_mapping_as_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DomainSpec(Strict):
    key: Key
    title: Text
    summary: str = ""
    weight: int = Field(ge=1, le=100)


class TrackSpec(Strict):
    code: TrackCode
    title: Text
    order: int = 0
    requires: list[TrackCode] = []
    summary: str = ""
    description: str = ""
    domains: list[DomainSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def weights_add_up(self):
        total = sum(d.weight for d in self.domains)
        if total != 100:
            raise ValueError(f"domain weights add up to {total}; they must add up to 100")
        keys = [d.key for d in self.domains]
        if len(keys) != len(set(keys)):
            raise ValueError("two domains share a key")
        return self


class ExamSpec(Strict):
    length: int = Field(ge=1, le=500)
    time_limit_minutes: int = Field(ge=1, le=600)
    pass_mark: float = Field(gt=0, le=1)


class BlueprintSpec(Strict):
    track: TrackCode
    exam: ExamSpec
    domains: dict[Key, int]


class Choice(Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z]$")]
    text: Text

    @field_validator("text", mode="before")
    @classmethod
    def scalar_text(cls, value):
        # YAML reads True/False/numbers as such; a choice's text is always shown as written.
        return str(value) if isinstance(value, (bool, int, float)) else value


class Exhibit(Strict):
    kind: Literal["hl7", "dicom", "table", "text"]
    content: Text


class NumericAnswer(Strict):
    value: float
    tolerance: float = Field(ge=0)
    unit: str = ""


class QuestionSpec(Strict):
    id: QuestionId
    type: Literal[QUESTION_TYPES]
    difficulty: int = Field(default=2, ge=1, le=3)
    stem: Text
    exhibit: Exhibit | None = None
    choices: list[Choice] = []
    answer: Union[NumericAnswer, list[str], str]
    explanation: Text
    references: list[Line] = Field(min_length=1)

    @model_validator(mode="after")
    def answer_fits_type(self):
        ids = [c.id for c in self.choices]
        if ids != [chr(ord("a") + n) for n in range(len(ids))]:
            raise ValueError(f"choice ids must be a, b, c, ... in order; got {ids}")
        kind, answer = self.type, self.answer
        if kind == "numeric":
            if self.choices or not isinstance(answer, NumericAnswer):
                raise ValueError("a numeric question has no choices and an answer {value:, tolerance:, unit:}")
            return self
        if isinstance(answer, NumericAnswer):
            raise ValueError(f"a {kind} question's answer is a choice id or a list of them, not a number")
        if kind == "truefalse" and [c.text for c in self.choices] != ["True", "False"]:
            raise ValueError("a truefalse question has exactly the choices a: True, b: False")
        if kind in ("single", "truefalse"):
            if not isinstance(answer, str) or answer not in ids:
                raise ValueError(f"write the one correct choice id as the answer (one of {ids})")
            if kind == "single" and not 3 <= len(ids) <= 6:
                raise ValueError("a single-answer question has 3 to 6 choices")
        elif kind == "multiple":
            if not isinstance(answer, list) or len(answer) < 2 or len(set(answer)) != len(answer) \
                    or not set(answer) <= set(ids) or len(answer) == len(ids):
                raise ValueError(f"a multiple-answer question's answer lists 2 or more distinct ids of {ids}, not all")
            if not 4 <= len(ids) <= 6:
                raise ValueError("a multiple-answer question has 4 to 6 choices")
        elif kind == "ordering":
            if not isinstance(answer, list) or sorted(answer) != ids:
                raise ValueError(f"an ordering question's answer lists every choice id once, in order: {ids}")
            if not 3 <= len(ids) <= 6:
                raise ValueError("an ordering question has 3 to 6 choices")
        return self


class QuestionFileSpec(Strict):
    """A question file's header; each question is checked on its own against QuestionSpec."""

    track: TrackCode
    domain: Key
    questions: list[object] = Field(min_length=1)


class ModuleSpec(Strict):
    id: Key
    title: Text
    domain: Key
    order: int = 0
    summary: Text
    objectives: list[Line] = Field(min_length=1)
    minutes: int = Field(default=30, ge=1, le=600)


class SelfCheckSpec(QuestionSpec):
    """A lesson's self-check question: the question format, references optional."""

    references: list[Line] = []


class LessonSpec(Strict):
    title: Text
    minutes: int = Field(default=10, ge=1, le=240)
    self_check: list[SelfCheckSpec] = []


INTERNAL_LINK = re.compile(r"\]\((lesson|module|lab|track|console):([^)\s]+)\)")
CONSOLES = ("dicom", "admin", "ris", "viewer")


class PathStep(Strict):
    """One step of an onboarding path: exactly one of module, lab or exam, on a suggested day."""

    day: int = Field(ge=1, le=365)
    module: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9]{1,15}/[a-z0-9][a-z0-9-]*$")
    lab: Key | None = None
    exam: TrackCode | None = None
    note: str = ""

    @model_validator(mode="after")
    def exactly_one_target(self):
        if sum(x is not None for x in (self.module, self.lab, self.exam)) != 1:
            raise ValueError("a step names exactly one of module (TRACK/module-id), lab or exam (TRACK)")
        return self


class PathSpec(Strict):
    id: Key
    title: Text
    summary: Text
    description: str = ""
    steps: list[PathStep] = Field(min_length=1)
