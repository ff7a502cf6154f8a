"""Merchant console, program editor (issue #6): the admin creates a quest starting now for two
hours (in the shop's time zone) and a member sees its card with the live countdown on Home; the
change is on the member's "What's new" page, the admin annotates it and the note shows there; a
bad value in a form shows the translated field error. Desktop (1280x800) for the admin, phone
(390x844) for the member and a phone check of the console."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from playwright.sync_api import Browser, expect

from tests.browser import harness
from tests.browser.test_member_flows import sign_in

DESKTOP = {
    **harness.MOBILE_CONTEXT,
    "viewport": {"width": 1280, "height": 800},
    "is_mobile": False,
    "has_touch": False,
    "device_scale_factor": 1,
}
CAFE_TZ = ZoneInfo("Europe/Bucharest")  # the demo café's time zone (services/operations/demo.py)
QUEST = "Happy hour double"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (120, 70, 30)).save(buf, format="PNG")
    return buf.getvalue()


def top_shot(page, name: str) -> None:
    """A full-page screenshot from the top (sticky bars then sit where a person sees them)."""
    page.evaluate("window.scrollTo(0, 0)")
    harness.screenshot(page, name)


def view_shot(page, name: str) -> None:
    """What is on the screen right now (the viewport), e.g. a focused field with its error."""
    harness.SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(harness.SCREENSHOT_DIR / f"{name}.png"))


def test_admin_quest_reaches_the_member_with_countdown_and_changelog(browser: Browser, live_app):
    admin_ctx = browser.new_context(base_url=live_app.base_url, **DESKTOP)
    member_ctx = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    phone_admin_ctx = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    for ctx in (admin_ctx, member_ctx, phone_admin_ctx):
        ctx.set_default_timeout(20_000)
    try:
        admin = admin_ctx.new_page()
        sign_in(admin, "cafe", "admin@demo.test")
        admin.wait_for_url("**/m/cafe/admin")
        admin.get_by_test_id("admin-nav-admin-program").click()
        admin.wait_for_url("**/m/cafe/admin-program")
        expect(admin.get_by_test_id("form-reward")).to_be_visible()
        expect(admin.get_by_test_id("program-row").first).to_be_visible()
        view_shot(admin, "admin-program-rewards-1280")

        # A reward gets a new picture: checked and re-encoded by the server, saved with the reward.
        # (The mug: no other browser test reads its price.)
        espresso = admin.get_by_test_id("program-row").filter(has_text="Branded mug")
        old_src = espresso.locator("img").get_attribute("src")
        espresso.get_by_role("button", name="Edit").click()
        expect(admin.locator("#pf-name")).to_have_value("Branded mug")
        admin.set_input_files(
            "[data-testid=reward-image-upload] input[type=file]",
            files=[{"name": "espresso.png", "mimeType": "image/png", "buffer": _png()}],
        )
        expect(admin.get_by_test_id("program-notice")).to_contain_text("New picture ready")
        admin.fill("#pf-cost_points", "705")
        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("program-notice")).to_contain_text("Saved and published")
        expect(espresso).to_contain_text("705 points")
        expect(espresso.locator("img")).not_to_have_attribute("src", old_src or "")

        admin.get_by_test_id("program-tab-quests").click()
        expect(admin.get_by_test_id("form-quest")).to_be_visible()
        expect(admin).to_have_url(
            re.compile(r"/m/cafe/admin-program\?tab=quests$")
        )  # the address follows the tab (a bookmark reopens it)
        start = datetime.now(CAFE_TZ).replace(second=0, microsecond=0)
        admin.fill("#pf-name", QUEST)
        admin.fill("#pf-multiplier", "twice")  # a bad value first: the translated field error
        admin.fill("#pf-starts_at", start.strftime("%Y-%m-%dT%H:%M"))
        admin.fill("#pf-ends_at", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
        admin.fill("#pf-publish_note", "Two hours of double points, this afternoon only.")
        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("field-error-multiplier")).to_have_text("Enter a number, like 1.5.")
        expect(admin.get_by_test_id("form-error")).to_contain_text("Some fields need a fix")
        expect(admin.locator("#pf-name")).to_have_value(QUEST)  # what was typed is kept
        expect(admin.locator("#pf-multiplier")).to_be_focused()  # the first field to fix
        view_shot(admin, "admin-program-field-error-1280")

        admin.fill("#pf-multiplier", "2")
        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("program-notice")).to_contain_text("Saved and published")
        expect(admin.get_by_test_id("field-error-multiplier")).to_have_count(0)
        row = admin.get_by_test_id("program-row").filter(has_text=QUEST)
        expect(row).to_contain_text("Active")
        expect(admin.get_by_test_id("program-form-title")).to_contain_text(QUEST)
        view_shot(admin, "admin-program-quests-1280")

        # The member (a phone, another browser context) sees the quest with its countdown.
        member = member_ctx.new_page()
        sign_in(member, "cafe", "member@demo.test")
        member.wait_for_url("**/m/cafe/home")
        card = member.get_by_test_id("quest-card").filter(has_text=QUEST)
        expect(card).to_be_visible()
        expect(card).to_contain_text("×2")
        expect(card.get_by_test_id("quest-countdown")).to_have_text(re.compile(r"^0[12]:\d\d:\d\d$"))
        view_shot(member, "member-home-quest-390")

        member.goto("/m/cafe/news")
        item = member.get_by_test_id("news-item").filter(has_text=QUEST)
        expect(item).to_contain_text(f"{QUEST}: ×2 points from")
        expect(item).to_contain_text("Two hours of double points")

        # The admin annotates the entry; the member sees the note.
        admin.get_by_test_id("program-tab-changelog").click()
        entry = admin.get_by_test_id("change-item").filter(has_text=QUEST).first
        entry.locator("input[name=note]").fill("Also next Friday, same time.")
        entry.get_by_role("button", name="Save note").click()
        expect(admin.get_by_text("Note saved.")).to_be_visible()
        top_shot(admin, "admin-program-changelog-1280")

        member.reload()
        expect(member.get_by_test_id("news-item").filter(has_text=QUEST).get_by_test_id("news-note")).to_have_text(
            "Also next Friday, same time."
        )
        view_shot(member, "member-news-note-390")

        # The console still works on a phone.
        phone = phone_admin_ctx.new_page()
        sign_in(phone, "cafe", "admin@demo.test")
        phone.wait_for_url("**/m/cafe/admin")
        phone.goto("/m/cafe/admin-program?tab=quests")
        expect(phone.get_by_test_id("program-row").filter(has_text=QUEST)).to_be_visible()
        phone.get_by_test_id("program-row").filter(has_text=QUEST).get_by_role("button", name="Edit").click()
        expect(phone.locator("#pf-name")).to_have_value(QUEST)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.wait_for_timeout(800)  # the form scrolls into view
        view_shot(phone, "admin-program-quests-390")
        # Retire the quest (also proves retiring from a phone): the other browser tests share this
        # app, and a live ×2 quest would double their expected points.
        phone.get_by_role("button", name="Retire").click()
        expect(phone.get_by_test_id("program-notice")).to_contain_text("Retired")
        phone.get_by_test_id("program-tab-moderation").click()
        expect(phone.get_by_text("Posts and photos to review")).to_be_visible()
        top_shot(phone, "admin-program-moderation-390")
    finally:
        for ctx in (admin_ctx, member_ctx, phone_admin_ctx):
            ctx.close()
