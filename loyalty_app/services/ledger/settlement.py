"""Settlement: releasing matured pending lots and expiring due ones, as entries; for one member
at the start of each write (``_catch_up``) and for a whole program (the jobs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, select

from loyalty_app.domain.errors import N_
from loyalty_app.domain.ledger import EntryKind
from loyalty_app.models.loyalty import MemberBalance, PointLot
from loyalty_app.services.ledger.entries import _aware, _Deltas, _EntryDraft, _lock_balance, _move, _write_entry
from loyalty_app.services.platform import events

# --------------------------------------------------------------------------- one member


def _catch_up(session: Session, balance: MemberBalance, now: datetime, *, expire: bool = True) -> tuple[int, int]:
    """Release the member's matured pending lots and expire the due ones, as entries.

    Returns (release entries, expire entries) written. Caller holds the member's lock. Each
    entry is published (``events.PointsPosted``, ``settlement=True``) in this transaction: the
    CRM outbox sends it as points.released / points.expired; ``post`` publishes only its own
    entry, so none is reported twice.
    """
    conditions = [and_(PointLot.is_pending == True, PointLot.available_at <= now)]  # noqa: E712
    if expire:
        conditions.append(and_(PointLot.expires_at.is_not(None), PointLot.expires_at <= now))
    stmt = (
        select(PointLot)
        .where(PointLot.account_id == balance.account_id, PointLot.remaining > 0, or_(*conditions))
        .order_by(PointLot.id)
        .execution_options(populate_existing=True)
    )
    released = expired = 0
    for lot in session.exec(stmt).all():
        if lot.is_pending and lot.available_at <= now:
            entry = _write_entry(
                session,
                balance,
                _EntryDraft(
                    kind=EntryKind.RELEASE,
                    points=lot.remaining,
                    deltas=_Deltas(available=lot.remaining, pending=-lot.remaining),
                    reason=N_("Pending points are now available."),
                    reason_params={"lot_id": lot.id, "earn_entry_id": lot.source_entry_id},
                    idempotency_key=f"release:lot:{lot.id}",
                    request_hash=f"release:lot:{lot.id}",
                    lot_id=lot.id,
                ),
                now,
            )
            lot.is_pending = False
            events.publish(session, events.PointsPosted.of(entry, settlement=True))  # e.g. points.released
            released += 1
        if expire and not lot.is_pending and lot.expires_at is not None and lot.expires_at <= now:
            amount = lot.remaining
            entry = _write_entry(
                session,
                balance,
                _EntryDraft(
                    kind=EntryKind.EXPIRE,
                    points=-amount,
                    deltas=_Deltas(available=-amount, expired=amount),
                    reason=N_("Points expired."),
                    reason_params={"lot_id": lot.id, "expires_at": lot.expires_at.isoformat()},
                    idempotency_key=f"expire:lot:{lot.id}",
                    request_hash=f"expire:lot:{lot.id}",
                    lot_id=lot.id,
                ),
                now,
            )
            _move(session, entry, lot, -amount)
            events.publish(session, events.PointsPosted.of(entry, settlement=True))  # points.expired, never .debited
            expired += 1
    return released, expired


# --------------------------------------------------------------------------- jobs


def _accounts_with_lots(session: Session, merchant_id: int, condition) -> list[int]:
    stmt = (
        select(PointLot.account_id)
        .where(PointLot.merchant_id == merchant_id, PointLot.remaining > 0, condition)
        .distinct()
        .order_by(PointLot.account_id)
    )
    return list(session.exec(stmt))


def release_pending(session: Session, *, merchant_id: int, now: datetime) -> int:
    """Turn every matured pending lot of the program into a release entry; returns how many.

    Idempotent: a released lot is no longer pending. Members are locked in account order so
    two jobs (or a job and member writes) cannot deadlock on each other.
    """
    now = _aware(now)
    accounts = _accounts_with_lots(
        session,
        merchant_id,
        and_(PointLot.is_pending == True, PointLot.available_at <= now),  # noqa: E712
    )
    released = 0
    for account_id in accounts:
        balance = _lock_balance(session, merchant_id, account_id)
        released += _catch_up(session, balance, now, expire=False)[0]
    session.flush()
    return released


def expire_due(session: Session, *, merchant_id: int, now: datetime) -> int:
    """Expire what remains of every lot whose expiry has passed; returns the expire entries written.

    A pending lot whose pending period ended is released first (then expired if due).
    Idempotent: an expired lot has nothing left.
    """
    now = _aware(now)
    accounts = _accounts_with_lots(session, merchant_id, and_(PointLot.expires_at.is_not(None), PointLot.expires_at <= now))
    expired = 0
    for account_id in accounts:
        balance = _lock_balance(session, merchant_id, account_id)
        expired += _catch_up(session, balance, now)[1]
    session.flush()
    return expired
