"""A client that speaks Reflex's websocket protocol (socket.io on /_event), as a browser tab does:
it connects with its own client token and the member's session cookie, sends events with their
router data, and times each event until its state delta arrives.

Used by the cockpit and load benchmarks and the fault tests. Sessions are opened through the
services (the same ticket + activation a browser goes through), so events are authorized exactly
as in production. Like Reflex's own frontend, a tab whose socket dropped can ``reconnect()`` with
the same token; when the backend answers ``new_token`` (it still sees the old socket, e.g. of a
killed worker) the tab adopts the new token, and the caller replays the page's load events as a
browser's reconnect does (its boot event carries the hydrate and on_load events).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import socketio
from sqlalchemy.engine import Engine

from loyalty_app.db import write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import Account
from loyalty_app.services.members import sessions

NAMESPACE = "/_event"  # Reflex's socket.io namespace (and path)
_DISCONNECTED = object()  # put on the update queue when the socket drops


class TabDisconnected(ConnectionError):
    """The socket dropped while an event was in flight (its answer may be lost)."""


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


def has_state(state_cls) -> Callable[[dict], bool]:
    """A delta filter: the answer to an event of ``state_cls`` carries that state's key (a live
    push to the same tab carries other states too, but never alone this one)."""
    name = state_cls.get_full_name()
    return lambda delta: name in delta


@dataclass
class ReflexTab:
    """One browser tab: its own client token and socket."""

    base_url: str
    cookie: str = ""
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout: float = 30.0
    disconnects: int = 0  # times the socket dropped without us closing it
    new_tokens: int = 0  # times the backend gave this tab a new token on (re)connect
    pushes: int = 0  # deltas that arrived while waiting for another answer (live updates)
    client_events: list = field(default_factory=list)  # events the server asked the tab to run (toasts, redirects)

    def __post_init__(self) -> None:
        self._updates: asyncio.Queue = asyncio.Queue()
        self._closing = False
        self._sio = self._new_client()

    def _new_client(self) -> socketio.AsyncClient:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on("event", self._on_update, namespace=NAMESPACE)
        sio.on("new_token", self._on_new_token, namespace=NAMESPACE)
        sio.on("disconnect", self._on_disconnect, namespace=NAMESPACE)
        return sio

    async def _on_update(self, update) -> None:
        await self._updates.put(update)

    async def _on_new_token(self, token) -> None:
        self.token = str(token)
        self.new_tokens += 1

    async def _on_disconnect(self, *_args) -> None:
        if not self._closing:
            self.disconnects += 1
            await self._updates.put(_DISCONNECTED)

    async def connect(self) -> None:
        parts = urlsplit(self.base_url)
        origin = f"{parts.scheme}://{parts.netloc}"
        headers = {"Origin": origin}
        if self.cookie:
            headers["Cookie"] = self.cookie
        await self._sio.connect(
            f"{origin}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            headers=headers,
            namespaces=[NAMESPACE],
            wait_timeout=self.timeout,
        )

    async def reconnect(self, *, within: float = 30.0, pause: float = 0.2) -> float:
        """Open a new socket with this tab's token, retrying until ``within`` seconds passed.
        Returns the seconds it took. Raises the last connection error when it never worked."""
        started = time.perf_counter()
        last: Exception | None = None
        while time.perf_counter() - started < within:
            await self._drop_socket()
            self._sio = self._new_client()
            try:
                await self.connect()
                await asyncio.sleep(0.05)  # a new_token, if any, follows the connect at once
                return time.perf_counter() - started
            except (TimeoutError, socketio.exceptions.ConnectionError, OSError) as exc:
                last = exc
                await asyncio.sleep(pause)
        raise TabDisconnected(f"could not reconnect within {within} s: {last}")

    async def _drop_socket(self) -> None:
        self._closing = True
        try:
            if self._sio.connected:
                await self._sio.disconnect()
            # Close the HTTP session of a socket that died under us (no unclosed-session warnings).
            http = getattr(self._sio.eio, "http", None)
            if http is not None and not http.closed:
                await http.close()
        except Exception:  # noqa: BLE001 - a dead socket may fail to close; it is gone either way
            pass
        finally:
            self._closing = False
        while not self._updates.empty():
            self._updates.get_nowait()

    async def close(self) -> None:
        await self._drop_socket()

    @property
    def connected(self) -> bool:
        return self._sio.connected

    async def send(
        self,
        name: str,
        path: str,
        query: dict | None = None,
        payload: dict | None = None,
        expect: Callable[[dict], bool] | None = None,
    ) -> tuple[float, dict]:
        """Send one event; return (milliseconds until its answer, the answer's delta).

        The answer is the first non-empty delta (that ``expect`` accepts, when given; other
        deltas are counted as live pushes). Raises TabDisconnected when the socket drops first,
        TimeoutError when no answer comes within ``timeout``."""
        while not self._updates.empty():
            if self._updates.get_nowait() is _DISCONNECTED:
                raise TabDisconnected("the socket dropped before the event was sent")
        if not self._sio.connected:
            raise TabDisconnected("the socket is not connected")
        router_data = {"pathname": path, "asPath": path, "query": query or {}}
        started = time.perf_counter()
        await self._sio.emit("event", {"name": name, "payload": payload or {}, "router_data": router_data}, namespace=NAMESPACE)
        deadline = started + self.timeout
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError(f"no delta for {name} within {self.timeout} s")
            try:
                update = await asyncio.wait_for(self._updates.get(), remaining)
            except TimeoutError:
                raise TimeoutError(f"no delta for {name} within {self.timeout} s") from None
            if update is _DISCONNECTED:
                raise TabDisconnected(f"the socket dropped while waiting for {name}")
            delta = (update or {}).get("delta") or {}
            self.client_events.extend((update or {}).get("events") or [])
            if delta and (expect is None or expect(delta)):
                return (time.perf_counter() - started) * 1000, delta
            if delta:
                self.pushes += 1
