"""The signed-in member's own files over HTTP: their avatar, their cockpit background and the
"Download my data" JSON.

Why HTTP routes: an ``<img src>`` and a file download are plain browser requests, not Reflex
events. The session is the same HttpOnly cookie ``ls_<slug>`` the websocket uses, resolved with
``services.members.sessions.resolve`` for this merchant (revocation and timeouts apply at once), and the
services call ``permissions.authorize``. Answers are ``Cache-Control: private, no-store``: the
files are personal, a shared device or proxy must not keep them, and the service worker leaves
``no-store`` answers alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from loyalty_app.api.request_actor import PRIVATE, request_actor, to_sign_in
from loyalty_app.db import get_engine
from loyalty_app.domain.errors import LoyaltyError
from loyalty_app.services.members import member_export, member_media


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404, headers=PRIVATE)


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    """The member file routes; tests pass their own engine."""

    def image(request: Request) -> Response:
        kind = request.path_params["kind"]
        if kind not in member_media.KINDS:
            return _not_found()
        found = request_actor(engine_getter(), request)
        if found is None or found.actor is None:
            return _not_found()
        try:
            picture = member_media.member_image(engine_getter(), found.actor, kind=kind)
        except LoyaltyError:  # not a member (refusal logged by authorize)
            return _not_found()
        if picture is None:
            return _not_found()
        return Response(picture.data, media_type=picture.content_type, headers=PRIVATE)

    def export(request: Request) -> Response:
        found = request_actor(engine_getter(), request)
        if found is None:
            return _not_found()
        slug, actor = found.slug, found.actor
        if actor is None:
            return to_sign_in(slug, "profile")
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
