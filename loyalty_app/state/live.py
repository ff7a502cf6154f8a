"""Live updates for an open member app: a credit made at the till (by another person, maybe on
another backend worker) refreshes the member's cockpit and shows a toast, with confetti for a
tier-up or a new badge.

How: member pages register their tab (services.platform.live); the staff's event then calls
``push_to_member``, which opens each of the member's tabs with ``app.modify_state`` and lets the
tab re-read its *own* data with its own session. With Redis, Reflex routes the update to the
worker holding the member's websocket."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from loyalty_app.domain.errors import N_
from loyalty_app.i18n import translate
from loyalty_app.services.earning.actions import EarnOutcome
from loyalty_app.services.platform import live
from loyalty_app.services.platform.engine import get_engine
from loyalty_app.state.cockpit import CockpitState
from loyalty_app.state.forms import current_language
from loyalty_app.state.session import current_actor

log = logging.getLogger("loyalty_app.live")

POINTS_ARRIVED = N_("+{points} points: {reason}")
POINTS_TAKEN_BACK = N_("{points} points were taken back: {reason}")
TIER_REACHED = N_("Welcome to {tier}!")
NEW_BADGE = N_("New badge: {badge}")
VOUCHER_USED = N_("Voucher used: {reward}. Enjoy!")


# Member pages that re-read their own data when a live update reaches a tab showing them:
# path suffix -> (the page's state, the method that loads it). Each page registers itself
# (``reload_when_open``), so this shared state never imports a page.
_RELOAD_WHEN_OPEN: dict[str, tuple[type[rx.State], str]] = {}


def reload_when_open(path_suffix: str, page_state: type[rx.State], method: str) -> None:
    """Called by a page module: a live update reaching a tab whose path ends with
    ``path_suffix`` awaits ``page_state.<method>()`` in that tab, after the cockpit's refresh."""
    _RELOAD_WHEN_OPEN[path_suffix] = (page_state, method)


class LiveState(rx.State):
    """The toast on every member page. ``toast_seq`` changes with every toast so the browser
    restarts its animation; ``celebrate`` turns the confetti on."""

    toast: str = ""
    toast_seq: int = 0
    celebrate: bool = False

    @rx.event
    def dismiss(self):
        self.toast, self.celebrate = "", False

    async def _receive(self, account_id: int, messages: list[tuple[str, dict]], celebrate: bool) -> bool:
        """Runs inside the member's tab: only if this tab is still signed in as that member."""
        actor = await current_actor(self)
        if actor is None or actor.account_id != account_id:
            return False
        cockpit = await self.get_state(CockpitState)
        await cockpit._refresh()
        from loyalty_app.state.inbox_badge import InboxBadgeState

        await (await self.get_state(InboxBadgeState)).load()
        path = str(self.router.page.path)
        for suffix, (page_state, method) in _RELOAD_WHEN_OPEN.items():
            if path.endswith(suffix):
                await getattr(await self.get_state(page_state), method)()
        lang = await current_language(self)
        self.toast = " · ".join(translate(lang, msgid, **params) for msgid, params in messages)
        self.toast_seq += 1
        self.celebrate = celebrate
        return True


def earn_messages(outcome: EarnOutcome) -> tuple[list[tuple[str, dict]], bool]:
    """What a member is told about one earn, and whether it deserves confetti."""
    messages = [(POINTS_ARRIVED, {"points": outcome.total_points, "reason": _Reason(outcome.reason, outcome.reason_params)})]
    celebrate = False
    if outcome.tier_change is not None and outcome.tier_change.upgraded and outcome.tier_change.to_name:
        messages.append((TIER_REACHED, {"tier": outcome.tier_change.to_name}))
        celebrate = True
    badges = [b.name for b in outcome.badges_awarded]
    badges += [c.badge.name for c in outcome.challenges_completed if c.badge is not None and c.badge.name not in badges]
    for name in badges:
        messages.append((NEW_BADGE, {"badge": name}))
        celebrate = True
    return messages, celebrate


class _Reason:
    """A nested translatable parameter: translated in the member's language when shown."""

    def __init__(self, msgid: str, params: dict) -> None:
        self.msgid, self.params = msgid, params


def _resolve(lang: str, params: dict) -> dict:
    return {k: translate(lang, v.msgid, **_resolve(lang, v.params)) if isinstance(v, _Reason) else v for k, v in params.items()}


_tasks: set[asyncio.Task] = set()


def push_to_member(merchant_id: int, account_id: int, messages: list[tuple[str, dict]], *, celebrate: bool = False) -> None:
    """Fire and forget: the cashier's screen never waits for the member's phone."""
    task = asyncio.get_running_loop().create_task(_push(merchant_id, account_id, messages, celebrate))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _push(merchant_id: int, account_id: int, messages: list[tuple[str, dict]], celebrate: bool) -> int:
    from reflex.istate.manager.token import BaseStateToken
    from reflex.utils.prerequisites import get_and_validate_app

    engine = get_engine()
    tokens = await asyncio.to_thread(live.member_clients, engine, merchant_id=merchant_id, account_id=account_id)
    if not tokens:
        return 0
    app = get_and_validate_app().app
    delivered = 0
    for token in tokens:
        try:
            async with app.modify_state(BaseStateToken(ident=token, cls=LiveState)) as root:
                state = await root.get_state(LiveState)
                lang = await current_language(state)
                resolved = [(msgid, _resolve(lang, params)) for msgid, params in messages]
                if await state._receive(account_id, resolved, celebrate):
                    delivered += 1
                else:
                    await asyncio.to_thread(live.forget_client, engine, token)
        except Exception:
            log.warning("live push to a member tab failed", exc_info=True)
    return delivered
