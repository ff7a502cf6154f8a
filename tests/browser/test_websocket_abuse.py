"""The event websocket under abuse: lookalike origins, oversized and malformed messages.

Reflex 0.10.1 builds its socket.io server with ``max_http_buffer_size`` from
``REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE`` (default 1,000,000 bytes). python-engineio closes a
websocket whose message is larger, and advertises the limit as ``maxPayload`` in its open packet.
Events that do not parse, do not have the shape of an event or name no registered handler are
dropped by Reflex (logged) without touching state. These tests speak the raw Engine.IO/Socket.IO
frames (``0`` open, ``40/_event,`` connect, ``42/_event,["event", {...}]`` an event) so they can
send what no socket.io client would, then check that nothing changed in the database and that
the same socket, another one and a new one still get answers.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import aiohttp
import pytest
from sqlalchemy import func, inspect
from sqlmodel import SQLModel, select

import loyalty_app.loyalty_app  # noqa: F401  (registers every state, so their wire names resolve)
from loyalty_app.db import make_engine, read_session
from loyalty_app.models import LedgerEntry, MemberBalance, Merchant, Store
from loyalty_app.pages.donate import DonateState
from loyalty_app.pages.profile import ProfileState
from loyalty_app.pages.staff import TillState
from loyalty_app.services.members import accounts
from loyalty_app.state.ping import PingState
from loyalty_app.state.session import SessionState
from tests.browser.test_transport_security import _handshake_status

NAMESPACE = "/_event"
# Reflex's default, kept on purpose: far above our largest event (a form of short fields),
# small enough that one socket cannot make the worker parse megabytes of JSON.
MESSAGE_LIMIT = 1_000_000
PASSWORD = "abuse-password-1"
# Rows that legitimately change while these tests run (connections, logins, audit of refusals,
# the periodic jobs' lease): everything else must be untouched by refused messages.
NOISY_TABLES = {"securityevent", "liveclient", "authsession", "loginattempt", "appmeta"}


def run_async(coro):
    """Run ``coro`` to the end on a fresh event loop in its own thread: Playwright's sync API (used
    by the other browser tests of this session) keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _state_name(cls) -> str:
    return cls.get_full_name()


def _ping_name() -> str:
    return f"{_state_name(PingState)}.ping"


class RawSocket:
    """One tab's websocket, frame by frame (answers the server's pings itself)."""

    def __init__(self, base_url: str, cookie: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.cookie = cookie
        self.token = str(uuid.uuid4())
        self.open_packet: dict = {}

    async def __aenter__(self) -> RawSocket:
        parts = urlsplit(self.base_url)
        headers = {"Origin": f"{parts.scheme}://{parts.netloc}"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self._http = aiohttp.ClientSession()
        self.ws = await self._http.ws_connect(
            f"ws://{parts.netloc}{NAMESPACE}/?EIO=4&transport=websocket&token={self.token}",
            headers=headers,
            max_msg_size=0,
            timeout=aiohttp.ClientWSTimeout(ws_close=5),
        )
        opening = await self.ws.receive_str(timeout=10)
        assert opening.startswith("0"), opening
        self.open_packet = json.loads(opening[1:])
        await self.ws.send_str(f"40{NAMESPACE},")
        while not (await self.next_text(10)).startswith(f"40{NAMESPACE}"):
            pass
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()
        await self._http.close()

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def next_text(self, timeout: float) -> str:
        """The next text frame; '' once the server has closed the socket."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type != aiohttp.WSMsgType.TEXT:
                return ""
            if message.data == "2":  # Engine.IO ping
                await self.ws.send_str("3")
                continue
            return message.data

    async def send_event(self, name: str, payload=None, path: str = "/m/cafe/home") -> None:
        event = {
            "name": name,
            "payload": {} if payload is None else payload,
            "router_data": {"pathname": path, "asPath": path, "query": {"slug": "cafe"}},
        }
        await self.ws.send_str(f"42{NAMESPACE}," + json.dumps(["event", event]))

    async def frames_for(self, seconds: float) -> list[str]:
        """Every text frame that arrives within ``seconds`` (stops early when closed)."""
        frames: list[str] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                frame = await self.next_text(left)
            except TimeoutError:
                break
            if not frame:
                break
            frames.append(frame)
        return frames

    async def pings(self, payload=None, path: str = "/m/cafe/home") -> int:
        """Send the cheapest real event and return the counter its delta carries."""
        await self.send_event(_ping_name(), payload, path)
        while True:
            frame = await self.next_text(15)
            assert frame, "the server closed a socket that should still be served"
            if '"pings_rx_state_"' in frame:
                body = json.loads(frame[len(f"42{NAMESPACE},") :])[1]
                return next(v["pings_rx_state_"] for v in body["delta"].values() if "pings_rx_state_" in v)


@pytest.fixture(scope="module")
def server_db(live_app):
    if not live_app.database_url:
        pytest.skip("needs the server's database (BROWSER_TEST_DATABASE_URL when reusing a server)")
    engine = make_engine(live_app.database_url)
    yield engine
    engine.dispose()


def _snapshot(engine) -> dict:
    """Row counts of every table that refused messages must not touch, and the point totals."""
    counts = {}
    existing = set(inspect(engine).get_table_names())  # models may be ahead of the migrations
    with read_session(engine) as s:
        for name, table in SQLModel.metadata.tables.items():
            if name in existing and name not in NOISY_TABLES:
                counts[name] = s.exec(select(func.count()).select_from(table)).one()
        counts["ledger points"] = s.exec(select(func.coalesce(func.sum(LedgerEntry.points), 0))).one()
        counts["available points"] = s.exec(select(func.coalesce(func.sum(MemberBalance.available), 0))).one()
    return counts


@pytest.fixture(scope="module")
def people(live_app, server_db):
    """A member and a staff member of the demo café of our own (unique emails), with cookies."""
    from benchmarks.ws_client import open_session_cookie

    tag = uuid.uuid4().hex[:10]
    with read_session(server_db) as s:
        cafe = s.exec(select(Merchant).where(Merchant.slug == "cafe")).one()
        store = s.exec(select(Store).where(Store.merchant_id == cafe.id).order_by(Store.id)).first()
    member = accounts.sign_up_member(
        server_db, merchant_id=cafe.id, email=f"ws-member-{tag}@abuse.test", password=PASSWORD, first_name="Wes"
    )
    staff = accounts.create_staff(
        server_db,
        merchant_id=cafe.id,
        email=f"ws-staff-{tag}@abuse.test",
        password=PASSWORD,
        first_name="Stan",
        store_ids=[store.id],
    )
    return {
        "member": member,
        "store_id": store.id,
        "member_cookie": open_session_cookie(server_db, member.id, "cafe"),
        "staff_cookie": open_session_cookie(server_db, staff.id, "cafe"),
    }


def _server_alive(live_app) -> None:
    if live_app.process is not None:
        assert live_app.process.poll() is None, live_app.log_tail()


@pytest.mark.parametrize(
    "origin_of",
    [
        lambda base: "null",  # sandboxed iframes, file:// pages
        lambda base: base.replace("http://", "https://"),  # same host, other scheme
        lambda base: base + ".evil.example",  # our host as a prefix of theirs
        lambda base: "http://evil.example/" + urlsplit(base).netloc,
        lambda base: base.upper(),  # origins are compared exactly
    ],
    ids=["null", "other-scheme", "prefix-host", "host-in-path", "upper-case"],
)
def test_lookalike_origins_are_refused_at_the_handshake(live_app, origin_of):
    """test_transport_security proves a plainly foreign origin is refused; lookalikes are too."""
    assert _handshake_status(live_app.base_url, origin_of(live_app.base_url.rstrip("/"))) == 403


def test_oversized_message_closes_that_socket_only(live_app, server_db):
    async def scenario():
        async with RawSocket(live_app.base_url) as bystander, RawSocket(live_app.base_url) as sender:
            assert sender.open_packet["maxPayload"] == MESSAGE_LIMIT
            assert await bystander.pings() == 1
            before = _snapshot(server_db)
            # A real handler name, so only the size can be the reason for the refusal.
            await sender.send_event(_ping_name(), {"padding": "x" * (3 * MESSAGE_LIMIT)})
            assert await sender.frames_for(10) == [], "an oversized event must not be processed"
            assert sender.closed, "the server must close a socket that sends an oversized message"
            assert await bystander.pings() == 2
            async with RawSocket(live_app.base_url) as newcomer:
                assert await newcomer.pings() == 1
                # just under the limit is still an ordinary event
                assert await newcomer.pings(path="/m/cafe/" + "p" * (MESSAGE_LIMIT // 3)) == 2  # sent twice (pathname, asPath)
            assert _snapshot(server_db) == before

    run_async(scenario())
    _server_alive(live_app)


# Socket.IO packets whose event data is nonsense: Reflex drops them, the socket stays open.
BAD_EVENT_FRAMES = [
    f"42{NAMESPACE},not json",
    f'42{NAMESPACE},{{"unterminated": ',
    f'42{NAMESPACE},["event", "a string"]',
    f'42{NAMESPACE},["event", [1, 2, 3]]',
    f'42{NAMESPACE},["event", null]',
    f'42{NAMESPACE},["event"]',
    f"42{NAMESPACE},{{}}",
    f'42{NAMESPACE},["event", {{"name": 5, "payload": {{}}}}]',
    f'42{NAMESPACE},["event", {{"payload": {{}}}}]',
    f'42{NAMESPACE},["event", {{"name": "x", "payload": [], "router_data": "nope"}}]',
    f'42{NAMESPACE},["event", {{"name": "x", "unexpected": 1}}]',
    f'42{NAMESPACE},["no_such_socket_event", {{}}]',
    f'42{NAMESPACE},["client_error", "{"x" * 5000}"]',
    f"42{NAMESPACE}," + "[" * 100_000 + "]" * 100_000,  # deep nesting, under the size limit
    f'42{NAMESPACE},["event", ' + '{"a": ' * 50_000 + "1" + "}" * 50_000 + "]",
    '42/not-our-namespace,["event", {}]',
    "4",
    "9",
    "42",
]
# Frames that are not Engine.IO packets at all: the server may hang up on them.
BAD_TRANSPORT_FRAMES = ["", "\x00\xff", b"\x04" + bytes(range(256)) * 4]


def test_malformed_events_change_nothing_and_the_socket_keeps_working(live_app, server_db, people):
    async def scenario():
        async with RawSocket(live_app.base_url, cookie=people["staff_cookie"]) as sock:
            assert await sock.pings() == 1
            before = _snapshot(server_db)
            for frame in BAD_EVENT_FRAMES:
                await sock.ws.send_str(frame)
            assert await sock.frames_for(1.0) == []
            assert not sock.closed
            assert await sock.pings() == 2
            for frame in BAD_TRANSPORT_FRAMES:
                async with RawSocket(live_app.base_url, cookie=people["staff_cookie"]) as victim:
                    await (victim.ws.send_bytes(frame) if isinstance(frame, bytes) else victim.ws.send_str(frame))
                    await victim.frames_for(0.5)
                    if not victim.closed:
                        assert await victim.pings() == 1
            assert await sock.pings() == 3  # a bystander's socket is untouched by all of it
            async with RawSocket(live_app.base_url) as newcomer:
                assert await newcomer.pings() == 1
            assert _snapshot(server_db) == before

    run_async(scenario())
    _server_alive(live_app)


def test_unknown_misrouted_and_mistyped_events_change_nothing(live_app, server_db, people):
    """Real and made-up handler names with payloads of the wrong shape, from a signed-in staff
    member's socket and an anonymous one: nothing is credited, no state var is forced, and both
    sockets still answer."""
    till, session, ping = _state_name(TillState), _state_name(SessionState), _state_name(PingState)
    member_id = people["member"].id
    store_id = str(people["store_id"])
    abuse = [
        ("reflex___state____state.no_such_state.load", {}),
        (f"{ping}.no_such_handler", {}),
        (f"{till}.{ping.rsplit('.', 1)[1]}.ping", {}),  # a real state under another path
        (f"{till}._scan_text", {"text": people["member"].member_number}),  # a private method
        (f"{till}._clear", {}),
        (f"{till}.__init__", {}),
        ("builtins.exec", {"source": "open('/tmp/pwned', 'w')"}),
        (f"{session}.setvar", {"var_name": "role", "value": "admin"}),
        (f"{session}.setvar", {"var_name": "_account_id", "value": member_id}),
        (f"{till}.setvar", {"var_name": "_member_id", "value": member_id}),
        (f"{till}.set_store_id", {"value": store_id}),
        (f"{till}.credit", {"form": "amount=10"}),
        (f"{till}.credit", {"form": ["10", "R"]}),
        (f"{till}.credit", {"form": {"amount": "10", "receipt": "R"}, "member_account_id": member_id}),
        (f"{till}.credit", {}),
        (f"{till}.credit", {"form": {"amount": {"$gt": 0}, "receipt": ["R"]}}),
        (f"{till}.credit", {"form": {"amount": "1e309", "receipt": "\x00" * 10}}),
        (f"{till}.scan", {"form": {"code": {"rawValue": "x"}}}),
        (f"{till}.camera_scan", {"codes": "not a list"}),
        (f"{till}.camera_scan", {"codes": [{"rawValue": ["nested"]}, 7, None]}),
        (f"{till}.choose_store", {"store_id": {"id": store_id}}),
        (f"{DonateState.get_full_name()}.review", {"form": {"charity": ["1"], "amount": 1e308}}),
        (f"{DonateState.get_full_name()}.confirm", {"unexpected": True}),
        (f"{ProfileState.get_full_name()}.save", {"form": None}),
        (f"{ProfileState.get_full_name()}.delete_account", {"form": {"password": ["x"] * 1000}}),
        (f"{ping}.ping", {"deep": json.loads("[" * 500 + "]" * 500)}),
    ]
    abuse.append((f"{till}.credit", {"form": _deep_dict(200)}))

    async def scenario():
        async with (
            RawSocket(live_app.base_url, cookie=people["staff_cookie"]) as staff,
            RawSocket(live_app.base_url) as anonymous,
        ):
            assert await staff.pings() == 1 and await anonymous.pings() == 1
            await staff.send_event(f"{till}.load", {}, path="/m/cafe/staff")  # a real till, then abuse it
            await staff.frames_for(2.0)
            before = _snapshot(server_db)
            seen: list[str] = []
            for name, payload in abuse:
                for sock in (staff, anonymous):
                    await sock.send_event(name, payload, path="/m/cafe/staff")
            seen += await staff.frames_for(2.0) + await anonymous.frames_for(0.5)
            assert await staff.pings() == 2 and await anonymous.pings() == 2
            assert not staff.closed and not anonymous.closed
            assert _snapshot(server_db) == before
            # The control: the same socket does credit when asked properly, and the snapshot sees it.
            await staff.send_event(f"{till}.scan", {"form": {"code": people["member"].member_number}}, path="/m/cafe/staff")
            await staff.frames_for(1.5)
            await staff.send_event(
                f"{till}.credit", {"form": {"amount": "10", "receipt": f"ws-{uuid.uuid4().hex}"}}, path="/m/cafe/staff"
            )
            control = "\n".join(await staff.frames_for(3.0))
            return "\n".join(seen), control, _snapshot(server_db)["ledger points"] - before["ledger points"]

    frames, control, credited = run_async(scenario())
    assert '"role_rx_state_":"admin"' not in frames
    assert "points (" not in frames  # no till result "+N points (...)" came from the abuse
    assert not os.path.exists("/tmp/pwned")
    assert "points (" in control and credited > 0
    _server_alive(live_app)


def _deep_dict(depth: int) -> dict:
    node: dict = {"amount": "10"}
    for _ in range(depth):
        node = {"amount": node}
    return node
