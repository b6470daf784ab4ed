"""The labs self-test, and every bundled lab's solution reaching full marks while doing nothing scores zero."""
from __future__ import annotations

import pytest

from academy import content
from academy.labs import selftest


def test_the_selftest_command_prints_a_line_per_lab(app, runner):
    result = runner.invoke(args=["labs", "selftest"])
    assert result.exit_code == 0, result.output
    assert "ok   tst-echo: solution 10/10, doing nothing 0/10" in result.output


def test_a_lab_whose_solution_falls_short_fails_the_selftest(app, box):
    spec = content.validate(app.config["ACADEMY_CURRICULA_DIR"], app.config["ACADEMY_QUESTION_BANKS_DIR"]).labs["tst-echo"]
    data = spec.spec.model_dump(mode="json", by_alias=True)
    data["solution"] = [step for step in data["solution"] if step["do"] != "echo"]
    result = selftest.run(box, data, hl7_port=0)
    assert not result.ok and result.solved == 6
    assert any("solution fails 'echo'" in f for f in result.failures)


BUNDLED = content.validate().labs


@pytest.mark.parametrize("lab_id", sorted(BUNDLED) or [pytest.param("none", marks=pytest.mark.skip(reason="no bundled labs yet"))])
def test_every_bundled_lab_is_solvable_and_idle_scores_zero(box, lab_id):
    result = selftest.run(box, BUNDLED[lab_id].spec.model_dump(mode="json", by_alias=True), hl7_port=0)
    assert result.ok, result.failures
