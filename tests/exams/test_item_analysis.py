"""Item statistics on a small data set worked out by hand."""
import math

import pytest

from academy.exams.item_analysis import form_stats, item_stats, point_biserial, upper_lower
from academy.exams.mastery import domain_mastery, readiness

# Five takers, four items (1 = right). Totals: 4, 3, 2, 1, 0... see rows.
MATRIX = [
    [1, 1, 1, 1],
    [1, 1, 1, 0],
    [1, 1, 0, 0],
    [1, 0, 0, 0],
    [0, 0, 0, 1],
]


def test_form_statistics_match_the_hand_computation():
    stats = form_stats(MATRIX)
    # totals 4, 3, 2, 1, 1 -> mean 2.2; population variance (3.24+0.64+0.04+1.44+1.44)/5 = 1.36
    assert stats.mean == pytest.approx(2.2)
    assert stats.sd == pytest.approx(math.sqrt(1.36))
    # p = .8, .6, .4, .4 -> sum pq = .16 + .24 + .24 + .24 = .88; KR-20 = 4/3 * (1 - .88/1.36) = 0.47059
    assert stats.kr20 == pytest.approx(4 / 3 * (1 - 0.88 / 1.36))


def test_point_biserial_against_the_rest_score_matches_the_hand_computation():
    item = [row[0] for row in MATRIX]              # 1 1 1 1 0
    rest = [sum(row) - row[0] for row in MATRIX]    # 3 2 1 0 1
    # mean rest of right = 1.5, of wrong = 1; population sd of rest: mean 1.4,
    # var = (2.56+.36+.16+1.96+.16)/5 = 1.04; r = (1.5-1)/sqrt(1.04) * sqrt(.8*.2) = 0.19612
    assert point_biserial(item, rest) == pytest.approx(0.5 / math.sqrt(1.04) * math.sqrt(0.16))
    assert point_biserial([1, 1, 1], [1, 2, 3]) is None  # an item everyone got right says nothing


def test_an_item_that_strong_candidates_miss_discriminates_negatively():
    item = [row[3] for row in MATRIX]              # 1 0 0 0 1
    totals = [sum(row) for row in MATRIX]
    stats = item_stats(item, ["a", "b", "b", "c", "a"], item, totals)
    assert stats.facility == pytest.approx(0.4)
    assert stats.point_biserial < 0
    assert "discriminates negatively" in stats.flags
    assert stats.choice_counts == {"a": 2, "b": 2, "c": 1}


def test_upper_lower_index():
    totals = [10, 9, 8, 7, 3, 2, 1, 0]
    item = [1, 1, 1, 0, 1, 0, 0, 0]
    # 27% of 8 rounds to 2: top two both right, bottom two both wrong -> D = 1
    assert upper_lower(item, totals) == pytest.approx(1.0)


def test_few_answers_are_not_judged():
    stats = item_stats([1, 0], ["a", "b"], [], [])
    assert stats.flags == ["too few answers to judge"]


def test_mastery_grows_with_right_answers_and_its_range_narrows():
    nothing = domain_mastery([])
    assert nothing.mean == pytest.approx(0.5) and nothing.answers == 0
    some = domain_mastery([(True, 2)] * 5)
    many = domain_mastery([(True, 2)] * 30)
    assert some.mean > 0.5 and many.mean > some.mean
    assert (many.high - many.low) < (some.high - some.low) < (nothing.high - nothing.low)


def test_recent_answers_count_more_than_old_ones():
    improving = domain_mastery([(True, 2)] * 10 + [(False, 2)] * 10)   # most recent first
    declining = domain_mastery([(False, 2)] * 10 + [(True, 2)] * 10)
    assert improving.mean > 0.5 > declining.mean


def test_readiness_combines_domains_by_weight_and_is_uncertain_without_data():
    strong, weak = domain_mastery([(True, 2)] * 40), domain_mastery([(False, 2)] * 40)
    ready = readiness({"a": strong, "b": weak}, {"a": 80, "b": 20}, 0.7, 100)
    assert ready.expected_score == pytest.approx(0.8 * strong.mean + 0.2 * weak.mean)
    assert ready.pass_probability > 0.5
    blank = readiness({"a": domain_mastery([]), "b": domain_mastery([])}, {"a": 50, "b": 50}, 0.7, 100)
    assert blank.expected_score == pytest.approx(0.5) and blank.pass_probability < 0.2
    assert blank.high - blank.low > ready.high - ready.low
