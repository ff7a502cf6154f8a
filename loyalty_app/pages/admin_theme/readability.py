"""The theme editor's readability panel: the draft's text/background pairs that fail WCAG AA,
each with the nearest passing colour and an Apply button, and every check in a table. The checks
come from ThemeEditorState (domain/theme_contrast.py computes them)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t
from loyalty_app.pages.admin_theme.state import ThemeEditorState

S = ThemeEditorState


def _sample(fg: rx.Var, bg: rx.Var) -> rx.Component:
    """ "Aa" in a pair's colours."""
    return rx.el.span("Aa", class_name="te-sample", style={"color": fg, "background": bg})


def readability_panel() -> rx.Component:
    return rx.el.section(
        rx.el.h2(
            rx.icon("contrast", size=18, aria_hidden="true"),
            t("Readability"),
            class_name="te-section-title",
        ),
        rx.cond(
            S.warnings.length() > 0,
            rx.el.ul(
                rx.foreach(
                    S.warnings,
                    lambda w: rx.el.li(
                        rx.icon("triangle-alert", size=18, aria_hidden="true", class_name="te-warn-icon"),
                        rx.el.div(
                            rx.el.p(w["text"], class_name="te-warn-text"),
                            rx.el.span(
                                _sample(w["fg"], w["bg"]),
                                rx.cond(
                                    w["suggestion"] != "",
                                    rx.fragment(
                                        rx.el.span(
                                            t("{field}: try {colour}", colour=w["suggestion"], field=w["field_label"]),
                                            class_name="small te-warn-try",
                                        ),
                                        rx.el.span(
                                            class_name="te-chip", style={"background": w["suggestion"]}, aria_hidden="true"
                                        ),
                                        rx.el.button(
                                            t("Apply"),
                                            type="button",
                                            on_click=S.apply_suggestion(w["field"], w["suggestion"]),
                                            class_name="btn btn-secondary te-small-btn",
                                            data_testid="apply-suggestion",
                                        ),
                                    ),
                                ),
                                class_name="te-warn-fix",
                            ),
                        ),
                        class_name="te-warn",
                        data_testid="contrast-warning",
                        data_pair=w["key"],
                    ),
                ),
                class_name="te-warn-list",
                role="list",
            ),
            rx.el.p(
                rx.icon("circle-check", size=18, aria_hidden="true"),
                t("Every text colour is easy to read (WCAG AA)."),
                class_name="te-ok",
                data_testid="contrast-ok",
            ),
        ),
        rx.el.details(
            rx.el.summary(t("All checks: {passed} of {total} pass", passed=S.passed_count, total=S.checks.length())),
            rx.el.table(
                rx.el.thead(rx.el.tr(rx.el.th(t("Mode")), rx.el.th(t("Pair")), rx.el.th(t("Ratio")), rx.el.th(t("Needs")))),
                rx.el.tbody(
                    rx.foreach(
                        S.checks,
                        lambda c: rx.el.tr(
                            rx.el.td(c["mode"]),
                            rx.el.td(
                                _sample(c["fg"], c["bg"]),
                                c["label"],
                            ),
                            rx.el.td(c["ratio"], ":1", class_name=rx.cond(c["ok"] != "", "te-pass", "te-fail")),
                            rx.el.td(c["required"], ":1"),
                        ),
                    ),
                ),
                class_name="admin-table te-checks",
            ),
            class_name="te-details",
        ),
        class_name="card te-section te-readability",
        aria_live="polite",
        data_testid="contrast-panel",
    )
