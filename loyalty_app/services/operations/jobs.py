"""Periodic jobs: release matured pending points, expire points, evaluate tiers, roll up the
analytics of closed local days (``services.insight.analytics_rollup``).

Every job is idempotent, so running it twice is harmless; still, with several backend workers
only one should do the work each round: a lease row in ``appmeta`` (taken in a write
transaction, with an expiry) elects it. A crashed holder's lease simply runs out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from loyalty_app.db import get_engine, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models import AppMeta, Merchant
from loyalty_app.services import ledger
from loyalty_app.services.crm import webhooks
from loyalty_app.services.earning.tiers import evaluate_tiers
from loyalty_app.services.insight import analytics_rollup
from loyalty_app.services.platform import live
from loyalty_app.services.platform.tx import run_in_transaction
from loyalty_app.services.store import member_codes

log = logging.getLogger("loyalty_app.jobs")
LEASE_KEY = "jobs_lease"
JOB_INTERVAL_SECONDS = int(os.environ.get("LOYALTY_JOB_INTERVAL", "600"))


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def take_lease(engine: Engine, *, owner: str, now: datetime, ttl: timedelta) -> bool:
    """True when ``owner`` holds the jobs lease until ``now + ttl`` (taken or renewed). Two workers
    starting together may both find no lease row and insert one: the loser's insert fails on the
    key, which means another worker holds the lease."""
    try:
        with write_session(engine) as s:
            row = s.get(AppMeta, LEASE_KEY, with_for_update=True)
            if row is not None:
                holder, _, until = row.value.partition("|")
                if holder != owner and until and datetime.fromisoformat(until) > now:
                    return False
            row = row or AppMeta(key=LEASE_KEY, value="")
            row.value = f"{owner}|{(now + ttl).isoformat()}"
            row.updated_at = now
            s.add(row)
    except IntegrityError:
        return False
    return True


def run_periodic_jobs(engine: Engine | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """One round over every merchant; returns counts of what was written."""
    engine = engine or get_engine()
    now = now or utcnow()
    totals = {"released": 0, "expired": 0, "tier_changes": 0}
    with write_session(engine) as s:
        merchant_ids = list(s.exec(select(Merchant.id)).all())
    for merchant_id in merchant_ids:
        totals["released"] += run_in_transaction(
            engine, lambda s, m=merchant_id: ledger.release_pending(s, merchant_id=m, now=now)
        )
        totals["expired"] += run_in_transaction(engine, lambda s, m=merchant_id: ledger.expire_due(s, merchant_id=m, now=now))
        report = evaluate_tiers(engine, merchant_id, now)
        totals["tier_changes"] += report.upgraded + report.downgraded
    totals["purged"] = live.purge_stale(engine, now=now) + member_codes.purge_used(engine, now=now)
    webhooks.deliver_due(engine, now=now)  # CRM webhook retries (also polled by each worker; logs its own counts)
    days = 0
    for merchant_id in merchant_ids:  # last: derived data, a failure costs the dashboard speed, never a number
        try:
            days += analytics_rollup.rollup_merchant(engine, merchant_id, now=now)
        except Exception:
            log.exception("analytics rollup of merchant %s failed", merchant_id)
    if days:
        log.info("analytics rollup: %s local days added", days)
    return totals


async def periodic_jobs_task() -> None:
    """Lifespan task of the Reflex backend: a round every JOB_INTERVAL_SECONDS (lease-elected)."""
    owner = _owner()
    while True:
        try:
            engine = get_engine()
            if await asyncio.to_thread(
                take_lease, engine, owner=owner, now=utcnow(), ttl=timedelta(seconds=JOB_INTERVAL_SECONDS * 2)
            ):
                totals = await asyncio.to_thread(run_periodic_jobs, engine)
                log.info("periodic jobs: %s", totals)
        except Exception:
            log.exception("periodic jobs failed")
        await asyncio.sleep(JOB_INTERVAL_SECONDS)
