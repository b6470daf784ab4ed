"""Classical item analysis for instructors: how each question and each exam form behaves.

Pure functions on plain data, checked in the tests against values worked out by hand.
- facility index p: the share of answers that were right;
- discrimination: the point-biserial correlation between the item and the rest of the exam (the total
  without this item, so an item does not correlate with itself), and the upper-lower index
  D = p(top 27%) - p(bottom 27%);
- distractors: how often each choice was picked;
- per exam form: mean, standard deviation and KR-20 reliability.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

MIN_ANSWERS = 5  # below this an item's statistics say nothing; they are shown as "too few answers"


@dataclass
class ItemStats:
    answers: int
    facility: float | None
    point_biserial: float | None
    upper_lower: float | None
    choice_counts: dict[str, int] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def _mean(values):
    return sum(values) / len(values)


def _pstdev(values):
    mean = _mean(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


def point_biserial(item: list[int], rest: list[float]) -> float | None:
    """Correlation of a 0/1 item with the rest score; None when either does not vary."""
    if len(item) < 2 or len(set(item)) < 2:
        return None
    sd = _pstdev(rest)
    if sd == 0:
        return None
    p = _mean(item)
    right = [r for i, r in zip(item, rest) if i]
    wrong = [r for i, r in zip(item, rest) if not i]
    return (_mean(right) - _mean(wrong)) / sd * math.sqrt(p * (1 - p))


def upper_lower(item: list[int], totals: list[float], share: float = 0.27) -> float | None:
    n = max(1, round(len(totals) * share))
    if len(totals) < 2 * n or len(totals) < 4:
        return None
    order = sorted(range(len(totals)), key=lambda i: totals[i])
    lower, upper = order[:n], order[-n:]
    return _mean([item[i] for i in upper]) - _mean([item[i] for i in lower])


def item_stats(correct: list[int], choices: list, exam_correct: list[int], exam_totals: list[float]) -> ItemStats:
    """Statistics of one question.

    `correct`/`choices`: every answer to it (0/1, and the response for the distractor counts);
    `exam_correct`/`exam_totals`: its answers inside submitted exams with each exam's total score
    (including this item), for the discrimination indices.
    """
    counts: Counter = Counter()
    for response in choices:
        for picked in (response if isinstance(response, list) else [response]):
            if picked is not None:
                counts[str(picked)] += 1
    n = len(correct)
    if n == 0:
        return ItemStats(0, None, None, None, dict(counts), ["no answers yet"])
    facility = _mean(correct)
    rest = [t - c for t, c in zip(exam_totals, exam_correct)]
    stats = ItemStats(n, facility, point_biserial(exam_correct, rest), upper_lower(exam_correct, exam_totals),
                      dict(counts))
    if n < MIN_ANSWERS:
        stats.flags.append("too few answers to judge")
        return stats
    if facility > 0.9:
        stats.flags.append("too easy")
    if facility < 0.3:
        stats.flags.append("too hard")
    if stats.point_biserial is not None and stats.point_biserial < 0:
        stats.flags.append("discriminates negatively")
    elif stats.point_biserial is not None and stats.point_biserial < 0.15:
        stats.flags.append("discriminates weakly")
    return stats


def score_summary(totals: list[float]) -> tuple[int, float, float]:
    """Takers, mean and standard deviation of a list of exam scores."""
    return (len(totals), _mean(totals), _pstdev(totals)) if totals else (0, 0.0, 0.0)


@dataclass(frozen=True)
class FormStats:
    takers: int
    items: int
    mean: float
    sd: float
    kr20: float | None


def form_stats(matrix: list[list[int]]) -> FormStats:
    """Statistics of one exam form from its 0/1 matrix (one row per taker, one column per item).

    KR-20 = k/(k-1) * (1 - sum(p*q) / variance of totals), with population variances.
    """
    takers, items = len(matrix), len(matrix[0]) if matrix else 0
    totals = [sum(row) for row in matrix]
    mean = _mean(totals) if totals else 0.0
    sd = _pstdev(totals) if totals else 0.0
    kr20 = None
    if takers >= 2 and items >= 2 and sd > 0:
        pq = 0.0
        for column in range(items):
            p = sum(row[column] for row in matrix) / takers
            pq += p * (1 - p)
        kr20 = items / (items - 1) * (1 - pq / sd ** 2)
    return FormStats(takers, items, mean, sd, kr20)
