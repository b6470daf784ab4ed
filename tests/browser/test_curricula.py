"""The real curricula in a real browser: every track opens, and one lesson of each reads well."""
import re

from playwright.sync_api import expect

from academy.content import validate
from tests.browser.test_login import login

BUNDLE = validate()


def test_every_track_and_a_lesson_of_each_open(bundled_page, bundled_template):
    accounts = bundled_template[1]
    page = bundled_page
    login(page, accounts["trainee"])
    for code in ("CPA", "CPSA", "CPIA"):
        track = BUNDLE.tracks[code]
        page.goto(f"/tracks/{code}")
        expect(page.get_by_role("heading", name=f"{code} · {track.spec.title}")).to_be_visible()
        for domain in track.spec.domains:
            expect(page.get_by_role("heading", name=re.compile(re.escape(domain.title)))).to_be_visible()
        module = track.modules[0]
        page.get_by_role("link", name=re.compile(re.escape(module.spec.title))).first.click()
        expect(page.get_by_role("heading", name=module.spec.title, exact=True)).to_be_visible()
        page.get_by_role("link", name=module.lessons[0].spec.title, exact=True).click()
        expect(page.get_by_role("heading", name=module.lessons[0].spec.title, exact=True)).to_be_visible()
        expect(page.locator("article.lesson p").first).to_be_visible()
        for image in page.locator("article.lesson img").all():  # diagrams load (served as SVG)
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    page.goto("/tracks/CPSM")
    expect(page.get_by_text("CPSM opens when you have completed CPIA and CPSA: CPSM builds on both.")).to_be_visible()
    assert page.console_errors == []
