"""Challenges tab: /m/<slug>/challenges — goals in progress and badges."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import member_frame
from loyalty_app.i18n import t
from loyalty_app.pages.home import badge_section, progress_bar
from loyalty_app.state.cockpit import CockpitState


def challenge_card(c: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.el.div(
            rx.el.h3(c["name"], style={"margin": 0, "fontSize": "1rem", "fontWeight": 800}),
            rx.cond(
                c["done"] != "",
                rx.el.span(t("Completed"), class_name="badge-can"),
                rx.el.span(c["progress"], class_name="small", style={"fontWeight": 800}),
            ),
            style={"display": "flex", "justifyContent": "space-between", "alignItems": "center", "gap": "8px"},
        ),
        rx.el.p(c["description"], class_name="small muted", style={"margin": "4px 0 0"}),
        progress_bar(c["pct"], c["name"]),
        class_name="card",
        data_testid="challenge-card",
    )


def challenges_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Challenges"), style={"fontSize": "1.4rem", "fontWeight": 900, "margin": "0 0 12px"}),
        rx.cond(
            CockpitState.challenges.length() > 0,
            rx.foreach(CockpitState.challenges, challenge_card),
            rx.cond(CockpitState.loaded, rx.el.p(t("No challenges right now. Check back soon!"), class_name="empty")),
        ),
        badge_section(t("Your badges")),
        active="challenges",
    )
