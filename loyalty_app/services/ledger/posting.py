"""Posting: ``post`` (idempotent credit, debit, adjustment or reversal under the member's lock),
its wrappers credit/debit/reverse/adjust, and which lots pay a debit or a reversal. The
concurrency, idempotency and reversal rules are in the package docstring (``services.ledger``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from loyalty_app.domain.errors import N_, Conflict, LoyaltyError
from loyalty_app.domain.ledger import (
    DEBIT_KINDS,
    BalanceSnapshot,
    EntryKind,
    LedgerRequest,
    LedgerResult,
    LotView,
    allocate,
    idempotency_conflict,
    request_fingerprint,
    validate_points,
    validate_request,
)
from loyalty_app.models.loyalty import LedgerEntry, LotMovement, MemberBalance, PointLot, ProgramSettings
from loyalty_app.services.ledger.entries import (
    _aware,
    _Deltas,
    _entry_not_found,
    _EntryDraft,
    _lock_balance,
    _member_not_found,
    _move,
    _new_lot,
    _require_author,
    _require_member,
    _snapshot,
    _write_entry,
)
from loyalty_app.services.ledger.queries import get_program_settings
from loyalty_app.services.ledger.settlement import _catch_up
from loyalty_app.services.platform import events

# --------------------------------------------------------------------------- idempotency


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


# --------------------------------------------------------------------------- lot allocation


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
    """Undo one earn, redeem, donation or adjustment (the rules: ``services.ledger``'s docstring)."""
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
