"""The Challenges tab's challenge cards: each challenge with its progress bar, how it is done,
time left (urgent when under two days) or when it was completed, and the empty state."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.cockpit import progress_bar
from loyalty_app.i18n import t
from loyalty_app.pages.challenges.state import ChallengesState

S = ChallengesState


def challenge_card(c: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.el.div(
            rx.el.div(
                rx.cond(
                    c["done"] != "",
                    rx.icon("circle-check-big", size=22, aria_hidden="true"),
                    rx.cond(
                        c["surprise"] != "",
                        rx.icon("sparkles", size=22, aria_hidden="true"),
                        rx.icon("target", size=22, aria_hidden="true"),
                    ),
                ),
                class_name=rx.cond(c["done"] != "", "ch-icon ch-icon-done", "ch-icon"),
            ),
            rx.el.div(
                rx.el.h3(c["name"], class_name="ch-name"),
                rx.cond(c["surprise"] != "", rx.el.span(t("Surprise unlocked"), class_name="ch-chip ch-chip-surprise")),
                class_name="ch-name-box",
            ),
            rx.cond(c["reward"] != "", rx.el.span(t("+{points} pts", points=c["reward"]), class_name="ch-reward")),
            class_name="ch-card-head",
        ),
        rx.cond(c["description"] != "", rx.el.p(c["description"], class_name="ch-desc")),
        rx.cond(
            c["how"] != "",
            rx.el.p(
                rx.icon("footprints", size=15, aria_hidden="true"), rx.el.span(t("How: {how}", how=c["how"])), class_name="ch-how"
            ),
        ),
        progress_bar(c["pct"], c["name"]),
        rx.el.div(
            rx.cond(
                c["done"] != "",
                rx.el.span(
                    rx.icon("check", size=14, aria_hidden="true"),
                    c["done_on"],
                    class_name="badge-can ch-done",
                    data_testid="challenge-done",
                ),
                rx.el.span(c["progress"], class_name="ch-progress", data_testid="challenge-progress"),
            ),
            rx.cond(
                c["time_left"] != "",
                rx.el.span(
                    rx.icon("clock", size=14, aria_hidden="true"),
                    c["time_left"],
                    class_name=rx.cond(c["urgent"] != "", "ch-time ch-time-urgent", "ch-time"),
                    title=c["ends"],
                    data_testid="challenge-time-left",
                ),
                rx.cond(c["ends"] != "", rx.el.span(c["ends"], class_name="ch-time")),
            ),
            class_name="ch-card-foot",
        ),
        rx.cond((c["ends"] != "") & (c["time_left"] != ""), rx.el.p(c["ends"], class_name="ch-ends small muted")),
        class_name=rx.cond(c["done"] != "", "card ch-card ch-card-done", "card ch-card"),
        data_testid="challenge-card",
    )


def challenges_view() -> rx.Component:
    return rx.cond(
        S.challenges.length() > 0,
        rx.el.div(rx.foreach(S.challenges, challenge_card)),
        rx.cond(
            S.loaded,
            rx.el.div(
                rx.el.div(rx.icon("trophy", size=34, aria_hidden="true"), class_name="ch-empty-icon"),
                rx.el.p(t("No challenges right now. Check back soon!"), class_name="ch-empty-title"),
                rx.el.button(t("See ways to earn"), type="button", class_name="btn btn-secondary", on_click=S.set_view("earn")),
                class_name="ch-empty",
            ),
        ),
    )
