"""Rewards tab: /m/<slug>/rewards — the catalog ranked for this member."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import member_frame
from loyalty_app.i18n import localized_number, t
from loyalty_app.state.cockpit import CockpitState


def reward_card(r: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.cond(r["image"] != "", rx.el.img(src=r["image"], alt="", loading="lazy", width="200", height="150")),
        rx.el.div(
            rx.el.h3(r["name"], class_name="reward-name"),
            rx.el.p(t("{points} pts", points=r["cost"]), class_name="cost", style={"margin": 0}),
            rx.cond(
                r["affordable"] != "",
                rx.el.span(t("You can get this now"), class_name="badge-can"),
                rx.el.span(r["reason"], class_name="small muted"),
            ),
            class_name="body",
        ),
        class_name="reward-tile",
        data_testid="reward-tile",
    )


def rewards_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Rewards"), style={"fontSize": "1.4rem", "fontWeight": 900, "margin": "0 0 4px"}),
        rx.el.p(
            t("You have {points} points to spend.", points=localized_number(CockpitState.available)),
            class_name="muted",
            style={"marginTop": 0},
        ),
        rx.cond(
            CockpitState.rewards.length() > 0,
            rx.el.div(rx.foreach(CockpitState.rewards, reward_card), class_name="grid-2"),
            rx.cond(CockpitState.loaded, rx.el.p(t("No rewards yet"), class_name="empty")),
        ),
        active="rewards",
    )
