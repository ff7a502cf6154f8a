"""The signed-in member's own files over HTTP: their avatar, their cockpit background and the
"Download my data" JSON.

Why HTTP routes: an ``<img src>`` and a file download are plain browser requests, not Reflex
events. The session is the same HttpOnly cookie ``ls_<slug>`` the websocket uses, resolved with
``services.sessions.resolve`` for this merchant (revocation and timeouts apply at once), and the
services call ``permissions.authorize``. Answers are ``Cache-Control: private, no-store``: the
files are personal, a shared device or proxy must not keep them, and the service worker leaves
``no-store`` answers alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from loyalty_app.api.session_routes import SLUG_PATTERN
from loyalty_app.db import get_engine, read_session
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.models import Merchant
from loyalty_app.services import member_export, member_media, sessions
from loyalty_app.services.permissions import Actor

PRIVATE = {
    "Cache-Control": "private, no-store",
    "Pragma": "no-cache",
    "Vary": "Cookie",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404, headers=PRIVATE)


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    """The member file routes; tests pass their own engine."""

    def _actor(request: Request) -> tuple[str, Actor | None] | None:
        """(slug, actor) for this request's merchant and cookie; None for an unknown merchant."""
        slug = request.path_params.get("slug", "")
        if not SLUG_PATTERN.match(slug):
            return None
        engine = engine_getter()
        with read_session(engine) as s:
            merchant_id = s.exec(select(Merchant.id).where(Merchant.slug == slug)).first()
        if merchant_id is None:
            return None
        actor = sessions.resolve(
            engine, merchant_id=merchant_id, cookie_header=request.headers.get("cookie", ""), slug=slug
        )
        return slug, actor

    def image(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in member_media.KINDS:
            return _not_found()
        found = _actor(request)
        if found is None or found[1] is None:
            return _not_found()
        try:
            picture = member_media.member_image(engine_getter(), found[1], kind=kind)
        except LoyaltyError:  # not a member (refusal logged by authorize)
            return _not_found()
        if picture is None:
            return _not_found()
        return Response(picture.data, media_type=picture.content_type, headers=PRIVATE)

    def export(request: Request) -> Response:
        found = _actor(request)
        if found is None:
            return _not_found()
        slug, actor = found
        if actor is None:
            target = f"/m/{slug}/signin?next={quote(f'/m/{slug}/profile', safe='')}"
            return RedirectResponse(target, status_code=303, headers=PRIVATE)
        try:
            data = member_export.export_member_data(engine_getter(), actor)
        except LoyaltyError:
            return PlainTextResponse("not allowed", status_code=403, headers=PRIVATE)
        body = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        filename = member_export.export_filename(slug)
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'}
        return Response(body, media_type="application/json; charset=utf-8", headers=headers)

    return [
        Route("/m/{slug}/me/export.json", export, methods=["GET"]),
        Route("/m/{slug}/me/{kind}", image, methods=["GET"]),
    ]


routes: list[Route] = build_routes()
