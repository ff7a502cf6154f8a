"""Merchant-admin page: /m/<slug>/admin (program figures)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.db import get_engine
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_number, t, translate
from loyalty_app.pages.admin_posters import poster_card
from loyalty_app.services import overview
from loyalty_app.state.forms import current_language, error_message, off_loop
from loyalty_app.state.session import SessionState


class AdminState(rx.State):
    figures: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        try:
            o = await off_loop(overview.program_overview, get_engine(), session._current_actor())
        except Exception as err:  # noqa: BLE001
            self.error = await error_message(self, err)
            return
        lang = await current_language(self)
        rows = (
            (N_("Members"), o.members),
            (N_("New members (30 days)"), o.new_members_30d),
            (N_("Stores"), o.stores),
            (N_("Outstanding points"), o.outstanding_points),
            (N_("Points earned (30 days)"), o.earned_30d),
            (N_("Points spent (30 days)"), o.spent_30d),
        )
        self.figures = [{"label": translate(lang, label), "value": format_number(lang, value)} for label, value in rows]


def admin_page() -> rx.Component:
    return admin_frame(
        t("Program overview"),
        "admin",
        error_alert(AdminState.error),
        rx.el.div(
            rx.foreach(
                AdminState.figures,
                lambda f: rx.el.div(
                    rx.el.p(f["value"], style={"fontSize": "1.6rem", "fontWeight": 900, "margin": 0}),
                    rx.el.p(f["label"], class_name="small muted", style={"margin": 0}),
                    class_name="card",
                    style={"marginBottom": 0},
                ),
            ),
            class_name="grid-2",
            style={"marginBottom": "16px"},
            data_testid="admin-figures",
        ),
        poster_card(),
    )
