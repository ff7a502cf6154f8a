"""The member's rewards experience at 390x844 against the production build, with the demo data
(Ana, member@demo.test at the café, has a few thousand points and a rated espresso voucher):
catalog and its filter, a reward's page, redeeming with a confirmation, the voucher with a QR
that decodes to its code, my vouchers, cancelling (points come back), and rating a reward with
a review (the average updates at once). Screenshots of every screen land in
test-artifacts/screenshots/rewards-*.png."""

from __future__ import annotations

import io
import json
import re

from playwright.sync_api import Page, expect

from tests.browser import harness
from tests.browser.test_member_flows import sign_in


def viewport_shot(page: Page, name: str) -> None:
    """What the member sees right now (a full-page shot would paint the sticky bars mid-page)."""
    harness.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(harness.SCREENSHOT_DIR / f"{name}.png"))


def points_of(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def open_reward(page: Page, name: str) -> None:
    page.get_by_test_id("reward-tile").filter(has_text=name).first.click()
    page.wait_for_url(re.compile(r"/m/cafe/reward\?id=\d+$"))
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page.get_by_test_id("tab-rewards")).to_have_attribute("aria-current", "page")


def redeem(page: Page, name: str, cost: int) -> str:
    """Redeem the open reward through the confirmation; returns the voucher page URL."""
    page.get_by_test_id("redeem").click()
    sheet = page.get_by_role("alertdialog")
    expect(sheet).to_contain_text(f"Spend {cost} points on {name}?")
    page.get_by_test_id("redeem-confirm-yes").click()
    page.wait_for_url(re.compile(r"/m/cafe/voucher\?id=\d+&new=1$"))
    expect(page.get_by_test_id("voucher-new")).to_contain_text(f"{cost} points spent on {name}")
    return page.url


def test_catalog_redeem_voucher_cancel_and_rate(page: Page, screenshot):
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")

    # The catalog: every reward, the Platinum-only one locked; cheapest first.
    page.get_by_test_id("tab-rewards").click()
    page.wait_for_url("**/m/cafe/rewards")
    tiles = page.get_by_test_id("reward-tile")
    expect(tiles.first).to_be_visible()
    expect(page.get_by_test_id("rewards-balance")).not_to_have_text(re.compile(r"You have 0 points"))
    balance_before = points_of(page.get_by_test_id("rewards-balance").inner_text())
    locked = tiles.filter(has_text="Bag of house beans")
    expect(locked).to_have_attribute("data-status", "tier_locked")
    expect(locked).to_contain_text("Platinum members")
    expect(page.get_by_test_id("view-cost")).to_have_attribute("aria-pressed", "true")
    page.wait_for_load_state("networkidle")
    screenshot(page, "rewards-catalog")

    # "Can afford": only what Ana can get now.
    page.get_by_test_id("view-affordable").click()
    expect(page.get_by_test_id("view-affordable")).to_have_attribute("aria-pressed", "true")
    expect(tiles.filter(has_text="Bag of house beans")).to_have_count(0)
    count = tiles.count()
    assert count > 3
    for i in range(count):
        expect(tiles.nth(i)).to_have_attribute("data-status", "ok")
    screenshot(page, "rewards-affordable")
    page.get_by_test_id("view-rating").click()
    expect(tiles.first).to_contain_text("Butter croissant")  # the demo's best rated (5 stars)

    # A reward's page; redeeming asks first, and Escape or Cancel changes nothing.
    page.get_by_test_id("view-cost").click()
    open_reward(page, "Free cappuccino")
    expect(page.get_by_test_id("reward-availability")).to_contain_text("You can get this now")
    screenshot(page, "rewards-detail")
    page.get_by_test_id("redeem").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Spend 150 points on Free cappuccino?")
    expect(page.get_by_test_id("redeem-confirm-yes")).to_be_focused()
    page.wait_for_timeout(400)  # the sheet has slid in
    viewport_shot(page, "rewards-redeem-confirm")
    page.keyboard.press("Escape")
    expect(page.get_by_role("alertdialog")).to_have_count(0)

    # Confirmed: the voucher, with a QR that decodes to the code printed under it.
    redeem(page, "Free cappuccino", 150)
    expect(page.get_by_test_id("tab-rewards")).to_have_attribute("aria-current", "page")
    qr = page.get_by_test_id("voucher-qr")
    expect(qr).to_be_visible()
    code = page.get_by_test_id("voucher-code").get_attribute("data-code")
    assert re.fullmatch(r"[0-9A-Z]{5}(-[0-9A-Z]{5}){3}", code or "")
    assert page.get_by_test_id("voucher-code").inner_text().split() == code.split("-")  # grouped for typing
    box = qr.bounding_box()
    assert box and box["width"] >= 250  # big enough to scan from a distance
    assert decode_qr(qr.screenshot()) == [code]
    expect(page.get_by_test_id("voucher-when")).to_contain_text("Valid until")
    expect(page.get_by_text("Show this at the till")).to_be_visible()
    screenshot(page, "rewards-voucher")

    # My vouchers, newest first; cancel the new one and the points come back.
    page.get_by_test_id("back-to-vouchers").click()
    page.wait_for_url("**/m/cafe/vouchers")
    rows = page.get_by_test_id("voucher-row")
    expect(rows.first).to_contain_text("Free cappuccino")
    expect(rows.first).to_have_attribute("data-status", "issued")
    expect(rows.filter(has_text="Free espresso").first).to_be_visible()  # the demo voucher
    screenshot(page, "rewards-my-vouchers")
    rows.first.click()
    page.wait_for_url(re.compile(r"/m/cafe/voucher\?id=\d+$"))
    page.get_by_test_id("cancel-voucher").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("Cancel this voucher?")
    expect(page.get_by_role("alertdialog")).to_contain_text("Your 150 points come back")
    page.wait_for_timeout(400)
    viewport_shot(page, "rewards-cancel-confirm")
    page.get_by_test_id("cancel-confirm-yes").click()
    expect(page.get_by_test_id("voucher-notice")).to_contain_text("150 points are back in your balance")
    expect(page.get_by_test_id("voucher")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("voucher-qr")).to_have_count(0)
    expect(page.get_by_test_id("cancel-voucher")).to_have_count(0)
    screenshot(page, "rewards-voucher-cancelled")
    page.goto("/m/cafe/rewards")
    expect(page.get_by_test_id("rewards-balance")).to_have_text(re.compile(rf"{balance_before:,}|{balance_before}"))

    # Rating: redeem the croissant, then rate it from its page (stars by keyboard, a review).
    open_reward(page, "Butter croissant")
    average_before = page.get_by_test_id("rating-average").inner_text()
    assert average_before == "5.0"  # Sofía's five stars in the demo
    redeem(page, "Butter croissant", 120)
    page.get_by_role("link", name="About this reward").click()
    page.wait_for_url(re.compile(r"/m/cafe/reward\?id=\d+$"))
    section = page.get_by_test_id("rate-section")
    expect(section).to_contain_text("Rate this reward")
    expect(page.get_by_test_id("rating-save")).to_be_disabled()  # no stars chosen yet
    page.locator("label[for=star-2]").click()
    expect(page.get_by_role("radio", name="2 stars")).to_be_checked()
    page.keyboard.press("ArrowRight")  # a native radio group: arrows move the choice
    expect(page.get_by_role("radio", name="3 stars")).to_be_checked()
    page.get_by_label("Short review (optional)").fill("Flaky and buttery, a little dry.")
    page.get_by_test_id("rating-save").click()
    # the rate_reward rule (10) plus the first written review (write_review, with multipliers)
    expect(page.get_by_test_id("rating-notice")).to_contain_text(re.compile(r"You earned \d+ points"))
    expect(page.get_by_test_id("rating-average")).to_have_text("4.0")  # (5 + 3) / 2, at once
    expect(page.get_by_test_id("rating-count")).to_have_text("2 ratings")
    expect(page.get_by_test_id("reviews")).to_contain_text("Flaky and buttery, a little dry.")
    expect(section).to_contain_text("Your rating")
    page.get_by_test_id("ratings").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.mouse.wheel(0, -90)  # below the sticky top bar
    page.wait_for_timeout(300)
    viewport_shot(page, "rewards-rated")
    page.get_by_test_id("rate-section").evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    viewport_shot(page, "rewards-rate-form")

    # Editing keeps one rating per member: the count stays, the average moves.
    page.locator("label[for=star-5]").click()
    page.get_by_test_id("rating-save").click()
    expect(page.get_by_test_id("rating-notice")).to_contain_text("Your rating is updated.")
    expect(page.get_by_test_id("rating-average")).to_have_text("5.0")
    expect(page.get_by_test_id("rating-count")).to_have_text("2 ratings")

    # The history: newest first, each with its status.
    page.goto("/m/cafe/vouchers")
    rows = page.get_by_test_id("voucher-row")
    expect(rows.first).to_contain_text("Butter croissant")
    expect(rows.filter(has_text="Free cappuccino").first).to_have_attribute("data-status", "cancelled")
    screenshot(page, "rewards-my-vouchers-history")


def test_empty_vouchers_and_unknown_ids(page: Page, screenshot):
    """A new member: no vouchers yet (designed empty state), nothing affordable; someone else's
    voucher id and an unknown reward id show "not found", never the data."""
    import uuid

    page.goto("/m/cafe/signup")
    page.fill("#f-first_name", "Nora")
    page.fill("#f-email", f"nora-{uuid.uuid4().hex[:8]}@example.test")
    page.fill("#f-password", "a long enough password 123")
    page.click("[data-testid=signup-submit]")
    page.wait_for_url("**/m/cafe/home")

    page.goto("/m/cafe/vouchers")
    expect(page.get_by_test_id("vouchers-empty")).to_contain_text("No vouchers yet")
    screenshot(page, "rewards-vouchers-empty")

    page.goto("/m/cafe/rewards")
    page.get_by_test_id("view-affordable").click()
    expect(page.get_by_test_id("rewards-empty")).to_contain_text("Nothing you can get just yet")
    screenshot(page, "rewards-affordable-empty")
    page.get_by_role("button", name="Show all rewards").click()
    expect(page.get_by_test_id("reward-tile").first).to_be_visible()
    open_reward(page, "Free espresso")
    expect(page.get_by_test_id("redeem")).to_be_disabled()
    expect(page.get_by_test_id("reward-availability")).to_contain_text("80 more points to go")
    expect(page.get_by_test_id("rate-section")).to_contain_text("Redeem this reward to rate it.")
    screenshot(page, "rewards-detail-cannot-afford")

    page.goto("/m/cafe/voucher?id=1")  # the demo's first voucher is Ana's
    expect(page.get_by_test_id("voucher-missing")).to_contain_text("Voucher not found.")
    expect(page.get_by_test_id("voucher-qr")).to_have_count(0)
    page.goto("/m/cafe/reward?id=999999")
    expect(page.get_by_role("heading", name="This reward is not available")).to_be_visible()


def test_rewards_screens_have_no_axe_violations(page: Page, screenshot):
    """WCAG 2.x A/AA (axe-core) on the reward page with its confirmation open, the voucher and
    the vouchers list (the rewards tab itself is covered by test_accessibility)."""
    from tests.browser.test_accessibility import AXE, axe_violations

    assert AXE.exists()
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    page.goto("/m/cafe/rewards")
    open_reward(page, "Free espresso")  # rated and reviewed in the demo data
    expect(page.get_by_test_id("reviews")).to_be_visible()
    problems = {}

    def check(name: str) -> None:
        page.wait_for_timeout(400)  # entrance animations settle before contrast is measured
        found = axe_violations(page)
        if found:
            problems[name] = found

    check("reward")
    page.get_by_test_id("redeem").click()
    expect(page.get_by_role("alertdialog")).to_be_visible()
    check("reward-confirm")
    page.get_by_test_id("redeem-confirm-no").click()
    page.goto("/m/cafe/vouchers")
    expect(page.get_by_test_id("voucher-row").first).to_be_visible()
    check("vouchers")
    page.get_by_test_id("voucher-row").last.click()  # the oldest: the demo's espresso voucher
    expect(page.get_by_test_id("voucher")).to_be_visible()
    check("voucher")
    page.goto("/m/cafe/rewards")
    open_reward(page, "Bag of house beans")  # Platinum only: locked for Ana (Gold)
    expect(page.get_by_test_id("reward-availability")).to_contain_text("For Platinum members")
    expect(page.get_by_test_id("redeem")).to_be_disabled()
    check("reward-locked")
    screenshot(page, "rewards-detail-locked")
    assert not problems, "axe-core violations:\n" + json.dumps(problems, indent=1, ensure_ascii=False)
