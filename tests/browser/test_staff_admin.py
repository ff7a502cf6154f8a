"""Staff and merchant admins land on their own pages; a purchase credited at the till shows up
in the member's cockpit; bad input gets a clear message and changes nothing."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Browser, Page, expect

from tests.browser import harness
from tests.browser.test_member_flows import DEMO_PASSWORD, sign_in


def _member_number_and_points(browser: Browser, base_url: str, email: str) -> tuple[str, int]:
    context = browser.new_context(base_url=base_url, **harness.MOBILE_CONTEXT)
    page = context.new_page()
    sign_in(page, "cafe", email)
    page.wait_for_url("**/m/cafe/home")
    balance = page.get_by_test_id("points-balance")
    expect(balance).not_to_have_text("0")
    points = int(re.sub(r"\D", "", balance.inner_text()))
    page.get_by_test_id("tab-card").click()
    card_number = page.get_by_test_id("member-number")
    expect(card_number).to_have_text(re.compile(r"\d{4} \d{4}"))
    number = re.sub(r"\D", "", card_number.inner_text())
    context.close()
    return number, points


def test_staff_credits_purchase_once_per_receipt(page: Page, browser: Browser, live_app, screenshot):
    number, points_before = _member_number_and_points(browser, live_app.base_url, "mihai@demo.test")
    assert len(number) == 8

    sign_in(page, "cafe", "staff@demo.test")
    page.wait_for_url("**/m/cafe/staff")
    expect(page.get_by_role("heading", name="Till")).to_be_visible()

    page.fill("#f-member_number", "00000000")
    page.get_by_test_id("till-find").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("No member has this number")

    page.fill("#f-member_number", number)
    page.get_by_test_id("till-find").click()
    expect(page.get_by_test_id("till-member")).to_have_text("Mihai Ionescu")

    page.fill("#f-amount", "-3")
    page.fill("#f-receipt", "R-1")
    page.get_by_test_id("till-credit").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("Enter the amount as a number")

    receipt = f"R-{uuid.uuid4().hex[:6]}"
    page.fill("#f-amount", "12.50")
    page.fill("#f-receipt", receipt)
    page.get_by_test_id("till-credit").click()
    expect(page.get_by_test_id("till-result")).to_contain_text("points")
    credited = int(re.search(r"\+(\d+)", page.get_by_test_id("till-result").inner_text()).group(1))
    assert credited >= 12
    screenshot(page, "staff-till")

    # The same receipt again: credited once, and the cashier is told so.
    page.fill("#f-amount", "12.50")
    page.fill("#f-receipt", receipt)
    page.get_by_test_id("till-credit").click()
    expect(page.get_by_test_id("till-result")).to_contain_text("Already credited")

    _number, points_after = _member_number_and_points(browser, live_app.base_url, "mihai@demo.test")
    assert points_after == points_before + credited


def test_staff_cannot_open_member_or_admin_pages(page: Page):
    sign_in(page, "cafe", "staff@demo.test")
    page.wait_for_url("**/m/cafe/staff")
    page.goto("/m/cafe/admin")
    page.wait_for_url("**/m/cafe/staff")
    page.goto("/m/cafe/home")
    page.wait_for_url("**/m/cafe/staff")


def test_admin_sees_program_figures(page: Page, screenshot):
    sign_in(page, "cafe", "admin@demo.test")
    page.wait_for_url("**/m/cafe/admin")
    figures = page.get_by_test_id("admin-figures")
    expect(figures).to_contain_text("Members")
    expect(figures).to_contain_text("Outstanding points")
    screenshot(page, "admin-overview")


def test_member_cannot_open_the_till(page: Page):
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    page.goto("/m/cafe/staff")
    page.wait_for_url("**/m/cafe/home")


def test_card_qr_scanned_at_the_till_once(page: Page, browser: Browser, live_app, screenshot):
    """The QR the member's phone shows (decoded from the pixels by zxing-cpp, an independent
    decoder) identifies the member at the till when a USB scanner types it; a replay is refused."""
    import io

    import zxingcpp
    from PIL import Image

    member_ctx = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    member_page = member_ctx.new_page()
    sign_in(member_page, "cafe", "sofia@demo.test")
    member_page.wait_for_url("**/m/cafe/home")
    member_page.get_by_test_id("tab-card").click()
    qr = member_page.get_by_test_id("member-qr")
    expect(qr).to_be_visible()
    member_page.wait_for_timeout(300)
    screenshot(member_page, "card-qr")
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    member_ctx.close()
    assert len(decoded) == 1 and decoded[0].text.startswith("LM1.")
    code = decoded[0].text

    sign_in(page, "cafe", "staff@demo.test")
    page.wait_for_url("**/m/cafe/staff")
    page.get_by_label("Member number").press_sequentially(code, delay=2)  # a keyboard-wedge scanner types...
    page.get_by_label("Member number").press("Enter")  # ...then presses Enter
    expect(page.get_by_test_id("till-member")).to_have_text("Sofía García")

    page.get_by_label("Member number").fill(code)
    page.get_by_label("Member number").press("Enter")
    expect(page.get_by_test_id("form-error")).to_contain_text("already used")


def test_staff_see_their_browser_language_and_a_clear_refusal(browser: Browser, live_app):
    context = browser.new_context(base_url=live_app.base_url, **{**harness.MOBILE_CONTEXT, "locale": "ro-RO"})
    try:
        page = context.new_page()
        sign_in(page, "cafe", "staff@demo.test")
        page.wait_for_url("**/m/cafe/staff")
        expect(page.get_by_role("heading", name="Casa de marcat")).to_be_visible()
        expect(page.get_by_test_id("till-credit")).to_have_count(0)  # no member yet: no credit form
        page.fill("#f-member_number", "LM1.k0.forged.code")
        page.press("#f-member_number", "Enter")
        expect(page.get_by_test_id("form-error")).to_have_text("Acest cod de membru nu este valid.")
    finally:
        context.close()
