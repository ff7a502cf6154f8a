"""Merchant console, analytics: the admin opens the page on a desktop, the charts render (recharts
SVGs, each inside a labelled figure with its figures as a hidden table), the period switch
reloads them; then the same page on a phone."""

from __future__ import annotations

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


def test_admin_sees_analytics_charts_and_switches_period(browser: Browser, live_app, screenshot):
    context = browser.new_context(base_url=live_app.base_url, **DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, "cafe", "admin@demo.test")
        page.wait_for_url("**/m/cafe/admin")
        page.get_by_test_id("admin-nav-admin-analytics").click()
        page.wait_for_url("**/m/cafe/admin-analytics")
        body = page.get_by_test_id("an-body")
        expect(body).to_be_visible(timeout=30_000)
        expect(body).to_have_attribute("aria-busy", "false")
        for tile in ("an-kpi-active", "an-kpi-rate", "an-kpi-liability"):
            expect(page.get_by_test_id(tile)).to_be_visible()
        expect(page.get_by_test_id("an-period-week")).to_have_attribute("aria-pressed", "true")

        # The demo's months of history draw the points chart: an SVG inside a labelled figure.
        flows = page.get_by_test_id("an-flows")
        figure = flows.locator("figure")
        expect(figure).to_have_attribute("aria-label", "Points issued, redeemed, expired and donated")
        expect(figure.locator("svg.recharts-surface").first).to_be_visible()
        expect(figure.locator(".recharts-area")).to_have_count(4)
        expect(figure.locator(".sr-only tbody tr")).to_have_count(12)  # 12 weeks
        assert page.locator("svg.recharts-surface").count() >= 3
        page.wait_for_timeout(300)
        screenshot(page, "admin-analytics")

        # Monthly: the same charts, 12 months.
        page.get_by_test_id("an-period-month").click()
        expect(page.get_by_test_id("an-period-month")).to_have_attribute("aria-pressed", "true")
        expect(body).to_have_attribute("aria-busy", "false", timeout=30_000)
        expect(page.get_by_test_id("an-status")).to_have_text("")
        expect(figure.locator("svg.recharts-surface").first).to_be_visible()
        # Daily: 30 days.
        page.get_by_test_id("an-period-day").click()
        expect(page.get_by_test_id("an-period-day")).to_have_attribute("aria-pressed", "true")
        expect(figure.locator(".sr-only tbody tr")).to_have_count(30, timeout=30_000)
        expect(page.get_by_test_id("an-period-week")).to_have_attribute("aria-pressed", "false")

        # A phone: one column, still every chart.
        page.set_viewport_size({"width": 390, "height": 844})
        page.get_by_test_id("an-period-week").click()
        expect(figure.locator(".sr-only tbody tr")).to_have_count(12, timeout=30_000)
        expect(page.get_by_test_id("an-at-risk")).to_be_attached()
        page.wait_for_timeout(500)
        screenshot(page, "admin-analytics-phone")
    finally:
        context.close()
