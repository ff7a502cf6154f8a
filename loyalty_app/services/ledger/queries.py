"""Reads: the program's settings (created on first use), a member's balance, expiring points,
history and points earned in a window."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from loyalty_app.domain.clock import utcnow
from loyalty_app.domain.errors import N_, LoyaltyError, NotFound
from loyalty_app.domain.ledger import BalanceSnapshot, EntryKind, ExpiryPolicy, Rounding
from loyalty_app.models.accounts import Merchant
from loyalty_app.models.loyalty import LedgerEntry, MemberBalance, PointLot, ProgramSettings
from loyalty_app.services.ledger.entries import _aware, _member_not_found, _require_member, _snapshot

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


def _earned_by_member(session: Session, members: ColumnElement[bool], start: datetime, end: datetime) -> dict[int, int]:
    """Points earned in [start, end) per member: earn entries in the window minus their
    reversals (whenever reversed), as {account id: points}.

    Two index-only reads instead of one join: the earn entries' sum straight from
    ``ix_ledgerentry_member_earned`` (account, kind, time, earned points: the table itself is not
    read), and the few reversals of the member(s) with their originals looked up by key. There
    is deliberately no merchant predicate (callers have checked each member belongs to the
    merchant): with one, planners pick the merchant-wide analytics index and read the
    merchant's whole window."""
    start, end = _aware(start), _aware(end)
    earned = (
        sa_select(LedgerEntry.account_id, func.sum(LedgerEntry.earned_delta))
        .where(members, LedgerEntry.kind == EntryKind.EARN.value, LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(LedgerEntry.account_id)
    )
    original = aliased(LedgerEntry)
    taken_back = (
        sa_select(LedgerEntry.account_id, func.sum(LedgerEntry.earned_delta))
        .join(original, original.id == LedgerEntry.reverses_entry_id)
        .where(
            members,
            LedgerEntry.kind == EntryKind.REVERSAL.value,
            original.kind == EntryKind.EARN.value,
            original.created_at >= start,
            original.created_at < end,
        )
        .group_by(LedgerEntry.account_id)
    )
    totals: dict[int, int] = {}
    for stmt in (earned, taken_back):
        for account_id, points in session.exec(stmt):  # type: ignore[call-overload]
            totals[int(account_id)] = totals.get(int(account_id), 0) + int(points or 0)
    return totals


def lifetime_earned_between(session: Session, *, merchant_id: int, account_id: int, start: datetime, end: datetime) -> int:
    """Points EARNED in [start, end): earn entries in the window minus their reversals (whenever
    reversed), so a returned purchase never counts towards a tier. Adjustments do not count."""
    _require_member(session, merchant_id, account_id)
    return _earned_by_member(session, LedgerEntry.account_id == account_id, start, end).get(account_id, 0)


def earned_between_by_member(session: Session, *, account_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, int]:
    """``lifetime_earned_between`` for many members at once: {account id: points} (members who
    earned nothing in the window may be absent). The caller passes members of one merchant it
    has already selected (the periodic tier evaluation)."""
    if not account_ids:
        return {}
    return _earned_by_member(session, LedgerEntry.account_id.in_(list(account_ids)), start, end)  # type: ignore[attr-defined]
