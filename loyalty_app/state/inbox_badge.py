"""The member's unread-messages count, shown on Home (a tiny leaf state)."""

from __future__ import annotations

import reflex as rx

from loyalty_app.services.members import inbox
from loyalty_app.state.forms import run_service
from loyalty_app.state.session import SessionState


class InboxBadgeState(rx.State):
    """The unread count shown on Home (a tiny leaf state)."""

    unread: int = 0

    @rx.event
    async def load(self):
        session = await self.get_state(SessionState)
        if session.role != "member":
            return
        # error_var=None: refusals are logged by authorize; the badge just stays 0
        ran = await run_service(self, inbox.unread_count, error_var=None)
        self.unread = 0 if ran is None else ran[1]
