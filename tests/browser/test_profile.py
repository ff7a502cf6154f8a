"""The Profile tab at 390x844 against the production build: upload a photo and a background,
a bad file refused with a clear message, consent switches with their date, "Download my data",
and deleting the account (password asked again) which lands on sign-in with the email free."""

from __future__ import annotations

import io
import json
import re
import uuid

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Page, expect

from tests.browser import harness

PASSWORD = "profile test passphrase 1"


def sign_up(page: Page, email: str, first_name: str = "Lena") -> None:
    page.goto("/m/cafe/signup")
    page.fill("#f-first_name", first_name)
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("[data-testid=signup-submit]")
    page.wait_for_url("**/m/cafe/home")


def open_profile(page: Page) -> None:
    page.get_by_test_id("tab-profile").click()
    page.wait_for_url("**/m/cafe/profile")
    expect(page.get_by_test_id("member-number")).to_have_text(re.compile(r"^\d{8}$"))


def portrait_jpeg() -> bytes:
    """A friendly 'photo': a face on a warm gradient, shot sideways (EXIF orientation 6) with GPS."""
    image = Image.new("RGB", (900, 600))
    draw = ImageDraw.Draw(image)
    for x in range(900):
        draw.line([(x, 0), (x, 600)], fill=(240 - x // 6, 150 + x // 12, 90 + x // 8))
    # Drawn rotated 90° counter-clockwise, so orientation 6 (turn clockwise) shows it upright.
    face = Image.new("RGBA", (600, 600), (0, 0, 0, 0))
    d = ImageDraw.Draw(face)
    d.ellipse((150, 110, 450, 470), fill=(255, 214, 170))
    d.ellipse((225, 220, 265, 260), fill=(40, 40, 40))
    d.ellipse((335, 220, 375, 260), fill=(40, 40, 40))
    d.arc((230, 280, 370, 400), 20, 160, fill=(160, 40, 40), width=10)
    face = face.rotate(90)
    image.paste(face, (150, 0), face)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x8825] = {1: "N", 2: (44.0, 25.0, 36.0), 3: "E", 4: (26.0, 6.0, 12.0)}
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def landscape_png() -> bytes:
    image = Image.new("RGB", (1600, 900))
    draw = ImageDraw.Draw(image)
    for y in range(900):
        draw.line([(0, y), (1600, y)], fill=(30 + y // 8, 90 + y // 10, 160 - y // 9))
    draw.ellipse((1100, 120, 1340, 360), fill=(255, 220, 120))
    draw.polygon([(0, 900), (500, 420), (900, 900)], fill=(40, 80, 60))
    draw.polygon([(600, 900), (1150, 380), (1600, 900)], fill=(30, 60, 50))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def image_loaded_width(page: Page, test_id: str) -> int:
    locator = page.get_by_test_id(test_id)
    expect(locator).to_be_visible()
    page.wait_for_function(
        "(id) => { const i = document.querySelector(`[data-testid=${id}]`); return i && i.complete && i.naturalWidth > 0; }",
        arg=test_id,
    )
    return locator.evaluate("(img) => img.naturalWidth")


def axe_violations(page: Page) -> list[dict]:
    axe = harness.REPO_ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists():
        pytest.skip("axe-core is not installed in tools/node_modules")
    page.add_script_tag(path=str(axe))
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']}, resultTypes: ['violations']})).violations"
    )
    return [{"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]} for v in result]


def test_photo_background_consent_and_my_data(page: Page, screenshot):
    email = f"lena-{uuid.uuid4().hex[:8]}@example.test"
    sign_up(page, email)
    open_profile(page)
    expect(page.get_by_test_id("avatar-initial")).to_have_text("L")
    page.wait_for_timeout(300)
    screenshot(page, "profile-new-member")

    # A good photo: stored, shown as a 256 px square in the header.
    page.set_input_files(
        "[data-testid=avatar-upload] input[type=file]",
        files=[{"name": "holiday.jpg", "mimeType": "image/jpeg", "buffer": portrait_jpeg()}],
    )
    expect(page.get_by_test_id("media-notice")).to_have_text("Your photo is saved.")
    assert image_loaded_width(page, "avatar-img") == 256
    src = page.get_by_test_id("avatar-img").get_attribute("src")
    assert re.fullmatch(r"/m/cafe/me/avatar\?v=\d+", src or ""), src
    served = page.request.get(src)
    assert served.status == 200 and served.headers["content-type"] == "image/webp"
    assert "no-store" in served.headers["cache-control"]
    assert b"Exif" not in served.body()

    # A background picture: previewed, and behind the profile banner.
    page.set_input_files(
        "[data-testid=background-upload] input[type=file]",
        files=[{"name": "hills.png", "mimeType": "image/png", "buffer": landscape_png()}],
    )
    expect(page.get_by_test_id("media-notice")).to_have_text("Your background picture is saved.")
    assert image_loaded_width(page, "background-img") == 1280
    expect(page.get_by_test_id("profile-banner")).to_have_class(re.compile(r"has-photo-bg"))
    page.wait_for_timeout(300)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "profile-photo-and-background")

    # A text file dressed up as a PNG: refused with a clear message, the photo stays.
    page.set_input_files(
        "[data-testid=avatar-upload] input[type=file]",
        files=[{"name": "totally-a-photo.png", "mimeType": "image/png", "buffer": b"I am not a picture at all.\n" * 20}],
    )
    expect(page.get_by_test_id("media-error")).to_have_text("Choose a JPEG, PNG or WebP image.")
    expect(page.get_by_test_id("avatar-img")).to_have_attribute("src", src)
    page.evaluate("window.scrollTo(0, 0)")  # full-page shots: keep the sticky top bar at the top
    screenshot(page, "profile-upload-refused")

    # Consent: on shows the day it was given, off the day it was withdrawn.
    switch = page.get_by_test_id("consent-email")
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.get_by_test_id("consent-email-status")).to_have_text("Not given")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.get_by_test_id("consent-email-status")).to_have_text(re.compile(r"^Given on \d{1,2} [A-Z][a-z]{2} \d{4}$"))
    page.get_by_test_id("consent-push").click()
    expect(page.get_by_test_id("consent-push")).to_have_attribute("aria-checked", "true")
    page.get_by_test_id("consent-push").click()
    expect(page.get_by_test_id("consent-push-status")).to_have_text(re.compile(r"^Withdrawn on \d{1,2} [A-Z][a-z]{2} \d{4}$"))
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(250)
    screenshot(page, "profile-consent")

    # Download my data: a JSON file with this member's profile and consents.
    with page.expect_download() as download_info:
        page.get_by_test_id("export-data").click()
    download = download_info.value
    assert re.fullmatch(r"cafe-my-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    with open(download.path(), encoding="utf-8") as fh:
        data = json.load(fh)
    assert data["profile"]["email"] == email and data["profile"]["first_name"] == "Lena"
    assert data["consents"]["email"]["granted"] is True and data["consents"]["email"]["at"]
    assert data["consents"]["push"]["granted"] is False and data["consents"]["push"]["at"]
    assert data["pictures"]["avatar"]["width"] == 256
    assert "password" not in json.dumps(data).lower()
    expect(page).to_have_url(re.compile(r"/m/cafe/profile$"))  # the download did not navigate away

    # Everything survives a reload; the page passes axe.
    page.reload()
    assert image_loaded_width(page, "avatar-img") == 256
    expect(page.get_by_test_id("consent-email")).to_have_attribute("aria-checked", "true")
    expect(page.get_by_text("Loading…")).to_have_count(0)
    page.wait_for_timeout(400)
    found = axe_violations(page)
    assert not found, json.dumps(found, indent=1)


def test_delete_account_asks_for_the_password_and_frees_the_email(page: Page, screenshot):
    email = f"gone-{uuid.uuid4().hex[:8]}@example.test"
    sign_up(page, email, first_name="Dana")
    open_profile(page)

    page.get_by_test_id("delete-open").click()
    expect(page.get_by_test_id("delete-form")).to_be_visible()
    page.get_by_test_id("delete-cancel").click()
    expect(page.get_by_test_id("delete-form")).to_have_count(0)

    page.get_by_test_id("delete-open").click()
    page.fill("#f-password", "not my password at all")
    page.get_by_test_id("delete-confirm").click()
    expect(page.get_by_test_id("delete-error")).to_have_text("This password is not right. Try again.")
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(250)
    screenshot(page, "profile-delete-confirm")

    page.fill("#f-password", PASSWORD)
    page.get_by_test_id("delete-confirm").click()
    page.wait_for_url("**/m/cafe/signin**")
    expect(page.locator("#f-email")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "ls_cafe"]
    screenshot(page, "profile-deleted-signin")

    # The old login is gone...
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    page.click("[data-testid=signin-submit]")
    expect(page.get_by_test_id("form-error")).to_have_text("Wrong email or password.")
    # ...and the same email can join again, as a new member with nothing from before.
    sign_up(page, email, first_name="Dana")
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
