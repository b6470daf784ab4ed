"""Choosing questions: a mock exam assembled on the blueprint, and the next practice question."""
from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass


class AssemblyError(ValueError):
    """The bank cannot fill the blueprint; the message names the domain that is short."""


@dataclass(frozen=True)
class Candidate:
    question_id: int
    version_id: int
    domain: str
    difficulty: int


def allocate(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` over keys in proportion to their weights (largest remainder: sums exactly)."""
    weight_sum = sum(weights.values())
    exact = {key: total * weight / weight_sum for key, weight in weights.items()}
    counts = {key: math.floor(value) for key, value in exact.items()}
    by_remainder = sorted(exact, key=lambda key: (exact[key] - counts[key], weights[key]), reverse=True)
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def _stratified(pool: list[Candidate], count: int, rng: random.Random) -> list[Candidate]:
    """`count` questions from `pool`, each difficulty in proportion to its share of the pool."""
    if count <= 0:
        return []
    by_difficulty: dict[int, list[Candidate]] = defaultdict(list)
    for candidate in pool:
        by_difficulty[candidate.difficulty].append(candidate)
    shares = allocate(count, {level: len(items) for level, items in by_difficulty.items()})
    chosen = []
    for level, items in sorted(by_difficulty.items()):
        rng.shuffle(items)
        chosen.extend(items[: shares[level]])
    return chosen


def assemble(candidates: list[Candidate], weights: dict[str, int], length: int, rng: random.Random,
             avoid: set[int] = frozenset()) -> list[Candidate]:
    """Draw `length` distinct questions: each domain its blueprint share, each share spread over
    difficulties as the domain's bank is, questions in `avoid` (seen before) only when needed."""
    by_domain: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in sorted(candidates, key=lambda c: c.question_id):
        by_domain[candidate.domain].append(candidate)
    chosen: list[Candidate] = []
    for domain, needed in allocate(length, weights).items():
        pool = by_domain.get(domain, [])
        if len(pool) < needed:
            raise AssemblyError(f"domain '{domain}' has {len(pool)} questions; this exam needs {needed}")
        fresh = [c for c in pool if c.question_id not in avoid]
        picked = _stratified(fresh, min(needed, len(fresh)), rng)
        picked += _stratified([c for c in pool if c.question_id in avoid], needed - len(picked), rng)
        chosen.extend(picked)
    rng.shuffle(chosen)
    return chosen


def pick_practice(candidates: list[Candidate], history: dict[int, tuple[int, int]], rng: random.Random,
                  exclude: int | None = None) -> Candidate | None:
    """The next practice question: never-answered first, then those answered wrong most often.

    `history` maps question id -> (times answered, times correct).
    """
    pool = [c for c in candidates if c.question_id != exclude] or candidates
    if not pool:
        return None

    def priority(candidate: Candidate) -> tuple:
        answered, correct = history.get(candidate.question_id, (0, 0))
        return (answered > 0, correct / answered if answered else 0, answered)

    rng.shuffle(pool)
    return min(pool, key=priority)
