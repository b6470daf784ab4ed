"""An instructor writes a lesson (with the live preview), a question and a lab, tries the lab, publishes,
and a trainee of the organisation finds it — all in the browser."""
import pytest
from playwright.sync_api import expect

from tests.authoring.test_authoring import BODY
from tests.browser.test_login import login


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app


def form_with(page, button: str):
    return page.locator("form", has=page.get_by_role("button", name=button))


def test_an_instructor_writes_a_lesson_a_question_and_a_lab_tries_it_and_publishes(browser, live_server, accounts):
    page = browser.new_context(base_url=live_server).new_page()
    login(page, accounts["instructor"])
    page.locator("#nav").get_by_role("link", name="Authoring").click()
    track = form_with(page, "Create track")
    track.get_by_label("Track code").fill("RAD")
    track.get_by_label("Title").fill("Radiology at General")
    track.get_by_role("button", name="Create track").click()
    expect(page.locator("textarea")).to_contain_text("code: RAD")

    # a module with its first lesson, written with the server's live preview beside the editor
    page.locator("#nav").get_by_role("link", name="Authoring").click()
    page.get_by_text("New module").click()
    module = form_with(page, "Create module")
    module.get_by_label("Module id").fill("first-week")
    module.get_by_label("Title").fill("First week")
    module.get_by_role("button", name="Create module").click()
    page.locator("#nav").get_by_role("link", name="Authoring").click()
    page.get_by_role("row").filter(has_text="first-week/overview.md").get_by_role("link", name="Edit").click()
    page.locator("textarea").fill(f"---\ntitle: Where images go\nminutes: 5\n---\n\n## Where images go\n\n{BODY}")
    expect(page.locator("#preview h2")).to_have_text("Where images go")
    page.get_by_label("What changed (optional)").fill("first draft")
    page.get_by_role("button", name="Save a new version").click()
    expect(page.get_by_text("Saved version 2.")).to_be_visible()
    expect(page.locator("#file-valid")).to_be_visible()

    # a question: the validator's message appears beside the answer until it is right
    page.locator("#nav").get_by_role("link", name="Authoring").click()
    page.get_by_role("link", name="Write a question").click()
    page.get_by_label("Question id").fill("rad-port")
    page.get_by_label("Question", exact=True).fill("Which TCP port is registered for DICOM?")
    page.get_by_label("Choice a").fill("104")
    page.get_by_label("Choice b").fill("2575")
    page.get_by_label("Choice c").fill("80")
    page.get_by_label("Answer: a choice id; for several or an order, ids separated by commas").fill("e")
    page.get_by_label("Explanation shown after answering").fill("Port 104 is registered for DICOM (PS3.8 Annex G).")
    page.get_by_label("References, one per line (DICOM PS3.x section, HL7 v2 chapter, IHE transaction)").fill("DICOM PS3.8 Annex G")
    page.get_by_role("button", name="Save question").click()
    expect(page.locator(".invalid-feedback")).to_contain_text("write the one correct choice id as the answer")
    page.get_by_label("Answer: a choice id; for several or an order, ids separated by commas").fill("a")
    page.get_by_role("button", name="Save question").click()
    expect(page.get_by_text("Saved question rad-port")).to_be_visible()

    # a lab, tried in the sandbox before any trainee sees it
    page.locator("#nav").get_by_role("link", name="Authoring").click()
    page.get_by_text("New lab").click()
    lab = form_with(page, "Create lab")
    lab.get_by_label("Lab id").fill("rad-reading-station")
    lab.get_by_label("Title").fill("Register our new reading station")
    lab.get_by_role("button", name="Create lab").click()
    page.get_by_role("button", name="Try it").click()
    expect(page.locator("#try-summary")).to_have_text(
        "The lab works: its solution scores 8/8 and doing nothing scores 0.")
    expect(page.locator("#try-checks")).to_contain_text("READ9 is registered.")

    page.locator("#nav").get_by_role("link", name="Authoring").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_text("Published release 1")).to_be_visible()

    trainee = browser.new_context(base_url=live_server).new_page()
    login(trainee, accounts["trainee"])
    trainee.goto("/tracks/RAD")
    expect(trainee.get_by_role("heading", name="Radiology at General")).to_be_visible()
    trainee.goto("/labs/rad-reading-station")
    expect(trainee.get_by_role("heading", name="Register our new reading station")).to_be_visible()
