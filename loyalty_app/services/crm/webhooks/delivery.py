"""Delivery: claim a due row, sign and send it outside any transaction, record the outcome
and schedule retries; the background kick after a commit and every worker's poll loop."""

from __future__ import annotations

import asyncio
import functools
import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyalty_app.db import get_engine, read_session, write_session
from loyalty_app.domain.clock import utcnow
from loyalty_app.models.webhooks import WebhookDelivery, WebhookEndpoint
from loyalty_app.services.crm.webhooks.config import (
    CLAIM_LEASE,
    ERROR_MAX,
    JITTER,
    MAX_ATTEMPTS,
    POLL_SECONDS,
    RETRY_SCHEDULE_S,
    TIMEOUT_S,
    USER_AGENT,
    Resolver,
    Sender,
    app_settings,
    kicks_enabled,
)
from loyalty_app.services.crm.webhooks.signing import body_bytes, sign
from loyalty_app.services.crm.webhooks.urls import _Destination, _failure, _Refused, destination
from loyalty_app.settings import Settings

log = logging.getLogger("loyalty_app.webhooks")


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    results: list[tuple[int, str, int | None, str]] = field(default_factory=list)  # (delivery id, status, code, error)

    @property
    def sent(self) -> int:
        return self.delivered + self.retried + self.failed


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    endpoint_id: int
    attempt: int
    event_type: str
    event_id: str
    payload: dict
    url: str
    secret: str


def retry_delay(attempt: int, rng: random.Random | None = None) -> timedelta:
    """How long after failed attempt ``attempt`` (1-based) the next one is due, with jitter."""
    base = RETRY_SCHEDULE_S[min(attempt, len(RETRY_SCHEDULE_S)) - 1]
    return timedelta(seconds=base * (rng or random).uniform(1 - JITTER, 1 + JITTER))


def _due(stmt, now: datetime, merchant_id: int | None, delivery_id: int | None):
    stmt = stmt.join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id).where(
        WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, WebhookEndpoint.is_active.is_(True)
    )
    if merchant_id is not None:
        stmt = stmt.where(WebhookDelivery.merchant_id == merchant_id)
    if delivery_id is not None:
        stmt = stmt.where(WebhookDelivery.id == delivery_id)
    return stmt


def _any_due(engine: Engine, now: datetime, *, merchant_id: int | None, delivery_id: int | None) -> bool:
    with read_session(engine) as s:
        return s.exec(_due(select(WebhookDelivery.id), now, merchant_id, delivery_id).limit(1)).first() is not None


def _claim_next(
    engine: Engine, now: datetime, *, merchant_id: int | None, delivery_id: int | None, skip_endpoints: set[int]
) -> _Claim | None:
    """Take the next due delivery for this worker, counting the attempt; None when none is due."""
    with write_session(engine) as s:
        stmt = _due(select(WebhookDelivery.id, WebhookDelivery.attempts), now, merchant_id, delivery_id)
        stmt = stmt.order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(1)
        if skip_endpoints:
            stmt = stmt.where(WebhookDelivery.endpoint_id.not_in(sorted(skip_endpoints)))  # type: ignore[attr-defined]
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=WebhookDelivery, skip_locked=True)
        row = s.exec(stmt).first()
        if row is None:
            return None
        found_id, seen = row
        claimed = s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == found_id,
                WebhookDelivery.status == "pending",
                WebhookDelivery.attempts == seen,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(attempts=seen + 1, next_attempt_at=now + CLAIM_LEASE, updated_at=now)
        )
        if claimed.rowcount != 1:
            return None  # another worker took it between our read and write (not reachable under our locks)
        delivery = s.get(WebhookDelivery, found_id)
        endpoint = s.get(WebhookEndpoint, delivery.endpoint_id)
        return _Claim(
            found_id,
            endpoint.id,
            seen + 1,
            delivery.event_type,
            delivery.event_id,
            dict(delivery.payload),
            endpoint.url,
            endpoint.secret,
        )


def _record(engine: Engine, claim: _Claim, now: datetime, *, code: int | None, error: str, rng: random.Random | None) -> str:
    """Write the outcome of this attempt, unless the row moved on meanwhile; returns the status."""
    ok = code is not None and 200 <= code < 300
    values: dict = {"last_status_code": code, "last_error": error[:ERROR_MAX], "updated_at": now}
    if ok:
        status = "delivered"
        values.update(status=status, delivered_at=now, last_error="")
    elif claim.attempt >= MAX_ATTEMPTS:
        status = "failed"
        values.update(status=status)
    else:
        status = "pending"
        values.update(next_attempt_at=now + retry_delay(claim.attempt, rng))
    with write_session(engine) as s:
        s.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == claim.delivery_id,
                WebhookDelivery.attempts == claim.attempt,
                WebhookDelivery.status == "pending",
            )
            .values(**values)
        )
    return status


def http_send(client, dest: _Destination, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status code; the response body is never read (it could be huge)."""
    with client.stream(
        "POST", dest.url, content=body, headers={**headers, **dest.headers}, extensions=dest.extensions or None
    ) as response:
        return response.status_code


def _attempt(
    client, claim: _Claim, now: datetime, *, settings: Settings, resolve: Resolver | None, send: Sender
) -> tuple[int | None, str, bool]:
    """Send one claimed attempt: (status code or None, error text, endpoint unreachable)."""
    import httpx

    body = body_bytes(claim.payload)
    timestamp = str(int(now.timestamp()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Loyalty-Event": claim.event_type,
        "X-Loyalty-Delivery": claim.event_id,
        "X-Loyalty-Timestamp": timestamp,
        "X-Loyalty-Signature": sign(claim.secret, timestamp, body),
    }
    try:
        dest = destination(claim.url, settings=settings, resolve=resolve)
        code = send(client, dest, body, headers)
    except _Refused as err:
        return None, str(err), True
    except httpx.TimeoutException:
        return None, _failure("timeout", seconds=f"{TIMEOUT_S:g}"), True
    except httpx.HTTPError as err:
        return None, _failure("connection", reason=f"{type(err).__name__}: {err}"), True
    if 200 <= code < 300:
        return code, "", False
    return code, _failure("http", code=code), False


def deliver_due(
    engine: Engine | None = None,
    *,
    now: datetime | None = None,
    clock: Callable[[], datetime] | None = None,
    merchant_id: int | None = None,
    delivery_id: int | None = None,
    limit: int = 100,
    settings: Settings | None = None,
    resolve: Resolver | None = None,
    send: Sender = http_send,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send what is due, one claimed attempt at a time, up to ``limit`` attempts.

    ``now``/``clock``: the time (tests inject it; ``now`` fixes it for the whole run). An
    endpoint that does not answer is skipped for the rest of the run (its other deliveries wait
    for their next round instead of each waiting for a timeout).
    """
    import httpx

    engine = engine or get_engine()
    settings = settings or app_settings()
    tick = clock or ((lambda: now) if now is not None else utcnow)
    report = DeliveryReport()
    unreachable: set[int] = set()
    client = None  # made on the first claim: an idle round costs one read query, no write lock
    if not _any_due(engine, tick(), merchant_id=merchant_id, delivery_id=delivery_id):
        return report
    try:
        for _ in range(max(0, limit)):
            at = tick()
            claim = _claim_next(engine, at, merchant_id=merchant_id, delivery_id=delivery_id, skip_endpoints=unreachable)
            if claim is None:
                break
            if client is None:
                client = httpx.Client(timeout=TIMEOUT_S, follow_redirects=False, trust_env=False)
            code, error, down = _attempt(client, claim, at, settings=settings, resolve=resolve, send=send)
            if down:
                unreachable.add(claim.endpoint_id)
            status = _record(engine, claim, at, code=code, error=error, rng=rng)
            counter = {"delivered": "delivered", "pending": "retried", "failed": "failed"}[status]
            setattr(report, counter, getattr(report, counter) + 1)
            report.results.append((claim.delivery_id, status, code, error))
    finally:
        if client is not None:
            client.close()
    if report.sent:
        log.info("webhooks: %d delivered, %d to retry, %d failed", report.delivered, report.retried, report.failed)
    return report


# --------------------------------------------------------------------- kicks and the poll loop

_kick_lock = threading.Lock()
_kicking: dict[int, bool] = {}  # merchant id -> another run was asked for while one runs


def _kick_after_commit(session: Session, merchant_id: int) -> None:
    if not kicks_enabled():
        return
    pending: set[int] = session.info.setdefault("webhook_kicks", set())
    if not pending:
        bind = session.get_bind()
        engine = bind if isinstance(bind, Engine) else bind.engine

        def _after_commit(_session) -> None:
            for merchant in sorted(pending):
                kick(engine, merchant)
            pending.clear()

        sa_event.listen(session, "after_commit", _after_commit, once=True)
        sa_event.listen(session, "after_rollback", lambda _s: pending.clear(), once=True)
    pending.add(merchant_id)


def kick(engine: Engine, merchant_id: int) -> None:
    """Deliver this merchant's due events now, in a background thread (one per merchant)."""
    with _kick_lock:
        if merchant_id in _kicking:
            _kicking[merchant_id] = True
            return
        _kicking[merchant_id] = False
    threading.Thread(target=_kick_loop, args=(engine, merchant_id), daemon=True, name=f"webhooks-{merchant_id}").start()


def _kick_loop(engine: Engine, merchant_id: int) -> None:
    try:
        while True:
            deliver_due(engine, merchant_id=merchant_id, limit=50)
            with _kick_lock:
                if not _kicking.get(merchant_id):
                    _kicking.pop(merchant_id, None)
                    return
                _kicking[merchant_id] = False
    except Exception:
        log.exception("webhook delivery after commit failed")
        with _kick_lock:
            _kicking.pop(merchant_id, None)


async def webhook_delivery_task() -> None:
    """Lifespan task of every backend worker: deliver due events (retries) every POLL_SECONDS.
    Workers share the work safely through the claim; an idle round is one indexed query. Its
    own thread, not asyncio's shared pool: a slow CRM must not hold threads members' events need."""
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="webhooks")
    try:
        while True:
            try:
                await loop.run_in_executor(executor, functools.partial(deliver_due, get_engine()))
            except Exception:
                log.exception("webhook delivery round failed")
            await asyncio.sleep(POLL_SECONDS)
    finally:
        executor.shutdown(wait=False)  # never block the event loop on a send in flight
