"""A trainee does a DICOM lab entirely in the browser consoles, sees the score and opens the trace."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_login import login


@pytest.fixture
def app(app, box):
    app.extensions["academy.sandbox"] = box
    return app


def test_a_dicom_lab_through_the_consoles(page, accounts):
    login(page, accounts["trainee"])
    page.locator("#nav").get_by_role("link", name="Labs").click()
    page.get_by_role("link", name="Register a viewer and verify connectivity").click()
    page.get_by_role("button", name="Start the lab").click()
    expect(page.get_by_role("heading", name="Checks")).to_be_visible()
    code = re.search(r"Archive (R[0-9A-Z]{7})_PACS", page.locator("body").inner_text()).group(1)

    page.get_by_role("button", name="Check my work").click()
    expect(page.get_by_text("0 of 10 points so far")).to_be_visible()

    page.get_by_role("link", name="PACS administration").first.click()
    form = page.locator("form", has=page.get_by_role("heading", name="Add or change a node"))
    form.get_by_label("AE title").fill("MYVIEWER")
    form.get_by_label("Host").fill("127.0.0.1")
    form.get_by_label("Port").fill("11113")
    form.get_by_role("button", name="Add or change a node").click()
    expect(page.get_by_text("MYVIEWER is registered at 127.0.0.1:11113.")).to_be_visible()
    expect(page.get_by_role("cell", name="CT HEAD")).to_be_visible()

    page.get_by_role("link", name="DICOM workstation").click()
    echo = page.locator("form", has=page.get_by_role("heading", name="Verify (C-ECHO)"))
    expect(echo.get_by_label("Called AE title")).to_have_value(f"{code}_PACS")
    echo.get_by_role("button", name="Echo").click()
    expect(page.get_by_text(re.compile(r"ECHO: Success"))).to_be_visible()

    page.get_by_role("link", name="← Back to the lab").click()
    page.get_by_label("Which modality made the study in your archive?").fill("CT")
    page.get_by_role("button", name="Check my work").click()
    expect(page.get_by_text("10 of 10 points so far")).to_be_visible()
    page.get_by_role("button", name="Submit for a final score").click()
    expect(page.get_by_text("Submitted: 10 of 10 points.")).to_be_visible()

    page.get_by_role("link", name="Protocol trace").click()
    expect(page.get_by_text("dimse.c-echo").first).to_be_visible()
    echo_event = page.locator("details", has_text=re.compile(r"C-ECHO from .*_WS")).first
    echo_event.locator("summary").click()
    expect(echo_event.get_by_text("Status: Success (0x0000)")).to_be_visible()
    assert page.console_errors == []


def test_an_hl7_lab_through_the_ris_console(page, accounts):
    login(page, accounts["trainee"])
    page.goto("/labs/tst-order")
    page.get_by_role("button", name="Start the lab").click()
    page.get_by_role("link", name="RIS").first.click()
    patient = page.locator("form", has=page.get_by_role("heading", name="Register or update a patient (ADT)"))
    patient.get_by_label("Patient ID (PID-3)").fill("MRN4711")
    patient.get_by_label("Family name").fill("Berg")
    patient.get_by_label("Given name").fill("Anna")
    patient.get_by_label("Birth date (YYYYMMDD)").fill("19790412")
    patient.get_by_role("button", name="Send ADT").click()
    expect(page.get_by_text(re.compile(r"ACK AA"))).to_be_visible()
    order = page.locator("form", has=page.get_by_role("heading", name="Place or cancel an order (ORM^O01)"))
    order.get_by_label("Patient ID").fill("MRN4711")
    order.get_by_label("Placer order number (ORC-2)").fill("PL4711")
    order.get_by_label("Procedure (OBR-4)").select_option("CTHEAD")
    order.get_by_role("button", name="Send ORM").click()
    expect(page.get_by_role("cell", name="PL4711")).to_be_visible()
    page.get_by_role("button", name="Query the worklist (C-FIND)").click()
    expect(page.get_by_text("Worklist: Success, 1 item(s)")).to_be_visible()
    page.get_by_role("link", name="← Back to the lab").click()
    page.get_by_role("button", name="Submit for a final score").click()
    expect(page.get_by_text("Submitted: 10 of 10 points.")).to_be_visible()
    page.get_by_role("link", name="Protocol trace").click()
    expect(page.get_by_text("hl7.received").first).to_be_visible()
    assert page.console_errors == []
