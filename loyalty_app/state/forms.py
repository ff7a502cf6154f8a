"""Helpers shared by page states: the one way an event handler calls a service (``run_service``:
who is asking, may they, the call off the event loop, a refusal shown translated), and the pieces
it is made of (``error_message``, ``off_loop``)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import reflex as rx

from loyalty_app.domain.errors import N_, LoyaltyError
from loyalty_app.services.platform.tx import is_unavailable, is_unstorable

if TYPE_CHECKING:
    from loyalty_app.services.platform.permissions import Action, Actor

T = TypeVar("T")
log = logging.getLogger("loyalty_app")

GENERIC_ERROR = N_("Something went wrong. Please try again.")
# The database or Redis could not be reached (restarting, network cut): nothing was changed,
# and the same action will work once it is back.
UNAVAILABLE_ERROR = N_("We could not reach our records just now. Nothing was changed: please try again in a moment.")
# The database refused a value (PostgreSQL: a NUL character in text, a number out of range):
# the typed input is at fault, nothing was written.
UNSTORABLE_ERROR = N_(
    "Some of what you typed cannot be saved (an invisible control character or a number too large). Nothing was changed: please check it and try again."
)


async def current_language(state: rx.State) -> str:
    from loyalty_app.state.language import LanguageState

    return (await state.get_state(LanguageState)).lang


async def translated(state: rx.State, msgid: str, **params: Any) -> str:
    from loyalty_app.i18n import translate

    return translate(await current_language(state), msgid, **params)


async def error_message(state: rx.State, err: Exception) -> str:
    """A clear, translated message for a refusal; the database or Redis being unreachable gets
    a "try again" message; unexpected errors are logged, not shown."""
    from loyalty_app.i18n import translate, translate_error

    lang = await current_language(state)
    if isinstance(err, LoyaltyError):
        return translate_error(lang, err)
    if is_unavailable(err):
        log.warning("database or Redis unavailable in event handler: %s", err.__class__.__name__)
        return translate(lang, UNAVAILABLE_ERROR)
    if is_unstorable(err):
        log.warning("database refused a value in event handler: %s", err.__class__.__name__)
        return translate(lang, UNSTORABLE_ERROR)
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
    return form_id(state.router.page.params.get(name, ""))


def form_id(value: object) -> int | None:
    """A positive row id as the browser sent it, or None. ASCII digits only: "²".isdigit() is
    True but int("²") raises, and 30 digits overflow the database's integer."""
    raw = str(value or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 12 else None


async def run_service(
    state: rx.State,
    fn: Callable[..., T],
    /,
    *args: Any,
    action: Action | None = None,
    own: bool = False,
    error_var: str | None = "error",
    reraise: tuple[type[Exception], ...] = (),
    **kwargs: Any,
) -> tuple[Actor | None, T] | None:
    """THE way an event handler calls a service.

    1. Who is asking: with ``action``, ``require_actor`` (the permission check; ``own=True``: on
       the signed-in member's own account); without, ``current_actor`` (None when signed out:
       the service refuses, or serves anonymous callers).
    2. ``fn(engine, actor, *args, **kwargs)`` off the event loop.
    3. Any failure, the lookup's included, is shown translated on ``state.<error_var>``
       (``error_message``: unexpected errors are logged, never shown); with ``error_var=None``
       nothing is shown or logged (refusals are still logged by the permission check).
       Exceptions of the ``reraise`` types are raised for the handler to show its own way (a
       form's per-field errors, a "not found" page).

    Returns (actor, result), or None after a failure: the handler cleans up if it must, and
    returns. ``**kwargs`` all go to ``fn``: this helper has no ``store_id``/``target_account_id``
    of its own (call ``require_actor`` for those)."""
    from loyalty_app.services.platform.engine import get_engine
    from loyalty_app.state.session import current_actor, require_actor

    try:
        actor = await (current_actor(state) if action is None else require_actor(state, action, own=own))
        return actor, await off_loop(fn, get_engine(), actor, *args, **kwargs)
    except reraise:
        raise
    except Exception as err:  # noqa: BLE001 - shown translated; unexpected ones are logged by error_message
        if error_var is not None:
            setattr(state, error_var, await error_message(state, err))
        return None


async def read_own(
    state: rx.State, fn: Callable[..., T], *args: Any, reraise: tuple[type[Exception], ...] = (), **kwargs: Any
) -> tuple[Any, T] | None:
    """How every member page starts loading: members only (the page guard sends others to their
    own pages), then ``run_service`` with the one permission check on the member's own data. A
    refusal is shown translated on ``state.error`` while signed in (signed out, the guard is
    already sending the visitor to sign-in).

    Returns (SessionState, result), or None when there is nothing to show."""
    from loyalty_app.services.platform.permissions import Action
    from loyalty_app.state.session import SessionState

    session = await state.get_state(SessionState)
    if session.role != "member":
        return None
    error_var = "error" if session.signed_in else None
    ran = await run_service(
        state, fn, *args, action=Action.VIEW_OWN_MEMBER_DATA, own=True, error_var=error_var, reraise=reraise, **kwargs
    )
    return None if ran is None else (session, ran[1])


def page_language_text(msgid: str) -> rx.Var:
    """``msgid`` in the language of the open page (``<html lang>``, kept in step with the
    member's choice), looked up in the browser: for messages sent when no state can be read."""
    from loyalty_app.i18n.browser import t_in

    return t_in(msgid, "((typeof document !== 'undefined' && document.documentElement.lang) || 'en').slice(0, 2)")


def backend_exception_handler(exception: Exception):
    """What the tab shows when an event fails outside our handlers' own ``try`` (Reflex's state
    manager, e.g. Redis unreachable): a translated "try again" when the database or Redis is
    down, the translated generic message otherwise — never a stack trace, never silence."""
    if is_unavailable(exception):
        log.warning("event failed, database or Redis unavailable: %r", exception)
        msgid = UNAVAILABLE_ERROR
    else:
        log.error("unexpected error while handling an event", exc_info=exception)
        msgid = GENERIC_ERROR
    return rx.toast.error(page_language_text(msgid), id="backend-error", position="top-center", duration=8000)
