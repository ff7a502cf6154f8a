"""Shared state: which merchant's app this is and who is signed in.

The session credential is an HttpOnly cookie (``ls_<slug>``) set by an HTTP endpoint after
sign-in; the browser sends it with the websocket handshake, and Reflex keeps the ``cookie``
header server-side only. Every event that touches protected data asks who is asking through
``current_actor`` / ``require_actor`` below (usually via ``state.forms.run_service``), which
re-validate the session in the database (revocation and timeouts take effect at once).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import reflex as rx

from loyalty_app.domain.errors import N_, LoyaltyError, NotAllowed
from loyalty_app.models import Role
from loyalty_app.pwa import offline_card
from loyalty_app.services.members import sessions
from loyalty_app.services.platform import live, merchants, permissions
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.services.platform.permissions import Action, Actor


def home_path(slug: str, role: Role | str) -> str:
    """Where each role starts: members in the cockpit, staff at the till, admins in the console."""
    role = Role(role)
    page = {Role.MEMBER: "home", Role.STAFF: "staff", Role.ADMIN: "admin"}[role]
    return f"/m/{slug}/{page}"


def activate_session(ticket: str, next_path: str) -> rx.event.EventSpec:
    """After sign-in: exchange the one-time ticket for the HttpOnly cookie, then go on."""
    return full_navigation(f"/api/session/activate?ticket={quote(ticket)}&next={quote(next_path, safe='')}")


def full_navigation(url: str) -> rx.event.EventSpec:
    """Leave the single-page app: the next page load opens a new websocket (with new cookies)."""
    return rx.call_script(f"window.location.replace({json.dumps(url)})")


class SessionState(rx.State):
    """Merchant branding + the signed-in person's display data (never secrets)."""

    merchant_slug: str = ""
    merchant_name: str = ""
    merchant_short_name: str = ""
    logo_url: str = ""
    signed_in: bool = False
    first_name: str = ""
    role: str = ""
    # Backend-only: ids the browser must not see or set.
    _merchant_id: int = 0
    _account_id: int = 0
    _merchant_tz: str = "UTC"
    _live_tab: str = ""  # "<client token>:<account id>" once this tab is registered for live updates

    def _route_slug(self) -> str:
        return str(self.router.page.params.get("slug", "") or "")

    def _load_merchant(self, *, fresh: bool = False) -> bool:
        """Load branding for the route's merchant; False when the slug is unknown. Page guards
        pass ``fresh`` so a newly published theme (brand name, logo) shows on the next page."""
        slug = self._route_slug()
        if not fresh and slug and slug == self.merchant_slug and self._merchant_id:
            return True
        merchant = merchants.branding(get_engine(), slug)
        if merchant is None:
            self.merchant_slug = ""
            self._merchant_id = 0
            return False
        self.merchant_slug = merchant.slug
        self.merchant_name = merchant.name
        self.merchant_short_name = merchant.short_name
        self.logo_url = f"/m/{merchant.slug}/media/{merchant.logo_id}" if merchant.logo_id else ""
        self._merchant_id = merchant.merchant_id
        self._merchant_tz = merchant.timezone
        return True

    # The two lookups below are private on purpose: Reflex turns every public method of a state
    # into an event handler the browser may call. Other states and pages use the module-level
    # ``current_actor(state)`` / ``require_actor(state, action)`` instead.

    def _current_actor(self) -> Actor | None:
        """Re-validate the session cookie for this event (None when signed out or expired)."""
        if not self._merchant_id and not self._load_merchant():
            return None
        return sessions.resolve(
            get_engine(),
            merchant_id=self._merchant_id,
            cookie_header=self.router.headers.cookie or "",
            slug=self.merchant_slug,
        )

    def _require_actor(self, action: Action, *, target_account_id: int | None = None, store_id: int | None = None) -> Actor:
        """THE check every protected handler calls; raises NotAllowed (logged) when refused."""
        actor = self._current_actor()
        return permissions.authorize(
            get_engine(),
            actor,
            action,
            merchant_id=self._merchant_id,
            target_account_id=target_account_id,
            store_id=store_id,
        )

    def _apply_identity(self, actor: Actor | None) -> None:
        if actor is None:
            self.signed_in, self.first_name, self.role, self._account_id = False, "", "", 0
            return
        account = sessions.signed_in_account(get_engine(), actor.account_id)
        self.signed_in = True
        self.first_name = account.first_name if account else ""
        self.role = actor.role.value
        self._account_id = actor.account_id

    async def _apply_account_language(self) -> None:
        from loyalty_app.state.language import LanguageState

        # Members choose their language in Profile; staff and admins have no such page yet,
        # so for them the device's choice (browser or remembered) stands.
        if not self._account_id or self.role != Role.MEMBER.value:
            return
        account = sessions.signed_in_account(get_engine(), self._account_id)
        if account and account.language:
            lang_state = await self.get_state(LanguageState)
            lang_state._apply(account.language)

    @rx.event
    async def guard_member_page(self):
        """on_load of member pages: unknown merchant -> 404 page; signed out -> sign-in."""
        if not self._load_merchant(fresh=True):
            return rx.redirect("/not-found", replace=True)
        actor = self._current_actor()
        self._apply_identity(actor)
        if actor is None:
            nxt = quote(self.router.page.raw_path or f"/m/{self.merchant_slug}/home", safe="")
            return rx.redirect(f"/m/{self.merchant_slug}/signin?next={nxt}", replace=True)
        await self._apply_account_language()
        if actor.role != Role.MEMBER:
            return rx.redirect(home_path(self.merchant_slug, actor.role), replace=True)
        await self._register_live_tab(actor)

    async def _register_live_tab(self, actor: Actor) -> None:
        """Let changes made elsewhere (the till) reach this tab live; once per tab and member."""
        token = self.router.session.client_token
        mark = f"{token}:{actor.account_id}"
        if token and self._live_tab != mark:
            await asyncio.to_thread(live.register_client, get_engine(), actor, token)
            self._live_tab = mark

    async def _guard_console(self, allowed: set[Role]):
        if not self._load_merchant(fresh=True):
            return rx.redirect("/not-found", replace=True)
        actor = self._current_actor()
        self._apply_identity(actor)
        if actor is None:
            nxt = quote(self.router.page.raw_path or "", safe="")
            return rx.redirect(f"/m/{self.merchant_slug}/signin?next={nxt}", replace=True)
        await self._apply_account_language()
        if actor.role not in allowed:
            return rx.redirect(home_path(self.merchant_slug, actor.role), replace=True)

    @rx.event
    async def guard_staff_page(self):
        """on_load of the till: staff and admins only."""
        return await self._guard_console({Role.STAFF, Role.ADMIN})

    @rx.event
    async def guard_admin_page(self):
        """on_load of the admin console: merchant admins only."""
        return await self._guard_console({Role.ADMIN})

    @rx.event
    def guard_public_page(self):
        """on_load of sign-in/sign-up: load branding; a signed-in member goes to their home."""
        if not self._load_merchant(fresh=True):
            return rx.redirect("/not-found", replace=True)
        actor = self._current_actor()
        self._apply_identity(actor)
        if actor is not None:
            return rx.redirect(home_path(self.merchant_slug, actor.role), replace=True)
        # Signed out (or expired): drop the member card kept on this device for offline use.
        return rx.call_script(offline_card.forget_script(self.merchant_slug))

    @rx.event
    def sign_out(self):
        """Revoke the session server-side, then let the HTTP endpoint clear the cookie."""
        slug = self.merchant_slug or self._route_slug()
        self._apply_identity(None)
        return [
            rx.call_script(offline_card.forget_script(slug)),  # the card kept for offline use
            full_navigation(f"/api/session/signout?slug={quote(slug)}"),
        ]


async def current_actor(state: rx.State) -> Actor | None:
    """Who is asking in this event, from any state of the tab: the session cookie re-validated
    in the database, or None when signed out or expired. No permission is checked: the service
    called with the actor does that (``require_actor`` checks here)."""
    return (await state.get_state(SessionState))._current_actor()


async def require_actor(
    state: rx.State,
    action: Action,
    *,
    own: bool = False,
    target_account_id: int | None = None,
    store_id: int | None = None,
) -> Actor:
    """THE permission check, from any state of the tab: who is asking, allowed to do ``action``
    (on ``target_account_id`` / at ``store_id``); ``own=True`` targets the signed-in person's own
    account. Raises NotAllowed (logged) when refused."""
    session = await state.get_state(SessionState)
    if own:
        target_account_id = session._account_id or None
    return session._require_actor(action, target_account_id=target_account_id, store_id=store_id)


def error_text(err: LoyaltyError) -> tuple[str, dict]:
    """(msgid, params) of an error, for translation in the member's language."""
    return err.message, dict(err.params)


SIGN_IN_FIRST = N_("Please sign in first.")
__all__ = ["SessionState", "current_actor", "require_actor", "full_navigation", "NotAllowed", "SIGN_IN_FIRST"]
