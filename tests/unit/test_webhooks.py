"""CRM webhooks: the outbox is written with the business change, deliveries are signed and
reach a real local HTTP receiver, retries follow the backoff, two workers never send the same
attempt, payloads hold only consented fields, URLs are checked, and only admins manage it all."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import socket
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func
from sqlmodel import select

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import LoyaltyError, NotAllowed, NotFound
from loyalty_app.i18n import translate
from loyalty_app.models import Account, AdminAuditEntry, LedgerEntry, Merchant, Role, Store, WebhookDelivery, WebhookEndpoint
from loyalty_app.services import ledger
from loyalty_app.services.catalog import rewards
from loyalty_app.services.crm import webhooks
from loyalty_app.services.member_app import account_closing
from loyalty_app.services.members import accounts, profile
from loyalty_app.services.platform.permissions import Actor
from loyalty_app.services.program import program_admin
from loyalty_app.settings import get_settings

PW = "correct horse battery"
DEV = dataclasses.replace(get_settings(), webhook_allow_http_localhost=True)
PROD = dataclasses.replace(get_settings(), webhook_allow_http_localhost=False)


@pytest.fixture(autouse=True)
def _no_background_kicks(monkeypatch):
    """Tests drive delivery themselves (one test turns the after-commit kick back on)."""
    monkeypatch.setattr(webhooks, "KICK_AFTER_COMMIT", False)


# ------------------------------------------------------------------------------ a real receiver


class Receiver:
    """A CRM stand-in: http.server on a free local port that checks the signature like the
    README tells receivers to, answers scripted status codes, and records every request."""

    def __init__(self, secret: str = "", codes: list[int] | None = None, delay: float = 0.0):
        self.secret = secret
        self.codes = list(codes or [])
        self.delay = delay
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                timestamp = self.headers.get("X-Loyalty-Timestamp", "")
                verified = webhooks.verify_signature(
                    receiver.secret, timestamp, body, self.headers.get("X-Loyalty-Signature", ""), now=float(timestamp or 0)
                )
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.lock:
                    code = receiver.codes.pop(0) if receiver.codes else 200
                    if not verified:
                        code = 401
                    receiver.requests.append(
                        {
                            "event": self.headers.get("X-Loyalty-Event"),
                            "delivery": self.headers.get("X-Loyalty-Delivery"),
                            "timestamp": timestamp,
                            "verified": verified,
                            "code": code,
                            "body": json.loads(body or b"{}"),
                            "host": self.headers.get("Host"),
                            "path": self.path,
                        }
                    )
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/loyalty"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/down"


# ------------------------------------------------------------------------------ a program


@pytest.fixture
def world(db_engine):
    with write_session(db_engine) as s:
        cafe, books = Merchant(slug="cafe", name="Cafe", short_name="Cafe"), Merchant(slug="books", name="Books", short_name="B")
        s.add(cafe)
        s.add(books)
        s.flush()
        store = Store(merchant_id=cafe.id, code="a", name="Old Town")
        s.add(store)
        s.flush()
        reward = program_admin.upsert_reward(s, cafe.id, "coffee", name="Coffee", kind="free_product", cost_points=10)
        ids = dict(cafe=cafe.id, books=books.id, store=store.id, reward=reward.id)
    admin = accounts.create_admin(db_engine, merchant_id=ids["cafe"], email="boss@x.test", password=PW, first_name="Bo")
    staff = accounts.create_staff(
        db_engine, merchant_id=ids["cafe"], email="sam@x.test", password=PW, first_name="Sam", store_ids=[ids["store"]]
    )
    books_admin = accounts.create_admin(db_engine, merchant_id=ids["books"], email="boss@x.test", password=PW, first_name="Bk")
    ana = accounts.sign_up_member(
        db_engine, merchant_id=ids["cafe"], email="ana@x.test", password=PW, first_name="Ana", last_name="Pop"
    )
    return {
        **ids,
        "engine": db_engine,
        "ana": ana,
        "ana_actor": Actor(ana.id, ids["cafe"], Role.MEMBER),
        "admin": Actor(admin.id, ids["cafe"], Role.ADMIN),
        "staff": Actor(staff.id, ids["cafe"], Role.STAFF, frozenset({ids["store"]})),
        "books_admin": Actor(books_admin.id, ids["books"], Role.ADMIN),
    }


def add_endpoint(w, url: str, events=("points.credited", "points.debited"), actor=None) -> tuple[int, str]:
    view, secret = webhooks.save_endpoint(w["engine"], actor or w["admin"], {"url": url, "events": list(events)}, settings=DEV)
    return view.endpoint_id, secret


def credit(w, key: str, points: int = 25, session=None, now=None):
    def run(s):
        return ledger.credit(
            s,
            merchant_id=w["cafe"],
            account_id=w["ana"].id,
            points=points,
            idempotency_key=key,
            reason="Purchase",
            source={"store_id": w["store"], "receipt": key, "staff_id": 99},
            now=now,
        )

    if session is not None:
        return run(session)
    with write_session(w["engine"]) as s:
        return run(s)


def deliveries(engine, **where) -> list[WebhookDelivery]:
    with read_session(engine) as s:
        stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(WebhookDelivery, name) == value)
        return list(s.exec(stmt).all())


# ------------------------------------------------------------------------------ the outbox


def test_a_credit_enqueues_exactly_one_delivery_in_its_own_transaction(world):
    e = world["engine"]
    endpoint_id, _secret = add_endpoint(world, "http://127.0.0.1:9/x")
    add_endpoint(world, "http://127.0.0.1:9/books", actor=world["books_admin"])  # another program's endpoint
    with write_session(e) as s:
        result = credit(world, "R1", session=s)
        inside = s.exec(select(WebhookDelivery)).all()  # visible in the same transaction, before commit
        assert [(d.event_type, d.endpoint_id, d.status, d.attempts) for d in inside] == [
            ("points.credited", endpoint_id, "pending", 0)
        ]
    rows = deliveries(e)
    assert len(rows) == 1 and rows[0].payload["data"]["entry"]["id"] == result.entry_id
    assert rows[0].payload["id"] == rows[0].event_id and rows[0].payload["type"] == "points.credited"

    # A replayed request writes nothing, so it queues nothing either.
    assert credit(world, "R1").replayed
    assert len(deliveries(e)) == 1

    # A change that rolls back leaves no outbox row (and no ledger entry).
    with pytest.raises(RuntimeError):
        with write_session(e) as s:
            credit(world, "R2", session=s)
            assert len(s.exec(select(WebhookDelivery)).all()) == 2
            raise RuntimeError("till crashed before commit")
    assert len(deliveries(e)) == 1
    with read_session(e) as s:
        assert s.exec(select(func.count()).select_from(LedgerEntry)).one() == 1

    # A debit is its own event; an endpoint that did not subscribe gets nothing.
    add_endpoint(world, "http://127.0.0.1:9/members-only", events=("member.enrolled",))
    with write_session(e) as s:
        ledger.debit(s, merchant_id=world["cafe"], account_id=world["ana"].id, points=5, idempotency_key="D1", reason="Gift")
    assert [d.event_type for d in deliveries(e)] == ["points.credited", "points.debited"]


def test_no_active_endpoint_means_no_outbox_row(world):
    e = world["engine"]
    endpoint_id, _ = add_endpoint(world, "http://127.0.0.1:9/x")
    webhooks.set_active(e, world["admin"], endpoint_id, False)
    credit(world, "R1")
    assert deliveries(e) == []
    webhooks.set_active(e, world["admin"], endpoint_id, True)
    credit(world, "R2")
    assert len(deliveries(e)) == 1


def test_enrolment_voucher_use_and_consent_change_are_events(world):
    e = world["engine"]
    add_endpoint(world, "http://127.0.0.1:9/all", events=webhooks.WEBHOOK_EVENTS)
    bob = accounts.sign_up_member(e, merchant_id=world["cafe"], email="bob@x.test", password=PW, first_name="Bob")
    accounts.create_staff(
        e, merchant_id=world["cafe"], email="sue@x.test", password=PW, first_name="Sue", store_ids=[world["store"]]
    )
    credit(world, "R1", points=50)
    outcome = rewards.redeem_reward(
        e, merchant_id=world["cafe"], account_id=world["ana"].id, reward_id=world["reward"], idempotency_key="redeem-1"
    )
    rewards.use_voucher(
        e, merchant_id=world["cafe"], code=outcome.code, store_id=world["store"], staff_account_id=world["staff"].account_id
    )
    profile.set_consent(e, world["ana_actor"], "sms", True)
    profile.set_consent(e, world["ana_actor"], "sms", True)  # no change: no event
    types = [d.event_type for d in deliveries(e)]
    assert types == ["member.enrolled", "points.credited", "points.debited", "voucher.redeemed", "consent.changed"]
    by_type = {d.event_type: d.payload["data"] for d in deliveries(e)}
    assert by_type["member.enrolled"]["member"]["id"] == bob.id  # staff accounts are not "members enrolled"
    assert by_type["voucher.redeemed"]["voucher"] == {
        "id": outcome.voucher_id,
        "reward_id": world["reward"],
        "reward_key": "coffee",
        "reward_name": "Coffee",
        "store_id": world["store"],
        "issued_at": by_type["voucher.redeemed"]["voucher"]["issued_at"],
        "used_at": by_type["voucher.redeemed"]["voucher"]["used_at"],
    }
    assert by_type["consent.changed"]["consent"]["channel"] == "sms" and by_type["consent.changed"]["consent"]["granted"] is True
    assert by_type["points.debited"]["entry"]["reward_id"] == world["reward"]


def test_payloads_carry_only_consented_fields_and_no_secrets(world):
    e = world["engine"]
    endpoint_id, secret = add_endpoint(world, "http://127.0.0.1:9/all", events=webhooks.WEBHOOK_EVENTS)
    with write_session(e) as s:
        row = s.get(Account, world["ana"].id)
        row.birthday = utcnow().date().replace(year=1990)
        s.add(row)
    credit(world, "R1")
    before = deliveries(e)[-1].payload["data"]
    assert before["member"] == {
        "id": world["ana"].id,
        "member_number": world["ana"].member_number,
        "first_name": "Ana",
        "email_consent": False,
    }
    assert set(before["entry"]) == {"id", "kind", "points", "created_at", "reverses_entry_id", "store_id", "receipt"}
    assert before["balance"] == {"available": 25, "pending": 0, "lifetime_earned": 25}

    profile.set_consent(e, world["ana_actor"], "email", True)
    granted = deliveries(e)[-1].payload["data"]
    assert granted["member"]["email"] == "ana@x.test" and granted["member"]["last_name"] == "Pop"
    profile.set_consent(e, world["ana_actor"], "email", False)
    withdrawn = deliveries(e)[-1].payload["data"]
    assert "email" not in withdrawn["member"] and "last_name" not in withdrawn["member"]
    assert withdrawn["consent"] == {"channel": "email", "granted": False, "at": withdrawn["consent"]["at"]}

    with read_session(e) as s:
        account = s.get(Account, world["ana"].id)
    for d in deliveries(e):
        text = json.dumps(d.payload)
        for forbidden in (secret, account.password_hash, "birthday", "1990", "staff_id", "password", "avatar"):
            assert forbidden not in text, (d.event_type, forbidden)
        if not d.payload["data"]["member"].get("email_consent"):
            assert "ana@x.test" not in text and "Pop" not in text


# ------------------------------------------------------------------------------ released, expired, deleted


def set_expiry(w, days: int = 30) -> None:
    with write_session(w["engine"]) as s:
        row = ledger.get_program_settings(s, w["cafe"])
        row.expiry_policy, row.expiry_days = "after_days", days
        s.add(row)


def events_of(engine, endpoint_id: int) -> list[tuple[str, int | None]]:
    """(event type, ledger entry id or None) of everything queued for one endpoint, in order."""
    return [(d.event_type, d.payload["data"].get("entry", {}).get("id")) for d in deliveries(engine, endpoint_id=endpoint_id)]


def entries_of_kind(engine, kind: str) -> list[LedgerEntry]:
    with read_session(engine) as s:
        return list(s.exec(select(LedgerEntry).where(LedgerEntry.kind == kind).order_by(LedgerEntry.id)).all())


def test_released_points_are_one_event_with_the_amount_and_the_balance_after_in_the_release_transaction(world):
    e, t0 = world["engine"], utcnow()
    released_only, _ = add_endpoint(world, "http://127.0.0.1:9/released", events=("points.released",))
    credits_only, _ = add_endpoint(world, "http://127.0.0.1:9/credits")  # points.credited + points.debited
    books, _ = add_endpoint(world, "http://127.0.0.1:9/books", events=webhooks.WEBHOOK_EVENTS, actor=world["books_admin"])
    with write_session(e) as s:
        earn = ledger.credit(
            s,
            merchant_id=world["cafe"],
            account_id=world["ana"].id,
            points=25,
            idempotency_key="R1",
            reason="Purchase",
            pending_days=3,
            now=t0,
        )
    assert earn.balance.pending == 25 and events_of(e, released_only) == []

    # The job's transaction rolls back: the lot stays pending and nothing is queued.
    with pytest.raises(RuntimeError), write_session(e) as s:
        assert ledger.release_pending(s, merchant_id=world["cafe"], now=t0 + timedelta(days=3)) == 1
        assert [d.event_type for d in s.exec(select(WebhookDelivery).where(WebhookDelivery.endpoint_id == released_only))] == [
            "points.released"
        ]  # queued in the release's own transaction...
        raise RuntimeError("job crashed before commit")
    assert events_of(e, released_only) == [] and entries_of_kind(e, "release") == []  # ...and gone with it

    with write_session(e) as s:
        assert ledger.release_pending(s, merchant_id=world["cafe"], now=t0 + timedelta(days=3)) == 1
    with write_session(e) as s:
        assert ledger.release_pending(s, merchant_id=world["cafe"], now=t0 + timedelta(days=4)) == 0  # idempotent
    [release] = entries_of_kind(e, "release")
    [row] = deliveries(e, endpoint_id=released_only)
    assert row.event_type == "points.released" and row.payload["type"] == "points.released"
    assert row.created_at == t0 + timedelta(days=3)
    data = row.payload["data"]
    assert data["entry"] == {
        "id": release.id,
        "kind": "release",
        "points": 25,
        "created_at": release.created_at.isoformat(),
        "lot_id": release.lot_id,
        "source_entry_id": earn.entry_id,
    }
    assert data["balance"] == {"available": 25, "pending": 0, "lifetime_earned": 25}
    assert data["member"] == {
        "id": world["ana"].id,
        "member_number": world["ana"].member_number,
        "first_name": "Ana",
        "email_consent": False,
    }
    # Not subscribed (or another program's endpoint): nothing.
    assert events_of(e, credits_only) == [("points.credited", earn.entry_id)]
    assert events_of(e, books) == []


def test_a_release_settled_by_a_members_own_debit_is_sent_before_the_debit_and_once(world):
    e, t0 = world["engine"], utcnow()
    everything, _ = add_endpoint(world, "http://127.0.0.1:9/all", events=webhooks.WEBHOOK_EVENTS)
    with write_session(e) as s:
        earn = ledger.credit(
            s,
            merchant_id=world["cafe"],
            account_id=world["ana"].id,
            points=25,
            idempotency_key="R1",
            reason="Purchase",
            pending_days=2,
            now=t0,
        )
    with write_session(e) as s:  # the pending period is over: the debit settles the release first
        spent = ledger.debit(
            s,
            merchant_id=world["cafe"],
            account_id=world["ana"].id,
            points=10,
            idempotency_key="D1",
            reason="Gift",
            now=t0 + timedelta(days=2, hours=1),
        )
    with write_session(e) as s:  # the job finds nothing left to release
        assert ledger.release_pending(s, merchant_id=world["cafe"], now=t0 + timedelta(days=5)) == 0
    [release] = entries_of_kind(e, "release")
    assert events_of(e, everything) == [
        ("points.credited", earn.entry_id),
        ("points.released", release.id),
        ("points.debited", spent.entry_id),
    ]
    by_type = {d.event_type: d.payload["data"] for d in deliveries(e)}
    assert by_type["points.released"]["entry"]["points"] == 25
    assert by_type["points.released"]["balance"] == {"available": 25, "pending": 0, "lifetime_earned": 25}
    assert by_type["points.debited"]["balance"] == {"available": 15, "pending": 0, "lifetime_earned": 25}


def test_expiry_is_sent_once_as_points_expired_and_never_as_points_debited(world):
    e, t0 = world["engine"], utcnow()
    set_expiry(world, days=30)
    everything, _ = add_endpoint(world, "http://127.0.0.1:9/all", events=webhooks.WEBHOOK_EVENTS)
    expired_only, _ = add_endpoint(world, "http://127.0.0.1:9/expired", events=("points.expired",))
    credits_only, _ = add_endpoint(world, "http://127.0.0.1:9/credits")  # points.credited + points.debited
    first = credit(world, "R1", points=25, now=t0)
    second = credit(world, "R2", points=40, now=t0 + timedelta(days=20))

    # A rolled-back expiry run queues nothing.
    with pytest.raises(RuntimeError), write_session(e) as s:
        assert ledger.expire_due(s, merchant_id=world["cafe"], now=t0 + timedelta(days=31)) == 1
        raise RuntimeError("job crashed before commit")
    assert [t for t, _ in events_of(e, everything)] == ["points.credited", "points.credited"]
    assert events_of(e, expired_only) == []

    with write_session(e) as s:
        assert ledger.expire_due(s, merchant_id=world["cafe"], now=t0 + timedelta(days=31)) == 1
    with write_session(e) as s:
        assert ledger.expire_due(s, merchant_id=world["cafe"], now=t0 + timedelta(days=32)) == 0  # idempotent
    [expiry] = entries_of_kind(e, "expire")
    assert events_of(e, expired_only) == [("points.expired", expiry.id)]
    assert events_of(e, everything) == [
        ("points.credited", first.entry_id),
        ("points.credited", second.entry_id),
        ("points.expired", expiry.id),
    ]
    assert events_of(e, credits_only) == [("points.credited", first.entry_id), ("points.credited", second.entry_id)]
    [row] = deliveries(e, endpoint_id=expired_only)
    data = row.payload["data"]
    assert data["entry"] == {
        "id": expiry.id,
        "kind": "expire",
        "points": -25,
        "created_at": expiry.created_at.isoformat(),
        "lot_id": expiry.lot_id,
        "source_entry_id": first.entry_id,
        "expires_at": (t0 + timedelta(days=30)).isoformat(),
    }
    assert data["balance"] == {"available": 40, "pending": 0, "lifetime_earned": 65, "expired": 25}
    assert data["member"]["id"] == world["ana"].id

    # Reversing the expired purchase takes back nothing more (its points already expired): no
    # points.debited for points that were reported as expired.
    with write_session(e) as s:
        undo = ledger.reverse(
            s,
            merchant_id=world["cafe"],
            entry_id=first.entry_id,
            idempotency_key="U1",
            reason="Return",
            now=t0 + timedelta(days=33),
        )
    assert undo.points == 0
    assert [t for t, _ in events_of(e, everything)] == ["points.credited", "points.credited", "points.expired"]


def test_an_expiry_settled_by_a_debit_is_one_points_expired_plus_the_debit_itself(world):
    e, t0 = world["engine"], utcnow()
    set_expiry(world, days=30)
    everything, _ = add_endpoint(world, "http://127.0.0.1:9/all", events=webhooks.WEBHOOK_EVENTS)
    first = credit(world, "R1", points=25, now=t0)
    second = credit(world, "R2", points=40, now=t0 + timedelta(days=20))
    with write_session(e) as s:
        spent = ledger.debit(
            s,
            merchant_id=world["cafe"],
            account_id=world["ana"].id,
            points=10,
            idempotency_key="D1",
            reason="Gift",
            now=t0 + timedelta(days=31),
        )
    with write_session(e) as s:  # the job then finds nothing to expire
        assert ledger.expire_due(s, merchant_id=world["cafe"], now=t0 + timedelta(days=31)) == 0
    [expiry] = entries_of_kind(e, "expire")
    assert events_of(e, everything) == [
        ("points.credited", first.entry_id),
        ("points.credited", second.entry_id),
        ("points.expired", expiry.id),
        ("points.debited", spent.entry_id),
    ]
    by_type = {d.event_type: d.payload["data"] for d in deliveries(e)}
    assert by_type["points.expired"]["entry"]["points"] == -25
    assert by_type["points.expired"]["balance"]["available"] == 40
    assert by_type["points.debited"]["entry"]["points"] == -10 and by_type["points.debited"]["balance"]["available"] == 30


def test_the_jobs_round_releases_expires_and_delivers_each_event_once(world, receiver, monkeypatch):
    from loyalty_app.services.operations.jobs import run_periodic_jobs

    e, t0 = world["engine"], utcnow()
    set_expiry(world, days=30)
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url, events=("points.released", "points.expired"))
    with write_session(e) as s:
        ledger.credit(
            s,
            merchant_id=world["cafe"],
            account_id=world["ana"].id,
            points=25,
            idempotency_key="R1",
            reason="Purchase",
            pending_days=3,
            now=t0,
        )
    monkeypatch.setattr(webhooks, "get_settings", lambda: DEV)  # the jobs use the app's settings
    totals = run_periodic_jobs(e, now=t0 + timedelta(days=40))
    assert (totals["released"], totals["expired"]) == (1, 1)
    run_periodic_jobs(e, now=t0 + timedelta(days=41))
    assert [(r["event"], r["verified"], r["body"]["data"]["entry"]["points"]) for r in receiver.requests] == [
        ("points.released", True, 25),
        ("points.expired", True, -25),
    ]
    assert receiver.requests[1]["body"]["data"]["balance"] == {"available": 0, "pending": 0, "lifetime_earned": 25, "expired": 25}
    assert {d.status for d in deliveries(e)} == {"delivered"}


def test_member_deleted_carries_only_ids_and_time_in_the_anonymising_transaction(world, monkeypatch):
    from loyalty_app.services.members import sessions

    e = world["engine"]
    deleted_only, _ = add_endpoint(world, "http://127.0.0.1:9/deleted", events=("member.deleted",))
    others, _ = add_endpoint(
        world, "http://127.0.0.1:9/others", events=[x for x in webhooks.WEBHOOK_EVENTS if x != "member.deleted"]
    )
    books, _ = add_endpoint(world, "http://127.0.0.1:9/books", events=webhooks.WEBHOOK_EVENTS, actor=world["books_admin"])
    profile.set_consent(e, world["ana_actor"], "email", True)  # the CRM may see name and email until the deletion
    with write_session(e) as s:
        row = s.get(Account, world["ana"].id)
        row.birthday = utcnow().date().replace(year=1990)
        s.add(row)

    # The anonymising transaction fails after the event was queued: the account stays and nothing is sent.
    def crash(*args, **kwargs):
        raise RuntimeError("crashed before commit")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(sessions, "revoke_all_in", crash)
        account_closing.delete_account(e, world["ana_actor"], password=PW)
    assert deliveries(e, endpoint_id=deleted_only) == []
    with read_session(e) as s:
        assert s.get(Account, world["ana"].id).deleted_at is None

    now = utcnow()
    account_closing.delete_account(e, world["ana_actor"], password=PW, now=now)
    [row] = deliveries(e, endpoint_id=deleted_only)
    assert row.event_type == "member.deleted" and row.payload["type"] == "member.deleted"
    assert row.payload["data"] == {
        "member": {"id": world["ana"].id, "member_number": world["ana"].member_number},
        "deleted_at": now.isoformat(),
    }
    text = json.dumps(row.payload)
    for erased in ("Ana", "Pop", "ana@x.test", "1990", "email", "first_name", "consent"):
        assert erased not in text, erased
    with read_session(e) as s:
        account = s.get(Account, world["ana"].id)
        assert account.deleted_at == now and account.email == f"deleted-{account.id}@invalid"
    assert "member.deleted" not in [d.event_type for d in deliveries(e, endpoint_id=others)]
    assert deliveries(e, endpoint_id=books) == []
    with pytest.raises(NotFound):  # already deleted: no second event
        account_closing.delete_account(e, world["ana_actor"], password=PW)
    assert len(deliveries(e, endpoint_id=deleted_only)) == 1


def test_console_offers_every_event_with_a_translated_label():
    from loyalty_app.pages.admin_webhooks import _events_field

    assert tuple(webhooks.EVENT_LABELS) == webhooks.WEBHOOK_EVENTS
    rendered = str(_events_field())
    for event in webhooks.WEBHOOK_EVENTS:
        assert f'name:"event:{event}"' in rendered, event  # a checkbox per event
        # ...labelled through t(): a per-language lookup keyed by the English msgid.
        assert f'{{en:"{webhooks.EVENT_LABELS[event]}"' in rendered, event
    assert {"points.released", "points.expired", "member.deleted"} <= set(webhooks.WEBHOOK_EVENTS)


# ------------------------------------------------------------------------------ delivery


def test_signed_delivery_reaches_the_receiver_which_checks_the_signature(world, receiver):
    e = world["engine"]
    endpoint_id, secret = add_endpoint(world, receiver.url)
    receiver.secret = webhooks.reveal_secret(e, world["admin"], endpoint_id)
    assert receiver.secret == secret and secret.startswith("whsec_")
    credit(world, "R1")
    now = utcnow()
    report = webhooks.deliver_due(e, now=now, settings=DEV)
    assert (report.delivered, report.retried, report.failed) == (1, 0, 0)
    [request] = receiver.requests
    [row] = deliveries(e)
    assert request["verified"] and request["code"] == 200 and request["path"] == "/hooks/loyalty"
    assert request["event"] == "points.credited" and request["delivery"] == row.event_id
    assert request["timestamp"] == str(int(now.timestamp()))
    assert request["body"] == row.payload
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("delivered", 1, 200, "")
    assert webhooks.deliver_due(e, now=now + timedelta(days=1), settings=DEV).sent == 0  # delivered stays delivered
    assert len(receiver.requests) == 1


def test_wrong_secret_is_rejected_by_the_receiver_and_rotation_changes_the_signature(world, receiver):
    e = world["engine"]
    endpoint_id, secret = add_endpoint(world, receiver.url)
    receiver.secret = "whsec_not-the-right-one"
    credit(world, "R1")
    now = utcnow()
    webhooks.deliver_due(e, now=now, settings=DEV)
    [row] = deliveries(e)
    assert receiver.requests[0]["verified"] is False
    assert (row.status, row.attempts, row.last_status_code, row.last_error) == ("pending", 1, 401, "HTTP 401")

    # The receiver gets the right secret: the retry (same event id) is accepted.
    receiver.secret = secret
    webhooks.deliver_due(e, now=row.next_attempt_at, settings=DEV)
    assert receiver.requests[1]["verified"] and receiver.requests[1]["delivery"] == row.event_id
    assert deliveries(e)[0].status == "delivered"

    # After a rotation the old secret no longer verifies, the new one does.
    new_secret = webhooks.rotate_secret(e, world["admin"], endpoint_id)
    assert new_secret != secret
    credit(world, "R2")
    webhooks.deliver_due(e, now=utcnow(), settings=DEV)
    assert receiver.requests[2]["verified"] is False
    receiver.secret = new_secret
    webhooks.deliver_due(e, now=utcnow() + timedelta(minutes=2), settings=DEV)
    assert receiver.requests[3]["verified"] is True


def test_signature_check_both_ways():
    body, ts = b'{"a":1}', "1700000000"
    signature = webhooks.sign("s3cret", ts, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert webhooks.verify_signature("s3cret", ts, body, signature, now=1700000000)
    assert not webhooks.verify_signature("other", ts, body, signature, now=1700000000)
    assert not webhooks.verify_signature("s3cret", ts, b'{"a":2}', signature, now=1700000000)  # body changed
    assert not webhooks.verify_signature("s3cret", "1700000001", body, signature, now=1700000000)  # timestamp changed
    assert not webhooks.verify_signature("s3cret", ts, body, signature, now=1700000000 + 301)  # replayed later


def test_500_twice_then_200_is_delivered_on_the_third_attempt_at_the_backoff_times(world, receiver):
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    receiver.codes = [500, 500, 200]
    credit(world, "R1")
    rng = random.Random(4)
    t0 = utcnow()
    webhooks.deliver_due(e, now=t0, settings=DEV, rng=rng)
    first = deliveries(e)[0]
    assert (first.status, first.attempts, first.last_status_code) == ("pending", 1, 500)
    wait1 = first.next_attempt_at - t0
    assert timedelta(seconds=48) <= wait1 <= timedelta(seconds=72)  # 1 min +-20 %

    assert webhooks.deliver_due(e, now=first.next_attempt_at - timedelta(seconds=1), settings=DEV).sent == 0  # not yet
    assert len(receiver.requests) == 1
    t1 = first.next_attempt_at
    webhooks.deliver_due(e, now=t1, settings=DEV, rng=rng)
    second = deliveries(e)[0]
    assert (second.status, second.attempts) == ("pending", 2)
    wait2 = second.next_attempt_at - t1
    assert timedelta(seconds=240) <= wait2 <= timedelta(seconds=360)  # 5 min +-20 %

    assert webhooks.deliver_due(e, now=second.next_attempt_at - timedelta(seconds=1), settings=DEV).sent == 0
    webhooks.deliver_due(e, now=second.next_attempt_at, settings=DEV, rng=rng)
    third = deliveries(e)[0]
    assert (third.status, third.attempts, third.last_status_code, third.delivered_at) == (
        "delivered",
        3,
        200,
        second.next_attempt_at,
    )
    assert [r["code"] for r in receiver.requests] == [500, 500, 200]
    assert {r["delivery"] for r in receiver.requests} == {third.event_id}  # one idempotency key for every retry
    assert all(r["verified"] for r in receiver.requests)
    assert [r["timestamp"] for r in receiver.requests] == [str(int(t.timestamp())) for t in (t0, t1, second.next_attempt_at)]


def test_receiver_down_retries_on_the_schedule_then_fails_and_retry_now_tries_once_more(world):
    e = world["engine"]
    add_endpoint(world, closed_port_url())
    credit(world, "R1")
    at, gaps = utcnow(), []
    for attempt in range(1, webhooks.MAX_ATTEMPTS + 1):
        report = webhooks.deliver_due(e, now=at, settings=DEV, rng=random.Random(attempt))
        assert report.sent == 1
        row = deliveries(e)[0]
        assert row.attempts == attempt and row.last_status_code is None and "Connect" in row.last_error
        if attempt < webhooks.MAX_ATTEMPTS:
            assert row.status == "pending"
            gaps.append((row.next_attempt_at - at).total_seconds())
            at = row.next_attempt_at
    assert row.status == "failed"
    expected = [60, 300, 1800, 7200, 43200, 43200, 43200]
    assert all(0.8 * want <= got <= 1.2 * want for got, want in zip(gaps, expected, strict=True)), gaps
    assert webhooks.deliver_due(e, now=at + timedelta(days=30), settings=DEV).sent == 0  # failed is final

    with pytest.raises(NotFound):
        webhooks.retry_now(e, world["books_admin"], row.id)
    webhooks.retry_now(e, world["admin"], row.id, now=at + timedelta(days=30))
    assert deliveries(e)[0].status == "pending"
    webhooks.deliver_due(e, now=at + timedelta(days=30), settings=DEV)
    again = deliveries(e)[0]
    assert (again.status, again.attempts) == ("failed", webhooks.MAX_ATTEMPTS + 1)  # one more attempt, not a new schedule


def test_retry_now_delivers_once_the_receiver_is_back(world, receiver):
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    receiver.codes = [503] * webhooks.MAX_ATTEMPTS
    credit(world, "R1")
    at = utcnow()
    for _ in range(webhooks.MAX_ATTEMPTS):
        webhooks.deliver_due(e, now=at, settings=DEV)
        at = deliveries(e)[0].next_attempt_at
    row = deliveries(e)[0]
    assert row.status == "failed" and row.last_status_code == 503
    webhooks.retry_now(e, world["admin"], row.id)
    report = webhooks.deliver_due(e, delivery_id=row.id, settings=DEV)
    assert report.delivered == 1 and deliveries(e)[0].status == "delivered"
    with pytest.raises(LoyaltyError) as done:
        webhooks.retry_now(e, world["admin"], row.id)
    assert done.value.code == "already_delivered"


def test_two_concurrent_delivery_runs_never_send_the_same_attempt(world, receiver):
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    receiver.delay = 0.01  # keep both runs busy at the same time
    for i in range(30):
        credit(world, f"R{i}")
    now = utcnow()
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def run():
        try:
            barrier.wait()
            reports.append(webhooks.deliver_due(e, now=now, settings=DEV))
        except Exception as err:  # noqa: BLE001 - surfaced below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors
    sent = Counter(r["delivery"] for r in receiver.requests)
    assert len(sent) == 30 and set(sent.values()) == {1}, sent.most_common(3)
    assert sum(r.delivered for r in reports) == 30
    assert {(d.status, d.attempts) for d in deliveries(e)} == {("delivered", 1)}


def test_a_claimed_attempt_is_not_sent_again_until_its_lease_ends(world, receiver):
    """A worker that dies after claiming (before recording) blocks only that attempt, for the lease."""
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    credit(world, "R1")
    now = utcnow()
    claim = webhooks._claim_next(e, now, merchant_id=None, delivery_id=None, skip_endpoints=set())
    assert claim is not None and claim.attempt == 1
    assert webhooks._claim_next(e, now, merchant_id=None, delivery_id=None, skip_endpoints=set()) is None
    assert webhooks.deliver_due(e, now=now + webhooks.CLAIM_LEASE - timedelta(seconds=1), settings=DEV).sent == 0
    webhooks.deliver_due(e, now=now + webhooks.CLAIM_LEASE, settings=DEV)
    row = deliveries(e)[0]
    assert (row.status, row.attempts, len(receiver.requests)) == ("delivered", 2, 1)
    # The dead worker's late outcome for attempt 1 changes nothing.
    webhooks._record(e, claim, now, code=500, error="HTTP 500", rng=None)
    assert deliveries(e)[0].status == "delivered"


def test_disabled_endpoint_keeps_its_queue_until_it_is_on_again(world, receiver):
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    credit(world, "R1")
    webhooks.set_active(e, world["admin"], endpoint_id, False)
    assert webhooks.deliver_due(e, settings=DEV).sent == 0 and receiver.requests == []
    webhooks.set_active(e, world["admin"], endpoint_id, True)
    assert webhooks.deliver_due(e, settings=DEV).delivered == 1


def test_a_commit_kicks_delivery_in_the_background(world, receiver, monkeypatch):
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    monkeypatch.setattr(webhooks, "KICK_AFTER_COMMIT", True)
    monkeypatch.setattr(webhooks, "get_settings", lambda: DEV)
    credit(world, "R1")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (receiver.requests and deliveries(e)[0].status == "delivered"):
        time.sleep(0.05)
    assert len(receiver.requests) == 1 and receiver.requests[0]["verified"]
    assert deliveries(e)[0].status == "delivered"
    # A rolled-back change kicks nothing and queues nothing.
    with pytest.raises(RuntimeError), write_session(e) as s:
        credit(world, "R2", session=s)
        raise RuntimeError("rolled back")
    time.sleep(0.3)
    assert len(receiver.requests) == 1 and len(deliveries(e)) == 1


def test_jobs_round_delivers_due_retries(world, receiver, monkeypatch):
    from loyalty_app.services.operations.jobs import run_periodic_jobs

    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)
    credit(world, "R1")
    monkeypatch.setattr(webhooks, "get_settings", lambda: DEV)  # the jobs use the app's settings
    run_periodic_jobs(e)
    assert deliveries(e)[0].status == "delivered" and len(receiver.requests) == 1


# ------------------------------------------------------------------------------ URL checks (SSRF)


@pytest.mark.parametrize(
    "url,settings,code",
    [
        ("", PROD, "url_required"),
        ("crm.example.com/hook", PROD, "url_invalid"),
        ("ftp://crm.example.com/hook", PROD, "url_invalid"),
        ("https://crm.example.com:99999/hook", PROD, "url_invalid"),
        ("https://user:pw@crm.example.com/hook", PROD, "url_credentials"),
        ("http://crm.example.com/hook", PROD, "url_not_https"),
        ("http://localhost:8080/hook", PROD, "url_private"),
        ("http://127.0.0.1:8080/hook", PROD, "url_private"),
        ("https://[::1]/hook", PROD, "url_private"),
        ("https://10.1.2.3/hook", DEV, "url_private"),
        ("https://192.168.1.20/hook", DEV, "url_private"),
        ("https://169.254.169.254/latest/meta-data", DEV, "url_private"),
        ("https://100.64.0.1/hook", DEV, "url_private"),
        ("https://[::ffff:10.0.0.1]/hook", DEV, "url_private"),
        ("https://crm.internal/hook", PROD, "url_private"),
        ("https://intranet/hook", PROD, "url_private"),
        ("https://rebind.example.com/hook", PROD, "url_private"),  # resolves to a private address (below)
        ("https://x.example.com/" + "a" * 500, PROD, "url_too_long"),
    ],
)
def test_url_refusals(url, settings, code):
    def resolve(host, port):
        return ["10.0.0.7"] if host == "rebind.example.com" else ["93.184.216.34"]

    with pytest.raises(webhooks.WebhookFormInvalid) as refused:
        webhooks.validate_url(url, settings=settings, resolve=resolve)
    assert refused.value.errors["url"].code == code


def test_url_acceptances():
    public = lambda host, port: ["93.184.216.34"]
    assert (
        webhooks.validate_url(" https://crm.example.com/hooks?x=1 ", settings=PROD, resolve=public)
        == "https://crm.example.com/hooks?x=1"
    )
    assert webhooks.validate_url("http://127.0.0.1:8080/h", settings=DEV, resolve=public) == "http://127.0.0.1:8080/h"
    assert webhooks.validate_url("http://localhost/h", settings=DEV, resolve=public) == "http://localhost/h"

    # DNS down at save time: accepted, every send checks again.
    def down(host, port):
        raise OSError("no DNS")

    assert webhooks.validate_url("https://crm.example.com/h", settings=PROD, resolve=down)


def test_each_send_rechecks_and_pins_the_checked_address():
    dest = webhooks.destination("https://crm.example.com:8443/h?x=1", settings=PROD, resolve=lambda h, p: ["93.184.216.34"])
    assert dest.url == "https://93.184.216.34:8443/h?x=1"
    assert dest.headers == {"Host": "crm.example.com:8443"} and dest.extensions == {"sni_hostname": "crm.example.com"}
    v6 = webhooks.destination("https://crm.example.com/h", settings=PROD, resolve=lambda h, p: ["2606:2800:220:1::1"])
    assert v6.url == "https://[2606:2800:220:1::1]/h"
    with pytest.raises(webhooks._Refused):  # DNS now answers a private address (rebinding)
        webhooks.destination("https://crm.example.com/h", settings=PROD, resolve=lambda h, p: ["93.184.216.34", "127.0.0.1"])
    with pytest.raises(webhooks._Refused):
        webhooks.destination("http://127.0.0.1:8080/h", settings=PROD)
    assert webhooks.destination("http://127.0.0.1:8080/h", settings=DEV).url == "http://127.0.0.1:8080/h"


def test_a_refused_destination_is_a_failed_attempt_without_a_request(world, receiver):
    e = world["engine"]
    endpoint_id, receiver.secret = add_endpoint(world, receiver.url)  # saved while localhost was allowed
    credit(world, "R1")
    report = webhooks.deliver_due(e, settings=PROD)
    assert report.retried == 1 and receiver.requests == []
    assert deliveries(e)[0].last_error.startswith("refused")


def test_endpoint_form_errors_come_back_per_field_and_nothing_is_saved(world):
    e = world["engine"]
    with pytest.raises(webhooks.WebhookFormInvalid) as refused:
        webhooks.save_endpoint(
            e, world["admin"], {"url": "http://crm.example.com", "description": "x" * 121, "event:nope": "on"}, settings=PROD
        )
    assert {k: v.code for k, v in refused.value.errors.items()} == {
        "url": "url_not_https",
        "description": "description_too_long",
        "events": "unknown_event",
    }
    with pytest.raises(webhooks.WebhookFormInvalid) as no_events:
        webhooks.save_endpoint(e, world["admin"], {"url": "https://93.184.216.34/h"}, settings=PROD)
    assert set(no_events.value.errors) == {"events"}
    with read_session(e) as s:
        assert s.exec(select(WebhookEndpoint)).all() == []
        assert s.exec(select(AdminAuditEntry)).all() == []


# ------------------------------------------------------------------------------ admin service rules


def test_only_the_programs_admins_manage_webhooks_and_every_change_is_audited(world):
    e = world["engine"]
    data = {"url": "http://127.0.0.1:9/h", "event:points.credited": "on", "description": "Our CRM"}
    for actor in (None, world["ana_actor"], world["staff"]):
        with pytest.raises(NotAllowed):
            webhooks.save_endpoint(e, actor, data, settings=DEV)
        with pytest.raises(NotAllowed):
            webhooks.list_endpoints(e, actor)
    view, secret = webhooks.save_endpoint(e, world["admin"], data, settings=DEV)
    assert view.events == ("points.credited",) and view.description == "Our CRM" and view.is_active
    for call in (
        lambda a: webhooks.reveal_secret(e, a, view.endpoint_id),
        lambda a: webhooks.rotate_secret(e, a, view.endpoint_id),
        lambda a: webhooks.set_active(e, a, view.endpoint_id, False),
        lambda a: webhooks.send_test_event(e, a, view.endpoint_id),
        lambda a: webhooks.save_endpoint(e, a, data, endpoint_id=view.endpoint_id, settings=DEV),
    ):
        with pytest.raises(NotFound):
            call(world["books_admin"])  # another program's admin: not found, nothing learnt
        with pytest.raises(NotAllowed):
            call(world["staff"])
    assert webhooks.list_endpoints(e, world["books_admin"]) == []

    edited, no_secret = webhooks.save_endpoint(
        e, world["admin"], {**data, "event:member.enrolled": "on", "is_active": ""}, endpoint_id=view.endpoint_id, settings=DEV
    )
    assert no_secret is None and edited.events == ("member.enrolled", "points.credited") and not edited.is_active
    with pytest.raises(LoyaltyError) as off:
        webhooks.send_test_event(e, world["admin"], view.endpoint_id)
    assert off.value.code == "webhook_inactive"
    webhooks.set_active(e, world["admin"], view.endpoint_id, True)
    assert webhooks.reveal_secret(e, world["admin"], view.endpoint_id) == secret
    rotated = webhooks.rotate_secret(e, world["admin"], view.endpoint_id)
    delivery_id = webhooks.send_test_event(e, world["admin"], view.endpoint_id)
    assert deliveries(e)[0].id == delivery_id and deliveries(e)[0].event_type == "webhook.test"
    with read_session(e) as s:
        audit = s.exec(select(AdminAuditEntry).order_by(AdminAuditEntry.id)).all()
    assert [a.action for a in audit] == [
        "webhook.create",
        "webhook.update",
        "webhook.enable",
        "webhook.reveal_secret",
        "webhook.rotate_secret",
        "webhook.test",
    ]
    assert all(secret not in json.dumps(a.detail) + a.target and rotated not in json.dumps(a.detail) for a in audit)


# ------------------------------------------------------------------------------ the console page

from tests.unit.test_states import app_db, cookie_for, root_state, run, substate  # noqa: E402,F401  (fixture too)


def test_console_handlers_refuse_non_admins(app_db, monkeypatch):
    from loyalty_app.pages.admin_webhooks import WebhooksState

    engine, ids = app_db
    monkeypatch.setattr(webhooks, "get_settings", lambda: DEV)
    form = {"url": "http://127.0.0.1:9/h", "event:points.credited": "on", "is_active": "on"}
    for cookie, expected in (
        ("", "Please sign in first."),
        (cookie_for(engine, ids["member"], "cafe"), "You are not allowed to do this."),
        (cookie_for(engine, ids["staff"], "cafe"), "You are not allowed to do this."),
    ):
        state = substate(root_state(cookie=cookie, page="admin-webhooks"), WebhooksState)
        for handler in (
            state.load(),
            state.save(form),
            state.reveal("1"),
            state.rotate("1"),
            state.send_test("1"),
            state.retry("1"),
            state.toggle_active("1", False),
            state.edit("1"),
        ):
            state.error = ""
            asyncio.run(run(handler))
            assert state.error == expected
        assert state.endpoints == [] and state.secret == ""
    with read_session(engine) as s:
        assert s.exec(select(WebhookEndpoint)).all() == []


def test_console_add_shows_the_secret_once_and_field_errors_translated(app_db, monkeypatch, receiver):
    from loyalty_app.pages.admin_webhooks import WebhooksState
    from loyalty_app.state.language import LanguageState

    engine, ids = app_db
    monkeypatch.setattr(webhooks, "get_settings", lambda: DEV)
    admin = accounts.create_admin(engine, merchant_id=ids["cafe"], email="boss@x.test", password=PW, first_name="Bo")
    root = root_state(cookie=cookie_for(engine, admin.id, "cafe"), page="admin-webhooks")
    state = substate(root, WebhooksState)
    asyncio.run(run(state.load()))
    assert state.error == "" and state.endpoints == [] and len(state.chosen) == len(webhooks.WEBHOOK_EVENTS)

    substate(root, LanguageState).lang = "es"
    asyncio.run(run(state.save({"url": "https://10.0.0.1/h", "description": "", "is_active": "on"})))
    assert state.errors == {
        "url": translate("es", webhooks.PRIVATE_ADDRESS),
        "events": translate("es", "Choose at least one event to send."),
    }
    assert state.error == translate("es", "Some fields need a fix: see the messages below.")
    assert state.values["url"] == "https://10.0.0.1/h"  # what was typed stays for fixing
    substate(root, LanguageState).lang = "en"

    asyncio.run(
        run(
            state.save(
                {
                    "url": receiver.url,
                    "description": "CRM",
                    "is_active": "on",
                    "event:points.credited": "on",
                    "event:member.enrolled": "on",
                }
            )
        )
    )
    assert state.errors == {} and state.secret.startswith("whsec_") and state.secret_for == receiver.url
    assert [(e["url"], e["events"], e["active"]) for e in state.endpoints] == [
        (receiver.url, "member.enrolled, points.credited", "1")
    ]
    receiver.secret = state.secret
    endpoint_id = state.endpoints[0]["id"]
    state.hide_secret()
    assert state.secret == ""
    asyncio.run(run(state.send_test(endpoint_id)))
    assert state.notice == "Test event delivered (HTTP 200)." and receiver.requests[0]["verified"]
    assert receiver.requests[0]["event"] == "webhook.test"
    assert [(d["event"], d["attempts"], d["can_retry"]) for d in state.deliveries] == [("webhook.test", "1", "")]
    asyncio.run(run(state.reveal(endpoint_id)))
    assert state.secret == receiver.secret
    asyncio.run(run(state.toggle_active(endpoint_id, False)))
    assert state.endpoints[0]["active"] == ""


def test_the_readme_receiver_snippet_verifies_our_signature():
    """The 6 lines receivers copy from the README accept what we send and refuse a wrong secret."""
    import re

    from loyalty_app.settings import PROJECT_ROOT

    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("## CRM webhooks") :]
    snippet = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(snippet.strip().splitlines()) == 6
    namespace: dict = {}
    exec(snippet, namespace)
    body = webhooks.body_bytes({"id": "evt_1", "type": "points.credited", "data": {"points": 5}})
    ts = str(int(time.time()))
    headers = {"X-Loyalty-Timestamp": ts, "X-Loyalty-Signature": webhooks.sign("whsec_a", ts, body)}
    assert namespace["verify"]("whsec_a", headers, body)
    assert not namespace["verify"]("whsec_b", headers, body)
    assert not namespace["verify"]("whsec_a", headers, body + b" ")


def test_a_failed_attempt_is_explained_in_the_admins_language():
    """The row keeps the English text; the console reads it back and shows it translated."""
    from loyalty_app.pages.admin_webhooks import failure_text

    stored = {
        "not_public": webhooks._failure("not_public", host="127.0.0.1"),
        "not_https": webhooks._failure("not_https"),
        "unresolved": webhooks._failure("unresolved", host="crm.example.com"),
        "resolves_private": webhooks._failure("resolves_private", host="crm.example.com", address="10.0.0.7"),
        "timeout": webhooks._failure("timeout", seconds="5"),
        "connection": webhooks._failure("connection", reason="ConnectError: [Errno 111] Connection refused"),
    }
    assert set(stored) | {"http"} == set(webhooks.FAILURES)
    for lang in ("es", "ro", "ru"):
        for key, english in stored.items():
            shown = failure_text(lang, english)
            assert shown != english, (lang, key, shown)
        assert "127.0.0.1" in failure_text(lang, stored["not_public"])
        assert "10.0.0.7" in failure_text(lang, stored["resolves_private"])
        assert "Errno 111" in failure_text(lang, stored["connection"])  # technical detail kept as is
    assert failure_text("es", "something unforeseen") == "something unforeseen"
