"""Each merchant's member app is installable on its own and survives going offline.

Chromium's own verdict is used (DevTools protocol: Page.getInstallabilityErrors and
Page.getAppManifest), in a persistent profile because incognito always reports "in-incognito".
"""

from __future__ import annotations

import json

import pytest

from loyalty_app.i18n import translate
from loyalty_app.pwa.documents import OFFLINE_RETRY, OFFLINE_TITLE
from loyalty_app.services.operations.demo import DEMO_MERCHANTS

pytestmark = pytest.mark.browser

EXPECTED = {m.slug: m for m in DEMO_MERCHANTS}
SLUGS = ("cafe", "books")
WORKER_TIMEOUT_MS = 30_000


def _open_member_app(context, live_app, slug: str):
    """Open /m/<slug>/home and wait until its service worker is active and controls the page."""
    page = context.pages[0] if context.pages else context.new_page()
    response = page.goto(live_app.url(f"/m/{slug}/home"), wait_until="load")
    assert response is not None and response.ok, f"/m/{slug}/home answered {response and response.status}"
    registration = page.evaluate(
        """async (timeout) => {
            const ready = navigator.serviceWorker.ready.then(async (r) => {
                const worker = r.active;
                if (worker.state !== "activated") {
                    await new Promise((resolve) => worker.addEventListener("statechange", () => {
                        if (worker.state === "activated") resolve();
                    }));
                }
                return { scope: r.scope, state: worker.state, script: worker.scriptURL };
            });
            const late = new Promise((_, reject) => setTimeout(() => reject(new Error("no active worker")), timeout));
            return Promise.race([ready, late]);
        }""",
        WORKER_TIMEOUT_MS,
    )
    assert registration["scope"] == live_app.url(f"/m/{slug}/")
    assert registration["script"] == live_app.url(f"/m/{slug}/sw.js")
    assert registration["state"] == "activated"
    # The worker claims open pages on activate; wait until this one is controlled.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WORKER_TIMEOUT_MS)
    return page


def _app_manifest(context, page) -> dict:
    cdp = context.new_cdp_session(page)
    try:
        result = cdp.send("Page.getAppManifest")
        errors = cdp.send("Page.getInstallabilityErrors")
    finally:
        cdp.detach()
    return {"manifest": result, "installability": errors.get("installabilityErrors")}


def _wait_for_installable(context, page, timeout_s: float = 20.0) -> dict:
    """Chromium checks installability asynchronously (manifest and icons are fetched after load)."""
    deadline = page.evaluate("Date.now()") + timeout_s * 1000
    while True:
        state = _app_manifest(context, page)
        if state["installability"] == [] or page.evaluate("Date.now()") > deadline:
            return state
        page.wait_for_timeout(500)


@pytest.mark.parametrize("slug", SLUGS)
def test_member_app_is_installable_with_its_own_manifest(persistent_context_factory, live_app, screenshot, slug):
    context = persistent_context_factory(f"install-{slug}")
    page = _open_member_app(context, live_app, slug)
    state = _wait_for_installable(context, page)

    assert state["installability"] == [], f"Chromium says not installable: {state['installability']}"
    manifest = state["manifest"]
    assert manifest["url"] == live_app.url(f"/m/{slug}/manifest.webmanifest")
    assert manifest["errors"] == []
    data = json.loads(manifest["data"])
    expected = EXPECTED[slug]
    assert data["name"] == expected.name
    assert data["short_name"] == expected.short_name
    assert data["theme_color"] == expected.theme.primary
    assert data["scope"] == f"/m/{slug}/"
    assert page.get_attribute('meta[name="theme-color"]', "content") == expected.theme.primary
    screenshot(page, f"pwa-installable-{slug}")


def test_two_merchants_install_side_by_side_as_different_apps(persistent_context_factory, live_app):
    context = persistent_context_factory("side-by-side")
    manifests = {}
    for slug in SLUGS:
        page = _open_member_app(context, live_app, slug)
        state = _wait_for_installable(context, page)
        assert state["installability"] == [], f"{slug}: {state['installability']}"
        manifests[slug] = json.loads(state["manifest"]["data"])
    cafe, books = manifests["cafe"], manifests["books"]
    for field in ("id", "name", "start_url", "scope", "theme_color"):
        assert cafe[field] != books[field], field
    assert {i["src"] for i in cafe["icons"]}.isdisjoint(i["src"] for i in books["icons"])
    # Both workers live on one origin without evicting each other's caches.
    page = context.pages[0]
    registrations = page.evaluate("navigator.serviceWorker.getRegistrations().then((rs) => rs.map((r) => r.scope))")
    assert sorted(registrations) == sorted(live_app.url(f"/m/{slug}/") for slug in SLUGS)
    cache_names = page.evaluate("caches.keys()")
    assert any(name.startswith("loyalty-pwa:cafe:") for name in cache_names), cache_names
    assert any(name.startswith("loyalty-pwa:books:") for name in cache_names), cache_names


def _offline_kind(page, slug: str) -> str:
    """'offline-page' for our branded page, 'app' for a cached app page."""
    return page.evaluate(
        """(slug) => {
            if (document.body && document.body.dataset.offlinePage === slug) return "offline-page";
            if (window.__reactRouterContext !== undefined || document.querySelector('script[type="module"]')) return "app";
            return "unknown: " + document.title + " " + (document.body ? document.body.innerText.slice(0, 200) : "");
        }""",
        slug,
    )


@pytest.mark.parametrize("slug", SLUGS)
def test_offline_shows_cached_card_or_branded_offline_page(persistent_context_factory, live_app, screenshot, slug):
    context = persistent_context_factory(f"offline-{slug}")
    page = _open_member_app(context, live_app, slug)
    page.goto(live_app.url(f"/m/{slug}/card"), wait_until="load")  # online visit: cached network-first

    context.set_offline(True)
    try:
        # The card again: a navigation Chromium would otherwise show as its "no internet" page.
        loads = []
        page.on("load", lambda loaded: loads.append(loaded.url))
        # (An anonymous visitor has been sent on to /m/<slug>/signin by then: that page reloads.)
        response = page.reload(wait_until="load")
        # The response can be None when React Router rewrites history during the navigation;
        # what the page shows is the real check.
        assert response is None or response.from_service_worker
        assert _offline_kind(page, slug) in ("app", "offline-page")
        # A cached page whose route module is missing reloads itself in a loop: it must not.
        page.wait_for_timeout(2000)
        assert len(loads) == 1, f"the offline page kept reloading: {loads}"
        screenshot(page, f"pwa-offline-card-{slug}")

        # A page never visited: the branded offline page, in the member's language, with a retry.
        response = page.goto(live_app.url(f"/m/{slug}/never-visited-{slug}"), wait_until="load")
        assert response is None or response.from_service_worker
        page.wait_for_selector(f'body[data-offline-page="{slug}"]', timeout=10_000)
        assert _offline_kind(page, slug) == "offline-page"
        expected = EXPECTED[slug]
        assert expected.name in page.inner_text("body")
        assert page.inner_text("#offline-title") == OFFLINE_TITLE  # locale en-US: the msgid
        assert page.is_visible("#offline-retry")
        background = page.evaluate("getComputedStyle(document.querySelector('#offline-retry')).backgroundColor")
        r, g, b = (int(expected.theme.primary[i : i + 2], 16) for i in (1, 3, 5))
        assert background == f"rgb({r}, {g}, {b})"
        screenshot(page, f"pwa-offline-page-{slug}")
    finally:
        context.set_offline(False)


def test_offline_page_speaks_the_browser_language(persistent_context_factory, live_app):
    context = persistent_context_factory("offline-es", locale="es-ES")
    page = _open_member_app(context, live_app, "cafe")
    context.set_offline(True)
    try:
        page.goto(live_app.url("/m/cafe/never-visited-es"), wait_until="load")
        page.wait_for_selector('body[data-offline-page="cafe"]', timeout=10_000)
        assert page.inner_text("#offline-title") == translate("es", OFFLINE_TITLE)
        assert page.inner_text("#offline-retry") == translate("es", OFFLINE_RETRY)
    finally:
        context.set_offline(False)


def test_no_worker_outside_merchant_paths(page, live_app):
    page.goto(live_app.url("/"), wait_until="load")
    page.wait_for_timeout(1000)
    assert page.evaluate("navigator.serviceWorker.getRegistrations().then((rs) => rs.length)") == 0
