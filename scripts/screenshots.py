"""Regenerate the phone screenshots of the README (docs/screenshots/*.png) from the demo data.

    make screenshots                 # builds and starts the app on a free port, then shoots
    BROWSER_BASE_URL=http://localhost:3000 .venv/bin/python scripts/screenshots.py

Headless Debian Chromium at 390x844 (device scale 2, so 780x1688 PNGs), English, the café demo.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.browser import harness  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SLUG = "cafe"


def sign_in(page: Page, email: str) -> None:
    page.goto(f"/m/{SLUG}/signin")
    page.fill("#f-email", email)
    page.fill("#f-password", harness.DEMO_PASSWORD)
    page.click("[data-testid=signin-submit]")


def settle(page: Page) -> None:
    expect(page.get_by_text("Loading…")).to_have_count(0)
    page.wait_for_timeout(700)  # entrance transitions, count-up, images


def shoot(page: Page, name: str, *, full_page: bool = False) -> None:
    settle(page)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"  {path.relative_to(ROOT)}")


def member_screens(page: Page) -> None:
    sign_in(page, "member@demo.test")
    page.wait_for_url(f"**/m/{SLUG}/home")
    expect(page.get_by_test_id("points-balance")).not_to_have_text("0")
    shoot(page, "home")
    for path, name in (
        ("rewards", "rewards"),
        ("vouchers", "vouchers"),
        ("challenges", "challenges"),
        ("activity", "activity"),
        ("donate", "donate"),
        ("invite", "invite"),
        ("profile", "profile"),
    ):
        response = page.goto(f"/m/{SLUG}/{path}")
        if response is not None and response.status == 404:
            print(f"  (skipped {path}: no such page)")
            continue
        shoot(page, name)
    page.goto(f"/m/{SLUG}/rewards")
    settle(page)
    tile = page.locator("a[href*='reward?id=']").first
    if tile.count():
        tile.click()
        page.wait_for_url("**/reward?id=*")
        shoot(page, "reward-detail")
    page.goto(f"/m/{SLUG}/card")
    expect(page.get_by_test_id("member-qr")).to_be_visible()
    shoot(page, "card")


def staff_screens(page: Page) -> None:
    sign_in(page, "staff@demo.test")
    page.wait_for_url(f"**/m/{SLUG}/staff")
    shoot(page, "till")


DESKTOP = {
    **harness.MOBILE_CONTEXT,
    "viewport": {"width": 1280, "height": 800},
    "is_mobile": False,
    "has_touch": False,
    "device_scale_factor": 1,
}


def console_screens(page: Page) -> None:
    """The merchant console at a laptop size (1280x800)."""
    sign_in(page, "admin@demo.test")
    page.wait_for_url(f"**/m/{SLUG}/admin")
    shoot(page, "admin")
    for route, name in (
        ("admin-theme", "console-theme"),
        ("admin-program?tab=quests", "console-program"),
        ("admin-analytics", "console-analytics"),
    ):
        page.goto(f"/m/{SLUG}/{route}")
        page.wait_for_timeout(1500)  # charts and previews render after their data arrives
        shoot(page, name)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with harness.live_app_server() as app, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=harness.CHROMIUM, args=harness.CHROMIUM_ARGS, headless=True)
        for shots, size in (
            (member_screens, harness.MOBILE_CONTEXT),
            (staff_screens, harness.MOBILE_CONTEXT),
            (console_screens, DESKTOP),
        ):
            context = browser.new_context(base_url=app.base_url, **size)
            shots(context.new_page())
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
