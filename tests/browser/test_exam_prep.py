"""A trainee practises, reads a lesson and takes a short mock exam in a real browser."""
import re

from playwright.sync_api import expect

from tests.browser.test_login import login


def answer_whatever_is_shown(page):
    """Pick the first option of whatever question type is on screen."""
    if page.locator("input[type=radio][name=answer]").count():
        page.locator("input[type=radio][name=answer]").first.check()
    elif page.locator("input[type=checkbox][name=answer]").count():
        page.locator("input[type=checkbox][name=answer]").first.check()
    elif page.locator("select[name=answer]").count():
        selects = page.locator("select[name=answer]")
        for n in range(selects.count()):
            options = selects.nth(n).locator("option")
            selects.nth(n).select_option(index=n + 1 if options.count() > n + 1 else 1)
    else:
        page.locator("input[name=answer]").fill("8")


def test_a_practice_session_gives_feedback_after_each_answer(page, accounts):
    login(page, accounts["trainee"])
    page.locator("#nav").get_by_role("link", name="Practice", exact=True).click()
    page.get_by_role("button", name="Practise TST1").click()
    for _ in range(3):
        expect(page.get_by_role("button", name="Check my answer")).to_be_visible()
        answer_whatever_is_shown(page)
        page.get_by_label("Sure", exact=True).check()
        page.get_by_role("button", name="Check my answer").click()
        expect(page.get_by_text(re.compile(r"^(Right|Not right)\.$"))).to_be_visible()
        expect(page.get_by_text("References:")).to_be_visible()
        page.get_by_role("link", name="Next question").click()
    assert page.console_errors == []


def test_a_lesson_self_check_and_completion(page, accounts):
    login(page, accounts["trainee"])
    page.get_by_role("link", name=re.compile("Network basics — Ports")).click()
    expect(page.get_by_role("heading", name="Ports")).to_be_visible()
    page.get_by_label("104").check()
    page.locator("input[name='answer-tst-les-ports-b']").fill("8")
    page.get_by_role("button", name="Check my answers and complete the lesson").click()
    expect(page.get_by_text("Lesson complete: 2 of 2 self-check answers right.")).to_be_visible()
    assert page.console_errors == []


def test_a_short_mock_exam_from_start_to_results(page, accounts):
    login(page, accounts["trainee"])
    page.locator("#nav").get_by_role("link", name="Mock exams").click()
    page.get_by_role("button", name="Start a TST1 mock exam").click()
    expect(page.get_by_role("timer")).to_contain_text(re.compile(r"\d+:\d\d"))  # the clock ticks in the page
    for n in range(1, 6):
        expect(page.get_by_text(f"question {n} of 5")).to_be_visible()
        answer_whatever_is_shown(page)
        if n == 2:
            page.get_by_label("Flag this question to come back to it").check()
        page.get_by_role("button", name=re.compile("Save and (next|review)")).click()
    expect(page.get_by_text("5 of 5 answered · 1 flagged")).to_be_visible()
    page.get_by_role("button", name="Submit the exam").click()
    expect(page.get_by_role("heading", name=re.compile(r"TST1 mock exam: \d+% — (passed|not passed)"))).to_be_visible()
    expect(page.get_by_role("heading", name="By domain, weakest first")).to_be_visible()
    assert page.console_errors == []
