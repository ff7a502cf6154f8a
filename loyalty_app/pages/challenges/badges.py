"""The Challenges tab's badges section: the badges earned (a medal with its date) and those
still to earn (locked, with progress and how to earn them)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.cockpit import progress_bar
from loyalty_app.i18n import t
from loyalty_app.pages.challenges.state import ChallengesState

S = ChallengesState

# Badge icon names from the program -> icons we ship (anything else shows an award).
BADGE_ICONS = (
    ("bag", "shopping-bag"),
    ("pin", "map-pin"),
    ("map", "map"),
    ("flame", "flame"),
    ("gift", "gift"),
    ("pen", "pen-line"),
    ("trophy", "trophy"),
    ("crown", "crown"),
    ("moon", "moon"),
    ("star", "star"),
    ("cup", "coffee"),
    ("heart", "heart"),
)


def badge_icon(icon: rx.Var, size: int = 22) -> rx.Component:
    return rx.match(
        icon,
        *[(name, rx.icon(lucide, size=size, aria_hidden="true")) for name, lucide in BADGE_ICONS],
        rx.icon("award", size=size, aria_hidden="true"),
    )


def earned_badge(b: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(badge_icon(b["icon"], 26), class_name="ch-medal"),
        rx.el.p(b["name"], class_name="ch-medal-name"),
        rx.el.p(b["when"], class_name="ch-medal-when"),
        class_name="ch-medal-item",
        title=b["how"],
        data_testid="badge-earned",
    )


def locked_badge(b: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            badge_icon(b["icon"], 20),
            rx.el.span(rx.icon("lock", size=11, aria_hidden="true"), class_name="ch-lock"),
            class_name="ch-medal ch-medal-locked",
        ),
        rx.el.div(
            rx.el.div(
                rx.el.p(b["name"], class_name="ch-badge-name"),
                rx.el.span(b["progress"], class_name="ch-progress"),
                class_name="ch-badge-top",
            ),
            rx.el.p(b["how"], class_name="ch-badge-how"),
            progress_bar(b["pct"], b["name"]),
            class_name="ch-badge-body",
        ),
        class_name="ch-badge-row",
        data_testid="badge-locked",
    )


def badges_view() -> rx.Component:
    return rx.fragment(
        rx.el.section(
            rx.el.h2(t("Your badges")),
            rx.cond(
                S.badges_earned.length() > 0,
                rx.el.ul(rx.foreach(S.badges_earned, earned_badge), class_name="ch-medals"),
                rx.el.p(t("Your first badge is close. See how to earn one below."), class_name="small muted"),
            ),
            class_name="card",
        ),
        rx.cond(
            S.badges_locked.length() > 0,
            rx.el.section(
                rx.el.h2(t("Still to earn")),
                rx.el.ul(rx.foreach(S.badges_locked, locked_badge), class_name="ch-badge-list"),
                class_name="card",
            ),
        ),
    )
