"""Merchant console at 1280x800: the program editor's Segments tab and the CRM Webhooks page.

Segments: the admin builds a segment (Gold or Platinum members) with the form, a contradictory
range and an empty name are refused with their field errors and nothing is created, "Count
members" shows the live count and a few names, and the saved row shows the same count. A new
reward targeted at the segment is then on the Rewards page of a member inside it (Sofía, Gold
in the demo) and absent for a member outside it (a fresh sign-up, Bronze), even by its link. A
segment still targeted cannot be retired; the test retires its reward, then its segment, so the
other browser tests (same server, same database) see the demo catalog as before.

Webhooks: the form refuses a plain http:// address and IP literals of private ranges with their
translated messages (English and Spanish) and creates nothing. An endpoint made through the
service layer (on the server's database, like the unit tests do, pointing at a closed loopback
port: nothing leaves this machine) is listed; "Show secret" shows its secret; "Send test event"
and "Retry now" each record a failed attempt in "Last deliveries"; the test turns it off.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import harness
from tests.browser.test_member_flows import sign_in

DESKTOP = {
    **harness.MOBILE_CONTEXT,
    "viewport": {"width": 1280, "height": 800},
    "is_mobile": False,
    "has_touch": False,
    "device_scale_factor": 1,
}
FIX_FIELDS = "Some fields need a fix"


def _admin_page(browser: Browser, live_app, **overrides):
    context = browser.new_context(base_url=live_app.base_url, **{**DESKTOP, **overrides})
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, "cafe", "admin@demo.test")
    page.wait_for_url("**/m/cafe/admin")
    return context, page


def _top_shot(page: Page, screenshot, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    screenshot(page, name)


# ================================================================================ segments


def _open_segments(admin: Page) -> None:
    admin.get_by_test_id("program-tab-segments").click()
    expect(admin.get_by_test_id("form-segment")).to_be_visible()
    expect(admin).to_have_url(re.compile(r"/m/cafe/admin-program\?tab=segments$"))
    expect(admin.get_by_test_id("program-row").filter(has_text="Regulars at risk")).to_be_visible()  # a demo segment


def _edit_row(admin: Page, name: str) -> None:
    admin.get_by_test_id("program-row").filter(has_text=name).get_by_role("button", name="Edit").click()
    expect(admin.get_by_test_id("program-form-title")).to_contain_text(name)


def test_segment_targets_a_reward_only_at_its_members(browser: Browser, live_app, screenshot):
    tag = uuid.uuid4().hex[:6]
    segment = f"Gold and up {tag}"
    reward = f"Gold treat {tag}"
    admin_ctx, admin = _admin_page(browser, live_app)
    inside_ctx = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    outside_ctx = browser.new_context(base_url=live_app.base_url, **harness.MOBILE_CONTEXT)
    for ctx in (inside_ctx, outside_ctx):
        ctx.set_default_timeout(20_000)
    retired = False
    try:
        admin.get_by_test_id("admin-nav-admin-program").click()
        admin.wait_for_url("**/m/cafe/admin-program")
        _open_segments(admin)
        rows = admin.get_by_test_id("program-row")
        before = rows.count()
        assert before >= 3  # the demo's three segments

        # A bad form: no name, and a spending range that nobody can be in (at least 50, at most 10).
        form = admin.get_by_test_id("form-segment")
        form.locator("input[name='tier_keys:gold']").check()
        form.locator("input[name='tier_keys:platinum']").check()
        admin.fill("#pf-spend_days", "30")
        admin.fill("#pf-spend_min", "50")
        admin.fill("#pf-spend_max", "10")
        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("field-error-name")).to_have_text("This field is required.")
        expect(admin.get_by_test_id("field-error-spend_max")).to_have_text("The maximum must be at least the minimum.")
        expect(admin.get_by_test_id("form-error")).to_contain_text(FIX_FIELDS)
        expect(admin.locator("#pf-name")).to_be_focused()  # the first field to fix
        expect(admin.locator("#pf-spend_min")).to_have_value("50")  # what was typed is kept
        expect(admin.get_by_test_id("program-notice")).to_have_count(0)
        expect(rows).to_have_count(before)  # nothing was created

        # The same conditions with a name fail on the range alone, still creating nothing.
        admin.fill("#pf-name", segment)
        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("field-error-name")).to_have_count(0)
        expect(admin.get_by_test_id("field-error-spend_max")).to_have_text("The maximum must be at least the minimum.")
        expect(rows).to_have_count(before)
        expect(rows.filter(has_text=segment)).to_have_count(0)
        # The refused save moves the focus to the first field to fix, a moment after the answer:
        # wait for it, or clearing the fields below races it (an empty fill presses Delete in
        # whichever field has the focus, so "30" stayed in "Over the last … days").
        expect(admin.locator("#pf-spend_max")).to_be_focused()

        # Fixed (tiers only): "Count members" shows the live count and the first names.
        for name in ("spend_days", "spend_min", "spend_max"):
            admin.fill(f"#pf-{name}", "")
            expect(admin.locator(f"#pf-{name}")).to_have_value("")
        admin.fill("#pf-description", "Members in Gold or Platinum (browser test).")
        admin.get_by_test_id("segment-preview").click()
        preview = admin.get_by_test_id("segment-preview-result")
        expect(preview).to_contain_text(re.compile(r"Members matching now: \d+\."))
        expect(preview).to_contain_text("Ana P., Sofía G., Mihai I.")  # the demo's Gold members, oldest first
        expect(admin.get_by_test_id("field-error-spend_max")).to_have_count(0)
        matching = int(re.search(r"Members matching now: (\d+)\.", preview.inner_text()).group(1))
        assert matching >= 3

        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("program-notice")).to_contain_text("Segment saved.")
        expect(rows).to_have_count(before + 1)
        row = rows.filter(has_text=segment)
        expect(row).to_contain_text(f"Members now: {matching}")
        expect(row).to_contain_text("Tiers: Gold, Platinum")
        expect(row).to_contain_text("Active")
        expect(admin.get_by_test_id("program-form-title")).to_contain_text(segment)
        # The saved conditions read back into the form and count the same.
        expect(admin.locator("input[name='tier_keys:gold']")).to_be_checked()
        expect(admin.locator("input[name='tier_keys:silver']")).not_to_be_checked()
        admin.get_by_test_id("segment-preview").click()
        expect(preview).to_contain_text(f"Members matching now: {matching}.")
        _top_shot(admin, screenshot, "admin-segments")

        # A reward only for that segment.
        admin.get_by_test_id("program-tab-rewards").click()
        expect(admin.get_by_test_id("form-reward")).to_be_visible()
        expect(admin.locator("#pf-segment option", has_text=segment)).to_have_count(1)  # offered right after saving it
        admin.fill("#pf-name", reward)
        admin.fill("#pf-cost_points", "95")
        admin.select_option("#pf-segment", label=segment)
        admin.get_by_test_id("program-save").click()
        expect(admin.get_by_test_id("program-notice")).to_contain_text("Saved and published")
        expect(admin.get_by_test_id("program-row").filter(has_text=reward)).to_contain_text(f"Only for: {segment}")

        # Inside: Sofía (Gold) sees it on Rewards.
        inside = inside_ctx.new_page()
        sign_in(inside, "cafe", "sofia@demo.test")
        inside.wait_for_url("**/m/cafe/home")
        inside.goto("/m/cafe/rewards")
        tile = inside.get_by_test_id("reward-tile").filter(has_text=reward)
        expect(tile).to_have_count(1)
        expect(tile).to_contain_text("95")
        href = tile.get_attribute("href")
        assert href and re.search(r"/m/cafe/reward\?id=\d+$", href)

        # Outside: a new member (Bronze, no visits) does not, not even through its link.
        outside = outside_ctx.new_page()
        outside.goto("/m/cafe/signup")
        outside.fill("#f-first_name", "Olga")
        outside.fill("#f-email", f"outside-{tag}@example.test")
        outside.fill("#f-password", "correct horse battery staple")
        outside.click("[data-testid=signup-submit]")
        outside.wait_for_url("**/m/cafe/home")
        outside.goto("/m/cafe/rewards")
        tiles = outside.get_by_test_id("reward-tile")
        expect(tiles.filter(has_text="Free espresso")).to_have_count(1)  # the catalog is loaded...
        expect(tiles.filter(has_text=reward)).to_have_count(0)  # ...without the targeted reward
        outside.goto(href)
        expect(outside.get_by_role("heading", level=1, name="This reward is not available")).to_be_visible()
        expect(outside.get_by_test_id("redeem")).to_have_count(0)

        # A segment an offer still targets cannot be retired.
        _open_segments(admin)
        _edit_row(admin, segment)
        admin.get_by_test_id("program-retire").click()
        expect(admin.get_by_test_id("form-error")).to_contain_text("Offers still targeting this segment")
        expect(admin.get_by_test_id("form-error")).to_contain_text(": 1.")
        expect(rows.filter(has_text=segment)).to_contain_text("Active")

        # Clean up for the other tests: retire the reward, then the segment.
        admin.get_by_test_id("program-tab-rewards").click()
        _edit_row(admin, reward)
        admin.get_by_test_id("program-retire").click()
        expect(admin.get_by_test_id("program-notice")).to_contain_text("Retired")
        _open_segments(admin)
        _edit_row(admin, segment)
        admin.get_by_test_id("program-retire").click()
        expect(admin.get_by_test_id("program-notice")).to_contain_text("Retired")
        expect(rows.filter(has_text=segment)).to_contain_text("Members now: 0")
        retired = True
    finally:
        for ctx in (admin_ctx, inside_ctx, outside_ctx):
            ctx.close()
        if not retired:
            _retire_leftovers(live_app, reward, segment)


def _retire_leftovers(live_app, reward: str, segment: str) -> None:
    """After a failure half-way: the targeted reward must not stay in the other tests' catalog."""
    if not live_app.database_url:
        return
    from sqlmodel import select

    from loyalty_app.db import make_engine, write_session
    from loyalty_app.models import Reward, Segment

    engine = make_engine(live_app.database_url)
    try:
        with write_session(engine) as s:
            for model, name in ((Reward, reward), (Segment, segment)):
                for row in s.exec(select(model).where(model.name == name)).all():
                    row.is_active = False
                    s.add(row)
    finally:
        engine.dispose()


# ================================================================================ webhooks

HTTPS_ONLY = "Use an https:// address: events carry member data."
PRIVATE = "This address is on this machine or a private network. Use your CRM's public https:// address."
HTTPS_ONLY_ES = "Usa una dirección https://: los eventos llevan datos de miembros."
PRIVATE_ES = "Esta dirección está en este equipo o en una red privada. Usa la dirección pública https:// de tu CRM."


def _wait_for_webhooks_form(page: Page) -> None:
    """The page's load resets (re-mounts) the form with every event ticked: text typed before
    that is lost, so wait for it. A fresh tab starts with nothing ticked."""
    expect(page.get_by_test_id("webhook-form")).to_be_visible()
    expect(page.locator("input[name='event:member.enrolled']")).to_be_checked()


def _save_webhook(page: Page, url: str, description: str = "") -> None:
    page.fill("#wf-url", url)
    if description:
        page.fill("#wf-description", description)
    page.get_by_test_id("webhook-save").click()


def test_webhook_form_refuses_plain_http_and_private_addresses(browser: Browser, live_app):
    tag = uuid.uuid4().hex[:6]
    context, page = _admin_page(browser, live_app)
    try:
        page.get_by_test_id("admin-nav-admin-webhooks").click()
        page.wait_for_url("**/m/cafe/admin-webhooks")
        _wait_for_webhooks_form(page)

        refused = [
            (f"http://crm.example.com/hooks/{tag}", HTTPS_ONLY),
            (f"https://10.20.30.40/hooks/{tag}", PRIVATE),
            (f"https://169.254.169.254/latest/{tag}", PRIVATE),
            (f"https://[fd00::1]/hooks/{tag}", PRIVATE),
        ]
        for url, message in refused:
            _save_webhook(page, url, f"Refused {tag}")
            expect(page.get_by_test_id("field-error-url")).to_have_text(message)
            expect(page.get_by_test_id("form-error")).to_contain_text(FIX_FIELDS)
            expect(page.locator("#wf-url")).to_have_value(url)  # what was typed is kept
            expect(page.locator("#wf-url")).to_have_attribute("aria-invalid", "true")

        # In a new tab the list comes from the database: none of them was saved. (The refusal
        # below answers after the page's load, so the list is complete by then.)
        page = context.new_page()
        page.goto("/m/cafe/admin-webhooks")
        _wait_for_webhooks_form(page)
        _save_webhook(page, f"https://192.168.1.20/hooks/{tag}")
        expect(page.get_by_test_id("field-error-url")).to_have_text(PRIVATE)
        expect(page.get_by_test_id("webhook-endpoint").filter(has_text=tag)).to_have_count(0)
        expect(page.get_by_text(f"Refused {tag}")).to_have_count(0)
    finally:
        context.close()

    # The same refusals, in Spanish for an admin whose browser prefers it.
    context, page = _admin_page(browser, live_app, locale="es-ES")
    try:
        page.goto("/m/cafe/admin-webhooks")
        _wait_for_webhooks_form(page)
        _save_webhook(page, f"http://crm.example.com/hooks/{tag}")
        expect(page.get_by_test_id("field-error-url")).to_have_text(HTTPS_ONLY_ES)
        _save_webhook(page, f"https://10.20.30.40/hooks/{tag}")
        expect(page.get_by_test_id("field-error-url")).to_have_text(PRIVATE_ES)
        expect(page.get_by_test_id("webhook-endpoint").filter(has_text=tag)).to_have_count(0)
    finally:
        context.close()


def _closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_webhook_endpoint_list_secret_test_event_and_deliveries(browser: Browser, live_app, screenshot):
    if not live_app.database_url:
        pytest.skip("needs the server's database (BROWSER_TEST_DATABASE_URL when reusing a server)")
    from sqlmodel import select

    from loyalty_app.db import make_engine, read_session
    from loyalty_app.models import Account, Merchant, Role
    from loyalty_app.services.crm import webhooks
    from loyalty_app.services.platform.permissions import Actor
    from loyalty_app.settings import get_settings

    tag = uuid.uuid4().hex[:6]
    # A closed loopback port: whether the server refuses loopback addresses (the default) or is
    # allowed them (WEBHOOK_ALLOW_HTTP_LOCALHOST=1), no attempt is delivered and nothing leaves
    # this machine. Saving such an address needs the development setting, as in the unit tests.
    url = f"http://127.0.0.1:{_closed_loopback_port()}/hooks/{tag}"
    description = f"Browser test CRM {tag}"
    engine = make_engine(live_app.database_url)
    endpoint_id = 0
    try:
        with read_session(engine) as s:
            cafe = s.exec(select(Merchant).where(Merchant.slug == "cafe")).one()
            admin_row = s.exec(select(Account).where(Account.merchant_id == cafe.id, Account.email == "admin@demo.test")).one()
        actor = Actor(admin_row.id, cafe.id, Role.ADMIN)
        dev = dataclasses.replace(get_settings(), webhook_allow_http_localhost=True)
        view, secret = webhooks.save_endpoint(
            engine, actor, {"url": url, "description": description, "events": ["consent.changed"]}, settings=dev
        )
        endpoint_id = view.endpoint_id
        assert secret

        context, page = _admin_page(browser, live_app)
        try:
            page.goto("/m/cafe/admin-webhooks")
            row = page.get_by_test_id("webhook-endpoint").filter(has_text=url)
            expect(row).to_have_count(1)
            expect(row).to_contain_text(description)
            expect(row).to_contain_text("consent.changed")
            expect(row).to_contain_text("Active")
            expect(page.get_by_test_id("webhook-secret")).to_have_count(0)  # never shown unasked

            row.get_by_role("button", name="Show secret").click()
            expect(page.get_by_test_id("webhook-secret")).to_have_text(secret)
            page.get_by_role("button", name="Hide", exact=True).click()
            expect(page.get_by_test_id("webhook-secret")).to_have_count(0)

            # A test event: one attempt now, not delivered, waiting for its retry.
            row.get_by_test_id("webhook-test").click()
            expect(page.get_by_test_id("form-error")).to_contain_text("The test event was not delivered (")
            expect(page.get_by_test_id("form-error")).to_contain_text("It will be retried.")
            delivery = page.get_by_test_id("webhook-delivery").filter(has_text=url)
            expect(delivery).to_have_count(1)
            expect(delivery).to_contain_text("webhook.test")
            expect(delivery).to_contain_text("Waiting")
            expect(delivery.locator("td").nth(3)).to_have_text("1")  # attempts
            expect(delivery.locator("td").nth(4)).not_to_have_text("")  # the next try is scheduled
            _top_shot(page, screenshot, "admin-webhooks")

            # "Retry now": a second attempt at once, shown the same way.
            delivery.get_by_role("button", name="Retry now").click()
            expect(page.get_by_test_id("form-error")).to_contain_text("Not delivered (")
            expect(delivery.locator("td").nth(3)).to_have_text("2")
            expect(delivery).to_contain_text("Waiting")

            # Turned off: no more events for it, and no test event either.
            row.get_by_role("button", name="Turn off").click()
            expect(page.get_by_text("Webhook off: no more events are queued for it.")).to_be_visible()
            expect(row).to_contain_text("Turned off")
            expect(row.get_by_test_id("webhook-test")).to_be_disabled()
        finally:
            context.close()
    finally:
        try:
            if endpoint_id:  # never leave it listening for the other tests' events
                webhooks.set_active(engine, actor, endpoint_id, False)
        finally:
            engine.dispose()
