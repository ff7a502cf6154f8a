"""The Challenges page (/m/<slug>/challenges): the summary header, the section switch
(challenges, ways to earn, badges; ``?tab=earn`` / ``?tab=badges`` opens on one) and the frame
that puts the open section in the member app."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import member_frame
from loyalty_app.components.shell import segmented as shell_segmented
from loyalty_app.i18n import localized_number, t, tn
from loyalty_app.pages.challenges.badges import badges_view
from loyalty_app.pages.challenges.challenge_cards import challenges_view
from loyalty_app.pages.challenges.state import ChallengesState
from loyalty_app.pages.challenges.ways_to_earn import earn_view

S = ChallengesState


def segmented() -> rx.Component:
    return shell_segmented(
        [("challenges", t("Challenges")), ("earn", t("Earn")), ("badges", t("Badges"))],
        S.view,
        S.set_view,
        label=t("Sections"),
        test_prefix="view",
        even=True,
    )


def header() -> rx.Component:
    return rx.el.div(
        rx.el.h1(t("Challenges"), class_name="ch-title"),
        rx.el.p(
            rx.el.span(tn("{n} challenge done", "{n} challenges done", S.done_count), data_testid="ch-done-count"),
            rx.el.span("·", aria_hidden="true"),
            rx.el.span(tn("{n} badge", "{n} badges", S.badges_earned.length())),
            rx.el.span("·", aria_hidden="true"),
            rx.el.span(t("{points} pts", points=localized_number(S.available)), data_testid="ch-balance"),
            class_name="ch-summary",
        ),
        class_name="ch-head",
    )


def challenges_page() -> rx.Component:
    return member_frame(
        header(),
        rx.cond(S.error != "", rx.el.div(S.error, class_name="alert alert-error", role="alert")),
        segmented(),
        rx.match(
            S.view,
            ("earn", earn_view()),
            ("badges", badges_view()),
            challenges_view(),
        ),
        active="challenges",
    )
