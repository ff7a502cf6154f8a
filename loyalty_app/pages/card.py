"""Card tab: /m/<slug>/card — the member card shown at the till.

The QR holds a signed code that lives 60 s and works once; the page fetches a new one every
45 s while it is open (for at most 15 minutes, then a tap refreshes it). The member number
under it is for manual entry when a code cannot be scanned.

Offline: the service worker serves this page from its cache, but without the websocket the
session cannot be checked, so nothing from the server arrives. Each online visit therefore
keeps the member's name and number on the device (``loyalty_app.pwa.offline_card``), and when
the socket cannot connect the page shows that card for manual entry, with a note that live
codes need a connection. The texts of that block are picked in the browser in the member's
last language (stored with the card), because the language state cannot load offline either.
"""

from __future__ import annotations

import asyncio

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from loyalty_app.components.offline import OFFLINE_BADGE, OFFLINE_NO_CARD, offline_t, stored
from loyalty_app.components.shell import brand_stylesheet, tab_bar, top_bar
from loyalty_app.domain.errors import N_
from loyalty_app.i18n import t
from loyalty_app.pwa import offline_card
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action, Actor
from loyalty_app.services.platform.qr import qr_svg_data_uri
from loyalty_app.services.store.member_codes import issue_member_code, member_card
from loyalty_app.state.forms import current_language, off_loop
from loyalty_app.state.language import html_lang_sync
from loyalty_app.state.session import SessionState, current_actor, require_actor

REFRESH_SECONDS = 45
MAX_REFRESHES = 20

OFFLINE_NOTE = N_("You are offline. Live codes need a connection: show this number at the till instead.")
OFFLINE_STALE_NOTE = N_("You are offline. This code may have expired: show your member number at the till.")
MEMBER_CARD = N_("Member card")
MEMBER_NUMBER = N_("Member number")
LOADING = N_("Loading…")


def format_member_number(number: str) -> str:
    """Groups of four digits, as printed on the card and typed at the till."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


class CardState(rx.State):
    member_number: str = ""
    full_name: str = ""
    tier_name: str = ""
    qr_src: str = ""
    paused: bool = False
    _refreshing: bool = False

    def _issue(self, actor: Actor) -> None:
        code, _expires = issue_member_code(get_engine(), actor)
        self.qr_src = qr_svg_data_uri(code)
        self.paused = False

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        if session.role != "member":
            return
        try:
            actor = await require_actor(self, Action.VIEW_OWN_MEMBER_DATA, own=True)
        except Exception:  # noqa: BLE001 - the page guard redirects signed-out visitors
            return
        card = await off_loop(member_card, get_engine(), actor)
        if card is None:
            return
        self.tier_name = card.tier_name
        self.member_number = format_member_number(card.member_number)
        self.full_name = f"{card.first_name} {card.last_name}".strip()
        self._issue(actor)
        kept = {
            "name": self.full_name,
            "number": self.member_number,
            "merchant": session.merchant_name,
            "short": session.merchant_short_name,
            "logo": session.logo_url,
            "lang": await current_language(self),
        }
        return [rx.call_script(offline_card.remember_script(session.merchant_slug, kept)), CardState.keep_fresh]

    @rx.event
    async def refresh_now(self):
        session = await self.get_state(SessionState)
        actor = await current_actor(self)
        if actor is not None and session.role == "member":
            self._issue(actor)
            return CardState.keep_fresh

    @rx.event(background=True)
    async def keep_fresh(self):
        """Swap the code before it expires while the card is on screen (bounded: a closed tab
        must not keep a loop alive on the server)."""
        async with self:
            if self._refreshing:
                return
            self._refreshing = True
        try:
            for _ in range(MAX_REFRESHES):
                await asyncio.sleep(REFRESH_SECONDS)
                async with self:
                    if not str(self.router.page.path).endswith("/card"):
                        return
                    actor = await current_actor(self)
                    if actor is None:
                        self.qr_src = ""
                        return
                    self._issue(actor)
            async with self:
                self.paused = True
        finally:
            async with self:
                self._refreshing = False


# ------------------------------------------------------------------------- offline (browser side)


def offline_card_block() -> rx.Component:
    """The kept card: merchant, name, number, and why there is no QR."""
    return rx.cond(
        stored("number") != "",
        rx.el.section(
            rx.el.span(rx.icon("wifi-off", size=14, aria_hidden="true"), offline_t(OFFLINE_BADGE), class_name="offline-chip"),
            rx.el.p(stored("merchant"), style={"margin": "10px 0 0", "fontWeight": 800, "opacity": 0.9}),
            rx.el.p(
                stored("name"), style={"margin": "6px 0 0", "fontSize": "1.3rem", "fontWeight": 900}, data_testid="offline-name"
            ),
            rx.el.div(
                rx.el.p(offline_t(MEMBER_NUMBER), class_name="small", style={"margin": "0 0 6px", "opacity": 0.85}),
                rx.el.p(stored("number"), class_name="number", data_testid="offline-member-number"),
                class_name="offline-number",
            ),
            rx.el.p(offline_t(OFFLINE_NOTE), class_name="offline-note", role="status", data_testid="offline-note"),
            class_name="member-card member-card-offline",
            data_testid="offline-card",
        ),
        rx.el.div(
            rx.icon("wifi-off", size=28, aria_hidden="true"),
            rx.el.p(offline_t(OFFLINE_NO_CARD)),
            class_name="empty",
            role="status",
            data_testid="offline-no-card",
        ),
    )


def live_card() -> rx.Component:
    return rx.el.section(
        rx.el.p(SessionState.merchant_name, style={"margin": 0, "fontWeight": 800, "opacity": 0.9}),
        rx.el.p(CardState.full_name, style={"margin": "6px 0 0", "fontSize": "1.3rem", "fontWeight": 900}),
        rx.cond(
            CardState.tier_name != "",
            rx.el.span(
                rx.icon("crown", size=14, aria_hidden="true"),
                CardState.tier_name,
                class_name="tier-chip",
                style={"marginTop": "8px"},
                data_testid="card-tier",
            ),
        ),
        rx.el.div(
            rx.cond(
                CardState.qr_src != "",
                rx.el.img(
                    src=CardState.qr_src,
                    alt=t("Your member QR code"),
                    width="240",
                    height="240",
                    style={
                        "display": "block",
                        "width": "min(68vw, 280px)",
                        "height": "auto",
                        "opacity": rx.cond(CardState.paused | has_connection_errors, "0.25", "1"),
                    },
                    data_testid="member-qr",
                ),
                rx.el.div(style={"width": "min(68vw, 280px)", "aspectRatio": "1"}),
            ),
            class_name="qr",
        ),
        rx.cond(
            has_connection_errors,
            rx.el.p(t(OFFLINE_STALE_NOTE), class_name="offline-note", role="status", data_testid="offline-note"),
            rx.cond(
                CardState.paused,
                rx.el.button(
                    t("Tap to show a new code"),
                    type="button",
                    class_name="btn",
                    on_click=CardState.refresh_now,
                    style={"background": "#fff", "color": "var(--brand-primary)", "marginBottom": "12px"},
                ),
                rx.el.p(
                    t("Turn your screen brightness up. The code renews itself and works once."),
                    class_name="small",
                    style={"margin": "0 0 14px", "opacity": 0.9},
                ),
            ),
        ),
        rx.el.p(t(MEMBER_NUMBER), class_name="small", style={"margin": "4px 0 4px", "opacity": 0.85}),
        rx.el.p(CardState.member_number, class_name="number", data_testid="member-number"),
        class_name="member-card",
    )


def card_page() -> rx.Component:
    """Like ``components.shell.member_frame``, plus the offline branch."""
    return rx.fragment(
        brand_stylesheet(),
        html_lang_sync(),
        rx.el.div(
            top_bar(),
            rx.el.main(
                rx.el.h1(t(MEMBER_CARD), class_name="sr-only"),
                rx.cond(
                    SessionState.signed_in,
                    live_card(),
                    rx.cond(
                        has_connection_errors,
                        offline_card_block(),
                        rx.el.div(rx.el.p(t(LOADING)), class_name="empty", aria_busy="true"),
                    ),
                ),
                class_name="content",
                id="main",
            ),
            tab_bar("card"),
            class_name="app-frame",
        ),
    )
