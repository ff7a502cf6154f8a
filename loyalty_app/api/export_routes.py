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

from loyalty_app.api.request_actor import PRIVATE, admin_only, to_sign_in
from loyalty_app.db import get_engine
from loyalty_app.services.crm import exports
from loyalty_app.services.platform.permissions import Actor

_FILE = re.compile(r"^([a-z]{1,20})\.csv$")


def _csv(engine: Engine, admin: Actor, match: re.Match[str]) -> Response:
    export = exports.export_csv(engine, admin, match.group(1))
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{export.filename}"'}
    return StreamingResponse(export.rows, media_type="text/csv; charset=utf-8", headers=headers)


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    def download(request: Request) -> Response:
        return admin_only(
            engine_getter(),
            request,
            _FILE.match(request.path_params["file"]),
            _csv,
            refused="Only the program's admins can export data.",
            signed_out=lambda slug: to_sign_in(slug, "admin-data"),
        )

    return [Route("/m/{slug}/admin-export/{file}", download, methods=["GET"])]


routes: list[Route] = build_routes()
