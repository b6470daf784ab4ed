"""Reading a trainee's answer from a form and marking it, for every question type.

Shared by practice, review, mock exams and lessons' self-checks: one place decides what "correct" means.
"""
from __future__ import annotations

import math
import re

THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def parse_number(text: str) -> float:
    """A number as people type it: "262,144" and "262144" are the same; "2,5" is two and a half."""
    text = text.strip().replace(" ", "")
    text = text.replace(",", "") if THOUSANDS.match(text) else text.replace(",", ".")
    return float(text)


class ResponseError(ValueError):
    """The submitted answer cannot be an answer to this question; the message says why."""


def parse_response(question: dict, values: list[str]):
    """Turn form values into a stored response, refusing anything that is not a possible answer.

    single/truefalse: one choice id; multiple: a sorted list of ids; ordering: a list of every id in the
    trainee's order; numeric: a float.
    """
    kind = question["type"]
    ids = [choice["id"] for choice in question.get("choices") or ()]
    values = [v.strip() for v in values if v is not None and v.strip() != ""]
    if kind == "numeric":
        if len(values) != 1:
            raise ResponseError("Enter one number.")
        try:
            number = parse_number(values[0])
        except ValueError:
            raise ResponseError(f"'{values[0][:40]}' is not a number.") from None
        if not math.isfinite(number):
            raise ResponseError("Enter a finite number.")
        return number
    unknown = [v for v in values if v not in ids]
    if unknown:
        raise ResponseError("That answer is not one of this question's choices.")
    if kind in ("single", "truefalse"):
        if len(values) != 1:
            raise ResponseError("Choose one answer.")
        return values[0]
    if kind == "multiple":
        if not values:
            raise ResponseError("Choose at least one answer.")
        return sorted(set(values))
    if kind == "ordering":
        if sorted(values) != sorted(ids) or len(values) != len(ids):
            raise ResponseError("Place every item exactly once.")
        return values
    raise ResponseError(f"unknown question type {kind!r}")


def is_correct(question: dict, response) -> bool:
    """Mark a parsed response. Multiple-answer questions need exactly the right set (no partial credit)."""
    answer = question["answer"]
    kind = question["type"]
    if response is None:
        return False
    if kind == "numeric":
        return abs(float(response) - float(answer["value"])) <= float(answer["tolerance"]) + 1e-9
    if kind == "multiple":
        return sorted(response) == sorted(answer)
    if kind == "ordering":
        return list(response) == list(answer)
    return response == answer


def describe_answer(question: dict) -> str:
    """The correct answer in words, for feedback after answering."""
    answer = question["answer"]
    if question["type"] == "numeric":
        unit = f" {answer['unit']}" if answer.get("unit") else ""
        tolerance = f" (±{answer['tolerance']:g})" if answer["tolerance"] else ""
        return f"{answer['value']:g}{unit}{tolerance}"
    texts = {c["id"]: c["text"] for c in question["choices"]}
    if question["type"] == "ordering":
        return " → ".join(texts[i] for i in answer)
    ids = answer if isinstance(answer, list) else [answer]
    return "; ".join(f"{i.upper()}. {texts[i]}" for i in ids)
