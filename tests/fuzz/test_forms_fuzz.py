"""Hypothesis against the web routes: each role, logged in, posts random and adversarial form data with a
valid CSRF token to every state-changing route it may use (real forms scraped from the pages, mutated, and
random routes with random path values), and GETs every route with random path values. Never a 500 (or
503), never a logged error or a traceback in a page, a refused request writes nothing, and the database
passes SQLite's integrity and foreign-key checks afterwards."""
from __future__ import annotations

import collections
import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.harness import (
    Captured,
    Session,
    case_problems,
    database_problems,
    strategy_for,
)
from tests.fuzz.strategies import DERANDOMIZE

ROLES = ("trainee", "instructor", "org_admin", "site_admin")
CASES: dict[str, int] = {}
EXAMPLES = int(os.environ.get("ACADEMY_FUZZ_FORMS_EXAMPLES", "40"))  # per role; benchmarks/fuzz_long.py runs more
STATUSES: collections.Counter = collections.Counter()


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app


@pytest.mark.parametrize("role", ROLES)
def test_random_form_data_never_breaks_a_route(app, accounts, role):
    session = Session(app, app.test_client(), accounts[role])
    errors = Captured()
    app.logger.addHandler(errors)
    CASES[role] = 0

    @settings(derandomize=DERANDOMIZE, max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy_for(session))
    def property_(case):
        CASES[role] += 1
        assert case_problems(app, session, errors, case, STATUSES) == []

    try:
        property_()
    finally:
        app.logger.removeHandler(errors)
    assert database_problems(app) == []


def test_the_forms_fuzzer_ran_enough_cases():
    if not CASES:
        pytest.skip("run with the properties above")
    assert all(n >= EXAMPLES for n in CASES.values()), CASES
    print(f"forms fuzz cases: {CASES}; (method, status): {dict(STATUSES)}")


ADVERSARIAL = ["0", "9223372036854775807", "\u202e\u0000x", "%2e%2e", "a" * 300, "İ😀", "<script>", "-1", "TST1 ",
               "..%2f", "1.2.3", "null"]


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_every_role_with_known_and_adversarial_path_values(app, accounts, role):
    """A sweep beside the random draws: every GET route, once with known-good path values and once with
    adversarial ones (integers at the limits for <int:> parameters)."""
    from werkzeug.routing import IntegerConverter

    session = Session(app, app.test_client(), accounts[role])
    errors = Captured()
    app.logger.addHandler(errors)
    problems = []
    try:
        for n, rule in enumerate(sorted(session.rules, key=lambda r: r.rule)):
            if "GET" not in rule.methods:
                continue
            known = {name: (session.known.get(name) or [1 if isinstance(rule._converters[name], IntegerConverter)
                                                         else "x"])[0] for name in rule.arguments}
            odd = {name: ([0, 2 ** 63 - 1][n % 2] if isinstance(rule._converters[name], IntegerConverter)
                          else ADVERSARIAL[(n + i) % len(ADVERSARIAL)]) for i, name in enumerate(sorted(rule.arguments))}
            for params in (known, odd) if rule.arguments else (known,):
                problems += case_problems(app, session, errors, (rule, params, "GET", {}, {}), STATUSES)
    finally:
        app.logger.removeHandler(errors)
    assert problems == []
