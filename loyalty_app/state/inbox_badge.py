"""The member's unread-messages count, shown on Home (a tiny leaf state)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.services import inbox
from loyalty_app.services.engine import get_engine
from loyalty_app.state.forms import off_loop
from loyalty_app.state.session import SessionState


class InboxBadgeState(rx.State):
    """The unread count shown on Home (a tiny leaf state)."""

    unread: int = 0

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        if session.role != "member":
            return
        try:
            self.unread = await off_loop(inbox.unread_count, get_engine(), session._current_actor())
        except Exception:  # noqa: BLE001 - refusals are logged by authorize; the badge just stays 0
            self.unread = 0
