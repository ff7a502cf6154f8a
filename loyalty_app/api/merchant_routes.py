"""Per-merchant HTTP routes that are not part of the PWA shell: the brand stylesheet and
public images (logos, reward pictures). Served by the backend because files written into
assets/ at run time are not served in production."""

from __future__ import annotations

import hashlib

from sqlmodel import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loyalty_app.db import read_session
from loyalty_app.domain.theme import Theme
from loyalty_app.models import MediaBlob, Merchant

PUBLIC_MEDIA_KINDS = {"logo", "reward"}
THEME_CSS_CACHE_CONTROL = "no-cache"


def _not_modified(request: Request, etag: str) -> bool:
    return request.headers.get("if-none-match") == etag


def theme_css_text(theme: Theme) -> str:
    body = ";".join(f"{k}:{v}" for k, v in theme.css_vars().items())
    return f":root{{{body}}}\n"


async def theme_css(request: Request) -> Response:
    slug = request.path_params["slug"]
    with read_session() as s:
        merchant = s.exec(select(Merchant).where(Merchant.slug == slug)).first()
        if merchant is None:
            return Response("unknown merchant", status_code=404, media_type="text/plain")
        css = theme_css_text(Theme.from_dict(merchant.theme))
    etag = '"' + hashlib.sha256(css.encode()).hexdigest()[:16] + '"'
    # no-cache = "revalidate every time": a theme publish shows on the member's next page load
    # (a 304 costs one small DB read), instead of up to a minute later.
    headers = {"ETag": etag, "Cache-Control": THEME_CSS_CACHE_CONTROL}
    if _not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(css, media_type="text/css", headers=headers)


async def media(request: Request) -> Response:
    slug = request.path_params["slug"]
    try:
        blob_id = int(request.path_params["blob_id"])
    except ValueError:
        return Response("not found", status_code=404, media_type="text/plain")
    with read_session() as s:
        merchant = s.exec(select(Merchant).where(Merchant.slug == slug)).first()
        blob = s.get(MediaBlob, blob_id)
        if merchant is None or blob is None or blob.merchant_id != merchant.id or blob.kind not in PUBLIC_MEDIA_KINDS:
            return Response("not found", status_code=404, media_type="text/plain")
        etag = f'"{blob.sha256[:16]}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=604800, immutable"}
        if _not_modified(request, etag):
            return Response(status_code=304, headers=headers)
        return Response(blob.data, media_type=blob.content_type, headers=headers)


routes = [
    Route("/m/{slug}/theme.css", theme_css),
    Route("/m/{slug}/media/{blob_id}", media),
]
