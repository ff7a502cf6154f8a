"""The points ledger service: every credit and debit of a member's points goes through ``post``.

Transactions belong to the caller (``loyalty_app.db.write_session`` or
``loyalty_app.services.tx.run_in_transaction``): nothing here commits. What makes the ledger
safe under concurrency:

1. Every write first locks the member's ``MemberBalance`` row (SELECT ... FOR UPDATE on
   PostgreSQL; SQLite write transactions hold the database write lock from BEGIN IMMEDIATE).
   All lot reads and writes for the member happen under that lock, so two debits cannot both
   see the same points.
2. The idempotency key is looked up after the lock: a repeated request for the same member is
   answered from the first entry (``replayed=True``) and writes nothing. The same key for a
   different member is caught by the unique constraint inside a SAVEPOINT, then re-read.
3. Balance counters, entries, lots and lot movements change in the same transaction.

Reversal policy (documented choice): reversing an earn removes what is left of its lot and,
for the part already spent, takes the same number of points from the member's other available
points (soonest-expiring first). Points of the lot that already expired are not taken twice.
If the member no longer has enough, the reversal is refused (``reversal_insufficient_points``)
and nothing changes; staff can then post a smaller ``adjust``. Reversing a redeem/donation
gives the points back into the lots it drained when they are still valid, else into a new lot
that is available at once and expires by the current program policy.

Matured pending lots and due expiries of a member are settled (release/expire entries) at the
start of every write for that member, so a debit never spends expired points nor misses points
whose pending period ended; ``release_pending``/``expire_due`` do the same for a whole program.

Every entry written (never a replay) is published as ``services.events.PointsPosted`` in the
same transaction; subscribers (the CRM outbox) react there. The ledger imports none of them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, Conflict, LoyaltyError, NotAllowed, NotFound
from loyalty_app.domain.ledger import (
    DEBIT_KINDS,
    BalanceSnapshot,
    EntryKind,
    ExpiryPolicy,
    LedgerRequest,
    LedgerResult,
    LotView,
    Rounding,
    allocate,
    compute_expiry,
    idempotency_conflict,
    request_fingerprint,
    to_json_safe,
    validate_points,
    validate_request,
)
from loyalty_app.models.accounts import Account, Merchant, Role
from loyalty_app.models.loyalty import LedgerEntry, LotMovement, MemberBalance, PointLot, ProgramSettings
from loyalty_app.services import events

__all__ = [
    "AuditReport",
    "BalanceSnapshot",
    "Drift",
    "EntryKind",
    "LedgerRequest",
    "LedgerResult",
    "adjust",
    "audit",
    "credit",
    "debit",
    "expire_due",
    "expiring_points",
    "get_balance",
    "get_program_settings",
    "history",
    "lifetime_earned_between",
    "main_audit",
    "post",
    "release_pending",
    "reverse",
]


# --------------------------------------------------------------------------- program settings


def get_program_settings(session: Session, merchant_id: int) -> ProgramSettings:
    """The merchant's ProgramSettings row, created with defaults on first use.

    Two transactions creating it at once are safe: the loser's insert fails inside a SAVEPOINT
    and it re-reads the winner's row.
    """
    stmt = select(ProgramSettings).where(ProgramSettings.merchant_id == merchant_id)
    row = session.exec(stmt).first()
    if row is not None:
        return row
    if session.get(Merchant, merchant_id) is None:
        raise NotFound(N_("Program not found."), code="merchant_not_found")
    try:
        with session.begin_nested():
            row = ProgramSettings(merchant_id=merchant_id, updated_at=utcnow())
            session.add(row)
    except IntegrityError:
        row = session.exec(stmt).one()
    return row


def validate_program_settings(row: ProgramSettings) -> None:
    """Refuse settings the ledger cannot apply (called by whoever edits them)."""
    ExpiryPolicy(row.expiry_policy)
    Rounding(row.purchase_rounding)
    if row.tier_window not in ("rolling_12m", "calendar_year"):
        raise LoyaltyError(N_("Unknown tier window."), code="invalid_settings")
    if row.expiry_policy == ExpiryPolicy.AFTER_DAYS.value and row.expiry_days < 1:
        raise LoyaltyError(N_("Points must live at least one day."), code="invalid_settings")
    if row.expiry_days < 0 or row.pending_days < 0 or row.pending_days > 366:
        raise LoyaltyError(N_("Invalid number of days."), code="invalid_settings")


# --------------------------------------------------------------------------- checks and locks


def _member_not_found() -> NotFound:
    return NotFound(N_("Member not found."), code="member_not_found")


def _entry_not_found() -> NotFound:
    return NotFound(N_("Ledger entry not found."), code="entry_not_found")


def _require_member(session: Session, merchant_id: int, account_id: int) -> None:
    """The account must exist in this merchant's program; another program's id is 'not found'."""
    owner = session.exec(select(Account.merchant_id).where(Account.id == account_id)).first()
    if owner is None or owner != merchant_id:
        raise _member_not_found()


def _require_author(session: Session, merchant_id: int, author_id: int, *, staff_only: bool) -> None:
    row = session.exec(select(Account.merchant_id, Account.role).where(Account.id == author_id)).first()
    if row is None or row[0] != merchant_id:
        raise NotFound(N_("Author not found."), code="author_not_found")
    if staff_only and Role(row[1]) == Role.MEMBER:
        raise NotAllowed(N_("Only staff can adjust points."), code="not_staff")


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def _lock_balance(session: Session, merchant_id: int, account_id: int) -> MemberBalance:
    """Lock (creating if needed) the member's balance row: the member's write lock."""
    stmt = (
        select(MemberBalance)
        .where(MemberBalance.account_id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    balance = session.exec(stmt).first()
    if balance is None:
        values = dict(
            account_id=account_id,
            merchant_id=merchant_id,
            available=0,
            pending=0,
            lifetime_earned=0,
            spent=0,
            expired=0,
            donated=0,
            entry_count=0,
            updated_at=utcnow(),
        )
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(insert(MemberBalance.__table__).values(**values).on_conflict_do_nothing(index_elements=["account_id"]))
        balance = session.exec(stmt).one()
    if balance.merchant_id != merchant_id:
        raise _member_not_found()
    return balance


def _snapshot(balance: MemberBalance) -> BalanceSnapshot:
    return BalanceSnapshot(
        available=balance.available,
        pending=balance.pending,
        lifetime_earned=balance.lifetime_earned,
        spent=balance.spent,
        expired=balance.expired,
        donated=balance.donated,
    )


def _entry_by_key(session: Session, merchant_id: int, key: str) -> LedgerEntry | None:
    stmt = select(LedgerEntry).where(LedgerEntry.merchant_id == merchant_id, LedgerEntry.idempotency_key == key)
    return session.exec(stmt).first()


def _replay(entry: LedgerEntry, fingerprint: str) -> LedgerResult:
    if entry.request_hash != fingerprint:
        raise idempotency_conflict()
    return LedgerResult(
        entry_id=entry.id,
        points=entry.points,
        balance=BalanceSnapshot.from_dict(entry.balance_after),
        replayed=True,
    )


# --------------------------------------------------------------------------- writing entries


@dataclass(frozen=True)
class _Deltas:
    available: int = 0
    pending: int = 0
    earned: int = 0
    spent: int = 0
    expired: int = 0
    donated: int = 0


@dataclass
class _EntryDraft:
    kind: EntryKind
    points: int
    deltas: _Deltas
    reason: str
    idempotency_key: str
    request_hash: str
    reason_params: dict = field(default_factory=dict)
    source: dict = field(default_factory=dict)
    rule_id: int | None = None
    author_id: int | None = None
    reverses_entry_id: int | None = None
    lot_id: int | None = None


def _write_entry(session: Session, balance: MemberBalance, draft: _EntryDraft, now: datetime) -> LedgerEntry:
    """Apply ``draft`` to the counters and append its entry (flushed, so it has an id)."""
    d = draft.deltas
    balance.available += d.available
    balance.pending += d.pending
    balance.lifetime_earned += d.earned
    balance.spent += d.spent
    balance.expired += d.expired
    balance.donated += d.donated
    balance.entry_count += 1
    balance.updated_at = now
    if balance.available < 0 or balance.pending < 0:
        # Allocation checks make this impossible; refuse to write rather than corrupt.
        raise RuntimeError(f"ledger invariant broken for account {balance.account_id}")
    entry = LedgerEntry(
        merchant_id=balance.merchant_id,
        account_id=balance.account_id,
        kind=draft.kind.value,
        points=draft.points,
        available_delta=d.available,
        pending_delta=d.pending,
        earned_delta=d.earned,
        spent_delta=d.spent,
        expired_delta=d.expired,
        donated_delta=d.donated,
        reason=draft.reason,
        reason_params=to_json_safe(draft.reason_params),
        rule_id=draft.rule_id,
        source=to_json_safe(draft.source),
        idempotency_key=draft.idempotency_key,
        request_hash=draft.request_hash,
        author_id=draft.author_id,
        reverses_entry_id=draft.reverses_entry_id,
        lot_id=draft.lot_id,
        balance_after=_snapshot(balance).as_dict(),
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def _move(session: Session, entry: LedgerEntry, lot: PointLot, points: int) -> None:
    lot.remaining += points
    session.add(LotMovement(merchant_id=entry.merchant_id, entry_id=entry.id, lot_id=lot.id, points=points))


def _new_lot(
    session: Session,
    entry: LedgerEntry,
    settings: ProgramSettings,
    points: int,
    *,
    available_at: datetime,
    now: datetime,
) -> PointLot:
    is_pending = available_at > now
    lot = PointLot(
        merchant_id=entry.merchant_id,
        account_id=entry.account_id,
        source_entry_id=entry.id,
        original_points=points,
        remaining=points,
        is_pending=is_pending,
        available_at=available_at,
        expires_at=compute_expiry(available_at, settings.expiry_policy, settings.expiry_days, settings.timezone),
        created_at=now,
    )
    session.add(lot)
    return lot


def _spendable_lots(session: Session, account_id: int, now: datetime, *, exclude_lot_id: int | None = None) -> list[PointLot]:
    """Open, available, unexpired lots of the member (caller holds the member's lock)."""
    stmt = (
        select(PointLot)
        .where(
            PointLot.account_id == account_id,
            PointLot.remaining > 0,
            PointLot.is_pending == False,  # noqa: E712  (SQL expression)
            or_(PointLot.expires_at.is_(None), PointLot.expires_at > now),
        )
        .execution_options(populate_existing=True)
    )
    if exclude_lot_id is not None:
        stmt = stmt.where(PointLot.id != exclude_lot_id)
    return list(session.exec(stmt))


def _drain(session: Session, lots: Sequence[PointLot], needed: int) -> list[tuple[PointLot, int]]:
    """Choose which lots pay ``needed`` (domain.allocate order); raises insufficient_points."""
    by_id = {lot.id: lot for lot in lots}
    takes = allocate(
        [LotView(lot.id, lot.remaining, lot.available_at, lot.expires_at) for lot in lots],
        needed,
    )
    return [(by_id[lot_id], points) for lot_id, points in takes]


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


# --------------------------------------------------------------------------- post


def post(session: Session, request: LedgerRequest) -> LedgerResult:
    """Apply one credit, debit, adjustment or reversal inside the caller's transaction.

    Idempotent by ``request.idempotency_key`` (per merchant): the same key with the same
    details returns the first result with ``replayed=True`` and writes nothing; with other
    details it raises Conflict(code="idempotency_conflict"). Raises LoyaltyError subclasses
    for refused requests (nothing written by the refused request itself).
    """
    req = validate_request(request)
    now = _aware(req.now)
    merchant_id = req.merchant_id
    original: LedgerEntry | None = None
    if req.kind == EntryKind.REVERSAL:
        original = session.get(LedgerEntry, req.reverses_entry_id)
        if original is None or original.merchant_id != merchant_id:
            raise _entry_not_found()
        if req.account_id is not None and req.account_id != original.account_id:
            raise _entry_not_found()
        req = replace(req, account_id=original.account_id)
    else:
        if req.account_id is None:
            raise _member_not_found()
        _require_member(session, merchant_id, req.account_id)
    if req.author_id is not None:
        _require_author(session, merchant_id, req.author_id, staff_only=req.kind == EntryKind.ADJUSTMENT)
    fingerprint = request_fingerprint(req)

    balance = _lock_balance(session, merchant_id, req.account_id)
    existing = _entry_by_key(session, merchant_id, req.idempotency_key)
    if existing is not None:
        return _replay(existing, fingerprint)

    settings = get_program_settings(session, merchant_id)
    _catch_up(session, balance, now)
    try:
        with session.begin_nested():
            entry = _apply(session, balance, settings, req, fingerprint, now, original)
    except IntegrityError:
        # Another transaction committed this key first (for another member, or without our
        # lock): answer as if we had come second.
        existing = _entry_by_key(session, merchant_id, req.idempotency_key)
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    events.publish(session, events.PointsPosted.of(entry))  # same transaction (CRM outbox: one indexed query if none)
    return LedgerResult(entry_id=entry.id, points=entry.points, balance=_snapshot(balance), replayed=False)


def _draft(req: LedgerRequest, fingerprint: str, points: int, deltas: _Deltas) -> _EntryDraft:
    return _EntryDraft(
        kind=req.kind,
        points=points,
        deltas=deltas,
        reason=req.reason,
        reason_params=dict(req.reason_params or {}),
        source=dict(req.source or {}),
        rule_id=req.rule_id,
        author_id=req.author_id,
        reverses_entry_id=req.reverses_entry_id,
        idempotency_key=req.idempotency_key,
        request_hash=fingerprint,
    )


def _apply(
    session: Session,
    balance: MemberBalance,
    settings: ProgramSettings,
    req: LedgerRequest,
    fingerprint: str,
    now: datetime,
    original: LedgerEntry | None,
) -> LedgerEntry:
    if req.kind == EntryKind.REVERSAL:
        assert original is not None
        return _apply_reversal(session, balance, settings, req, fingerprint, now, original)
    if req.points > 0:
        return _apply_credit(session, balance, settings, req, fingerprint, now)
    return _apply_debit(session, balance, req, fingerprint, now)


def _apply_credit(session, balance, settings, req, fingerprint, now) -> LedgerEntry:
    points = req.points
    if req.pending_days is not None:
        pending_days = req.pending_days
    else:
        pending_days = settings.pending_days if req.kind == EntryKind.EARN else 0
    available_at = now + timedelta(days=pending_days)
    is_pending = available_at > now
    deltas = _Deltas(
        available=0 if is_pending else points,
        pending=points if is_pending else 0,
        earned=points if req.kind == EntryKind.EARN else 0,
    )
    entry = _write_entry(session, balance, _draft(req, fingerprint, points, deltas), now)
    _new_lot(session, entry, settings, points, available_at=available_at, now=now)
    session.flush()
    return entry


def _apply_debit(session, balance, req, fingerprint, now) -> LedgerEntry:
    needed = -req.points
    takes = _drain(session, _spendable_lots(session, balance.account_id, now), needed)
    deltas = _Deltas(
        available=-needed,
        spent=needed if req.kind == EntryKind.REDEEM else 0,
        donated=needed if req.kind == EntryKind.DONATE else 0,
    )
    entry = _write_entry(session, balance, _draft(req, fingerprint, -needed, deltas), now)
    for lot, points in takes:
        _move(session, entry, lot, -points)
    session.flush()
    return entry


def _apply_reversal(session, balance, settings, req, fingerprint, now, original: LedgerEntry) -> LedgerEntry:
    kind = EntryKind(original.kind)
    if kind not in (EntryKind.EARN, EntryKind.ADJUSTMENT, *DEBIT_KINDS):
        raise Conflict(N_("This entry cannot be reversed."), code="not_reversible")
    already = session.exec(select(LedgerEntry.id).where(LedgerEntry.reverses_entry_id == original.id)).first()
    if already is not None:
        raise Conflict(N_("This entry was already reversed."), code="already_reversed")
    if original.points > 0:
        return _reverse_credit(session, balance, req, fingerprint, now, original)
    return _reverse_debit(session, balance, settings, req, fingerprint, now, original)


def _reverse_credit(session, balance, req, fingerprint, now, original: LedgerEntry) -> LedgerEntry:
    lot = session.exec(
        select(PointLot).where(PointLot.source_entry_id == original.id).execution_options(populate_existing=True)
    ).one()
    expired_part = -(
        session.exec(
            select(func.coalesce(func.sum(LotMovement.points), 0))
            .join(LedgerEntry, LedgerEntry.id == LotMovement.entry_id)
            .where(LotMovement.lot_id == lot.id, LedgerEntry.kind == EntryKind.EXPIRE.value)
        ).one()
    )
    from_lot = lot.remaining
    already_spent = original.points - expired_part - from_lot
    takes: list[tuple[PointLot, int]] = []
    if already_spent > 0:
        others = _spendable_lots(session, balance.account_id, now, exclude_lot_id=lot.id)
        available_elsewhere = sum(other.remaining for other in others)
        if available_elsewhere < already_spent:
            raise LoyaltyError(
                N_("These points were already spent. Reversing needs {needed} more points and the member has {available}."),
                code="reversal_insufficient_points",
                needed=already_spent,
                available=available_elsewhere,
            )
        takes = _drain(session, others, already_spent)
    clawback = from_lot + max(already_spent, 0)
    from_pending = from_lot if lot.is_pending else 0
    deltas = _Deltas(
        available=-(clawback - from_pending),
        pending=-from_pending,
        earned=-original.points if original.kind == EntryKind.EARN.value else 0,
        expired=-expired_part,
    )
    entry = _write_entry(session, balance, _draft(req, fingerprint, -clawback, deltas), now)
    if from_lot:
        _move(session, entry, lot, -from_lot)
    lot.is_revoked = True
    for other, points in takes:
        _move(session, entry, other, -points)
    session.flush()
    return entry


def _reverse_debit(session, balance, settings, req, fingerprint, now, original: LedgerEntry) -> LedgerEntry:
    movements = session.exec(select(LotMovement).where(LotMovement.entry_id == original.id)).all()
    give_back: list[tuple[PointLot, int]] = []
    to_new_lot = 0
    for movement in movements:
        lot = session.exec(select(PointLot).where(PointLot.id == movement.lot_id).execution_options(populate_existing=True)).one()
        still_valid = not lot.is_revoked and (lot.expires_at is None or lot.expires_at > now)
        if still_valid:
            give_back.append((lot, -movement.points))
        else:
            to_new_lot += -movement.points
    points = -original.points
    deltas = _Deltas(
        available=points,
        spent=-points if original.kind == EntryKind.REDEEM.value else 0,
        donated=-points if original.kind == EntryKind.DONATE.value else 0,
    )
    entry = _write_entry(session, balance, _draft(req, fingerprint, points, deltas), now)
    for lot, back in give_back:
        _move(session, entry, lot, back)
    if to_new_lot:
        _new_lot(session, entry, settings, to_new_lot, available_at=now, now=now)
    session.flush()
    return entry


# --------------------------------------------------------------------------- public wrappers


def credit(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    points: int,
    idempotency_key: str,
    reason: str,
    reason_params: dict | None = None,
    kind: EntryKind = EntryKind.EARN,
    rule_id: int | None = None,
    source: dict | None = None,
    pending_days: int | None = None,
    author_id: int | None = None,
    now: datetime | None = None,
) -> LedgerResult:
    """Give a member points (a new lot). ``pending_days`` None = the program's default."""
    if EntryKind(kind) not in (EntryKind.EARN, EntryKind.ADJUSTMENT):
        raise LoyaltyError(N_("This kind of ledger entry is not allowed here."), code="kind_not_allowed")
    return post(
        session,
        LedgerRequest(
            merchant_id=merchant_id,
            account_id=account_id,
            kind=EntryKind(kind),
            points=validate_points(points),
            idempotency_key=idempotency_key,
            reason=reason,
            reason_params=reason_params,
            rule_id=rule_id,
            source=source,
            pending_days=pending_days,
            author_id=author_id,
            now=now,
        ),
    )


def debit(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    points: int,
    idempotency_key: str,
    reason: str,
    reason_params: dict | None = None,
    kind: EntryKind = EntryKind.REDEEM,
    source: dict | None = None,
    author_id: int | None = None,
    now: datetime | None = None,
    rule_id: int | None = None,
) -> LedgerResult:
    """Take ``points`` (> 0) from a member's available points; refused if they are not enough."""
    if EntryKind(kind) not in (*DEBIT_KINDS, EntryKind.ADJUSTMENT):
        raise LoyaltyError(N_("This kind of ledger entry is not allowed here."), code="kind_not_allowed")
    return post(
        session,
        LedgerRequest(
            merchant_id=merchant_id,
            account_id=account_id,
            kind=EntryKind(kind),
            points=-validate_points(points),
            idempotency_key=idempotency_key,
            reason=reason,
            reason_params=reason_params,
            rule_id=rule_id,
            source=source,
            author_id=author_id,
            now=now,
        ),
    )


def reverse(
    session: Session,
    *,
    merchant_id: int,
    entry_id: int,
    idempotency_key: str,
    reason: str,
    reason_params: dict | None = None,
    author_id: int | None = None,
    now: datetime | None = None,
    source: dict | None = None,
) -> LedgerResult:
    """Undo one earn, redeem, donation or adjustment (see the module docstring for the rules)."""
    return post(
        session,
        LedgerRequest(
            merchant_id=merchant_id,
            account_id=None,
            kind=EntryKind.REVERSAL,
            points=0,
            idempotency_key=idempotency_key,
            reason=reason,
            reason_params=reason_params,
            source=source,
            author_id=author_id,
            reverses_entry_id=entry_id,
            now=now,
        ),
    )


def adjust(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    points: int,
    reason: str,
    author_id: int,
    idempotency_key: str,
    now: datetime | None = None,
    reason_params: dict | None = None,
    source: dict | None = None,
) -> LedgerResult:
    """A manual correction by staff (signed points, != 0). Adjustments do not count as earned."""
    return post(
        session,
        LedgerRequest(
            merchant_id=merchant_id,
            account_id=account_id,
            kind=EntryKind.ADJUSTMENT,
            points=points,
            idempotency_key=idempotency_key,
            reason=reason,
            reason_params=reason_params,
            source=source,
            author_id=author_id,
            now=now,
        ),
    )


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


# --------------------------------------------------------------------------- reads


def get_balance(session: Session, *, merchant_id: int, account_id: int) -> BalanceSnapshot:
    """The member's counters as last written (jobs settle due expiries/releases)."""
    balance = session.exec(select(MemberBalance).where(MemberBalance.account_id == account_id)).first()
    if balance is None:
        _require_member(session, merchant_id, account_id)
        return BalanceSnapshot()
    if balance.merchant_id != merchant_id:
        raise _member_not_found()
    return _snapshot(balance)


def expiring_points(
    session: Session, *, merchant_id: int, account_id: int, now: datetime, within_days: int = 30
) -> list[tuple[datetime, int]]:
    """``[(expires_at, points)]`` of the member's points expiring within ``within_days``, soonest
    first, in one grouped query over the open lots."""
    _require_member(session, merchant_id, account_id)
    now = _aware(now)
    stmt = (
        select(PointLot.expires_at, func.sum(PointLot.remaining))
        .where(
            PointLot.merchant_id == merchant_id,
            PointLot.account_id == account_id,
            PointLot.remaining > 0,
            PointLot.expires_at > now,
            PointLot.expires_at <= now + timedelta(days=within_days),
        )
        .group_by(PointLot.expires_at)
        .order_by(PointLot.expires_at)
    )
    return [(expires_at, int(points)) for expires_at, points in session.exec(stmt)]


def history(
    session: Session,
    *,
    merchant_id: int,
    account_id: int,
    kinds: Iterable[EntryKind | str] | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[LedgerEntry]:
    """The member's entries, newest first (each carries its reason, params and source).

    The returned entries are detached from ``session`` (usable after it closes).
    """
    _require_member(session, merchant_id, account_id)
    stmt = select(LedgerEntry).where(LedgerEntry.merchant_id == merchant_id, LedgerEntry.account_id == account_id)
    if kinds is not None:
        stmt = stmt.where(LedgerEntry.kind.in_([EntryKind(kind).value for kind in kinds]))
    stmt = stmt.order_by(LedgerEntry.id.desc()).limit(max(0, min(limit, 500))).offset(max(0, offset))
    entries = list(session.exec(stmt))
    for entry in entries:
        # Entries never change: detach them so callers can read them after the session ends.
        session.expunge(entry)
    return entries


def lifetime_earned_between(session: Session, *, merchant_id: int, account_id: int, start: datetime, end: datetime) -> int:
    """Points EARNED in [start, end): earn entries in the window minus their reversals (whenever
    reversed), so a returned purchase never counts towards a tier. Adjustments do not count."""
    _require_member(session, merchant_id, account_id)
    reversal = aliased(LedgerEntry)
    stmt = (
        select(func.coalesce(func.sum(LedgerEntry.earned_delta + func.coalesce(reversal.earned_delta, 0)), 0))
        .select_from(LedgerEntry)
        .outerjoin(reversal, reversal.reverses_entry_id == LedgerEntry.id)
        .where(
            LedgerEntry.merchant_id == merchant_id,
            LedgerEntry.account_id == account_id,
            LedgerEntry.kind == EntryKind.EARN.value,
            LedgerEntry.created_at >= _aware(start),
            LedgerEntry.created_at < _aware(end),
        )
    )
    return int(session.exec(stmt).one())


# --------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class Drift:
    """One place where the stored state disagrees with the entries."""

    merchant_id: int | None
    account_id: int | None
    what: str
    expected: int | str
    actual: int | str

    def describe(self) -> str:
        return (
            f"merchant {self.merchant_id} account {self.account_id}: {self.what}: expected {self.expected}, found {self.actual}"
        )


@dataclass(frozen=True)
class AuditReport:
    members_checked: int
    entries_checked: int
    lots_checked: int
    drifts: list[Drift]

    @property
    def ok(self) -> bool:
        return not self.drifts


_COUNTERS = (
    ("available", "available_delta"),
    ("pending", "pending_delta"),
    ("lifetime_earned", "earned_delta"),
    ("spent", "spent_delta"),
    ("expired", "expired_delta"),
    ("donated", "donated_delta"),
)


def audit(engine: Engine) -> AuditReport:
    """Prove, for every member, that each balance counter equals the sum of their entries, that
    available/pending equal their lots' remainders, that every lot's remaining equals its
    original points plus its movements and stays within [0, original], and that no entry crosses
    merchants. Read-only; a few grouped queries, not one per member."""
    from loyalty_app.db import read_session

    drifts: list[Drift] = []
    with read_session(engine) as session:
        balances = {row.account_id: row for row in session.exec(select(MemberBalance))}
        entry_sums = session.exec(
            select(
                LedgerEntry.account_id,
                LedgerEntry.merchant_id,
                func.count(LedgerEntry.id),
                *[func.sum(getattr(LedgerEntry, column)) for _, column in _COUNTERS],
            ).group_by(LedgerEntry.account_id, LedgerEntry.merchant_id)
        ).all()
        seen_accounts: dict[int, int] = {}
        entries_checked = 0
        for account_id, merchant_id, count, *sums in entry_sums:
            entries_checked += count
            if account_id in seen_accounts:
                drifts.append(
                    Drift(merchant_id, account_id, "entries under two merchants", seen_accounts[account_id], merchant_id)
                )
                continue
            seen_accounts[account_id] = merchant_id
            balance = balances.get(account_id)
            if balance is None:
                drifts.append(Drift(merchant_id, account_id, "balance row", "present", "missing"))
                continue
            if balance.merchant_id != merchant_id:
                drifts.append(Drift(merchant_id, account_id, "balance merchant", merchant_id, balance.merchant_id))
            for (counter, _), total in zip(_COUNTERS, sums, strict=True):
                if getattr(balance, counter) != int(total or 0):
                    drifts.append(Drift(merchant_id, account_id, counter, int(total or 0), getattr(balance, counter)))
            if balance.entry_count != count:
                drifts.append(Drift(merchant_id, account_id, "entry_count", count, balance.entry_count))
        for account_id, balance in balances.items():
            if account_id not in seen_accounts and any(getattr(balance, c) for c, _ in _COUNTERS):
                drifts.append(Drift(balance.merchant_id, account_id, "counters without entries", 0, balance.available))

        lot_sums = session.exec(
            select(
                PointLot.account_id,
                func.sum(case((PointLot.is_pending == False, PointLot.remaining), else_=0)),  # noqa: E712
                func.sum(case((PointLot.is_pending == True, PointLot.remaining), else_=0)),  # noqa: E712
            ).group_by(PointLot.account_id)
        ).all()
        lot_accounts = set()
        for account_id, available, pending in lot_sums:
            lot_accounts.add(account_id)
            balance = balances.get(account_id)
            merchant = balance.merchant_id if balance else None
            if int(available or 0) != (balance.available if balance else 0):
                drifts.append(
                    Drift(merchant, account_id, "available vs lots", int(available or 0), balance.available if balance else 0)
                )
            if int(pending or 0) != (balance.pending if balance else 0):
                drifts.append(
                    Drift(merchant, account_id, "pending vs lots", int(pending or 0), balance.pending if balance else 0)
                )
        for account_id, balance in balances.items():
            if account_id not in lot_accounts and (balance.available or balance.pending):
                drifts.append(
                    Drift(balance.merchant_id, account_id, "points without lots", 0, balance.available + balance.pending)
                )

        moved = (
            select(LotMovement.lot_id.label("lot_id"), func.sum(LotMovement.points).label("moved"))
            .group_by(LotMovement.lot_id)
            .subquery()
        )
        bad_lots = session.exec(
            select(
                PointLot.merchant_id,
                PointLot.account_id,
                PointLot.id,
                PointLot.original_points,
                PointLot.remaining,
                moved.c.moved,
            )
            .outerjoin(moved, moved.c.lot_id == PointLot.id)
            .where(
                or_(
                    PointLot.remaining < 0,
                    PointLot.remaining > PointLot.original_points,
                    PointLot.remaining != PointLot.original_points + func.coalesce(moved.c.moved, 0),
                )
            )
        ).all()
        for merchant_id, account_id, lot_id, original, remaining, moved_points in bad_lots:
            drifts.append(
                Drift(
                    merchant_id,
                    account_id,
                    f"lot {lot_id} remaining (original {original})",
                    original + int(moved_points or 0),
                    remaining,
                )
            )
        lots_checked = session.exec(select(func.count(PointLot.id))).one()

        inconsistent_entries = session.exec(
            select(LedgerEntry.merchant_id, LedgerEntry.account_id, LedgerEntry.id, LedgerEntry.kind, LedgerEntry.points).where(
                or_(
                    and_(
                        LedgerEntry.kind == EntryKind.RELEASE.value,
                        or_(LedgerEntry.available_delta != LedgerEntry.points, LedgerEntry.pending_delta != -LedgerEntry.points),
                    ),
                    and_(
                        LedgerEntry.kind != EntryKind.RELEASE.value,
                        LedgerEntry.points != LedgerEntry.available_delta + LedgerEntry.pending_delta,
                    ),
                )
            )
        ).all()
        for merchant_id, account_id, entry_id, kind, points in inconsistent_entries:
            drifts.append(Drift(merchant_id, account_id, f"entry {entry_id} ({kind}) deltas", points, "other"))

        crossing = session.exec(
            select(LedgerEntry.merchant_id, LedgerEntry.account_id, func.count(LedgerEntry.id))
            .join(Account, Account.id == LedgerEntry.account_id)
            .where(Account.merchant_id != LedgerEntry.merchant_id)
            .group_by(LedgerEntry.merchant_id, LedgerEntry.account_id)
        ).all()
        for merchant_id, account_id, count in crossing:
            drifts.append(Drift(merchant_id, account_id, "entries for another merchant's account", 0, count))

    return AuditReport(
        members_checked=len(set(balances) | set(seen_accounts)),
        entries_checked=entries_checked,
        lots_checked=int(lots_checked),
        drifts=drifts,
    )


def main_audit(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m loyalty_app.cli audit`` — prints each drift; exit 1 on any drift."""
    parser = argparse.ArgumentParser(prog="audit", description="Prove member balances against the ledger.")
    parser.add_argument("--database-url", help="database to audit (default: the app's DATABASE_URL)")
    args = parser.parse_args(list(argv) if argv is not None else sys.argv[1:])
    from loyalty_app.db import get_engine, make_engine

    engine = make_engine(args.database_url) if args.database_url else get_engine()
    report = audit(engine)
    for drift in report.drifts:
        print(f"DRIFT {drift.describe()}")
    status = "OK" if report.ok else f"FAILED ({len(report.drifts)} drifts)"
    print(
        f"ledger audit: {report.members_checked} members, {report.entries_checked} entries, {report.lots_checked} lots: {status}"
    )
    return 0 if report.ok else 1
