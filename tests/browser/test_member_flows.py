"""Member flows at 390x844 against the production build: sign up, cockpit, reload, language,
sign out, wrong password, and the main screens (screenshots for people to look at)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Page, expect

DEMO_PASSWORD = "demo-password-1"


def sign_in(page: Page, slug: str, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"/m/{slug}/signin")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.click("[data-testid=signin-submit]")


def test_sign_up_cockpit_reload_spanish_sign_out(page: Page, screenshot):
    email = f"new-{uuid.uuid4().hex[:8]}@example.test"
    page.goto("/m/cafe/signup")
    expect(page.get_by_role("heading", name="Create account")).to_be_visible()
    page.fill("#f-first_name", "Irina")
    page.fill("#f-email", email)
    page.fill("#f-password", "correct horse battery staple ünïcode 🐎")
    screenshot(page, "signup")
    page.click("[data-testid=signup-submit]")

    page.wait_for_url("**/m/cafe/home")
    expect(page.get_by_text("Hi, Irina")).to_be_visible()
    expect(page.get_by_test_id("points-balance")).to_have_text("0")
    expect(page.get_by_role("navigation", name="Main navigation")).to_be_visible()
    screenshot(page, "cockpit-new-member")

    page.reload()
    expect(page).to_have_url(re.compile(r"/m/cafe/home$"))
    expect(page.get_by_text("Hi, Irina")).to_be_visible()

    page.get_by_test_id("tab-profile").click()
    page.wait_for_url("**/m/cafe/profile")
    page.get_by_test_id("lang-es").click()
    expect(page.get_by_role("heading", name="Idioma")).to_be_visible()
    expect(page.get_by_test_id("tab-home")).to_contain_text("Inicio")
    screenshot(page, "profile-es")

    page.reload()  # the choice is remembered (device and account)
    expect(page.get_by_test_id("tab-home")).to_contain_text("Inicio")

    cookies_before = page.context.cookies()
    assert any(c["name"] == "ls_cafe" and c["httpOnly"] for c in cookies_before)
    page.get_by_test_id("signout").click()
    page.wait_for_url("**/m/cafe/signin")
    expect(page.get_by_role("button", name="Iniciar sesión")).to_be_visible()

    # The old cookie is dead on the server, not just deleted in the browser.
    page.context.add_cookies([c for c in cookies_before if c["name"] == "ls_cafe"])
    page.goto("/m/cafe/home")
    page.wait_for_url("**/m/cafe/signin**")


def test_wrong_password_shows_clear_error_and_right_one_works(page: Page, screenshot):
    sign_in(page, "cafe", "member@demo.test", "not-the-password")
    expect(page.get_by_test_id("form-error")).to_have_text("Wrong email or password.")
    screenshot(page, "signin-wrong-password")
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("[data-testid=signin-submit]")
    page.wait_for_url("**/m/cafe/home")
    expect(page.get_by_test_id("points-balance")).not_to_have_text("0")


def test_signed_out_visitor_is_sent_to_sign_in_and_back(page: Page):
    page.goto("/m/cafe/rewards")
    page.wait_for_url(re.compile(r"/m/cafe/signin\?next="))
    page.fill("#f-email", "member@demo.test")
    page.fill("#f-password", DEMO_PASSWORD)
    page.click("[data-testid=signin-submit]")
    page.wait_for_url("**/m/cafe/rewards")
    expect(page.get_by_test_id("reward-tile").first).to_be_visible()


def test_demo_member_main_screens(page: Page, screenshot):
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    expect(page.get_by_test_id("tier-chip")).to_be_visible()
    progress = page.get_by_role("progressbar").first
    expect(progress).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    page.wait_for_timeout(400)
    screenshot(page, "home")
    for tab in ("rewards", "card", "challenges", "profile"):
        page.get_by_test_id(f"tab-{tab}").click()
        page.wait_for_url(f"**/m/cafe/{tab}")
        expect(page.get_by_test_id(f"tab-{tab}")).to_have_attribute("aria-current", "page")
        page.wait_for_timeout(400)
        screenshot(page, tab)
    expect(page.get_by_text(re.compile(r"^\d{8}$"))).to_be_visible()  # member number on profile


def test_each_merchant_has_its_own_brand_and_accounts(page: Page, screenshot):
    page.goto("/m/books/signin")
    expect(page.get_by_role("heading", name="Paper Lantern Books")).to_be_visible()
    css = page.request.get("/m/books/theme.css").text()
    assert "#3b2f8f" in css
    # A cafe-only login does not exist in the books program.
    sign_in(page, "books", "sofia@demo.test")
    expect(page.get_by_test_id("form-error")).to_have_text("Wrong email or password.")
    sign_in(page, "books", "member@demo.test")
    page.wait_for_url("**/m/books/home")
    screenshot(page, "books-home")
    # The books session is not a cafe session.
    page.goto("/m/cafe/home")
    page.wait_for_url("**/m/cafe/signin**")


def test_unknown_merchant_shows_not_found(page: Page):
    page.goto("/m/no-such-shop/home")
    page.wait_for_url("**/not-found")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()


def test_language_follows_the_browser_at_first(browser, live_app):
    from tests.browser import harness

    options = {**harness.MOBILE_CONTEXT, "locale": "ru-RU"}
    context = browser.new_context(base_url=live_app.base_url, **options)
    try:
        page = context.new_page()
        page.goto("/m/cafe/signin")
        expect(page.get_by_test_id("signin-submit")).to_have_text("Войти")
        expect(page.locator("html")).to_have_attribute("lang", "ru")
    finally:
        context.close()


def test_whats_new_lists_the_programs_published_changes(page: Page, screenshot):
    sign_in(page, "cafe", "member@demo.test")
    page.wait_for_url("**/m/cafe/home")
    page.get_by_test_id("more-news").click()
    page.wait_for_url("**/m/cafe/news")
    items = page.get_by_test_id("news-item")  # the demo's three, and whatever other tests published
    gold = items.filter(has_text="Gold from 1,200 points a year")
    expect(gold).to_contain_text("From ")  # takes effect later
    expect(items.filter(has_text="Double points every weekend")).to_contain_text("Since ")
    expect(items.filter(has_text="New reward: Barista class")).to_have_count(1)
    screenshot(page, "whats-new")
