"""Who is asking, for the app's plain HTTP routes (downloads, pictures): the one place that turns
``/m/<slug>/...`` plus the ``ls_<slug>`` session cookie into an actor.

Why HTTP routes at all: a file download or an ``<img src>`` is a plain browser GET, not a Reflex
event. The cookie is the same HttpOnly one the websocket uses and is resolved with
``services.members.sessions.resolve`` for this merchant, so revocation and timeouts apply at once; the
services then call ``permissions.authorize`` as for every event. Answers are private and never
stored by shared caches or the service worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from loyalty_app.db import get_engine, read_session
from loyalty_app.domain.errors import NotAllowed, NotFound
from loyalty_app.models import Merchant
from loyalty_app.pwa.brand import SLUG_PATTERN
from loyalty_app.services.members import sessions
from loyalty_app.services.platform.permissions import Actor

PRIVATE = {
    "Cache-Control": "private, no-store",
    "Pragma": "no-cache",
    "Vary": "Cookie",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class RequestActor:
    """The route's merchant and, when the cookie holds a live session there, the actor."""

    slug: str
    merchant_id: int
    actor: Actor | None


def request_actor(engine: Engine, request: Request) -> RequestActor | None:
    """None for a malformed or unknown merchant slug (answer 404)."""
    slug = request.path_params.get("slug", "")
    if not SLUG_PATTERN.match(slug):
        return None
    with read_session(engine) as s:
        merchant_id = s.exec(select(Merchant.id).where(Merchant.slug == slug)).first()
    if merchant_id is None:
        return None
    actor = sessions.resolve(engine, merchant_id=merchant_id, cookie_header=request.headers.get("cookie", ""), slug=slug)
    return RequestActor(slug=slug, merchant_id=merchant_id, actor=actor)


def text(message: str, status: int) -> Response:
    return PlainTextResponse(message, status_code=status, headers=PRIVATE)


def not_found() -> Response:
    return text("Not found", 404)


def to_sign_in(slug: str, back_to: str) -> Response:
    """Signed out: to this merchant's sign-in, then back to the page the download belongs to."""
    nxt = quote(f"/m/{slug}/{back_to}", safe="")
    return RedirectResponse(f"/m/{slug}/signin?next={nxt}", status_code=303, headers=PRIVATE)


def admin_route(
    path: str,
    pattern: re.Pattern[str],
    answer: Callable[[Engine, Actor, re.Match[str]], Response],
    *,
    refused: str,
    signed_out: Callable[[str], Response],
) -> Callable[..., list[Route]]:
    """``build_routes`` (tests pass their own engine) of an admin-only GET route whose last path
    parameter must match ``pattern``. What it checks, in order: a malformed path or an unknown
    merchant is 404; signed out, ``signed_out(slug)``; then ``answer``, whose service refuses
    another role (403 with ``refused``) and what is not this merchant's (404)."""
    param = path.rsplit("{", 1)[1].rstrip("}")

    def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
        def endpoint(request: Request) -> Response:
            match = pattern.match(request.path_params[param])
            engine = engine_getter()
            found = request_actor(engine, request) if match is not None else None
            if match is None or found is None:
                return not_found()
            if found.actor is None:
                return signed_out(found.slug)
            try:
                return answer(engine, found.actor, match)
            except NotAllowed:
                return text(refused, 403)
            except NotFound:
                return not_found()

        return [Route(path, endpoint, methods=["GET"])]

    return build_routes
