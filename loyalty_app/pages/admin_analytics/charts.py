"""The cards of the analytics grid, one function each: what every card shows, in which chart,
with which hidden or visible table and which note or empty-state text."""

from __future__ import annotations

import reflex as rx

from loyalty_app.domain.errors import N_
from loyalty_app.i18n import t
from loyalty_app.pages.admin_analytics.chart_kit import (
    axes,
    card,
    chart_card,
    col,
    empty,
    figure_card,
    note,
    num_col,
    paired_bars,
    sr_table,
    table,
    value_bars,
)
from loyalty_app.pages.admin_analytics.state import AnalyticsState
from loyalty_app.pages.admin_analytics.view import AMBER, BLUE, ROSE, SLATE, TEAL, VIOLET

A = AnalyticsState


def enrolments() -> rx.Component:
    return figure_card(
        t("Enrolments"),
        "an-enrolments",
        A.has_enrolments,
        value_bars(A.enrolments, t("New members"), fill=TEAL, height=240),
        A.enrolments,
        [(t("Period"), "label"), (t("New members"), "value")],
        empty_text=t("No member joined in this period."),
    )


def active() -> rx.Component:
    return figure_card(
        t("Active members"),
        "an-active",
        A.has_active,
        rx.recharts.line_chart(
            rx.recharts.line(
                data_key="value", name=t("Active members"), stroke=TEAL, stroke_width=2, dot=False, is_animation_active=False
            ),
            *axes(),
            data=A.active,
            height=240,
        ),
        A.active,
        [(t("Period"), "label"), (t("Active members"), "value")],
        note_text=t("Members who earned, spent or did something rewarded in the period."),
    )


def flows() -> rx.Component:
    series = (
        ("issued", N_("Issued"), TEAL),
        ("redeemed", N_("Redeemed"), AMBER),
        ("expired", N_("Expired"), SLATE),
        ("donated", N_("Donated"), VIOLET),
    )
    return figure_card(
        t("Points issued, redeemed, expired and donated"),
        "an-flows",
        A.has_flows,
        rx.recharts.area_chart(
            *[
                rx.recharts.area(
                    data_key=key,
                    name=t(text),
                    stroke=colour,
                    fill=colour,
                    type_="monotone",
                    stroke_width=2,
                    is_animation_active=False,
                    custom_attrs={"fillOpacity": 0.12},
                )
                for key, text, colour in series
            ],
            *axes(),
            rx.recharts.legend(),
            data=A.flows,
            height=260,
        ),
        A.flows,
        [(t("Period"), "label"), *[(t(text), key) for key, text, _c in series]],
        wide=True,
    )


def cohorts() -> rx.Component:
    bars = (("d30", N_("Day 30–59"), TEAL), ("d60", N_("Day 60–89"), AMBER), ("d90", N_("Day 90–119"), ROSE))
    return figure_card(
        t("Cohort retention"),
        "an-cohorts",
        A.has_cohorts,
        rx.recharts.bar_chart(
            *[
                rx.recharts.bar(data_key=key, name=t(text), fill=colour, is_animation_active=False, max_bar_size=40)
                for key, text, colour in bars
            ],
            *axes(rx.recharts.y_axis(domain=[0, 100], unit="%", width=48, tick={"fontSize": 12})),
            rx.recharts.legend(),
            data=A.cohorts,
            height=260,
        ),
        A.cohorts,
        [(t("Joined in"), "label"), (t("Members"), "members"), *[(t(text), f"{key}_text") for key, text, _c in bars]],
        note_text=t("Share of each month's new members who came back 30 to 119 days after joining: the drop-off to fight."),
        empty_text=t("Retention shows once members joined at least two months ago."),
    )


def top_rewards() -> rx.Component:
    return card(
        t("Top rewards"),
        "an-top-rewards",
        (A.top_redeemed.length() > 0) | (A.top_rated.length() > 0),
        rx.el.div(
            table(
                A.top_redeemed,
                [col(t("Reward"), "name"), num_col(t("Redemptions"), "text")],
                caption=rx.el.caption(t("By redemptions"), class_name="an-caption"),
                class_name="admin-table",
                data_testid="an-top-redeemed",
            ),
            table(
                A.top_rated,
                [
                    col(t("Reward"), "name"),
                    num_col(t("Average"), lambda r: ("★ ", r["average"])),
                    num_col(t("Ratings"), "ratings"),
                ],
                caption=rx.el.caption(t("By rating"), class_name="an-caption"),
                class_name="admin-table",
                data_testid="an-top-rated",
            ),
            class_name="an-tables",
        ),
        empty(t("No reward was redeemed or rated in this period.")),
    )


def ratings() -> rx.Component:
    return figure_card(
        t("Rating distribution"),
        "an-ratings",
        A.has_ratings,
        value_bars(A.ratings, t("Ratings"), fill=AMBER, height=220),
        A.ratings,
        [(t("Stars"), "stars"), (t("Ratings"), "value")],
        note_text=t("All visible ratings, whatever the period."),
        empty_text=t("No member has rated a reward yet."),
    )


def quests() -> rx.Component:
    return chart_card(
        t("Quest uplift"),
        "an-quests",
        A.has_quests,
        paired_bars(A.quests, (("before", t("4 weeks before"), SLATE), ("during", t("During the quest"), TEAL))),
        table(
            A.quests,
            [
                col(t("Quest"), lambda q: (q["name"], rx.el.br(), rx.el.span(q["dates"], class_name="small muted"))),
                num_col(t("Participants"), "participants"),
                num_col(t("Before"), "before_text"),
                num_col(t("During"), "during_text"),
                num_col(t("Visits"), "visits_uplift"),
                num_col(t("Points"), "points_uplift"),
            ],
            caption=rx.el.caption(t("Visits per participant per week"), class_name="an-caption"),
            class_name="admin-table an-after-chart",
        ),
        note_text=t(
            "Participants: members active during the quest. Points include the quest's own bonus; visits show the change in habits."
        ),
        empty_text=t("No member took part in a quest in this period."),
    )


def challenges() -> rx.Component:
    return chart_card(
        t("Challenge uplift"),
        "an-challenges",
        A.challenges.length() > 0,
        paired_bars(A.challenges, (("completers", t("Completed"), TEAL), ("others", t("Took part, not completed"), SLATE))),
        sr_table(
            t("Average visits per member in the period."),
            A.challenges,
            [
                (t("Challenge"), "name"),
                (t("Completed"), "completers_text"),
                (t("Members"), "completers_n"),
                (t("Took part, not completed"), "others_text"),
                (t("Members"), "others_n"),
            ],
        ),
        note_text=t("Average visits per member in the period."),
        empty_text=t("No member has taken part in a challenge yet."),
    )


def funnel() -> rx.Component:
    return figure_card(
        t("Referral funnel"),
        "an-funnel",
        A.has_funnel,
        rx.recharts.bar_chart(
            rx.recharts.bar(
                data_key="value",
                name=t("Members"),
                fill=BLUE,
                is_animation_active=False,
                max_bar_size=32,
                label={"position": "right", "fontSize": 12, "fill": "#14171a"},
            ),
            rx.recharts.x_axis(type_="number", allow_decimals=False, hide=True, domain=[0, "dataMax"]),
            rx.recharts.y_axis(data_key="label", type_="category", width=130, tick={"fontSize": 12}),
            rx.recharts.graphing_tooltip(),
            data=A.funnel,
            layout="vertical",
            height=220,
            margin={"right": 40},
        ),
        A.funnel,
        [(t("Step"), "label"), (t("Members"), "text")],
        note_text=t("All time."),
        empty_text=t("No member has shared a referral code yet."),
    )


def segments() -> rx.Component:
    return figure_card(
        t("Member segments (RFM)"),
        "an-segments",
        A.has_segments,
        value_bars(A.segments, t("Members"), height=240),  # each segment in its own colour
        A.segments,
        [(t("Segment"), "label"), (t("Members"), "text")],
        note_text=t("Recency of the last visit, visits in a year and lifetime points, each ranked in fifths."),
        empty_text=t("Segments need at least 5 members."),
    )


def at_risk() -> rx.Component:
    return card(
        t("At risk of leaving"),
        "an-at-risk",
        A.at_risk.length() > 0,
        rx.el.div(
            table(
                A.at_risk,
                [
                    col(t("Member"), "name"),
                    col(t("Member number"), "number"),
                    col(t("Last visit"), "last_visit"),
                    num_col(t("Lifetime points"), "points"),
                ],
                class_name="admin-table",
            ),
            class_name="an-scroll",
        ),
        rx.cond(
            A.has_segments,
            empty(t("No regular has stopped coming."), title=t("Nobody is at risk of leaving right now.")),
            empty(t("Segments need at least 5 members.")),
        ),
        intro=note(t("They used to come often or earn a lot, and have not been back lately. Most valuable first.")),
    )


GRID = (enrolments, active, flows, cohorts, top_rewards, ratings, quests, challenges, funnel, segments, at_risk)
