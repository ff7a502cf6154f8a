"""Download routes for check-in posters: ``/m/<slug>/admin/posters/<store_id>.png|.pdf``.

HTTP, not a Reflex event, because a download is a plain GET the browser saves as a file. The
admin is resolved from the ``ls_<slug>`` session cookie exactly like every Reflex event
(``services.sessions.resolve``), then ``services.posters`` authorizes (admins only) and checks
the store belongs to this merchant. Signed out: to sign-in (and back to the admin page);
another role: 403; unknown or another merchant's store: 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from loyalty_app.db import get_engine, read_session
from loyalty_app.domain.errors import NotAllowed, NotFound
from loyalty_app.models import Merchant
from loyalty_app.services import posters, sessions

SLUG_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
_FILE_PATTERN = re.compile(r"^([1-9][0-9]{0,11})\.(png|pdf)$")
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _text(message: str, status: int) -> Response:
    return PlainTextResponse(message, status_code=status, headers=PRIVATE)


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    """The poster routes; tests pass their own engine."""

    def download(request: Request) -> Response:
        slug = request.path_params["slug"]
        match = _FILE_PATTERN.match(request.path_params["file"])
        if not SLUG_PATTERN.match(slug) or match is None:
            return _text("Not found", 404)
        store_id, fmt = int(match.group(1)), match.group(2)
        engine = engine_getter()
        with read_session(engine) as s:
            merchant_id = s.exec(select(Merchant.id).where(Merchant.slug == slug)).first()
        if merchant_id is None:
            return _text("Not found", 404)
        actor = sessions.resolve(engine, merchant_id=merchant_id, cookie_header=request.headers.get("cookie", ""), slug=slug)
        if actor is None:
            nxt = quote(f"/m/{slug}/admin", safe="")
            return RedirectResponse(f"/m/{slug}/signin?next={nxt}", status_code=303, headers=PRIVATE)
        try:
            poster = posters.poster_file(engine, actor, store_id=store_id, fmt=fmt)
        except NotAllowed:
            return _text("Only the program's admins can download posters.", 403)
        except NotFound:
            return _text("Not found", 404)
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{poster.filename}"'}
        return Response(poster.data, media_type=poster.content_type, headers=headers)

    return [Route("/m/{slug}/admin/posters/{file}", download, methods=["GET"])]


routes: list[Route] = build_routes()
