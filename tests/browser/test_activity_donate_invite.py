"""Activity, Give points and Invite friends at 390x844 against the production build (demo data:
Ana, member@demo.test at the café, has months of history, a redemption, a donation and a friend
she referred). Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import io
import re
import uuid

from playwright.sync_api import Browser, Page, expect

from tests.browser import harness
from tests.browser.test_member_flows import sign_in

MINUS = "\u2212"


def _points(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _signed_in_ana(page: Page, path: str) -> None:
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    page.goto(f"/m/cafe/{path}")


def test_activity_history_filters_and_show_more(page: Page, screenshot):
    _signed_in_ana(page, "activity")
    expect(page.get_by_role("heading", name="Activity")).to_be_visible()
    rows = page.get_by_test_id("activity-row")
    expect(rows.first).to_be_visible()
    expect(page.get_by_test_id("activity-available")).not_to_have_text("0")
    reasons = page.get_by_test_id("activity-reason").all_inner_texts()
    assert len(reasons) == 20 and all(r and "{" not in r for r in reasons), reasons
    assert any(r.startswith("Purchase ") for r in reasons)
    page.wait_for_timeout(300)
    screenshot(page, "activity-all")

    page.get_by_test_id("activity-more").click()
    expect(rows).to_have_count(40)

    page.get_by_test_id("activity-filter-spent").click()
    expect(page.get_by_test_id("activity-filter-spent")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("activity-reason").first).to_contain_text("Redeemed:")
    kinds = {rows.nth(i).get_attribute("data-kind") for i in range(rows.count())}
    assert kinds and kinds <= {"redeem", "adjustment", "reversal"}, kinds
    assert all(p.startswith(MINUS) for p in page.get_by_test_id("activity-points").all_inner_texts())
    screenshot(page, "activity-spent")


def test_donate_100_points_with_confirmation(page: Page, screenshot):
    _signed_in_ana(page, "donate")
    expect(page.get_by_role("heading", name="Give points")).to_be_visible()
    balance = page.get_by_test_id("donate-balance")
    expect(balance).not_to_have_text(re.compile(r"You have 0 points"))
    before = _points(balance.inner_text())
    charity = page.get_by_test_id("donate-charity").first
    charity_name = charity.locator(".don-charity-name").inner_text()
    charity.click()
    page.get_by_test_id("donate-amount-100").click()
    page.wait_for_timeout(200)
    screenshot(page, "donate-choose")

    page.get_by_test_id("donate-continue").click()
    step = page.get_by_test_id("donate-confirm-step")
    expect(step).to_contain_text(f"Give 100 points to {charity_name}?")
    expect(step).to_contain_text(f"You will have {before - 100:,} points left.")
    screenshot(page, "donate-confirm")

    page.get_by_test_id("donate-confirm").dblclick()  # a double tap donates once
    thanks = page.get_by_test_id("donate-thanks")
    expect(thanks).to_contain_text("Thank you!")
    expect(page.get_by_test_id("donate-thanks-lead")).to_have_text(f"You gave 100 points to {charity_name}.")
    expect(balance).to_have_text(f"You have {before - 100:,} points")
    assert _points(page.get_by_test_id("donate-member-total").inner_text()) >= 100
    assert _points(page.get_by_test_id("donate-charity-total").inner_text()) >= 100
    page.wait_for_timeout(600)
    screenshot(page, "donate-thanks")

    page.goto("/m/cafe/activity?filter=donated")
    expect(page.get_by_test_id("activity-filter-donated")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("activity-reason").first).to_have_text(f"Donation to {charity_name}")
    points = page.get_by_test_id("activity-points").all_inner_texts()
    assert sum(1 for p in points if p.startswith(f"{MINUS}100")) == 1, points

    # Too much for today's cap: a clear, translated refusal, nothing given.
    page.goto("/m/cafe/donate")
    page.get_by_test_id("donate-charity").first.click()
    page.get_by_test_id("donate-amount-other").click()
    page.get_by_test_id("donate-custom").fill("100000")
    page.get_by_test_id("donate-continue").click()
    expect(page.get_by_test_id("form-error")).to_contain_text(re.compile(r"Not enough points|Daily donation limit"))
    expect(page.get_by_test_id("donate-confirm-step")).to_have_count(0)


def test_invite_link_qr_and_sign_up_with_the_code(page: Page, browser: Browser, live_app, screenshot):
    import zxingcpp
    from PIL import Image

    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_app.base_url)
    _signed_in_ana(page, "invite")
    link_box = page.get_by_test_id("invite-link")
    expect(link_box).to_have_value(re.compile(r"/m/cafe/signup\?ref=[0-9A-Z]{8}$"))
    link = link_box.input_value()
    assert link.startswith(live_app.base_url + "/m/cafe/signup?ref=")
    code = link.rsplit("=", 1)[1]
    expect(page.get_by_test_id("invite-code")).to_have_text(code)

    qr = page.get_by_test_id("invite-qr")
    expect(qr).to_be_visible()
    # Centre it: near the bottom edge the fixed tab bar would cover part of the code in the shot.
    qr.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
    assert [d.text for d in decoded] == [link]

    friends = page.get_by_test_id("invite-friend")
    expect(friends.first).to_be_visible()
    assert "bonus_paid" in {friends.nth(i).get_attribute("data-status") for i in range(friends.count())}

    page.get_by_test_id("invite-copy").click()
    expect(page.get_by_test_id("invite-notice")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.get_by_test_id("invite-share").click()  # no Web Share on desktop Linux: falls back to copy
    expect(page.get_by_test_id("invite-notice")).to_contain_text(re.compile(r"Link copied|Thanks for sharing"))
    screenshot(page, "invite")

    # The link opens sign-up with the code applied; the new member gets the welcome bonus.
    friend_ctx = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    try:
        friend = friend_ctx.new_page()
        friend.goto(link)
        expect(friend.get_by_test_id("referral-applied")).to_contain_text(code)
        screenshot(friend, "signup-with-referral")
        friend.fill("#f-first_name", "Radu")
        friend.fill("#f-email", f"friend-{uuid.uuid4().hex[:8]}@example.test")
        friend.fill("#f-password", "a long friendly passphrase")
        friend.click("[data-testid=signup-submit]")
        friend.wait_for_url("**/m/cafe/home")
        friend.goto("/m/cafe/activity")
        expect(friend.get_by_test_id("activity-reason").first).to_have_text("Welcome bonus: invited by a friend")
        expect(friend.get_by_test_id("activity-points").first).to_contain_text("+50")
    finally:
        friend_ctx.close()

    page.reload()
    expect(page.get_by_test_id("invite-friend").first).to_contain_text("Radu")
    expect(page.get_by_test_id("invite-friend").first).to_have_attribute("data-status", "joined")
