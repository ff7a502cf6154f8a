"""The signed-in member's pictures for any member page: avatar and cockpit background URLs.

A small leaf state of its own (not on SessionState), so pages that show the pictures load two
strings and nothing else. The URLs point at the private routes of
``api/member_media_routes.py`` and carry the picture's id (``?v=<id>``): a new upload is a new
URL, so browsers never show the old picture. Empty string = no picture.

Use on a page: add ``MemberMediaState.load`` to the route's on_load (after the session guard),
then e.g. ``rx.cond(MemberMediaState.avatar_url != "", rx.el.img(src=MemberMediaState.avatar_url))``
or the ``photo_backdrop_props`` / ``avatar_view`` helpers in ``components/member_photo.py``.
"""

from __future__ import annotations

import reflex as rx

from loyalty_app.services.members import member_media
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action, is_allowed
from loyalty_app.state.forms import off_loop
from loyalty_app.state.session import SessionState, current_actor


class MemberMediaState(rx.State):
    avatar_url: str = ""
    background_url: str = ""

    def _apply(self, slug: str, avatar_id: int | None, background_id: int | None) -> None:
        self.avatar_url = member_media.image_url(slug, "avatar", avatar_id)
        self.background_url = member_media.image_url(slug, "background", background_id)

    @rx.event
    async def load(self):
        """on_load: the member's picture URLs (cleared when signed out or not a member)."""
        session = await self.get_state(SessionState)
        actor = await current_actor(self)
        if actor is None or not is_allowed(Action.VIEW_OWN_MEMBER_DATA, actor.role):
            self._apply("", None, None)  # the page guard redirects; nothing to log here
            return
        try:
            avatar_id, background_id = await off_loop(member_media.image_ids, get_engine(), actor)
        except Exception:  # noqa: BLE001 - refusals are logged by authorize
            self._apply("", None, None)
            return
        self._apply(session.merchant_slug, avatar_id, background_id)
