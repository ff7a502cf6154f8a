"""The Challenges tab at 390x844 against the production build with the demo data: challenges with
progress bars and time left, badges earned and locked, and the ways to earn beyond purchases
done for real by a new member (survey, event code, social link, photo, newsletter). Screenshots
land in test-artifacts/screenshots/challenges-*.png."""

from __future__ import annotations

import io
import re
import uuid

from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import axe_violations
from tests.browser.test_member_flows import sign_in


def axe_check(page: Page, where: str, problems: dict) -> None:
    """Collect axe-core violations (asserted at the end, so one finding does not hide the rest)."""
    found = axe_violations(page)
    if found:
        problems[where] = found


def test_challenges_progress_time_left_and_badges(page: Page, screenshot):
    problems: dict = {}
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    page.get_by_test_id("tab-challenges").click()
    page.wait_for_url("**/m/cafe/challenges")
    expect(page.get_by_role("heading", level=1, name="Challenges")).to_be_visible()
    cards = page.get_by_test_id("challenge-card")
    expect(cards.first).to_be_visible()
    monthly = cards.filter(has_text="Visit 3 times this month")
    expect(monthly).to_contain_text("How: Visit us: make a purchase or check in")
    bar = monthly.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    expect(bar).to_have_attribute("aria-valuemax", "100")
    # Either still open with the time left this month, or done with its date.
    expect(monthly.get_by_test_id("challenge-time-left").or_(monthly.get_by_test_id("challenge-done"))).to_be_visible()
    expect(page.get_by_test_id("challenge-time-left").first).to_have_text(
        re.compile(r"\d+ (days?|hours?|minutes?|weeks?) left this (week|month)")
    )
    surprise = cards.filter(has_text="Surprise: three check-ins")
    expect(surprise).to_contain_text("Surprise unlocked")
    expect(surprise.get_by_test_id("challenge-done")).to_contain_text(re.compile(r"Completed on \w+ \d+, \d{4}"))
    page.wait_for_timeout(300)
    screenshot(page, "challenges-list")
    axe_check(page, "challenges list", problems)

    page.get_by_test_id("view-badges").click()
    expect(page.get_by_test_id("view-badges")).to_have_attribute("aria-pressed", "true")
    earned = page.get_by_test_id("badge-earned")
    expect(earned.first).to_be_visible()
    expect(earned.filter(has_text="First purchase")).to_contain_text(re.compile(r"Earned \w+ \d+, \d{4}"))
    expect(earned.filter(has_text="Night owl")).to_be_visible()  # the surprise challenge, completed
    screenshot(page, "challenges-badges")
    axe_check(page, "badges", problems)
    assert not problems, f"axe-core violations: {problems}"


def jpeg_bytes() -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (900, 600), (240, 200, 150))
    draw = ImageDraw.Draw(image)
    draw.ellipse((300, 150, 600, 450), fill=(120, 60, 30))
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def test_new_member_earns_without_buying(page: Page, screenshot):
    problems: dict = {}
    page.goto("/m/cafe/signup")
    page.fill("#f-first_name", "Dana")
    page.fill("#f-email", f"earn-{uuid.uuid4().hex[:8]}@example.test")
    page.fill("#f-password", "a long enough password 123")
    page.click("[data-testid=signup-submit]")
    page.wait_for_url("**/m/cafe/home")

    page.goto("/m/cafe/challenges?tab=earn")
    expect(page.get_by_test_id("view-earn")).to_have_attribute("aria-pressed", "true")
    survey = page.get_by_test_id("way-fill_survey")
    expect(survey).to_contain_text("Help us pick the next blend")
    expect(survey).to_contain_text("+30")
    expect(survey).to_contain_text("Once a month")
    expect(page.get_by_test_id("way-attend_event")).to_be_visible()
    expect(page.get_by_test_id("way-birthday")).to_contain_text("Add your birthday in your profile")
    page.wait_for_timeout(300)
    screenshot(page, "challenges-earn")

    # Survey: a required question left out is refused, then the full form earns points.
    page.get_by_test_id("survey-start").click()
    form = page.get_by_test_id("survey-form")
    expect(form.get_by_test_id("survey-question")).to_have_count(3)
    form.get_by_text("A few times a week").click()
    page.get_by_test_id("survey-submit").click()
    expect(page.get_by_test_id("earn-error-fill_survey")).to_have_text("Please answer: How do you rate our coffee?")
    form.locator("label.ch-star").nth(1).click()  # shown 1..5 from the left; the DOM holds 5..1: this is 4 stars
    form.locator("textarea").fill("Oat milk flat white")
    screenshot(page, "challenges-survey")
    axe_check(page, "survey form", problems)
    page.get_by_test_id("survey-submit").click()
    expect(page.get_by_test_id("earn-notice-title-fill_survey")).to_have_text("+30 points")
    expect(page.get_by_test_id("earn-notice-fill_survey")).to_contain_text("Thanks for your answers!")
    expect(page.get_by_test_id("survey-form")).to_have_count(0)
    expect(page.get_by_test_id("ch-balance")).to_have_text("30 pts")
    screenshot(page, "challenges-survey-done")

    # Event code: a wrong one is refused, the right one earns once.
    page.get_by_test_id("event-code").fill("nope")
    page.get_by_test_id("event-submit").click()
    expect(page.get_by_test_id("earn-error-attend_event")).to_have_text("This event code is not valid.")
    page.get_by_test_id("event-code").fill("jazznight")
    page.get_by_test_id("event-submit").click()
    expect(page.get_by_test_id("earn-notice-title-attend_event")).to_have_text("+60 points")
    expect(page.get_by_test_id("earn-state-fill_survey")).to_contain_text("Thanks! You answered on")
    page.get_by_test_id("event-code").fill("JAZZNIGHT")
    page.get_by_test_id("event-submit").click()
    expect(page.get_by_test_id("earn-error-attend_event")).to_have_text("You already used this event code.")

    # Social link: only allowed networks; then it waits for the merchant's review.
    social = page.get_by_test_id("way-tag_social")
    page.get_by_test_id("social-url").fill("https://example.com/post/1")
    page.get_by_test_id("social-submit").click()
    expect(page.get_by_test_id("earn-error-tag_social")).to_have_text(
        "Links from Instagram, Facebook, TikTok, X or Threads only."
    )
    page.get_by_test_id("social-url").fill(f"https://www.instagram.com/p/{uuid.uuid4().hex[:10]}/")
    page.get_by_test_id("social-submit").click()
    expect(page.get_by_test_id("earn-notice-title-tag_social")).to_have_text("Sent for review")
    expect(social.get_by_test_id("submission-status").first).to_have_text("Waiting for review")
    social.scroll_into_view_if_needed()
    screenshot(page, "challenges-social")

    # Photo contest: upload a picture; it is checked on the server and waits for review.
    photo = page.get_by_test_id("way-photo_contest")
    expect(page.get_by_test_id("photo-submit")).to_be_disabled()  # nothing chosen yet
    photo.locator("input[type=file]").set_input_files(
        files=[{"name": "latte.jpg", "mimeType": "image/jpeg", "buffer": jpeg_bytes()}]
    )
    expect(page.get_by_test_id("photo-chosen")).to_have_text("latte.jpg")
    page.get_by_test_id("photo-submit").click()
    expect(page.get_by_test_id("earn-notice-title-photo_contest")).to_have_text("Sent for review")
    expect(photo.get_by_test_id("submission-status").first).to_have_text("Waiting for review")
    photo.scroll_into_view_if_needed()
    screenshot(page, "challenges-photo")

    # Newsletter: one tap, points once.
    page.get_by_test_id("newsletter-submit").click()
    expect(page.get_by_test_id("earn-notice-title-subscribe_newsletter")).to_have_text("+50 points")
    expect(page.get_by_test_id("earn-notice-subscribe_newsletter")).to_contain_text("You're subscribed. Thank you!")
    expect(page.get_by_test_id("newsletter-submit")).to_have_count(0)
    expect(page.get_by_test_id("ch-balance")).to_have_text("140 pts")
    screenshot(page, "challenges-earn-done")
    axe_check(page, "ways to earn", problems)

    # Badges still to earn: progress and how, the surprise one without giving it away.
    page.get_by_test_id("view-badges").click()
    locked = page.get_by_test_id("badge-locked")
    expect(page.get_by_test_id("badge-earned")).to_have_count(0)
    expect(locked.filter(has_text="1,000 points")).to_contain_text("140/1,000")
    expect(locked.filter(has_text="1,000 points").get_by_role("progressbar")).to_have_attribute("aria-valuenow", "14")
    expect(locked.filter(has_text="First purchase")).to_contain_text("Make your first purchase.")
    expect(locked.filter(has_text="Night owl")).to_contain_text("Complete a surprise challenge.")
    screenshot(page, "challenges-badges-locked")

    # A new member's challenges: no progress yet, and no surprise revealed.
    page.get_by_test_id("view-challenges").click()
    cards = page.get_by_test_id("challenge-card")
    expect(cards.filter(has_text="Visit 3 times this month").get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    expect(cards.filter(has_text="Surprise")).to_have_count(0)
    screenshot(page, "challenges-new-member")
    assert not problems, f"axe-core violations: {problems}"
