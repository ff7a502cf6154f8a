"""Merchant console pages that are not editors: the data & exports page (a CSV download that
opens with the right columns, the audit log it leaves) and the fraud view."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import Browser, expect

from loyalty_app.services.exports import COLUMNS
from tests.browser import harness
from tests.browser.test_member_flows import sign_in

DESKTOP = {**harness.MOBILE_CONTEXT, "viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False,
           "device_scale_factor": 1}


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
