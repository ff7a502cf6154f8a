"""Card tab: /m/<slug>/card — the member card shown at the till.

The member number is for manual entry; live signed QR codes arrive with the in-store issue."""

from __future__ import annotations

import reflex as rx

from loyalty_app.components.shell import member_frame
from loyalty_app.db import read_session
from loyalty_app.i18n import t
from loyalty_app.models import Account
from loyalty_app.services.permissions import Action
from loyalty_app.state.session import SessionState


class CardState(rx.State):
    member_number: str = ""
    full_name: str = ""

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        try:
            actor = session.require_actor(Action.VIEW_OWN_MEMBER_DATA, target_account_id=session._account_id or None)
        except Exception:  # noqa: BLE001 - the page guard redirects signed-out visitors
            return
        with read_session() as s:
            account = s.get(Account, actor.account_id)
        if account is not None:
            number = account.member_number
            self.member_number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
            self.full_name = f"{account.first_name} {account.last_name}".strip()


def card_page() -> rx.Component:
    return member_frame(
        rx.el.h1(t("Member card"), class_name="sr-only"),
        rx.el.section(
            rx.el.p(SessionState.merchant_name, style={"margin": 0, "fontWeight": 800, "opacity": 0.9}),
            rx.el.p(CardState.full_name, style={"margin": "6px 0 0", "fontSize": "1.3rem", "fontWeight": 900}),
            rx.el.p(t("Member number"), class_name="small", style={"margin": "22px 0 4px", "opacity": 0.85}),
            rx.el.p(CardState.member_number, class_name="number", data_testid="member-number"),
            rx.el.p(t("Show this number at the till to collect points."), class_name="small", style={"margin": "18px 0 0", "opacity": 0.9}),
            class_name="member-card",
        ),
        active="card",
    )
