"""Merchant console pages that are not editors: the data & exports page (a CSV download that
opens with the right columns, the audit log it leaves) and the fraud view."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Browser, expect

from loyalty_app.services.crm.exports import COLUMNS
from tests.browser import harness
from tests.browser.test_member_flows import sign_in

DESKTOP = {
    **harness.MOBILE_CONTEXT,
    "viewport": {"width": 1280, "height": 800},
    "is_mobile": False,
    "has_touch": False,
    "device_scale_factor": 1,
}


def test_members_csv_export_opens_with_the_right_columns_and_is_audited(browser: Browser, live_app, screenshot):
    context = browser.new_context(base_url=live_app.base_url, accept_downloads=True, **DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, "cafe", "admin@demo.test")
        page.wait_for_url("**/m/cafe/admin")
        page.get_by_test_id("admin-nav-admin-data").click()
        page.wait_for_url("**/m/cafe/admin-data")
        with page.expect_download() as info:
            page.get_by_test_id("export-members").click()
        download = info.value
        assert download.suggested_filename.startswith("cafe-members-") and download.suggested_filename.endswith(".csv")
        rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
        assert rows[0] == COLUMNS["members"] and len(rows) >= 4  # the three demo members
        page.reload()
        expect(page.get_by_test_id("audit-log")).to_contain_text("export.csv")
        screenshot(page, "admin-data")
        page.get_by_test_id("admin-nav-admin-fraud").click()
        page.wait_for_url("**/m/cafe/admin-fraud")
        expect(page.get_by_test_id("fraud-suspended")).to_be_visible()
        screenshot(page, "admin-fraud")
    finally:
        context.close()


def test_member_writes_the_admin_answers_and_the_member_sees_it_live(page, browser: Browser, live_app, screenshot):
    sign_in(page, "cafe", "sofia@demo.test")
    page.wait_for_url("**/m/cafe/home")
    page.goto("/m/cafe/inbox")
    page.get_by_test_id("inbox-compose").click()
    page.get_by_test_id("topic-complaint").click()
    page.fill("#f-subject", "Cold flat white")
    page.fill("#f-body", "My coffee was cold this morning.")
    page.get_by_test_id("inbox-send").click()
    page.wait_for_url("**/m/cafe/inbox?id=*")
    expect(page.get_by_test_id("inbox-message")).to_have_count(1)
    page.goto("/m/cafe/home")
    expect(page.get_by_test_id("points-balance")).to_be_visible()

    context = browser.new_context(base_url=live_app.base_url, **DESKTOP)
    try:
        admin = context.new_page()
        sign_in(admin, "cafe", "admin@demo.test")
        admin.wait_for_url("**/m/cafe/admin")
        admin.goto("/m/cafe/admin-inbox")
        expect(admin.get_by_test_id("complaints-open")).to_contain_text("1")
        admin.get_by_test_id("admin-thread").filter(has_text="Cold flat white").click()
        admin.fill("#f-admin-answer", "So sorry! Your next coffee is on us.")
        admin.get_by_test_id("admin-answer").click()
        expect(admin.get_by_text("So sorry! Your next coffee is on us.")).to_be_visible()
        screenshot(admin, "admin-inbox")
    finally:
        context.close()

    expect(page.get_by_test_id("inbox-unread")).to_contain_text("1", timeout=10_000)  # pushed live to the open Home
    page.get_by_test_id("more-inbox").click()
    page.get_by_test_id("inbox-thread").filter(has_text="Cold flat white").click()
    expect(page.get_by_test_id("inbox-message")).to_have_count(2)
    screenshot(page, "member-inbox")
