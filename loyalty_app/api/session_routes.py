"""HTTP endpoints that set and clear the session cookie (mounted into the Reflex backend).

Why HTTP and not a Reflex event: only an HTTP response can set an HttpOnly cookie, and an
HttpOnly cookie is what keeps the session secret out of reach of page scripts. The sign-in
event hands the browser a one-time ticket; ``/api/session/activate`` turns it into the cookie.
Every response here carries ``Cache-Control: no-store`` (they hold or clear credentials).
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
from loyalty_app.models import Merchant
from loyalty_app.pwa.brand import SLUG_PATTERN
from loyalty_app.services.members import sessions
from loyalty_app.settings import get_settings

_SLUG_IN_PATH = re.compile(r"^/m/([A-Za-z0-9][A-Za-z0-9_-]{0,39})/")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache", "Referrer-Policy": "no-referrer"}


def safe_next(slug: str, raw: str | None) -> str:
    """``raw`` when it is a local path inside this merchant's app, else its home (no open redirect).

    Refuses scheme-relative (``//host``) and backslash tricks, control characters and
    ``..`` segments that could climb out of ``/m/<slug>/``.
    """
    prefix = f"/m/{slug}/"
    if (
        raw
        and raw.startswith(prefix)
        and "//" not in raw
        and "\\" not in raw
        and "/../" not in raw + "/"
        and "%2e" not in raw.lower()
        and "%2f" not in raw.lower()
        and "%5c" not in raw.lower()
        and all(0x20 < ord(ch) < 0x7F for ch in raw)
    ):
        return raw
    return f"{prefix}home"


def slug_from(request: Request) -> str | None:
    """The merchant slug from ``?slug=`` or from the ``next`` path, if well-formed."""
    slug = request.query_params.get("slug") or ""
    if SLUG_PATTERN.match(slug):
        return slug
    match = _SLUG_IN_PATH.match(request.query_params.get("next") or "")
    return match.group(1) if match else None


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=NO_STORE)


def build_routes(engine_getter: Callable[[], Engine] = get_engine, *, secure_cookies: bool | None = None) -> list[Route]:
    """The session routes; tests pass their own engine. ``secure_cookies`` None means: Secure
    when ``settings.app_origin`` is https."""

    def _secure() -> bool:
        if secure_cookies is not None:
            return secure_cookies
        return get_settings().app_origin.startswith("https")

    def activate(request: Request) -> Response:
        """Exchange a one-time ticket for the HttpOnly session cookie, then go to ``next``."""
        if request.method != "GET":
            # Starlette also routes HEAD here; a link prober must not burn the one-time ticket.
            return Response(status_code=405, headers={**NO_STORE, "Allow": "GET"})
        result = sessions.activate(engine_getter(), ticket=request.query_params.get("ticket") or "")
        if result is None:
            slug = slug_from(request)
            if slug is None:
                return PlainTextResponse(
                    "This sign-in link has expired. Please sign in again.", status_code=400, headers=NO_STORE
                )
            return _redirect(f"/m/{slug}/signin?expired=1")
        response = _redirect(safe_next(result.merchant_slug, request.query_params.get("next")))
        response.set_cookie(
            sessions.cookie_name(result.merchant_slug),
            result.secret,
            max_age=result.max_age,
            path="/",
            secure=_secure(),
            httponly=True,
            samesite="lax",
        )
        return response

    def signout(request: Request) -> Response:
        """Revoke the session server-side and clear the cookie, then go to the sign-in page."""
        if request.method == "HEAD":
            return Response(status_code=405, headers={**NO_STORE, "Allow": "GET, POST"})
        slug = slug_from(request)
        if slug is None:
            return PlainTextResponse("Unknown program.", status_code=400, headers=NO_STORE)
        engine = engine_getter()
        with read_session(engine) as s:
            merchant_id = s.exec(select(Merchant.id).where(Merchant.slug == slug)).first()
        if merchant_id is not None:
            sessions.revoke(engine, merchant_id=merchant_id, cookie_header=request.headers.get("cookie", ""), slug=slug)
        target = f"/m/{slug}/signin"
        raw_next = request.query_params.get("next")
        if raw_next:
            nxt = safe_next(slug, raw_next)
            target += f"?next={quote(nxt, safe='')}"
        response = _redirect(target)
        response.delete_cookie(sessions.cookie_name(slug), path="/", secure=_secure(), httponly=True, samesite="lax")
        return response

    return [
        Route("/api/session/activate", activate, methods=["GET"]),
        Route("/api/session/signout", signout, methods=["GET", "POST"]),
    ]


routes: list[Route] = build_routes()
