"""The deployment's front door (/): lists the loyalty programs hosted here.

Members normally arrive at their merchant's own path (/m/<slug>/home) from a poster, a link or
their home screen; this page helps someone who typed the bare address."""

from __future__ import annotations

import reflex as rx

from loyalty_app.i18n import t
from loyalty_app.services.platform import merchants
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.state.forms import off_loop


class LandingState(rx.State):
    programs: list[dict[str, str]] = []

    @rx.event
    async def load(self):
        programs = await off_loop(merchants.programs, get_engine())
        self.programs = [
            {
                "slug": p.slug,
                "name": p.name,
                "description": p.description,
                "logo": f"/m/{p.slug}/media/{p.logo_id}" if p.logo_id else "",
            }
            for p in programs
        ]


def _program(p: rx.Var) -> rx.Component:
    return rx.el.a(
        rx.cond(p["logo"] != "", rx.el.img(src=p["logo"], alt="", width="56", height="56", style={"borderRadius": "14px"})),
        rx.el.div(
            rx.el.p(p["name"], style={"fontWeight": 800, "margin": 0, "color": "var(--text)"}),
            rx.el.p(p["description"], class_name="muted small", style={"margin": "2px 0 0"}),
        ),
        href="/m/" + p["slug"].to(str) + "/home",
        class_name="card",
        style={"display": "flex", "gap": "14px", "alignItems": "center", "textDecoration": "none"},
    )


def landing_page() -> rx.Component:
    return rx.el.main(
        rx.el.h1(t("Loyalty programs"), style={"fontSize": "1.6rem", "fontWeight": 900}),
        rx.el.p(t("Choose your shop to sign in or join."), class_name="muted"),
        rx.foreach(LandingState.programs, _program),
        class_name="auth-wrap",
    )


def not_found_page() -> rx.Component:
    return rx.el.main(
        rx.el.h1(t("Page not found"), style={"fontWeight": 900}),
        rx.el.p(t("This link does not lead to a loyalty program."), class_name="muted"),
        rx.el.a(t("See all programs"), href="/", class_name="btn"),
        class_name="auth-wrap",
    )
