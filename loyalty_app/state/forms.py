"""Helpers shared by page states: translate a refusal into the member's language and run
blocking service calls (argon2, database) off the event loop."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx

from loyalty_app.domain.errors import LoyaltyError, N_

T = TypeVar("T")
log = logging.getLogger("loyalty_app")

GENERIC_ERROR = N_("Something went wrong. Please try again.")


async def current_language(state: rx.State) -> str:
    from loyalty_app.state.language import LanguageState

    return (await state.get_state(LanguageState)).lang


async def translated(state: rx.State, msgid: str, **params: Any) -> str:
    from loyalty_app.i18n import translate

    return translate(await current_language(state), msgid, **params)


async def error_message(state: rx.State, err: Exception) -> str:
    """A clear, translated message for a refusal; unexpected errors are logged, not shown."""
    from loyalty_app.i18n import translate, translate_error

    lang = await current_language(state)
    if isinstance(err, LoyaltyError):
        return translate_error(lang, err)
    log.exception("unexpected error in event handler", exc_info=err)
    return translate(lang, GENERIC_ERROR)


async def off_loop(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking call in a thread so one slow hash never stalls every member's events."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


def route_id(state: rx.State, name: str) -> int | None:
    """A positive integer id from the URL (?id=12), or None.

    Why a query and not a path segment (/rewards/12): the member frame links the merchant's
    theme.css and the page head its manifest with *relative* hrefs (one build serves every
    merchant), which only resolve under /m/<slug>/ one level deep."""
    raw = str(state.router.page.params.get(name, "") or "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


async def read_own(state: rx.State, fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[Any, T] | None:
    """How every member page starts loading: members only (the page guard sends others to their
    own pages), the one permission check on the member's own data, then ``fn(engine, actor,
    *args)`` off the event loop. A refusal is shown translated on ``state.error``.

    Returns (SessionState, result), or None when there is nothing to show."""
    from loyalty_app.db import get_engine
    from loyalty_app.services.permissions import Action
    from loyalty_app.state.session import SessionState

    session = await state.get_state(SessionState)
    if session.role != "member":
        return None
    try:
        actor = session.require_actor(Action.VIEW_OWN_MEMBER_DATA, target_account_id=session._account_id or None)
        return session, await off_loop(fn, get_engine(), actor, *args, **kwargs)
    except Exception as err:  # noqa: BLE001 - shown translated; unexpected ones are logged by error_message
        if session.signed_in:
            state.error = await error_message(state, err)
        return None
