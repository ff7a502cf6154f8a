"""HTTP routes of the PWA shell, served by the Reflex backend (Starlette).

Why backend routes and not files in assets/: everything here is per merchant and changes when
a theme is published, and files written into assets/ at run time are not served in production.
The endpoints are plain functions, so Starlette runs their (blocking) DB reads in its thread
pool instead of on the event loop that also carries every member's websocket.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy.engine import Engine
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loyalty_app.pwa.brand import PwaBrand, load_brand, load_logo_bytes
from loyalty_app.pwa.documents import manifest_json, offline_html, service_worker_js
from loyalty_app.pwa.icons import ICON_SPECS, RENDERER_VERSION, icon_png

ICON_CACHE_CONTROL = "public, max-age=86400"
MANIFEST_CACHE_CONTROL = "public, max-age=300"  # short, so a theme publish shows quickly
OFFLINE_CACHE_CONTROL = "public, max-age=300"
SERVICE_WORKER_CACHE_CONTROL = "no-cache"
DEFAULT_ICON_CACHE_SIZE = 256  # 5 icons per merchant: about 50 merchants' worth in memory


class LruCache:
    """A small thread-safe LRU map (icons are rendered in Starlette's thread pool)."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[object, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_create(self, key: object, create: Callable[[], bytes]) -> bytes:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = create()  # outside the lock: rendering a 512 px icon takes a while
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


def _etag(*parts: object) -> str:
    return '"' + hashlib.sha256(repr(parts).encode()).hexdigest()[:20] + '"'


def _matches(request: Request, etag: str) -> bool:
    """True when the client's If-None-Match names ``etag`` (weak or strong) or is ``*``."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def _cached_response(request: Request, body: bytes, media_type: str, cache_control: str, etag: str) -> Response:
    headers = {"ETag": etag, "Cache-Control": cache_control, "X-Content-Type-Options": "nosniff"}
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _not_found() -> Response:
    return Response("Not found", status_code=404, media_type="text/plain", headers={"Cache-Control": "no-store"})


class PwaEndpoints:
    """The endpoints, bound to one engine and one icon cache."""

    def __init__(self, engine: Engine | None = None, icon_cache_size: int = DEFAULT_ICON_CACHE_SIZE) -> None:
        self.engine = engine  # None: the app's engine (loyalty_app.db.get_engine) at request time
        self.icons = LruCache(icon_cache_size)

    def _brand(self, request: Request) -> PwaBrand | None:
        return load_brand(request.path_params["slug"], self.engine)

    def manifest(self, request: Request) -> Response:
        brand = self._brand(request)
        if brand is None:
            return _not_found()
        body = manifest_json(brand)
        return _cached_response(request, body, "application/manifest+json", MANIFEST_CACHE_CONTROL, _etag(body))

    def service_worker(self, request: Request) -> Response:
        brand = self._brand(request)
        if brand is None:
            return _not_found()
        body = service_worker_js(brand)
        return _cached_response(request, body, "application/javascript", SERVICE_WORKER_CACHE_CONTROL, _etag(body))

    def offline_page(self, request: Request) -> Response:
        brand = self._brand(request)
        if brand is None:
            return _not_found()
        body = offline_html(brand)
        return _cached_response(request, body, "text/html; charset=utf-8", OFFLINE_CACHE_CONTROL, _etag(body))

    def icon(self, request: Request) -> Response:
        spec = ICON_SPECS.get(request.path_params["name"])
        if spec is None:
            return _not_found()
        brand = self._brand(request)
        if brand is None:
            return _not_found()
        # The ETag is known before rendering, so a revalidation costs one DB read, no drawing.
        etag = _etag(brand.cache_key, spec.name, RENDERER_VERSION)
        if _matches(request, etag):
            return _cached_response(request, b"", "image/png", ICON_CACHE_CONTROL, etag)
        body = self.icons.get_or_create(
            (brand.cache_key, spec.name),
            lambda: icon_png(spec, brand, load_logo_bytes(brand, self.engine)),
        )
        return _cached_response(request, body, "image/png", ICON_CACHE_CONTROL, etag)

    def routes(self) -> list[Route]:
        return [
            Route("/m/{slug}/manifest.webmanifest", self.manifest, methods=["GET"]),
            Route("/m/{slug}/sw.js", self.service_worker, methods=["GET"]),
            Route("/m/{slug}/offline.html", self.offline_page, methods=["GET"]),
            Route("/m/{slug}/icons/{name}.png", self.icon, methods=["GET"]),
        ]


def routes(engine: Engine | None = None) -> list[Route]:
    """Starlette routes for every merchant's manifest, icons, service worker and offline page.

    Pass ``engine`` in tests; the app passes nothing and the routes use the app's engine.
    """
    return PwaEndpoints(engine).routes()
