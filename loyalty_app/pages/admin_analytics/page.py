"""The analytics page: the period switch and its window, the KPI tiles, then the grid of cards
(or skeletons until the first load)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import t, tn
from loyalty_app.pages.admin_analytics.chart_kit import note
from loyalty_app.pages.admin_analytics.charts import GRID
from loyalty_app.pages.admin_analytics.state import AnalyticsState

A = AnalyticsState


def _period_switch() -> rx.Component:
    options = (("day", N_("Daily")), ("week", N_("Weekly")), ("month", N_("Monthly")))
    return rx.el.div(
        *[
            rx.el.button(
                t(text),
                type="button",
                class_name="an-seg-btn",
                aria_pressed=rx.cond(A.period == key, "true", "false"),
                on_click=A.set_period(key),
                disabled=A.loading,
                data_testid=f"an-period-{key}",
            )
            for key, text in options
        ],
        role="group",
        aria_label=t("Period"),
        class_name="an-seg",
    )


def _window_text() -> rx.Var:
    return rx.match(
        A.period,
        ("day", t("Last 30 days, per day")),
        ("week", t("Last 12 weeks, per week")),
        t("Last 12 months, per month"),
    )


def _kpi(value: rx.Var, label: rx.Var, note_text: rx.Var, test_id: str) -> rx.Component:
    return rx.el.div(
        rx.el.p(value, class_name="an-kpi-value"),
        rx.el.p(label, class_name="an-kpi-label"),
        note(note_text),
        class_name="card an-kpi",
        data_testid=test_id,
    )


def _kpis() -> rx.Component:
    return rx.el.div(
        _kpi(
            A.kpi_active,
            t("Active members (30 days)"),
            tn("of {members} member", "of {members} members", A.members_n, members=A.kpi_members),
            "an-kpi-active",
        ),
        _kpi(
            A.kpi_rate,
            t("Redemption rate"),
            t("{redeemed} of {issued} points issued in the period", redeemed=A.kpi_redeemed, issued=A.kpi_issued),
            "an-kpi-rate",
        ),
        _kpi(
            A.kpi_liability,
            t("Outstanding points"),
            rx.cond(
                A.kpi_liability_value != "",
                t("Worth {value}", value=A.kpi_liability_value),
                t("Points members can still spend, now."),
            ),
            "an-kpi-liability",
        ),
        class_name="an-kpis",
    )


def analytics_page() -> rx.Component:
    return admin_frame(
        t("Analytics"),
        "admin-analytics",
        error_alert(A.error),
        rx.el.div(
            _period_switch(),
            rx.el.p(_window_text(), class_name="small muted an-window"),
            rx.el.p(
                rx.cond(A.loading, t("Loading analytics…"), ""),
                role="status",
                class_name="small an-status",
                data_testid="an-status",
            ),
            class_name="an-toolbar",
        ),
        rx.cond(
            A.loaded,
            rx.el.div(
                _kpis(),
                rx.el.div(*[make() for make in GRID], class_name="an-grid"),
                class_name=rx.cond(A.loading, "an-body an-busy", "an-body"),
                aria_busy=rx.cond(A.loading, "true", "false"),
                data_testid="an-body",
            ),
            rx.el.div(
                *[rx.el.div(class_name="card an-skeleton") for _ in range(4)],
                class_name="an-grid",
                aria_hidden="true",
                data_testid="an-loading",
            ),
        ),
    )
