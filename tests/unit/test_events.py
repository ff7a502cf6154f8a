"""The in-transaction event hub (services.platform.events) and the ledger's PointsPosted events.

The ledger publishes one ``PointsPosted`` per entry it writes and imports none of its
subscribers; the CRM webhooks subscribe at import, and the hub imports them before the first
event, so no caller can post points without the outbox seeing them.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind
from loyalty_app.models import LedgerEntry, MemberBalance, Merchant, PointLot, Role, WebhookDelivery
from loyalty_app.services import ledger
from loyalty_app.services.crm import webhooks
from loyalty_app.services.members import accounts
from loyalty_app.services.platform import events
from loyalty_app.services.platform.events import PointsPosted
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
PW = "correct horse battery"
DEV = dataclasses.replace(get_settings(), webhook_allow_http_localhost=True)
WEBHOOK_TYPE = {
    EntryKind.RELEASE: "points.released",
    EntryKind.EXPIRE: "points.expired",
}


@pytest.fixture(autouse=True)
def _no_background_kicks(monkeypatch):
    monkeypatch.setattr(webhooks, "KICK_AFTER_COMMIT", False)


# ------------------------------------------------------------------------------ the hub alone


@dataclass(frozen=True)
class Ping:
    n: int


def test_publish_calls_subscribers_in_order_with_the_session_and_propagates_errors():
    calls: list[tuple[str, object, int]] = []

    def first(session, event):
        calls.append(("first", session, event.n))

    def second(session, event):
        calls.append(("second", session, event.n))
        if event.n < 0:
            raise ValueError("refused")

    def third(session, event):
        calls.append(("third", session, event.n))

    session = object()
    events.publish(session, Ping(0))  # nobody listens: nothing happens
    try:
        for handler in (first, second, third):
            events.subscribe(Ping, handler)
        events.subscribe(Ping, second)  # the same function again replaces it, never runs it twice
        assert events.subscribers(Ping) == (first, second, third)
        events.publish(session, Ping(1))
        assert calls == [("first", session, 1), ("second", session, 1), ("third", session, 1)]

        calls.clear()
        with pytest.raises(ValueError, match="refused"):
            events.publish(session, Ping(-1))
        assert calls == [("first", session, -1), ("second", session, -1)]  # the rest does not run

        events.unsubscribe(Ping, first)
        calls.clear()
        events.publish(session, Ping(2))
        assert [name for name, _, _ in calls] == ["second", "third"]
    finally:
        for handler in (first, second, third):
            events.unsubscribe(Ping, handler)
    assert events.subscribers(Ping) == ()


def test_the_ledger_imports_no_subscriber_and_every_subscribing_module_is_known_to_the_hub():
    imported = set()
    for module in sorted((ROOT / "loyalty_app/services/ledger").glob("*.py")):  # the ledger package
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
    assert not any("webhooks" in name for name in imported)
    assert "loyalty_app.services.platform.events" in imported

    # A module that subscribes but is not listed would only hear events once someone else
    # happened to import it: that is how webhooks get dropped silently.
    subscribing = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "loyalty_app").rglob("*.py")
        if "events.subscribe(" in path.read_text() and path.name != "events.py"
    }
    assert subscribing == set(events.SUBSCRIBER_MODULES)
    assert webhooks.on_points_posted in events.subscribers(PointsPosted)


def test_a_process_that_only_imports_the_ledger_still_fills_the_webhook_outbox(tmp_path):
    """The CLI jobs, scripts and tests may never import services.crm.webhooks themselves."""
    script = textwrap.dedent(
        """
        import sys
        from sqlmodel import SQLModel, select

        import loyalty_app.models  # noqa: F401
        from loyalty_app.db import make_engine, write_session
        from loyalty_app.models import Account, Merchant, WebhookDelivery, WebhookEndpoint
        from loyalty_app.services import ledger

        assert "loyalty_app.services.crm.webhooks" not in sys.modules, "imported too early: the test proves nothing"
        engine = make_engine(sys.argv[1])
        SQLModel.metadata.create_all(engine)
        with write_session(engine) as s:
            cafe = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
            s.add(cafe)
            s.flush()
            ana = Account(merchant_id=cafe.id, email="ana@x.test", password_hash="-", member_number="1001")
            s.add(ana)
            s.add(WebhookEndpoint(merchant_id=cafe.id, url="https://crm.example/x", secret="s", events=["points.credited"]))
            s.flush()
            ids = (cafe.id, ana.id)

        class Rollback(Exception):
            pass

        try:
            with write_session(engine) as s:
                ledger.credit(s, merchant_id=ids[0], account_id=ids[1], points=5, idempotency_key="K", reason="Gift")
                rows = s.exec(select(WebhookDelivery.event_type)).all()
                raise Rollback  # no commit: no background delivery from this process
        except Rollback:
            pass
        print(rows)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path / 'alone.db'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['points.credited']"


# ------------------------------------------------------------------------------ with the ledger


@pytest.fixture
def world(db_engine):
    with write_session(db_engine) as s:
        cafe = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(cafe)
        s.flush()
        cafe_id = cafe.id
    admin = accounts.create_admin(db_engine, merchant_id=cafe_id, email="boss@x.test", password=PW, first_name="Bo")
    ana = accounts.sign_up_member(db_engine, merchant_id=cafe_id, email="ana@x.test", password=PW, first_name="Ana")
    view, _secret = webhooks.save_endpoint(
        db_engine,
        Actor(admin.id, cafe_id, Role.ADMIN),
        {"url": "http://127.0.0.1:9/all", "events": list(webhooks.WEBHOOK_EVENTS)},
        settings=DEV,
    )
    return {"engine": db_engine, "cafe": cafe_id, "ana": ana.id, "admin": admin.id, "endpoint": view.endpoint_id}


@pytest.fixture
def heard():
    """Every PointsPosted, as the hub hands it to subscribers (after the webhooks' handler)."""
    seen: list[PointsPosted] = []

    def spy(_session, event: PointsPosted) -> None:
        seen.append(event)

    assert webhooks.on_points_posted in events.subscribers(PointsPosted)
    events.subscribe(PointsPosted, spy)
    yield seen
    events.unsubscribe(PointsPosted, spy)


def _ledger_entries(engine) -> list[LedgerEntry]:
    with read_session(engine) as s:
        return list(s.exec(select(LedgerEntry).order_by(LedgerEntry.id)).all())


def _outbox(engine, endpoint_id: int) -> list[tuple[str, int]]:
    with read_session(engine) as s:
        rows = s.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id).order_by(WebhookDelivery.id))
        return [(d.event_type, d.payload["data"]["entry"]["id"]) for d in rows]


def test_every_ledger_entry_is_one_event_and_the_webhooks_hear_every_kind_through_the_hub(world, heard):
    e, cafe, ana, t0 = world["engine"], world["cafe"], world["ana"], utcnow()
    with write_session(e) as s:
        row = ledger.get_program_settings(s, cafe)
        row.expiry_policy, row.expiry_days = "after_days", 30
        s.add(row)
    common = dict(merchant_id=cafe, account_id=ana)
    with write_session(e) as s:
        earn = ledger.credit(s, **common, points=25, idempotency_key="E1", reason="Purchase", pending_days=2, now=t0)
        ledger.adjust(s, **common, points=5, reason="Sorry", author_id=world["admin"], idempotency_key="A1", now=t0)
    with write_session(e) as s:  # settles the release first, then the redeem
        spent = ledger.debit(s, **common, points=10, idempotency_key="D1", reason="Gift", now=t0 + timedelta(days=3))
        fix = ledger.adjust(
            s, **common, points=-2, reason="Fix", author_id=world["admin"], idempotency_key="A2", now=t0 + timedelta(days=3)
        )
    with write_session(e) as s:
        ledger.reverse(
            s, merchant_id=cafe, entry_id=spent.entry_id, idempotency_key="U1", reason="Undo", now=t0 + timedelta(days=4)
        )
        ledger.reverse(
            s, merchant_id=cafe, entry_id=fix.entry_id, idempotency_key="U2", reason="Undo", now=t0 + timedelta(days=4)
        )
    with write_session(e) as s:  # both lots are whole again, and both expire
        assert ledger.expire_due(s, merchant_id=cafe, now=t0 + timedelta(days=40)) == 2
    with write_session(e) as s:  # its points expired: the reversal takes nothing (a 0-point entry)
        undo = ledger.reverse(
            s, merchant_id=cafe, entry_id=earn.entry_id, idempotency_key="U3", reason="Return", now=t0 + timedelta(days=41)
        )
    assert undo.points == 0
    with write_session(e) as s:  # a replay writes nothing and publishes nothing
        assert ledger.credit(s, **common, points=25, idempotency_key="E1", reason="Purchase", pending_days=2, now=t0).replayed

    entries = _ledger_entries(e)
    assert [ev.entry.id for ev in heard] == [entry.id for entry in entries]  # each entry once, in order
    assert [(ev.kind, ev.points, ev.settlement) for ev in heard] == [
        (EntryKind.EARN, 25, False),
        (EntryKind.ADJUSTMENT, 5, False),
        (EntryKind.RELEASE, 25, True),
        (EntryKind.REDEEM, -10, False),
        (EntryKind.ADJUSTMENT, -2, False),
        (EntryKind.REVERSAL, 10, False),
        (EntryKind.REVERSAL, 2, False),
        (EntryKind.EXPIRE, -25, True),
        (EntryKind.EXPIRE, -5, True),
        (EntryKind.REVERSAL, 0, False),
    ]
    for ev, entry in zip(heard, entries):
        assert (ev.merchant_id, ev.account_id) == (cafe, ana)
        assert ev.balance == BalanceSnapshot.from_dict(entry.balance_after)

    # The CRM outbox got exactly one row per event that moved points, of the matching type.
    expected = [
        (WEBHOOK_TYPE.get(ev.kind) or ("points.credited" if ev.points > 0 else "points.debited"), ev.entry.id)
        for ev in heard
        if ev.points
    ]
    assert _outbox(e, world["endpoint"]) == expected
    assert {event_type for event_type, _ in expected} == {
        "points.credited",
        "points.debited",
        "points.released",
        "points.expired",
    }


def test_a_subscriber_error_rolls_the_posting_back_with_everything_written_in_its_transaction(world):
    e, cafe, ana, t0 = world["engine"], world["cafe"], world["ana"], utcnow()

    class CrmDown(Exception):
        pass

    armed: set[EntryKind] = {EntryKind.EARN}

    def failing(_session, event: PointsPosted) -> None:
        if event.kind in armed:
            raise CrmDown(event.kind)

    events.subscribe(PointsPosted, failing)  # after the webhooks' handler: its outbox row is written first
    try:
        with pytest.raises(CrmDown), write_session(e) as s:
            ledger.credit(s, merchant_id=cafe, account_id=ana, points=25, idempotency_key="E1", reason="Purchase", now=t0)
        with read_session(e) as s:
            for model in (LedgerEntry, PointLot, WebhookDelivery):
                assert s.exec(select(func.count()).select_from(model)).one() == 0
            assert s.exec(select(func.coalesce(func.sum(MemberBalance.available), 0))).one() == 0

        # Settlement: a job's release entry is rolled back too (the lot stays pending).
        armed = {EntryKind.RELEASE}
        with write_session(e) as s:
            earn = ledger.credit(
                s, merchant_id=cafe, account_id=ana, points=25, idempotency_key="E1", reason="Purchase", pending_days=1, now=t0
            )
        with pytest.raises(CrmDown), write_session(e) as s:
            ledger.release_pending(s, merchant_id=cafe, now=t0 + timedelta(days=2))
        with read_session(e) as s:
            assert s.exec(select(LedgerEntry.kind)).all() == ["earn"]
            assert s.exec(select(PointLot.is_pending)).one() is True
            assert s.exec(select(MemberBalance.pending)).one() == 25
        assert _outbox(e, world["endpoint"]) == [("points.credited", earn.entry_id)]
    finally:
        events.unsubscribe(PointsPosted, failing)

    with write_session(e) as s:  # without the failing subscriber the same job goes through
        assert ledger.release_pending(s, merchant_id=cafe, now=t0 + timedelta(days=2)) == 1
    assert [event_type for event_type, _ in _outbox(e, world["endpoint"])] == ["points.credited", "points.released"]
