"""Playwright against the system Chromium and pytest-django's live_server.

When a browser test fails, every dashboard page is screenshotted into
`test-artifacts/<test name>/` (git-ignored) to show what the user would have seen.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.chromium import launch, log_in, screenshot_pages
from tests.observability.conftest import clear_observability_keys
from tests.roles import role_user

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-pass-123"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def staff_user(transactional_db):
    return role_user("Operator", username="ops", password=PASSWORD, staff=True)


@pytest.fixture
def page(request, browser, live_server, staff_user):
    clear_observability_keys()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    # Land on a page without the overview's 15 s summary cache, so each test's
    # first overview reflects the data it created.
    log_in(page, live_server.url, staff_user.username, PASSWORD, then="/review/")
    yield page
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        out = ARTIFACTS / request.node.name
        out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out / "at-failure.png"), full_page=True)
        screenshot_pages(page, live_server.url, out)
    context.close()
    clear_observability_keys()
