"""Periodic jobs: one worker holds the lease at a time; a round expires and releases points."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlmodel import delete

from loyalty_app.db import read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import AppMeta, Merchant
from loyalty_app.models.loyalty import ProgramSettings
from loyalty_app.services import ledger
from loyalty_app.services.members import accounts
from loyalty_app.services.operations.jobs import run_periodic_jobs, take_lease
from loyalty_app.services.platform.tx import run_in_transaction


def test_only_one_owner_holds_the_lease_until_it_expires(db_engine):
    now = utcnow()
    assert take_lease(db_engine, owner="a", now=now, ttl=timedelta(minutes=10))
    assert not take_lease(db_engine, owner="b", now=now + timedelta(minutes=5), ttl=timedelta(minutes=10))
    assert take_lease(db_engine, owner="a", now=now + timedelta(minutes=5), ttl=timedelta(minutes=10))  # renew
    assert take_lease(db_engine, owner="b", now=now + timedelta(minutes=16), ttl=timedelta(minutes=10))


def test_workers_starting_together_elect_one_holder_without_an_error(db_engine):
    """Two workers find no lease row and both insert one: the loser gets False, not an exception."""
    now = utcnow()
    for _ in range(15):
        with write_session(db_engine) as s:
            s.execute(delete(AppMeta))
        barrier = threading.Barrier(2)

        def take(owner: str, barrier: threading.Barrier = barrier) -> bool:
            barrier.wait()
            return take_lease(db_engine, owner=owner, now=now, ttl=timedelta(minutes=10))

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(take, ["a", "b"]))  # re-raises a worker's exception
        assert sorted(results) == [False, True]


def test_a_round_releases_and_expires_points(db_engine):
    with write_session(db_engine) as s:
        m = Merchant(slug="cafe", name="Cafe", short_name="Cafe")
        s.add(m)
        s.flush()
        s.add(ProgramSettings(merchant_id=m.id, expiry_policy="after_days", expiry_days=30))
        merchant_id = m.id
    member = accounts.sign_up_member(
        db_engine, merchant_id=merchant_id, email="m@x.test", password="correct horse 1", first_name="A"
    )
    start = utcnow() - timedelta(days=100)
    run_in_transaction(
        db_engine,
        lambda s: ledger.credit(
            s, merchant_id=merchant_id, account_id=member.id, points=50, idempotency_key="old", reason="Welcome", now=start
        ),
    )
    assert run_periodic_jobs(db_engine) == {"released": 0, "expired": 1, "tier_changes": 0, "purged": 0}
    run_in_transaction(
        db_engine,
        lambda s: ledger.credit(
            s,
            merchant_id=merchant_id,
            account_id=member.id,
            points=20,
            idempotency_key="held",
            reason="Welcome",
            pending_days=7,
            now=utcnow() - timedelta(days=8),
        ),
    )
    assert run_periodic_jobs(db_engine) == {"released": 1, "expired": 0, "tier_changes": 0, "purged": 0}
    with read_session(db_engine) as s:
        b = ledger.get_balance(s, merchant_id=merchant_id, account_id=member.id)
    assert (b.available, b.pending, b.expired) == (20, 0, 50)
    assert run_periodic_jobs(db_engine) == {"released": 0, "expired": 0, "tier_changes": 0, "purged": 0}
