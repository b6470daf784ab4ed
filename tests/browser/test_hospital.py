"""An organisation admin invites a trainee, assigns an onboarding path, and sees the trainee's progress
after the trainee completes a lab — all in the browser."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_login import login


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app


def test_invite_assign_and_follow_a_trainee(browser, live_server, accounts, box):
    admin = browser.new_context(base_url=live_server).new_page()
    login(admin, accounts["org_admin"])
    admin.goto("/organization")
    invite = admin.locator("form", has=admin.get_by_role("heading", name="Invite someone"))
    invite.get_by_label("Email").fill("rosa.newhire@general.example.org")
    invite.get_by_label("Name").fill("Rosa Newhire")
    invite.get_by_label("Cohort").select_option(label="Spring intake")
    invite.get_by_role("button", name="Make an invitation link").click()
    link = re.search(r"https?://\S+/invite/[A-Za-z0-9_-]+", admin.locator(".alert-success").inner_text()).group(0)

    trainee = browser.new_context(base_url=live_server).new_page()
    trainee.goto(link)
    expect(trainee.get_by_role("heading", name="Join General Hospital")).to_be_visible()
    trainee.get_by_label("Choose a password").fill("rosa-chooses-a-long-one")
    trainee.get_by_label("The password again").fill("rosa-chooses-a-long-one")
    trainee.get_by_role("button", name="Create my account").click()
    expect(trainee.get_by_role("heading", name="Welcome, Rosa Newhire")).to_be_visible()

    admin.goto("/organization")
    admin.get_by_role("link", name="Spring intake").click()
    assign = admin.locator("form", has=admin.get_by_role("heading", name="Assign work"))
    assign.get_by_label("Assign").select_option("path")
    assign.get_by_label("Which (track code, path id, TRACK/module id, lab id)").fill("tst-first-week")
    assign.get_by_label("Due on").fill("2030-01-31")
    assign.get_by_role("button", name="Assign").click()
    expect(admin.get_by_role("columnheader", name=re.compile("First week on the test track"))).to_be_visible()

    trainee.goto("/dashboard")
    expect(trainee.get_by_role("heading", name="Assigned to you")).to_be_visible()
    expect(trainee.locator("#assigned")).to_contain_text("First week on the test track")
    trainee.goto("/labs/tst-echo")
    trainee.get_by_role("button", name="Start the lab").click()
    code = re.search(r"Archive (R[0-9A-Z]{7})_PACS", trainee.locator("body").inner_text()).group(1)
    box.add_node(code, "MYVIEWER", "127.0.0.1", 11113)  # done with the trainee's own tools
    assert box.devices(code).echo(f"{code}_PACS").ok
    trainee.get_by_label("Which modality made the study in your archive?").fill("CT")
    trainee.get_by_role("button", name="Check my work").click()
    trainee.get_by_role("button", name="Submit for a final score").click()
    expect(trainee.get_by_text("Submitted: 10 of 10 points.")).to_be_visible()

    admin.goto("/cohorts")
    admin.get_by_role("link", name="Spring intake").click()
    admin.get_by_role("link", name="Rosa Newhire").click()
    row = admin.get_by_role("row").filter(has_text="Register a viewer and verify connectivity")
    expect(row).to_contain_text("submitted")
    expect(row).to_contain_text("10/10")
