"""Cockpit home: /m/<slug>/home — balance first, then tier progress, offers, challenges,
badges and rewards picked for this member."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.cockpit import challenge_row, progress_bar, quest_card
from loyalty_app.components.member_photo import photo_backdrop_props
from loyalty_app.components.more_links import more_links
from loyalty_app.components.shell import member_frame
from loyalty_app.i18n import localized_number, t
from loyalty_app.state.cockpit import CockpitState
from loyalty_app.state.session import SessionState


def hero() -> rx.Component:
    backdrop = photo_backdrop_props("hero")
    return rx.el.section(
        rx.cond(
            CockpitState.is_birthday,
            rx.el.p(
                rx.icon("cake", size=18, aria_hidden="true"),
                t("Happy birthday, {name}!", name=SessionState.first_name),
                class_name="hero-greeting hero-birthday",
                data_testid="birthday-greeting",
            ),
            rx.el.p(t("Hi, {name}", name=SessionState.first_name), class_name="hero-greeting"),
        ),
        # live.js counts the number up when it changes (a credit pushed from the till); the first
        # value is shown as is.
        rx.el.p(
            localized_number(CockpitState.available),
            class_name="hero-points",
            data_testid="points-balance",
            data_count_to=rx.cond(CockpitState.loaded, CockpitState.available.to_string(), ""),
        ),
        rx.el.p(t("Available points"), class_name="hero-points-label"),
        rx.cond(
            CockpitState.tier_name != "",
            rx.el.span(
                rx.icon("crown", size=14, aria_hidden="true"),
                CockpitState.tier_name,
                class_name="tier-chip",
                data_testid="tier-chip",
            ),
        ),
        rx.cond(
            CockpitState.next_tier_name != "",
            rx.fragment(
                progress_bar(CockpitState.pct_to_next, t("Progress to {tier}", tier=CockpitState.next_tier_name)),
                rx.el.p(
                    t("{points} points to {tier}", points=CockpitState.points_to_next, tier=CockpitState.next_tier_name),
                    class_name="small",
                    style={"margin": 0, "fontWeight": 700},
                ),
            ),
            rx.cond(
                CockpitState.tier_name != "",
                rx.el.p(t("You have reached the top tier."), class_name="small", style={"margin": "8px 0 0"}),
            ),
        ),
        rx.cond(
            CockpitState.points_to_keep > 0,
            rx.fragment(
                progress_bar(CockpitState.pct_to_keep, t("Progress to keep {tier}", tier=CockpitState.tier_name)),
                rx.el.p(
                    t(
                        "Earn {points} more points to keep {tier}.",
                        points=CockpitState.points_to_keep,
                        tier=CockpitState.tier_name,
                    ),
                    class_name="small",
                    style={"margin": 0, "opacity": 0.9},
                    data_testid="keep-tier",
                ),
            ),
        ),
        class_name=backdrop["class_name"],
        style=backdrop["style"],
        aria_label=t("Your points"),
    )


def badge_section(title: rx.Var) -> rx.Component:
    """Earned badges with the date each was earned (home and challenges tabs)."""
    return rx.cond(
        CockpitState.badges.length() > 0,
        rx.el.section(
            rx.el.h2(title),
            rx.el.ul(
                rx.foreach(
                    CockpitState.badges,
                    lambda b: rx.el.li(
                        rx.el.span(b["name"], style={"fontWeight": 700}), rx.el.span(b["when"], class_name="small muted")
                    ),
                ),
                class_name="list",
            ),
            class_name="card",
        ),
    )


def reward_tile(r: rx.Var) -> rx.Component:
    return rx.el.a(
        rx.cond(r["image"] != "", rx.el.img(src=r["image"], alt="", loading="lazy", width="200", height="150")),
        rx.el.div(
            rx.el.p(r["name"], class_name="reward-name"),
            rx.el.p(t("{points} pts", points=r["cost"]), class_name="cost", style={"margin": 0}),
            rx.el.span(r["reason"], class_name=rx.cond(r["affordable"] != "", "badge-can", "small muted")),
            class_name="body",
        ),
        href=f"/m/{SessionState.merchant_slug}/reward?id=" + r["id"],
        class_name="reward-tile",
        style={"textDecoration": "none", "color": "inherit"},
    )


def home_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Home"), class_name="sr-only"),
        rx.cond(CockpitState.error != "", rx.el.div(CockpitState.error, class_name="alert alert-error", role="alert")),
        hero(),
        rx.cond(
            CockpitState.expiring_30d > 0,
            rx.el.div(
                rx.icon("hourglass", size=18, aria_hidden="true"),
                rx.el.span(
                    t(
                        "{points} points expire on {date}. Use them before then!",
                        points=CockpitState.expiring_30d,
                        date=CockpitState.next_expiry,
                    )
                ),
                class_name="alert",
                style={
                    "background": "#fffaeb",
                    "color": "#93370d",
                    "border": "1px solid #fedf89",
                    "display": "flex",
                    "gap": "8px",
                    "alignItems": "center",
                },
                data_testid="expiring-points",
            ),
        ),
        rx.foreach(CockpitState.quests, quest_card),
        more_links(),
        rx.cond(
            CockpitState.challenges.length() > 0,
            rx.el.section(
                rx.el.h2(t("Challenges")),
                rx.el.ul(rx.foreach(CockpitState.challenges[:3], challenge_row), class_name="list"),
                class_name="card",
            ),
        ),
        badge_section(t("Newest badges")),
        rx.cond(
            CockpitState.rewards.length() > 0,
            rx.el.section(
                rx.el.h2(t("Picked for you"), class_name="section-title"),
                rx.el.div(rx.foreach(CockpitState.rewards[:4], reward_tile), class_name="grid-2"),
            ),
        ),
        active="home",
    )
