"""CSV downloads of the merchant console: ``/m/<slug>/admin-export/<kind>.csv`` (members, ledger,
redemptions, donations). The admin is resolved from the session cookie like every event; the
CSV streams from the database (services.exports)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from loyalty_app.api.poster_routes import PRIVATE, SLUG_PATTERN
from loyalty_app.db import get_engine, read_session
from loyalty_app.domain.errors import NotAllowed, NotFound
from loyalty_app.models import Merchant
from loyalty_app.services import exports, sessions

_FILE = re.compile(r"^([a-z]{1,20})\.csv$")


def build_routes(engine_getter: Callable[[], Engine] = get_engine) -> list[Route]:
    def download(request: Request) -> Response:
        slug = request.path_params["slug"]
        match = _FILE.match(request.path_params["file"])
        if not SLUG_PATTERN.match(slug) or match is None:
            return PlainTextResponse("Not found", status_code=404, headers=PRIVATE)
        engine = engine_getter()
        with read_session(engine) as s:
            merchant_id = s.exec(select(Merchant.id).where(Merchant.slug == slug)).first()
        if merchant_id is None:
            return PlainTextResponse("Not found", status_code=404, headers=PRIVATE)
        actor = sessions.resolve(engine, merchant_id=merchant_id, cookie_header=request.headers.get("cookie", ""), slug=slug)
        if actor is None:
            nxt = quote(f"/m/{slug}/admin-data", safe="")
            return RedirectResponse(f"/m/{slug}/signin?next={nxt}", status_code=303, headers=PRIVATE)
        try:
            export = exports.export_csv(engine, actor, match.group(1))
        except NotAllowed:
            return PlainTextResponse("Only the program's admins can export data.", status_code=403, headers=PRIVATE)
        except NotFound:
            return PlainTextResponse("Not found", status_code=404, headers=PRIVATE)
        headers = {**PRIVATE, "Content-Disposition": f'attachment; filename="{export.filename}"'}
        return StreamingResponse(export.rows, media_type="text/csv; charset=utf-8", headers=headers)

    return [Route("/m/{slug}/admin-export/{file}", download, methods=["GET"])]


routes: list[Route] = build_routes()
