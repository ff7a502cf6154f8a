"""Admin-only pictures for the merchant console: ``/m/<slug>/admin-media/submission/<id>``, a
member's photo-contest entry waiting for review.

Contest photos are private (never served by the public ``/m/<slug>/media/`` route). The admin
is resolved from the ``ls_<slug>`` session cookie exactly like every Reflex event
(``services.sessions.resolve``), then ``services.program_console.submission_photo`` authorizes
(``ADMIN_MODERATE``) and checks the submission belongs to this merchant. Signed out: 401;
another role: 403; unknown or another merchant's submission: 404. Never cached by shared caches.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from loyalty_app.db import get_engine, read_session
from loyalty_app.domain.errors import NotAllowed, NotFound
from loyalty_app.models import Merchant
from loyalty_app.services import program_console, sessions

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
ID_PATTERN = re.compile(r"^[1-9][0-9]{0,11}$")
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _text(message: str, status: int) -> Response:
    return PlainTextResponse(message, status_code=status, headers=PRIVATE)


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    """The admin media routes; tests pass their own engine."""

    def submission_photo(request: Request) -> Response:
        slug, raw_id = request.path_params["slug"], request.path_params["submission_id"]
        if not SLUG_PATTERN.match(slug) or not ID_PATTERN.match(raw_id):
            return _text("Not found", 404)
        engine = engine_getter()
        with read_session(engine) as s:
            merchant_id = s.exec(select(Merchant.id).where(Merchant.slug == slug)).first()
        if merchant_id is None:
            return _text("Not found", 404)
        actor = sessions.resolve(engine, merchant_id=merchant_id, cookie_header=request.headers.get("cookie", ""), slug=slug)
        if actor is None:
            return _text("Sign in first.", 401)
        try:
            content_type, data = program_console.submission_photo(engine, actor, int(raw_id))
        except NotAllowed:
            return _text("Only the program's admins can see submissions.", 403)
        except NotFound:
            return _text("Not found", 404)
        return Response(data, media_type=content_type, headers=PRIVATE)

    return [Route("/m/{slug}/admin-media/submission/{submission_id}", submission_photo, methods=["GET"])]


routes: list[Route] = build_routes()
