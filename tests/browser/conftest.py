"""Fixtures for browser tests: one production server and one Chromium per test session.

Run with ``pytest -m browser -p no:asyncio`` (``make test`` does). Every test in this folder is
marked ``browser`` automatically, so ``pytest -m "not browser"`` never starts a server.
Environment:
- BROWSER_BASE_URL: use an already running app instead of starting one;
- BROWSER_TEST_DATABASE_URL: database for the started app (default: a temporary SQLite file);
- BROWSER_APP_START_TIMEOUT: seconds to wait for the build and start (default 600).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser import harness
from tests.browser.harness import LiveApp

# Assertions wait up to 10 s (Playwright's default is 5 s): a cold page on the scaled-out set-up
# (two workers, state in Redis, two cores shared with Chromium) can take longer to hydrate.
expect_options_timeout_ms = 10_000


def pytest_configure(config):
    from playwright.sync_api import expect

    expect.set_options(timeout=expect_options_timeout_ms)


def pytest_collection_modifyitems(config, items):
    browser_dir = Path(__file__).parent
    for item in items:
        if browser_dir in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so `page` can screenshot failures."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def live_app() -> Iterator[LiveApp]:
    with harness.live_app_server() as app:
        yield app


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    yield playwright
    playwright.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = harness.launch_browser(playwright_instance)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_app, request):
    """A fresh phone-sized context (390x844 @2x, touch, en-US) with base_url = the app."""
    context = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        with_suffix = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        try:
            harness.screenshot(page, f"FAILED-{with_suffix}")
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the test failure
            pass
    context.close()


@pytest.fixture
def persistent_context_factory(playwright_instance, live_app, tmp_path) -> Iterator[Callable]:
    """Open Chromium contexts with a real (temporary) profile; closed at teardown.

    Needed wherever Chromium refuses incognito: installability checks, service worker tests
    that rely on a profile surviving a reload.
    """
    contexts = []

    def open_context(name: str = "profile", **options):
        context = harness.launch_persistent(playwright_instance, tmp_path / name, base_url=live_app.base_url, **options)
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable:
    """``screenshot(page, name)`` writes test-artifacts/screenshots/<name>.png."""
    return harness.screenshot
