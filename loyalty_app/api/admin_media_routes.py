"""Admin-only pictures for the merchant console: ``/m/<slug>/admin-media/submission/<id>``, a
member's photo-contest entry waiting for review.

Contest photos are private (never served by the public ``/m/<slug>/media/`` route). The admin is
resolved from the session cookie (``api.request_actor``), then
``services.program.program_console.submission_photo`` authorizes (``ADMIN_MODERATE``) and checks the
submission belongs to this merchant. Signed out: 401; another role: 403; unknown or another
merchant's submission: 404.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from starlette.responses import Response
from starlette.routing import Route

from loyalty_app.api.request_actor import PRIVATE, admin_route, text
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_console

ID_PATTERN = re.compile(r"^[1-9][0-9]{0,11}$")


def _photo(engine: Engine, admin: Actor, match: re.Match[str]) -> Response:
    content_type, data = program_console.submission_photo(engine, admin, int(match.group(0)))
    return Response(data, media_type=content_type, headers=PRIVATE)


build_routes = admin_route(
    "/m/{slug}/admin-media/submission/{submission_id}",
    ID_PATTERN,
    _photo,
    refused="Only the program's admins can see submissions.",
    signed_out=lambda _slug: text("Sign in first.", 401),
)
routes: list[Route] = build_routes()
