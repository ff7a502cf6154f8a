"""Merchant console, analytics: /m/<slug>/admin-analytics.

KPI tiles (active members, redemption rate, liability), then charts in a grid (two columns on a
desktop, one on a phone): enrolments, active members, points issued/redeemed/expired/donated,
cohort retention, top rewards, ratings, quest and challenge uplift, referral funnel, RFM segments
and the members at risk of leaving. A daily/weekly/monthly switch reloads every chart. The
numbers come from ``services.insight.analytics`` (all aggregation in SQL); this page only formats them.

Accessibility: each chart is drawn by recharts inside a ``figure`` with an ``aria-label``; the
SVG is hidden from assistive technology and the same figures follow as a visually hidden table.

The package is split by responsibility:

- ``view``: the dashboard as the strings and numbers the page shows (no Reflex, testable);
- ``state``: AnalyticsState, which loads it for the chosen period;
- ``chart_kit``: the card, figure, table and axis pieces every chart is built from;
- ``charts``: one function per card of the grid;
- ``page``: the period switch, the KPI tiles and the page function.

This module re-exports what the app and the tests import.
"""

from loyalty_app.pages.admin_analytics.page import analytics_page
from loyalty_app.pages.admin_analytics.state import AnalyticsState
from loyalty_app.pages.admin_analytics.view import build_view

__all__ = ["AnalyticsState", "analytics_page", "build_view"]
