"""Merchant-admin page: /m/<slug>/admin (program figures and the check-in posters).

The "Check-in posters" card lists each active store with PNG and PDF downloads. The files come
from ``loyalty_app/api/poster_routes.py`` (plain GETs with the session cookie; ``rx.el.a`` is
React Router's Link, so the links ask for a document load, which the browser turns into a
download); the card only lists the stores, through ``services.store.posters.list_stores`` (admins
only).
"""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.console import admin_frame
from loyalty_app.components.shell import error_alert
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import format_number, t, translate
from loyalty_app.services.insight import overview
from loyalty_app.services.store import posters
from loyalty_app.state.forms import current_language, run_service
from loyalty_app.state.session import SessionState


class AdminState(rx.State):
    figures: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    async def load(self):
        ran = await run_service(self, overview.program_overview)
        if ran is None:
            return
        _actor, o = ran
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


# --- the check-in posters card ---------------------------------------------------------------


class PostersState(rx.State):
    stores: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        if session.role != "admin":
            return
        ran = await run_service(self, posters.list_stores)
        if ran is None:
            return
        _actor, rows = ran
        base = f"/m/{session.merchant_slug}/admin/posters"
        self.stores = [
            {
                "id": str(r.id),
                "name": r.name,
                "address": r.address,
                "png": f"{base}/{r.id}.png",
                "pdf": f"{base}/{r.id}.pdf",
                "png_name": posters.poster_filename(r.name, r.id, "png"),
                "pdf_name": posters.poster_filename(r.name, r.id, "pdf"),
            }
            for r in rows
        ]
        self.error = ""


def _store_row(s: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.p(s["name"], style={"margin": 0, "fontWeight": 800}),
            rx.el.p(s["address"], class_name="small muted", style={"margin": 0}),
            style={"flex": 1, "minWidth": 0},
        ),
        rx.el.div(
            rx.el.a(
                rx.icon("image-down", size=16, aria_hidden="true"),
                "PNG",
                href=s["png"],
                download=s["png_name"],
                reload_document=True,
                class_name="poster-link",
                data_testid="poster-png",
            ),
            rx.el.a(
                rx.icon("file-down", size=16, aria_hidden="true"),
                "PDF",
                href=s["pdf"],
                download=s["pdf_name"],
                reload_document=True,
                class_name="poster-link",
                data_testid="poster-pdf",
            ),
            class_name="poster-links",
        ),
        data_testid="poster-store",
    )


def poster_card() -> rx.Component:
    """Drop into the admin page; loads itself when shown."""
    return rx.el.section(
        rx.el.h2(rx.icon("qr-code", size=18, aria_hidden="true"), t("Check-in posters"), class_name="poster-card-title"),
        rx.el.p(
            t("Print one poster per store. Members scan it to check in once a day and earn points."),
            class_name="small muted",
            style={"margin": "0 0 6px"},
        ),
        rx.cond(PostersState.error != "", rx.el.div(PostersState.error, class_name="alert alert-error", role="alert")),
        rx.el.ul(rx.foreach(PostersState.stores, _store_row), class_name="list"),
        class_name="card",
        on_mount=PostersState.load,
        data_testid="poster-card",
    )


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
