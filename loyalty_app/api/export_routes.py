"""CSV downloads of the merchant console: ``/m/<slug>/admin-export/<kind>.csv`` (members, ledger,
redemptions, donations). The admin is resolved from the session cookie (``api.request_actor``);
the CSV streams from the database (services.crm.exports)."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from loyalty_app.api.request_actor import PRIVATE, not_found, request_actor, text, to_sign_in
from loyalty_app.db import get_engine
from loyalty_app.domain.errors import NotAllowed, NotFound
from loyalty_app.services.crm import exports

_FILE = re.compile(r"^([a-z]{1,20})\.csv$")


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    def download(request: Request) -> Response:
        match = _FILE.match(request.path_params["file"])
        engine = engine_getter()
        found = request_actor(engine, request) if match else None
        if match is None or found is None:
            return not_found()
        if found.actor is None:
            return to_sign_in(found.slug, "admin-data")
        try:
            export = exports.export_csv(engine, found.actor, match.group(1))
        except NotAllowed:
            return text("Only the program's admins can export data.", 403)
        except NotFound:
            return not_found()
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{export.filename}"'}
        return StreamingResponse(export.rows, media_type="text/csv; charset=utf-8", headers=headers)

    return [Route("/m/{slug}/admin-export/{file}", download, methods=["GET"])]


routes: list[Route] = build_routes()
