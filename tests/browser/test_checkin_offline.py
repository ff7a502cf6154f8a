"""In store: the admin downloads a store's check-in poster, a signed-out member "scans" it (the
URL decoded from the poster PNG by zxing-cpp), signs in, lands back on the check-in and sees the
points; a second visit says "already checked in"; a forged code gets a clear message. And the
Card tab opens offline from the home screen with the member number for manual entry."""

from __future__ import annotations

import io
import re

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser import harness
from tests.browser.test_member_flows import DEMO_PASSWORD

pytestmark = pytest.mark.browser

WORKER_TIMEOUT_MS = 30_000


def _fill_sign_in(page: Page, email: str) -> None:
    page.fill("#f-email", email)
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("[data-testid=signin-submit]")


def _poster_url(browser, live_app, screenshot) -> str:
    """Sign in as the cafe's admin, download the first store's PNG poster, decode its QR."""
    context = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    try:
        page = context.new_page()
        page.goto("/m/cafe/signin")
        _fill_sign_in(page, "admin@demo.test")
        page.wait_for_url("**/m/cafe/admin")
        link = page.get_by_test_id("poster-png").first
        expect(link).to_be_visible()
        expect(page.get_by_test_id("poster-store")).to_have_count(2)
        page.wait_for_timeout(300)
        screenshot(page, "admin-checkin-posters")
        href = link.get_attribute("href")
        assert re.fullmatch(r"/m/cafe/admin/posters/\d+\.png", href), href
        assert link.get_attribute("download", timeout=1000).endswith(".png")
        with page.expect_download() as download_info:
            link.click()
        png = open(download_info.value.path(), "rb").read()
        pdf = context.request.get(live_app.url(href.replace(".png", ".pdf")))
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    finally:
        context.close()
    harness.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    (harness.SCREENSHOT_DIR / "checkin-poster-a4.png").write_bytes(png)  # the poster itself, to look at
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert len(decoded) == 1
    return decoded[0]


def test_member_checks_in_from_the_poster_once_a_day(browser, live_app, page: Page, screenshot):
    url = _poster_url(browser, live_app, screenshot)
    assert url.startswith(live_app.url("/m/cafe/checkin?s=c1."))

    # Signed out: the scan lands on sign-in, and signing in comes back to the check-in.
    page.goto(url)
    page.wait_for_url(re.compile(r"/m/cafe/signin\?next="))
    _fill_sign_in(page, "member@demo.test")
    page.wait_for_url(re.compile(r"/m/cafe/checkin\?s=c1\."))
    done = page.get_by_test_id("checkin-done")
    expect(done).to_be_visible()
    expect(done).to_contain_text("Checked in!")
    expect(page.get_by_test_id("checkin-store")).to_have_text(re.compile(r"Bean & Leaf"))
    expect(page.get_by_test_id("checkin-points")).to_have_text(re.compile(r"^\+\d+$"))
    assert int(page.get_by_test_id("checkin-points").inner_text().lstrip("+")) > 0
    page.wait_for_timeout(700)  # let the pop-in animation finish
    screenshot(page, "checkin-done")

    # A reload (or a second scan today) credits nothing and says so.
    page.reload()
    already = page.get_by_test_id("checkin-already")
    expect(already).to_be_visible()
    expect(already).to_contain_text("You already checked in here today")
    page.wait_for_timeout(400)
    screenshot(page, "checkin-already")
    page.get_by_test_id("checkin-home").click()
    page.wait_for_url("**/m/cafe/home")

    # A made-up or edited code: a clear message, nothing recorded.
    page.goto(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
    expect(page.get_by_test_id("checkin-error")).to_have_text(
        "This check-in code is not valid. Scan the poster in the store again."
    )
    page.wait_for_timeout(300)
    screenshot(page, "checkin-invalid")


def _wait_for_worker(page: Page) -> None:
    page.evaluate(
        """async (timeout) => {
            const late = new Promise((_, reject) => setTimeout(() => reject(new Error("no active worker")), timeout));
            const ready = navigator.serviceWorker.ready.then(async (r) => {
                const worker = r.active;
                if (worker.state !== "activated") {
                    await new Promise((resolve) => worker.addEventListener("statechange", () => {
                        if (worker.state === "activated") resolve();
                    }));
                }
            });
            return Promise.race([ready, late]);
        }""",
        WORKER_TIMEOUT_MS,
    )
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WORKER_TIMEOUT_MS)


def _card_is_cached(page: Page) -> bool:
    return page.evaluate(
        """async () => {
            const names = (await caches.keys()).filter((n) => n.startsWith("loyalty-pwa:cafe:"));
            for (const name of names) {
                const cache = await caches.open(name);
                if (await cache.match(location.origin + "/m/cafe/card", { ignoreVary: true })) return true;
            }
            return false;
        }"""
    )


def test_card_opens_offline_with_member_number(persistent_context_factory, live_app, screenshot):
    context: BrowserContext = persistent_context_factory("offline-card")
    page = context.pages[0] if context.pages else context.new_page()
    page.goto("/m/cafe/signin")
    _fill_sign_in(page, "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    _wait_for_worker(page)

    page.get_by_test_id("tab-card").click()
    page.wait_for_url("**/m/cafe/card")
    number = page.get_by_test_id("member-number")
    expect(number).to_have_text(re.compile(r"^\d{4} \d{4}$"))
    online_number = number.inner_text()
    expect(page.get_by_test_id("member-qr")).to_be_visible()
    page.wait_for_timeout(300)
    screenshot(page, "card-online")
    page.wait_for_function("window.localStorage.getItem('loyalty_card:cafe') !== null")
    page.reload()  # a full load of the card while online: the worker keeps this page
    expect(page.get_by_test_id("member-number")).to_have_text(online_number)
    deadline_ok = False
    for _ in range(40):
        if _card_is_cached(page):
            deadline_ok = True
            break
        page.wait_for_timeout(250)
    assert deadline_ok, "the service worker did not cache /m/cafe/card"

    context.set_offline(True)
    try:
        # Opened again from the home screen, without a network.
        page.goto(live_app.url("/m/cafe/card"), wait_until="load")
        card = page.get_by_test_id("offline-card")
        expect(card).to_be_visible(timeout=20_000)
        expect(page.get_by_test_id("offline-member-number")).to_have_text(online_number)
        expect(page.get_by_test_id("offline-name")).to_have_text("Ana Popescu")
        expect(page.get_by_test_id("offline-note")).to_contain_text("Live codes need a connection")
        expect(page.get_by_test_id("member-qr")).to_have_count(0)  # no stale, unusable code
        expect(page.get_by_text("Loading…")).to_have_count(0)
        page.wait_for_timeout(300)
        screenshot(page, "card-offline")

        # Another (cached) page first, then the card again, still offline.
        page.goto(live_app.url("/m/cafe/home"), wait_until="load")
        # Home cannot load without the server: it says so and sends the member to the card.
        expect(page.get_by_test_id("offline-page")).to_be_visible(timeout=20_000)
        expect(page.get_by_test_id("offline-page")).to_contain_text("This page needs a connection")
        expect(page.get_by_test_id("offline-open-card")).to_have_attribute("href", "/m/cafe/card")
        expect(page.get_by_text("Loading…")).to_have_count(0)
        page.wait_for_timeout(300)
        screenshot(page, "home-offline")
        page.get_by_test_id("offline-open-card").click()
        page.wait_for_url("**/m/cafe/card")
        expect(page.get_by_test_id("offline-member-number")).to_have_text(online_number, timeout=20_000)
        # The card's own tab bar links work offline too (the slug comes from the address).
        expect(page.get_by_test_id("tab-home")).to_have_attribute("href", "/m/cafe/home")
    finally:
        context.set_offline(False)

    # Signing out forgets the card kept on the phone.
    page.goto(live_app.url("/m/cafe/profile"))
    page.get_by_test_id("signout").click()
    page.wait_for_url("**/m/cafe/signin**")
    assert page.evaluate("window.localStorage.getItem('loyalty_card:cafe')") is None
