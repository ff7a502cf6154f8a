"""Download routes for check-in posters: ``/m/<slug>/admin/posters/<store_id>.png|.pdf``.

The admin is resolved from the session cookie (``api.request_actor``), then ``services.store.posters``
authorizes (admins only) and checks the store belongs to this merchant. Signed out: to sign-in
(and back to the admin page); another role: 403; unknown or another merchant's store: 404.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from starlette.responses import Response
from starlette.routing import Route

from loyalty_app.api.request_actor import PRIVATE, admin_route, to_sign_in
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.store import posters

_FILE_PATTERN = re.compile(r"^([1-9][0-9]{0,11})\.(png|pdf)$")


def _poster(engine: Engine, admin: Actor, match: re.Match[str]) -> Response:
    poster = posters.poster_file(engine, admin, store_id=int(match.group(1)), fmt=match.group(2))
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{poster.filename}"'}
    return Response(poster.data, media_type=poster.content_type, headers=headers)


build_routes = admin_route(
    "/m/{slug}/admin/posters/{file}",
    _FILE_PATTERN,
    _poster,
    refused="Only the program's admins can download posters.",
    signed_out=lambda slug: to_sign_in(slug, "admin"),
)
routes: list[Route] = build_routes()
