"""Merchant console, analytics: /m/<slug>/admin-analytics.

KPI tiles (active members, redemption rate, liability), then charts in a grid (two columns on a
desktop, one on a phone): enrolments, active members, points issued/redeemed/expired/donated,
cohort retention, top rewards, ratings, quest and challenge uplift, referral funnel, RFM segments
and the members at risk of leaving. A daily/weekly/monthly switch reloads every chart. The
numbers come from ``services.insight.analytics`` (all aggregation in SQL); this state only formats them.

Accessibility: each chart is drawn by recharts inside a ``figure`` with an ``aria-label``; the
SVG is hidden from assistive technology and the same figures follow as a visually hidden table.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx
from babel.numbers import format_percent

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_currency, format_date, format_number, normalize_language, t, tn, translate
from loyalty_app.services.insight import analytics
from loyalty_app.state.forms import current_language, run_service
from loyalty_app.state.session import SessionState

# Chart colours: fixed, distinguishable, each at least 3:1 against white (WCAG 1.4.11).
TEAL, AMBER, SLATE, ROSE, VIOLET, BLUE = "#0f766e", "#b45309", "#475569", "#be123c", "#6d28d9", "#1d4ed8"
FUNNEL_STEPS = {
    "codes": N_("Codes shared"),
    "joined": N_("Friends joined"),
    "purchased": N_("First purchase"),
    "rewarded": N_("Referrer rewarded"),
}
SEGMENT_COLOURS = {"champions": TEAL, "loyal": BLUE, "new": VIOLET, "at_risk": ROSE, "hibernating": SLATE, "others": AMBER}
DATE_FORMAT = {"day": "d MMM", "week": "d MMM", "month": "MMM yyyy"}


def _pct(lang: str, share: float | None) -> str:
    """A share in the locale's percent style, to one decimal ("15.4%", "15,4 %")."""
    if share is None:
        return "—"
    return format_percent(round(share, 3), locale=normalize_language(lang), decimal_quantization=False)


def build_view(board: analytics.Dashboard, lang: str) -> dict[str, Any]:
    """The dashboard as the strings and plain numbers the page shows (no Reflex, testable)."""
    fmt = DATE_FORMAT[board.period]

    def label(d: date) -> str:
        return format_date(lang, d, fmt)

    flows = [
        {"label": label(f.start), "issued": f.issued, "redeemed": f.redeemed, "expired": f.expired, "donated": f.donated}
        for f in board.flows
    ]
    cohorts = [
        {
            "label": format_date(lang, r.cohort, "MMM yyyy"),
            "members": r.members,
            **{
                f"d{d}": (round(r.retention[d] * 100, 1) if r.retention[d] is not None else None)
                for d in analytics.RETENTION_DAYS
            },
            **{f"d{d}_text": _pct(lang, r.retention[d]) for d in analytics.RETENTION_DAYS},
        }
        for r in board.cohorts
        if r.members
    ]
    rate = board.redemption.rate
    owed = board.liability
    return {
        "kpi_active": format_number(lang, board.active.active_30d),
        "kpi_members": format_number(lang, board.active.members),
        "members_n": board.active.members,
        "kpi_rate": _pct(lang, rate),
        "kpi_issued": format_number(lang, board.redemption.issued),
        "kpi_redeemed": format_number(lang, board.redemption.redeemed),
        "kpi_liability": format_number(lang, owed.points),
        "kpi_liability_value": format_currency(lang, owed.value_cents, owed.currency) if owed.value_cents is not None else "",
        "enrolments": [{"label": label(b.start), "value": b.value} for b in board.enrolments],
        "has_enrolments": any(b.value for b in board.enrolments),
        "active": [{"label": label(b.start), "value": b.value} for b in board.active.series],
        "has_active": any(b.value for b in board.active.series),
        "flows": flows,
        "has_flows": any(f["issued"] or f["redeemed"] or f["expired"] or f["donated"] for f in flows),
        "cohorts": cohorts,
        "has_cohorts": any(r.retention[d] is not None for r in board.cohorts for d in analytics.RETENTION_DAYS),
        "top_redeemed": [
            {"name": r.name, "value": r.redemptions, "text": format_number(lang, r.redemptions)} for r in board.top_redeemed
        ],
        "top_rated": [
            {"name": r.name, "average": format_number(lang, r.average), "ratings": format_number(lang, r.ratings)}
            for r in board.top_rated
        ],
        "ratings": [{"label": f"{stars}★", "stars": str(stars), "value": n} for stars, n in board.ratings.items()],
        "has_ratings": any(board.ratings.values()),
        "quests": [
            {
                "name": q.name,
                "participants": format_number(lang, q.participants),
                "before": q.visits_before,
                "during": q.visits_during,
                "before_text": format_number(lang, round(q.visits_before, 2)),
                "during_text": format_number(lang, round(q.visits_during, 2)),
                "visits_uplift": _pct(lang, q.visits_uplift),
                "points_uplift": _pct(lang, q.points_uplift),
                "dates": f"{format_date(lang, q.starts_at, 'd MMM')} – {format_date(lang, q.ends_at, 'd MMM yyyy')}",
            }
            for q in board.quests
        ],
        "has_quests": any(q.participants for q in board.quests),
        "challenges": [
            {
                "name": c.name,
                "completers": c.visits_completers,
                "others": c.visits_non_completers,
                "completers_n": format_number(lang, c.completers),
                "others_n": format_number(lang, c.non_completers),
                "completers_text": format_number(lang, c.visits_completers),
                "others_text": format_number(lang, c.visits_non_completers),
            }
            for c in board.challenges
        ],
        "funnel": [
            {"label": translate(lang, FUNNEL_STEPS[s.key]), "value": s.count, "text": format_number(lang, s.count)}
            for s in board.funnel
        ],
        "has_funnel": any(s.count for s in board.funnel),
        "segments": [
            {
                "label": translate(lang, analytics.SEGMENT_LABELS[k]),
                "key": k,
                "value": n,
                "text": format_number(lang, n),
                "fill": SEGMENT_COLOURS[k],
            }
            for k, n in board.rfm.segments.items()
        ],
        "has_segments": board.rfm.scored > 0,
        "at_risk": [
            {
                "name": m.name or m.member_number,
                "number": m.member_number,
                "last_visit": format_date(lang, m.last_visit, "medium") if m.last_visit else translate(lang, N_("Never")),
                "points": format_number(lang, m.lifetime_points),
            }
            for m in board.rfm.at_risk
        ],
    }


Row = list[dict[str, Any]]


class AnalyticsState(rx.State):
    period: str = "week"
    loading: bool = False
    loaded: bool = False
    error: str = ""
    kpi_active: str = ""
    kpi_members: str = ""
    members_n: int = 0
    kpi_rate: str = ""
    kpi_issued: str = ""
    kpi_redeemed: str = ""
    kpi_liability: str = ""
    kpi_liability_value: str = ""
    enrolments: Row = []
    has_enrolments: bool = False
    active: Row = []
    has_active: bool = False
    flows: Row = []
    has_flows: bool = False
    cohorts: Row = []
    has_cohorts: bool = False
    top_redeemed: Row = []
    top_rated: Row = []
    ratings: Row = []
    has_ratings: bool = False
    quests: Row = []
    has_quests: bool = False
    challenges: Row = []
    funnel: Row = []
    has_funnel: bool = False
    segments: Row = []
    has_segments: bool = False
    at_risk: Row = []

    @rx.event
    async def load(self):
        self.loading, self.error = True, ""
        yield
        session = await self.get_state(SessionState)
        ran = await run_service(self, analytics.dashboard, period=self.period, merchant_id=session._merchant_id or None)
        if ran is None:
            self.loading = False
            return
        _actor, board = ran
        for name, value in build_view(board, await current_language(self)).items():
            setattr(self, name, value)
        self.loading, self.loaded = False, True

    @rx.event
    async def set_period(self, period: str):
        if period not in analytics.PERIODS or self.loading:
            return
        self.period = period
        async for update in self.load():
            yield update


# --------------------------------------------------------------------------- rendering


def _period_switch() -> rx.Component:
    options = (("day", N_("Daily")), ("week", N_("Weekly")), ("month", N_("Monthly")))
    return rx.el.div(
        *[
            rx.el.button(
                t(text),
                type="button",
                class_name="an-seg-btn",
                aria_pressed=rx.cond(AnalyticsState.period == key, "true", "false"),
                on_click=AnalyticsState.set_period(key),
                disabled=AnalyticsState.loading,
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
        AnalyticsState.period,
        ("day", t("Last 30 days, per day")),
        ("week", t("Last 12 weeks, per week")),
        t("Last 12 months, per month"),
    )


def _kpi(value: rx.Var, label: rx.Var, note: rx.Component, test_id: str) -> rx.Component:
    return rx.el.div(
        rx.el.p(value, class_name="an-kpi-value"),
        rx.el.p(label, class_name="an-kpi-label"),
        note,
        class_name="card an-kpi",
        data_testid=test_id,
    )


def _sr_table(caption: rx.Var, rows: rx.Var, columns: list[tuple[rx.Var, str]]) -> rx.Component:
    """The chart's figures for screen readers (visually hidden)."""
    return rx.el.div(  # a div: a table would not shrink to the 1px of .sr-only and widen the page
        rx.el.table(
            rx.el.caption(caption),
            rx.el.thead(rx.el.tr(*[rx.el.th(head, scope="col") for head, _key in columns])),
            rx.el.tbody(rx.foreach(rows, lambda r: rx.el.tr(*[rx.el.td(r[key]) for _head, key in columns]))),
        ),
        class_name="sr-only",
        data_testid="an-sr-table",
    )


def _empty(text: rx.Var | None = None, title: rx.Var | None = None) -> rx.Component:
    return rx.el.div(
        rx.icon("chart-no-axes-column", size=28, aria_hidden="true"),
        rx.el.p(title if title is not None else t("Not enough data yet"), class_name="an-empty-title"),
        rx.el.p(
            text if text is not None else t("This chart fills in as members earn and spend points."), class_name="small muted"
        ),
        class_name="an-empty",
        data_testid="an-empty",
    )


def _chart_card(
    title: rx.Var,
    test_id: str,
    has_data: rx.Var,
    chart: rx.Component,
    table: rx.Component,
    *,
    note: rx.Component | None = None,
    empty_text: rx.Var | None = None,
    wide: bool = False,
) -> rx.Component:
    return rx.el.section(
        rx.el.h2(title),
        rx.cond(
            has_data,
            rx.el.figure(
                rx.el.div(chart, class_name="an-chart", aria_hidden="true"),
                table,
                note if note is not None else rx.fragment(),
                aria_label=title,
                role="group",
                class_name="an-figure",
            ),
            _empty(empty_text),
        ),
        class_name="card an-card an-card-wide" if wide else "card an-card",
        data_testid=test_id,
    )


def _axes(x_key: str = "label") -> list[rx.Component]:
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
        rx.recharts.x_axis(data_key=x_key, tick={"fontSize": 12}),
        rx.recharts.y_axis(allow_decimals=False, width=48, tick={"fontSize": 12}),
        rx.recharts.graphing_tooltip(),
    ]


def _bar_axes() -> list[rx.Component]:
    """Horizontal bars: long names (quests, challenges) on the vertical axis, where they fit."""
    return [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", horizontal=False),
        rx.recharts.x_axis(type_="number", tick={"fontSize": 12}),
        rx.recharts.y_axis(data_key="name", type_="category", width=120, tick={"fontSize": 12}),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(),
    ]


def _rows_height(rows: rx.Var) -> rx.Var:
    return rows * 56 + 70


def _enrolments() -> rx.Component:
    return _chart_card(
        t("Enrolments"),
        "an-enrolments",
        AnalyticsState.has_enrolments,
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="value", name=t("New members"), fill=TEAL, is_animation_active=False),
            *_axes(),
            data=AnalyticsState.enrolments,
            height=240,
        ),
        _sr_table(t("Enrolments"), AnalyticsState.enrolments, [(t("Period"), "label"), (t("New members"), "value")]),
        empty_text=t("No member joined in this period."),
    )


def _active() -> rx.Component:
    return _chart_card(
        t("Active members"),
        "an-active",
        AnalyticsState.has_active,
        rx.recharts.line_chart(
            rx.recharts.line(
                data_key="value", name=t("Active members"), stroke=TEAL, stroke_width=2, dot=False, is_animation_active=False
            ),
            *_axes(),
            data=AnalyticsState.active,
            height=240,
        ),
        _sr_table(t("Active members"), AnalyticsState.active, [(t("Period"), "label"), (t("Active members"), "value")]),
        note=rx.el.p(t("Members who earned, spent or did something rewarded in the period."), class_name="small muted"),
    )


def _flows() -> rx.Component:
    series = (
        ("issued", N_("Issued"), TEAL),
        ("redeemed", N_("Redeemed"), AMBER),
        ("expired", N_("Expired"), SLATE),
        ("donated", N_("Donated"), VIOLET),
    )
    return _chart_card(
        t("Points issued, redeemed, expired and donated"),
        "an-flows",
        AnalyticsState.has_flows,
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
            *_axes(),
            rx.recharts.legend(),
            data=AnalyticsState.flows,
            height=260,
        ),
        _sr_table(
            t("Points issued, redeemed, expired and donated"),
            AnalyticsState.flows,
            [(t("Period"), "label"), *[(t(text), key) for key, text, _c in series]],
        ),
        wide=True,
    )


def _cohorts() -> rx.Component:
    bars = (("d30", N_("Day 30–59"), TEAL), ("d60", N_("Day 60–89"), AMBER), ("d90", N_("Day 90–119"), ROSE))
    return _chart_card(
        t("Cohort retention"),
        "an-cohorts",
        AnalyticsState.has_cohorts,
        rx.recharts.bar_chart(
            *[
                rx.recharts.bar(data_key=key, name=t(text), fill=colour, is_animation_active=False, max_bar_size=40)
                for key, text, colour in bars
            ],
            rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False),
            rx.recharts.x_axis(data_key="label", tick={"fontSize": 12}),
            rx.recharts.y_axis(domain=[0, 100], unit="%", width=48, tick={"fontSize": 12}),
            rx.recharts.graphing_tooltip(),
            rx.recharts.legend(),
            data=AnalyticsState.cohorts,
            height=260,
        ),
        _sr_table(
            t("Cohort retention"),
            AnalyticsState.cohorts,
            [(t("Joined in"), "label"), (t("Members"), "members"), *[(t(text), f"{key}_text") for key, text, _c in bars]],
        ),
        note=rx.el.p(
            t("Share of each month's new members who came back 30 to 119 days after joining: the drop-off to fight."),
            class_name="small muted",
        ),
        empty_text=t("Retention shows once members joined at least two months ago."),
    )


def _top_rewards() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("Top rewards")),
        rx.cond(
            (AnalyticsState.top_redeemed.length() > 0) | (AnalyticsState.top_rated.length() > 0),
            rx.el.div(
                rx.el.table(
                    rx.el.caption(t("By redemptions"), class_name="an-caption"),
                    rx.el.thead(
                        rx.el.tr(rx.el.th(t("Reward"), scope="col"), rx.el.th(t("Redemptions"), scope="col", class_name="an-num"))
                    ),
                    rx.el.tbody(
                        rx.foreach(
                            AnalyticsState.top_redeemed,
                            lambda r: rx.el.tr(rx.el.td(r["name"]), rx.el.td(r["text"], class_name="an-num")),
                        )
                    ),
                    class_name="admin-table",
                    data_testid="an-top-redeemed",
                ),
                rx.el.table(
                    rx.el.caption(t("By rating"), class_name="an-caption"),
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(t("Reward"), scope="col"),
                            rx.el.th(t("Average"), scope="col", class_name="an-num"),
                            rx.el.th(t("Ratings"), scope="col", class_name="an-num"),
                        )
                    ),
                    rx.el.tbody(
                        rx.foreach(
                            AnalyticsState.top_rated,
                            lambda r: rx.el.tr(
                                rx.el.td(r["name"]),
                                rx.el.td("★ ", r["average"], class_name="an-num"),
                                rx.el.td(r["ratings"], class_name="an-num"),
                            ),
                        )
                    ),
                    class_name="admin-table",
                    data_testid="an-top-rated",
                ),
                class_name="an-tables",
            ),
            _empty(t("No reward was redeemed or rated in this period.")),
        ),
        class_name="card an-card",
        data_testid="an-top-rewards",
    )


def _ratings() -> rx.Component:
    return _chart_card(
        t("Rating distribution"),
        "an-ratings",
        AnalyticsState.has_ratings,
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="value", name=t("Ratings"), fill=AMBER, is_animation_active=False),
            *_axes(),
            data=AnalyticsState.ratings,
            height=220,
        ),
        _sr_table(t("Rating distribution"), AnalyticsState.ratings, [(t("Stars"), "stars"), (t("Ratings"), "value")]),
        note=rx.el.p(t("All visible ratings, whatever the period."), class_name="small muted"),
        empty_text=t("No member has rated a reward yet."),
    )


def _quests() -> rx.Component:
    return _chart_card(
        t("Quest uplift"),
        "an-quests",
        AnalyticsState.has_quests,
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="before", name=t("4 weeks before"), fill=SLATE, is_animation_active=False, max_bar_size=18),
            rx.recharts.bar(data_key="during", name=t("During the quest"), fill=TEAL, is_animation_active=False, max_bar_size=18),
            *_bar_axes(),
            data=AnalyticsState.quests,
            layout="vertical",
            height=_rows_height(AnalyticsState.quests.length()),
        ),
        rx.el.table(
            rx.el.caption(t("Visits per participant per week"), class_name="an-caption"),
            rx.el.thead(
                rx.el.tr(
                    rx.el.th(t("Quest"), scope="col"),
                    rx.el.th(t("Participants"), scope="col", class_name="an-num"),
                    rx.el.th(t("Before"), scope="col", class_name="an-num"),
                    rx.el.th(t("During"), scope="col", class_name="an-num"),
                    rx.el.th(t("Visits"), scope="col", class_name="an-num"),
                    rx.el.th(t("Points"), scope="col", class_name="an-num"),
                )
            ),
            rx.el.tbody(
                rx.foreach(
                    AnalyticsState.quests,
                    lambda q: rx.el.tr(
                        rx.el.td(q["name"], rx.el.br(), rx.el.span(q["dates"], class_name="small muted")),
                        rx.el.td(q["participants"], class_name="an-num"),
                        rx.el.td(q["before_text"], class_name="an-num"),
                        rx.el.td(q["during_text"], class_name="an-num"),
                        rx.el.td(q["visits_uplift"], class_name="an-num"),
                        rx.el.td(q["points_uplift"], class_name="an-num"),
                    ),
                )
            ),
            class_name="admin-table an-after-chart",
        ),
        note=rx.el.p(
            t(
                "Participants: members active during the quest. Points include the quest's own bonus; visits show the change in habits."
            ),
            class_name="small muted",
        ),
        empty_text=t("No member took part in a quest in this period."),
    )


def _challenges() -> rx.Component:
    return _chart_card(
        t("Challenge uplift"),
        "an-challenges",
        AnalyticsState.challenges.length() > 0,
        rx.recharts.bar_chart(
            rx.recharts.bar(data_key="completers", name=t("Completed"), fill=TEAL, is_animation_active=False, max_bar_size=18),
            rx.recharts.bar(
                data_key="others", name=t("Took part, not completed"), fill=SLATE, is_animation_active=False, max_bar_size=18
            ),
            *_bar_axes(),
            data=AnalyticsState.challenges,
            layout="vertical",
            height=_rows_height(AnalyticsState.challenges.length()),
        ),
        _sr_table(
            t("Average visits per member in the period."),
            AnalyticsState.challenges,
            [
                (t("Challenge"), "name"),
                (t("Completed"), "completers_text"),
                (t("Members"), "completers_n"),
                (t("Took part, not completed"), "others_text"),
                (t("Members"), "others_n"),
            ],
        ),
        note=rx.el.p(t("Average visits per member in the period."), class_name="small muted"),
        empty_text=t("No member has taken part in a challenge yet."),
    )


def _funnel() -> rx.Component:
    return _chart_card(
        t("Referral funnel"),
        "an-funnel",
        AnalyticsState.has_funnel,
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
            data=AnalyticsState.funnel,
            layout="vertical",
            height=220,
            margin={"right": 40},
        ),
        _sr_table(t("Referral funnel"), AnalyticsState.funnel, [(t("Step"), "label"), (t("Members"), "text")]),
        note=rx.el.p(t("All time."), class_name="small muted"),
        empty_text=t("No member has shared a referral code yet."),
    )


def _segments() -> rx.Component:
    return _chart_card(
        t("Member segments (RFM)"),
        "an-segments",
        AnalyticsState.has_segments,
        rx.recharts.bar_chart(
            rx.recharts.bar(
                rx.foreach(AnalyticsState.segments, lambda s: rx.recharts.cell(fill=s["fill"])),
                data_key="value",
                name=t("Members"),
                is_animation_active=False,
            ),
            *_axes(),
            data=AnalyticsState.segments,
            height=240,
        ),
        _sr_table(t("Member segments (RFM)"), AnalyticsState.segments, [(t("Segment"), "label"), (t("Members"), "text")]),
        note=rx.el.p(
            t("Recency of the last visit, visits in a year and lifetime points, each ranked in fifths."), class_name="small muted"
        ),
        empty_text=t("Segments need at least 5 members."),
    )


def _at_risk() -> rx.Component:
    return rx.el.section(
        rx.el.h2(t("At risk of leaving")),
        rx.el.p(
            t("They used to come often or earn a lot, and have not been back lately. Most valuable first."),
            class_name="small muted",
        ),
        rx.cond(
            AnalyticsState.at_risk.length() > 0,
            rx.el.div(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(t("Member"), scope="col"),
                            rx.el.th(t("Member number"), scope="col"),
                            rx.el.th(t("Last visit"), scope="col"),
                            rx.el.th(t("Lifetime points"), scope="col", class_name="an-num"),
                        )
                    ),
                    rx.el.tbody(
                        rx.foreach(
                            AnalyticsState.at_risk,
                            lambda m: rx.el.tr(
                                rx.el.td(m["name"]),
                                rx.el.td(m["number"]),
                                rx.el.td(m["last_visit"]),
                                rx.el.td(m["points"], class_name="an-num"),
                            ),
                        )
                    ),
                    class_name="admin-table",
                ),
                class_name="an-scroll",
            ),
            rx.cond(
                AnalyticsState.has_segments,
                _empty(t("No regular has stopped coming."), title=t("Nobody is at risk of leaving right now.")),
                _empty(t("Segments need at least 5 members.")),
            ),
        ),
        class_name="card an-card",
        data_testid="an-at-risk",
    )


def analytics_page() -> rx.Component:
    return admin_frame(
        t("Analytics"),
        "admin-analytics",
        error_alert(AnalyticsState.error),
        rx.el.div(
            _period_switch(),
            rx.el.p(_window_text(), class_name="small muted an-window"),
            rx.el.p(
                rx.cond(AnalyticsState.loading, t("Loading analytics…"), ""),
                role="status",
                class_name="small an-status",
                data_testid="an-status",
            ),
            class_name="an-toolbar",
        ),
        rx.cond(
            AnalyticsState.loaded,
            rx.el.div(
                rx.el.div(
                    _kpi(
                        AnalyticsState.kpi_active,
                        t("Active members (30 days)"),
                        rx.el.p(
                            tn(
                                "of {members} member",
                                "of {members} members",
                                AnalyticsState.members_n,
                                members=AnalyticsState.kpi_members,
                            ),
                            class_name="small muted",
                        ),
                        "an-kpi-active",
                    ),
                    _kpi(
                        AnalyticsState.kpi_rate,
                        t("Redemption rate"),
                        rx.el.p(
                            t(
                                "{redeemed} of {issued} points issued in the period",
                                redeemed=AnalyticsState.kpi_redeemed,
                                issued=AnalyticsState.kpi_issued,
                            ),
                            class_name="small muted",
                        ),
                        "an-kpi-rate",
                    ),
                    _kpi(
                        AnalyticsState.kpi_liability,
                        t("Outstanding points"),
                        rx.el.p(
                            rx.cond(
                                AnalyticsState.kpi_liability_value != "",
                                t("Worth {value}", value=AnalyticsState.kpi_liability_value),
                                t("Points members can still spend, now."),
                            ),
                            class_name="small muted",
                        ),
                        "an-kpi-liability",
                    ),
                    class_name="an-kpis",
                ),
                rx.el.div(
                    _enrolments(),
                    _active(),
                    _flows(),
                    _cohorts(),
                    _top_rewards(),
                    _ratings(),
                    _quests(),
                    _challenges(),
                    _funnel(),
                    _segments(),
                    _at_risk(),
                    class_name="an-grid",
                ),
                class_name=rx.cond(AnalyticsState.loading, "an-body an-busy", "an-body"),
                aria_busy=rx.cond(AnalyticsState.loading, "true", "false"),
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
