"""Pieces of the member cockpit (home) that other pages show too: the accessible progress bar
(challenges, check-in, a reward's page), and the quest card and challenge row (the theme
editor's preview)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t


def progress_bar(pct: rx.Var, label: rx.Var) -> rx.Component:
    """A progress bar that assistive technology can read (role=progressbar with values)."""
    return rx.el.div(
        rx.el.div(class_name="progress-fill", style={"width": pct.to(str) + "%"}),
        class_name="progress",
        role="progressbar",
        aria_valuemin="0",
        aria_valuemax="100",
        aria_valuenow=pct,
        aria_label=label,
    )


def quest_card(q: rx.Var) -> rx.Component:
    return rx.el.div(
        rx.el.span(q["multiplier"], class_name="tier-chip", style={"fontSize": "1rem"}),
        rx.el.div(
            rx.el.p(q["name"], style={"margin": 0, "fontWeight": 800}),
            rx.el.p(
                t("Ends {time}", time=q["ends"]),
                rx.el.span(
                    class_name="countdown", data_countdown_to=q["ends_at"], aria_hidden="true", data_testid="quest-countdown"
                ),
                class_name="small muted",
                style={"margin": 0},
            ),
        ),
        class_name="card",
        style={"display": "flex", "gap": "14px", "alignItems": "center", "borderLeft": "6px solid var(--brand-accent)"},
        data_testid="quest-card",
    )


def challenge_row(c: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.p(c["name"], style={"margin": 0, "fontWeight": 700}),
            progress_bar(c["pct"], c["name"]),
            style={"flex": 1},
        ),
        rx.el.span(c["progress"], class_name="small muted", style={"fontWeight": 700}),
    )
