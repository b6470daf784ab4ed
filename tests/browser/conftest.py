"""Browser tests: Playwright for Python driving Debian's Chromium against a live waitress server.

Playwright's own browser download cannot work on these machines, so the tests use /usr/bin/chromium.
Without it they are skipped, saying why — unless ACADEMY_REQUIRE_BROWSER=1 (CI), which makes a missing
browser a failure so these tests always run there.
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest

CHROMIUM = os.environ.get("ACADEMY_CHROMIUM", "/usr/bin/chromium")
# Flags that keep headless Chromium from reaching for the network this machine does not have.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMIUM)):
        if os.environ.get("ACADEMY_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ACADEMY_REQUIRE_BROWSER=1 but there is no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium); browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def serve(app):
    """The app served by waitress on a free loopback port, in a thread, for the length of one test."""
    from waitress.server import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    yield from serve(app)


@pytest.fixture
def bundled_server(bundled_app):
    yield from serve(bundled_app)


def open_page(browser, base_url):
    context = browser.new_context(base_url=base_url)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.console_errors = errors
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = open_page(browser, live_server)
    yield page
    context.close()


@pytest.fixture
def bundled_page(browser, bundled_server):
    context, page = open_page(browser, bundled_server)
    yield page
    context.close()
