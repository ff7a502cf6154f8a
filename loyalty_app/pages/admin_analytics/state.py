"""AnalyticsState: loads the dashboard for the chosen period (day, week or month) and holds it as
the plain values ``view.build_view`` makes, one state var per figure the page shows."""

from __future__ import annotations

from typing import Any

import reflex as rx

from loyalty_app.pages.admin_analytics.view import build_view
from loyalty_app.services.insight import analytics
from loyalty_app.state.forms import current_language, run_service
from loyalty_app.state.session import SessionState

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
