"""The admin page's "Check-in posters" card: each active store with PNG and PDF downloads.

The files come from ``loyalty_app/api/poster_routes.py`` (plain GETs with the session cookie;
``rx.el.a`` is React Router's Link, so the links ask for a document load, which the browser
turns into a download);
this card only lists the stores, through ``services.posters.list_stores`` (admins only).
"""

from __future__ import annotations

import reflex as rx

from loyalty_app.db import get_engine
from loyalty_app.i18n import t
from loyalty_app.services import posters
from loyalty_app.state.forms import error_message, off_loop
from loyalty_app.state.session import SessionState


class PostersState(rx.State):
    stores: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        if session.role != "admin":
            return
        try:
            rows = await off_loop(posters.list_stores, get_engine(), session._current_actor())
        except Exception as err:  # noqa: BLE001 - shown translated; unexpected ones are logged
            self.error = await error_message(self, err)
            return
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
