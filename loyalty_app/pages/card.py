"""Card tab: /m/<slug>/card — the member card shown at the till.

The QR holds a signed code that lives 60 s and works once; the page fetches a new one every
45 s while it is open (for at most 15 minutes, then a tap refreshes it). The member number
under it is for manual entry when a code cannot be scanned."""

from __future__ import annotations

import asyncio

import reflex as rx

from loyalty_app.components.shell import member_frame
from loyalty_app.db import get_engine, read_session
from loyalty_app.i18n import t
from loyalty_app.models import Account
from loyalty_app.services.member_codes import issue_member_code
from loyalty_app.services.permissions import Action, Actor
from loyalty_app.services.qr import qr_svg_data_uri
from loyalty_app.state.session import SessionState

REFRESH_SECONDS = 45
MAX_REFRESHES = 20


class CardState(rx.State):
    member_number: str = ""
    full_name: str = ""
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
            actor = session.require_actor(Action.VIEW_OWN_MEMBER_DATA, target_account_id=session._account_id or None)
        except Exception:  # noqa: BLE001 - the page guard redirects signed-out visitors
            return
        with read_session() as s:
            account = s.get(Account, actor.account_id)
        if account is None:
            return
        number = account.member_number
        self.member_number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
        self.full_name = f"{account.first_name} {account.last_name}".strip()
        self._issue(actor)
        return CardState.keep_fresh

    @rx.event
    async def refresh_now(self):
        session = await self.get_state(SessionState)
        actor = session.current_actor()
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
                    session = await self.get_state(SessionState)
                    actor = session.current_actor()
                    if actor is None:
                        self.qr_src = ""
                        return
                    self._issue(actor)
            async with self:
                self.paused = True
        finally:
            async with self:
                self._refreshing = False


def card_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Member card"), class_name="sr-only"),
        rx.el.section(
            rx.el.p(SessionState.merchant_name, style={"margin": 0, "fontWeight": 800, "opacity": 0.9}),
            rx.el.p(CardState.full_name, style={"margin": "6px 0 0", "fontSize": "1.3rem", "fontWeight": 900}),
            rx.el.div(
                rx.cond(
                    CardState.qr_src != "",
                    rx.el.img(
                        src=CardState.qr_src,
                        alt=t("Your member QR code"),
                        width="240",
                        height="240",
                        style={"display": "block", "width": "min(68vw, 280px)", "height": "auto",
                               "opacity": rx.cond(CardState.paused, "0.25", "1")},
                        data_testid="member-qr",
                    ),
                    rx.el.div(style={"width": "min(68vw, 280px)", "aspectRatio": "1"}),
                ),
                class_name="qr",
            ),
            rx.cond(
                CardState.paused,
                rx.el.button(t("Tap to show a new code"), type="button", class_name="btn", on_click=CardState.refresh_now,
                             style={"background": "#fff", "color": "var(--brand-primary)", "marginBottom": "12px"}),
                rx.el.p(t("Turn your screen brightness up. The code renews itself and works once."),
                        class_name="small", style={"margin": "0 0 14px", "opacity": 0.9}),
            ),
            rx.el.p(t("Member number"), class_name="small", style={"margin": "4px 0 4px", "opacity": 0.85}),
            rx.el.p(CardState.member_number, class_name="number", data_testid="member-number"),
            class_name="member-card",
        ),
        active="card",
    )
