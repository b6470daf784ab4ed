"""Assembling a mock exam on the blueprint; choosing practice questions."""
import random
from collections import Counter

import pytest

from academy.exams.selection import AssemblyError, Candidate, allocate, assemble, pick_practice


def bank(sizes: dict[str, int]) -> list[Candidate]:
    out, qid = [], 0
    for domain, size in sizes.items():
        for n in range(size):
            qid += 1
            out.append(Candidate(qid, 1000 + qid, domain, 1 + n % 3))
    return out


def test_allocation_follows_the_weights_and_sums_exactly():
    assert allocate(100, {"a": 22, "b": 22, "c": 16, "d": 12, "e": 14, "f": 14}) == \
        {"a": 22, "b": 22, "c": 16, "d": 12, "e": 14, "f": 14}
    counts = allocate(10, {"a": 60, "b": 25, "c": 15})
    assert sum(counts.values()) == 10 and counts == {"a": 6, "b": 3, "c": 1} or counts == {"a": 6, "b": 2, "c": 2}
    assert sum(allocate(7, {"x": 1, "y": 1, "z": 1}).values()) == 7


def test_an_exam_has_each_domains_share_no_repeats_and_a_spread_of_difficulty():
    weights = {"net": 50, "sto": 30, "sec": 20}
    exam = assemble(bank({"net": 60, "sto": 40, "sec": 30}), weights, 40, random.Random(1))
    assert len(exam) == 40 and len({c.question_id for c in exam}) == 40
    assert Counter(c.domain for c in exam) == {"net": 20, "sto": 12, "sec": 8}
    difficulties = Counter(c.difficulty for c in exam)
    assert all(count >= 12 for count in difficulties.values())  # the bank is a third each


def test_the_same_form_draws_the_same_exam_and_another_form_another():
    candidates = bank({"net": 60, "sto": 40})
    first = assemble(candidates, {"net": 50, "sto": 50}, 20, random.Random("TST:form-1"))
    again = assemble(candidates, {"net": 50, "sto": 50}, 20, random.Random("TST:form-1"))
    other = assemble(candidates, {"net": 50, "sto": 50}, 20, random.Random("TST:form-2"))
    assert first == again and first != other


def test_questions_seen_before_are_used_only_when_the_bank_runs_out():
    candidates = bank({"net": 20})
    seen = {c.question_id for c in candidates[:10]}
    exam = assemble(candidates, {"net": 100}, 10, random.Random(3), avoid=seen)
    assert not {c.question_id for c in exam} & seen
    exam = assemble(candidates, {"net": 100}, 15, random.Random(3), avoid=seen)
    assert len({c.question_id for c in exam} & seen) == 5


def test_a_bank_too_small_for_the_blueprint_is_a_clear_error():
    with pytest.raises(AssemblyError, match="domain 'sto' has 2 questions; this exam needs 5"):
        assemble(bank({"net": 20, "sto": 2}), {"net": 50, "sto": 50}, 10, random.Random(0))


def test_practice_prefers_unseen_then_most_missed_questions():
    candidates = bank({"net": 3})
    history = {1: (2, 2), 2: (3, 0)}
    assert pick_practice(candidates, history, random.Random(0)).question_id == 3
    history[3] = (1, 1)
    assert pick_practice(candidates, history, random.Random(0)).question_id == 2
    assert pick_practice(candidates, history, random.Random(0), exclude=2).question_id in (1, 3)
