"""The websocket handshake accepts only the app's own origin (cors_allowed_origins), and
session endpoints are never cached."""

from __future__ import annotations

import socket
from urllib.parse import urlparse


def _handshake_status(base_url: str, origin: str) -> int:
    parsed = urlparse(base_url)
    request = (
        "GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {parsed.netloc}\r\n"
        f"Origin: {origin}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection((parsed.hostname, parsed.port), timeout=10) as sock:
        sock.sendall(request.encode())
        status_line = sock.recv(256).split(b"\r\n", 1)[0].decode()
    return int(status_line.split()[1])


def test_websocket_refuses_foreign_origin(live_app):
    assert _handshake_status(live_app.base_url, "http://evil.example") == 403


def test_websocket_accepts_own_origin(live_app):
    origin = live_app.base_url.rstrip("/")
    assert _handshake_status(live_app.base_url, origin) == 101


def test_session_activation_with_bad_ticket_sets_no_cookie(page):
    response = page.request.get("/api/session/activate?ticket=forged&next=/m/cafe/home", max_redirects=0)
    assert response.status in (303, 302, 400, 403)
    assert "ls_cafe" not in response.headers.get("set-cookie", "")
    assert "no-store" in response.headers.get("cache-control", "")
