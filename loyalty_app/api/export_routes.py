"""CSV downloads of the merchant console: ``/m/<slug>/admin-export/<kind>.csv`` (members, ledger,
redemptions, donations). The admin is resolved from the session cookie (``api.request_actor``);
the CSV streams from the database (services.crm.exports)."""

from __future__ import annotations

import re

from sqlalchemy.engine import Engine
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from loyalty_app.api.request_actor import PRIVATE, admin_route, to_sign_in
from loyalty_app.services.crm import exports
from loyalty_app.services.platform.permissions import Actor

_FILE = re.compile(r"^([a-z]{1,20})\.csv$")


def _csv(engine: Engine, admin: Actor, match: re.Match[str]) -> Response:
    export = exports.export_csv(engine, admin, match.group(1))
    headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{export.filename}"'}
    return StreamingResponse(export.rows, media_type="text/csv; charset=utf-8", headers=headers)


build_routes = admin_route(
    "/m/{slug}/admin-export/{file}",
    _FILE,
    _csv,
    refused="Only the program's admins can export data.",
    signed_out=lambda slug: to_sign_in(slug, "admin-data"),
)
routes: list[Route] = build_routes()
