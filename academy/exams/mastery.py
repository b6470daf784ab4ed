"""How well a trainee knows each domain, and how ready they are for a track's exam — with honest
uncertainty. Pure functions on plain data; the service feeds them the trainee's attempts.

Mastery of a domain is a Beta posterior over "probability of answering a question of this domain
right", starting from Beta(1, 1) (knowing nothing), where each answer counts with a weight that
halves every HALF_LIFE answers back (recent answers matter more) and is larger for harder questions
answered right and for easier questions answered wrong (those say more).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

HALF_LIFE = 12           # answers
Z80 = 1.2816             # the two-sided 80% interval of a normal distribution
EVIDENCE = {  # (difficulty, correct) -> weight
    (1, True): 0.8, (2, True): 1.0, (3, True): 1.25,
    (1, False): 1.25, (2, False): 1.0, (3, False): 0.8,
}


@dataclass(frozen=True)
class Estimate:
    mean: float
    low: float
    high: float
    answers: int

    @property
    def sd(self) -> float:
        return (self.high - self.low) / (2 * Z80)


def domain_mastery(answers: list[tuple[bool, int]]) -> Estimate:
    """`answers`: (correct, difficulty) pairs, most recent first."""
    alpha = beta = 1.0
    for rank, (correct, difficulty) in enumerate(answers):
        weight = 0.5 ** (rank / HALF_LIFE) * EVIDENCE.get((difficulty, bool(correct)), 1.0)
        if correct:
            alpha += weight
        else:
            beta += weight
    total = alpha + beta
    mean = alpha / total
    sd = math.sqrt(alpha * beta / (total * total * (total + 1)))
    return Estimate(mean, max(0.0, mean - Z80 * sd), min(1.0, mean + Z80 * sd), len(answers))


@dataclass(frozen=True)
class Readiness:
    expected_score: float
    low: float
    high: float
    pass_probability: float
    answers: int


def readiness(masteries: dict[str, Estimate], weights: dict[str, int], pass_mark: float,
              exam_length: int) -> Readiness:
    """The expected mock-exam score (blueprint-weighted mastery) with an 80% interval, and the chance
    of reaching the pass mark — counting both what we do not know about the trainee and the luck of
    which questions an exam of `exam_length` draws."""
    total_weight = sum(weights.values())
    expected = sum(masteries[d].mean * w for d, w in weights.items()) / total_weight
    knowledge_var = sum((w / total_weight) ** 2 * masteries[d].sd ** 2 for d, w in weights.items())
    sampling_var = expected * (1 - expected) / exam_length
    sd = math.sqrt(knowledge_var + sampling_var)
    probability = 0.5 * (1 + math.erf((expected - pass_mark) / (sd * math.sqrt(2)))) if sd > 0 else float(expected >= pass_mark)
    answers = sum(m.answers for m in masteries.values())
    return Readiness(expected, max(0.0, expected - Z80 * sd), min(1.0, expected + Z80 * sd), probability, answers)
