"""A person logs in in a real browser and sees their dashboard."""
from playwright.sync_api import expect


def login(page, account):
    page.goto("/login")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()


def test_a_trainee_logs_in_and_sees_the_dashboard(page, accounts):
    login(page, accounts["trainee"])
    expect(page).to_have_url(page.url.split("/dashboard")[0] + "/dashboard")
    expect(page.get_by_role("heading", name="Welcome, Trainee General Hospital")).to_be_visible()
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Organisation")).to_have_count(0)
    assert page.console_errors == []  # the CSP blocked nothing the page needs


def test_a_wrong_password_shows_the_message_in_the_form(page, accounts):
    page.goto("/login")
    page.get_by_label("Email").fill(accounts["trainee"].email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The email or password is not right.")).to_be_visible()


def test_logging_out_returns_to_the_login_page(page, accounts):
    login(page, accounts["org_admin"])
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()
    page.goto("/dashboard")
    expect(page).to_have_url(page.url.split("/login")[0] + "/login?next=%2Fdashboard")
