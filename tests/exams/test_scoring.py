"""Marking every question type, and refusing what is not an answer."""
import pytest

from academy.exams.scoring import ResponseError, describe_answer, is_correct, parse_response

CHOICES = [{"id": c, "text": t} for c, t in zip("abcd", ["104", "80", "2575", "443"])]
SINGLE = {"type": "single", "choices": CHOICES, "answer": "a"}
MULTIPLE = {"type": "multiple", "choices": CHOICES, "answer": ["a", "c"]}
ORDERING = {"type": "ordering", "choices": CHOICES, "answer": ["b", "a", "d", "c"]}
NUMERIC = {"type": "numeric", "choices": [], "answer": {"value": 2.5, "tolerance": 0.05, "unit": "GB"}}
TRUEFALSE = {"type": "truefalse", "choices": [{"id": "a", "text": "True"}, {"id": "b", "text": "False"}], "answer": "b"}


@pytest.mark.parametrize("question,values,correct", [
    (SINGLE, ["a"], True), (SINGLE, ["b"], False),
    (TRUEFALSE, ["b"], True), (TRUEFALSE, ["a"], False),
    (MULTIPLE, ["c", "a"], True), (MULTIPLE, ["a"], False), (MULTIPLE, ["a", "c", "d"], False),
    (ORDERING, ["b", "a", "d", "c"], True), (ORDERING, ["a", "b", "d", "c"], False),
    (NUMERIC, ["2.5"], True), (NUMERIC, ["2,54"], True), (NUMERIC, ["2.56"], False), (NUMERIC, [" 2.45 "], True),
    ({**NUMERIC, "answer": {"value": 262144, "tolerance": 0}}, ["262,144"], True),
    ({**NUMERIC, "answer": {"value": 262144, "tolerance": 0}}, ["262 144"], True),
])
def test_each_type_is_marked_right_and_wrong(question, values, correct):
    assert is_correct(question, parse_response(question, values)) is correct


@pytest.mark.parametrize("question,values,message", [
    (SINGLE, ["e"], "not one of this question's choices"),
    (SINGLE, ["a", "b"], "Choose one answer"),
    (SINGLE, [], "Choose one answer"),
    (MULTIPLE, [], "Choose at least one"),
    (ORDERING, ["a", "a", "b", "c"], "Place every item exactly once"),
    (ORDERING, ["a", "b"], "Place every item exactly once"),
    (NUMERIC, ["two and a half"], "is not a number"),
    (NUMERIC, ["nan"], "finite"),
    (NUMERIC, ["1", "2"], "Enter one number"),
])
def test_what_is_not_an_answer_is_refused_with_a_reason(question, values, message):
    with pytest.raises(ResponseError, match=message):
        parse_response(question, values)


def test_an_unanswered_question_is_wrong():
    assert is_correct(SINGLE, None) is False


def test_the_answer_is_described_in_words():
    assert describe_answer(SINGLE) == "A. 104"
    assert describe_answer(MULTIPLE) == "A. 104; C. 2575"
    assert describe_answer(ORDERING) == "80 → 104 → 443 → 2575"
    assert describe_answer(NUMERIC) == "2.5 GB (±0.05)"
