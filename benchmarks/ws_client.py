"""A client that speaks Reflex's websocket protocol (socket.io on /_event), as a browser tab does:
it connects with its own client token and the member's session cookie, sends events with their
router data, and times each event until its state delta arrives.

Used by the cockpit and load benchmarks. Sessions are opened through the services (the same
ticket + activation a browser goes through), so events are authorized exactly as in production.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import socketio
from sqlalchemy.engine import Engine

from loyalty_app.db import write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account
from loyalty_app.services import sessions


NAMESPACE = "/_event"  # Reflex's socket.io namespace (and path)


def open_session_cookie(engine: Engine, account_id: int, slug: str) -> str:
    """A signed-in session for ``account_id``, as the ``Cookie`` header value a browser sends."""
    with write_session(engine) as s:
        account = s.get(Account, account_id)
        _row, ticket = sessions.create_session(s, account=account, ip="127.0.0.1", user_agent="benchmark", now=utcnow())
    activated = sessions.activate(engine, ticket=ticket)
    assert activated is not None, "session activation failed"
    return f"{sessions.cookie_name(slug)}={activated.secret}"


def state_event(state_cls, handler: str) -> str:
    """The wire name of an event handler, e.g. ``reflex___state____state.<...>.load``."""
    return f"{state_cls.get_full_name()}.{handler}"


@dataclass
class ReflexTab:
    """One browser tab: its own client token and socket."""

    base_url: str
    cookie: str = ""
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout: float = 30.0

    def __post_init__(self) -> None:
        self._sio = socketio.AsyncClient(reconnection=False)
        self._updates: asyncio.Queue = asyncio.Queue()
        self._sio.on("event", self._on_update, namespace=NAMESPACE)

    async def _on_update(self, update) -> None:
        await self._updates.put(update)

    async def connect(self) -> None:
        parts = urlsplit(self.base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        headers = {"Origin": origin}
        if self.cookie:
            headers["Cookie"] = self.cookie
        await self._sio.connect(f"{origin}?token={self.token}", socketio_path="/_event", transports=["websocket"],
                                headers=headers, namespaces=[NAMESPACE], wait_timeout=self.timeout)

    async def close(self) -> None:
        await self._sio.disconnect()

    @property
    def connected(self) -> bool:
        return self._sio.connected

    async def send(self, name: str, path: str, query: dict | None = None, payload: dict | None = None) -> tuple[float, dict]:
        """Send one event; return (milliseconds until its first non-empty delta, the delta)."""
        while not self._updates.empty():
            self._updates.get_nowait()
        router_data = {"pathname": path, "asPath": path, "query": query or {}}
        started = time.perf_counter()
        await self._sio.emit("event", {"name": name, "payload": payload or {}, "router_data": router_data}, namespace=NAMESPACE)
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"no delta for {name} within {self.timeout} s")
            update = await asyncio.wait_for(self._updates.get(), remaining)
            delta = (update or {}).get("delta") or {}
            if delta:
                return (time.perf_counter() - started) * 1000, delta
